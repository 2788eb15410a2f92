"""The local AWS endpoint (scripts/localaws.py): moto's application on a server that keeps
connections open, as AWS does, and whose recorder sees only what it is asked to record."""

from __future__ import annotations

import http.client
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from localaws import application, split_calls
from werkzeug.test import Client

EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def test_the_endpoint_keeps_a_connection_open_between_calls(aws):
    connection = http.client.HTTPConnection("127.0.0.1", aws.port, timeout=30)
    try:
        sockets = []
        for call in (1, 2, 3):
            connection.request("GET", "/moto-api/data.json")
            response = connection.getresponse()
            response.read()
            assert response.status == 200, call
            assert not response.will_close, call  # werkzeug's server answers every request "Connection: close"
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert sockets[0] is not None and sockets.count(sockets[0]) == 3


def test_the_recorder_sees_the_calls_between_start_and_stop_only(aws):
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="before/recording")
    aws.start_recording()
    ecr.describe_repositories()
    ecr.create_repository(repositoryName="while/recording")
    reads, writes = split_calls(aws.stop_recording())
    ecr.describe_repositories()
    assert (reads, writes) == (["DescribeRepositories"], ["CreateRepository"])
    assert sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"]) == [
        "before/recording",
        "while/recording",
    ]


def iam_call(app, action: str, **params: str) -> int:
    """One IAM query call made straight to a WSGI application, as botocore sends it: the HTTP status."""
    credential = "AKIAMOTOTESTKEY00001/20260101/us-east-1/iam/aws4_request"
    response = Client(app).post(
        "/",
        data=urlencode({"Action": action, "Version": "2010-05-08", **params}),
        headers={
            "Host": "iam.amazonaws.com",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0",
        },
    )
    return response.status_code


def test_concurrent_iam_writes_get_aws_answers_not_moto_tracebacks():
    """moto's IAM reads iterate over every role while a concurrent CreateRole adds one ("dictionary
    changed size during iteration": an HTML 500 page botocore cannot parse). A thread switch every
    microsecond makes the race certain within a few hundred calls; the endpoint as served answers
    every call. Fails with moto's application unwrapped (``localaws.one_at_a_time`` as the identity)."""
    app = application()
    iam_call(app, "ListRoles")  # the backend exists before the threads race to make it
    trust = json.dumps({"Version": "2012-10-17", "Statement": [EC2_TRUST]})

    def create_then_read(i: int) -> list[int]:
        name = f"race-{i:04d}"
        return [
            iam_call(app, "CreateRole", RoleName=name, AssumeRolePolicyDocument=trust),
            iam_call(app, "GetRole", RoleName=name),
            iam_call(app, "TagRole", RoleName=name, **{"Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}),
        ]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = [status for calls in pool.map(create_then_read, range(400)) for status in calls]
    finally:
        sys.setswitchinterval(interval)
        Client(app).post("/moto-api/reset")  # moto's state here is this process's: leave none behind

    assert statuses.count(200) == len(statuses), sorted(set(statuses))
