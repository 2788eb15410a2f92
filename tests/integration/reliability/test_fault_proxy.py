# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault proxy answers the way AWS does, as botocore reads it, and replays a seed exactly."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import TEST_CREDENTIALS
from ansible_collections.cloudops.ecr.tests.integration.reliability.fault_proxy import FaultProxy, wait_until_stopped

NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=10)
CALLS = {
    "ecr": lambda c: c.describe_repositories(),
    "iam": lambda c: c.list_roles(),
    "sts": lambda c: c.get_caller_identity(),
    "eks": lambda c: c.list_clusters(),
    "kms": lambda c: c.list_keys(),
}


def client(service: str, endpoint: str, config: Config = NO_RETRIES):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=config,
    )


def error_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize(
    ("service", "code"),
    [("ecr", "ThrottlingException"), ("kms", "ThrottlingException"), ("eks", "ThrottlingException"),
     ("iam", "Throttling"), ("sts", "Throttling")],
)  # fmt: skip
def test_throttling_is_parsed_by_botocore_as_the_service_code(moto, service, code):
    with FaultProxy(moto.url, throttle=1.0) as proxy:
        assert error_of(lambda: CALLS[service](client(service, proxy.url))) == (code, 400)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unavailable_is_a_503_whose_code_botocore_reads_as_the_status(moto, service):
    with FaultProxy(moto.url, unavailable=1.0) as proxy:
        assert error_of(lambda: CALLS[service](client(service, proxy.url))) == ("503", 503)


def test_a_dropped_connection_is_a_closed_connection_to_botocore(moto):
    with FaultProxy(moto.url, drop=1.0) as proxy:
        with pytest.raises(ConnectionClosedError):
            client("ecr", proxy.url).describe_repositories()
        assert proxy.stats()["forwarded"] == 0


def test_a_lost_answer_means_the_write_happened(moto):
    with FaultProxy(moto.url, lost=1.0) as proxy, pytest.raises(ConnectionClosedError):
        client("ecr", proxy.url).create_repository(repositoryName="lost/answer")
    found = client("ecr", moto.url).describe_repositories(repositoryNames=["lost/answer"])["repositories"]
    assert [r["repositoryName"] for r in found] == ["lost/answer"]


def test_without_faults_everything_is_forwarded(moto):
    with FaultProxy(moto.url) as proxy:
        ecr = client("ecr", proxy.url)
        ecr.create_repository(repositoryName="through/proxy")
        found = ecr.describe_repositories(repositoryNames=["through/proxy"])["repositories"]
        assert [r["repositoryName"] for r in found] == ["through/proxy"]
        assert proxy.stats() | {"shares": None} == {
            "seed": 0,
            "shares": None,
            "requests": 2,
            "forwarded": 2,
            "faults": {},
            "faults_total": 0,
            "retries": 0,
            "faults_not_retried": 0,
            "distinct_requests": 2,
        }


def _faults_of_a_run(moto, seed: int) -> list[tuple[str, int, str | None]]:
    with FaultProxy(moto.url, unavailable=0.4, seed=seed) as proxy:
        retrying = client("ecr", proxy.url, Config(retries={"mode": "standard", "max_attempts": 10}))
        for i in range(10):
            retrying.create_repository(repositoryName=f"seeded/repo-{i}")
        retrying.describe_repositories(repositoryNames=[f"seeded/repo-{i}" for i in range(10)])
    direct = client("ecr", moto.url)
    for i in range(10):
        direct.delete_repository(repositoryName=f"seeded/repo-{i}")
    return [(e.operation, e.attempt, e.fault) for e in proxy.log]


def test_the_same_seed_replays_the_same_faults_and_another_seed_does_not(moto):
    first, again, other = _faults_of_a_run(moto, 7), _faults_of_a_run(moto, 7), _faults_of_a_run(moto, 8)
    assert first == again
    assert first != other
    assert any(exchange[2] for exchange in first)


def test_retries_are_counted_as_repeats_of_faulted_requests(moto):
    with FaultProxy(moto.url, unavailable=0.5, seed=3) as proxy:
        retrying = client("ecr", proxy.url, Config(retries={"mode": "standard", "max_attempts": 10}))
        for i in range(8):
            retrying.create_repository(repositoryName=f"counted/repo-{i}")
        stats = proxy.stats()
    assert stats["faults_total"] > 0
    assert stats["retries"] == stats["faults_total"]  # every fault was retried, once
    assert stats["faults_not_retried"] == 0
    assert stats["requests"] == stats["distinct_requests"] + stats["retries"]
    assert stats["forwarded"] == 8


def test_faults_are_bounded_by_max_faults(moto):
    with FaultProxy(moto.url, unavailable=1.0, max_faults=2) as proxy:
        retrying = client("ecr", proxy.url, Config(retries={"mode": "standard", "max_attempts": 5}))
        retrying.describe_repositories()
        assert proxy.stats()["faults_total"] == 2


def test_the_proxy_stops_by_itself_after_its_lifetime(moto):
    proxy = FaultProxy(moto.url, lifetime=0.5)
    proxy.start()
    assert wait_until_stopped(proxy, timeout=5)


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [("iam", "NoSuchEntity", 404), ("iam", "MalformedPolicyDocument", 400), ("ecr", "ServerException", 500)],
)
def test_a_chosen_service_error_is_parsed_by_botocore_as_that_code(moto, service, code, status):
    with FaultProxy(moto.url, error=1.0, error_code=(code, status, "Invalid principal in policy")) as proxy:
        assert error_of(lambda: CALLS[service](client(service, proxy.url))) == (code, status)
