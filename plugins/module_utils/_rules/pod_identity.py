# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS Pod Identity associations: what EKS holds for one service account, what we want, and the
plan between the two. Pure: the EKS calls are in ``_aws/eks.py``."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problem
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.resource_plan import ResourcePlan, tags_after


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

    @property
    def header(self) -> str:
        return f"{self.cluster_name}/{self.namespace}/{self.service_account}"


@dataclass(kw_only=True)
class AssociationPlan(ResourcePlan):
    update: bool = False

    def named_changes(self):
        return [("role", self.update), ("tags", self.tags_change)]


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
    return plan, {
        **after,
        "role_arn": request.role_arn,
        "disable_session_tags": False,
        "tags": tags_after(after["tags"], plan),
    }
