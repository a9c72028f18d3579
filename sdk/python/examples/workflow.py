#!/usr/bin/env python3
"""An example durable workflow: an order that reserves stock, cools down,
waits for an approval signal, then charges (or releases the stock when no
approval comes in time).

    WEFT_URL=http://127.0.0.1:8085 python3 workflow.py QUEUE

Runs the runs of workflow type "order" started on QUEUE until SIGTERM or
SIGINT. Start one and approve it with the CLI or a client:

    weft workflows start order --queue QUEUE --input '{"sku": "A-1", "qty": 2}'
    weft workflows signal RUN_ID approved '{"by": "ops"}'

Input: {"sku", "qty", "cool_down_ms"? (default 1000), "approve_within_s"?
(default 3600)}. Each step prints a line when it runs: a replay (after the
cool-down, after the signal) answers the steps that ran from the server's
memo, without printing them again.
"""

import argparse
import logging
import sys
from typing import Any, Dict

import weft


def reserve(sku: str, qty: int) -> Dict[str, Any]:
    print("reserving %d x %s" % (qty, sku), flush=True)
    return {"reservation": "R-%s-%d" % (sku, qty)}


def charge(reservation: str, approved_by: Any) -> Dict[str, Any]:
    print("charging %s (approved by %s)" % (reservation, approved_by), flush=True)
    return {"charged": reservation}


def release(reservation: str) -> None:
    print("releasing %s" % reservation, flush=True)


def order(wf: weft.Workflow, input: Dict[str, Any]) -> Dict[str, Any]:
    if not isinstance(input, dict) or not isinstance(input.get("sku"), str) or not isinstance(input.get("qty"), int):
        raise weft.NonRetryable('input must be {"sku": <string>, "qty": <integer>}', code="bad_input")
    held = wf.step("reserve", reserve, input["sku"], input["qty"])
    wf.sleep("cool_down", input.get("cool_down_ms", 1000) / 1000.0)
    try:
        approval = wf.wait_signal("approved", timeout=input.get("approve_within_s", 3600))
    except weft.SignalTimeout:
        wf.step("release", release, held["reservation"])
        return {"approved": False, "reservation": held["reservation"]}
    by = approval.get("by") if isinstance(approval, dict) else approval
    charged = wf.step("charge", charge, held["reservation"], by)
    return {"approved": True, "by": by, **charged}


def main() -> int:
    p = argparse.ArgumentParser(description="weft example workflow: orders")
    p.add_argument("queue")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s workflow: %(message)s")
    worker = weft.Worker(weft.Client(), [args.queue], concurrency=4)
    worker.register_workflow("order", order)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
