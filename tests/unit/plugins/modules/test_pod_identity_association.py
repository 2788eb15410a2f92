# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pod_identity_association against botocore's Stubber: moto does not implement the EKS Pod
Identity API, so each test queues the exact calls (checked against the real EKS API model) and
fails on any other call - a write that is not expected is an error."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.pod_identity import (
    PodIdentityAssociation,
    plan_association,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners import (
    pod_identity_association as pod_identity_association_runner,
)
from ansible_collections.cloudops.ecr.plugins.modules import pod_identity_association

REGION = "eu-west-1"
CLUSTER = "dev-eks"
ROLE = "arn:aws:iam::123456789012:role/argocd-image-updater-dev"
OTHER_ROLE = "arn:aws:iam::123456789012:role/other"
ASSOCIATION_ID = "a-abcdefghijklmnop1"
ASSOCIATION_ARN = f"arn:aws:eks:{REGION}:123456789012:podidentityassociation/{CLUSTER}/{ASSOCIATION_ID}"
ARGS = {"cluster_name": CLUSTER, "role_arn": ROLE}
TARGET = {"clusterName": CLUSTER, "namespace": "argocd", "serviceAccount": "argocd-image-updater"}


@pytest.fixture
def eks(monkeypatch):
    """A real EKS client with a Stubber; the module gets it (with our retries) instead of a new one."""
    client = boto3.client("eks", region_name=REGION)
    monkeypatch.setattr(
        pod_identity_association_runner,
        "aws_client",
        lambda module, service, retry=RETRY: RetryingBotoClientWrapper(client, retry),
    )
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def association(role_arn=ROLE, disable_session_tags=False, tags=None, owner_arn=None):
    found = {
        **TARGET,
        "roleArn": role_arn,
        "associationArn": ASSOCIATION_ARN,
        "associationId": ASSOCIATION_ID,
        "tags": tags or {},
        "createdAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "modifiedAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "disableSessionTags": disable_session_tags,
    }
    if owner_arn:
        found["ownerArn"] = owner_arn
    return found


def summary():
    return {**TARGET, "associationArn": ASSOCIATION_ARN, "associationId": ASSOCIATION_ID}


def expect_existing(eks, **kwargs):
    eks.add_response("list_pod_identity_associations", {"associations": [summary()]}, TARGET)
    eks.add_response(
        "describe_pod_identity_association",
        {"association": association(**kwargs)},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID},
    )


def expect_none(eks):
    eks.add_response("list_pod_identity_associations", {"associations": []}, TARGET)


def test_missing_association_is_created_with_session_tags_on(eks, run_module):
    expect_none(eks)
    eks.add_response(
        "create_pod_identity_association",
        {"association": association(tags={"managed-by": "cloudops.ecr"})},
        {**TARGET, "roleArn": ROLE, "disableSessionTags": False, "tags": {"managed-by": "cloudops.ecr"}},
    )
    result = run_module(pod_identity_association, {**ARGS, "tags": {"managed-by": "cloudops.ecr"}})
    assert result["changed"] is True
    assert result["changes"] == ["created"]
    assert result["association"]["association_id"] == ASSOCIATION_ID
    assert result["association"]["role_arn"] == ROLE
    assert result["association"]["disable_session_tags"] is False


def test_matching_association_changes_nothing(eks, run_module):
    expect_existing(eks)
    result = run_module(pod_identity_association, ARGS)
    assert result["changed"] is False
    assert result["changes"] == []
    assert result["association"]["association_arn"] == ASSOCIATION_ARN


def test_association_to_another_role_is_pointed_at_the_given_role(eks, run_module):
    expect_existing(eks, role_arn=OTHER_ROLE)
    eks.add_response(
        "update_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID, "roleArn": ROLE, "disableSessionTags": False},
    )
    result = run_module(pod_identity_association, ARGS, diff=True)
    assert result["changes"] == ["role"]
    assert result["diff"]["before"]["role_arn"] == OTHER_ROLE
    assert result["diff"]["after"]["role_arn"] == ROLE


def test_disabled_session_tags_are_turned_back_on(eks, run_module):
    expect_existing(eks, disable_session_tags=True)
    eks.add_response(
        "update_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID, "roleArn": ROLE, "disableSessionTags": False},
    )
    result = run_module(pod_identity_association, ARGS)
    assert result["changes"] == ["role"]


def test_tags_are_set_and_purged(eks, run_module):
    expect_existing(eks, tags={"old": "x", "team": "a"})
    eks.add_response("tag_resource", {}, {"resourceArn": ASSOCIATION_ARN, "tags": {"team": "platform"}})
    eks.add_response("untag_resource", {}, {"resourceArn": ASSOCIATION_ARN, "tagKeys": ["old"]})
    result = run_module(pod_identity_association, {**ARGS, "tags": {"team": "platform"}})
    assert result["changes"] == ["tags"]
    assert result["association"]["tags"] == {"team": "platform"}


def test_tags_left_out_are_left_alone(eks, run_module):
    expect_existing(eks, tags={"old": "x"})
    result = run_module(pod_identity_association, ARGS)
    assert result["changed"] is False


def test_check_mode_reads_only(eks, run_module):
    expect_none(eks)
    result = run_module(pod_identity_association, ARGS, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["changes"] == ["created"]
    assert result["association"] == {}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["role_arn"] == ROLE


def test_check_mode_on_an_outdated_association_reads_only(eks, run_module):
    expect_existing(eks, role_arn=OTHER_ROLE)
    result = run_module(pod_identity_association, ARGS, check_mode=True)
    assert result["changes"] == ["role"]


def test_other_service_accounts_on_the_page_are_ignored_and_pages_are_followed(eks, run_module):
    other = {**summary(), "serviceAccount": "argocd-server", "associationId": "a-other"}
    eks.add_response("list_pod_identity_associations", {"associations": [other], "nextToken": "t1"}, TARGET)
    eks.add_response("list_pod_identity_associations", {"associations": [summary()]}, {**TARGET, "nextToken": "t1"})
    eks.add_response(
        "describe_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID},
    )
    result = run_module(pod_identity_association, ARGS)
    assert result["changed"] is False


def test_absent_deletes_the_association(eks, run_module):
    expect_existing(eks)
    eks.add_response(
        "delete_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOCIATION_ID},
    )
    result = run_module(pod_identity_association, {"cluster_name": CLUSTER, "state": "absent"})
    assert result["changes"] == ["deleted"]
    assert result["association"] == {}


def test_absent_without_association_changes_nothing(eks, run_module):
    expect_none(eks)
    result = run_module(pod_identity_association, {"cluster_name": CLUSTER, "state": "absent"})
    assert result["changed"] is False


def test_association_owned_by_an_add_on_is_refused(eks, run_module):
    expect_existing(eks, role_arn=OTHER_ROLE, owner_arn="arn:aws:eks:eu-west-1:123456789012:addon/dev-eks/x/1")
    result = run_module(pod_identity_association, ARGS)
    assert result["failed"] is True
    assert "change it through that add-on" in result["msg"]


def test_missing_cluster_is_reported(eks, run_module):
    eks.add_client_error(
        "list_pod_identity_associations",
        service_error_code="ResourceNotFoundException",
        service_message="No cluster found for name: dev-eks.",
        http_status_code=404,
        expected_params=TARGET,
    )
    result = run_module(pod_identity_association, ARGS)
    assert result["failed"] is True
    assert "No cluster found" in result["msg"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"namespace": "Argo CD"}, "namespace: 'Argo CD' must be a Kubernetes namespace"),
        ({"service_account": "-sa"}, "service_account: '-sa' must be a Kubernetes service account name"),
        ({"cluster_name": "dev eks"}, "cluster_name: 'dev eks' must be an EKS cluster name"),
        ({"role_arn": "argocd-image-updater"}, "role_arn: 'argocd-image-updater' must be an IAM role ARN"),
    ],
)
def test_invalid_input_fails_before_any_call(eks, run_module, args, expected):
    result = run_module(pod_identity_association, {**ARGS, **args})
    assert result["failed"] is True
    assert expected in result["msg"]


# --- the plan, with literals -------------------------------------------------------------------


def current(**changes):
    values = {
        "association_id": ASSOCIATION_ID,
        "association_arn": ASSOCIATION_ARN,
        "cluster_name": CLUSTER,
        "namespace": "argocd",
        "service_account": "argocd-image-updater",
        "role_arn": ROLE,
        "disable_session_tags": False,
        "owner_arn": None,
        "tags": {},
    }
    return PodIdentityAssociation(**{**values, **changes})


def test_plan_creates_a_missing_association():
    assert plan_association(None, ROLE, None, True).changes == ["created"]


def test_plan_keeps_a_matching_association():
    assert plan_association(current(), ROLE, {}, True).changes == []


def test_plan_updates_role_or_session_tags():
    assert plan_association(current(role_arn=OTHER_ROLE), ROLE, None, True).changes == ["role"]
    assert plan_association(current(disable_session_tags=True), ROLE, None, True).changes == ["role"]


def test_plan_keeps_unlisted_tags_without_purge():
    plan = plan_association(current(tags={"old": "x"}), ROLE, {"team": "a"}, False)
    assert (plan.tags_to_set, plan.tags_to_remove) == ({"team": "a"}, [])
