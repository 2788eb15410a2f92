"""The role's meta/argument_specs.yml stops a wrongly typed variable before any AWS call."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from localaws import MotoServer

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


@pytest.fixture(scope="module")
def aws():
    with MotoServer() as server:
        yield server


def site_with(aws, extra_vars: dict) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run site.yml on the dev inventory with ``extra_vars``; return the run and the AWS requests it made."""
    env = aws.env()
    env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
    aws.start_recording()
    try:
        run = subprocess.run(
            [PLAYBOOK, "site.yml", "-i", "inventories/dev", "-e", json.dumps(extra_vars)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        requests = aws.stop_recording()
    return run, requests


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "ecr_registry_scan_on_push",
            "maybe",
            "argument 'ecr_registry_scan_on_push' is of type str and we were unable to convert to bool",
        ),
        (
            "ecr_registry_tags",
            "team=platform,oops",
            "argument 'ecr_registry_tags' is of type str and we were unable to convert to dict",
        ),
        (
            "ecr_registry_image_tag_mutability",
            "SOMETIMES",
            "value of ecr_registry_image_tag_mutability must be one of: MUTABLE, IMMUTABLE",
        ),
    ],
)
def test_wrongly_typed_role_variable_fails_naming_it_before_any_aws_call(aws, variable, value, message):
    run, requests = site_with(aws, {variable: value})

    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    # Ansible's argument-spec check of the registry's entry point, or registry_inputs on the environment's
    # host (whichever host's inputs are checked first): both name the variable and the value.
    assert "Validation of arguments failed" in output or "Invalid role variables" in output, output[-3000:]
    assert message in output, output[-3000:]
    assert requests == [], f"{len(requests)} AWS requests made before the variables were validated"
