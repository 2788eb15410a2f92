"""The site playbook and the inventories, run for real against a moto server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import boto3
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from localaws import MotoServer, split_calls  # noqa: E402

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def moto_server():
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto_server):
    moto_server.reset()
    return moto_server


def ansible(aws, *args, env_extra=None) -> subprocess.CompletedProcess:
    env = aws.env()
    env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
    env.update(env_extra or {})
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def playbook(aws, *args, **kw) -> subprocess.CompletedProcess:
    extra = json.dumps({"ecr_registry_pod_identity_association": False})
    return ansible(aws, f"{BIN}/ansible-playbook", *args, "-e", extra, **kw)


def recap(result: subprocess.CompletedProcess) -> dict[str, int]:
    match = re.search(r"localhost\s+:\s+(.*)", result.stdout)
    assert match, result.stdout + result.stderr
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def client(aws, service):
    env = aws.env()
    return boto3.client(
        service,
        endpoint_url=aws.url,
        region_name=aws.region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def test_site_converges_then_a_rerun_changes_nothing(aws, tmp_path):
    outputs = tmp_path / "dev.json"
    first = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", f"ecr_registry_outputs_file={outputs}")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    assert recap(first)["changed"] > 0
    ecr = client(aws, "ecr")
    names = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    assert names == sorted(
        ["example-org/web-app", "example-org/api-service", "example-org/worker", "my-web-app", "api-service"]
    )
    for repo in ecr.describe_repositories()["repositories"]:
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
        policy = json.loads(ecr.get_lifecycle_policy(repositoryName=repo["repositoryName"])["lifecyclePolicyText"])
        assert [
            (r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"])
            for r in policy["rules"]
        ] == [("untagged", "imageCountMoreThan", 10), ("tagged", "sinceImagePushed", 30)]
    data = json.loads(outputs.read_text())
    assert data["repository_urls"]["example-org/worker"].endswith(".amazonaws.com/example-org/worker")
    assert set(data["repository_arns"]) == set(names)

    second = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", f"ecr_registry_outputs_file={outputs}")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert recap(second)["changed"] == 0, second.stdout


def test_unchanged_rerun_over_20_repositories_makes_no_write_call(aws, tmp_path):
    repos = [f"bench-org/svc-{i:02d}" for i in range(20)]
    args = ("site.yml", "-i", "inventories/dev", "-e", json.dumps({"github_repos": repos, "extra_repositories": []}))
    assert playbook(aws, *args).returncode == 0
    aws.start_recording()
    rerun = playbook(aws, *args)
    reads, writes = split_calls(aws.stop_recording())
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert recap(rerun)["changed"] == 0
    assert writes == []
    assert len(reads) <= 4 * len(repos), reads


def test_invalid_repository_name_fails_and_nothing_is_created(aws):
    bad = ["example-org/good", "Bad_Name", "a" * 257, "a//b"]
    aws.start_recording()
    result = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", json.dumps({"extra_repositories": bad}))
    _, writes = split_calls(aws.stop_recording())
    assert result.returncode != 0
    for name in ("Bad_Name", "257 characters", "a//b"):
        assert name in result.stdout
    assert writes == []
    assert client(aws, "ecr").describe_repositories()["repositories"] == []


@pytest.mark.parametrize("env", ["dev", "pro"])
def test_both_inventories_see_the_one_github_repos_list(aws, env):
    result = ansible(aws, f"{BIN}/ansible-inventory", "-i", f"inventories/{env}", "--list")
    assert result.returncode == 0, result.stderr
    hostvars = json.loads(result.stdout)["_meta"]["hostvars"]["localhost"]
    assert hostvars["env_name"] == env
    assert hostvars["github_repos"] == ["example-org/web-app", "example-org/api-service", "example-org/worker"]


def test_github_repos_is_defined_in_exactly_one_file():
    found = subprocess.run(
        ["grep", "-rn", "^github_repos:", "inventories/"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    assert len(found) == 1, found
