#!/usr/bin/env python3
"""A stand-in for the services a DAG's tasks call: weft POSTs a task's
on_start webhook here with ?handle=<weft>/task/<id>; the service answers
200 at once, does its work in the background, and reports the task's end
to weft's /v1 API with a result.

    python3 service.py [PORT]        (default 8090)

Each step's work here is a stand-in: it returns the step's name and the
time. The body weft sends (the task's on_start "body") is echoed in the
result so that a child can see what its parent did.
"""

import json
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def report(handle, result):
    # The handle is <weft>/task/<id>; /v1/tasks/<id>/complete takes a result.
    base, _, task_id = handle.rpartition("/task/")
    body = json.dumps({"result": result}).encode()
    req = urllib.request.Request("%s/v1/tasks/%s/complete" % (base, task_id), data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    for delay in (0.05, 0.2, 1, 2):
        try:
            urllib.request.urlopen(req, timeout=10).read()
            return
        except urllib.error.HTTPError as e:
            print("report %s: %s %s" % (task_id, e.code, e.read().decode(errors="replace")), file=sys.stderr)
            if e.code < 500:
                return
        except OSError as e:
            print("report %s: %s" % (task_id, e), file=sys.stderr)
        time.sleep(delay)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        handle = query.get("handle", [None])[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if handle:
            step = self.path.split("?")[0].strip("/")
            result = {"step": step, "got": body, "at": time.strftime("%H:%M:%S")}
            threading.Thread(target=report, args=(handle, result), daemon=True).start()
        print("started %s" % self.path.split("?")[0], flush=True)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    print("service listening on http://127.0.0.1:%d" % port, flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
