# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability tests: one moto server for the session, the site playbook run for real, figures reported.

Figures a test records with the ``report`` fixture are written to tests/output/reliability/ and
printed in pytest's terminal summary, so ``make test`` shows them without ``-s``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from localaws import TEST_CREDENTIALS

from ansible_collections.cloudops.ecr.tests.helpers.playbook import recap_of

BIN = os.path.dirname(sys.executable)
OUTPUT = os.path.join(ROOT, "tests", "output", "reliability")
# moto has no EKS Pod Identity API; everything else of the site playbook runs as on AWS.
MOTO_VARS = {"ecr_registry_pod_identity_association": False}
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Run:
    """One ansible-playbook / ansible run: exit code, output, time taken."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def recap(self) -> dict[str, int]:
        return recap_of(self.stdout, self.output[-4000:])

    def result(self) -> dict:
        """The module's result, from the JSON callback of an ad-hoc run (see ``module``)."""
        try:
            return json.loads(self.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(f"no module result in the output: {self.tail()}") from exc

    def tail(self, chars: int = 4000) -> str:
        return self.output[-chars:]


def run(args: list[str], env: dict, timeout: float = 600) -> Run:
    env = {**env, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    started = time.monotonic()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def site(env: dict, *args: str, extra: dict | None = None, inventory: str = "inventories/dev", **kw) -> Run:
    """``ansible-playbook site.yml -i inventories/dev`` with the moto variables and ``extra``."""
    extra_vars = json.dumps({**MOTO_VARS, **(extra or {})})
    return run([f"{BIN}/ansible-playbook", "site.yml", "-i", inventory, "-e", extra_vars, *args], env, **kw)


def module(env: dict, name: str, args: dict, *options: str, **kw) -> Run:
    """``ansible localhost -m NAME -a JSON`` (the module alone, as a task runs it); ``.result()`` is its JSON."""
    env = {**env, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}
    return run(
        [f"{BIN}/ansible", "localhost", "-i", "inventories/dev", "-m", name, "-a", json.dumps(args), *options],
        env,
        **kw,
    )


_FIGURES: dict[str, dict] = {}


@pytest.fixture
def report(request):
    """``report(figures, headline=None)``: keep this test's figures in tests/output/reliability, print them
    in the terminal summary, and with ``headline`` also say it as a warning.

    A warning because that is what pytest-xdist carries from its workers to the terminal (`make test`
    runs the units with -n): the headline shows in the warnings summary. A plain UserWarning: xdist
    rebuilds the category in the controller by importing its module, where our conftest is not loaded.
    """

    def keep(figures: dict, headline: str | None = None) -> None:
        name = request.node.name
        _FIGURES[name] = figures
        os.makedirs(OUTPUT, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        with open(os.path.join(OUTPUT, f"{safe}.json"), "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2, sort_keys=True, default=str)
        if headline:
            warnings.warn(f"reliability figures: {headline}", UserWarning, stacklevel=2)

    return keep


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return  # nothing ran here, or this is the xdist controller (see ``report``)
    terminalreporter.section("reliability figures (also in tests/output/reliability)")
    for name, figures in _FIGURES.items():
        terminalreporter.write_line(f"{name}: {json.dumps(figures, sort_keys=True, default=str)}")


# --- modules in-process against moto (mock_aws), every API call recorded ---------------------------

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck")


@dataclass
class ApiCalls:
    calls: list[tuple[str, str]]

    @property
    def writes(self) -> list[str]:
        return [f"{service}:{op}" for service, op in self.calls if not op.startswith(READ_PREFIXES)]

    @property
    def reads(self) -> list[str]:
        return [f"{service}:{op}" for service, op in self.calls if op.startswith(READ_PREFIXES)]


@pytest.fixture
def in_process(monkeypatch, capsys):
    """``run(module, args, check_mode=False) -> (result, api_calls)``: a module's main() on mock_aws.

    ``arrange(service)`` gives a boto3 client to set state up beforehand (its calls are not counted).
    """
    import boto3
    import botocore.client
    from ansible.module_utils.testing import patch_module_args
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_URL", "EC2_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    for var, value in {**TEST_CREDENTIALS, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(var, value)
    calls: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)

    class InProcess:
        def arrange(self, service: str):
            return boto3.client(service, region_name="eu-west-1")

        def run(self, module, args: dict, check_mode: bool = False) -> tuple[dict, ApiCalls]:
            calls.clear()
            full = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": False}
            with patch_module_args(full), pytest.raises(SystemExit):
                module.main()
            return json.loads(capsys.readouterr().out), ApiCalls(list(calls))

    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield InProcess()
