# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wrong input is refused before any write, with a message naming the field and the value.

One table, two ways in: the modules called directly (in-process on moto, every botocore call
recorded) and the role's variables through the real site playbook (moto server, its recorder).
A row for a module or role variable that does not exist yet is skipped, naming what it waits for.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field

import pytest
import yaml

from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import ROOT, TRACEBACK, module, site

REGION = "eu-west-1"
ACCOUNT = "123456789012"
GOOD_RULES = [{"tag_status": "untagged", "keep_last": 10}]


def raw_rule(priority=1, selection=None, action=None, **extra) -> dict:
    return {
        "rulePriority": priority,
        "selection": selection or {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10},
        "action": action or {"type": "expire"},
        **extra,
    }


def raw_policy(*rules) -> dict:
    return {"rules": list(rules) or [raw_rule()]}


def policy_doc(**statement) -> dict:
    base = {"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
    return {"Version": "2012-10-17", "Statement": [{**base, "Action": ["ecr:BatchGetImage"], **statement}]}


@dataclass(frozen=True)
class Case:
    """A wrong input: where it goes, what it is, and what the failure message must name."""

    id: str
    target: str  # a module name, or "role" for the site playbook's variables
    args: dict
    names: tuple[str, ...]  # every one must appear in the failure message (field, value)
    arrange: dict = field(default_factory=dict)  # {"repositories": [...]} made before the run
    defect: str = ""  # a reported defect: the row is expected to fail until it is fixed (strict)


ECR = "ecr_repository"
LIFECYCLE = "ecr_lifecycle"
OIDC = "github_oidc_role"
POD = "pod_identity_association"

CASES = [
    # --- repository names ----------------------------------------------------------------------
    Case("name-uppercase", ECR, {"repositories": ["Example/App"]}, ("repositories[0]", "Example/App")),
    Case("name-too-long", ECR, {"repositories": ["a" * 257]}, ("repositories[0]", "257 characters")),
    Case("name-double-slash", ECR, {"repositories": ["a//b"]}, ("repositories[0]", "a//b")),
    Case("name-leading-dash", ECR, {"repositories": ["-app"]}, ("repositories[0]", "-app")),
    Case("name-triple-underscore", ECR, {"repositories": ["a___b"]}, ("repositories[0]", "a___b")),
    Case("name-trailing-slash", ECR, {"repositories": ["app/"]}, ("repositories[0]", "app/")),
    Case("name-listed-twice", ECR, {"repositories": ["app", "app"]}, ("repositories[1]", "app", "twice")),
    Case("name-not-a-string", ECR, {"repositories": [{"name": 42}]}, ("repositories[0]", "42")),
    Case("no-repositories", ECR, {"repositories": []}, ("repositories",)),
    # --- mutability and exclusion filters ------------------------------------------------------
    Case("mutability-lowercase", ECR, {"repositories": ["app"], "image_tag_mutability": "immutable"},
         ("image_tag_mutability", "immutable")),
    Case("mutability-per-repo", ECR, {"repositories": [{"name": "app", "image_tag_mutability": "SOMETIMES"}]},
         ("repositories[0].image_tag_mutability", "SOMETIMES")),
    Case("exclusion-mode-without-filters", ECR,
         {"repositories": ["app"], "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION"},
         ("mutability_exclusions", "IMMUTABLE_WITH_EXCLUSION")),
    Case("exclusion-six-filters", ECR,
         {"repositories": ["app"], "image_tag_mutability": "MUTABLE_WITH_EXCLUSION",
          "mutability_exclusions": [f"f{i}" for i in range(6)]},
         ("mutability_exclusions", "1 to 5")),
    Case("exclusion-filter-bad-character", ECR,
         {"repositories": ["app"], "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
          "mutability_exclusions": ["latest!"]},
         ("mutability_exclusions", "latest!")),
    Case("exclusion-filters-without-exclusion-mode", ECR,
         {"repositories": ["app"], "image_tag_mutability": "IMMUTABLE", "mutability_exclusions": ["latest"]},
         ("mutability_exclusions", "IMMUTABLE")),
    # --- encryption ----------------------------------------------------------------------------
    Case("encryption-unknown", ECR, {"repositories": ["app"], "encryption_type": "AES128"},
         ("encryption_type", "AES128")),
    Case("kms-key-with-aes256", ECR, {"repositories": ["app"], "encryption_type": "AES256", "kms_key": "alias/x"},
         ("kms_key", "AES256")),
    Case("encryption-drift", ECR, {"repositories": ["drifted"], "encryption_type": "KMS"},
         ("drifted", "AES256", "KMS"), arrange={"repositories": ["drifted"]}),
    # --- tags ----------------------------------------------------------------------------------
    Case("tag-key-aws-prefix", ECR, {"repositories": ["app"], "tags": {"aws:owner": "me"}},
         ("tags.aws:owner",)),
    Case("tag-value-too-long", ECR, {"repositories": ["app"], "tags": {"team": "x" * 257}},
         ("tags.team", "257 characters")),
    Case("tags-too-many", ECR, {"repositories": ["app"], "tags": {f"k{i}": "v" for i in range(51)}},
         ("tags", "51 tags")),
    # --- repository policies -------------------------------------------------------------------
    Case("policy-not-json", ECR, {"repositories": ["app"], "policy": "{not json"}, ("policy", "not valid JSON")),
    Case("policy-too-large", ECR,
         {"repositories": ["app"], "policy": policy_doc(Sid="x" * 10_300)}, ("policy", "10240")),
    Case("policy-effect", ECR, {"repositories": ["app"], "policy": policy_doc(Effect="Maybe")},
         ("policy.Statement[0].Effect", "Maybe")),
    Case("policy-without-principal", ECR,
         {"repositories": ["app"], "policy": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": "ecr:BatchGetImage"}]}},
         ("policy.Statement[0]", "Principal")),
    Case("access-everyone", ECR, {"repositories": ["app"], "access": {"pull": ["*"]}},
         ("access.pull[0]", "'*'")),
    Case("access-short-account", ECR, {"repositories": ["app"], "access": {"push": ["12345"]}},
         ("access.push[0]", "12345")),
    Case("access-organization", ECR, {"repositories": ["app"], "access": {"organizations": ["org-1"]}},
         ("access.organizations[0]", "org-1")),
    # --- lifecycle, raw AWS documents ----------------------------------------------------------
    Case("raw-count-unit-null", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(raw_rule(selection={
             "tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10, "countUnit": None}))},
         ("policy.rules[0].selection.countUnit", "null")),
    Case("raw-tagged-without-list", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(raw_rule(selection={
             "tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 10}))},
         ("policy.rules[0].selection", "tagPrefixList")),
    Case("raw-priority-zero", LIFECYCLE, {"repositories": ["app"], "policy": raw_policy(raw_rule(priority=0))},
         ("policy.rules[0].rulePriority", "0")),
    Case("raw-priority-duplicate", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(
             raw_rule(1, {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan",
                          "countNumber": 5}),
             raw_rule(1))},
         ("policy.rules[1].rulePriority", "1")),
    Case("raw-count-number-string", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(raw_rule(selection={
             "tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": "5"}))},
         ("policy.rules[0].selection.countNumber", "'5'")),
    Case("raw-any-not-last", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(
             raw_rule(1, {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50}),
             raw_rule(2))},
         ("policy.rules[0]", "any")),
    Case("raw-five-wildcards", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(raw_rule(selection={
             "tagStatus": "tagged", "tagPatternList": ["*a*b*c*d*"], "countType": "imageCountMoreThan",
             "countNumber": 5}))},
         ("policy.rules[0].selection.tagPatternList[0]", "*a*b*c*d*")),
    Case("raw-51-rules", LIFECYCLE,
         {"repositories": ["app"], "policy": raw_policy(*[
             raw_rule(i + 1, {"tagStatus": "tagged", "tagPrefixList": [f"p{i}"], "countType": "imageCountMoreThan",
                              "countNumber": 5}) for i in range(51)])},
         ("policy.rules", "51")),
    Case("raw-not-json", LIFECYCLE, {"repositories": ["app"], "policy": '{"rules": ['}, ("policy", "JSON")),
    # --- lifecycle, rules in plain words -------------------------------------------------------
    Case("rules-keep-last-zero", LIFECYCLE, {"repositories": ["app"], "rules": [{"tag_status": "untagged",
                                                                                 "keep_last": 0}]},
         ("rules[0].keep_last", "0")),
    Case("rules-two-actions", LIFECYCLE,
         {"repositories": ["app"], "rules": [{"tag_status": "untagged", "keep_last": 5, "keep_days": 3}]},
         ("rules[0]", "keep_last", "keep_days")),
    Case("rules-tag-status-case", LIFECYCLE,
         {"repositories": ["app"], "rules": [{"tag_status": "Untagged", "keep_last": 5}]},
         ("rules[0].tag_status", "Untagged")),
    Case("rules-unknown-key", LIFECYCLE, {"repositories": ["app"], "rules": [{"tag_status": "any", "keep_lats": 5}]},
         ("rules[0].keep_lats", "keep_last")),
    Case("rules-two-untagged", LIFECYCLE,
         {"repositories": ["app"], "rules": [{"tag_status": "untagged", "keep_last": 5},
                                             {"tag_status": "untagged", "keep_days": 9}]},
         ("rules[1]", "untagged")),
    Case("rules-expire-limit", LIFECYCLE, {"repositories": ["app"], "rules": GOOD_RULES, "max_expire_percent": 150},
         ("max_expire_percent", "150")),
    Case("lifecycle-bad-repository-name", LIFECYCLE, {"repositories": ["Bad Name"], "rules": GOOD_RULES},
         ("repositories[0]", "Bad Name")),
    # --- GitHub repositories, subjects, roles --------------------------------------------------
    Case("github-any-repo", OIDC, {"name": "ci", "github_repos": ["*/*"]}, ("github_repos[0]", "*/*")),
    Case("github-owner-wildcard", OIDC, {"name": "ci", "github_repos": ["example-org/*"]},
         ("github_repos[0]", "example-org/*")),
    Case("github-owner-only", OIDC, {"name": "ci", "github_repos": ["example-org"]},
         ("github_repos[0]", "example-org")),
    Case("github-bad-owner", OIDC, {"name": "ci", "github_repos": ["-org-/app"]}, ("github_repos[0]", "-org-/app")),
    Case("subject-star", OIDC, {"name": "ci", "github_repos": ["o/r"], "subjects": ["*"]}, ("subjects[0]", "'*'")),
    Case("subject-any-ref", OIDC, {"name": "ci", "github_repos": ["o/r"], "subjects": ["ref:*"]},
         ("subjects[0]", "ref:*")),
    Case("subject-question-mark", OIDC, {"name": "ci", "github_repos": ["o/r"], "subjects": ["ref:refs/heads/ma?n"]},
         ("subjects[0]", "ma?n")),
    Case("subject-unknown-form", OIDC, {"name": "ci", "github_repos": ["o/r"], "subjects": ["branch:main"]},
         ("subjects[0]", "branch:main")),
    Case("session-too-long", OIDC, {"name": "ci", "github_repos": ["o/r"], "max_session_duration": 43201},
         ("max_session_duration", "43201")),
    Case("session-too-short", OIDC, {"name": "ci", "github_repos": ["o/r"], "max_session_duration": 900},
         ("max_session_duration", "900")),
    Case("role-name-too-long", OIDC, {"name": "r" * 65, "github_repos": ["o/r"]}, ("name", "r" * 65)),
    Case("role-name-characters", OIDC, {"name": "ci role!", "github_repos": ["o/r"]}, ("name", "ci role!")),
    Case("role-template-without-repo", OIDC, {"name": "gha-{owner}", "per_repository": True, "github_repos": ["o/r"]},
         ("name", "{repo}")),
    Case("role-path", OIDC, {"name": "ci", "github_repos": ["o/r"], "path": "ci"}, ("path", "ci")),
    Case("role-boundary", OIDC, {"name": "ci", "github_repos": ["o/r"], "permissions_boundary": "boundary"},
         ("permissions_boundary", "boundary")),
    Case("oidc-bad-push-repository", OIDC, {"name": "ci", "github_repos": ["o/r"], "repositories": ["Bad/Repo"]},
         ("repositories[0]", "Bad/Repo")),
    # --- environment settings (EKS Pod Identity) -----------------------------------------------
    Case("cluster-name", POD, {"cluster_name": "dev cluster", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/r"},
         ("cluster_name", "dev cluster")),
    Case("namespace", POD,
         {"cluster_name": "dev", "namespace": "Argo_CD", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/r"},
         ("namespace", "Argo_CD")),
    Case("service-account", POD,
         {"cluster_name": "dev", "service_account": "image updater", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/r"},
         ("service_account", "image updater")),
    Case("pod-role-arn", POD, {"cluster_name": "dev", "role_arn": "argocd-image-updater"},
         ("role_arn", "argocd-image-updater")),
    # --- the role's variables, through site.yml --------------------------------------------------
    Case("role-github-repo-wildcard", "role", {"github_repos": ["example-org/*"]}, ("example-org/*",)),
    Case("role-mutability", "role", {"ecr_registry_image_tag_mutability": "FROZEN"},
         ("ecr_registry_image_tag_mutability", "FROZEN")),
    Case("role-encryption", "role", {"ecr_registry_encryption_type": "ROT13"},
         ("ecr_registry_encryption_type", "ROT13")),
    Case("role-tags", "role", {"ecr_registry_tags": {"aws:team": "x"}}, ("aws:team",)),
    Case("role-repository-access", "role", {"ecr_registry_repository_access": {"pull": ["*"]}}, ("pull", "'*'")),
    Case("role-override-unknown-repository", "role",
         {"ecr_registry_repository_overrides": {"not-listed": {"scan_on_push": False}}}, ("not-listed",)),
    Case("role-lifecycle-rules", "role", {"ecr_registry_lifecycle_rules": [{"tag_status": "untagged",
                                                                            "keep_last": 0}]},
         ("keep_last", "0")),
    Case("role-ci-subjects", "role", {"ecr_registry_ci_subjects": ["*"]}, ("subjects", "'*'")),
    Case("role-ci-session", "role", {"ecr_registry_ci_max_session_duration": 60}, ("max_session_duration", "60")),
    Case("role-ci-role-name", "role", {"ecr_registry_ci_role_name": "github actions"}, ("github actions",)),
    Case("role-environment", "role", {"ecr_registry_environment": "dev env"}, ("dev env",)),
    Case("role-eks-cluster", "role", {"ecr_registry_eks_cluster_name": "dev/eks"}, ("dev/eks",)),
    Case("role-image-updater-namespace", "role", {"ecr_registry_image_updater_namespace": "Argo CD"}, ("Argo CD",)),
]  # fmt: skip

ROLE_SPECS = os.path.join(ROOT, "roles", "ecr_registry", "meta", "argument_specs.yml")
ROLE_DEFAULTS = os.path.join(ROOT, "roles", "ecr_registry", "defaults", "main.yml")


def role_variables() -> set[str]:
    known = set()
    for path, pick in ((ROLE_SPECS, lambda d: d["argument_specs"]["main"]["options"]), (ROLE_DEFAULTS, dict)):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                known |= set(pick(yaml.safe_load(handle) or {}))
    return known | {"github_repos", "extra_repositories"}  # inventory variables the role reads


def waiting_for(case: Case) -> str | None:
    """Why a row cannot run yet: its module or role variable does not exist (it runs once it does)."""
    if case.target == "role":
        missing = sorted(set(case.args) - role_variables())
        return f"role variable(s) {', '.join(missing)} not in roles/ecr_registry yet" if missing else None
    if not os.path.exists(os.path.join(ROOT, "plugins", "modules", f"{case.target}.py")):
        return f"module plugins/modules/{case.target}.py does not exist yet"
    return None


def params(case: Case) -> list:
    why = waiting_for(case)
    if why:
        marks = pytest.mark.skip(reason=why)
    elif case.defect:
        marks = pytest.mark.xfail(reason=case.defect, strict=True)
    else:
        marks = ()
    return [pytest.param(case, id=f"{case.target}:{case.id}", marks=marks)]


MODULE_CASES = [p for case in CASES if case.target != "role" for p in params(case)]
ROLE_CASES = [p for case in CASES if case.target == "role" for p in params(case)]


def test_the_table_covers_at_least_40_wrong_inputs_across_modules_and_role():
    assert len(CASES) >= 40
    assert {c.target for c in CASES} == {ECR, LIFECYCLE, OIDC, POD, "role"}
    assert len({c.id for c in CASES}) == len(CASES)


def failure_text(result: dict) -> str:
    return json.dumps({k: result.get(k) for k in ("msg", "problems")})


@pytest.mark.parametrize("case", MODULE_CASES)
def test_wrong_module_input_fails_naming_field_and_value_with_no_write(case, in_process):
    for name in case.arrange.get("repositories", []):
        in_process.arrange("ecr").create_repository(repositoryName=name)
    plugin = importlib.import_module(f"ansible_collections.cloudops.ecr.plugins.modules.{case.target}")
    args = {**case.args, "region": REGION}
    result, calls = in_process.run(plugin, args)
    assert result.get("failed") is True, result
    text = failure_text(result)
    for name in case.names:
        assert name in text, f"{name!r} not named in {text}"
    assert calls.writes == []
    assert "exception" not in result and TRACEBACK not in json.dumps(result)


@pytest.mark.parametrize("case", ROLE_CASES)
def test_wrong_role_variable_fails_the_site_run_naming_it_with_no_write(case, aws, recorded):
    with recorded() as calls:
        run = site(aws.env(), extra=case.args)
    assert run.returncode != 0, run.tail()
    for name in case.names:
        assert name in run.stdout, f"{name!r} not named in: {run.tail()}"
    assert calls.writes == [], run.tail()
    assert TRACEBACK not in run.output


# --- the endpoint and the credentials ---------------------------------------------------------------


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


DEAD_ENDPOINT_BOUND = 120  # seconds; measured well under this (see the report)


def test_an_endpoint_that_is_down_fails_the_site_run_fast_and_clearly(aws, report):
    url = f"http://127.0.0.1:{closed_port()}"
    run = site(aws.env(endpoint=url), timeout=DEAD_ENDPOINT_BOUND + 60)
    report({"site_seconds": round(run.seconds, 1)})
    assert run.returncode != 0
    assert run.seconds < DEAD_ENDPOINT_BOUND
    assert "Could not connect to the endpoint URL" in run.stdout, run.tail()
    assert url in run.stdout
    assert TRACEBACK not in run.output


def without_credentials(env: dict, tmp_path) -> dict:
    """``env`` with no AWS credentials anywhere: no variables, no shared files, no instance metadata."""
    env = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE")}
    nowhere = str(tmp_path / "none")
    return env | {
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_CONFIG_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


MODULE_CALLS = [
    ("cloudops.ecr.ecr_repository", {"repositories": ["app"]}),
    ("cloudops.ecr.ecr_lifecycle", {"repositories": ["app"], "rules": GOOD_RULES}),
    ("cloudops.ecr.github_oidc_role", {"name": "ci", "github_repos": ["o/r"]}),
    ("cloudops.ecr.pod_identity_association", {"cluster_name": "dev", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/r"}),
]


@pytest.mark.parametrize(("name", "args"), MODULE_CALLS, ids=[call[0].rsplit(".", 1)[-1] for call in MODULE_CALLS])
def test_an_endpoint_that_is_down_fails_each_module_fast_and_clearly(aws, name, args, report):
    url = f"http://127.0.0.1:{closed_port()}"
    run = module(aws.env(endpoint=url), name, {**args, "region": REGION}, timeout=DEAD_ENDPOINT_BOUND + 60)
    result = run.result()
    report({"module": name, "seconds": round(run.seconds, 1)})
    assert result.get("failed") is True
    assert run.seconds < DEAD_ENDPOINT_BOUND
    assert "Could not connect to the endpoint URL" in result["msg"], result["msg"]
    assert TRACEBACK not in result["msg"]


@pytest.mark.parametrize(("name", "args"), MODULE_CALLS, ids=[call[0].rsplit(".", 1)[-1] for call in MODULE_CALLS])
def test_missing_credentials_fail_each_module_clearly(aws, name, args, tmp_path):
    run = module(without_credentials(aws.env(), tmp_path), name, {**args, "region": REGION})
    result = run.result()
    assert result.get("failed") is True
    assert "Unable to locate credentials" in result["msg"], result["msg"]
    assert TRACEBACK not in result["msg"]


def test_missing_credentials_fail_the_site_run_clearly(aws, tmp_path):
    run = site(without_credentials(aws.env(), tmp_path))
    assert run.returncode != 0
    assert "Unable to locate credentials" in run.stdout, run.tail()
    assert TRACEBACK not in run.output
