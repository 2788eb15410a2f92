# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every IAM document we generate is linted clean by parliament (duo-labs)."""

from __future__ import annotations

import json
import re

import pytest
from parliament import analyze_policy_string
from parliament.community_auditors.credentials_exposure import CREDENTIALS_EXPOSURE_ACTIONS

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import github_provider_arn, github_trust_policy
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    ecr_push_policy,
    ecr_read_policy,
    pod_identity_trust_policy,
    repository_arn,
)

# Trust policies are resource policies of the role: AWS forbids Resource in them, while
# parliament checks every document as an identity policy and asks for one.
_TRUST_WITHOUT_RESOURCE = ("MALFORMED", "Statement contains neither Resource nor NotResource")
# parliament knows SAML providers and a few web identity hosts, not IAM OIDC provider ARNs.
_OIDC_PROVIDER_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+")
# The community auditor flags ecr:GetAuthorizationToken as exposing credentials: handing out
# the registry login is that action's whole purpose, and no push or pull works without it.
_REGISTRY_LOGIN = "ecr:GetAuthorizationToken"

ACCOUNT = "123456789012"
ARNS = [repository_arn("aws", "eu-west-1", ACCOUNT, name) for name in ("example-org/app", "example-org/api")]


def _grants_only_registry_login_credentials(document: dict) -> bool:
    exposing = set(CREDENTIALS_EXPOSURE_ACTIONS)
    granted = set()
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        granted |= {a.lower() for a in actions if a.lower() in exposing}
    return granted == {_REGISTRY_LOGIN.lower()}


def findings(document: dict, trust: bool = False) -> list[tuple[str, object]]:
    analyzed = analyze_policy_string(json.dumps(document), include_community_auditors=True)
    result = []
    for finding in analyzed.findings:
        if trust and (finding.issue, finding.detail) == _TRUST_WITHOUT_RESOURCE:
            continue
        if trust and finding.issue == "UNKNOWN_FEDERATION_SOURCE" and _OIDC_PROVIDER_ARN.fullmatch(str(finding.detail)):
            continue
        if finding.issue == "CREDENTIALS_EXPOSURE" and _grants_only_registry_login_credentials(document):
            continue
        result.append((finding.issue, finding.detail))
    return result


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(ecr_push_policy(ARNS), id="push"),
        pytest.param(ecr_push_policy(ARNS[:1]), id="push-one"),
        pytest.param(ecr_read_policy(ARNS), id="read"),
    ],
)
def test_permission_policies_are_parliament_clean(document):
    assert findings(document) == []


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            github_trust_policy(github_provider_arn("aws", ACCOUNT), ["example-org/app"], ["ref:refs/heads/main"]),
            id="github-exact",
        ),
        pytest.param(
            github_trust_policy(
                github_provider_arn("aws", ACCOUNT),
                ["example-org/app", "example-org@1/api@2"],
                ["ref:refs/heads/main", "ref:refs/tags/v*", "environment:production", "pull_request"],
            ),
            id="github-exact-and-patterns",
        ),
        pytest.param(pod_identity_trust_policy(ACCOUNT, "dev"), id="pod-identity"),
    ],
)
def test_trust_policies_are_parliament_clean(document):
    assert findings(document, trust=True) == []


def test_filter_keeps_real_findings():
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:PutImgae", "Resource": "*"}]}
    assert [issue for issue, _detail in findings(bad, trust=True)] == ["UNKNOWN_ACTION"]


def test_filter_keeps_credentials_exposure_beyond_the_registry_login():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "iam:CreateAccessKey"], "Resource": "*"}
        ],
    }
    assert "CREDENTIALS_EXPOSURE" in [issue for issue, _detail in findings(document)]


@pytest.mark.parametrize("build", [ecr_push_policy, ecr_read_policy])
def test_permission_policies_are_clean_for_the_default_auditors_without_any_filter(build):
    assert analyze_policy_string(json.dumps(build(ARNS))).findings == []
