"""A webhook receiver that verifies every request with the off-the-shelf `standardwebhooks`
library: 204 and one line of the verified payload in OUT_FILE when the signature holds, 400
otherwise.

Usage: python3 scripts/webhook_receiver.py PORT SECRET OUT_FILE [DELAY_SECONDS]

With DELAY_SECONDS, each request is logged as `arrived` to OUT_FILE.arrivals at once and answered
after the delay (to keep deliveries in flight). Requests are served concurrently.
"""

import http.server
import json
import sys
import time

from standardwebhooks.webhooks import Webhook


def main(port, secret, out_file, delay="0"):
    verifier = Webhook(secret)
    delay = float(delay)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            if delay:
                with open(out_file + ".arrivals", "a", encoding="utf-8") as arrivals:
                    arrivals.write(self.headers["webhook-id"] + "\n")
                time.sleep(delay)
            try:
                payload = verifier.verify(body, {name: self.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")})
            except Exception as error:  # the library raises its own verification errors
                self.send_response(400)
                self.end_headers()
                self.wfile.write(str(error).encode())
                return
            with open(out_file, "a", encoding="utf-8") as out:
                out.write(json.dumps({"webhook-id": self.headers["webhook-id"], "payload": payload}) + "\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        # A worker sends a whole batch at once, on as many connections: the default listen
        # backlog of 5 would drop their SYNs and leave them to the kernel's retransmit backoff.
        request_queue_size = 1024

    Server(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:5])
