"""A small pre-forking WSGI server for the API benchmark, standard library only.

The project ships no production WSGI server (deployments put one in front);
`runserver` serves one process and opens a database connection per request,
which would measure itself rather than the API. Here the listening socket is
opened once, `--processes` processes accept on it, and each handles requests
on a fixed pool of `--threads` threads, so database connections are reused.
For benchmarks only.

    python -m bench.server [--port 0] [--processes 2] [--threads 4]

Prints `listening on PORT` once ready; stops on SIGTERM/SIGINT.
"""

import argparse
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


class PooledWSGIServer(WSGIServer):
    request_queue_size = 512

    def serve_with_pool(self, threads: int) -> None:
        self.pool = ThreadPoolExecutor(threads)
        self.serve_forever()

    def process_request(self, request, client_address) -> None:
        self.pool.submit(self.process_in_thread, request, client_address)

    def process_in_thread(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


def start(port: int, processes: int, threads: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_os.settings")
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    application = get_wsgi_application()
    connections.close_all()  # no connection may be shared across fork()
    server = PooledWSGIServer(("127.0.0.1", port), QuietHandler)
    server.set_app(application)
    children = []
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:
            server.serve_with_pool(threads)
            os._exit(0)
        children.append(pid)

    def stop(signum, frame) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_with_pool(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4)
    options = parser.parse_args()
    start(options.port, options.processes, options.threads)


if __name__ == "__main__":
    main()
