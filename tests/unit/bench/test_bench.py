"""The benchmark's own parts: the latency proxy really delays and forwards, and the report's
ratios and target verdicts follow from the medians (``make bench`` itself runs for half an hour)."""

from __future__ import annotations

import http.client
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

BENCH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "bench"
)
sys.path.insert(0, BENCH)

from latency_proxy import LatencyProxy
from run import BASELINE, CLOUDOPS, REGISTRY_ONLY, BenchError, policies_of, ratios, table


def ecr_through(url: str, aws):
    return aws.client("ecr", endpoint=url)


def test_the_proxy_forwards_every_call_at_least_the_delay_later(aws):
    with LatencyProxy(aws.url, delay=0.2) as proxy:
        ecr = ecr_through(proxy.url, aws)
        started = time.perf_counter()
        created = ecr.create_repository(repositoryName="bench/app")["repository"]
        listed = ecr.describe_repositories()["repositories"]
        elapsed = time.perf_counter() - started
    assert [r["repositoryArn"] for r in listed] == [created["repositoryArn"]]
    assert proxy.requests == 2
    assert elapsed >= 0.4


def test_the_proxy_delays_concurrent_calls_side_by_side(aws):
    from concurrent.futures import ThreadPoolExecutor

    ecr_through(aws.url, aws).describe_repositories()  # moto's first answer warms its backend up
    with LatencyProxy(aws.url, delay=1.0) as proxy:
        ecr = ecr_through(proxy.url, aws)
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: ecr.describe_repositories(), range(4)))
        elapsed = time.perf_counter() - started
    assert proxy.requests == 4
    # Side by side, not one after the other: the four calls wait out their delay together. (Counted,
    # not timed: a loaded machine stretches the wall clock, never the overlap.)
    assert proxy.peak_in_flight == 4
    assert elapsed >= 1.0


def test_the_proxy_keeps_its_upstream_connection_open_across_calls():
    """A new TCP connection to the endpoint per call is a cost AWS doesn't add: one client
    connection is forwarded on one upstream connection, re-opened if the endpoint closes it."""
    connections = []

    class Upstream(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            connections.append(self.client_address)

        def do_GET(self):
            close = self.path == "/close"
            self.send_response(200)
            self.send_header("Content-Length", "2")
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with LatencyProxy(f"http://127.0.0.1:{server.server_address[1]}", delay=0.0) as proxy:
            client = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=10)
            bodies = []
            for path in ("/a", "/b", "/c", "/close", "/d", "/e"):
                client.request("GET", path)
                bodies.append(client.getresponse().read())
            client.close()
    finally:
        server.shutdown()
        server.server_close()
    assert bodies == [b"ok"] * 6
    assert proxy.requests == 6
    assert len(connections) == 2  # /a to /close on one, /d and /e on the next


def row(cold, rerun, slow, reads, writes=0):
    return {
        "cold": cold,
        "rerun": rerun,
        "slow_rerun": slow,
        "rerun_reads": reads,
        "rerun_writes": writes,
        "cold_reads": 0,
        "cold_writes": 0,
        "rerun_changed": 0,
        "runs": 3,
    }


@pytest.fixture
def rows():
    return {
        (1, CLOUDOPS): row(6.0, 6.0, 6.5, 11),
        (1, REGISTRY_ONLY): row(3.0, 3.0, 3.2, 3),
        (1, BASELINE): row(3.0, 2.5, 3.0, 5),
        (100, CLOUDOPS): row(9.0, 8.0, 8.5, 209),
        (100, REGISTRY_ONLY): row(5.0, 4.0, 4.5, 201),
        (100, BASELINE): row(110.0, 100.0, 130.0, 500),
        (None, "floor"): {"rerun": 2.4, "slow_rerun": 2.5, "rerun_reads": 2, "rerun_writes": 0, "runs": 3},
    }


def test_ratios_and_verdicts_follow_from_the_medians(rows):
    lines, targets = ratios(rows, [1, 100])
    assert "cold converge **22.0x**" in lines[1] and "unchanged rerun **25.0x**" in lines[1]
    assert "**1.33** (4.00 s / 3.00 s)" in lines[1]
    verdicts = {line.split(" | ")[0].lstrip("| "): line for line in targets[2:]}
    cold = verdicts["cold converge ≥ 20x faster than the baseline"]
    assert "12.2x **missed**" in cold and "22.0x met" in cold
    assert "4.50 s met" in verdicts["unchanged rerun at 50 ms per call < 5 s"]
    assert "8.50 s **missed**" in verdicts["unchanged rerun at 50 ms per call < 5 s"]
    assert "2.01 met" in verdicts["≤ 4 reads per repository on the unchanged rerun"]


def test_a_write_on_the_rerun_is_a_missed_target(rows):
    rows[(100, REGISTRY_ONLY)]["rerun_writes"] = 1
    _lines, targets = ratios(rows, [1, 100])
    [writes] = [line for line in targets if line.startswith("| 0 writes")]
    assert writes.endswith("| 0 met | 1 **missed** |")


def test_the_table_has_a_line_per_tool_and_size_and_the_floor(rows):
    lines = table(rows)
    assert len(lines) == 2 + 6 + 1
    assert lines[-1].startswith("| - | floor (bench/floor.yml) | - | 2.40 |")


def state(lifecycle=True, repository=True):
    return {
        "image_tag_mutability": "IMMUTABLE",
        "lifecycle_policy": {"rules": []} if lifecycle else None,
        "repository_policy": {"Statement": []} if repository else None,
    }


def test_the_policies_the_site_applied_are_handed_to_the_baseline():
    policies = policies_of({"a": state(), "b": state()})
    assert set(policies["lifecycle"]) == set(policies["repository"]) == {"a", "b"}


@pytest.mark.parametrize(
    ("repo", "named"),
    [(state(repository=False), "repository_policy"), (state(lifecycle=False), "lifecycle_policy"), (None, "policy")],
)
def test_a_repository_without_a_policy_stops_the_bench(repo, named):
    with pytest.raises(BenchError, match=rf"svc-001 \(.*{named}"):
        policies_of({"svc-000": state(), "svc-001": repo})


def test_the_server_cpu_time_grows_with_the_calls_it_serves(aws):
    ecr = ecr_through(aws.url, aws)
    before = aws.cpu_seconds()
    for size in range(1, 41):
        ecr.describe_repositories(maxResults=size)
    after = aws.cpu_seconds()
    assert before is not None and after > before
