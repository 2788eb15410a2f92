# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing is destroyed that the user did not name: unlisted repositories, images, encryption, a dry run."""

from __future__ import annotations

import hashlib
import json

from ansible_collections.cloudops.ecr.plugins.modules import ecr_lifecycle, ecr_repository
from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import TEST_CREDENTIALS, site
from ansible_collections.cloudops.ecr.tests.integration.reliability.snapshot import clients, is_empty

GITHUB_REPOS = ["example-org/web-app", "example-org/api-service", "example-org/worker"]
EXTRA_REPOSITORIES = ["my-web-app", "api-service"]
ACCOUNT = "123456789012"  # moto's default account


def push_images(ecr, name: str, count: int, tag_prefix: str | None = None) -> None:
    for n in range(count):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + hashlib.sha256(f"{name}/{n}".encode()).hexdigest(),
                "size": 100,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
        tag = {"imageTag": f"{tag_prefix}{n}"} if tag_prefix else {}
        text = json.dumps(manifest)
        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()  # as a registry names it
        ecr.put_image(repositoryName=name, imageManifest=text, imageDigest=digest, **tag)


def repository(state: dict, name: str) -> dict | None:
    return next((r for r in state["ecr"]["repositories"] if r["name"] == name), None)


def site_results(run) -> dict[str, dict]:
    """Task name (without the role's prefix) -> its result, from a run with the JSON callback.

    Each task runs on the registry's host or the environment's: the result that was not skipped is
    kept. An include and the task it includes may share a name: the task comes later and wins. The
    summary is printed by both hosts: ``Registry summary`` holds every host's lines.
    """
    found, summary = {}, []
    for play in json.loads(run.stdout)["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"].split(" : ", 1)[-1]
            for result in task["hosts"].values():
                if name not in found or not result.get("skipped"):
                    found[name] = result
                if name == "Registry summary":
                    summary += result.get("msg", [])
    if summary:
        found["Registry summary"] = {"msg": summary}
    return found


def json_env(env: dict) -> dict:
    return env | {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}


# --- a repository dropped from github_repos --------------------------------------------------------


def test_a_repository_dropped_from_github_repos_is_left_alone_and_reported_unmanaged(aws, held, tmp_path):
    outputs = tmp_path / "dev.json"
    first = site(aws.env(), extra={"github_repos": GITHUB_REPOS})
    assert first.returncode == 0, first.tail()
    push_images(clients(aws.url, aws.region, TEST_CREDENTIALS)["ecr"], "example-org/worker", 3, tag_prefix="v1.")
    before = repository(held(), "example-org/worker")

    second = site(aws.env(), extra={"github_repos": GITHUB_REPOS[:2], "ecr_registry_outputs_file": str(outputs)})

    assert second.returncode == 0, second.tail()
    after = repository(held(), "example-org/worker")
    # its settings, policies and 3 images stay; only the registry's membership tag goes (and the read access it gave)
    assert after["tags"] == [tag for tag in before["tags"] if tag[0] != "cloudops.ecr/registry"]
    assert {**after, "tags": None} == {**before, "tags": None}
    assert before["images"] == 3 and before["lifecycle_policy"]
    assert json.loads(outputs.read_text())["unmanaged_repositories"] == ["example-org/worker"]
    assert "example-org/worker" in next(line for line in second.stdout.splitlines() if "Not managed here" in line)


# --- state: absent ---------------------------------------------------------------------------------


def test_absent_refuses_repositories_holding_images_and_deletes_nothing_unless_forced(in_process):
    ecr = in_process.arrange("ecr")
    for name in ("team/full", "team/empty"):
        ecr.create_repository(repositoryName=name)
    push_images(ecr, "team/full", 2, tag_prefix="v")

    refused, calls = in_process.run(ecr_repository, {"repositories": ["team/full", "team/empty"], "state": "absent"})

    assert refused["failed"] is True
    assert "team/full" in refused["msg"] and "force" in refused["msg"]
    assert refused["repositories_with_images"] == ["team/full"]
    assert calls.writes == []
    names = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    assert names == ["team/empty", "team/full"]  # not even the empty one went

    forced, calls = in_process.run(
        ecr_repository, {"repositories": ["team/full", "team/empty"], "state": "absent", "force": True}
    )
    assert forced["changed"] is True
    assert sorted(calls.writes) == ["ecr:DeleteRepository", "ecr:DeleteRepository"]
    assert ecr.describe_repositories()["repositories"] == []


def test_absent_in_check_mode_reports_and_deletes_nothing(in_process):
    ecr = in_process.arrange("ecr")
    ecr.create_repository(repositoryName="team/old")
    result, calls = in_process.run(ecr_repository, {"repositories": ["team/old"], "state": "absent"}, check_mode=True)
    assert result["changed"] is True and result["repositories"][0]["changes"] == ["deleted"]
    assert calls.writes == []
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["team/old"]


# --- the lifecycle guard -----------------------------------------------------------------------------


def test_a_lifecycle_policy_expiring_more_than_the_allowed_share_is_refused(in_process):
    ecr = in_process.arrange("ecr")
    ecr.create_repository(repositoryName="team/app")
    push_images(ecr, "team/app", 10)
    args = {"repositories": ["team/app"], "rules": [{"tag_status": "untagged", "keep_last": 2}]}

    refused, calls = in_process.run(ecr_lifecycle, args)

    assert refused["failed"] is True
    assert "team/app" in refused["msg"] and "8 of its 10" in refused["msg"] and "max_expire_percent" in refused["msg"]
    assert calls.writes == []
    assert "lifecyclePolicyText" not in _lifecycle(ecr, "team/app")

    applied, calls = in_process.run(ecr_lifecycle, {**args, "max_expire_percent": 80})
    assert applied["changed"] is True and calls.writes == ["ecr:PutLifecyclePolicy"]
    assert applied["repositories"][0]["preview"]["summary"]["expire"] == 8


def _lifecycle(ecr, name: str) -> dict:
    try:
        return ecr.get_lifecycle_policy(repositoryName=name)
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return {}


# --- encryption drift ---------------------------------------------------------------------------------


def test_encryption_drift_is_reported_and_never_fixed_by_recreating(in_process):
    ecr = in_process.arrange("ecr")
    made = ecr.create_repository(
        repositoryName="team/secure", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": "alias/team"}
    )["repository"]
    push_images(ecr, "team/secure", 2, tag_prefix="v")

    result, calls = in_process.run(ecr_repository, {"repositories": ["team/secure"], "encryption_type": "AES256"})

    assert result["failed"] is True
    assert "team/secure" in result["msg"] and "KMS" in result["msg"] and "AES256" in result["msg"]
    assert calls.writes == []
    [now] = ecr.describe_repositories(repositoryNames=["team/secure"])["repositories"]
    assert now["createdAt"] == made["createdAt"]
    assert now["encryptionConfiguration"]["encryptionType"] == "KMS"
    assert len(ecr.list_images(repositoryName="team/secure")["imageIds"]) == 2


def test_encryption_drift_through_the_role_fails_the_run_before_any_write(aws, recorded):
    ecr = clients(aws.url, aws.region, TEST_CREDENTIALS)["ecr"]
    for name in [r.lower() for r in GITHUB_REPOS] + EXTRA_REPOSITORIES:
        ecr.create_repository(repositoryName=name)  # AES256, as every repository starts
    with recorded() as calls:
        run = site(aws.env(), extra={"ecr_registry_encryption_type": "KMS"})
    assert run.returncode != 0
    assert "encrypted with AES256, not KMS" in run.stdout, run.tail()
    assert calls.writes == []


# --- a dry run of everything -----------------------------------------------------------------------------


def test_check_mode_of_the_whole_site_on_an_empty_endpoint_writes_nothing_and_reports_every_change(aws, held, recorded):
    with recorded() as calls:
        run = site(json_env(aws.env()), "--check", "--diff")
    assert run.returncode == 0, run.tail()
    assert calls.writes == []
    assert calls.reads  # it did look
    assert is_empty(held())

    results = site_results(run)
    repositories = results["ECR repositories exist with the registry settings"]
    expected_names = [r.lower() for r in GITHUB_REPOS] + EXTRA_REPOSITORIES
    assert [r["name"] for r in repositories["repositories"]] == expected_names
    assert all(r["changes"] == ["created"] for r in repositories["repositories"])
    assert repositories["registry_id"] == ACCOUNT
    lifecycle = results["Every repository has its lifecycle policy, previewed against its images first"]
    assert [r["name"] for r in lifecycle["repositories"]] == expected_names
    assert all(r["changes"] == ["created"] for r in lifecycle["repositories"])
    ci = results["GitHub Actions of the listed repositories can push to their ECR repositories, nobody else"]
    assert ci["provider"]["changes"] == ["created"]
    assert [r["changes"] for r in ci["roles"]] == [["created"]]
    updater = results["ArgoCD Image Updater of this cluster can read the registry, through EKS Pod Identity"]
    assert updater["changed"] is True and updater["role"]["changes"] == ["created"]
    assert updater["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/argocd-image-updater-dev"
    summary = "\n".join(results["Registry summary"]["msg"])
    assert "check mode, nothing written" in summary
    for name in expected_names:
        assert f"{name}: (would be created)" in summary
