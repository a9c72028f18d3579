-- 0003_attempt.sql — a task's `attempt` counts its tries from 1 (it counted
-- retries from 0).
--
-- Existing rows move up by one, live and archived. The idempotency keys that
-- name an attempt move with them, so that a task retrying across the upgrade
-- neither calls its webhook twice nor misses one:
--   start ledger  <task>:start:<n>                 -> <task>:start:<n+1>
--   outbox        <task>:cancel:attempt:<n>[:<i>]  -> <task>:cancel:attempt:<n+1>[:<i>]
-- (the first attempt keeps <task>:start and <task>:cancel). Keys go through a
-- temporary spelling first, since <n> -> <n+1> may meet a key not yet moved.
-- Task ids are 36-character UUIDs, so the number starts at a fixed place.
--
-- The column's default stays 0 in SQLite (a default cannot change without
-- rebuilding the table); every insert writes the attempt explicitly.

UPDATE task SET attempt = attempt + 1;
UPDATE task_archive SET attempt = attempt + 1;

UPDATE webhook_execution
SET idempotency_key = 'migrating:' || substr(idempotency_key, 1, 43)
                      || (CAST(substr(idempotency_key, 44) AS INTEGER) + 1)
WHERE substr(idempotency_key, 37, 7) = ':start:';
UPDATE webhook_execution SET idempotency_key = substr(idempotency_key, 11)
WHERE idempotency_key LIKE 'migrating:%';

UPDATE outbox
SET idempotency_key = 'migrating:' || substr(idempotency_key, 1, 52)
                      || (CAST(substr(idempotency_key, 53) AS INTEGER) + 1)
                      || CASE WHEN instr(substr(idempotency_key, 53), ':') > 0
                              THEN substr(substr(idempotency_key, 53), instr(substr(idempotency_key, 53), ':'))
                              ELSE '' END
WHERE substr(idempotency_key, 37, 16) = ':cancel:attempt:';
UPDATE outbox SET idempotency_key = substr(idempotency_key, 11)
WHERE idempotency_key LIKE 'migrating:%';
