# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM roles with one inline policy, and the account's OIDC provider: what we want, what IAM
holds, and the plan of writes between the two. Pure: the IAM calls are in ``_aws/iam.py``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problem
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.resource_plan import ResourcePlan, tags_after

PolicyDiffers = Callable[[dict, dict], bool]


@dataclass(frozen=True)
class RoleSpec:
    """The role we want. ``None`` for description, boundary or tags leaves the current value alone."""

    name: str
    path: str
    trust_policy: dict
    policy_name: str
    policy: dict
    max_session_duration: int
    description: str | None = None
    permissions_boundary: str | None = None
    tags: dict[str, str] | None = None
    purge_tags: bool = True
    new_role_description: str | None = None  # used only when the role is created


@dataclass(frozen=True)
class RoleState:
    """The role IAM holds, with the one inline policy we manage (``None`` when missing)."""

    name: str
    arn: str | None
    path: str
    trust_policy: dict
    max_session_duration: int
    description: str | None
    permissions_boundary: str | None
    tags: dict[str, str]
    policy: dict | None


@dataclass(kw_only=True)
class RolePlan(ResourcePlan):
    trust: bool = False
    settings: bool = False
    boundary: bool = False
    policy: bool = False

    def named_changes(self):
        return [
            ("trust_policy", self.trust),
            ("settings", self.settings),
            ("permissions_boundary", self.boundary),
            ("permissions_policy", self.policy),
            ("tags", self.tags_change),
        ]


def plan_role(spec: RoleSpec, current: RoleState | None, policy_differs: PolicyDiffers) -> RolePlan:
    """What to write so the role IAM holds becomes ``spec``; refuses what IAM cannot change."""
    if current is None:
        return RolePlan(create=True, policy=True)
    if current.path != spec.path:
        raise InvalidInput(
            [
                Problem(
                    "path",
                    f"{spec.path!r} differs from the path {current.path!r} of the existing role {spec.name!r}; "
                    "IAM cannot move a role: keep the path or delete the role first",
                )
            ]
        )
    plan = RolePlan(
        trust=policy_differs(current.trust_policy, spec.trust_policy),
        settings=current.max_session_duration != spec.max_session_duration
        or (spec.description is not None and (current.description or "") != spec.description),
        boundary=spec.permissions_boundary is not None and current.permissions_boundary != spec.permissions_boundary,
        policy=current.policy is None or policy_differs(current.policy, spec.policy),
    )
    if spec.tags is not None:
        plan.tags_to_set, plan.tags_to_remove = compare_aws_tags(current.tags, spec.tags, spec.purge_tags)
    return plan


def role_after(spec: RoleSpec, current: RoleState | None, plan: RolePlan, arn: str | None = None) -> RoleState:
    """The role as IAM will hold it once ``plan`` is applied (what diff mode shows as after)."""
    if current is None:
        description = spec.description or spec.new_role_description
        boundary, tags = spec.permissions_boundary, dict(spec.tags or {})
    else:
        description = current.description if spec.description is None else spec.description
        boundary = spec.permissions_boundary or current.permissions_boundary
        tags = tags_after(current.tags, plan)
    return RoleState(
        name=spec.name,
        arn=arn or (current.arn if current else None),
        path=spec.path,
        trust_policy=spec.trust_policy,
        max_session_duration=spec.max_session_duration,
        description=description,
        permissions_boundary=boundary,
        tags=tags,
        policy=spec.policy,
    )


def access_removed(current: RoleState | None, spec: RoleSpec) -> dict[str, list[str]]:
    """What the role would no longer allow once ``spec`` is written: the ``sub`` claims its trust stops
    admitting and the ECR repositories its policy stops naming (empty lists: nothing is narrowed)."""
    if current is None:
        return {"subjects": [], "repositories": []}
    return {
        "subjects": sorted(trust_subjects(current.trust_policy) - trust_subjects(spec.trust_policy)),
        "repositories": sorted(
            repository_names(allowed_resources(current.policy or {})) - repository_names(allowed_resources(spec.policy))
        ),
    }


def access_removed_words(role: str, removed: dict[str, list[str]], access: str) -> str | None:
    """One line for the run's warnings and summary, or None when nothing is narrowed."""
    parts = []
    if removed["repositories"]:
        parts.append(f"{', '.join(removed['repositories'])} lose {access} through role {role}")
    if removed["subjects"]:
        parts.append(f"role {role} no longer trusts {', '.join(removed['subjects'])}")
    return "; ".join(parts) or None


def trust_subjects(trust: dict) -> set[str]:
    """Every ``sub`` claim value an Allow statement of a web-identity trust policy admits."""
    found = set()
    for statement in _statements(trust):
        for values in (statement.get("Condition") or {}).values():
            for key, value in values.items():
                if key.endswith(":sub"):
                    found.update([value] if isinstance(value, str) else value)
    return found


def allowed_resources(policy: dict) -> set[str]:
    """The resource ARNs the Allow statements of a permissions policy name (``*`` left out)."""
    found = set()
    for statement in _statements(policy):
        resources = statement.get("Resource", [])
        found.update(r for r in ([resources] if isinstance(resources, str) else resources) if r != "*")
    return found


def repository_names(arns: set[str]) -> set[str]:
    return {arn.split(":repository/", 1)[1] for arn in arns if ":repository/" in arn}


def _statements(document: dict) -> list[dict]:
    statements = document.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    return [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"]


def role_view(state: RoleState | None) -> dict:
    """A role as diff mode shows it (``{}`` when it does not exist)."""
    if state is None:
        return {}
    return {
        "path": state.path,
        "trust_policy": state.trust_policy,
        "permissions_policy": state.policy,
        "max_session_duration": state.max_session_duration,
        "description": state.description,
        "permissions_boundary": state.permissions_boundary,
        "tags": state.tags,
    }


@dataclass(frozen=True)
class OidcProvider:
    arn: str
    url: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    tags: dict[str, str]


@dataclass(kw_only=True)
class ProviderPlan(ResourcePlan):
    """Creating the provider, or adding our audience and setting the thumbprints asked for."""

    add_client_id: str | None = None
    thumbprints: tuple[str, ...] | None = None

    def named_changes(self):
        return [("client_id", self.add_client_id is not None), ("thumbprints", self.thumbprints is not None)]


def plan_provider(current: OidcProvider | None, audience: str, thumbprints: Sequence[str] | None) -> ProviderPlan:
    """Keep ``audience`` among the provider's client ids; set ``thumbprints`` only when asked and
    different (thumbprints compare case-insensitively and in any order)."""
    if current is None:
        return ProviderPlan(create=True)
    plan = ProviderPlan()
    if audience not in current.client_ids:
        plan.add_client_id = audience
    if thumbprints is not None and sorted(t.lower() for t in thumbprints) != sorted(
        t.lower() for t in current.thumbprints
    ):
        plan.thumbprints = tuple(thumbprints)
    return plan


def provider_view(
    current: OidcProvider | None, plan: ProviderPlan, url: str, audience: str
) -> tuple[dict, dict, list[str]]:
    """(before, after) as diff mode shows the provider, and its client ids after the plan."""
    if current is None:
        return {}, {"url": url, "client_ids": [audience]}, [audience]
    client_ids = [*current.client_ids, *([plan.add_client_id] if plan.add_client_id else [])]
    before = {"url": current.url, "client_ids": list(current.client_ids), "thumbprints": list(current.thumbprints)}
    after = {**before, "client_ids": client_ids, "thumbprints": list(plan.thumbprints or current.thumbprints)}
    return before, after, client_ids
