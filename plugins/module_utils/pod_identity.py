# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS Pod Identity associations: what EKS holds for one service account, the plan to make it
what we want, the calls that do it, and the converging that ``pod_identity_association`` and
``image_updater_role`` share. Every call retries (AWSRetry); nothing is written before the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.cloudops.ecr.plugins.module_utils.aws_access import (
    RETRY_ATTEMPTS,
    RETRY_BACKOFF,
    RETRY_DELAY,
    RETRY_MAX_DELAY,
    RETRYABLE_CODES,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.validation import InvalidInput, Problem

# EKS checks the role exists; one IAM created a moment ago may not be visible to it yet.
ROLE_NOT_VISIBLE_MESSAGE = "Role provided in the request does not exist"
ROLE_NOT_VISIBLE = "RoleNotVisibleYet"


class _RoleSettlingRetry(AWSRetry):
    """AWSRetry that also retries EKS's InvalidParameterException for a role it cannot see yet."""

    @staticmethod
    def status_code_from_exception(error):
        code = AWSRetry.status_code_from_exception(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code == "InvalidParameterException" and ROLE_NOT_VISIBLE_MESSAGE in message:
            return ROLE_NOT_VISIBLE
        return code


# Used only for writes naming a role this run created: elsewhere a missing role is a real error.
EKS_ROLE_SETTLING_RETRY = _RoleSettlingRetry.jittered_backoff(
    retries=RETRY_ATTEMPTS,
    delay=RETRY_DELAY,
    backoff=RETRY_BACKOFF,
    max_delay=RETRY_MAX_DELAY,
    catch_extra_error_codes=(*RETRYABLE_CODES, ROLE_NOT_VISIBLE),
)


@dataclass(frozen=True)
class PodIdentityAssociation:
    association_id: str
    association_arn: str
    cluster_name: str
    namespace: str
    service_account: str
    role_arn: str
    disable_session_tags: bool
    owner_arn: str | None
    tags: dict[str, str]


@dataclass(frozen=True)
class AssociationRequest:
    """The association we want: this service account of this cluster gets ``role_arn``.
    ``tags=None`` leaves the association's tags alone."""

    cluster_name: str
    namespace: str
    service_account: str
    role_arn: str
    tags: dict[str, str] | None = None
    purge_tags: bool = True


@dataclass
class AssociationPlan:
    create: bool = False
    update: bool = False
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_remove: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[str]:
        if self.create:
            return ["created"]
        return [n for n, needed in (("role", self.update), ("tags", self.tags_to_set or self.tags_to_remove)) if needed]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def plan_association(
    current: PodIdentityAssociation | None, role_arn: str, tags: dict | None, purge_tags: bool
) -> AssociationPlan:
    """Session tags must stay on: the role's trust policy matches on them."""
    if current is None:
        return AssociationPlan(create=True)
    if current.owner_arn:
        raise InvalidInput(
            [
                Problem(
                    "service_account",
                    f"{current.service_account!r} in {current.namespace!r} is associated by {current.owner_arn}; "
                    "change it through that add-on",
                )
            ]
        )
    plan = AssociationPlan(update=current.role_arn != role_arn or current.disable_session_tags)
    if tags is not None:
        plan.tags_to_set, plan.tags_to_remove = compare_aws_tags(current.tags, tags, purge_tags)
    return plan


def association_view(association: PodIdentityAssociation | None) -> dict:
    """An association as modules return it and diff mode shows it (``{}`` when there is none)."""
    if association is None:
        return {}
    return {
        "association_id": association.association_id,
        "association_arn": association.association_arn,
        "cluster_name": association.cluster_name,
        "namespace": association.namespace,
        "service_account": association.service_account,
        "role_arn": association.role_arn,
        "disable_session_tags": association.disable_session_tags,
        "tags": association.tags,
    }


def planned_association(
    current: PodIdentityAssociation | None, request: AssociationRequest
) -> tuple[AssociationPlan, dict]:
    """The plan and the association as it will be (ids unknown until EKS creates it); refuses an add-on's."""
    plan = plan_association(current, request.role_arn, request.tags, request.purge_tags)
    after = association_view(current) or {
        "cluster_name": request.cluster_name,
        "namespace": request.namespace,
        "service_account": request.service_account,
        "tags": dict(request.tags or {}),
    }
    tags = {k: v for k, v in {**after["tags"], **plan.tags_to_set}.items() if k not in plan.tags_to_remove}
    return plan, {**after, "role_arn": request.role_arn, "disable_session_tags": False, "tags": tags}


class PodIdentityAssociations:
    """The Pod Identity associations of EKS clusters, through a retrying EKS client."""

    def __init__(self, client):
        self.client = client

    def _write(self, operation: str, role_is_new: bool, **kwargs):
        call = getattr(self.client, operation)
        if role_is_new:
            return EKS_ROLE_SETTLING_RETRY(call)(**kwargs)
        return call(aws_retry=True, **kwargs)

    def find(self, cluster_name: str, namespace: str, service_account: str) -> PodIdentityAssociation | None:
        """The association of one service account (EKS allows one per service account)."""
        kwargs = {"clusterName": cluster_name, "namespace": namespace, "serviceAccount": service_account}
        while True:
            page = self.client.list_pod_identity_associations(aws_retry=True, **kwargs)
            for summary in page.get("associations", []):
                if summary["namespace"] == namespace and summary["serviceAccount"] == service_account:
                    return self.describe(cluster_name, summary["associationId"])
            if not page.get("nextToken"):
                return None
            kwargs["nextToken"] = page["nextToken"]

    def describe(self, cluster_name: str, association_id: str) -> PodIdentityAssociation:
        found = self.client.describe_pod_identity_association(
            aws_retry=True, clusterName=cluster_name, associationId=association_id
        )
        return _association(found["association"])

    def create(self, request: AssociationRequest, role_is_new: bool = False) -> PodIdentityAssociation:
        kwargs = {
            "clusterName": request.cluster_name,
            "namespace": request.namespace,
            "serviceAccount": request.service_account,
            "roleArn": request.role_arn,
            "disableSessionTags": False,
        }
        if request.tags:
            kwargs["tags"] = request.tags
        return _association(self._write("create_pod_identity_association", role_is_new, **kwargs)["association"])

    def update(
        self, current: PodIdentityAssociation, role_arn: str, plan: AssociationPlan, role_is_new: bool = False
    ) -> None:
        if plan.update:
            self._write(
                "update_pod_identity_association",
                role_is_new,
                clusterName=current.cluster_name,
                associationId=current.association_id,
                roleArn=role_arn,
                disableSessionTags=False,
            )
        if plan.tags_to_set:
            self.client.tag_resource(aws_retry=True, resourceArn=current.association_arn, tags=plan.tags_to_set)
        if plan.tags_to_remove:
            self.client.untag_resource(aws_retry=True, resourceArn=current.association_arn, tagKeys=plan.tags_to_remove)

    def delete(self, current: PodIdentityAssociation) -> None:
        self.client.delete_pod_identity_association(
            aws_retry=True, clusterName=current.cluster_name, associationId=current.association_id
        )


def apply_association(
    associations: PodIdentityAssociations,
    current: PodIdentityAssociation | None,
    request: AssociationRequest,
    plan: AssociationPlan,
    after: dict,
    role_is_new: bool = False,
) -> dict:
    """Write ``plan``; the association as EKS then holds it. ``role_is_new`` waits out IAM propagation."""
    if plan.create:
        return association_view(associations.create(request, role_is_new))
    if plan.changed:
        associations.update(current, request.role_arn, plan, role_is_new)
    return after


def ensure_association_present(
    associations: PodIdentityAssociations,
    current: PodIdentityAssociation | None,
    request: AssociationRequest,
    check_mode: bool,
    role_is_new: bool = False,
) -> tuple[list[str], dict]:
    """Create or update the association; its changes and how it is (or in check mode would be) after."""
    plan, after = planned_association(current, request)
    if plan.changed and not check_mode:
        after = apply_association(associations, current, request, plan, after, role_is_new)
    return plan.changes, after


def ensure_association_absent(
    associations: PodIdentityAssociations, current: PodIdentityAssociation | None, check_mode: bool
) -> list[str]:
    if current is None:
        return []
    if not check_mode:
        associations.delete(current)
    return ["deleted"]


def _association(found: dict) -> PodIdentityAssociation:
    return PodIdentityAssociation(
        association_id=found["associationId"],
        association_arn=found["associationArn"],
        cluster_name=found["clusterName"],
        namespace=found["namespace"],
        service_account=found["serviceAccount"],
        role_arn=found["roleArn"],
        disable_session_tags=bool(found.get("disableSessionTags")),
        owner_arn=found.get("ownerArn"),
        tags=dict(found.get("tags") or {}),
    )
