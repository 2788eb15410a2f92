"""A loopback HTTP forwarder that adds a fixed delay to every request: what a call costs against
real AWS, in front of a local moto server.

    with LatencyProxy("http://127.0.0.1:5000", delay=0.05) as proxy:
        subprocess.run(..., env=aws.env(endpoint=proxy.url))

Bounded: at most ``max_in_flight`` requests are forwarded at once (others wait their turn, as
they would on a connection pool), and the proxy shuts itself down after ``lifetime`` seconds
even if nobody stops it. Standalone: ``python bench/latency_proxy.py UPSTREAM [--delay 0.05]``.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that belong to one connection, not to the request: never forwarded.
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    )
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Counter:
    """Requests forwarded, and the most that were ever waiting out their delay at once."""

    def __init__(self) -> None:
        self.value = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler(upstream: urllib.parse.SplitResult, delay: float, slots: threading.BoundedSemaphore, counter: _Counter):
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as boto3 uses with AWS

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in two writes: without this, Nagle's algorithm and the client's
            # delayed ACK add ~40 ms to every response, on top of the delay we mean to add.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        upstream_connection: http.client.HTTPConnection | None = None

        def _upstream(self, body: bytes | None, headers: dict) -> tuple[int, str, list, bytes]:
            """One request upstream, on an upstream connection of this client connection's own, kept
            open as the client keeps its own (AWS doesn't add a TCP connection to every call)."""
            try:
                return self._exchange(body, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._close_upstream()  # closed by the server while idle: once more, on a new one
                return self._exchange(body, headers)

        def _exchange(self, body: bytes | None, headers: dict) -> tuple[int, str, list, bytes]:
            if self.upstream_connection is None:
                self.upstream_connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
            self.upstream_connection.request(self.command, self.path, body=body, headers=headers)
            response = self.upstream_connection.getresponse()
            payload = response.read()
            if response.will_close:
                self._close_upstream()
            return response.status, response.reason, response.getheaders(), payload

        def _close_upstream(self) -> None:
            if self.upstream_connection is not None:
                self.upstream_connection.close()
                self.upstream_connection = None

        def finish(self) -> None:
            super().finish()
            self._close_upstream()

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            with slots:
                counter.enter()
                try:
                    time.sleep(delay)
                    status, reason, reply_headers, payload = self._upstream(body, headers)
                finally:
                    counter.leave()
            counter.add()
            self.send_response(status, reason)
            for key, value in reply_headers:
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        def log_message(self, *args) -> None:  # quiet: the benchmark prints its own table
            pass

    return Forward


class LatencyProxy:
    """Forward ``http://127.0.0.1:<free port>`` to ``upstream``, ``delay`` seconds later per request."""

    def __init__(self, upstream: str, delay: float = 0.05, max_in_flight: int = 64, lifetime: float = 3600):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.delay = delay
        self.lifetime = lifetime
        self._counter = _Counter()
        handler = _handler(self.upstream, delay, threading.BoundedSemaphore(max_in_flight), self._counter)
        self._server = _Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._threads: list[threading.Thread] = []

    @property
    def requests(self) -> int:
        """Requests forwarded so far."""
        return self._counter.value

    @property
    def peak_in_flight(self) -> int:
        """The most requests that were in their delay at the same time."""
        return self._counter.peak_in_flight

    def start(self) -> LatencyProxy:
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        expire = threading.Timer(self.lifetime, self.stop)
        expire.daemon = True
        self._threads = [serve, expire]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._threads[1].cancel()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", help="e.g. http://127.0.0.1:5000")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added per request (default 0.05)")
    parser.add_argument("--lifetime", type=float, default=3600, help="seconds before it stops by itself")
    args = parser.parse_args()
    proxy = LatencyProxy(args.upstream, args.delay, lifetime=args.lifetime).start()
    print(f"{proxy.url} -> {args.upstream} (+{args.delay * 1000:.0f} ms per request, stops in {args.lifetime:.0f} s)")
    try:
        proxy._threads[0].join()
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
