# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR lifecycle policy documents: validate them as AWS does, normalise them for comparison.

The rules follow AWS's documentation (user guide: lifecycle_policy_parameters,
LifecyclePolicies), not moto, which accepts most invalid policies and refuses every 2025
archive feature. No boto3 here: plain data in, plain data out.
"""

from __future__ import annotations

import copy
import difflib
import json
from typing import Any

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import Problems, join_path, json_object

TEXT_MIN = 100
TEXT_MAX = 30720
RULES_MAX = 50
WILDCARDS_MAX = 4
# Archived images are billed for at least 90 days; whether AWS refuses a shorter rule is not established.
ARCHIVE_MINIMUM_DAYS = 90

TAG_STATUSES = ("tagged", "untagged", "any")
COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
SINCE_COUNT_TYPES = COUNT_TYPES[1:]
STORAGE_CLASSES = ("standard", "archive")
ACTION_TYPES = ("expire", "transition")
TAG_LISTS = ("tagPrefixList", "tagPatternList")

DOCUMENT_KEYS = ("rules",)
RULE_KEYS = ("rulePriority", "description", "selection", "action")
SELECTION_KEYS = (
    "tagStatus",
    "tagPrefixList",
    "tagPatternList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
ACTION_KEYS = ("type", "targetStorageClass")


def is_int(value: Any) -> bool:
    """JSON integers only: ``True`` and ``"5"`` are not integers to AWS."""
    return isinstance(value, int) and not isinstance(value, bool)


def policy_text(doc: dict) -> str:
    """The compact JSON text sent to AWS; its length is what AWS limits."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def validate_lifecycle_policy(policy: dict | str, path: str = "policy") -> tuple[dict, list[str]]:
    """Check a lifecycle policy document against every rule AWS documents.

    Returns the parsed document and warnings (things AWS may accept but that are probably
    mistakes); raises :class:`InvalidInput` listing every problem found.
    """
    problems = Problems()
    warnings: list[str] = []
    doc = json_object(policy, path, problems, "a JSON object with a 'rules' list")
    if doc is not None:
        _check_document(doc, path, problems, warnings)
    problems.raise_if_any()
    return doc, warnings


def _check_document(doc: dict, path: str, problems: Problems, warnings: list[str]) -> None:
    _check_keys(doc, DOCUMENT_KEYS, path, problems)
    length = len(policy_text(doc))
    if not TEXT_MIN <= length <= TEXT_MAX:
        problems.add(path, f"is {length} characters as compact JSON; AWS accepts {TEXT_MIN} to {TEXT_MAX}")
    rules_path = join_path(path, "rules")
    if "rules" not in doc:
        problems.add(rules_path, "is required: a list of 1 to 50 rules")
        return
    rules = doc["rules"]
    if not isinstance(rules, list):
        problems.add(rules_path, f"must be a list of rules, not {_kind(rules)}")
        return
    if not 1 <= len(rules) <= RULES_MAX:
        problems.add(rules_path, f"has {len(rules)} rules; AWS accepts 1 to {RULES_MAX}")
    checked = []
    for index, rule in enumerate(rules):
        summary = _check_rule(rule, join_path(rules_path, index), problems, warnings)
        if summary is not None:
            checked.append((index, summary))
    _check_across_rules(checked, rules_path, problems, warnings)


def _check_rule(rule: Any, path: str, problems: Problems, warnings: list[str]) -> dict | None:
    """Check one rule; return what the cross-rule checks need (priority, tag status, storage class)."""
    if not isinstance(rule, dict):
        problems.add(path, f"must be an object with rulePriority, selection and action, not {_kind(rule)}")
        return None
    _check_keys(rule, RULE_KEYS, path, problems)
    for key in ("rulePriority", "selection", "action"):
        if key not in rule:
            problems.add(join_path(path, key), "is required in every rule")
    priority = rule.get("rulePriority")
    if "rulePriority" in rule and not (is_int(priority) and priority >= 1):
        problems.add(join_path(path, "rulePriority"), f"must be an integer of 1 or more, not {_shown(priority)}")
        priority = None
    if "description" in rule and not isinstance(rule["description"], str):
        problems.add(join_path(path, "description"), f"must be a string, not {_kind(rule['description'])}")
    selection = _object(rule, "selection", path, problems)
    action = _object(rule, "action", path, problems)
    summary = {"priority": priority, "tagStatus": None, "storageClass": "standard", "tags": None}
    count_type = None
    if selection is not None:
        count_type = _check_selection(selection, join_path(path, "selection"), problems, warnings, summary)
    action_type = _check_action(action, join_path(path, "action"), problems) if action is not None else None
    count_path = join_path(path, "selection.countType")
    if count_type == "sinceImagePulled" and action_type == "expire":
        problems.add(count_path, "sinceImagePulled only works with action type transition (archive, not delete)")
    if count_type == "sinceImageTransitioned" and action_type == "transition":
        problems.add(count_path, "sinceImageTransitioned only works with action type expire")
    return summary


def _check_selection(selection: dict, path: str, problems: Problems, warnings: list[str], summary: dict) -> str | None:
    _check_keys(selection, SELECTION_KEYS, path, problems)
    _reject_nulls(selection, path, problems)
    tag_status = _enum(selection, "tagStatus", TAG_STATUSES, path, problems, required=True)
    summary["tagStatus"] = tag_status
    _check_tag_lists(selection, tag_status, path, problems, warnings, summary)

    storage_class = _enum(selection, "storageClass", STORAGE_CLASSES, path, problems) or "standard"
    summary["storageClass"] = storage_class
    count_type = _enum(selection, "countType", COUNT_TYPES, path, problems, required=True)
    number = selection.get("countNumber")
    if "countNumber" not in selection:
        problems.add(join_path(path, "countNumber"), "is required: an integer of 1 or more")
    elif number is not None and not (is_int(number) and number >= 1):
        problems.add(join_path(path, "countNumber"), f"must be an integer of 1 or more, not {_shown(number)}")

    unit_path = join_path(path, "countUnit")
    unit = selection.get("countUnit")
    if count_type == "imageCountMoreThan" and "countUnit" in selection and unit is not None:
        problems.add(unit_path, "must be left out when countType is imageCountMoreThan (it counts images, not days)")
    elif count_type in SINCE_COUNT_TYPES:
        if "countUnit" not in selection:
            problems.add(unit_path, f'is required when countType is {count_type}: "days"')
        elif unit is not None and unit != "days":
            problems.add(unit_path, f'must be "days" (the only unit AWS accepts), not {_shown(unit)}')

    if count_type == "sinceImageTransitioned":
        if storage_class != "archive":
            problems.add(
                join_path(path, "countType"),
                'sinceImageTransitioned needs storageClass "archive" (it counts days in archive)',
            )
        elif is_int(number) and number < ARCHIVE_MINIMUM_DAYS:
            warnings.append(
                f"{join_path(path, 'countNumber')}: archived images are billed for at least "
                f"{ARCHIVE_MINIMUM_DAYS} days; deleting them after {number} days saves nothing"
            )
    elif count_type is not None and storage_class == "archive":
        problems.add(
            join_path(path, "storageClass"),
            f'"archive" rules may only use countType sinceImageTransitioned, not {count_type}',
        )
    return count_type


def _check_tag_lists(
    selection: dict, tag_status: str | None, path: str, problems: Problems, warnings: list[str], summary: dict
) -> None:
    present = [key for key in TAG_LISTS if key in selection]
    for key in present:
        values = selection[key]
        key_path = join_path(path, key)
        if values is None:
            continue
        if not isinstance(values, list) or not values:
            problems.add(key_path, f"must be a non-empty list of strings, not {_shown(values)}")
            continue
        for index, value in enumerate(values):
            item_path = join_path(key_path, index)
            if not isinstance(value, str) or not value:
                problems.add(item_path, f"must be a non-empty string, not {_shown(value)}")
            elif key == "tagPatternList" and value.count("*") > WILDCARDS_MAX:
                problems.add(
                    item_path, f"{value!r} has {value.count('*')} wildcards (*); AWS allows at most {WILDCARDS_MAX}"
                )
            elif key == "tagPrefixList" and "*" in value:
                warnings.append(
                    f"{item_path}: prefixes are literal, so {value!r} only matches tags starting with a literal '*'; "
                    "use tagPatternList for wildcards"
                )
        if all(isinstance(v, str) for v in values):
            summary["tags"] = (key, frozenset(values))
    if tag_status == "tagged" and not present:
        problems.add(
            join_path(path, "tagPatternList"),
            "is required when tagStatus is tagged: exactly one of tagPatternList or tagPrefixList",
        )
    elif tag_status == "tagged" and len(present) > 1:
        problems.add(
            join_path(path, "tagPrefixList"), "a tagged rule takes one of tagPrefixList or tagPatternList, not both"
        )
    elif tag_status in ("untagged", "any"):
        for key in present:
            problems.add(join_path(path, key), f"must be left out when tagStatus is {tag_status} (it selects by tag)")


def _check_action(action: dict, path: str, problems: Problems) -> str | None:
    _check_keys(action, ACTION_KEYS, path, problems)
    _reject_nulls(action, path, problems)
    action_type = _enum(action, "type", ACTION_TYPES, path, problems, required=True)
    target_path = join_path(path, "targetStorageClass")
    target = action.get("targetStorageClass")
    if action_type == "transition":
        if "targetStorageClass" not in action:
            problems.add(target_path, 'is required when type is transition: "archive"')
        elif target is not None and target != "archive":
            problems.add(target_path, f'must be "archive" (the only target), not {_shown(target)}')
    elif action_type == "expire" and "targetStorageClass" in action and target is not None:
        problems.add(target_path, "is only allowed when type is transition")
    return action_type


def _check_across_rules(checked: list, rules_path: str, problems: Problems, warnings: list[str]) -> None:
    """Unique priorities; per storage class: one untagged rule, one `any` rule and it comes last."""
    seen_priority: dict[int, int] = {}
    seen_status: dict[tuple[str, str], int] = {}
    seen_tags: dict[tuple[str, str, frozenset], int] = {}
    highest: dict[str, int] = {}
    for index, summary in checked:
        priority, status, storage = summary["priority"], summary["tagStatus"], summary["storageClass"]
        rule_path = join_path(rules_path, index)
        if priority is not None:
            if priority in seen_priority:
                problems.add(
                    join_path(rule_path, "rulePriority"),
                    f"{priority} is already used by {join_path(rules_path, seen_priority[priority])}; "
                    "priorities must be unique",
                )
            seen_priority.setdefault(priority, index)
            highest[storage] = max(highest.get(storage, 0), priority)
        if status in ("untagged", "any"):
            if (status, storage) in seen_status:
                problems.add(
                    join_path(rule_path, "selection.tagStatus"),
                    f"only one rule per storage class ({storage}) may select {status} images; "
                    f"{join_path(rules_path, seen_status[(status, storage)])} already does",
                )
            seen_status.setdefault((status, storage), index)
        if summary["tags"] is not None:
            key, values = summary["tags"]
            if (key, storage, values) in seen_tags:
                warnings.append(
                    f"{join_path(rule_path, 'selection.' + key)}: same tags as "
                    f"{join_path(rules_path, seen_tags[(key, storage, values)])} in storage class {storage}; "
                    "the later rule only sees images the earlier one does not select (AWS guides ask for unique sets)"
                )
            seen_tags.setdefault((key, storage, values), index)
    any_rules = [summary["storageClass"] for _rule, summary in checked if summary["tagStatus"] == "any"]
    for index, summary in checked:
        priority, storage = summary["priority"], summary["storageClass"]
        if summary["tagStatus"] != "any" or priority is None or any_rules.count(storage) > 1:
            continue  # several `any` rules in one storage class are already reported above
        if priority < highest[storage]:
            problems.add(
                join_path(join_path(rules_path, index), "rulePriority"),
                f"an 'any' rule must have the highest rulePriority in its storage class ({storage}): "
                f"{priority} is lower than {highest[storage]}",
            )


def _check_keys(value: dict, allowed: tuple[str, ...], path: str, problems: Problems) -> None:
    for key in value:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"; did you mean {hint[0]}?" if hint else f"; allowed: {', '.join(allowed)}"
            problems.add(
                join_path(path, str(key)), f"is not a lifecycle policy key (AWS's schema is closed){suggestion}"
            )


def _reject_nulls(value: dict, path: str, problems: Problems) -> None:
    for key, item in value.items():
        if item is None:
            problems.add(join_path(path, key), "is null; leave the key out instead (AWS rejects null values)")


def _object(rule: dict, key: str, path: str, problems: Problems) -> dict | None:
    if key not in rule:
        return None
    value = rule[key]
    if not isinstance(value, dict):
        problems.add(join_path(path, key), f"must be an object, not {_kind(value)}")
        return None
    return value


def _enum(
    value: dict, key: str, allowed: tuple[str, ...], path: str, problems: Problems, required: bool = False
) -> str | None:
    key_path = join_path(path, key)
    if key not in value:
        if required:
            problems.add(key_path, f"is required: one of {', '.join(allowed)}")
        return None
    item = value[key]
    if item is None:
        return None
    if item in allowed:
        return item
    if isinstance(item, str) and item.lower() in [a.lower() for a in allowed]:
        right = next(a for a in allowed if a.lower() == item.lower())
        problems.add(key_path, f"must be written exactly {right!r} (AWS is case-sensitive), not {item!r}")
    else:
        problems.add(key_path, f"must be one of {', '.join(allowed)}, not {_shown(item)}")
    return None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    return json.dumps(value) if isinstance(value, (bool, type(None), list, dict)) else repr(value)


def normalise_lifecycle_policy(doc: dict | str) -> dict:
    """The canonical form of a policy, for comparison only (never sent to AWS).

    Rules ordered by priority, keys in schema order, tag lists sorted and deduplicated (all
    entries must match, so order is meaningless), ``storageClass`` made explicit. Values keep
    their types: ``"5"`` and ``5`` stay different. Unexpected shapes are returned unchanged.
    """
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return {"text": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        return copy.deepcopy(doc)
    rules = [_normalise_rule(rule) for rule in doc["rules"]]
    if all(isinstance(r, dict) and is_int(r.get("rulePriority")) for r in rules):
        rules.sort(key=lambda r: r["rulePriority"])
    normalised = {key: copy.deepcopy(value) for key, value in doc.items() if key != "rules"}
    normalised["rules"] = rules
    return normalised


def _normalise_rule(rule: Any) -> Any:
    if not isinstance(rule, dict):
        return copy.deepcopy(rule)
    result = _ordered(rule, RULE_KEYS)
    selection = rule.get("selection")
    if isinstance(selection, dict):
        selection = dict(selection)
        selection.setdefault("storageClass", "standard")
        for key in TAG_LISTS:
            values = selection.get(key)
            if isinstance(values, list) and all(isinstance(v, str) for v in values):
                selection[key] = sorted(set(values))
        result["selection"] = _ordered(selection, SELECTION_KEYS)
    if isinstance(rule.get("action"), dict):
        result["action"] = _ordered(rule["action"], ACTION_KEYS)
    return result


def _ordered(value: dict, order: tuple[str, ...]) -> dict:
    known = {key: copy.deepcopy(value[key]) for key in order if key in value}
    known.update(
        {key: copy.deepcopy(item) for key, item in sorted(value.items(), key=lambda kv: str(kv[0])) if key not in order}
    )
    return known


def lifecycle_policies_equal(a: dict | str | None, b: dict | str | None) -> bool:
    """True when both policies act the same and read the same (descriptions count)."""
    if a is None or b is None:
        return a is None and b is None
    return normalise_lifecycle_policy(a) == normalise_lifecycle_policy(b)
