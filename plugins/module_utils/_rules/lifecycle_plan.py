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

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import (
    INDEX,
    KINDS,
    SINGLE,
    Image,
    ImageGraph,
    as_image_graph,
    short_digest,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_evaluate import (
    ACTIONS,
    EXPIRE,
    GOES_WITH_INDEX,
    HELD,
    TRANSITION,
    Decision,
    evaluate_lifecycle_policy,
    expire_summary,
    owned_by_rule,
    rule_in_words,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import (
    lifecycle_policies_equal,
    normalise_lifecycle_policy,
    validate_lifecycle_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import (
    is_protect_rule,
    lifecycle_policy_from_rules,
)
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


def lifecycle_preview(doc: dict, images: ImageGraph | list[Image], now: datetime) -> dict:
    """What ``doc`` would do to ``images`` now: the summary (one line's worth), counts by kind and by rule,
    then each image expired, archived, going with its index, or held by one, and why."""
    graph = as_image_graph(images)
    decisions = evaluate_lifecycle_policy(doc, graph, now)
    rules = normalise_lifecycle_policy(doc)["rules"]
    owned = owned_by_rule(doc, graph)
    summary = expire_summary(decisions, graph)
    summary.update(
        protected=sum(owned[rule["rulePriority"]] for rule in rules if is_protect_rule(rule)),
        indexes=graph.count(INDEX),
        children=graph.children,
        referrers=graph.referrers,
    )
    summary["text"] = summary_line(summary)
    pushed = {node.digest: node.image.pushed_at for node in graph}

    def view(decision: Decision) -> dict:
        shown = {
            "digest": decision.digest,
            "tags": list(decision.tags),
            "pushed_at": pushed[decision.digest].isoformat(),
            "rule_priority": decision.rule_priority,
            "reason": decision.reason,
            "kind": decision.kind,
        }
        if decision.goes_with:
            shown["goes_with"] = decision.goes_with
        return shown

    preview = {
        "summary": summary,
        "kinds": _kinds_view(graph, decisions),
        "rules": [_rule_view(rule, owned, decisions) for rule in rules],
        **{action: [view(d) for d in decisions if d.action == action] for action in ACTIONS},
        "notes": [],
    }
    if graph.unread_indexes:
        digests = ", ".join(short_digest(d) for d in graph.unread_indexes)
        preview["notes"].append(
            f"{len(graph.unread_indexes)} index manifests could not be read ({digests}): the images they list "
            "are counted as images of their own, so the preview may list more than AWS would expire"
        )
    return preview


_MOVES = (EXPIRE, TRANSITION, GOES_WITH_INDEX)  # what leaves the standard storage an image is in


def _kinds_view(graph: ImageGraph, decisions: list[Decision]) -> dict:
    """Per kind of image present: how many, and how many are kept, expire, are archived or go with their index."""
    acted = {d.digest: d.action for d in decisions if d.action != HELD}
    kinds = {}
    for kind in KINDS:
        digests = [node.digest for node in graph if node.kind == kind]
        if digests:
            counts = {action: sum(1 for d in digests if acted.get(d) == action) for action in _MOVES}
            kinds[kind] = {"images": len(digests), "kept": len(digests) - sum(counts.values()), **counts}
    return kinds


def _rule_view(rule: dict, owned: dict[int, int], decisions: list[Decision]) -> dict:
    priority = rule["rulePriority"]
    mine = [d for d in decisions if d.rule_priority == priority]
    return {
        "rule_priority": priority,
        "description": rule.get("description"),
        "action": "protect" if is_protect_rule(rule) else rule["action"]["type"],
        "words": rule_in_words(rule),
        "selected": owned[priority],
        **{action: sum(1 for d in mine if d.action == action) for action in ACTIONS},
    }


def summary_line(summary: dict) -> str:
    """The summary as one line, for a run's summary: ``5 of 15 images expire (33.3%), 10 kept``."""
    ranked = "images" if summary["rankable"] == summary["images"] else "ranked images"
    parts = [f"{summary['expire']} of {summary['rankable']} {ranked} expire ({summary['expire_percent']}%)"]
    if summary["transition"]:
        parts.append(f"{summary['transition']} archived")
    if summary["goes_with_index"]:
        parts.append(f"{summary['goes_with_index']} go with their index")
    parts.append(f"{summary['keep']} kept" if ranked == "images" else f"{summary['keep']} of {summary['images']} kept")
    if summary["protected"]:
        parts.append(f"{summary['protected']} protected")
    line = ", ".join(parts)
    if summary["indexes"] or summary["children"] or summary["referrers"]:
        line += (
            f"; {summary['images']} images: {summary['indexes']} indexes, {summary['children']} index children, "
            f"{summary['referrers']} referrers or signatures"
        )
    return line


def guard_refusal(spec: LifecycleSpec, preview: dict) -> str | None:
    """Why the new policy must not be applied to ``spec``'s repository, or None when it may.

    The share is over the ranked images: the untagged children of an index are not ranked while it
    stays (AWS's preview does not rank them either) and go only with it."""
    summary = preview["summary"]
    if summary["expire_percent"] <= spec.max_expire_percent:
        return None
    ranked = "images" if summary["rankable"] == summary["images"] else "ranked images"
    refusal = (
        f"{spec.name} ({spec.path}): the new policy would expire {summary['expire']} of its {summary['rankable']} "
        f"{ranked} ({summary['expire_percent']}%), more than max_expire_percent {spec.max_expire_percent:g}%"
    )
    if summary["indexes"] or summary["children"] or summary["referrers"]:
        refusal += (
            f" (of its {summary['images']} images, {summary['indexes']} are indexes, {summary['children']} index "
            f"children, not ranked while their index stays, and {summary['referrers']} referrers or signatures; "
            f"{summary['goes_with_index']} more would go with their index or subject)"
        )
    return refusal


_KIND_NAMES = {
    INDEX: ("index", "indexes"),
    "platform": ("platform manifest", "platform manifests"),
    "attestation": ("attestation", "attestations"),
    "referrer": ("referrer", "referrers"),
    "signature": ("cosign signature", "cosign signatures"),
    SINGLE: ("single image", "single images"),
}
_KIND_LINES = (("kept", "kept"), (EXPIRE, "expire"), (TRANSITION, "archived"), (GOES_WITH_INDEX, "go with their index"))
_LISTED = ((EXPIRE, "expire"), (TRANSITION, "archive"), (HELD, "held"))


def preview_text(preview: dict, limit: int = 20) -> str:
    """The preview as readable lines for diff mode: the totals, the kinds, then each rule with the images
    it acts on and why, each followed by the images that go with it (at most ``limit`` images of each
    action per rule; the result holds every image and every reason)."""
    summary, kinds = preview["summary"], preview["kinds"]
    ranked = "images" if summary["rankable"] == summary["images"] else "ranked images"
    first = (
        f"preview: {summary['expire']} of {summary['rankable']} {ranked} would expire ({summary['expire_percent']}%), "
        f"{summary['transition']} would be archived"
    )
    if summary["goes_with_index"]:
        first += f", {summary['goes_with_index']} go with their index"
    lines = [first]
    if set(kinds) - {SINGLE}:
        lines.append(
            f"  {summary['images']} images: {_kind_counts(kinds, 'images')}; {summary['rankable']} ranked "
            "(the untagged images an index lists are not ranked while it stays)"
        )
        for key, words in _KIND_LINES:
            counted = _kind_counts(kinds, key)
            if counted:
                lines.append(f"  {words}: {counted}")
    followers: dict[str, list[dict]] = {}
    for image in preview[GOES_WITH_INDEX] + preview[TRANSITION]:
        if image.get("goes_with"):
            followers.setdefault(image["goes_with"], []).append(image)
    for rule in preview["rules"]:
        lines.append(f"  rule {rule['rule_priority']} ({rule['words']}): {_rule_counts(rule)}")
        for action, words in _LISTED:
            listed = [
                image
                for image in preview[action]
                if image["rule_priority"] == rule["rule_priority"]
                and not (action == TRANSITION and image.get("goes_with"))
            ]
            for image in listed[:limit]:
                lines.append(f"    {words} {image['digest']}: {image['reason']}")
                going = _followers(image["digest"], followers) if action != HELD else []
                if going:
                    lines.append(
                        f"      {'goes' if action == EXPIRE else 'is archived'} with it: {_going_words(going)}"
                    )
            if len(listed) > limit:
                lines.append(f"    ... and {len(listed) - limit} more ({words})")
    lines.extend(f"  note: {note}" for note in preview.get("notes", []))
    return "\n".join(lines) + "\n"


def _followers(digest: str, followers: dict[str, list[dict]]) -> list[dict]:
    """The images that go with ``digest``: its children and referrers, theirs in turn."""
    found = []
    for image in followers.get(digest, []):
        found.append(image)
        found.extend(_followers(image["digest"], followers))
    return found


def _going_words(images: list[dict]) -> str:
    by_kind: dict[str, list[str]] = {}
    for image in images:
        by_kind.setdefault(image["kind"], []).append(short_digest(image["digest"]))
    return ", ".join(f"{_kind_count(kind, len(digests))} ({', '.join(digests)})" for kind, digests in by_kind.items())


def _kind_count(kind: str, count: int) -> str:
    singular, plural = _KIND_NAMES[kind]
    return f"{count} {singular if count == 1 else plural}"


def _kind_counts(kinds: dict, key: str) -> str:
    return ", ".join(_kind_count(kind, counts[key]) for kind, counts in kinds.items() if counts[key])


def _rule_counts(rule: dict) -> str:
    selected = f"{rule['selected']} image{'' if rule['selected'] == 1 else 's'}"
    if rule["action"] == "protect":
        return f"{selected} protected"
    parts = [selected, f"{rule[EXPIRE]} expire" if rule["action"] == EXPIRE else f"{rule[TRANSITION]} archived"]
    if rule[GOES_WITH_INDEX]:
        parts.append(f"{rule[GOES_WITH_INDEX]} go with them")
    if rule[HELD]:
        parts.append(f"{rule[HELD]} held by an index that stays")
    return ", ".join(parts)


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

    def previewed(self, images: ImageGraph | list[Image], now: datetime) -> LifecyclePlan:
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


def refused_plans(plans: list[LifecyclePlan]) -> list[tuple[LifecyclePlan, str]]:
    """Each previewed policy that expires too much, with why it must not be applied (empty: all may be)."""
    found = ((plan, guard_refusal(plan.spec, plan.preview)) for plan in plans if plan.preview is not None)
    return [(plan, refusal) for plan, refusal in found if refusal]


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


def refused_message(refused: list[tuple[LifecyclePlan, str]]) -> str:
    """The guard's refusal, then the preview of each refused repository (a failed task shows its message,
    not its diff)."""
    head = (
        "Refusing to apply lifecycle policies that would expire too many images: "
        + "; ".join(refusal for _plan, refusal in refused)
        + ". Check the preview, then raise max_expire_percent to apply. Nothing was changed."
    )
    return head + "".join(f"\n\n{plan.spec.name} {preview_text(plan.preview)}" for plan, _refusal in refused)
