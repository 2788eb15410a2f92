# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module is asked to do with lifecycle policies per repository, and whether a new policy may be applied.

Pure rules shared by ``ecr_lifecycle`` (top-level ``rules``/``policy``) and ``ecr_repository``
(its ``lifecycle`` option): the parameters become one :class:`LifecycleSpec` per repository (every
problem reported at once, each with its field path), the stored policy becomes a
:class:`LifecyclePlan`, and a policy about to be applied is previewed against the repository's
images and refused when it would expire more than ``max_expire_percent`` of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_evaluate import (
    Image,
    evaluate_lifecycle_policy,
    expire_summary,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import (
    lifecycle_policies_equal,
    validate_lifecycle_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import lifecycle_policy_from_rules
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problems, join_path
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    RepositorySpec,
    repository_entries,
    repository_specs,
)

DEFAULT_MAX_EXPIRE_PERCENT = 50.0
LIFECYCLE_OPTIONS = ("rules", "policy", "max_expire_percent")
REPOSITORY_OPTIONS = LIFECYCLE_OPTIONS


@dataclass(frozen=True)
class LifecycleSpec:
    """The policy one repository should hold (``None`` with state absent) and its guard."""

    name: str
    path: str
    policy: dict | None
    max_expire_percent: float = DEFAULT_MAX_EXPIRE_PERCENT


@dataclass(frozen=True)
class _Given:
    """What one place (module top level, ``lifecycle`` option, a repository entry) says about the policy."""

    policy: dict | None = None
    given: bool = False  # rules or policy given, even if invalid (its problems are reported already)
    max_expire_percent: float | None = None


def desired_lifecycle_policies(params: dict) -> tuple[list[LifecycleSpec], list[str]]:
    """``ecr_lifecycle``: one spec per listed repository and the warnings (each once); raise InvalidInput."""
    problems, warnings = Problems(), []
    present = params.get("state", "present") == "present"
    shared = _read_lifecycle(params, "", problems, warnings, with_policy=present)
    specs = []
    for path, name, entry in repository_entries(params.get("repositories"), REPOSITORY_OPTIONS, problems):
        own = _read_lifecycle(entry, path, problems, warnings, with_policy=present)
        spec = _lifecycle_spec(name, path, own, shared)
        if present and spec is None:
            problems.add(path, "has no lifecycle policy: give rules or policy, for all repositories or for this one")
        specs.append(spec or LifecycleSpec(name, path, None, _limit(own, shared)))
    problems.raise_if_any()
    return specs, list(dict.fromkeys(warnings))


def desired_repositories_with_lifecycle(
    params: dict,
) -> tuple[list[RepositorySpec], list[LifecycleSpec | None], list[str]]:
    """``ecr_repository``: the repository specs and, for each, its lifecycle spec (None when its
    lifecycle policy is not managed), and the warnings; every problem of both raised at once as
    InvalidInput. A repository's own ``lifecycle`` replaces the shared rules or policy; its
    ``max_expire_percent`` falls back to the shared one. With state absent ``lifecycle`` is not read."""
    problems, warnings = Problems(), []
    present = params.get("state", "present") == "present"
    shared = _read_option(params.get("lifecycle"), "lifecycle", problems, warnings) if present else _Given()
    specs, lifecycles = [], []
    for spec, entry in repository_specs(params, problems):
        lifecycle = None
        if present and entry.get("lifecycle") is not None:
            path = join_path(spec.path, "lifecycle")
            own = _read_option(entry["lifecycle"], path, problems, warnings)
            lifecycle = _lifecycle_spec(spec.name, spec.path, own, shared)
            if lifecycle is None:
                problems.add(path, "has no lifecycle policy: give rules or policy, here or in the shared lifecycle")
        elif present:
            lifecycle = _lifecycle_spec(spec.name, spec.path, _Given(), shared)
        specs.append(spec)
        lifecycles.append(lifecycle)
    problems.raise_if_any()
    return specs, lifecycles, list(dict.fromkeys(warnings))


def _read_option(value: Any, path: str, problems: Problems, warnings: list[str]) -> _Given:
    """A ``lifecycle`` dict (the option, or a repository's own): unknown keys and non-dicts are problems."""
    if value is None:
        return _Given()
    if not isinstance(value, dict):
        problems.add(path, f"must be a dict with {', '.join(LIFECYCLE_OPTIONS)}, not {type(value).__name__}")
        return _Given(given=True)
    for key in sorted(set(value) - set(LIFECYCLE_OPTIONS), key=str):
        problems.add(join_path(path, str(key)), f"unknown option; lifecycle takes {', '.join(LIFECYCLE_OPTIONS)}")
    return _read_lifecycle(value, path, problems, warnings)


def _read_lifecycle(source: dict, path: str, problems: Problems, warnings: list[str], with_policy=True) -> _Given:
    """``rules``/``policy`` and ``max_expire_percent`` in ``source``, at ``path`` ("" for the top level)."""
    limit = source.get("max_expire_percent")
    if limit is not None:
        limit = _percent(limit, join_path(path, "max_expire_percent"), problems)
    if not with_policy:
        return _Given(max_expire_percent=limit)
    return _Given(_policy(source, path, problems, warnings), _given(source), limit)


def _lifecycle_spec(name: str, path: str, own: _Given, shared: _Given) -> LifecycleSpec | None:
    """The repository's own policy, else the shared one; None when neither is given."""
    chosen = own if own.given else shared
    if not chosen.given:
        return None
    return LifecycleSpec(name, path, chosen.policy, _limit(own, shared))


def _limit(own: _Given, shared: _Given) -> float:
    for limit in (own.max_expire_percent, shared.max_expire_percent):
        if limit is not None:
            return limit
    return DEFAULT_MAX_EXPIRE_PERCENT


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


@dataclass(frozen=True)
class LifecyclePlan:
    """One repository's lifecycle policy: what it holds, what changes, and the new policy's preview."""

    spec: LifecycleSpec
    before: dict | None
    changes: list[str]
    preview: dict | None = None

    @property
    def sets_policy(self) -> bool:
        """A new policy is written: the one kind of change that is previewed and guarded."""
        return self.spec.policy is not None and bool(self.changes)

    @property
    def after(self) -> dict | None:
        return self.spec.policy if self.changes else self.before

    def previewed(self, images: list[Image], now: datetime) -> LifecyclePlan:
        return replace(self, preview=lifecycle_preview(self.spec.policy, images, now)) if self.sets_policy else self

    def result(self, applied: bool = True) -> dict:
        """As the modules return it; ``applied=False`` when nothing was written (a refusal)."""
        return {
            "changed": bool(self.changes),
            "changes": self.changes,
            "policy": self.after if applied else self.before,
            "preview": self.preview,
        }

    def diff(self) -> dict:
        """Before and after as documents, and the preview as text (Ansible's ``prepared``)."""
        shown = {"before": self.before or {}, "after": self.spec.policy or {}}
        if self.preview is not None:
            shown["prepared"] = preview_text(self.preview)
        return shown


def plan_lifecycle(spec: LifecycleSpec, stored_text: str | None) -> LifecyclePlan:
    """Compare the stored policy text (None when there is none) with what ``spec`` asks for."""
    before = parse_current_policy(stored_text)
    return LifecyclePlan(spec, before, policy_changes(before, spec.policy))


def guard_refusals(plans: list[LifecyclePlan]) -> list[str]:
    """Why each previewed policy that expires too much must not be applied (empty: all may be)."""
    found = (guard_refusal(p.spec, p.preview) for p in plans if p.preview is not None)
    return [refusal for refusal in found if refusal]


def missing_repositories_refusal(
    specs: list[LifecycleSpec], missing: list[str], check_mode: bool
) -> tuple[str | None, list[str]]:
    """Why policies cannot be set (repositories that do not exist; in check mode they may be about
    to be created, so nothing is refused), and those repositories."""
    needed = [spec.name for spec in specs if spec.name in missing and spec.policy is not None]
    if not needed or check_mode:
        return None, needed
    return (
        f"These repositories do not exist: {', '.join(needed)}; create them first "
        "(cloudops.ecr.ecr_repository). Nothing was changed."
    ), needed


def refused_message(refusals: list[str]) -> str:
    return (
        "Refusing to apply lifecycle policies that would expire too many images: "
        + "; ".join(refusals)
        + ". Check the preview, then raise max_expire_percent to apply. Nothing was changed."
    )
