"""Runner gate: site.yml run by ansible-runner from a private data dir laid out as AWX lays it out.

AWX gives a job: ``project/`` (the project sync, here the checkout's files), ``inventory/hosts``
(an inventory script printing what the inventory sync imported from ``inventories/dev``),
``env/envvars`` (the AWS credential's variables; here they point at moto, and
ANSIBLE_COLLECTIONS_PATH names the collections the execution environment holds) and
``env/extravars`` (the job template's extra variables).
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import ansible_runner
import pytest
from conftest import BIN, ROOT, run
from sanity import checkout_files

IDENT = "job-1"
EXTRA_VARS = {"ecr_registry_pod_identity_association": False}


def awx_private_data_dir(base, aws, collections_path: str) -> str:
    project = base / "project"
    for path in checkout_files():
        src, dst = os.path.join(ROOT, path), project / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)

    imported = run(
        [f"{BIN}/ansible-inventory", "-i", "inventories/dev", "--list"],
        cwd=str(project),
        env={**os.environ, "ANSIBLE_CONFIG": str(project / "ansible.cfg")},
    )
    assert imported.returncode == 0, imported.stderr
    hosts = base / "inventory" / "hosts"
    hosts.parent.mkdir()
    hosts.write_text(f"#!/bin/sh\ncat <<'JSON'\n{imported.stdout}\nJSON\n")
    hosts.chmod(hosts.stat().st_mode | stat.S_IXUSR)

    credential = {k: v for k, v in aws.env({}).items() if k.startswith("AWS_")}
    env = base / "env"
    env.mkdir()
    (env / "envvars").write_text(json.dumps({**credential, "ANSIBLE_COLLECTIONS_PATH": collections_path}))
    (env / "extravars").write_text(json.dumps(EXTRA_VARS))
    return str(base)


@pytest.fixture
def job(installed, aws, tmp_path, monkeypatch):
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    data_dir = awx_private_data_dir(tmp_path, aws, installed)
    runner = ansible_runner.run(private_data_dir=data_dir, playbook="site.yml", ident=IDENT, quiet=True, timeout=600)
    return runner, data_dir


def stats_artifacts(data_dir: str) -> dict:
    events_dir = os.path.join(data_dir, "artifacts", IDENT, "job_events")
    for name in sorted(os.listdir(events_dir)):
        with open(os.path.join(events_dir, name), encoding="utf-8") as f:
            event = json.load(f)
        if event.get("event") == "playbook_on_stats":
            return event["event_data"].get("artifact_data") or {}
    raise AssertionError(f"no playbook_on_stats event in {events_dir}")


def test_site_runs_through_ansible_runner_as_awx_runs_it(job, aws):
    runner, data_dir = job
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()[-4000:]

    names = sorted(r["repositoryName"] for r in aws.client("ecr").describe_repositories()["repositories"])
    assert names, "the job created no repository"

    artifacts = stats_artifacts(data_dir)
    assert sorted(artifacts["repository_urls"]) == names
    assert sorted(artifacts["repository_arns"]) == names
    assert all(url.endswith(f"/{name}") for name, url in artifacts["repository_urls"].items())
    assert artifacts["environment"] == "dev"
