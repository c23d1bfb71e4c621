#!/usr/bin/env python3
"""A loopback HTTP recorder: stands in for Brevo's API in the tests.

Every request is saved as DIR/NNNN.json ({"method","path","headers","body"}).
GET /health answers 200.  The status to answer with can be set by writing a
number into DIR/status (default 201, as Brevo answers).
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
count = [0]


class Handler(BaseHTTPRequestHandler):
    def _record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            count[0] += 1
            path = os.path.join(out, "%04d.json" % count[0])
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("utf-8", "replace")}
        with open(path + ".tmp", "w") as f:
            json.dump(rec, f)
        os.rename(path + ".tmp", path)
        status = 201
        try:
            with open(os.path.join(out, "status")) as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            pass
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"messageId":"<recorded@qbtest>"}')

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.end_headers()
            return
        self._record()

    do_POST = _record
    do_PUT = _record

    def log_message(self, *args):
        pass


ThreadingHTTPServer((host, port), Handler).serve_forever()
