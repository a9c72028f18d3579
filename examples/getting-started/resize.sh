#!/bin/sh
# A queue worker's handler for `weft worker`: the job's input arrives on
# stdin, its ids in WEFT_JOB_ID and friends; what it prints is the result.
set -eu
input=$(cat)
printf '{"resized": %s, "by": "%s"}\n' "$input" "$(hostname)"
