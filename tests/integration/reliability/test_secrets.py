# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No credential reaches the output: not at -vvv, not in the outputs file, not when a run fails."""

from __future__ import annotations

import json

from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import (
    BIN,
    MOTO_VARS,
    TEST_CREDENTIALS,
    run,
    site,
)

SESSION_TOKEN = "FwoGZXIvYXdzEMoto-session-token-must-never-be-printed-0001"
SECRETS = {
    "access key id": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
    "secret access key": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    "session token": SESSION_TOKEN,
}


def leaks(*texts: str) -> list[str]:
    """Which credentials (by kind) appear in any of ``texts``."""
    return [kind for kind, value in SECRETS.items() if any(value in text for text in texts)]


def with_session_token(env: dict) -> dict:
    return env | {"AWS_SESSION_TOKEN": SESSION_TOKEN}


def test_a_verbose_site_run_prints_no_credential(aws, tmp_path):
    outputs = tmp_path / "dev.json"
    converge = site(with_session_token(aws.env()), "-vvv", "--diff", extra={"ecr_registry_outputs_file": str(outputs)})
    rerun = site(with_session_token(aws.env()), "-vvv", "--diff", "--check")
    assert converge.returncode == 0 and rerun.returncode == 0, converge.tail() + rerun.tail()
    assert (
        "<registry-account>" in converge.stdout and "<dev>" in converge.stdout
    )  # really verbose: connection and module lines are there
    assert leaks(converge.output, rerun.output, outputs.read_text()) == []


def test_a_failing_verbose_run_prints_no_credential(aws):
    bad_input = site(with_session_token(aws.env()), "-vvv", extra={"ecr_registry_ci_subjects": ["*"]})
    dead = site(with_session_token(aws.env(endpoint="http://127.0.0.1:9")), "-vvv")
    assert bad_input.returncode != 0 and dead.returncode != 0
    assert leaks(bad_input.output, dead.output) == []


CREDENTIAL_PARAMETERS = (
    '\n      access_key: "{{ test_access_key }}"'
    '\n      secret_key: "{{ test_secret_key }}"'
    '\n      session_token: "{{ test_session_token }}"'
)
# The role sets module_defaults for group/cloudops.ecr.aws (the region); a play-level entry for the
# same group would be replaced by it, so the credentials go to amazon.aws's group and to our modules.
PLAYBOOK = f"""\
- name: The registry, with credentials given as module parameters instead of the environment
  hosts: all
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:{CREDENTIAL_PARAMETERS}
    cloudops.ecr.ecr_repository:{CREDENTIAL_PARAMETERS}
    cloudops.ecr.ecr_lifecycle:{CREDENTIAL_PARAMETERS}
    cloudops.ecr.github_oidc_role:{CREDENTIAL_PARAMETERS}
    cloudops.ecr.pod_identity_association:{CREDENTIAL_PARAMETERS}
    cloudops.ecr.image_updater_role:{CREDENTIAL_PARAMETERS}
  roles:
    - role: cloudops.ecr.ecr_registry
"""


def run_with_credential_parameters(aws, tmp_path):
    """The site's role at -vvv, credentials only as module parameters (none in the environment)."""
    playbook = tmp_path / "with_parameters.yml"
    playbook.write_text(PLAYBOOK)
    env = {k: v for k, v in aws.env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    credentials = {
        "test_access_key": SECRETS["access key id"],
        "test_secret_key": SECRETS["secret access key"],
        "test_session_token": SESSION_TOKEN,
    }
    extra = ["-e", json.dumps(MOTO_VARS), "-e", json.dumps(credentials)]
    done = run([f"{BIN}/ansible-playbook", str(playbook), "-i", "inventories/dev", "-vvv", *extra], env)
    assert done.returncode == 0, done.tail()
    assert "cloudops.ecr.ecr_repository" in done.output or "ecr_repository" in done.output
    return done


def test_credentials_given_as_module_parameters_are_masked_at_vvv(aws, tmp_path):
    """-vvvv would show them, as ansible-playbook echoes its own -e there: pass them by environment or vault."""
    done = run_with_credential_parameters(aws, tmp_path)
    assert leaks(done.output) == [], [line for line in done.output.splitlines() if leaks(line)][:5]
