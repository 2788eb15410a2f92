# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR push/read policies, the Pod Identity trust, and IAM role name/path/session rules."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.ecr_actions import (
    ECR_PUSH_ACTIONS,
    ECR_READ_ACTIONS,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    document_size,
    ecr_push_policy,
    ecr_read_policy,
    partition_of,
    pod_identity_trust_policy,
    repository_arn,
    role_arn,
    role_document_problems,
    validate_max_session_duration,
    validate_pod_identity_target,
    validate_policy_arn,
    validate_role_arn,
    validate_role_description,
    validate_role_name,
    validate_role_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import allows_service

APP = repository_arn("aws", "eu-west-1", "123456789012", "example-org/app")
API = repository_arn("aws", "eu-west-1", "123456789012", "example-org/api")
POD_TAGS = {
    "aws:SourceAccount": "123456789012",
    "aws:RequestTag/eks-cluster-name": "dev",
    "aws:RequestTag/kubernetes-namespace": "argocd",
    "aws:RequestTag/kubernetes-service-account": "argocd-image-updater",
}


def test_repository_arn_names_partition_region_account_and_repository():
    assert APP == "arn:aws:ecr:eu-west-1:123456789012:repository/example-org/app"


# --- ECR push and read policies ----------------------------------------------------------------


def test_push_policy_grants_authorization_token_on_star_and_push_on_the_listed_arns_only():
    """What the generated workflow does and nothing more: AWS's push minimum, plus GetDownloadUrlForLayer
    for reading the registry build cache (amazon-ecr-login's push and pull set)."""
    assert ecr_push_policy([APP, API]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "GetAuthorizationToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PushListedRepositories",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                "Resource": [API, APP],
            },
        ],
    }


def test_read_policy_grants_pull_and_list_on_the_listed_arns_only():
    policy = ecr_read_policy([APP])
    token, read = policy["Statement"]
    assert token == {
        "Sid": "GetAuthorizationToken",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }
    assert read["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
        "ecr:ListImages",
    ]
    assert read["Resource"] == [APP]


@pytest.mark.parametrize("actions", [ECR_PUSH_ACTIONS, ECR_READ_ACTIONS])
def test_policies_name_only_ecr_actions_without_wildcards(actions):
    assert all(a.startswith("ecr:") and "*" not in a for a in actions)


def test_push_policy_never_lets_push_actions_reach_star():
    for statement in ecr_push_policy([APP])["Statement"]:
        if statement["Resource"] == "*":
            assert statement["Action"] == "ecr:GetAuthorizationToken"


def test_policies_are_the_same_whatever_the_input_order():
    assert ecr_push_policy([APP, API]) == ecr_push_policy([API, APP])
    assert ecr_read_policy([APP, API]) == ecr_read_policy([API, APP])


@pytest.mark.parametrize("build", [ecr_push_policy, ecr_read_policy])
def test_empty_repository_list_is_refused(build):
    with pytest.raises(InvalidInput, match=r"^repository_arns: \[\] must be a non-empty list of ECR repository ARNs"):
        build([])


@pytest.mark.parametrize(
    "arn",
    [
        "*",
        "arn:aws:ecr:eu-west-1:123456789012:repository/*",
        "arn:aws:ecr:eu-west-1:123456789012:repository/team/*",
        "arn:aws:ecr:*:123456789012:repository/app",
        "arn:aws:ecr:eu-west-1:*:repository/app",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:role/app",
        "arn:aws:ecr:eu-west-1:123456789012:registry/app",
        "arn:aws:ecr:eu-west-1:123456789012:repository/App",
        "arn:aws:ecr:eu-west-1:12345678901:repository/app",
        "arn:aws:ecr:eu-west-1:123456789012:repository/" + "a" * 257,
        "example-org/app",
        None,
    ],
)
@pytest.mark.parametrize("build", [ecr_push_policy, ecr_read_policy])
def test_anything_but_an_ecr_repository_arn_is_refused_naming_the_value(build, arn):
    with pytest.raises(InvalidInput) as excinfo:
        build([APP, arn])
    (problem,) = excinfo.value.problems
    assert problem.path == "repository_arns[1]"
    assert problem.message.startswith(f"{arn!r} must be an ECR repository ARN")


def test_repository_arn_listed_twice_is_refused():
    with pytest.raises(InvalidInput, match=r"repositories\[1\]: .* is listed twice \(see repositories\[0\]\)"):
        ecr_push_policy([APP, APP], path="repositories")


def test_arns_in_other_partitions_are_accepted():
    arn = repository_arn("aws-cn", "cn-north-1", "123456789012", "app")
    assert ecr_read_policy([arn])["Statement"][1]["Resource"] == [arn]


# --- Pod Identity trust ------------------------------------------------------------------------


def test_pod_identity_trust_is_narrowed_to_account_cluster_namespace_and_service_account():
    assert pod_identity_trust_policy("123456789012", "dev") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": POD_TAGS},
            }
        ],
    }


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:TagSession"])
def test_pod_identity_of_the_image_updater_is_admitted(action):
    policy = pod_identity_trust_policy("123456789012", "dev")
    assert allows_service(policy, "pods.eks.amazonaws.com", action, POD_TAGS)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws:SourceAccount", "999999999999"),
        ("aws:RequestTag/eks-cluster-name", "pro"),
        ("aws:RequestTag/kubernetes-namespace", "default"),
        ("aws:RequestTag/kubernetes-service-account", "argocd-server"),
        ("aws:RequestTag/kubernetes-service-account", None),
    ],
)
def test_another_account_cluster_namespace_or_service_account_is_kept_out(key, value):
    policy = pod_identity_trust_policy("123456789012", "dev")
    context = {**POD_TAGS, key: value}
    if value is None:
        del context[key]
    assert not allows_service(policy, "pods.eks.amazonaws.com", "sts:AssumeRole", context)


def test_other_service_or_action_is_kept_out():
    policy = pod_identity_trust_policy("123456789012", "dev")
    assert not allows_service(policy, "ec2.amazonaws.com", "sts:AssumeRole", POD_TAGS)
    assert not allows_service(policy, "pods.eks.amazonaws.com", "sts:AssumeRoleWithWebIdentity", POD_TAGS)


def test_pod_identity_namespace_and_service_account_can_be_chosen():
    policy = pod_identity_trust_policy("123456789012", "pro-cluster", "tools", "image-updater")
    condition = policy["Statement"][0]["Condition"]["StringEquals"]
    assert condition["aws:RequestTag/kubernetes-namespace"] == "tools"
    assert condition["aws:RequestTag/kubernetes-service-account"] == "image-updater"
    assert condition["aws:RequestTag/eks-cluster-name"] == "pro-cluster"


def test_pod_identity_refuses_every_bad_field_at_once():
    with pytest.raises(InvalidInput) as excinfo:
        pod_identity_trust_policy("1234", "*", "Argo CD", "*")
    assert [str(p).split(":", maxsplit=1)[0] for p in excinfo.value.problems] == [
        "account_id",
        "cluster_name",
        "namespace",
        "service_account",
    ]
    assert "'1234' must be a 12-digit AWS account id" in str(excinfo.value)
    assert "'*' must be an EKS cluster name" in str(excinfo.value)
    assert "'Argo CD' must be a Kubernetes namespace" in str(excinfo.value)


# --- role name, path, session duration ---------------------------------------------------------


@pytest.mark.parametrize("name", ["github-actions", "a", "x" * 64, "ci+push=,.@_-Role1"])
def test_valid_role_names_are_returned(name):
    assert validate_role_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "has space", "slash/name", "star*", "é", None])
def test_invalid_role_name_is_refused_naming_the_value(name):
    with pytest.raises(InvalidInput) as excinfo:
        validate_role_name(name, "roles[0].name")
    assert (
        str(excinfo.value) == f"roles[0].name: {name!r} must be an IAM role name: 1-64 of letters, digits and +=,.@_-"
    )


@pytest.mark.parametrize("value", ["/", "/ci/", "/platform/ci/", "/" + "a" * 510 + "/"])
def test_valid_role_paths_are_returned(value):
    assert validate_role_path(value) == value


@pytest.mark.parametrize("value", ["", "ci", "/ci", "ci/", "/c i/", "/" + "a" * 511 + "/", None])
def test_invalid_role_path_is_refused_naming_the_value(value):
    with pytest.raises(InvalidInput, match=r"^path: .* must be '/' or start and end with '/'"):
        validate_role_path(value)


@pytest.mark.parametrize("seconds", [3600, 7200, 43200])
def test_session_durations_from_one_to_twelve_hours_are_accepted(seconds):
    assert validate_max_session_duration(seconds) == seconds


@pytest.mark.parametrize("seconds", [3599, 43201, 0, -1, True, "3600", 3600.5, None])
def test_session_duration_outside_one_to_twelve_hours_is_refused(seconds):
    with pytest.raises(InvalidInput) as excinfo:
        validate_max_session_duration(seconds)
    assert str(excinfo.value) == f"max_session_duration: {seconds!r} must be whole seconds from 3600 to 43200"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:policy/ci-boundary",
        "arn:aws:iam::123456789012:policy/platform/ci-boundary",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws-us-gov:iam::123456789012:policy/b",
    ],
)
def test_managed_policy_arns_are_accepted_as_boundary(arn):
    assert validate_policy_arn(arn) == arn


@pytest.mark.parametrize("arn", ["ci-boundary", "arn:aws:iam::123456789012:role/x", "arn:aws:iam::*:policy/x", None])
def test_anything_but_a_managed_policy_arn_is_refused_as_boundary(arn):
    with pytest.raises(InvalidInput, match=r"^permissions_boundary: .* must be a managed policy ARN"):
        validate_policy_arn(arn)


@pytest.mark.parametrize(
    "arn", ["arn:aws:iam::123456789012:role/argocd-image-updater", "arn:aws:iam::123456789012:role/eks/updater"]
)
def test_role_arns_are_accepted(arn):
    assert validate_role_arn(arn) == arn


@pytest.mark.parametrize("arn", ["updater", "arn:aws:iam::123456789012:user/x", "arn:aws:iam::123456789012:role/*"])
def test_anything_but_a_role_arn_is_refused(arn):
    with pytest.raises(InvalidInput, match=r"^role_arn: .* must be an IAM role ARN"):
        validate_role_arn(arn)


def test_role_arn_joins_partition_account_path_and_name():
    assert role_arn("aws", "123456789012", "updater") == "arn:aws:iam::123456789012:role/updater"
    assert role_arn("aws", "123456789012", "updater", "/eks/") == "arn:aws:iam::123456789012:role/eks/updater"


def test_role_description_up_to_1000_printable_characters_is_accepted():
    assert validate_role_description("Push to ECR\n(cloudops.ecr) é" + "x" * 972)


@pytest.mark.parametrize("text", ["x" * 1001, "bell\x07", "emoji \U0001f600", None])
def test_role_description_too_long_or_unprintable_is_refused(text):
    with pytest.raises(InvalidInput, match=r"^description: .* must be at most 1000 printable Latin-1 characters"):
        validate_role_description(text)


def test_document_size_counts_characters_without_whitespace():
    assert document_size({"Version": "2012-10-17", "Statement": []}) == len('{"Version":"2012-10-17","Statement":[]}')


def test_pod_identity_target_errors_are_placed_under_the_given_path():
    with pytest.raises(InvalidInput) as excinfo:
        validate_pod_identity_target("dev", "argocd", "Bad_SA", path="image_updater")
    assert [p.path for p in excinfo.value.problems] == ["image_updater.service_account"]


def test_small_role_documents_pass_the_size_checks():
    trust = pod_identity_trust_policy("123456789012", "dev")
    assert role_document_problems("r", trust, ecr_push_policy([APP]), 2048, "x", "fix") == []


def test_a_trust_policy_over_the_accounts_quota_is_refused_saying_it_can_be_raised():
    big_trust = {"Version": "2012-10-17", "Statement": [{"Sid": "x" * 2100}]}
    (problem,) = role_document_problems("ci", big_trust, ecr_push_policy([APP]), 2048, "github_repos", "use fewer")
    assert problem.path == "github_repos"
    size = document_size(big_trust)
    assert (
        f"the trust policy of role 'ci' would be {size} characters, over the 2048 the account allows" in problem.message
    )
    assert "can be raised to 4096 in Service Quotas" in problem.message and problem.message.endswith("use fewer")
    assert role_document_problems("ci", big_trust, ecr_push_policy([APP]), 4096, "github_repos", "use fewer") == []


def test_permissions_over_the_inline_policy_limit_are_refused():
    arns = [repository_arn("aws", "eu-west-1", "123456789012", f"team/service-{i:03d}") for i in range(200)]
    trust = pod_identity_trust_policy("123456789012", "dev")
    (problem,) = role_document_problems("ci", trust, ecr_push_policy(arns), 4096, "repositories", "fix")
    assert "the inline policy of role 'ci' would be" in problem.message
    assert "over the 10240 IAM allows for a role's inline policies" in problem.message


def test_sizes_count_no_whitespace_and_non_ascii_as_one_character_each():
    assert document_size({"Sid": "a b  c", "x": "é"}) == len('{"Sid":"abc","x":"é"}')


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("us-isob-east-1", "aws-iso-b")],
)
def test_the_partition_of_a_region_is_known_before_any_call(region, partition):
    assert partition_of(region) == partition
