#!/usr/bin/env python3
"""Enqueues jobs for examples/worker.py and waits for their results.

    WEFT_URL=http://127.0.0.1:8085 python3 enqueue.py QUEUE [COUNT]
"""

import sys
import time

import weft


def main() -> int:
    queue = sys.argv[1] if len(sys.argv) > 1 else "numbers"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    client = weft.Client()
    answer = client.enqueue_many([{"queue": queue, "input": {"n": i}} for i in range(count)])
    ids = [j["id"] for j in answer["jobs"]]
    print("enqueued %d job(s) on %s" % (len(ids), queue))
    for task_id in ids:
        while True:
            task = client.get_task(task_id)
            if task["status"] in ("success", "failure", "canceled"):
                print(task_id, task["status"], task.get("result"))
                break
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except weft.WeftError as e:
        print("enqueue.py: %s" % e, file=sys.stderr)
        sys.exit(1)
