"""A local AWS endpoint: moto on a free loopback port (its application, served by waitress: see
``serve``), and its request recorder.

Used by `make demo`, the tests and the benchmark. The endpoint reaches our code only through
AWS_ENDPOINT_URL (boto3) and AWS_URL (amazon.aws): nothing in the collection knows about it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAMOTOTESTKEY00001",
    "AWS_SECRET_ACCESS_KEY": "moto-test-secret-do-not-print-0000000001",
}
STARTUP_SECONDS = 120
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """``with MotoServer() as aws: subprocess.run(..., env=aws.env())`` — stopped whatever happens."""

    def __init__(self, port: int | None = None, region: str = "eu-west-1"):
        self.port = port or free_port()
        self.region = region
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        self._log = subprocess.DEVNULL

    def __enter__(self) -> MotoServer:
        self._recording = tempfile.NamedTemporaryFile(prefix="moto-recording-", delete=False)
        self._recording.close()
        # The recorder is off until start_recording(): recording costs moto about 0.5 ms per request.
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_RECORDER_FILEPATH": self._recording.name}
        env.pop("MOTO_ENABLE_RECORDING", None)
        # CLOUDOPS_MOTO_LOG=<file>: the server's tracebacks (an HTML 500 page's cause) go there.
        log_path = os.environ.get("CLOUDOPS_MOTO_LOG")
        self._log = open(log_path, "a") if log_path else subprocess.DEVNULL  # closed in __exit__
        self._process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "127.0.0.1", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        # Generous: on a loaded 2-core machine (parallel pytest workers) a start has taken over 30 s.
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"moto server did not answer on {self.url} within {STARTUP_SECONDS} s")

    def __exit__(self, *exc) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if os.path.exists(self._recording.name):
            os.unlink(self._recording.name)
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def env(self, base: dict | None = None, endpoint: str | None = None) -> dict:
        """``base`` (default os.environ) pointed at this endpoint (or ``endpoint``, e.g. a proxy)."""
        url = endpoint or self.url
        env = dict(os.environ if base is None else base)
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.pop(var, None)
        env.update(TEST_CREDENTIALS)
        env.update(
            {"AWS_ENDPOINT_URL": url, "AWS_URL": url, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        )
        return env

    def client(self, service: str, endpoint: str | None = None):
        """A boto3 client for ``service`` on this endpoint (or ``endpoint``, e.g. a proxy)."""
        return client_for(self.env(endpoint=endpoint), service)

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (user + system), or None where /proc is missing."""
        try:
            with open(f"/proc/{self._process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, AttributeError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _post(self, path: str) -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def reset(self) -> None:
        self._post("/moto-api/reset")

    def start_recording(self) -> None:
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def stop_recording(self) -> list[dict]:
        """The requests recorded since ``start_recording``: one dict each."""
        self._post("/moto-api/recorder/stop-recording")
        with urllib.request.urlopen(f"{self.url}/moto-api/recorder/download-recording", timeout=30) as response:
            lines = response.read().decode().splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def client_for(env: dict, service: str):
    """A boto3 client made from an environment that ``MotoServer.env`` returned."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def operation(request: dict) -> str:
    """The API operation of a recorded request (JSON protocols: X-Amz-Target; query: Action)."""
    headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    body = request.get("body") or ""
    if request.get("body_encoded") and isinstance(body, str):
        body = base64.b64decode(body).decode("utf-8", "replace")
    if isinstance(body, str) and "Action=" in body:
        for part in body.split("&"):
            if part.startswith("Action="):
                return part[len("Action=") :]
    url = request.get("url") or ""
    if "Action=" in url:
        return url.split("Action=", 1)[1].split("&", 1)[0]
    return f"{request.get('method', '?')} {url}"


# Calls that change nothing an account holds, though their names are not a read's: STS hands out
# credentials (an assume-role profile's, for every module process of a multi-account run).
NOT_WRITES = frozenset({"AssumeRole"})


def split_calls(recording: list[dict]) -> tuple[list[str], list[str]]:
    """(reads, writes): operation names of recorded requests."""
    ops = [operation(r) for r in recording]
    reads = [o for o in ops if o.startswith(READ_PREFIXES) or o in NOT_WRITES]
    return reads, [o for o in ops if not (o.startswith(READ_PREFIXES) or o in NOT_WRITES)]


def serve(host: str, port: int) -> None:
    """moto's WSGI application, as ``python -m moto.server`` builds it, served by waitress instead of
    werkzeug's development server. Per request, werkzeug's server closes the connection (a new TCP
    connection and a new server thread for every call: AWS keeps connections open), writes a log
    line, and moto scans its package directory (``os.listdir`` plus an ``isdir`` per entry, under
    the server's global lock) to learn whether the Host header names a service. Here connections
    stay open, nothing is logged per request and moto's list of its modules is computed once: moto
    spends less than half the CPU per request (an unchanged rerun of 100 repositories: 1.5 s before,
    0.6 s now), for every client alike. What moto answers is unchanged."""
    import waitress

    os.environ.setdefault("MOTO_PORT", str(port))  # as moto.server sets it: some responses embed it
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N": not news here
    waitress.serve(application(), host=host, port=port, threads=8, connection_limit=500, ident="moto")


def application():
    """moto's WSGI application as ``serve`` serves it: its list of modules computed once, one request at a time."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    return one_at_a_time(DomainDispatcherApplication(create_backend_app))


def one_at_a_time(app):
    """``app`` answering one request at a time. moto's backends are not thread-safe: IAM's GetRole,
    PutRolePolicy, TagRole, ... iterate over every role of the account while a concurrent CreateRole
    adds one, and the request fails with "RuntimeError: dictionary changed size during iteration",
    which waitress answers with an HTML 500 page that botocore can neither parse nor retry (seen at
    150 roles under load, almost always at 1,000). AWS has no such race, so the local endpoint must
    not either. It costs little: moto is pure Python, so its requests never ran in parallel anyway
    (test_site.py and test_environments.py took 54 s and 54 s served this way, 50 s and 52 s
    without); waitress still reads and writes connections concurrently, and a latency proxy in
    front still holds many requests in flight at once."""
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            body = app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()

    return serialized


def keep_running(port: int | None = None) -> None:
    """``make localaws``: a local endpoint that stays up until Ctrl-C, and the environment to point a shell at it."""
    with MotoServer(port=port) as aws:
        exports = dict(aws.env({}))
        print(f"Local AWS endpoint (moto) on {aws.url}. In another shell:\n")
        print("\n".join(f"export {name}={value}" for name, value in exports.items()))
        print("unset AWS_PROFILE AWS_SESSION_TOKEN")
        print(". .venv/bin/activate")
        print("ansible-playbook site.yml -i inventories/dev -e ecr_registry_pod_identity_association=false")
        print("\nThe endpoint has no EKS Pod Identity API (hence the -e). Ctrl-C stops it and forgets everything.")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nStopped.")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        keep_running(int(sys.argv[2]) if len(sys.argv) > 2 else None)
    else:
        serve(sys.argv[1], int(sys.argv[2]))
