"""High-level lifecycle rules build into valid AWS documents; mistakes are named in the user's words."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import (
    lifecycle_policies_equal,
    normalise_lifecycle_policy,
    validate_lifecycle_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import (
    PROTECT_COUNT,
    lifecycle_policy_from_rules,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import build_lifecycle_policy

ROLE_DEFAULT = [
    {"description": "Keep the last 10 untagged images", "tag_status": "untagged", "keep_last": 10},
    {"description": "Keep tagged images for 30 days", "tag_status": "tagged", "tag_patterns": ["*"], "keep_days": 30},
]


def refused(rules, path="rules"):
    with pytest.raises(InvalidInput) as caught:
        build_lifecycle_policy(rules, path=path)
    return {p.path: p.message for p in caught.value.problems}


def test_the_role_default_builds_the_readme_promise():
    assert build_lifecycle_policy(ROLE_DEFAULT) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep the last 10 untagged images",
                "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": "Keep tagged images for 30 days",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 30,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def test_the_built_document_passes_the_validator_without_warnings():
    doc, warnings = lifecycle_policy_from_rules(ROLE_DEFAULT)
    assert validate_lifecycle_policy(doc) == (doc, [])
    assert warnings == []


def test_standard_rules_leave_storage_class_out_so_older_endpoints_accept_them():
    doc = build_lifecycle_policy(ROLE_DEFAULT)
    assert all("storageClass" not in rule["selection"] for rule in doc["rules"])


def test_descriptions_are_written_in_plain_words_when_left_out():
    doc = build_lifecycle_policy(
        [
            {"tag_status": "untagged", "keep_last": 10},
            {"tag_patterns": ["*"], "keep_days": 30},
            {"tag_prefixes": ["release-"], "protect": True},
        ]
    )
    assert [rule["description"] for rule in doc["rules"]] == [
        "Protect images with tags starting with release- from every later rule",
        "Keep the last 10 untagged images",
        "Keep tagged images for 30 days",
    ]


def test_tag_prefixes_or_patterns_imply_tagged():
    doc = build_lifecycle_policy([{"tag_prefixes": ["v"], "keep_last": 5}])
    assert doc["rules"][0]["selection"]["tagStatus"] == "tagged"
    assert doc["rules"][0]["selection"]["tagPrefixList"] == ["v"]


def test_protected_tags_come_first_and_never_fire():
    doc = build_lifecycle_policy(
        [{"tag_status": "any", "keep_last": 20}, {"tag_patterns": ["prod-*"], "protect": True}]
    )
    protect, keep = doc["rules"]
    assert protect["rulePriority"] == 1
    assert protect["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["prod-*"],
        "countType": "imageCountMoreThan",
        "countNumber": PROTECT_COUNT,
    }
    assert keep["rulePriority"] == 2


def test_rules_keep_the_given_order_with_any_rules_last():
    doc = build_lifecycle_policy(
        [
            {"tag_status": "any", "keep_days": 365},
            {"tag_patterns": ["feature-*"], "keep_days": 7},
            {"tag_status": "untagged", "keep_last": 3},
        ]
    )
    assert [(r["rulePriority"], r["selection"]["tagStatus"]) for r in doc["rules"]] == [
        (1, "tagged"),
        (2, "untagged"),
        (3, "any"),
    ]


def test_archive_rules_build_aws_archive_example():
    doc = build_lifecycle_policy(
        [
            {"tag_status": "any", "archive_if_unpulled_days": 90},
            {"tag_status": "any", "delete_archived_after_days": 365},
        ]
    )
    assert doc["rules"] == [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled for 90 days",
            "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 90},
            "action": {"type": "transition", "targetStorageClass": "archive"},
        },
        {
            "rulePriority": 2,
            "description": "Delete archived images 365 days after archiving",
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365,
            },
            "action": {"type": "expire"},
        },
    ]


def test_archive_after_days_transitions_by_push_time():
    rule = build_lifecycle_policy([{"tag_patterns": ["v*"], "archive_after_days": 180}])["rules"][0]
    assert rule["selection"]["countType"] == "sinceImagePushed"
    assert rule["action"] == {"type": "transition", "targetStorageClass": "archive"}


def test_a_null_key_counts_as_left_out():
    doc = build_lifecycle_policy([{"tag_status": "untagged", "keep_last": 3, "keep_days": None, "description": None}])
    assert doc["rules"][0]["selection"]["countNumber"] == 3


def test_a_warning_is_named_in_high_level_words():
    _doc, warnings = lifecycle_policy_from_rules([{"tag_status": "any", "delete_archived_after_days": 30}], "lifecycle")
    assert warnings and warnings[0].startswith("lifecycle[0].delete_archived_after_days: ")


def test_rebuilding_the_same_rules_is_equal():
    assert lifecycle_policies_equal(build_lifecycle_policy(ROLE_DEFAULT), build_lifecycle_policy(list(ROLE_DEFAULT)))


def test_the_built_document_is_already_in_canonical_order_apart_from_defaults():
    doc = build_lifecycle_policy(ROLE_DEFAULT)
    normalised = normalise_lifecycle_policy(doc)
    for rule in normalised["rules"]:
        del rule["selection"]["storageClass"]
    assert normalised == doc


# --- refused, in the user's words -----------------------------------------------------------


def test_rules_that_are_not_a_list_are_refused():
    assert "rules" in refused({"keep_last": 3})


def test_an_empty_rule_list_is_refused():
    assert "non-empty list" in refused([])["rules"]


def test_a_rule_that_is_not_a_mapping_is_refused():
    assert "mapping" in refused(["keep_last: 10"])["rules[0]"]


def test_an_unknown_key_is_refused_with_a_suggestion():
    problems = refused([{"tag_status": "untagged", "keep_lats": 10}])
    assert "did you mean keep_last?" in problems["rules[0].keep_lats"]


def test_a_rule_without_an_action_is_refused():
    assert "needs one action" in refused([{"tag_status": "untagged"}])["rules[0]"]


def test_a_rule_with_two_actions_is_refused():
    assert "2 actions" in refused([{"tag_status": "untagged", "keep_last": 10, "keep_days": 3}])["rules[0]"]


@pytest.mark.parametrize("bad", [0, -1, "10", True, 2.5])
def test_a_count_that_is_not_a_positive_whole_number_is_refused(bad):
    assert "whole number" in refused([{"tag_status": "untagged", "keep_last": bad}])["rules[0].keep_last"]


def test_protect_false_is_refused():
    assert "must be true" in refused([{"tag_prefixes": ["v"], "protect": False}])["rules[0].protect"]


@pytest.mark.parametrize("status", ["untagged", "any"])
def test_protecting_without_tags_is_refused(status):
    assert "tag_prefixes or tag_patterns" in refused([{"tag_status": status, "protect": True}])["rules[0].protect"]


def test_a_rule_without_tag_status_or_tags_is_refused():
    assert "required" in refused([{"keep_last": 10}])["rules[0].tag_status"]


def test_an_unknown_tag_status_is_refused():
    assert "one of tagged, untagged, any" in refused([{"tag_status": "old", "keep_last": 1}])["rules[0].tag_status"]


def test_a_tag_list_given_as_text_is_refused():
    assert "list of strings" in refused([{"tag_prefixes": "release-", "keep_last": 3}])["rules[0].tag_prefixes"]


def test_aws_rules_are_reported_at_the_high_level_path():
    problems = refused([{"tag_patterns": ["*a*b*c*d*"], "keep_last": 3}], path="repositories[2].rules")
    assert "at most 4" in problems["repositories[2].rules[0].tag_patterns[0]"]


def test_two_untagged_rules_are_refused_naming_both_in_the_users_words():
    problems = refused([{"tag_status": "untagged", "keep_last": 10}, {"tag_status": "untagged", "keep_days": 7}])
    assert "rules[0] already does" in problems["rules[1].tag_status"]


def test_untagged_with_tag_patterns_is_refused():
    problems = refused([{"tag_status": "untagged", "tag_patterns": ["v*"], "keep_last": 1}])
    assert "tagStatus is untagged" in problems["rules[0].tag_patterns"]


def test_shape_and_aws_mistakes_in_different_rules_are_reported_together():
    problems = refused([{"tag_status": "untagged", "keep_last": "10"}, {"tag_patterns": [""], "keep_days": 5}])
    assert set(problems) == {"rules[0].keep_last", "rules[1].tag_patterns[0]"}


def test_more_than_fifty_rules_are_refused():
    rules = [{"tag_patterns": [f"app{i}-*"], "keep_last": 5} for i in range(51)]
    assert "51 rules" in refused(rules)["rules"]
