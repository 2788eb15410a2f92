# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ArgoCD Image Updater's role: what ``image_updater_role`` accepts, and the role it builds
(trust for one Pod Identity service account, read on the listed repositories)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    PLACEHOLDER_ACCOUNT,
    TRUST_POLICY_DEFAULT_MAX,
    ecr_read_policy,
    ecr_read_policy_by_tag,
    partition_of,
    pod_identity_trust_policy,
    repository_arn,
    role_document_problems,
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
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    ACCOUNT_ID_RE,
    check_tags,
    membership_tag,
)

NEW_ROLE_DESCRIPTION = "ArgoCD Image Updater: read ECR (cloudops.ecr)"


@dataclass(frozen=True)
class ImageUpdaterRequest:
    """What ``image_updater_role`` was asked, validated: the repositories it reads (by name, or by tag)."""

    repositories: tuple[str, ...]
    repository_tag: tuple[str, str] | None
    tags: dict[str, str] | None


def image_updater_request(params: Mapping) -> ImageUpdaterRequest:
    """``image_updater_role``'s parameters, every field checked at once (raise InvalidInput), the
    read policy sized before any AWS call when the region is known."""
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
    registry_account = params.get("registry_account_id")
    if registry_account is not None and not ACCOUNT_ID_RE.fullmatch(str(registry_account)):
        problems.add("registry_account_id", f"{registry_account!r} must be a 12-digit AWS account id")
    repository_tag = (
        membership_tag(params.get("repository_tag"), problems, "repository_tag")
        if params.get("repository_tag")
        else None
    )
    repositories = []
    if present and repository_tag is None:
        repositories = checked(validate_repository_names, params.get("repositories")) or []
    tags = check_tags(params["tags"], "tags", problems) if params.get("tags") is not None else None
    problems.raise_if_any()
    request = ImageUpdaterRequest(tuple(repositories), repository_tag, tags)
    if present and params.get("region") and repository_tag is None:
        partition = partition_of(params["region"])
        policy = read_policy(request, partition, params["region"], PLACEHOLDER_ACCOUNT)
        trust = pod_identity_trust_policy(
            PLACEHOLDER_ACCOUNT, params["cluster_name"], params["namespace"], params["service_account"]
        )
        fix = (
            f"{len(repositories)} repository ARNs do not fit: give repository_tag, so the policy reads every "
            "repository carrying that tag in one statement of constant size"
        )
        for problem in role_document_problems(
            params["name"], trust, policy, TRUST_POLICY_DEFAULT_MAX, "repositories", fix
        ):
            problems.add(problem.path, problem.message)
        problems.raise_if_any()
    return request


def read_policy(request: ImageUpdaterRequest, partition: str, region: str, account_id: str) -> dict:
    """The read policy: on the repositories carrying the tag, or on the listed repositories' ARNs."""
    if request.repository_tag is not None:
        return ecr_read_policy_by_tag(partition, region, account_id, request.repository_tag)
    arns = [repository_arn(partition, region, account_id, name) for name in request.repositories]
    return ecr_read_policy(arns, "repositories")


def image_updater_role_spec(
    params: Mapping, request: ImageUpdaterRequest, account_id: str, partition: str, region: str
) -> RoleSpec:
    """The role: trust for this service account of this cluster (in this account), read on the registry's
    repositories (in the registry's account and region, this account's and region's unless named)."""
    registry_account = params.get("registry_account_id") or account_id
    registry_region = params.get("registry_region") or region
    return RoleSpec(
        name=params["name"],
        path=params["path"],
        trust_policy=pod_identity_trust_policy(
            account_id, params["cluster_name"], params["namespace"], params["service_account"]
        ),
        policy_name=params["policy_name"],
        policy=read_policy(request, partition, registry_region, registry_account),
        max_session_duration=params["max_session_duration"],
        description=params["description"],
        new_role_description=NEW_ROLE_DESCRIPTION,
        tags=request.tags,
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
