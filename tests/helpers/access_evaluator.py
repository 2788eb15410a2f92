# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide, the way IAM does, whether a principal may call an ECR action on a repository.

moto checks no permission policy, so tests judge the documents with this. It models what our
documents use and refuses (``Unsupported``) anything else:

- identity policies: ``Action`` and ``Resource`` globs, ``Condition`` ``StringEquals`` on
  ``aws:ResourceTag/<key>`` / ``ecr:ResourceTag/<key>`` (the repository's tags);
- repository policies: ``Principal`` ``{"AWS": [account id | root ARN | role ARN]}`` or ``"*"`` with
  ``StringEquals`` ``aws:PrincipalOrgID``;
- the decision: an explicit Deny wins; in the repository's own account either policy may allow;
  from another account both must (IAM's cross-account rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import Unsupported, _as_list, _glob

_IDENTITY_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}
_RESOURCE_KEYS = {"Sid", "Effect", "Principal", "Action", "Condition"}


@dataclass(frozen=True)
class Principal:
    """Who calls: a role (``arn:aws:iam::ACCOUNT:role/NAME``), with the identity policies IAM holds for it."""

    arn: str
    policies: Sequence[Mapping] = ()
    org_id: str | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class Repository:
    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    policy: Mapping | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


def _matches(patterns, value: str, case_sensitive: bool) -> bool:
    return any(_glob(p, case_sensitive).fullmatch(value) for p in _as_list(patterns))


def _resource_tag_condition(condition: Mapping, tags: Mapping[str, str]) -> bool:
    for operator, block in condition.items():
        if operator != "StringEquals":
            raise Unsupported(f"condition operator {operator!r} is not modelled for identity policies")
        for key, expected in block.items():
            prefix, _slash, tag = key.partition("/")
            if prefix.lower() not in ("aws:resourcetag", "ecr:resourcetag"):
                raise Unsupported(f"condition key {key!r} is not modelled for identity policies")
            if tags.get(tag) not in _as_list(expected):
                return False
    return True


def _identity_effects(policies: Sequence[Mapping], action: str, repository: Repository) -> set[str]:
    effects = set()
    for policy in policies:
        for statement in _as_list(policy.get("Statement", [])):
            if set(statement) - _IDENTITY_KEYS:
                raise Unsupported(
                    f"identity statement elements not modelled: {sorted(set(statement) - _IDENTITY_KEYS)}"
                )
            if (
                _matches(statement.get("Action", []), action, case_sensitive=False)
                and _matches(statement.get("Resource", []), repository.arn, case_sensitive=True)
                and _resource_tag_condition(statement.get("Condition", {}), repository.tags)
            ):
                effects.add(statement["Effect"])
    return effects


def _principal_named(principal_element, caller: Principal) -> bool:
    if principal_element == "*":
        return True
    if not isinstance(principal_element, Mapping) or set(principal_element) != {"AWS"}:
        raise Unsupported(f"repository policy principal not modelled: {principal_element!r}")
    for named in _as_list(principal_element["AWS"]):
        if named in (caller.account, f"arn:aws:iam::{caller.account}:root", caller.arn):
            return True
    return False


def _org_condition(condition: Mapping, caller: Principal) -> bool:
    for operator, block in condition.items():
        if operator != "StringEquals" or set(block) != {"aws:PrincipalOrgID"}:
            raise Unsupported(f"repository policy condition not modelled: {condition!r}")
        if caller.org_id not in _as_list(block["aws:PrincipalOrgID"]):
            return False
    return True


def _resource_effects(policy: Mapping | None, action: str, caller: Principal) -> set[str]:
    effects = set()
    for statement in _as_list((policy or {}).get("Statement", [])):
        if set(statement) - _RESOURCE_KEYS:
            raise Unsupported(f"resource statement elements not modelled: {sorted(set(statement) - _RESOURCE_KEYS)}")
        if (
            _principal_named(statement.get("Principal"), caller)
            and _matches(statement.get("Action", []), action, case_sensitive=False)
            and _org_condition(statement.get("Condition", {}), caller)
        ):
            effects.add(statement["Effect"])
    return effects


def may(caller: Principal, action: str, repository: Repository) -> bool:
    """Would IAM and ECR let ``caller`` call ``action`` on ``repository``?"""
    identity = _identity_effects(caller.policies, action, repository)
    resource = _resource_effects(repository.policy, action, caller)
    if "Deny" in identity | resource:
        return False
    if caller.account == repository.account:
        return "Allow" in identity | resource
    return "Allow" in identity and "Allow" in resource
