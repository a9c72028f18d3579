#!/usr/bin/env python3
"""An example worker: doubles numbers.

    WEFT_URL=http://127.0.0.1:8085 python3 worker.py QUEUE [--concurrency N] [--lease-ms MS]

Claims jobs from QUEUE until SIGTERM or SIGINT, then finishes the jobs in
hand, reports them and exits 0 (a second signal exits at once). Each job's
input is {"n": N, "sleep_ms": MS?}; the result is {"n": N, "double": 2N},
after sleeping sleep_ms when given.
"""

import argparse
import logging
import sys
import time
from typing import Dict

import weft


def double(job: weft.Job) -> Dict[str, int]:
    data = job.input or {}
    if not isinstance(data, dict) or not isinstance(data.get("n"), int):
        raise weft.NonRetryable("input must be {\"n\": <integer>}", code="bad_input")
    if data.get("sleep_ms"):
        logging.info("job %s: n=%d, sleeping %d ms", job.id, data["n"], data["sleep_ms"])
        time.sleep(data["sleep_ms"] / 1000.0)
    return {"n": data["n"], "double": 2 * data["n"]}


def main() -> int:
    p = argparse.ArgumentParser(description="weft example worker: doubles input.n")
    p.add_argument("queue")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--lease-ms", type=int, default=30000)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s worker: %(message)s")
    worker = weft.Worker(weft.Client(), [args.queue], double, concurrency=args.concurrency, lease_ms=args.lease_ms)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
