# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide, the way IAM does, whether a role trust policy lets a request assume the role.

moto does not evaluate trust policies, so tests judge our documents with this instead. It
supports what our documents use and refuses (``Unsupported``) anything else, so a test can
never pass because an element was silently ignored:

- ``Effect`` Allow / Deny: an explicit Deny wins, no matching Allow means deny.
- ``Principal`` (``Federated`` / ``Service`` / ``AWS`` or ``"*"``), ``Action`` (``*`` / ``?``
  globs, case-insensitive like IAM action names).
- ``Condition`` operators ``StringEquals`` and ``StringLike`` (``*`` and ``?``, case-sensitive).
  Values in one list are ORed; keys and operators ANDed; a key missing from the request fails
  its condition. Condition key names are case-insensitive, values are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
_OPERATORS = ("StringEquals", "StringLike")
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "Action", "Condition"}


class Unsupported(ValueError):
    """The policy uses an element this evaluator does not model."""


@dataclass(frozen=True)
class Request:
    """An assume-role request: who asks (``principal_type`` -> ``principal``), for what, with which context."""

    principal_type: str
    principal: str
    action: str
    context: Mapping[str, str] = field(default_factory=dict)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, case_sensitive: bool) -> re.Pattern:
    if "${" in pattern:
        raise Unsupported(f"policy variables are not modelled: {pattern!r}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def _principal_matches(principal, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        raise Unsupported(f"Principal must be '*' or a mapping, got {principal!r}")
    for kind in principal:
        if kind not in ("AWS", "Federated", "Service", "CanonicalUser"):
            raise Unsupported(f"unknown principal type {kind!r}")
    return request.principal in _as_list(principal.get(request.principal_type, []))


def _action_matches(action, request: Request) -> bool:
    return any(_glob(a, case_sensitive=False).fullmatch(request.action) for a in _as_list(action))


def _condition_holds(condition: Mapping, context: Mapping[str, str]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, block in condition.items():
        if operator not in _OPERATORS:
            raise Unsupported(f"condition operator {operator!r} is not modelled")
        for key, expected in block.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            if operator == "StringEquals":
                if actual not in _as_list(expected):
                    return False
            elif not any(_glob(value, case_sensitive=True).fullmatch(actual) for value in _as_list(expected)):
                return False
    return True


def _statement_applies(statement: Mapping, request: Request) -> bool:
    unknown = set(statement) - _STATEMENT_KEYS
    if unknown:
        raise Unsupported(f"statement elements not modelled: {sorted(unknown)}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise Unsupported(f"Effect must be Allow or Deny, got {statement.get('Effect')!r}")
    return (
        _principal_matches(statement.get("Principal"), request)
        and _action_matches(statement.get("Action", []), request)
        and _condition_holds(statement.get("Condition", {}), request.context)
    )


def is_allowed(policy: Mapping, request: Request) -> bool:
    """True when some Allow statement applies and no Deny statement does."""
    statements = _as_list(policy.get("Statement", []))
    applying = [s for s in statements if _statement_applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


def web_identity_request(
    claims: Mapping[str, str], account_id: str = "123456789012", partition: str = "aws"
) -> Request:
    """The request STS evaluates for ``AssumeRoleWithWebIdentity`` with a token holding ``claims``.

    STS picks the account's OIDC provider named after the issuer host and exposes the token's
    ``aud`` and ``sub`` as ``HOST:aud`` / ``HOST:sub``; a claim absent from the token is absent
    from the context.
    """
    issuer = claims.get("iss", "")
    host = issuer.removeprefix("https://").rstrip("/")
    provider_arn = f"arn:{partition}:iam::{account_id}:oidc-provider/{host}"
    context = {f"{host}:{name}": claims[name] for name in ("aud", "sub") if name in claims}
    return Request("Federated", provider_arn, WEB_IDENTITY_ACTION, context)


def allows_web_identity(
    policy: Mapping, claims: Mapping[str, str], account_id: str = "123456789012", partition: str = "aws"
) -> bool:
    """Would a token with ``claims`` (``iss``, ``aud``, ``sub``) be let in by this trust policy?"""
    if not claims.get("iss"):
        return False
    return is_allowed(policy, web_identity_request(claims, account_id, partition))


def allows_service(policy: Mapping, service: str, action: str, context: Mapping[str, str] | None = None) -> bool:
    """Would ``service`` (e.g. ``pods.eks.amazonaws.com``) be allowed ``action`` with this context?"""
    return is_allowed(policy, Request("Service", service, action, context or {}))
