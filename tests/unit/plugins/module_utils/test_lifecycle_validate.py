"""The lifecycle policy validator follows AWS's documented rules, not moto's leniency."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import (
    policy_text,
    validate_lifecycle_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput


def untagged(priority=1, **selection):
    return {
        "rulePriority": priority,
        "description": "Keep the last 10 untagged images",
        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10, **selection},
        "action": {"type": "expire"},
    }


def tagged(priority=1, patterns=("release-*",), **selection):
    return {
        "rulePriority": priority,
        "description": "Keep release images for 30 days",
        "selection": {
            "tagStatus": "tagged",
            "tagPatternList": list(patterns),
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 30,
            **selection,
        },
        "action": {"type": "expire"},
    }


def any_rule(priority, **selection):
    return {
        "rulePriority": priority,
        "description": "Keep the last 100 images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100, **selection},
        "action": {"type": "expire"},
    }


def archive_unpulled(priority=1, **selection):
    """AWS's 'combining archive and expire rules' example, first rule."""
    return {
        "rulePriority": priority,
        "description": "Archive images not pulled for 90 days",
        "selection": {
            "tagStatus": "any",
            "countType": "sinceImagePulled",
            "countUnit": "days",
            "countNumber": 90,
            **selection,
        },
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }


def delete_archived(priority=2, **selection):
    """AWS's 'combining archive and expire rules' example, second rule."""
    return {
        "rulePriority": priority,
        "description": "Delete images archived for 365 days",
        "selection": {
            "tagStatus": "any",
            "storageClass": "archive",
            "countType": "sinceImageTransitioned",
            "countUnit": "days",
            "countNumber": 365,
            **selection,
        },
        "action": {"type": "expire"},
    }


def policy(*rules):
    return {"rules": list(rules)}


def without(rule, dotted):
    """A copy of ``rule`` without the key at ``dotted`` (``selection.countUnit``)."""
    rule = copy.deepcopy(rule)
    *parents, last = dotted.split(".")
    target = rule
    for key in parents:
        target = target[key]
    del target[last]
    return rule


def accepts(doc):
    parsed, warnings = validate_lifecycle_policy(doc)
    return parsed, warnings


def rejects(doc, path, *words):
    """Assert the validator refuses ``doc`` with a problem at ``path`` whose message holds ``words``."""
    with pytest.raises(InvalidInput) as caught:
        validate_lifecycle_policy(doc)
    found = [p for p in caught.value.problems if p.path == path]
    assert found, f"no problem at {path}; got {[str(p) for p in caught.value.problems]}"
    assert any(all(w in p.message for w in words) for p in found), [str(p) for p in found]
    return caught.value


# --- document -----------------------------------------------------------------------------


def test_a_policy_given_as_json_text_is_parsed():
    parsed, warnings = accepts(json.dumps(policy(untagged())))
    assert parsed == policy(untagged())
    assert warnings == []


def test_text_that_is_not_json_is_rejected():
    rejects('{"rules": [', "policy", "not valid JSON")


def test_a_policy_that_is_not_an_object_is_rejected():
    rejects(["rules"], "policy", "JSON object")


def test_policy_text_of_exactly_30720_characters_is_accepted():
    doc = policy(untagged())
    doc["rules"][0]["description"] += "x" * (30720 - len(policy_text(doc)))
    assert len(policy_text(doc)) == 30720
    accepts(doc)


def test_policy_text_over_30720_characters_is_rejected():
    doc = policy(untagged())
    doc["rules"][0]["description"] += "x" * (30721 - len(policy_text(doc)))
    rejects(doc, "policy", "30721 characters", "100 to 30720")


def test_policy_text_under_100_characters_is_rejected():
    rejects({"rules": []}, "policy", "characters", "100 to 30720")


def test_a_policy_without_rules_is_rejected():
    rejects({}, "policy.rules", "required")


def test_fifty_rules_are_accepted():
    accepts(policy(*[tagged(i, patterns=[f"app{i}-*"]) for i in range(1, 51)]))


def test_fifty_one_rules_are_rejected():
    rejects(policy(*[tagged(i, patterns=[f"app{i}-*"]) for i in range(1, 52)]), "policy.rules", "51 rules", "1 to 50")


def test_an_empty_rule_list_is_rejected():
    rejects({"rules": []}, "policy.rules", "0 rules")


def test_every_problem_is_reported_at_once():
    doc = policy(untagged(0, countUnit="days"), tagged(2, countType="sinceImagePulled"))
    error = rejects(doc, "policy.rules[0].rulePriority", "1 or more")
    paths = {p.path for p in error.problems}
    assert {
        "policy.rules[0].rulePriority",
        "policy.rules[0].selection.countUnit",
        "policy.rules[1].selection.countType",
    } <= paths


def test_the_path_prefix_is_the_callers():
    with pytest.raises(InvalidInput) as caught:
        validate_lifecycle_policy(policy(untagged(0)), path="repositories[3].policy")
    assert caught.value.problems[0].path == "repositories[3].policy.rules[0].rulePriority"


# --- unknown keys: AWS's schema is closed --------------------------------------------------


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("document", "policy.version"),
        ("rule", "policy.rules[0].version"),
        ("selection", "policy.rules[0].selection.version"),
        ("action", "policy.rules[0].action.version"),
    ],
)
def test_an_unknown_key_is_rejected_at_every_level(where, path):
    doc = policy(untagged())
    target = {"document": doc, "rule": doc["rules"][0]}.get(where) or doc["rules"][0][where]
    target["version"] = 1
    rejects(doc, path, "not a lifecycle policy key")


def test_a_misspelt_key_gets_a_suggestion():
    doc = policy(untagged())
    doc["rules"][0]["selection"]["countNumbr"] = 3
    rejects(doc, "policy.rules[0].selection.countNumbr", "did you mean countNumber?")


# --- rulePriority ---------------------------------------------------------------------------


def test_priorities_need_not_be_consecutive():
    accepts(policy(untagged(5), tagged(10), any_rule(99)))


@pytest.mark.parametrize("bad", [0, -1, "5", True, 1.5])
def test_a_priority_that_is_not_a_positive_integer_is_rejected(bad):
    rejects(policy(untagged(bad)), "policy.rules[0].rulePriority", "integer of 1 or more")


def test_duplicate_priorities_are_rejected():
    rejects(policy(untagged(1), tagged(1)), "policy.rules[1].rulePriority", "already used by policy.rules[0]")


@pytest.mark.parametrize("key", ["rulePriority", "selection", "action"])
def test_a_rule_without_a_required_part_is_rejected(key):
    rejects(policy(without(untagged(), key)), f"policy.rules[0].{key}", "required")


def test_a_rule_without_description_is_accepted():
    accepts(policy(without(untagged(), "description")))


def test_a_description_that_is_not_text_is_rejected():
    rule = untagged()
    rule["description"] = 7
    rejects(policy(rule), "policy.rules[0].description", "must be a string")


# --- tagStatus and tag lists ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["tagged", "untagged", "any"])
def test_each_lowercase_tag_status_is_accepted(status):
    rule = tagged() if status == "tagged" else untagged() if status == "untagged" else any_rule(1)
    accepts(policy(rule))


def test_an_uppercase_tag_status_is_rejected():
    rejects(policy(untagged(tagStatus="UNTAGGED")), "policy.rules[0].selection.tagStatus", "'untagged'", "case")


def test_an_unknown_tag_status_is_rejected():
    rejects(policy(untagged(tagStatus="all")), "policy.rules[0].selection.tagStatus", "one of tagged, untagged, any")


def test_a_rule_without_tag_status_is_rejected():
    rejects(policy(without(untagged(), "selection.tagStatus")), "policy.rules[0].selection.tagStatus", "required")


def test_tagged_rule_with_prefix_list_is_accepted():
    accepts(policy(without(tagged(tagPrefixList=["release-"]), "selection.tagPatternList")))


def test_tagged_rule_with_pattern_list_is_accepted():
    accepts(policy(tagged(patterns=["v*", "*-prod"])))


def test_tagged_rule_without_prefix_or_pattern_list_is_rejected():
    rejects(policy(without(tagged(), "selection.tagPatternList")), "policy.rules[0].selection.tagPatternList", "tagged")


def test_tagged_rule_with_both_lists_is_rejected():
    rejects(policy(tagged(tagPrefixList=["v"])), "policy.rules[0].selection.tagPrefixList", "not both")


@pytest.mark.parametrize("status", ["untagged", "any"])
@pytest.mark.parametrize("key", ["tagPrefixList", "tagPatternList"])
def test_untagged_and_any_rules_with_a_tag_list_are_rejected(status, key):
    rule = untagged(tagStatus=status, **{key: ["v"]})
    rejects(policy(rule), f"policy.rules[0].selection.{key}", f"tagStatus is {status}")


@pytest.mark.parametrize("bad", [[], "release-", [""], [5]])
def test_a_tag_list_that_is_not_a_list_of_non_empty_strings_is_rejected(bad):
    with pytest.raises(InvalidInput) as caught:
        validate_lifecycle_policy(policy(tagged(patterns=(), tagPatternList=bad)))
    assert any(p.path.startswith("policy.rules[0].selection.tagPatternList") for p in caught.value.problems)


def test_a_pattern_with_four_wildcards_is_accepted():
    accepts(policy(tagged(patterns=["*a*b*c*"])))


def test_a_pattern_with_five_wildcards_is_rejected():
    rejects(policy(tagged(patterns=["*a*b*c*d*"])), "policy.rules[0].selection.tagPatternList[0]", "at most 4")


def test_a_wildcard_in_a_prefix_is_accepted_with_a_warning():
    rule = without(tagged(tagPrefixList=["v*"]), "selection.tagPatternList")
    _doc, warnings = accepts(policy(rule))
    assert any("tagPrefixList[0]" in w and "tagPatternList" in w for w in warnings)


# --- one any / one untagged rule per storage class -----------------------------------------------


def test_an_any_rule_with_the_highest_priority_is_accepted():
    accepts(policy(untagged(1), tagged(2), any_rule(3)))


def test_an_any_rule_that_is_not_last_is_rejected():
    rejects(policy(any_rule(1), untagged(2)), "policy.rules[0].rulePriority", "highest rulePriority", "standard")


def test_two_any_rules_in_one_storage_class_are_rejected():
    rejects(policy(any_rule(1), any_rule(2)), "policy.rules[1].selection.tagStatus", "only one rule", "any")


def test_two_untagged_rules_in_one_storage_class_are_rejected():
    rejects(
        policy(untagged(1), untagged(2, countType="sinceImagePushed", countUnit="days")),
        "policy.rules[1].selection.tagStatus",
        "only one rule",
        "untagged",
    )


def test_aws_example_combining_archive_and_expire_rules_is_accepted():
    parsed, warnings = accepts(policy(archive_unpulled(1), delete_archived(2)))
    assert warnings == []
    assert parsed["rules"][1]["selection"]["storageClass"] == "archive"


def test_an_archive_any_rule_need_not_outrank_standard_rules():
    accepts(policy(delete_archived(1), untagged(2), archive_unpulled(3)))


def test_one_untagged_rule_per_storage_class_is_accepted():
    archived_untagged = delete_archived(2, tagStatus="untagged")
    accepts(policy(untagged(1), archived_untagged))


def test_duplicate_prefix_sets_are_a_warning_not_an_error():
    first = without(tagged(1, tagPrefixList=["a", "b"]), "selection.tagPatternList")
    second = without(tagged(2, tagPrefixList=["b", "a"], countType="imageCountMoreThan"), "selection.tagPatternList")
    del second["selection"]["countUnit"]
    _doc, warnings = accepts(policy(first, second))
    assert any(w.startswith("policy.rules[1].selection.tagPrefixList") and "rules[0]" in w for w in warnings)


# --- JSON null is not absent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "dotted"),
    [
        (untagged(countUnit=None), "selection.countUnit"),
        (tagged(tagPrefixList=None), "selection.tagPrefixList"),
        (untagged(storageClass=None), "selection.storageClass"),
        (archive_unpulled(), "action.targetStorageClass"),
        (untagged(), "action.targetStorageClass"),
    ],
)
def test_a_key_set_to_null_is_rejected(rule, dotted):
    rule = copy.deepcopy(rule)
    part, key = dotted.split(".")
    rule[part][key] = None
    rejects(policy(rule), f"policy.rules[0].{dotted}", "null")


# --- countType, countNumber, countUnit ---------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [untagged(), tagged(), archive_unpulled(), delete_archived(1)],
    ids=["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"],
)
def test_each_count_type_is_accepted(rule):
    accepts(policy(rule))


def test_an_unknown_count_type_is_rejected():
    rejects(policy(untagged(countType="imageCountLessThan")), "policy.rules[0].selection.countType", "one of")


def test_a_rule_without_count_type_is_rejected():
    rejects(policy(without(untagged(), "selection.countType")), "policy.rules[0].selection.countType", "required")


def test_count_number_one_is_accepted():
    accepts(policy(untagged(countNumber=1)))


@pytest.mark.parametrize("bad", [0, -3, "5", True, 2.5])
def test_a_count_number_that_is_not_a_positive_integer_is_rejected(bad):
    rejects(policy(untagged(countNumber=bad)), "policy.rules[0].selection.countNumber", "integer of 1 or more")


def test_a_rule_without_count_number_is_rejected():
    rejects(policy(without(untagged(), "selection.countNumber")), "policy.rules[0].selection.countNumber", "required")


def test_count_unit_days_with_a_since_count_type_is_accepted():
    accepts(policy(tagged(countUnit="days")))


def test_a_since_count_type_without_count_unit_is_rejected():
    rejects(policy(without(tagged(), "selection.countUnit")), "policy.rules[0].selection.countUnit", "required", "days")


def test_a_count_unit_other_than_days_is_rejected():
    rejects(policy(tagged(countUnit="hours")), "policy.rules[0].selection.countUnit", '"days"')


def test_count_unit_with_image_count_more_than_is_rejected():
    rejects(policy(untagged(countUnit="days")), "policy.rules[0].selection.countUnit", "imageCountMoreThan")


# --- storage classes and actions -----------------------------------------------------------


def test_storage_class_standard_written_out_is_accepted():
    accepts(policy(untagged(storageClass="standard")))


@pytest.mark.parametrize("bad", ["glacier", "STANDARD"])
def test_an_unknown_storage_class_is_rejected(bad):
    rejects(policy(untagged(storageClass=bad)), "policy.rules[0].selection.storageClass")


def test_since_image_transitioned_on_standard_storage_is_rejected():
    rule = without(delete_archived(1), "selection.storageClass")
    rejects(policy(rule), "policy.rules[0].selection.countType", "sinceImageTransitioned", '"archive"')


@pytest.mark.parametrize(
    "rule",
    [untagged(storageClass="archive"), tagged(storageClass="archive"), archive_unpulled(storageClass="archive")],
    ids=["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"],
)
def test_other_count_types_on_archive_storage_are_rejected(rule):
    rejects(policy(rule), "policy.rules[0].selection.storageClass", "sinceImageTransitioned")


@pytest.mark.parametrize("action_type", ["expire", "transition"])
def test_each_action_type_is_accepted(action_type):
    rule = tagged() if action_type == "expire" else archive_unpulled()
    accepts(policy(rule))


def test_an_unknown_action_type_is_rejected():
    rule = untagged()
    rule["action"]["type"] = "delete"
    rejects(policy(rule), "policy.rules[0].action.type", "expire, transition")


def test_a_rule_without_action_type_is_rejected():
    rejects(policy(without(untagged(), "action.type")), "policy.rules[0].action.type", "required")


def test_a_transition_without_target_storage_class_is_rejected():
    rule = without(archive_unpulled(), "action.targetStorageClass")
    rejects(policy(rule), "policy.rules[0].action.targetStorageClass", "required", "transition")


def test_a_transition_to_standard_is_rejected():
    rule = archive_unpulled()
    rule["action"]["targetStorageClass"] = "standard"
    rejects(policy(rule), "policy.rules[0].action.targetStorageClass", '"archive"')


def test_target_storage_class_with_expire_is_rejected():
    rule = untagged()
    rule["action"]["targetStorageClass"] = "archive"
    rejects(policy(rule), "policy.rules[0].action.targetStorageClass", "only allowed when type is transition")


def test_transition_since_image_pushed_is_accepted():
    rule = tagged()
    rule["action"] = {"type": "transition", "targetStorageClass": "archive"}
    accepts(policy(rule))


def test_since_image_pulled_with_expire_is_rejected():
    rule = archive_unpulled()
    rule["action"] = {"type": "expire"}
    rejects(policy(rule), "policy.rules[0].selection.countType", "sinceImagePulled", "transition")


def test_since_image_transitioned_with_transition_is_rejected():
    rule = delete_archived(1)
    rule["action"] = {"type": "transition", "targetStorageClass": "archive"}
    rejects(policy(rule), "policy.rules[0].selection.countType", "sinceImageTransitioned", "expire")


def test_deleting_archived_images_before_90_days_is_a_warning():
    _doc, warnings = accepts(policy(delete_archived(1, countNumber=30)))
    assert any("countNumber" in w and "90 days" in w for w in warnings)


def test_deleting_archived_images_after_90_days_has_no_warning():
    assert accepts(policy(delete_archived(1, countNumber=90)))[1] == []


# --- what moto 5.2.5 accepts and AWS rejects (REFERENCE.md) ------------------------------------------

MOTO_ACCEPTS_AWS_REJECTS = {
    "tagged without a list": (
        policy(without(tagged(), "selection.tagPatternList")),
        "rules[0].selection.tagPatternList",
    ),
    "duplicate rulePriority": (policy(untagged(1), tagged(1)), "rules[1].rulePriority"),
    "rulePriority 0": (policy(untagged(0)), "rules[0].rulePriority"),
    "negative rulePriority": (policy(untagged(-1)), "rules[0].rulePriority"),
    "string rulePriority": (policy(untagged("1")), "rules[0].rulePriority"),
    "any not last": (policy(any_rule(1), tagged(2)), "rules[0].rulePriority"),
    "two any rules": (policy(any_rule(1), any_rule(2)), "rules[1].selection.tagStatus"),
    "two untagged rules": (policy(untagged(1), untagged(2, countNumber=5)), "rules[1].selection.tagStatus"),
    "both lists": (policy(tagged(tagPrefixList=["v"])), "rules[0].selection.tagPrefixList"),
    "untagged with a list": (policy(untagged(tagPrefixList=["v"])), "rules[0].selection.tagPrefixList"),
    "five wildcards": (policy(tagged(patterns=["*a*b*c*d*"])), "rules[0].selection.tagPatternList[0]"),
    "countUnit with imageCountMoreThan": (policy(untagged(countUnit="days")), "rules[0].selection.countUnit"),
    "sinceImagePushed without countUnit": (
        policy(without(tagged(), "selection.countUnit")),
        "rules[0].selection.countUnit",
    ),
    "51 rules": (policy(*[tagged(i, patterns=[f"a{i}*"]) for i in range(1, 52)]), "rules"),
    "countNumber as a string": (policy(untagged(countNumber="5")), "rules[0].selection.countNumber"),
}


@pytest.mark.parametrize("case", MOTO_ACCEPTS_AWS_REJECTS, ids=list(MOTO_ACCEPTS_AWS_REJECTS))
def test_a_policy_moto_accepts_but_aws_rejects_is_refused_naming_the_field(case):
    doc, path = MOTO_ACCEPTS_AWS_REJECTS[case]
    with pytest.raises(InvalidInput) as caught:
        validate_lifecycle_policy(doc)
    assert f"policy.{path}: " in str(caught.value)
