# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trust evaluator judges our policies, so it is specified first, on hand-written documents."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import (
    Request,
    Unsupported,
    allows_service,
    allows_web_identity,
    is_allowed,
)

HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
ISS = f"https://{HOST}"


def web_identity_policy(condition: dict, effect: str = "Allow", principal: object = None) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": principal if principal is not None else {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }


def claims(sub: str = "repo:o/r:ref:refs/heads/main", aud: str = "sts.amazonaws.com", iss: str = ISS) -> dict:
    return {"iss": iss, "aud": aud, "sub": sub}


def test_string_equals_admits_only_the_exact_value():
    policy = web_identity_policy({"StringEquals": {f"{HOST}:sub": "repo:o/r:ref:refs/heads/main"}})
    assert allows_web_identity(policy, claims())
    assert not allows_web_identity(policy, claims(sub="repo:o/r:ref:refs/heads/main2"))


def test_string_equals_is_case_sensitive():
    policy = web_identity_policy({"StringEquals": {f"{HOST}:sub": "repo:o/r:ref:refs/heads/main"}})
    assert not allows_web_identity(policy, claims(sub="repo:O/r:ref:refs/heads/main"))


def test_star_under_string_equals_is_literal():
    policy = web_identity_policy({"StringEquals": {f"{HOST}:sub": "repo:o/r:*"}})
    assert not allows_web_identity(policy, claims())
    assert allows_web_identity(policy, claims(sub="repo:o/r:*"))


def test_string_like_globs_star_and_question_mark_case_sensitively():
    policy = web_identity_policy(
        {"StringLike": {f"{HOST}:sub": ["repo:o/r:ref:refs/tags/v*", "repo:o/?:pull_request"]}}
    )
    assert allows_web_identity(policy, claims(sub="repo:o/r:ref:refs/tags/v1.2.3"))
    assert allows_web_identity(policy, claims(sub="repo:o/x:pull_request"))
    assert not allows_web_identity(policy, claims(sub="repo:o/xy:pull_request"))
    assert not allows_web_identity(policy, claims(sub="repo:o/r:ref:refs/tags/V1"))


def test_values_in_a_list_are_ored_and_keys_are_anded():
    policy = web_identity_policy(
        {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:sub": ["repo:o/a:x", "repo:o/b:x"]}}
    )
    assert allows_web_identity(policy, claims(sub="repo:o/a:x"))
    assert allows_web_identity(policy, claims(sub="repo:o/b:x"))
    assert not allows_web_identity(policy, claims(sub="repo:o/b:x", aud="other"))


def test_operators_are_anded():
    policy = web_identity_policy(
        {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"}, "StringLike": {f"{HOST}:sub": "repo:o/r:*"}}
    )
    assert allows_web_identity(policy, claims())
    assert not allows_web_identity(policy, claims(aud="sts.amazonaws.com.evil"))


def test_missing_claim_fails_its_condition():
    policy = web_identity_policy({"StringLike": {f"{HOST}:sub": "*"}})
    token = claims()
    del token["sub"]
    assert not allows_web_identity(policy, token)


def test_condition_key_names_are_case_insensitive():
    policy = web_identity_policy({"StringEquals": {f"{HOST.upper()}:SUB": "repo:o/r:ref:refs/heads/main"}})
    assert allows_web_identity(policy, claims())


def test_issuer_selects_the_provider_and_another_issuer_is_kept_out():
    policy = web_identity_policy({"StringLike": {f"{HOST}:sub": "*"}})
    assert allows_web_identity(policy, claims())
    assert not allows_web_identity(policy, claims(iss="https://gitlab.com"))
    assert not allows_web_identity(policy, claims(iss=""))


def test_provider_of_another_account_is_kept_out():
    policy = web_identity_policy({"StringLike": {f"{HOST}:sub": "*"}})
    assert not allows_web_identity(policy, claims(), account_id="210987654321")


def test_other_action_is_kept_out():
    policy = web_identity_policy({})
    request = Request("Federated", PROVIDER, "sts:AssumeRole")
    assert not is_allowed(policy, request)


def test_action_names_match_case_insensitively_with_globs():
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "STS:Assume*"}]}
    assert is_allowed(policy, Request("Federated", PROVIDER, "sts:AssumeRoleWithWebIdentity"))


def test_deny_wins_over_allow():
    allow = web_identity_policy({"StringLike": {f"{HOST}:sub": "*"}})
    deny = web_identity_policy({"StringLike": {f"{HOST}:sub": "repo:o/bad:*"}}, effect="Deny")
    policy = {"Version": "2012-10-17", "Statement": allow["Statement"] + deny["Statement"]}
    assert allows_web_identity(policy, claims(sub="repo:o/good:x"))
    assert not allows_web_identity(policy, claims(sub="repo:o/bad:x"))


def test_no_statement_means_implicit_deny():
    assert not allows_web_identity({"Version": "2012-10-17", "Statement": []}, claims())


def test_service_principal_with_request_tags():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "argocd"}},
            }
        ]
    }
    tags = {"aws:RequestTag/kubernetes-namespace": "argocd"}
    assert allows_service(policy, "pods.eks.amazonaws.com", "sts:AssumeRole", tags)
    assert allows_service(policy, "pods.eks.amazonaws.com", "sts:TagSession", tags)
    assert not allows_service(policy, "ec2.amazonaws.com", "sts:AssumeRole", tags)
    assert not allows_service(policy, "pods.eks.amazonaws.com", "sts:AssumeRole", {})


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"ForAnyValue:StringLike": {"k": "*"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"StringLikeIfExists": {"k": "*"}}},
        {"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "*"},
        {"Effect": "Allow", "Principal": "*", "NotAction": "sts:TagSession"},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"StringLike": {"k": "${aws:username}"}}},
    ],
)
def test_unmodelled_elements_are_refused_not_ignored(statement):
    with pytest.raises(Unsupported):
        is_allowed({"Statement": [statement]}, Request("Federated", PROVIDER, "sts:AssumeRole", {"k": "v"}))
