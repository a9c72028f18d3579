#!/bin/sh
# The job of bench/chaos/queue_chaos.py: records one execution, as
# "<job id> <attempt>", in $CHAOS_EXEC_LOG (>> opens it O_APPEND, and one
# short line is one write, so lines of concurrent jobs never mix), works
# for a few milliseconds so that killed workers leave jobs in flight, and
# echoes its input as the result.
read -r input
echo "$WEFT_JOB_ID $WEFT_ATTEMPT" >> "$CHAOS_EXEC_LOG"
if [ -n "$CHAOS_WORK_SECS" ]; then
	sleep "$CHAOS_WORK_SECS"
fi
printf '%s\n' "$input"
