# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``ecr_lifecycle`` is asked to do per repository, and whether a new policy may be applied.

Pure rules: the module's parameters become one :class:`LifecycleSpec` per repository (every
problem reported at once), and a policy about to be applied is previewed against the
repository's images and refused when it would expire more than ``max_expire_percent`` of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle import (
    lifecycle_policies_equal,
    validate_lifecycle_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle_evaluate import (
    Image,
    evaluate_lifecycle_policy,
    expire_summary,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle_rules import lifecycle_policy_from_rules
from ansible_collections.cloudops.ecr.plugins.module_utils.repository import repository_entries
from ansible_collections.cloudops.ecr.plugins.module_utils.validation import InvalidInput, Problems, join_path

DEFAULT_MAX_EXPIRE_PERCENT = 50.0
REPOSITORY_OPTIONS = ("rules", "policy", "max_expire_percent")


@dataclass(frozen=True)
class LifecycleSpec:
    """The policy one repository should hold (``None`` with state absent) and its guard."""

    name: str
    path: str
    policy: dict | None
    max_expire_percent: float = DEFAULT_MAX_EXPIRE_PERCENT


def desired_lifecycle_policies(params: dict) -> tuple[list[LifecycleSpec], list[str]]:
    """One spec per listed repository, and the validators' warnings (each once); raise InvalidInput."""
    problems, warnings = Problems(), []
    present = params.get("state", "present") == "present"
    shared_limit = _percent(params.get("max_expire_percent"), "max_expire_percent", problems)
    shared = _policy(params, "", problems, warnings) if present else None
    specs = []
    for path, name, entry in repository_entries(params.get("repositories"), REPOSITORY_OPTIONS, problems):
        own = _policy(entry, path, problems, warnings) if present else None
        if present and own is None and shared is None and not _given(params) and not _given(entry):
            problems.add(path, "has no lifecycle policy: give rules or policy, for all repositories or for this one")
        limit = entry.get("max_expire_percent")
        limit = shared_limit if limit is None else _percent(limit, join_path(path, "max_expire_percent"), problems)
        specs.append(LifecycleSpec(name, path, own if own is not None else shared, limit))
    problems.raise_if_any()
    return specs, list(dict.fromkeys(warnings))


def _given(source: dict) -> bool:
    return source.get("rules") is not None or source.get("policy") is not None


def _policy(source: dict, path: str, problems: Problems, warnings: list[str]) -> dict | None:
    """The AWS document from ``rules`` or ``policy`` in ``source``; None when neither is given or it is invalid."""
    rules, policy = source.get("rules"), source.get("policy")
    if rules is not None and policy is not None:
        problems.add(path or "policy", "give either rules or policy, not both")
        return None
    try:
        if rules is not None:
            doc, found = lifecycle_policy_from_rules(rules, join_path(path, "rules"))
        elif policy is not None:
            doc, found = validate_lifecycle_policy(policy, join_path(path, "policy"))
        else:
            return None
    except InvalidInput as exc:
        problems.extend(exc)
        return None
    warnings.extend(found)
    return doc


def _percent(value: Any, path: str, problems: Problems) -> float:
    if value is None:
        return DEFAULT_MAX_EXPIRE_PERCENT
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        problems.add(path, f"must be a number from 0 to 100 (a share of the images, in percent), not {value!r}")
        return DEFAULT_MAX_EXPIRE_PERCENT
    return float(value)


def parse_current_policy(text: str | None) -> dict | None:
    """The stored policy as a document; text that is not JSON is kept, so it compares as different."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"text": text}


def policy_changes(current: dict | None, desired: dict | None) -> list[str]:
    """``["created"]``, ``["updated"]``, ``["deleted"]`` or ``[]``, as the result reports them."""
    if desired is None:
        return ["deleted"] if current is not None else []
    if current is None:
        return ["created"]
    return [] if lifecycle_policies_equal(current, desired) else ["updated"]


def lifecycle_preview(doc: dict, images: list[Image], now: datetime) -> dict:
    """What ``doc`` would do to ``images`` now: counts, then each image expired or archived and why."""
    decisions = evaluate_lifecycle_policy(doc, images, now)
    pushed = {image.digest: image.pushed_at for image in images}

    def view(decision):
        return {
            "digest": decision.digest,
            "tags": list(decision.tags),
            "pushed_at": pushed[decision.digest].isoformat(),
            "rule_priority": decision.rule_priority,
            "reason": decision.reason,
        }

    return {
        "summary": expire_summary(decisions, images),
        "expire": [view(d) for d in decisions if d.action == "expire"],
        "transition": [view(d) for d in decisions if d.action == "transition"],
    }


def guard_refusal(spec: LifecycleSpec, preview: dict) -> str | None:
    """Why the new policy must not be applied to ``spec``'s repository, or None when it may."""
    summary = preview["summary"]
    if summary["expire_percent"] <= spec.max_expire_percent:
        return None
    return (
        f"{spec.name} ({spec.path}): the new policy would expire {summary['expire']} of its {summary['images']} images "
        f"({summary['expire_percent']}%), more than max_expire_percent {spec.max_expire_percent:g}%"
    )


def preview_text(preview: dict, limit: int = 20) -> str:
    """The preview as a few readable lines for diff mode (the result holds every image)."""
    summary = preview["summary"]
    lines = [
        f"preview: {summary['expire']} of {summary['images']} images would expire ({summary['expire_percent']}%), "
        f"{summary['transition']} would be archived"
    ]
    for action in ("expire", "transition"):
        for image in preview[action][:limit]:
            lines.append(f"  {action} {image['digest']}: {image['reason']}")
        if len(preview[action]) > limit:
            lines.append(f"  ... and {len(preview[action]) - limit} more to {action}")
    return "\n".join(lines) + "\n"
