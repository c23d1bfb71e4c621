#!/usr/bin/env python3
"""s3fault.py - a scripted S3 fault server for the integration tests.

A loopback HTTP proxy in front of a real S3 server (moto) that misbehaves on
demand, in the spirit of pgBackRest's scripted test server: what a real
server will not do when asked (a 503, a dropped connection, a damaged or cut
body, dying in the middle of a run).

    s3fault.py UPSTREAM_URL [options]

It binds 127.0.0.1 on a free port and prints "PORT <n>" on its first line.
Faults count per distinct request (method, path and query), so every request
meets its faults before it goes through:

    --fail N       answer the first N attempts with --status (default 503) and an
                   S3 <Error> body (SlowDown for 503, InternalError otherwise)
    --always       keep failing (with --fail's status) forever
    --drop N       close the first N attempts' connections without an answer
    --corrupt N    flip one byte in the body of the first N successful object GET
                   answers (not listings)
    --truncate N   send only half the body of the first N successful GET answers
                   (with the full Content-Length) and close
    --shrink N     send only the first half of the body of the first N successful
                   object GET answers, with a Content-Length to match and the
                   object's own ETag
    --strip-etag   send object GET answers without their ETag header
    --die-after N  exit at once after N requests have been answered
    --stuck-listing  answer every ListObjectsV2 with the first page, marked
                   truncated, and the same NextContinuationToken ("stuck")
    --cycling-listing  the same, with the tokens "c1", "c2", "c1", "c2"... in turn
    --ignore-prefix  answer every ListObjectsV2 as if it had no prefix parameter
    --match TEXT   apply the faults only to requests whose path contains TEXT
    --log FILE     append "<what> <method> <path>" per request (what: ok, 503, ...)

It exits when its standard input closes (its parent is gone) or on SIGTERM.
"""
import argparse
import http.client
import http.server
import os
import re
import socket
import sys
import threading
import urllib.parse

lock = threading.Lock()
seen = {}
served = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("upstream")
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--always", action="store_true")
    ap.add_argument("--drop", type=int, default=0)
    ap.add_argument("--corrupt", type=int, default=0)
    ap.add_argument("--truncate", type=int, default=0)
    ap.add_argument("--shrink", type=int, default=0)
    ap.add_argument("--strip-etag", action="store_true")
    ap.add_argument("--die-after", type=int, default=0)
    ap.add_argument("--stuck-listing", action="store_true")
    ap.add_argument("--cycling-listing", action="store_true")
    ap.add_argument("--ignore-prefix", action="store_true")
    ap.add_argument("--match", default="")
    ap.add_argument("--log", default="")
    opt = ap.parse_args()
    up = urllib.parse.urlsplit(opt.upstream)
    local = threading.local()

    pages = [0]

    def next_token():
        if not opt.cycling_listing:
            return "stuck"
        with lock:
            pages[0] += 1
            return "c%d" % (2 - pages[0] % 2)

    def log(what, method, path):
        if opt.log:
            with lock, open(opt.log, "a") as f:
                f.write("%s %s %s\n" % (what, method, path))

    def upstream():
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        return local.conn

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def count(self):
            global served
            with lock:
                served += 1

        def handle_any(self):
            with lock:
                if opt.die_after and served >= opt.die_after:
                    os._exit(0)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            key = (self.command, self.path)
            faulty = opt.match in self.path
            with lock:
                attempt = seen.get(key, 0) + 1
                seen[key] = attempt
            if faulty and attempt <= opt.drop:
                log("drop", self.command, self.path)
                self.count()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if faulty and (opt.always or attempt <= opt.drop + opt.fail):
                code = "SlowDown" if opt.status == 503 else "InternalError"
                xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                       "<Message>scripted fault</Message><RequestId>s3fault</RequestId>"
                       "</Error>" % code).encode()
                log(str(opt.status), self.command, self.path)
                self.send_response(opt.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(xml)
                self.count()
                return
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "keep-alive")}
            path = self.path
            stuck = faulty and (opt.stuck_listing or opt.cycling_listing) and \
                self.command == "GET" and \
                "list-type=2" in path
            if faulty and opt.ignore_prefix and self.command == "GET" and "list-type=2" in path:
                u = urllib.parse.urlsplit(path)
                q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
                     if k != "prefix"]
                path = u.path + "?" + urllib.parse.urlencode(q)
                what_prefix = "noprefix"
            else:
                what_prefix = ""
            if stuck:
                # Always the first page: moto would refuse the made-up token.  moto does not
                # check signatures, so the changed query goes through.
                u = urllib.parse.urlsplit(path)
                q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
                     if k != "continuation-token"]
                path = u.path + "?" + urllib.parse.urlencode(q)
            for tries in range(2):
                try:
                    c = upstream()
                    c.request(self.command, path, body=body, headers=headers)
                    r = c.getresponse()
                    data = r.read()
                    break
                except (http.client.HTTPException, OSError):
                    local.conn = None
                    if tries:
                        raise
            ok_get = self.command == "GET" and 200 <= r.status < 300 and len(data) > 1
            first_ok = attempt - (opt.drop + opt.fail)
            what = "ok"
            # Damage object bodies only: an XML answer has no checksum to catch it.
            if faulty and ok_get and "?" not in self.path and first_ok <= opt.corrupt:
                data = bytearray(data)
                data[len(data) // 2] ^= 0x55
                data = bytes(data)
                what = "corrupt"
            if faulty and ok_get and "?" not in self.path and first_ok <= opt.shrink:
                data = data[: len(data) // 2]
                what = "shrink"
            if stuck and 200 <= r.status < 300:
                text = data.decode()
                text = re.sub(r"<NextContinuationToken>.*?</NextContinuationToken>", "", text)
                text = re.sub(r"<IsTruncated>\w+</IsTruncated>",
                              "<IsTruncated>true</IsTruncated>"
                              "<NextContinuationToken>%s</NextContinuationToken>" %
                              next_token(), text)
                data = text.encode()
                what = "stuck"
            if what_prefix and what == "ok":
                what = what_prefix
            cut = faulty and ok_get and first_ok <= opt.truncate
            if cut:
                what = "truncate"
            log(what, self.command, self.path)
            self.send_response(r.status, r.reason)
            strip = faulty and opt.strip_etag and ok_get and "?" not in self.path
            for k, v in r.getheaders():
                if strip and k.lower() == "etag":
                    continue
                if k.lower() not in ("transfer-encoding", "connection", "content-length",
                                     "keep-alive", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data[: len(data) // 2] if cut else data)
            if cut:
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.count()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
