/*
 * idempotency.h — applying a command that carries an Idempotency-Key at
 * most once (idempotency.c), and forgetting keys after their time
 * (parts/idempotency.c).
 */
#ifndef WEFT_ENGINE_IDEMPOTENCY_H
#define WEFT_ENGINE_IDEMPOTENCY_H

#include "engine/engine.h"

/* Inside the command's step: applies cmd through its op unless its key was
 * seen (then its recorded outcome, or WEFT_EREUSED). Returns the op's
 * error, or a store error; 0 when cmd->result holds the outcome. */
int idempotency_apply(engine *e, engine_cmd *cmd, int64_t now);

#endif
