# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback HTTP proxy in front of a local AWS endpoint that answers a share of requests with a fault.

    with FaultProxy(moto.url, throttle=0.20, unavailable=0.05, seed=7) as proxy:
        subprocess.run(..., env=moto.env(endpoint=proxy.url))
    proxy.stats()  # {"requests": ..., "forwarded": ..., "faults": {...}, "retries": ...}

Faults, each in the form botocore parses for the request's protocol:
- ``throttle``: HTTP 400 ``ThrottlingException`` (JSON protocols: ECR, KMS, EKS) or ``Throttling``
  (the XML error of the query protocols: IAM, STS) - what AWS answers under load;
- ``unavailable``: HTTP 503 with an empty body (a load balancer's answer; no error code to parse);
- ``drop``: the connection is closed before the request reaches the endpoint;
- ``lost``: the request reaches the endpoint, then the connection is closed before the answer:
  the write happened but the client cannot know it;
- ``error``: the service error ``error_code`` (e.g. IAM's ``NoSuchEntity`` or ``MalformedPolicyDocument``
  "Invalid principal" just after a create, while IAM propagates it), in the protocol's form.

Seeded and replayable even when a module makes calls concurrently: whether the n-th sending of a
request (same service, operation, path and body) gets a fault depends only on the seed, that
request and n - not on how threads interleave. A retry is the same request sent again, so the proxy
counts retries exactly: a request that repeats one answered by a fault.

Aimed: ``operations`` limits faults to those operation names, ``max_attempt`` to the first sendings
of a request (``max_attempt=1``: only first attempts fail, every retry goes through).

Bounded: at most ``max_faults`` faults are injected (then everything is forwarded), the per-request
log keeps the first ``max_log`` entries, and the proxy stops by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("throttle", "unavailable", "drop", "lost", "error")
_QUERY_PROTOCOL_VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class Exchange:
    """One request the proxy saw: what it was, and what it got (a fault kind, or the endpoint's status)."""

    seq: int
    service: str
    operation: str
    attempt: int
    fault: str | None
    status: int | None
    retry: bool


def _service(headers) -> str:
    # SigV4: Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
    auth = headers.get("Authorization", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return "unknown"


def _operation(method: str, path: str, headers, body: bytes) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    content_type = headers.get("Content-Type", "")
    if "x-www-form-urlencoded" in content_type:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    query_action = parse_qs(urlsplit(path).query).get("Action")
    if query_action:
        return query_action[0]
    return f"{method} {urlsplit(path).path}"


def _protocol(service: str, headers) -> str:
    if headers.get("X-Amz-Target"):
        return "json"
    if service in _QUERY_PROTOCOL_VERSIONS or "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        return "query"
    return "rest-json"


def error_response(service: str, protocol: str, code: str, status: int, message: str) -> tuple[int, dict, bytes]:
    """A service error as AWS sends it for ``protocol``: (status, headers, body)."""
    request_id = str(uuid.uuid4())
    if protocol == "query":
        version = _QUERY_PROTOCOL_VERSIONS.get(service, "2010-05-08")
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/{version}/">'
            f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = {"x-amzn-RequestId": request_id}
    if protocol == "json":
        headers["Content-Type"] = "application/x-amz-json-1.1"
    else:
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = code
    return status, headers, body


def throttling_response(service: str, protocol: str) -> tuple[int, dict[str, str], bytes]:
    """AWS throttling: ``Throttling`` in the query protocols (IAM, STS), else ``ThrottlingException``."""
    code = "Throttling" if protocol == "query" else "ThrottlingException"
    return error_response(service, protocol, code, 400, "Rate exceeded")


class FaultProxy:
    """Forward to ``upstream``, answering a seeded share of requests with faults (see the module doc)."""

    def __init__(
        self,
        upstream: str,
        *,
        throttle: float = 0.0,
        unavailable: float = 0.0,
        drop: float = 0.0,
        lost: float = 0.0,
        error: float = 0.0,
        error_code: tuple[str, int, str] = ("InternalFailure", 500, "injected"),
        seed: int = 0,
        operations: set[str] | None = None,
        max_attempt: int | None = None,
        max_faults: int = 10_000,
        max_log: int = 100_000,
        lifetime: float = 900.0,
        upstream_timeout: float = 60.0,
    ):
        shares = {"throttle": throttle, "unavailable": unavailable, "drop": drop, "lost": lost, "error": error}
        if any(not 0.0 <= share <= 1.0 for share in shares.values()) or sum(shares.values()) > 1.0:
            raise ValueError(f"fault shares must be in [0, 1] and sum to at most 1: {shares}")
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.shares = shares
        self.error_code = error_code  # (code, HTTP status, message)
        self.seed = seed
        self.operations = set(operations) if operations is not None else None
        self.max_attempt = max_attempt
        self.max_faults = max_faults
        self.max_log = max_log
        self.lifetime = lifetime
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._sent: Counter = Counter()  # request key -> times seen
        self._faulted: set[tuple[bytes, int]] = set()  # (key, attempt) answered by a fault
        self.faults: Counter = Counter()
        self.by_operation: Counter = Counter()  # (service, operation, fault) -> count
        self.requests = 0
        self.forwarded = 0
        self.retries = 0
        self.log: list[Exchange] = []
        self._server: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None
        self.url = ""

    # lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._timer is not None and threading.current_thread() is not self._timer:
            self._timer.cancel()

    @property
    def running(self) -> bool:
        return self._server is not None

    # decisions ---------------------------------------------------------------------------------
    def decide(self, key: bytes, operation: str = "") -> tuple[str | None, int, bool]:
        """(fault kind or None, attempt number from 1, whether this request retries a faulted one)."""
        with self._lock:
            self.requests += 1
            self._sent[key] += 1
            attempt = self._sent[key]
            retry = (key, attempt - 1) in self._faulted
            if retry:
                self.retries += 1
            fault = None
            eligible = (
                sum(self.faults.values()) < self.max_faults
                and (self.operations is None or operation in self.operations)
                and (self.max_attempt is None or attempt <= self.max_attempt)
            )
            if eligible:
                digest = hashlib.sha256(f"{self.seed}/{attempt}/".encode() + key).digest()
                draw = int.from_bytes(digest[:8], "big") / 2**64
                edge = 0.0
                for kind in FAULT_KINDS:
                    edge += self.shares[kind]
                    if draw < edge:
                        fault = kind
                        break
            if fault:
                self.faults[fault] += 1
                self._faulted.add((key, attempt))
            return fault, attempt, retry

    def record(self, service: str, operation: str, attempt: int, fault: str | None, status: int | None, retry: bool):
        with self._lock:
            if fault is None or fault == "lost":
                self.forwarded += 1
            self.by_operation[(service, operation, fault or "ok")] += 1
            if len(self.log) < self.max_log:
                self.log.append(Exchange(len(self.log) + 1, service, operation, attempt, fault, status, retry))

    def stats(self) -> dict:
        """Figures for a report: requests seen, forwarded, faults by kind, retries, faults never retried."""
        with self._lock:
            never_retried = sum(1 for key, attempt in self._faulted if self._sent[key] == attempt)
            return {
                "seed": self.seed,
                "shares": dict(self.shares),
                "requests": self.requests,
                "forwarded": self.forwarded,
                "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()),
                "retries": self.retries,
                "faults_not_retried": never_retried,
                "distinct_requests": len(self._sent),
            }

    def faulted_operations(self) -> dict[str, int]:
        """``service:operation`` -> faults injected into it."""
        with self._lock:
            found: Counter = Counter()
            for (service, operation, outcome), count in self.by_operation.items():
                if outcome != "ok":
                    found[f"{service}:{operation}"] += count
            return dict(found)


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass  # the proxy keeps its own log

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _handle(self) -> None:
        proxy = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service = _service(self.headers)
        operation = _operation(self.command, self.path, self.headers, body)
        key = b"\0".join([service.encode(), operation.encode(), self.path.encode(), hashlib.sha256(body).digest()])
        fault, attempt, retry = proxy.decide(key, operation)
        status = None
        if fault == "throttle":
            status, headers, payload = throttling_response(service, _protocol(service, self.headers))
            self._answer(status, headers, payload)
        elif fault == "error":
            code, status, message = proxy.error_code
            status, headers, payload = error_response(service, _protocol(service, self.headers), code, status, message)
            self._answer(status, headers, payload)
        elif fault == "unavailable":
            status = 503
            self._answer(503, {"Content-Type": "text/plain"}, b"")
        elif fault == "drop":
            self._drop()
        else:
            status, headers, payload = self._forward(body)
            if fault == "lost":
                self._drop()
            else:
                self._answer(status, headers, payload)
        proxy.record(service, operation, attempt, fault, status, retry)

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        host, port = self.owner.upstream
        connection = http.client.HTTPConnection(host, port, timeout=self.owner.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            return response.status, kept, payload
        except OSError as exc:
            return 502, {"Content-Type": "text/plain"}, f"fault proxy: upstream failed: {exc}".encode()
        finally:
            connection.close()

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def wait_until_stopped(proxy: FaultProxy, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while proxy.running and time.monotonic() < deadline:
        time.sleep(0.05)
    return not proxy.running
