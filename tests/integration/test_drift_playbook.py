# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/drift.yml: what changed behind the collection's back, and nothing else, with no write."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import (
    BIN,
    MOTO_VARS,
    ROOT,
    TRACEBACK,
    run,
    site,
)

WORKER, WEB = "example-org/worker", "example-org/web-app"


def drift(aws, tmp_path):
    extra = json.dumps({**MOTO_VARS, "ecr_registry_drift_dir": str(tmp_path)})
    return run([f"{BIN}/ansible-playbook", "playbooks/drift.yml", "-i", "inventories/dev", "-e", extra], aws.env())


def report(tmp_path) -> dict:
    return json.loads((tmp_path / "drift-dev.json").read_text())


def behind_the_back(aws):
    """A repository's scan setting, a lifecycle rule and the CI trust, changed in the console."""
    ecr, iam = aws.client("ecr"), aws.client("iam")
    ecr.put_image_scanning_configuration(repositoryName=WORKER, imageScanningConfiguration={"scanOnPush": False})
    rule = {
        "rulePriority": 1,
        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3},
        "action": {"type": "expire"},
    }
    ecr.put_lifecycle_policy(repositoryName=WEB, lifecyclePolicyText=json.dumps({"rules": [rule]}))
    trust = iam.get_role(RoleName="github-actions")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    condition["token.actions.githubusercontent.com:sub"] = [
        *condition["token.actions.githubusercontent.com:sub"],
        "repo:someone/else:ref:refs/heads/main",
    ]
    iam.update_assume_role_policy(RoleName="github-actions", PolicyDocument=json.dumps(trust))


def make_drift(aws, folder, *extra: str) -> subprocess.CompletedProcess:
    """`make drift ENV=dev` (scripts/drift.py), its report in ``folder``."""
    env = {**aws.env(), "DRIFT_ENV": "dev", "DRIFT_DIR": str(folder)}
    command = [sys.executable, os.path.join(ROOT, "scripts", "drift.py"), "-e", json.dumps(MOTO_VARS), *extra]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_three_changes_behind_the_back_are_reported_exactly_with_no_write_and_a_converge_clears_them(
    aws, held, recorded, tmp_path
):
    converged = site(aws.env())
    assert converged.returncode == 0, converged.tail()

    behind_the_back(aws)
    before = held()
    with recorded() as calls:
        drifted = drift(aws, tmp_path)

    assert calls.writes == []
    assert held() == before
    assert drifted.returncode == 2, drifted.tail()  # ansible-playbook's failed host
    assert "DRIFT in dev: 3 difference(s)" in " ".join(drifted.output.split())
    assert TRACEBACK not in drifted.output
    found = report(tmp_path)
    assert found["drift"] is True and found["count"] == 3
    assert sorted((item["kind"], item["name"]) for item in found["items"]) == [
        ("ci_role", "github-actions"),
        ("lifecycle", WEB),
        ("repository", WORKER),
    ]
    what = {item["name"]: item["what"] for item in found["items"]}
    assert what[WORKER] == ["scan_on_push"]
    assert what["github-actions"] == ["trust policy"]
    markdown = (tmp_path / "drift-dev.md").read_text()
    for name in (WORKER, WEB, "github-actions", "someone/else"):
        assert name in markdown, name
    # make drift tells drift (3) from a failed run (1): here a report says there is drift.
    assert make_drift(aws, tmp_path / "make").returncode == 3

    restored = site(aws.env())
    assert restored.returncode == 0, restored.tail()
    clean = make_drift(aws, tmp_path)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert report(tmp_path)["drift"] is False and report(tmp_path)["items"] == []


def test_make_drift_exits_1_when_the_run_fails_before_any_report(aws, tmp_path):
    broken = make_drift(aws, tmp_path, "-e", json.dumps({"registry_region": "nowhere-1"}))
    assert broken.returncode == 1, broken.stdout[-3000:]
    assert "No drift report was written" in broken.stderr
    assert not (tmp_path / "drift-dev.json").exists()
