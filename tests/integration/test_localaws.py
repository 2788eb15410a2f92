"""The local AWS endpoint (scripts/localaws.py): moto's application on a server that keeps
connections open, as AWS does, and whose recorder sees only what it is asked to record."""

from __future__ import annotations

import http.client

from localaws import split_calls


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
