#!/usr/bin/python3
"""Serve the peer with the stdlib's wsgiref: ONE process, ONE thread, one request at a time
(no threading, no forking, no autoreload). Binds 127.0.0.1; with port 0 the kernel picks a
free port, printed as "django: serving on http://127.0.0.1:PORT/" (same form as petshop).

    PEER_DB=FILE PEER_TOOLBAR=0|1 /usr/bin/python3 serve.py [PORT]
"""
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsgi import application  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server(WSGIServer):
    request_queue_size = 128


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    httpd = make_server("127.0.0.1", port, application, server_class=Server,
                        handler_class=QuietHandler)
    print("django: serving on http://127.0.0.1:%d/" % httpd.server_address[1], flush=True)
    print("django: debug toolbar %s" % ("on" if os.environ.get("PEER_TOOLBAR") == "1" else "off"),
          flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
