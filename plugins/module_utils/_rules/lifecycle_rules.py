# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""High-level lifecycle rules, written in plain words, built into the AWS policy document.

One rule selects images and says one thing to do with them::

    - description: Keep the last 10 untagged images   # optional, generated when left out
      tag_status: untagged          # tagged | untagged | any; tagged when tag_* is given
      keep_last: 10

Selection: ``tag_status``, plus for tagged images ``tag_prefixes`` (tags starting with each
prefix) or ``tag_patterns`` (``*`` wildcards); several entries must all match.
Exactly one action: ``keep_last`` (newest N stay), ``keep_days`` (expire N days after push),
``protect: true`` (no other rule may expire or archive these), ``archive_after_days`` (N days
after push), ``archive_if_unpulled_days`` (not pulled for N days), ``delete_archived_after_days``
(N days after archiving). Priorities are numbered here: protected rules first, then the given
order, ``any`` rules last. A key set to null counts as left out (Ansible's convention).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import (
    TAG_STATUSES,
    is_int,
    validate_lifecycle_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problems, join_path

# A count no repository reaches: the rule selects the images (so later rules cannot touch them) but never fires.
PROTECT_COUNT = 999999

ACTIONS = (
    "keep_last",
    "keep_days",
    "protect",
    "archive_after_days",
    "archive_if_unpulled_days",
    "delete_archived_after_days",
)
RULE_KEYS = ("description", "tag_status", "tag_prefixes", "tag_patterns", *ACTIONS)

# action -> (storageClass or None for the default, countType, AWS action)
_AWS_ACTION = {
    "keep_last": (None, "imageCountMoreThan", {"type": "expire"}),
    "keep_days": (None, "sinceImagePushed", {"type": "expire"}),
    "protect": (None, "imageCountMoreThan", {"type": "expire"}),
    "archive_after_days": (None, "sinceImagePushed", {"type": "transition", "targetStorageClass": "archive"}),
    "archive_if_unpulled_days": (None, "sinceImagePulled", {"type": "transition", "targetStorageClass": "archive"}),
    "delete_archived_after_days": ("archive", "sinceImageTransitioned", {"type": "expire"}),
}
_DESCRIPTIONS = {
    "keep_last": "Keep the last {n} {images}",
    "keep_days": "Keep {images} for {n} days",
    "protect": "Protect {images} from every later rule",
    "archive_after_days": "Archive {images} {n} days after push",
    "archive_if_unpulled_days": "Archive {images} not pulled for {n} days",
    "delete_archived_after_days": "Delete archived {images} {n} days after archiving",
}
_AWS_FIELDS = {
    "selection.tagStatus": "tag_status",
    "selection.tagPrefixList": "tag_prefixes",
    "selection.tagPatternList": "tag_patterns",
    "description": "description",
}


def is_protect_rule(rule: dict) -> bool:
    """Whether an AWS rule is a protect rule: it selects images (so later rules cannot touch them) with a
    count of at least PROTECT_COUNT images, so it never expires any (what ``protect: true`` builds)."""
    selection, action = rule.get("selection"), rule.get("action")
    if not isinstance(selection, dict) or not isinstance(action, dict):
        return False
    number = selection.get("countNumber")
    return (
        selection.get("countType") == "imageCountMoreThan"
        and action.get("type") == "expire"
        and is_int(number)
        and number >= PROTECT_COUNT
    )


def build_lifecycle_policy(rules: list[dict], path: str = "rules") -> dict:
    """The AWS lifecycle policy document for high-level ``rules``; raises InvalidInput."""
    return lifecycle_policy_from_rules(rules, path)[0]


def lifecycle_policy_from_rules(rules: list[dict], path: str = "rules") -> tuple[dict, list[str]]:
    """Like :func:`build_lifecycle_policy`, also returning the validator's warnings in high-level words."""
    problems = Problems()
    if not isinstance(rules, list) or not rules:
        problems.add(path, "must be a non-empty list of rules (each with one action such as keep_last: 10)")
        problems.raise_if_any()
    checked = []
    for index, rule in enumerate(rules):
        rule_problems = Problems()
        checked.append(_check_rule(rule, join_path(path, index), rule_problems))
        problems.extend(rule_problems)
    well_formed = [i for i, rule in enumerate(checked) if rule]

    # Malformed rules are left out so the AWS rules are still checked on the others: all errors at once.
    order = (
        [i for i in well_formed if checked[i]["action"] == "protect"]
        + [i for i in well_formed if checked[i]["action"] != "protect" and checked[i]["tag_status"] != "any"]
        + [i for i in well_formed if checked[i]["tag_status"] == "any"]
    )
    doc = {"rules": [_aws_rule(checked[source], priority) for priority, source in enumerate(order, start=1)]}
    warnings: list[str] = []
    if order:
        try:
            doc, warnings = validate_lifecycle_policy(doc, path="")
        except InvalidInput as exc:
            for problem in exc.problems:
                if problem.path in ("", "rules") and len(order) < len(rules):
                    continue  # about the whole document, which lacks the malformed rules
                where = _user_words(problem.path, order, checked, path)
                problems.add(where, _user_words(problem.message, order, checked, path))
    problems.raise_if_any()
    return doc, [_user_words(w, order, checked, path) for w in warnings]


def _check_rule(rule: Any, path: str, problems: Problems) -> dict:
    """Check one high-level rule's shape; return it with tag_status and the action resolved, or {} if malformed."""
    if not isinstance(rule, dict):
        problems.add(path, f"must be a mapping such as {{tag_status: untagged, keep_last: 10}}, not {_shown(rule)}")
        return {}
    rule = {key: value for key, value in rule.items() if value is not None}
    for key in rule:
        if key not in RULE_KEYS:
            hint = difflib.get_close_matches(str(key), RULE_KEYS, n=1)
            more = f"did you mean {hint[0]}?" if hint else f"known keys: {', '.join(RULE_KEYS)}"
            problems.add(join_path(path, str(key)), f"is not a lifecycle rule key; {more}")
    if "description" in rule and not isinstance(rule["description"], str):
        problems.add(join_path(path, "description"), "must be a string")
    for key in ("tag_prefixes", "tag_patterns"):
        values = rule.get(key)
        if values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
            problems.add(join_path(path, key), f'must be a list of strings, such as ["release-"], not {_shown(values)}')

    actions = [key for key in ACTIONS if key in rule]
    if not actions:
        problems.add(path, f"needs one action: {', '.join(ACTIONS)}")
    elif len(actions) > 1:
        problems.add(path, f"has {len(actions)} actions ({', '.join(actions)}); give each its own rule")
    for key in actions:
        value = rule[key]
        if key == "protect":
            if value is not True:
                problems.add(join_path(path, key), "must be true (leave the rule out to stop protecting)")
        elif not (is_int(value) and value >= 1):
            problems.add(join_path(path, key), f"must be a whole number of 1 or more, not {_shown(value)}")

    has_tags = "tag_prefixes" in rule or "tag_patterns" in rule
    tag_status = rule.get("tag_status", "tagged" if has_tags else None)
    if tag_status is None:
        problems.add(
            join_path(path, "tag_status"),
            "is required when neither tag_prefixes nor tag_patterns is given: tagged, untagged or any",
        )
    elif tag_status not in TAG_STATUSES:
        problems.add(
            join_path(path, "tag_status"), f"must be one of {', '.join(TAG_STATUSES)}, not {_shown(tag_status)}"
        )
    if "protect" in actions and (tag_status != "tagged" or not has_tags):
        problems.add(
            join_path(path, "protect"),
            "needs tag_prefixes or tag_patterns: it shields the images with those tags from every later rule",
        )
    if problems:
        return {}
    return {**rule, "tag_status": tag_status, "action": actions[0]}


def _shown(value: Any) -> str:
    return f"the string {value!r}" if isinstance(value, str) else repr(value)


def _aws_rule(rule: dict, priority: int) -> dict:
    action = rule["action"]
    storage_class, count_type, aws_action = _AWS_ACTION[action]
    number = PROTECT_COUNT if action == "protect" else rule[action]
    selection: dict[str, Any] = {"tagStatus": rule["tag_status"]}
    if "tag_prefixes" in rule:
        selection["tagPrefixList"] = list(rule["tag_prefixes"])
    if "tag_patterns" in rule:
        selection["tagPatternList"] = list(rule["tag_patterns"])
    if storage_class:
        selection["storageClass"] = storage_class
    selection["countType"] = count_type
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    selection["countNumber"] = number
    description = rule.get("description") or _DESCRIPTIONS[action].format(n=number, images=_images_in_words(rule))
    return {"rulePriority": priority, "description": description, "selection": selection, "action": dict(aws_action)}


def _images_in_words(rule: dict) -> str:
    if rule["tag_status"] == "untagged":
        return "untagged images"
    if rule["tag_status"] == "any":
        return "images"
    if rule.get("tag_patterns") == ["*"]:
        return "tagged images"
    if "tag_patterns" in rule:
        return "images tagged " + " and ".join(rule["tag_patterns"])
    return "images with tags starting with " + " and ".join(rule.get("tag_prefixes", []))


_AWS_PATH = re.compile(r"\brules\[(\d+)\]((?:\.[A-Za-z]+)*)((?:\[\d+\])?)")


def _user_words(text: str, order: list[int], checked: list[dict], path: str) -> str:
    """Rewrite AWS document paths (``rules[2].selection.countNumber``) as the user's (``rules[0].keep_last``)."""
    if text in ("", "rules"):
        return path

    def replace(match: re.Match) -> str:
        source = order[int(match.group(1))]
        field = match.group(2).lstrip(".")
        rule_path = join_path(path, source)
        if not field:
            return rule_path
        return join_path(rule_path, _AWS_FIELDS.get(field, checked[source]["action"])) + match.group(3)

    return _AWS_PATH.sub(replace, text)
