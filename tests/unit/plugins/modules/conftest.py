"""Run our modules in-process against moto (mock_aws) and see every AWS call they make.

result = run_module(ecr_repository, {"repositories": ["app"]}, check_mode=True)
assert api_calls.writes == []
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

REGION = "eu-west-1"
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck")


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_URL", "EC2_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def aws():
    """moto for the test; ``aws("ecr")`` gives a boto3 client to arrange and inspect state."""
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def aws_with_managed_policies():
    """Like ``aws``, with AWS managed IAM policies loaded (slower: only where a test attaches one)."""
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield lambda service: boto3.client(service, region_name=REGION)


@dataclass
class ApiCalls:
    calls: list[tuple[str, str]] = field(default_factory=list)

    def clear(self) -> None:
        self.calls.clear()

    @property
    def reads(self) -> list[str]:
        return [op for _service, op in self.calls if op.startswith(READ_PREFIXES)]

    @property
    def writes(self) -> list[str]:
        return [op for _service, op in self.calls if not op.startswith(READ_PREFIXES)]

    def count(self, operation: str) -> int:
        return sum(1 for _service, op in self.calls if op == operation)


@pytest.fixture
def api_calls(monkeypatch):
    """Every AWS API call made while the test runs (by the module or the test itself)."""
    record = ApiCalls()
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        record.calls.append((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return record


@pytest.fixture
def run_module(capsys):
    """Run a module's ``main()`` with ``args``; return its JSON result (``failed`` set on failure)."""

    def run(module, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
        full = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        with patch_module_args(full), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)

    return run
