# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile tokens and callers against the trust policies we generate, judged the way IAM judges them;
and parliament over every IAM document a site run really stores.

moto never evaluates trust, so the trust evaluator (tests/helpers/trust_evaluator.py) decides. The
documents are the ones the modules write: built by the same functions, and read back from moto
after a real site run.
"""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_URL,
    github_provider_arn,
    github_trust_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import pod_identity_trust_policy
from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import allows_service, allows_web_identity
from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import site
from ansible_collections.cloudops.ecr.tests.unit.plugins.module_utils.test_iam_parliament import (
    findings as parliament_findings,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REPOS = ["example-org/web-app", "example-org/api-service"]
SUBJECTS = ["ref:refs/heads/main", "ref:refs/tags/v*", "environment:production"]
POLICY = github_trust_policy(github_provider_arn("aws", ACCOUNT), REPOS, SUBJECTS)


def token(sub: str | None = "repo:example-org/web-app:ref:refs/heads/main", **claims) -> dict:
    found = {"iss": GITHUB_OIDC_URL, "aud": GITHUB_OIDC_AUDIENCE, **claims}
    if sub is not None:
        found["sub"] = sub
    return {k: v for k, v in found.items() if v is not None}


ADMITTED = [
    ("listed-branch", token()),
    ("other-listed-repo", token("repo:example-org/api-service:ref:refs/heads/main")),
    ("tag-matching-pattern", token("repo:example-org/api-service:ref:refs/tags/v1.2.3")),
    ("listed-environment", token("repo:example-org/web-app:environment:production")),
]

HOSTILE = [
    # someone else's repository
    ("other-repo-same-owner", token("repo:example-org/evil:ref:refs/heads/main")),
    ("same-repo-name-other-owner", token("repo:evil-org/web-app:ref:refs/heads/main")),
    ("repo-name-prefix", token("repo:example-org/web-app-fork:ref:refs/heads/main")),
    ("owner-name-prefix", token("repo:example-org-evil/web-app:ref:refs/heads/main")),
    ("owner-case-changed", token("repo:Example-Org/web-app:ref:refs/heads/main")),
    ("repo-wildcard-as-claim", token("repo:example-org/*:ref:refs/heads/main")),
    ("anything-wildcard-as-claim", token("*")),
    ("immutable-form-not-listed", token("repo:example-org@1001/web-app@2002:ref:refs/heads/main")),
    # the right repository, the wrong ref, environment or event
    ("unlisted-branch", token("repo:example-org/web-app:ref:refs/heads/feature")),
    ("branch-suffix", token("repo:example-org/web-app:ref:refs/heads/main-evil")),
    ("branch-path", token("repo:example-org/web-app:ref:refs/heads/main/../evil")),
    ("branch-case", token("repo:example-org/web-app:ref:refs/heads/Main")),
    ("tag-not-matching-pattern", token("repo:example-org/web-app:ref:refs/tags/release-1")),
    ("tag-pattern-as-branch", token("repo:example-org/web-app:ref:refs/heads/v1.0")),
    ("pull-request", token("repo:example-org/web-app:pull_request")),
    ("unlisted-environment", token("repo:example-org/web-app:environment:staging")),
    ("environment-case", token("repo:example-org/web-app:environment:Production")),
    ("trailing-newline", token("repo:example-org/web-app:ref:refs/heads/main\n")),
    ("leading-space", token(" repo:example-org/web-app:ref:refs/heads/main")),
    ("custom-template-claim", token("repo:example-org/web-app:job_workflow_ref:example-org/web-app/.github/x.yml")),
    ("empty-sub", token("")),
    ("no-sub", token(None)),
    # the right subject, the wrong token
    ("other-audience", token(aud="sigstore")),
    ("no-audience", token(aud=None)),
    ("lookalike-issuer", token(iss="https://token.actions.githubusercontent.com.evil.example")),
    ("other-issuer", token(iss="https://gitlab.com")),
    ("no-issuer", token(iss=None)),
]


@pytest.mark.parametrize(("case", "claims"), ADMITTED, ids=[row[0] for row in ADMITTED])
def test_the_listed_repositories_and_subjects_are_admitted(case, claims):
    assert allows_web_identity(POLICY, claims, ACCOUNT)


@pytest.mark.parametrize(("case", "claims"), HOSTILE, ids=[row[0] for row in HOSTILE])
def test_hostile_tokens_are_refused(case, claims):
    assert not allows_web_identity(POLICY, claims, ACCOUNT)


def test_the_provider_of_another_account_is_refused():
    assert not allows_web_identity(POLICY, token(), OTHER_ACCOUNT)


def test_the_immutable_form_is_admitted_only_when_listed():
    listed = github_trust_policy(github_provider_arn("aws", ACCOUNT), ["example-org@1001/web-app@2002"], SUBJECTS)
    assert allows_web_identity(listed, token("repo:example-org@1001/web-app@2002:ref:refs/heads/main"), ACCOUNT)
    assert not allows_web_identity(listed, token("repo:example-org@1001/web-app@9999:ref:refs/heads/main"), ACCOUNT)
    assert not allows_web_identity(listed, token(), ACCOUNT)  # the classic form of it was not listed


POD_TAGS = {
    "aws:SourceAccount": ACCOUNT,
    "aws:RequestTag/eks-cluster-name": "dev-eks",
    "aws:RequestTag/kubernetes-namespace": "argocd",
    "aws:RequestTag/kubernetes-service-account": "argocd-image-updater",
}
POD_POLICY = pod_identity_trust_policy(ACCOUNT, "dev-eks", "argocd", "argocd-image-updater")
POD_HOSTILE = [
    ("other-namespace", "pods.eks.amazonaws.com", "sts:AssumeRole", {"aws:RequestTag/kubernetes-namespace": "default"}),
    ("other-service-account", "pods.eks.amazonaws.com", "sts:AssumeRole",
     {"aws:RequestTag/kubernetes-service-account": "argocd-server"}),
    ("other-cluster", "pods.eks.amazonaws.com", "sts:AssumeRole", {"aws:RequestTag/eks-cluster-name": "pro-eks"}),
    ("other-account", "pods.eks.amazonaws.com", "sts:AssumeRole", {"aws:SourceAccount": OTHER_ACCOUNT}),
    ("no-session-tags", "pods.eks.amazonaws.com", "sts:AssumeRole", None),
    ("other-service", "ec2.amazonaws.com", "sts:AssumeRole", {}),
    ("lookalike-service", "pods.eks.amazonaws.com.evil.example", "sts:AssumeRole", {}),
    ("web-identity-action", "pods.eks.amazonaws.com", "sts:AssumeRoleWithWebIdentity", {}),
]  # fmt: skip


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:TagSession"])
def test_the_image_updater_service_account_of_this_cluster_is_admitted(action):
    assert allows_service(POD_POLICY, "pods.eks.amazonaws.com", action, POD_TAGS)


@pytest.mark.parametrize(("case", "service", "action", "change"), POD_HOSTILE, ids=[c[0] for c in POD_HOSTILE])
def test_hostile_pod_identity_callers_are_refused(case, service, action, change):
    context = {} if change is None else {**POD_TAGS, **change}
    assert not allows_service(POD_POLICY, service, action, context)


# --- the documents IAM (moto) holds after a real site run -------------------------------------------


def test_the_documents_iam_holds_after_a_site_run_refuse_hostile_callers_and_are_parliament_clean(aws, held):
    """One real site run (moto), then the stored trust policies face the hostile tables above, and
    every stored document gets the linting of test_iam_parliament (same filters)."""
    converge = site(aws.env(), extra={"github_repos": REPOS, "ecr_registry_ci_subjects": SUBJECTS})
    assert converge.returncode == 0, converge.tail()
    roles = {role["name"]: role for role in held()["iam"]["roles"]}

    ci_trust = roles["github-actions"]["trust_policy"]
    assert [case for case, claims in ADMITTED if not allows_web_identity(ci_trust, claims, ACCOUNT)] == []
    assert [case for case, claims in HOSTILE if allows_web_identity(ci_trust, claims, ACCOUNT)] == []

    updater_trust = roles["argocd-image-updater-dev"]["trust_policy"]
    assert allows_service(updater_trust, "pods.eks.amazonaws.com", "sts:AssumeRole", POD_TAGS)
    assert [
        case
        for case, service, action, change in POD_HOSTILE
        if allows_service(updater_trust, service, action, {} if change is None else {**POD_TAGS, **change})
    ] == []

    found = {}
    for name, role in roles.items():
        found[f"{name} trust"] = parliament_findings(role["trust_policy"], trust=True)
        for policy_name, document in role["inline_policies"].items():
            found[f"{name} {policy_name}"] = parliament_findings(document)
    assert set(found) == {
        "github-actions trust",
        "github-actions ecr-push",
        "argocd-image-updater-dev trust",
        "argocd-image-updater-dev ecr-read",
    }
    assert {document: issues for document, issues in found.items() if issues} == {}
