# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_updater_role against moto: what IAM holds after each run is the assertion. moto has no
EKS Pod Identity API, so the association tests put botocore's Stubber behind the EKS client: each
queues the exact calls (checked against the real EKS API model), any other call fails the test."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.eks import EKS_ROLE_SETTLING_RETRY
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    document_size,
    ecr_read_policy,
    pod_identity_trust_policy,
    repository_arn,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners import (
    image_updater_role as image_updater_role_runner,
)
from ansible_collections.cloudops.ecr.plugins.modules import image_updater_role
from ansible_collections.cloudops.ecr.tests.helpers.access_evaluator import Principal, Repository, may

ACCOUNT = "123456789012"
REGION = "eu-west-1"
NAME = "argocd-image-updater-dev"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{NAME}"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other"
CLUSTER = "dev-cluster"
DESCRIPTION = "ArgoCD Image Updater (dev): read ECR (cloudops.ecr)"
REPOSITORIES = ["example-org/app", "tools"]
TAGS = {"managed-by": "cloudops.ecr"}
ARGS = {
    "region": REGION,
    "name": NAME,
    "description": DESCRIPTION,
    "cluster_name": CLUSTER,
    "namespace": "argocd",
    "service_account": "argocd-image-updater",
    "repositories": REPOSITORIES,
    "association": False,
    "tags": TAGS,
}
WITH_ASSOCIATION = {**ARGS, "association": True}
ASSOCIATION_ID = "a-abcdefghijklmnop1"
ASSOCIATION_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:podidentityassociation/{CLUSTER}/{ASSOCIATION_ID}"
TARGET = {"clusterName": CLUSTER, "namespace": "argocd", "serviceAccount": "argocd-image-updater"}


def old_trust():
    return pod_identity_trust_policy(ACCOUNT, CLUSTER, "argocd", "argocd-image-updater")


def old_read_policy(repositories=tuple(REPOSITORIES)):
    return ecr_read_policy([repository_arn("aws", REGION, ACCOUNT, name) for name in repositories])


def trust_of(iam):
    return iam.get_role(RoleName=NAME)["Role"]["AssumeRolePolicyDocument"]


def read_policy_of(iam):
    return iam.get_role_policy(RoleName=NAME, PolicyName="ecr-read")["PolicyDocument"]


def roles(iam):
    return [r["RoleName"] for r in iam.list_roles()["Roles"]]


# --- the role, against moto --------------------------------------------------------------------


def test_cold_run_creates_the_role_with_the_documents_of_the_old_filters(aws, run_module):
    iam = aws("iam")
    result = run_module(image_updater_role, ARGS)
    assert result["changed"] is True
    assert (result["account_id"], result["partition"]) == (ACCOUNT, "aws")
    assert result["role_arn"] == ROLE_ARN
    assert result["role"] == {
        "name": NAME,
        "arn": ROLE_ARN,
        "path": "/",
        "changed": True,
        "changes": ["created"],
        "access_removed": {"subjects": [], "repositories": []},
    }
    assert result["association"] is None
    assert trust_of(iam) == old_trust()
    assert read_policy_of(iam) == old_read_policy()
    role = iam.get_role(RoleName=NAME)["Role"]
    assert (role["Description"], role["MaxSessionDuration"], role["Path"]) == (DESCRIPTION, 3600, "/")
    assert iam.list_role_tags(RoleName=NAME)["Tags"] == [{"Key": "managed-by", "Value": "cloudops.ecr"}]
    assert iam.list_role_policies(RoleName=NAME)["PolicyNames"] == ["ecr-read"]
    assert iam.list_attached_role_policies(RoleName=NAME)["AttachedPolicies"] == []


def test_rerun_reads_the_caller_the_role_and_its_policy_once_and_writes_nothing(aws, run_module, api_calls):
    run_module(image_updater_role, ARGS)
    api_calls.clear()
    result = run_module(image_updater_role, ARGS)
    assert result["changed"] is False
    assert result["role"]["changes"] == []
    assert result["role_arn"] == ROLE_ARN
    assert sorted(api_calls.calls) == [("iam", "GetRole"), ("iam", "GetRolePolicy"), ("sts", "GetCallerIdentity")]


def test_role_made_by_the_old_tasks_is_adopted_without_a_write(aws, run_module, api_calls):
    iam = aws("iam")
    iam.create_role(
        RoleName=NAME,
        Path="/",
        AssumeRolePolicyDocument=json.dumps(old_trust()),
        Description=DESCRIPTION,
        MaxSessionDuration=3600,
        Tags=[{"Key": "managed-by", "Value": "cloudops.ecr"}],
    )
    iam.put_role_policy(RoleName=NAME, PolicyName="ecr-read", PolicyDocument=json.dumps(old_read_policy()))
    api_calls.clear()
    result = run_module(image_updater_role, ARGS)
    assert result["changed"] is False
    assert result["role_arn"] == ROLE_ARN
    assert api_calls.writes == []


def test_changed_repositories_update_only_the_read_policy(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    api_calls.clear()
    result = run_module(image_updater_role, {**ARGS, "repositories": ["tools", "example-org/api"]}, diff=True)
    assert result["role"]["changes"] == ["permissions_policy"]
    assert api_calls.writes == ["PutRolePolicy"]
    assert read_policy_of(iam) == old_read_policy(["tools", "example-org/api"])
    (diff,) = result["diff"]
    assert diff["before"]["permissions_policy"] == old_read_policy()
    assert diff["after"]["permissions_policy"] == old_read_policy(["tools", "example-org/api"])


def test_changed_service_account_updates_only_the_trust(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    api_calls.clear()
    result = run_module(image_updater_role, {**ARGS, "service_account": "image-updater"})
    assert result["role"]["changes"] == ["trust_policy"]
    assert api_calls.writes == ["UpdateAssumeRolePolicy"]
    assert trust_of(iam) == pod_identity_trust_policy(ACCOUNT, CLUSTER, "argocd", "image-updater")


def test_check_mode_writes_nothing_and_reports_the_arn_the_role_will_have(aws, run_module, api_calls):
    iam = aws("iam")
    result = run_module(image_updater_role, {**ARGS, "path": "/argocd/"}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["role"]["changes"] == ["created"]
    assert result["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/argocd/{NAME}"
    assert api_calls.writes == []
    assert roles(iam) == []
    (diff,) = result["diff"]
    assert diff["before"] == {}
    assert diff["after"]["trust_policy"] == old_trust()
    assert diff["after"]["permissions_policy"] == old_read_policy()


def test_check_mode_on_an_existing_role_writes_nothing(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    api_calls.clear()
    result = run_module(image_updater_role, {**ARGS, "repositories": ["tools"]}, check_mode=True)
    assert result["role"]["changes"] == ["permissions_policy"]
    assert api_calls.writes == []
    assert read_policy_of(iam) == old_read_policy()


def test_tags_not_listed_are_purged(aws, run_module):
    iam = aws("iam")
    run_module(image_updater_role, {**ARGS, "tags": {**TAGS, "old": "x"}})
    result = run_module(image_updater_role, ARGS)
    assert result["role"]["changes"] == ["tags"]
    assert iam.list_role_tags(RoleName=NAME)["Tags"] == [{"Key": "managed-by", "Value": "cloudops.ecr"}]


def test_changed_path_is_refused_before_any_write(aws, run_module, api_calls):
    run_module(image_updater_role, ARGS)
    api_calls.clear()
    result = run_module(image_updater_role, {**ARGS, "path": "/argocd/"})
    assert result["failed"] is True
    assert "path: '/argocd/' differs from the path '/'" in result["msg"]
    assert api_calls.writes == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"name": "has space"}, "name: 'has space' must be an IAM role name"),
        ({"path": "argocd"}, "path: 'argocd' must be '/'"),
        ({"cluster_name": "dev cluster"}, "cluster_name: 'dev cluster' must be an EKS cluster name"),
        ({"namespace": "Argo CD"}, "namespace: 'Argo CD' must be a Kubernetes namespace"),
        ({"service_account": "-sa"}, "service_account: '-sa' must be a Kubernetes service account name"),
        ({"repositories": ["Bad_Name"]}, "repositories[0]: repository name 'Bad_Name' is not valid for ECR"),
        ({"repositories": ["tools", "tools"]}, "repositories[1]: 'tools' is listed twice (see repositories[0])"),
        ({"repositories": []}, "repositories: [] must be a non-empty list of ECR repository names"),
        ({"max_session_duration": 60}, "max_session_duration: 60 must be whole seconds from 3600 to 43200"),
        ({"policy_name": "ecr read"}, "policy_name: 'ecr read' must be an IAM policy name"),
        ({"description": "x" * 1001}, "description: 'xxxx"),
        ({"tags": {"aws:owner": "me"}}, "tags.aws:owner: tag key must be 1-128 characters, not starting 'aws:'"),
    ],
)
def test_invalid_input_fails_naming_the_field_before_any_aws_call(aws, run_module, api_calls, args, expected):
    result = run_module(image_updater_role, {**ARGS, **args})
    assert result["failed"] is True
    assert result["msg"].startswith("Invalid input, nothing was changed: ")
    assert expected in result["msg"]
    assert api_calls.calls == []


def test_every_invalid_field_is_reported_at_once(aws, run_module, api_calls):
    result = run_module(image_updater_role, {**ARGS, "name": "a b", "namespace": "A", "repositories": ["X"]})
    assert [p["path"] for p in result["problems"]] == ["name", "namespace", "repositories[0]"]
    assert api_calls.calls == []


def test_absent_deletes_the_role_with_its_policies(aws, run_module):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    result = run_module(image_updater_role, {"name": NAME, "association": False, "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["role"]["changes"] == ["deleted"]
    assert result["role_arn"] == ROLE_ARN
    assert result["diff"][0]["before"]["permissions_policy"] == old_read_policy()
    assert result["diff"][0]["after"] == {}
    assert roles(iam) == []


def test_absent_role_that_does_not_exist_changes_nothing(aws, run_module, api_calls):
    result = run_module(image_updater_role, {"name": NAME, "association": False, "state": "absent"})
    assert result["changed"] is False
    assert api_calls.writes == []


def test_absent_in_check_mode_deletes_nothing(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    api_calls.clear()
    result = run_module(image_updater_role, {"name": NAME, "association": False, "state": "absent"}, check_mode=True)
    assert result["role"]["changes"] == ["deleted"]
    assert api_calls.writes == []
    assert roles(iam) == [NAME]


# --- the association, EKS stubbed --------------------------------------------------------------


@pytest.fixture
def eks(monkeypatch):
    """A real EKS client with a Stubber behind the module's EKS client; IAM and STS stay on moto."""
    client = boto3.client("eks", region_name=REGION)
    real_aws_client = image_updater_role_runner.aws_client

    def aws_client(module, service, retry=RETRY):
        if service == "eks":
            return RetryingBotoClientWrapper(client, retry)
        return real_aws_client(module, service, retry)

    monkeypatch.setattr(image_updater_role_runner, "aws_client", aws_client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def association(role_arn=ROLE_ARN, tags=None, owner_arn=None):
    found = {
        **TARGET,
        "roleArn": role_arn,
        "associationArn": ASSOCIATION_ARN,
        "associationId": ASSOCIATION_ID,
        "tags": TAGS if tags is None else tags,
        "createdAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "modifiedAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "disableSessionTags": False,
    }
    if owner_arn:
        found["ownerArn"] = owner_arn
    return found


def expect_none(eks):
    eks.add_response("list_pod_identity_associations", {"associations": []}, TARGET)


def expect_existing(eks, **kwargs):
    summary = {**TARGET, "associationArn": ASSOCIATION_ARN, "associationId": ASSOCIATION_ID}
    eks.add_response("list_pod_identity_associations", {"associations": [summary]}, TARGET)
    eks.add_response(
        "describe_pod_identity_association",
        {"association": association(**kwargs)},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID},
    )


CREATE = {**TARGET, "roleArn": ROLE_ARN, "disableSessionTags": False, "tags": TAGS}
UPDATE = {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID, "roleArn": ROLE_ARN, "disableSessionTags": False}


def test_missing_association_is_created_for_the_new_role(aws, eks, run_module):
    iam = aws("iam")
    expect_none(eks)
    eks.add_response("create_pod_identity_association", {"association": association()}, CREATE)
    result = run_module(image_updater_role, WITH_ASSOCIATION)
    assert result["changed"] is True
    assert result["role"]["changes"] == ["created"]
    assert result["association"]["association_id"] == ASSOCIATION_ID
    assert result["association"]["role_arn"] == ROLE_ARN
    assert trust_of(iam) == old_trust()


def test_matching_association_and_role_change_nothing(aws, eks, run_module, api_calls):
    run_module(image_updater_role, ARGS)
    expect_existing(eks)
    api_calls.clear()
    result = run_module(image_updater_role, WITH_ASSOCIATION)
    assert result["changed"] is False
    assert result["association"]["association_arn"] == ASSOCIATION_ARN
    assert api_calls.writes == []
    assert sorted(op for _service, op in api_calls.calls) == [
        "DescribePodIdentityAssociation",
        "GetCallerIdentity",
        "GetRole",
        "GetRolePolicy",
        "ListPodIdentityAssociations",
    ]


def test_association_to_another_role_is_pointed_at_this_role(aws, eks, run_module):
    run_module(image_updater_role, ARGS)
    expect_existing(eks, role_arn=OTHER_ROLE)
    eks.add_response("update_pod_identity_association", {"association": association()}, UPDATE)
    result = run_module(image_updater_role, WITH_ASSOCIATION, diff=True)
    assert result["changed"] is True
    assert result["role"]["changes"] == []
    assert result["association"]["role_arn"] == ROLE_ARN
    (diff,) = result["diff"]
    assert (diff["before"]["role_arn"], diff["after"]["role_arn"]) == (OTHER_ROLE, ROLE_ARN)


def role_not_visible_to_eks_yet(eks):
    """EKS's answer to an association naming a role IAM has not propagated yet."""
    eks.add_client_error(
        "create_pod_identity_association",
        service_error_code="InvalidParameterException",
        service_message="Role provided in the request does not exist",
        http_status_code=400,
        expected_params=CREATE,
    )


def test_association_for_a_role_iam_has_not_propagated_yet_is_retried(aws, eks, run_module, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    expect_none(eks)
    role_not_visible_to_eks_yet(eks)
    eks.add_response("create_pod_identity_association", {"association": association()}, CREATE)
    result = run_module(image_updater_role, WITH_ASSOCIATION)
    assert result["changed"] is True
    assert result["association"]["association_id"] == ASSOCIATION_ID


def test_missing_role_is_not_retried_for_a_role_this_run_did_not_create(aws, eks, run_module, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail("retried a missing role nobody created"))
    run_module(image_updater_role, ARGS)
    expect_none(eks)
    role_not_visible_to_eks_yet(eks)
    result = run_module(image_updater_role, WITH_ASSOCIATION)
    assert result["failed"] is True
    assert "Failed to create the Pod Identity association dev-cluster/argocd/argocd-image-updater" in result["msg"]


def test_other_invalid_parameters_are_not_retried_even_for_a_new_role(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail("retried a request EKS refused for good"))
    calls = []

    @EKS_ROLE_SETTLING_RETRY
    def create():
        calls.append(1)
        raise ClientError(
            {"Error": {"Code": "InvalidParameterException", "Message": "Service account name is invalid"}},
            "CreatePodIdentityAssociation",
        )

    with pytest.raises(ClientError):
        create()
    assert len(calls) == 1


def test_check_mode_with_association_reads_only(aws, eks, run_module, api_calls):
    iam = aws("iam")
    expect_none(eks)
    result = run_module(image_updater_role, WITH_ASSOCIATION, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["role_arn"] == ROLE_ARN
    assert result["association"] == {}
    assert api_calls.writes == []
    assert roles(iam) == []
    role_diff, association_diff = result["diff"]
    assert role_diff["before"] == {}
    assert association_diff["before"] == {}
    assert association_diff["after"]["role_arn"] == ROLE_ARN


def test_association_owned_by_an_add_on_is_refused_before_the_role_is_written(aws, eks, run_module, api_calls):
    iam = aws("iam")
    expect_existing(eks, role_arn=OTHER_ROLE, owner_arn=f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/{CLUSTER}/x/1")
    result = run_module(image_updater_role, WITH_ASSOCIATION)
    assert result["failed"] is True
    assert "change it through that add-on" in result["msg"]
    assert api_calls.writes == []
    assert roles(iam) == []


def test_absent_deletes_the_association_then_the_role(aws, eks, run_module, api_calls):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    expect_existing(eks)
    eks.add_response(
        "delete_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID},
    )
    api_calls.clear()
    result = run_module(image_updater_role, {"name": NAME, "cluster_name": CLUSTER, "state": "absent"})
    assert result["changed"] is True
    assert result["association"] == {}
    assert api_calls.writes[0] == "DeletePodIdentityAssociation"
    assert api_calls.writes[-1] == "DeleteRole"
    assert roles(iam) == []


def test_absent_leaves_an_association_to_another_role_alone(aws, eks, run_module):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    expect_existing(eks, role_arn=OTHER_ROLE)
    result = run_module(image_updater_role, {"name": NAME, "cluster_name": CLUSTER, "state": "absent"})
    assert result["role"]["changes"] == ["deleted"]
    assert result["association"]["role_arn"] == OTHER_ROLE
    assert "left alone" in str(result["warnings"])
    assert roles(iam) == []


def test_a_repository_left_out_of_the_list_is_reported_as_losing_read_access(aws, run_module):
    iam = aws("iam")
    run_module(image_updater_role, ARGS)
    result = run_module(image_updater_role, {**ARGS, "repositories": REPOSITORIES[:1]}, diff=True)
    assert result["role"]["access_removed"] == {"subjects": [], "repositories": REPOSITORIES[1:]}
    assert f"{REPOSITORIES[1]} lose read access through role {NAME}" in result["diff"][0]["prepared"]
    assert read_policy_of(iam) == old_read_policy(REPOSITORIES[:1])


# --- many repositories: the read policy by tag -----------------------------------------------------

REGISTRY_TAG = {"key": "cloudops.ecr/registry", "value": "main"}


def test_by_tag_the_read_policy_has_one_size_and_reads_exactly_the_tagged_repositories(aws, run_module):
    iam = aws("iam")
    args = {k: v for k, v in ARGS.items() if k != "repositories"}
    result = run_module(image_updater_role, {**args, "repository_tag": REGISTRY_TAG})
    assert result["changed"] is True
    policy = read_policy_of(iam)
    assert document_size(policy) < 1000
    reader = Principal(ROLE_ARN, [policy])
    tagged = Repository(f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/example-org/app", {"cloudops.ecr/registry": "main"})
    for action in ("ecr:ListImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
        assert may(reader, action, tagged)
    for other in (
        Repository(tagged.arn, {"cloudops.ecr/registry": "other"}),
        Repository(tagged.arn, {}),
        Repository(f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/example-org/app", tagged.tags),
    ):
        assert not may(reader, "ecr:BatchGetImage", other)
    assert not may(reader, "ecr:PutImage", tagged)
    assert run_module(image_updater_role, {**args, "repository_tag": REGISTRY_TAG})["changed"] is False


def test_more_repository_arns_than_an_inline_policy_holds_are_refused_before_any_call(run_module, api_calls):
    names = [f"example-org/service-{i:03d}" for i in range(200)]
    result = run_module(image_updater_role, {**ARGS, "repositories": names})
    assert result["failed"] is True
    assert "over the 10240 IAM allows for a role's inline policies" in result["msg"]
    assert "give repository_tag" in result["msg"]
    assert api_calls.calls == []
