"""The CI workflow's tags: which tags a run pushes, that its shell step says the same, and that ECR
(moto) accepts every push of successive runs, re-runs included, in IMMUTABLE repositories."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.handoff import (
    CACHE_TAG,
    CiRun,
    TagMutability,
    candidate_tags,
    github_filter,
    handoff_files,
    handoff_settings,
    pushed_tags,
)

REGION = "eu-west-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SHA_A = "a" * 40
SHA_B = "b" * 40
IMMUTABLE = TagMutability("IMMUTABLE")
MUTABLE = TagMutability("MUTABLE")
CACHE_EXCLUDED = TagMutability("IMMUTABLE_WITH_EXCLUSION", ("buildcache",))
# Tags matching a filter are the immutable ones here: releases and commit builds; latest may move.
RELEASES_KEPT = TagMutability("MUTABLE_WITH_EXCLUSION", ("v*", "sha-*"))


def outputs(repositories: list[str]) -> dict:
    urls = {name: f"{REGISTRY}/{name}" for name in repositories}
    return {
        "environment": "dev",
        "account_id": ACCOUNT,
        "region": REGION,
        "github_repository_urls": urls,
        "ci_role_arns": {"github-actions": f"arn:aws:iam::{ACCOUNT}:role/github-actions"},
        "image_updater_role_arn": None,
    }


def workflow_of(repository: str, mutability: TagMutability) -> dict:
    """The generated workflow of ``repository`` (``owner/repo``, lowercase) with that mutability."""
    settings = handoff_settings(
        ["ref:refs/heads/main", "ref:refs/tags/v*", "pull_request"],
        mutability={repository: {"image_tag_mutability": mutability.mode, "exclusions": list(mutability.exclusions)}},
    )
    return yaml.safe_load(handoff_files(outputs([repository]), settings)[f"workflows/{repository}.yml"])


@pytest.mark.parametrize(
    ("mutability", "immutable", "movable"),
    [
        (IMMUTABLE, ["latest", "buildcache", "sha-1"], []),
        (MUTABLE, [], ["latest", "buildcache", "sha-1"]),
        (CACHE_EXCLUDED, ["latest", "sha-1", "buildcache2", "xbuildcache"], ["buildcache"]),
        (TagMutability("IMMUTABLE_WITH_EXCLUSION", ("build*", "*-dev")), ["latest", "v1.0"], ["buildcache", "v1-dev"]),
        (RELEASES_KEPT, ["v1.2.3", "sha-1"], ["latest", "buildcache", "release-v1"]),
    ],
)
def test_a_tag_is_immutable_as_ecr_decides_from_mode_and_wildcard_filters(mutability, immutable, movable):
    assert [tag for tag in immutable + movable if mutability.is_immutable(tag)] == immutable


@pytest.mark.parametrize(
    ("iam", "github"),
    [("main", "main"), ("release/*", "release/**"), ("v*", "v**"), ("c++/x", "c\\+\\+/x"), ("*", "**")],
)
def test_an_iam_ref_pattern_becomes_the_github_filter_matching_the_same_refs(iam, github):
    assert github_filter(iam) == github


def test_a_commit_push_is_tagged_with_its_commit_and_latest_only_where_latest_may_move():
    run = CiRun("push", "refs/heads/main", SHA_A)
    assert candidate_tags(run, IMMUTABLE) == [f"sha-{SHA_A}"]
    assert candidate_tags(run, MUTABLE) == [f"sha-{SHA_A}", "latest"]
    assert candidate_tags(run, RELEASES_KEPT) == [f"sha-{SHA_A}", "latest"]
    assert candidate_tags(CiRun("push", "refs/heads/feature", SHA_A), MUTABLE) == [f"sha-{SHA_A}"]


def test_a_tag_push_adds_the_git_tag_when_it_is_a_valid_image_tag():
    assert candidate_tags(CiRun("push", "refs/tags/v1.2.3", SHA_A), IMMUTABLE) == [f"sha-{SHA_A}", "v1.2.3"]
    assert candidate_tags(CiRun("push", "refs/tags/release/2026", SHA_A), IMMUTABLE) == [f"sha-{SHA_A}"]


def test_a_pull_request_build_is_tagged_apart_from_commit_builds():
    run = CiRun("pull_request", "refs/pull/7/merge", SHA_A, pr_number=7)
    assert candidate_tags(run, MUTABLE) == [f"pr-7-{SHA_A}"]


def test_an_existing_tag_is_left_out_only_where_ecr_keeps_it():
    run = CiRun("push", "refs/tags/v1.2.3", SHA_A, default_branch="main")
    existing = [f"sha-{SHA_A}", "v1.2.3"]
    assert pushed_tags(run, IMMUTABLE, existing) == []
    assert pushed_tags(run, IMMUTABLE, existing[:1]) == ["v1.2.3"]
    assert pushed_tags(run, MUTABLE, existing) == [f"sha-{SHA_A}", "v1.2.3"]


# ---------------------------------------------------------------------------------------------------
# The workflow's tag step, run by bash as GitHub runs it, says what pushed_tags says.

AWS_STUB = """#!/bin/sh
echo "$*" >> "$AWS_CALLS"
for arg in "$@"; do case "$arg" in imageTag=*) tag="${arg#imageTag=}" ;; esac; done
for have in $EXISTING_TAGS; do
  if [ "$have" = "$tag" ]; then echo 0; exit 0; fi
done
echo 1
"""


def tag_step(doc: dict) -> tuple[dict, dict]:
    [step] = [s for s in doc["jobs"]["image"]["steps"] if s.get("id") == "tags"]
    return doc["env"], step


def run_tag_step(doc: dict, run: CiRun, existing: list[str], tmp_path) -> tuple[list[str], list[str]]:
    """The tags the workflow's step writes to GITHUB_OUTPUT, and the aws calls it made."""
    workflow_env, step = tag_step(doc)
    context = {
        "github.event_name": run.event,
        "github.ref": run.ref,
        "github.sha": run.sha,
        "github.event.repository.default_branch": run.default_branch,
        "github.event.pull_request.number": "" if run.pr_number is None else str(run.pr_number),
    }
    step_env = {name: re.sub(r"\$\{\{ (.+?) \}\}", lambda m: context[m.group(1)], v) for name, v in step["env"].items()}
    stub = tmp_path / "bin" / "aws"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(AWS_STUB)
    stub.chmod(0o755)
    output, calls = tmp_path / "output", tmp_path / "calls"
    output.write_text("")
    calls.write_text("")
    env = {
        "PATH": f"{stub.parent}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "AWS_CALLS": str(calls),
        "EXISTING_TAGS": " ".join(existing),
        **workflow_env,
        **step_env,
    }
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    # GitHub's default shell for a run step on Linux
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = output.read_text().splitlines()
    assert lines[0] == "tags<<CLOUDOPS_ECR_TAGS" and lines[-1] == "CLOUDOPS_ECR_TAGS"
    prefix = workflow_env["IMAGE"] + ":"
    assert all(line.startswith(prefix) for line in lines[1:-1])
    return [line.removeprefix(prefix) for line in lines[1:-1]], calls.read_text().splitlines()


RUNS = [
    CiRun("push", "refs/heads/main", SHA_A),
    CiRun("push", "refs/heads/release/1", SHA_A),
    CiRun("push", "refs/tags/v1.2.3", SHA_A),
    CiRun("push", "refs/tags/release/2026", SHA_A),
    CiRun("pull_request", "refs/pull/7/merge", SHA_B, pr_number=7),
    CiRun("workflow_dispatch", "refs/heads/main", SHA_B, default_branch="trunk"),
]
EXISTING = [[], [f"sha-{SHA_A}"], [f"sha-{SHA_A}", "v1.2.3", "latest", f"pr-7-{SHA_B}", f"sha-{SHA_B}"]]


@pytest.mark.parametrize("mutability", [IMMUTABLE, MUTABLE, CACHE_EXCLUDED, RELEASES_KEPT], ids=lambda m: m.mode)
def test_the_workflow_tag_step_pushes_exactly_pushed_tags(mutability, tmp_path):
    doc = workflow_of("example-org/web-app", mutability)
    for run in RUNS:
        for existing in EXISTING:
            tags, calls = run_tag_step(doc, run, existing, tmp_path)
            assert tags == pushed_tags(run, mutability, existing), (run, existing)
            asked = [re.search(r"imageTag=(\S+)", call).group(1) for call in calls]
            assert asked == [tag for tag in candidate_tags(run, mutability) if mutability.is_immutable(tag)]
            assert all(
                f"--registry-id {ACCOUNT} --repository-name example-org/web-app" in call
                and "--query length(failures[?failureCode=='ImageNotFound'])" in call
                for call in calls
            )


def test_a_failing_aws_call_fails_the_step_rather_than_skip_the_push(tmp_path):
    doc = workflow_of("example-org/web-app", IMMUTABLE)
    workflow_env, step = tag_step(doc)
    stub = tmp_path / "bin" / "aws"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\necho 'AccessDenied' >&2\nexit 254\n")
    stub.chmod(0o755)
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    env = {**workflow_env, "PATH": f"{stub.parent}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(tmp_path / "out")}
    env.update(EVENT="push", REF="refs/heads/main", SHA=SHA_A, DEFAULT_BRANCH="main", PR_NUMBER="")
    result = subprocess.run(
        ["bash", "-eo", "pipefail", str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------------
# Successive CI runs against ECR (moto): nothing is refused, every tag is there afterwards.


@pytest.fixture
def ecr(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ecr", region_name=REGION)


def build_manifest(repository: str, build: str) -> str:
    """The manifest of one build: builds are not reproducible, so every build has its own digest."""
    layer = "sha256:" + hashlib.sha256(f"{repository} {build}".encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": layer},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 2, "digest": layer}],
        }
    )


def tag_exists(ecr, repository: str, tag: str) -> bool:
    """What the workflow asks: BatchGetImage, missing when its failure says ImageNotFound."""
    response = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return not any(f["failureCode"] == "ImageNotFound" for f in response["failures"])


def tags_in(ecr, repository: str) -> set[str]:
    return {
        tag for image in ecr.describe_images(repositoryName=repository)["imageDetails"] for tag in image["imageTags"]
    }


def uses_registry_cache(doc: dict) -> bool:
    [build] = [s for s in doc["jobs"]["image"]["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    return build["with"]["cache-to"].startswith("type=registry,")


def ci_run(ecr, repository: str, mutability: TagMutability, doc: dict, run: CiRun, build: str) -> list[str]:
    """One workflow run: its tags (after asking ECR which exist), then its pushes, as buildx makes them."""
    existing = [tag for tag in candidate_tags(run, mutability) if tag_exists(ecr, repository, tag)]
    tags = pushed_tags(run, mutability, existing)
    if tags:
        manifest = build_manifest(repository, build)
        for tag in tags:
            ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
        if uses_registry_cache(doc):
            cache = build_manifest(repository, f"{build} cache")
            ecr.put_image(repositoryName=repository, imageManifest=cache, imageTag=CACHE_TAG)
    return tags


@pytest.mark.parametrize(
    ("mutability", "latest"),
    [(IMMUTABLE, False), (CACHE_EXCLUDED, False), (MUTABLE, True)],
    ids=["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE"],
)
def test_successive_runs_and_reruns_push_without_a_refusal(ecr, mutability, latest):
    repository = "example-org/web-app"
    ecr.create_repository(
        repositoryName=repository,
        imageTagMutability=mutability.mode,
        **(
            {
                "imageTagMutabilityExclusionFilters": [
                    {"filterType": "WILDCARD", "filter": f} for f in mutability.exclusions
                ]
            }
            if mutability.exclusions
            else {}
        ),
    )
    doc = workflow_of(repository, mutability)
    assert uses_registry_cache(doc) == (mutability.mode != "IMMUTABLE")
    main_a, main_b = CiRun("push", "refs/heads/main", SHA_A), CiRun("push", "refs/heads/main", SHA_B)
    release = CiRun("push", "refs/tags/v1.2.0", SHA_B)  # the tag is pushed on the commit main just built
    pushed = [
        ci_run(ecr, repository, mutability, doc, main_a, "1"),
        ci_run(ecr, repository, mutability, doc, main_b, "2"),
        ci_run(ecr, repository, mutability, doc, main_b, "2, attempt 2"),  # a re-run of the same commit
        ci_run(ecr, repository, mutability, doc, release, "3"),
        ci_run(ecr, repository, mutability, doc, release, "3, attempt 2"),
    ]
    expected = {f"sha-{SHA_A}", f"sha-{SHA_B}", "v1.2.0"} | ({"latest"} if latest else set())
    if mutability.mode == "IMMUTABLE":
        assert pushed == [[f"sha-{SHA_A}"], [f"sha-{SHA_B}"], [], ["v1.2.0"], []]
    if mutability.mode == "MUTABLE":
        assert pushed[2] == [f"sha-{SHA_B}", "latest"]  # nothing is kept: the re-run pushes again, allowed
    assert tags_in(ecr, repository) == expected | ({CACHE_TAG} if uses_registry_cache(doc) else set())


def test_a_workflow_pushing_latest_or_repushing_its_tags_is_refused_by_immutable(ecr):
    repository = "example-org/web-app"
    ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    for tag in ("latest", f"sha-{SHA_A}", CACHE_TAG):
        ecr.put_image(repositoryName=repository, imageManifest=build_manifest(repository, f"{tag} 1"), imageTag=tag)
        with pytest.raises(ClientError) as refused:
            ecr.put_image(repositoryName=repository, imageManifest=build_manifest(repository, f"{tag} 2"), imageTag=tag)
        assert refused.value.response["Error"]["Code"] in (
            "ImageTagAlreadyExistsException",
            "ImageAlreadyExistsException",
        )
