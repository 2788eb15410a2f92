"""The handoff_files filter: the files that wire each GitHub repository's CI and Image Updater to the registry."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.filter.handoff import handoff_files
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.handoff import (
    CiRun,
    TagMutability,
    candidate_tags,
)

ACCOUNT, ENV_ACCOUNT = "123456789012", "222222222222"
REGISTRY = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
WEB, API = f"{REGISTRY}/example-org/web-app", f"{REGISTRY}/example-org/api"
SHARED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/github-actions"
UPDATER_ROLE = f"arn:aws:iam::{ENV_ACCOUNT}:role/argocd-image-updater-dev"
OUTPUTS = {
    "environment": "dev",
    "account_id": ACCOUNT,
    "region": "eu-west-1",
    "repository_urls": {"example-org/web-app": WEB, "example-org/api": API, "my-web-app": f"{REGISTRY}/my-web-app"},
    "repository_arns": {},
    "github_repository_urls": {"example-org/web-app": WEB, "Example-Org/API": API},
    "github_repository_arns": {},
    "oidc_provider_arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
    "ci_role_arns": {"github-actions": SHARED_ROLE},
    "image_updater_role_arn": UPDATER_ROLE,
    "environment_account_id": ENV_ACCOUNT,
    "environment_region": "us-east-1",  # the environment's region differs from the registry's on purpose
    "unmanaged_repositories": [],
    "access_removed": [],
}
SHA = "0123456789abcdef0123456789abcdef01234567"
BRANCHES_AND_TAGS = ["ref:refs/heads/main", "ref:refs/heads/release/*", "ref:refs/tags/v*"]
UNMAPPED = "job_workflow_ref:example-org/wf/.github/workflows/x.yml@refs/heads/main"


def workflow(files: dict, path: str = "workflows/example-org/web-app.yml") -> dict:
    return yaml.safe_load(files[path])


def triggers(doc: dict) -> dict:
    """``on:`` (PyYAML reads the bare key ``on`` as the boolean true, as YAML 1.1 says)."""
    return doc[True]


def steps_using(doc: dict, action: str) -> list[dict]:
    return [
        step for job in doc["jobs"].values() for step in job["steps"] if step.get("uses", "").startswith(action + "@")
    ]


def actionlint() -> str:
    found = shutil.which("actionlint", path=os.path.dirname(sys.executable)) or shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: install test-requirements.txt into the venv")
    return found


def scenarios() -> dict[str, dict]:
    """Every shape of workflow the generator makes, by name."""
    per_repo_outputs = {
        **OUTPUTS,
        "ci_role_arns": {
            "gha-example-org-web-app": f"arn:aws:iam::{ACCOUNT}:role/gha-example-org-web-app",
            "gha-example-org-api": f"arn:aws:iam::{ACCOUNT}:role/gha-example-org-api",
        },
    }
    check_mode = {
        **OUTPUTS,
        "github_repository_urls": {"example-org/web-app": None},
        "ci_role_arns": {"github-actions": None},
    }
    return {
        "default": handoff_files(OUTPUTS),
        "everything": handoff_files(
            OUTPUTS,
            [*BRANCHES_AND_TAGS, "environment:production", "pull_request", UNMAPPED],
            mutability={
                "example-org/web-app": {"image_tag_mutability": "MUTABLE"},
                "example-org/api": {
                    "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
                    "exclusions": [{"filterType": "WILDCARD", "filter": "buildcache"}],
                },
            },
        ),
        "environments-only": handoff_files(
            OUTPUTS, ["environment:dev", "environment:prod-*"], platforms=["linux/amd64"]
        ),
        "per-repository": handoff_files(per_repo_outputs, ["ref:refs/heads/main"], "gha-{owner}-{repo}", True),
        "no-trigger": handoff_files(OUTPUTS, [UNMAPPED]),
        "check-mode": handoff_files(check_mode, ["ref:refs/heads/main"]),
    }


def test_every_generated_workflow_passes_actionlint(tmp_path):
    written = []
    for name, files in scenarios().items():
        for path, text in files.items():
            if path.startswith("workflows/"):
                target = tmp_path / name / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
                written.append(str(target))
    assert len(written) == 11
    result = subprocess.run([actionlint(), "-no-color", *written], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_refuse_a_broken_workflow(tmp_path):
    text = handoff_files(OUTPUTS)["workflows/example-org/web-app.yml"].replace(
        "steps.tags.outputs", "steps.tag.outputs"
    )
    (tmp_path / "broken.yml").write_text(text)
    result = subprocess.run([actionlint(), str(tmp_path / "broken.yml")], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "steps.tag" in result.stdout


def test_the_workflow_assumes_the_outputs_role_and_pushes_to_the_outputs_registry():
    files = handoff_files(OUTPUTS)
    assert sorted(p for p in files if p.startswith("workflows/")) == [
        "workflows/Example-Org/API.yml",
        "workflows/example-org/web-app.yml",
    ]
    for path, url, repository in (
        ("workflows/example-org/web-app.yml", WEB, "example-org/web-app"),
        ("workflows/Example-Org/API.yml", API, "example-org/api"),
    ):
        doc = workflow(files, path)
        assert doc["permissions"] == {"id-token": "write", "contents": "read"}
        assert doc["env"] == {"REGISTRY_ID": ACCOUNT, "REPOSITORY_NAME": repository, "IMAGE": url}
        [credentials] = steps_using(doc, "aws-actions/configure-aws-credentials")
        assert credentials["with"] == {"role-to-assume": SHARED_ROLE, "aws-region": "eu-west-1"}
        [login] = steps_using(doc, "aws-actions/amazon-ecr-login")
        assert login["with"] == {"registries": ACCOUNT}
        [build] = steps_using(doc, "docker/build-push-action")
        assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
        assert build["with"]["push"] is True
        assert "provenance" not in build["with"]  # the action's default kept
        assert build["with"]["tags"] == "${{ steps.tags.outputs.tags }}"
        assert len(steps_using(doc, "docker/setup-qemu-action")) == 1
        text = files[path]
        # No environment named: dev's and pro's runs write the same workflow (one registry, one CI role).
        assert text.startswith(
            "# Generated by cloudops.ecr from the registry's outputs: account 123456789012, region eu-west-1.\n"
        )
        assert "Regenerate it" in text.splitlines()[1]


def test_known_values_leave_no_placeholder_in_any_file():
    for path, text in handoff_files(OUTPUTS, ["ref:refs/heads/main", "ref:refs/tags/v*"]).items():
        for marker in ("UNKNOWN", "unknown", "None", "null", "<ACCOUNT", "REPLACE", "TODO", "222222222222.dkr"):
            assert marker not in text, (path, marker)


def test_push_triggers_are_only_the_branches_and_tags_the_trust_admits():
    doc = workflow(handoff_files(OUTPUTS, ["ref:refs/heads/main", "ref:refs/heads/release/*", "ref:refs/tags/v*"]))
    # IAM's '*' crosses '/', as GitHub's '**' does: the trigger matches exactly the refs the trust admits
    assert triggers(doc) == {"push": {"branches": ["main", "release/**"], "tags": ["v**"]}}
    assert list(doc["jobs"]) == ["image"] and "environment" not in doc["jobs"]["image"]


def test_an_environment_subject_gives_a_job_in_that_environment_run_by_hand():
    doc = workflow(handoff_files(OUTPUTS, ["ref:refs/heads/main", "environment:production", "environment:dev"]))
    assert triggers(doc)["push"] == {"branches": ["main"]}
    dispatch = triggers(doc)["workflow_dispatch"]["inputs"]["environment"]
    assert dispatch["type"] == "choice" and dispatch["options"] == ["production", "dev"]
    jobs = doc["jobs"]
    assert jobs["image"]["if"] == "github.event_name != 'workflow_dispatch'" and "environment" not in jobs["image"]
    assert jobs["image-in-environment"]["if"] == "github.event_name == 'workflow_dispatch'"
    assert jobs["image-in-environment"]["environment"] == "${{ inputs.environment }}"
    only = workflow(handoff_files(OUTPUTS, ["environment:prod-*"]))
    assert list(triggers(only)) == ["workflow_dispatch"]
    assert triggers(only)["workflow_dispatch"]["inputs"]["environment"]["type"] == "string"
    assert list(only["jobs"]) == ["image-in-environment"] and "if" not in only["jobs"]["image-in-environment"]


def test_pull_request_subject_adds_the_trigger_and_a_warning():
    files = handoff_files(OUTPUTS, ["ref:refs/heads/main", "pull_request"])
    assert triggers(workflow(files)) == {"push": {"branches": ["main"]}, "pull_request": None}
    assert "# pull_request: the trust admits every pull request's run" in files["workflows/example-org/web-app.yml"]


def test_a_subject_that_maps_to_no_trigger_is_named_and_not_guessed():
    subject = UNMAPPED
    text = handoff_files(OUTPUTS, ["ref:refs/tags/v*", subject])["workflows/example-org/web-app.yml"]
    assert f'# Not a trigger: the trust\'s subject "{subject}" maps to no workflow event.' in text
    assert triggers(yaml.safe_load(text)) == {"push": {"tags": ["v**"]}}
    lone = handoff_files(OUTPUTS, [subject])["workflows/example-org/web-app.yml"]
    assert "# NO TRIGGER: no subject of the CI role's trust maps to a workflow event" in lone
    assert triggers(yaml.safe_load(lone)) == {"workflow_dispatch": None}


def test_per_repository_roles_are_resolved_by_the_name_template():
    roles = {
        "gha-example-org-web-app": f"arn:aws:iam::{ACCOUNT}:role/gha-example-org-web-app",
        "gha-example-org-api": f"arn:aws:iam::{ACCOUNT}:role/gha-example-org-api",
    }
    files = handoff_files({**OUTPUTS, "ci_role_arns": roles}, ["ref:refs/heads/main"], "gha-{owner}-{repo}", True)
    for path, role in (
        ("workflows/example-org/web-app.yml", "gha-example-org-web-app"),
        ("workflows/Example-Org/API.yml", "gha-example-org-api"),
    ):
        [credentials] = steps_using(workflow(files, path), "aws-actions/configure-aws-credentials")
        assert credentials["with"]["role-to-assume"] == roles[role]
        assert f"# The CI role {role} trusts this repository for: ref:refs/heads/main." in files[path]


def test_check_mode_nulls_are_said_and_the_workflow_refuses_to_run():
    outputs = {
        **OUTPUTS,
        "github_repository_urls": {"example-org/web-app": None},
        "ci_role_arns": {"github-actions": None},
        "image_updater_role_arn": None,
    }
    files = handoff_files(outputs)
    text = files["workflows/example-org/web-app.yml"]
    assert "# UNKNOWN: the ECR repository example-org/web-app does not exist yet (check mode): no URL" in text
    assert "# UNKNOWN: the CI role github-actions does not exist yet (check mode): no ARN" in text
    assert "None" not in text and "null" not in text
    doc = yaml.safe_load(text)
    assert "IMAGE" not in doc["env"]
    [credentials] = steps_using(doc, "aws-actions/configure-aws-credentials")
    assert "role-to-assume" not in credentials["with"]
    first = doc["jobs"]["image"]["steps"][0]
    assert (
        first["run"].endswith("exit 1\n") and "::error::the CI role github-actions does not exist yet" in first["run"]
    )
    assert "Role: unknown - the Image Updater role does not exist yet" in files["image-updater/dev/README.md"]
    resource = yaml.safe_load(files["image-updater/dev/imageupdater.yaml"])
    assert resource["spec"]["applicationRefs"] == []
    assert (
        "# example-org/web-app: UNKNOWN, its ECR repository does not exist yet"
        in files["image-updater/dev/imageupdater.yaml"]
    )
    assert yaml.safe_load(files["image-updater/dev/annotations.yaml"]) == {}


def test_a_role_missing_from_the_outputs_is_named():
    text = handoff_files({**OUTPUTS, "ci_role_arns": {}})["workflows/example-org/web-app.yml"]
    assert "# UNKNOWN: the outputs hold no CI role github-actions (ci_role_arns: none)" in text


@pytest.mark.parametrize(
    ("mutability", "registry_cache"),
    [
        ({"image_tag_mutability": "IMMUTABLE"}, False),
        ({"image_tag_mutability": "MUTABLE"}, True),
        ({"image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION", "exclusions": ["buildcache"]}, True),
        ({"image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION", "exclusions": ["build*"]}, True),
        ({"image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION", "exclusions": ["v*"]}, False),
        ({"image_tag_mutability": "MUTABLE_WITH_EXCLUSION", "exclusions": ["buildcache"]}, False),
        ({"image_tag_mutability": "MUTABLE_WITH_EXCLUSION", "exclusions": ["v*"]}, True),
    ],
)
def test_the_cache_is_the_registry_only_where_the_buildcache_tag_may_move(mutability, registry_cache):
    files = handoff_files(OUTPUTS, mutability={"example-org/web-app": mutability})
    [build] = steps_using(workflow(files), "docker/build-push-action")
    if registry_cache:
        assert build["with"]["cache-from"] == "type=registry,ref=${{ env.IMAGE }}:buildcache"
        assert build["with"]["cache-to"] == (
            "type=registry,ref=${{ env.IMAGE }}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true"
        )
    else:
        assert (build["with"]["cache-from"], build["with"]["cache-to"]) == ("type=gha", "type=gha,mode=max")
        assert "refuses moving a buildcache tag" in files["workflows/example-org/web-app.yml"]
    # the other repository is IMMUTABLE (the default): GitHub's cache
    [other] = steps_using(workflow(files, "workflows/Example-Org/API.yml"), "docker/build-push-action")
    assert other["with"]["cache-from"] == "type=gha"


def test_latest_is_pushed_only_where_the_repository_lets_it_move():
    immutable = handoff_files(OUTPUTS)["workflows/example-org/web-app.yml"]
    mutable = handoff_files(OUTPUTS, mutability={"example-org/web-app": "MUTABLE"})["workflows/example-org/web-app.yml"]
    assert "add latest" not in immutable and "latest on the default branch" not in immutable
    assert 'if [ "$REF" = "refs/heads/$DEFAULT_BRANCH" ]; then add latest; fi' in mutable


def test_image_updater_files_name_the_registry_account_and_region_and_the_service_account():
    files = handoff_files(OUTPUTS, namespace="gitops", service_account="image-updater")
    expected = {
        "name": f"ECR {ACCOUNT} eu-west-1",
        "prefix": REGISTRY,
        "api_url": f"https://{REGISTRY}",
        "ping": True,
        "credentials": "ext:/scripts/ecr-login.sh",
        "credsexpire": "10h",
    }
    assert yaml.safe_load(files["image-updater/dev/registries.conf.yaml"]) == {"registries": [expected]}
    values = yaml.safe_load(files["image-updater/dev/values.yaml"])
    assert values["config"]["registries"] == [expected]
    assert values["serviceAccount"] == {"create": True, "name": "image-updater"}
    assert values["authScripts"] == {
        "enabled": True,
        "scripts": {"ecr-login.sh": files["image-updater/dev/ecr-login.sh"]},
    }
    assert "aws ecr get-login-password --region 'eu-west-1'" in files["image-updater/dev/ecr-login.sh"]
    resource = yaml.safe_load(files["image-updater/dev/imageupdater.yaml"])
    assert resource["apiVersion"] == "argocd-image-updater.argoproj.io/v1alpha1" and resource["kind"] == "ImageUpdater"
    assert resource["metadata"] == {"name": "ecr-dev", "namespace": "gitops"}
    assert "namespace" not in resource["spec"]  # removed from the v1 API: the API server refuses it
    readme = files["image-updater/dev/README.md"]
    assert "Service account: `gitops/image-updater`" in readme and f"Role: `{UPDATER_ROLE}`" in readme
    assert "argocd-image-updater-controller" in readme
    for path, text in files.items():
        if path.startswith("image-updater/"):
            assert ENV_ACCOUNT + ".dkr" not in text and "us-east-1" not in text, path


def test_the_image_updater_follows_exactly_the_tags_the_workflow_pushes():
    commit = CiRun("push", "refs/heads/main", SHA)
    release = CiRun("push", "refs/tags/v1.4.2", SHA)
    pull = CiRun("pull_request", "refs/pull/7/merge", SHA, pr_number=7)
    mutable = TagMutability("MUTABLE")
    for subjects, strategy, follows, ignores in (
        (["ref:refs/heads/main"], "newest-build", [f"sha-{SHA}"], ["latest", "buildcache", f"pr-7-{SHA}", "v1.4.2"]),
        (["ref:refs/heads/main", "ref:refs/tags/v*"], "semver", ["v1.4.2"], ["latest", "buildcache", f"sha-{SHA}"]),
    ):
        files = handoff_files(OUTPUTS, subjects)
        [ref, *others] = yaml.safe_load(files["image-updater/dev/imageupdater.yaml"])["spec"]["applicationRefs"]
        assert ref["namePattern"] == "api" and [o["namePattern"] for o in others] == ["web-app"]
        [image] = ref["images"]
        assert image["alias"] == "api" and image["imageName"] == API
        settings = image["commonUpdateSettings"]
        assert settings["updateStrategy"] == strategy
        allow = re.compile(settings["allowTags"].removeprefix("regexp:"))
        pushed = {tag for run in (commit, release, pull) for tag in candidate_tags(run, mutable)}
        assert sorted(tag for tag in pushed | {"buildcache"} if allow.search(tag)) == follows
        assert not any(allow.search(tag) for tag in ignores)
        annotations = yaml.safe_load(files["image-updater/dev/annotations.yaml"])
        prefix = "argocd-image-updater.argoproj.io"
        assert annotations["api"] == {
            f"{prefix}/image-list": f"api={API}",
            f"{prefix}/api.update-strategy": strategy,
            f"{prefix}/api.allow-tags": settings["allowTags"],
            f"{prefix}/api.platforms": "linux/amd64,linux/arm64",
        }


def test_application_names_can_be_given_per_repository():
    files = handoff_files(OUTPUTS, applications={"example-org/web-app": "web-*"})
    refs = yaml.safe_load(files["image-updater/dev/imageupdater.yaml"])["spec"]["applicationRefs"]
    assert [r["namePattern"] for r in refs] == ["api", "web-*"]
    assert list(yaml.safe_load(files["image-updater/dev/annotations.yaml"])) == ["api", "web-*"]


def test_the_login_script_prints_one_aws_credentials_line_or_fails(tmp_path):
    script = tmp_path / "ecr-login.sh"
    script.write_text(handoff_files(OUTPUTS)["image-updater/dev/ecr-login.sh"])
    stub = tmp_path / "bin" / "aws"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\n[ "$*" = "ecr get-login-password --region eu-west-1" ] || exit 3\necho "$TOKEN"\n')
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}:{os.environ['PATH']}", "TOKEN": "eyJ0b2tlbiI6dHJ1ZX0="}
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env, check=False)
    assert (result.returncode, result.stdout) == (0, "AWS:eyJ0b2tlbiI6dHJ1ZX0=\n")
    stub.write_text("#!/bin/sh\nexit 255\n")
    failed = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env, check=False)
    assert failed.returncode != 0 and "AWS:" not in failed.stdout


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ci_subjects": "ref:refs/heads/main"}, "ci_subjects: 'ref:refs/heads/main' must be a list"),
        ({"mutability": {"example-org/api": {"image_tag_mutability": "FROZEN"}}}, "image_tag_mutability: 'FROZEN'"),
        ({"mutability": {"example-org/api": "IMMUTABLE_WITH_EXCLUSION"}}, "needs at least one exclusion filter"),
        ({"platforms": ["amd64"]}, "platforms[0]: 'amd64' must be 'os/arch'"),
        ({"service_account": "Image_Updater"}, "service_account: 'Image_Updater' must be a Kubernetes name"),
        ({"update_strategy": "latest"}, "update_strategy: 'latest' must be one of semver, newest-build"),
        ({"ci_role_name": "gha", "per_repository": True}, "must hold '{repo}' with per_repository"),
    ],
)
def test_invalid_settings_fail_naming_the_argument(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        handoff_files(OUTPUTS, **kwargs)


def test_something_other_than_the_outputs_is_refused():
    with pytest.raises(AnsibleFilterError, match="must be the registry's outputs"):
        handoff_files({"repositories": []})


def test_an_environment_reading_replicas_is_handed_the_replicas_and_ci_keeps_the_registry_region():
    replica_host = f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com"
    replicas = {
        "eu-central-1": {
            "repository_urls": {name: f"{replica_host}/{name}" for name in OUTPUTS["repository_urls"]},
            "repository_arns": {},
        }
    }
    reading_replicas = handoff_files({**OUTPUTS, "replicas": replicas, "pull_region": "eu-central-1"})
    reading_source = handoff_files({**OUTPUTS, "replicas": replicas, "pull_region": "eu-west-1"})

    registries = yaml.safe_load(reading_replicas["image-updater/dev/registries.conf.yaml"])["registries"]
    assert [r["api_url"] for r in registries] == [f"https://{replica_host}"]
    assert "--region 'eu-central-1'" in reading_replicas["image-updater/dev/ecr-login.sh"]
    images = yaml.safe_load(reading_replicas["image-updater/dev/imageupdater.yaml"])["spec"]["applicationRefs"]
    assert {image["imageName"] for ref in images for image in ref["images"]} == {
        f"{replica_host}/example-org/web-app",
        f"{replica_host}/example-org/api",
    }
    assert (
        reading_replicas["workflows/example-org/web-app.yml"]
        == handoff_files(OUTPUTS)["workflows/example-org/web-app.yml"]
    )
    assert reading_source == handoff_files({**OUTPUTS, "replicas": replicas})
    assert "eu-central-1" not in reading_source["image-updater/dev/registries.conf.yaml"]
