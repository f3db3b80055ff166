"""A real HTTP receiver on 127.0.0.1 for webhook tests: records each request, checks its
signature, and answers as told (200, a status, a sleep, a closed connection, a redirect)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.requests: list[dict] = []
        self.plan: list = []  # one action per request, then `default`
        self.default = 200
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = receiver.plan.pop(0) if receiver.plan else receiver.default
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                )
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "json": json.loads(body),
                        "signed": hmac.compare_digest(
                            expected, self.headers.get("X-Labelops-Signature-256", "")
                        ),
                    }
                )
                receiver.arrived.set()
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                    action = 200
                if action == "close":
                    self.close_connection = True
                    return  # no answer at all
                if action == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = b"ok" if 200 <= action < 300 else b"nope"
                self.send_response(action)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[str]:
        return [r["headers"]["X-Labelops-Event"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
