"""Equivalent lifecycle policies compare equal, so a rerun changes nothing; different ones do not."""

from __future__ import annotations

import json

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import (
    lifecycle_policies_equal,
    normalise_lifecycle_policy,
)

UNTAGGED = {
    "rulePriority": 1,
    "description": "Keep the last 10 untagged images",
    "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10},
    "action": {"type": "expire"},
}
TAGGED = {
    "rulePriority": 2,
    "description": "Keep release images for 30 days",
    "selection": {
        "tagStatus": "tagged",
        "tagPrefixList": ["release", "prod"],
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 30,
    },
    "action": {"type": "expire"},
}
POLICY = {"rules": [UNTAGGED, TAGGED]}


def reordered(value):
    """The same mapping with its keys in reverse order, recursively."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


def test_key_order_does_not_matter():
    assert lifecycle_policies_equal(POLICY, reordered(POLICY))


def test_rule_order_does_not_matter_only_priorities():
    assert lifecycle_policies_equal(POLICY, {"rules": [TAGGED, UNTAGGED]})


def test_tag_list_order_does_not_matter():
    swapped = json.loads(json.dumps(POLICY))
    swapped["rules"][1]["selection"]["tagPrefixList"].reverse()
    assert lifecycle_policies_equal(POLICY, swapped)


def test_the_default_storage_class_written_out_is_the_same_policy():
    explicit = json.loads(json.dumps(POLICY))
    explicit["rules"][0]["selection"]["storageClass"] = "standard"
    assert lifecycle_policies_equal(POLICY, explicit)


def test_json_text_from_aws_equals_the_same_document():
    assert lifecycle_policies_equal(json.dumps(reordered(POLICY), indent=2), POLICY)


def test_a_string_count_is_not_the_same_as_a_number():
    stringly = json.loads(json.dumps(POLICY))
    stringly["rules"][0]["selection"]["countNumber"] = "10"
    assert not lifecycle_policies_equal(POLICY, stringly)


def test_a_different_count_is_a_different_policy():
    changed = json.loads(json.dumps(POLICY))
    changed["rules"][0]["selection"]["countNumber"] = 11
    assert not lifecycle_policies_equal(POLICY, changed)


def test_a_different_description_is_a_different_policy():
    changed = json.loads(json.dumps(POLICY))
    changed["rules"][0]["description"] = "Keep ten"
    assert not lifecycle_policies_equal(POLICY, changed)


def test_swapped_priorities_are_a_different_policy():
    swapped = json.loads(json.dumps(POLICY))
    swapped["rules"][0]["rulePriority"], swapped["rules"][1]["rulePriority"] = 2, 1
    assert not lifecycle_policies_equal(POLICY, swapped)


def test_no_policy_equals_only_no_policy():
    assert lifecycle_policies_equal(None, None)
    assert not lifecycle_policies_equal(None, POLICY)


def test_normalising_is_idempotent_and_leaves_the_input_alone():
    before = json.dumps(POLICY)
    once = normalise_lifecycle_policy(POLICY)
    assert normalise_lifecycle_policy(once) == once
    assert json.dumps(POLICY) == before


def test_the_normal_form_orders_rules_keys_and_tags():
    normal = normalise_lifecycle_policy({"rules": [reordered(TAGGED), reordered(UNTAGGED)]})
    assert [r["rulePriority"] for r in normal["rules"]] == [1, 2]
    assert list(normal["rules"][1]) == ["rulePriority", "description", "selection", "action"]
    assert list(normal["rules"][1]["selection"]) == [
        "tagStatus",
        "tagPrefixList",
        "storageClass",
        "countType",
        "countUnit",
        "countNumber",
    ]
    assert normal["rules"][1]["selection"]["tagPrefixList"] == ["prod", "release"]


def test_an_unexpected_shape_is_compared_as_it_is():
    assert normalise_lifecycle_policy({"rules": "none"}) == {"rules": "none"}
    assert not lifecycle_policies_equal("not json", POLICY)
