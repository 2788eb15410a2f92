# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ArgoCD Image Updater's role: what ``image_updater_role`` accepts, and the role it builds
(trust for one Pod Identity service account, read on the listed repositories)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    ecr_read_policy,
    pod_identity_trust_policy,
    repository_arn,
    validate_max_session_duration,
    validate_pod_identity_target,
    validate_policy_name,
    validate_repository_names,
    validate_role_description,
    validate_role_name,
    validate_role_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_role import RoleSpec
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.pod_identity import AssociationRequest
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import Problems
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import check_tags

NEW_ROLE_DESCRIPTION = "ArgoCD Image Updater: read ECR (cloudops.ecr)"


def image_updater_request(params: dict) -> tuple[list[str], dict | None]:
    """``image_updater_role``'s parameters, every field checked at once (raise InvalidInput): the
    repository names (sorted) and the tags as AWS holds them."""
    problems = Problems()
    present = params.get("state", "present") == "present"

    checked = problems.checked

    checked(validate_role_name, params.get("name"))
    checked(validate_role_path, params.get("path", "/"))
    if params.get("description") is not None:
        checked(validate_role_description, params["description"])
    checked(validate_max_session_duration, params.get("max_session_duration", 3600))
    checked(validate_policy_name, params.get("policy_name", "ecr-read"))
    if present or params.get("association", True):
        checked(
            validate_pod_identity_target,
            params.get("cluster_name"),
            params.get("namespace"),
            params.get("service_account"),
        )
    repositories = checked(validate_repository_names, params.get("repositories")) if present else []
    tags = check_tags(params["tags"], "tags", problems) if params.get("tags") is not None else None
    problems.raise_if_any()
    return repositories, tags


def image_updater_role_spec(
    params: Mapping, repositories: Sequence[str], tags: dict | None, account_id: str, partition: str, region: str
) -> RoleSpec:
    """The role: trust for this service account of this cluster, read on these repositories."""
    arns = [repository_arn(partition, region, account_id, name) for name in repositories]
    return RoleSpec(
        name=params["name"],
        path=params["path"],
        trust_policy=pod_identity_trust_policy(
            account_id, params["cluster_name"], params["namespace"], params["service_account"]
        ),
        policy_name=params["policy_name"],
        policy=ecr_read_policy(arns, "repositories"),
        max_session_duration=params["max_session_duration"],
        description=params["description"],
        new_role_description=NEW_ROLE_DESCRIPTION,
        tags=tags,
        purge_tags=params["purge_tags"],
    )


def association_request(params: Mapping, role_arn: str, tags: dict | None) -> AssociationRequest:
    """The Pod Identity association giving the role to the module's service account."""
    return AssociationRequest(
        cluster_name=params["cluster_name"],
        namespace=params["namespace"],
        service_account=params["service_account"],
        role_arn=role_arn,
        tags=tags,
        purge_tags=params["purge_tags"],
    )
