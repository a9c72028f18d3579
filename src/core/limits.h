/*
 * limits.h — bounds on what a client may submit, shared by every front door
 * (the HTTP decoders enforce them; the engine relies on them).
 */
#ifndef WEFT_CORE_LIMITS_H
#define WEFT_CORE_LIMITS_H

#include <stdint.h>

#define TASK_NAME_MAX 255
#define TASK_KIND_MAX 100
#define TASK_TIMEOUT_MIN 1
#define TASK_TIMEOUT_MAX 86400
#define TASK_TIMEOUT_DEFAULT 60
#define TASK_METADATA_MAX 65536
#define TASK_PRIORITY_MIN (-1000)
#define TASK_PRIORITY_MAX 1000
/* The largest counter a client may send (success and failure increments,
 * expected_count): 2^53 - 1, the largest integer every JSON client reads
 * exactly. */
#define TASK_COUNTER_MAX INT64_C(9007199254740991)

#endif
