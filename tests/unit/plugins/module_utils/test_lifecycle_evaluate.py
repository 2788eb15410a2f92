"""The local preview applies AWS's evaluation semantics to a repository's images."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import Image, image_from_aws
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_evaluate import (
    Decision,
    evaluate_lifecycle_policy,
    expire_summary,
    rule_in_words,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import is_protect_rule
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import build_lifecycle_policy

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ROLE_DEFAULT = [
    {"description": "Keep the last 10 untagged images", "tag_status": "untagged", "keep_last": 10},
    {"description": "Keep tagged images for 30 days", "tag_status": "tagged", "tag_patterns": ["*"], "keep_days": 30},
]


def image(name, days_ago, *tags, pulled_days_ago=None, archived_days_ago=None):
    return Image(
        digest=f"sha256:{name}",
        tags=tuple(tags),
        pushed_at=NOW - timedelta(days=days_ago),
        last_pulled_at=None if pulled_days_ago is None else NOW - timedelta(days=pulled_days_ago),
        storage_class="standard" if archived_days_ago is None else "archive",
        transitioned_at=None if archived_days_ago is None else NOW - timedelta(days=archived_days_ago),
    )


def rule(priority, status, count_type, number, patterns=None, prefixes=None, action="expire", storage=None):
    selection = {"tagStatus": status}
    if patterns:
        selection["tagPatternList"] = patterns
    if prefixes:
        selection["tagPrefixList"] = prefixes
    if storage:
        selection["storageClass"] = storage
    selection["countType"] = count_type
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    selection["countNumber"] = number
    aws_action = {"type": action} if action == "expire" else {"type": action, "targetStorageClass": "archive"}
    return {"rulePriority": priority, "selection": selection, "action": aws_action}


def acted_on(doc, images):
    return {
        d.digest.removeprefix("sha256:"): (d.action, d.rule_priority)
        for d in evaluate_lifecycle_policy(doc, images, NOW)
    }


def test_fifteen_untagged_images_and_the_role_default_expire_exactly_the_five_oldest():
    images = [image(f"u{i:02}", days_ago=i) for i in range(1, 16)]
    decisions = evaluate_lifecycle_policy(build_lifecycle_policy(ROLE_DEFAULT), images, NOW)
    assert [d.digest for d in decisions] == [f"sha256:u{i:02}" for i in (15, 14, 13, 12, 11)]
    assert {d.action for d in decisions} == {"expire"}
    assert decisions[-1].reason == "untagged, 11th newest of 15 untagged images; rule 1 keeps the last 10"
    summary = expire_summary(decisions, images)
    assert summary == {
        "images": 15,
        "rankable": 15,
        "expire": 5,
        "transition": 0,
        "goes_with_index": 0,
        "keep": 10,
        "expire_percent": 33.3,
    }


def test_the_role_default_expires_tagged_images_older_than_30_days():
    images = [image("old", 31, "v1"), image("new", 29, "v2"), image("orphan", 400)]
    decisions = evaluate_lifecycle_policy(build_lifecycle_policy(ROLE_DEFAULT), images, NOW)
    assert [(d.digest, d.rule_priority) for d in decisions] == [("sha256:old", 2)]
    assert decisions[0].reason == "tagged v1, pushed 31 days ago; rule 2 expires images tagged * after 30 days"


def test_aws_multiple_rules_example_a_expires_only_image_a():
    images = [image("A", 10, "beta-1", "prod-1"), image("B", 9, "beta-2", "prod-2"), image("C", 8, "beta-3")]
    doc = {
        "rules": [
            rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["prod"]),
            rule(2, "tagged", "imageCountMoreThan", 1, prefixes=["beta"]),
        ]
    }
    assert acted_on(doc, images) == {"A": ("expire", 1)}


def test_aws_multiple_rules_example_b_expires_a_and_b():
    images = [image("A", 10, "beta-1", "prod-1"), image("B", 9, "beta-2", "prod-2"), image("C", 8, "beta-3", "prod-3")]
    doc = {
        "rules": [
            rule(1, "tagged", "imageCountMoreThan", 1, prefixes=["prod"]),
            rule(2, "tagged", "imageCountMoreThan", 1, prefixes=["beta"]),
        ]
    }
    assert acted_on(doc, images) == {"A": ("expire", 1), "B": ("expire", 1)}


def test_a_higher_rule_that_keeps_an_image_shields_it_from_lower_rules():
    images = [image("release", 100, "release-1"), image("other", 100, "feature-x")]
    doc = {
        "rules": [
            rule(1, "tagged", "imageCountMoreThan", 5, patterns=["release-*"]),
            rule(2, "any", "sinceImagePushed", 30),
        ]
    }
    assert acted_on(doc, images) == {"other": ("expire", 2)}


def test_protected_tags_survive_an_any_rule_that_expires_everything_else():
    doc = build_lifecycle_policy([{"tag_status": "any", "keep_last": 1}, {"tag_prefixes": ["prod"], "protect": True}])
    images = [image("p1", 90, "prod-1"), image("p2", 80, "prod-2"), image("x", 70, "dev"), image("y", 1, "dev-2")]
    assert acted_on(doc, images) == {"x": ("expire", 2)}


def test_rules_apply_in_priority_order_not_document_order():
    images = [image("a", 40, "v1"), image("b", 20, "v2")]
    doc = {
        "rules": [
            rule(2, "tagged", "sinceImagePushed", 10, patterns=["v*"]),
            rule(1, "tagged", "imageCountMoreThan", 1, patterns=["v*"]),
        ]
    }
    assert acted_on(doc, images) == {"a": ("expire", 1)}


def test_each_image_is_acted_on_by_at_most_one_rule():
    images = [image(f"i{n}", 100 + n, "v1", "prod") for n in range(4)]
    doc = {
        "rules": [
            rule(1, "tagged", "imageCountMoreThan", 1, patterns=["prod"]),
            rule(2, "tagged", "sinceImagePushed", 1, patterns=["v*"]),
        ]
    }
    decisions = evaluate_lifecycle_policy(doc, images, NOW)
    assert len({d.digest for d in decisions}) == len(decisions) == 3
    assert {d.rule_priority for d in decisions} == {1}


def test_count_rules_expire_the_oldest_pushed_first():
    images = [image("mid", 5, "v2"), image("new", 1, "v3"), image("old", 9, "v1")]
    decisions = evaluate_lifecycle_policy(
        {"rules": [rule(1, "tagged", "imageCountMoreThan", 1, patterns=["v*"])]}, images, NOW
    )
    assert [d.digest for d in decisions] == ["sha256:old", "sha256:mid"]


def test_all_entries_of_a_tag_list_must_match():
    images = [image("both", 50, "app-1", "stable"), image("one", 50, "app-2")]
    doc = {"rules": [rule(1, "tagged", "sinceImagePushed", 10, patterns=["app-*", "stable"])]}
    assert acted_on(doc, images) == {"both": ("expire", 1)}


def test_a_pattern_matches_the_whole_tag_and_a_prefix_its_start():
    images = [image("p", 50, "v1.2-rc"), image("q", 50, "xv1")]
    assert acted_on({"rules": [rule(1, "tagged", "sinceImagePushed", 10, patterns=["v*rc"])]}, images) == {
        "p": ("expire", 1)
    }
    assert acted_on({"rules": [rule(1, "tagged", "sinceImagePushed", 10, prefixes=["v1"])]}, images) == {
        "p": ("expire", 1)
    }


def test_an_image_exactly_at_the_age_limit_is_kept():
    assert acted_on({"rules": [rule(1, "untagged", "sinceImagePushed", 30)]}, [image("u", 30)]) == {}


def test_images_not_pulled_for_long_are_archived():
    images = [
        image("cold", 200, "v1", pulled_days_ago=120),
        image("warm", 200, "v2", pulled_days_ago=3),
        image("never", 100, "v3"),
        image("fresh", 10, "v4"),
    ]
    doc = {"rules": [rule(1, "any", "sinceImagePulled", 90, action="transition")]}
    decisions = evaluate_lifecycle_policy(doc, images, NOW)
    assert {d.digest: d.action for d in decisions} == {"sha256:cold": "transition", "sha256:never": "transition"}
    assert "never pulled, pushed 100 days ago" in next(d.reason for d in decisions if d.digest == "sha256:never")
    assert expire_summary(decisions, images)["transition"] == 2
    assert expire_summary(decisions, images)["expire_percent"] == 0.0


def test_rules_act_only_on_images_in_their_storage_class():
    images = [
        image("standard-old", 500, "v1"),
        image("archived-long", 500, "v2", archived_days_ago=400),
        image("archived-recent", 500, "v3", archived_days_ago=10),
    ]
    doc = {
        "rules": [
            rule(1, "any", "sinceImagePulled", 90, action="transition"),
            rule(2, "any", "sinceImageTransitioned", 365, storage="archive"),
        ]
    }
    assert acted_on(doc, images) == {"standard-old": ("transition", 1), "archived-long": ("expire", 2)}


def test_image_from_aws_reads_a_describe_images_item():
    pushed, pulled = NOW - timedelta(days=3), NOW - timedelta(days=1)
    detail = {
        "registryId": "123456789012",
        "repositoryName": "team/app",
        "imageDigest": "sha256:abc",
        "imageTags": ["v1", "latest"],
        "imagePushedAt": pushed,
        "lastRecordedPullTime": pulled,
        "imageSizeInBytes": 1234,
    }
    assert image_from_aws(detail) == Image("sha256:abc", ("v1", "latest"), pushed, pulled, "standard", None)


@pytest.mark.parametrize(
    ("status", "storage"), [("ACTIVE", "standard"), ("ARCHIVED", "archive"), ("ACTIVATING", "archive")]
)
def test_image_from_aws_reads_the_storage_class_from_the_image_status(status, storage):
    archived = NOW - timedelta(days=2)
    detail = {"imageDigest": "sha256:x", "imagePushedAt": NOW, "imageStatus": status, "lastArchivedAt": archived}
    result = image_from_aws(detail)
    assert (result.tags, result.storage_class, result.transitioned_at) == ((), storage, archived)


def test_an_empty_repository_expires_nothing():
    assert expire_summary(evaluate_lifecycle_policy(build_lifecycle_policy(ROLE_DEFAULT), [], NOW), []) == {
        "images": 0,
        "rankable": 0,
        "expire": 0,
        "goes_with_index": 0,
        "transition": 0,
        "keep": 0,
        "expire_percent": 0.0,
    }


def test_a_decision_carries_digest_tags_action_priority_and_reason():
    decisions = evaluate_lifecycle_policy(
        {"rules": [rule(3, "tagged", "imageCountMoreThan", 1, patterns=["v*"])]},
        [image("a", 2, "v1", "latest"), image("b", 1, "v2")],
        NOW,
    )
    assert decisions == [
        Decision(
            "sha256:a",
            ("v1", "latest"),
            "expire",
            3,
            "tagged v1, latest, 2nd newest of 2 images tagged v*; rule 3 keeps the last 1",
        )
    ]


@pytest.mark.parametrize(
    ("rule_in_plain_words", "words"),
    [
        (
            {"tag_patterns": ["v*"], "protect": True},
            "protected: images tagged v*, which no later rule expires or archives",
        ),
        ({"tag_status": "untagged", "keep_last": 10}, "keep the last 10 untagged images"),
        (
            {"tag_prefixes": ["feature-"], "keep_days": 14},
            "expire images tagged with prefix feature- 14 days after push",
        ),
        ({"tag_status": "any", "archive_after_days": 180}, "archive images 180 days after push"),
        ({"tag_status": "any", "archive_if_unpulled_days": 90}, "archive images not pulled for 90 days"),
        ({"tag_status": "any", "delete_archived_after_days": 365}, "delete archived images 365 days after archiving"),
    ],
)
def test_every_rule_reads_in_plain_words_and_a_protect_rule_reads_protected(rule_in_plain_words, words):
    (aws_rule,) = build_lifecycle_policy([rule_in_plain_words])["rules"]
    assert rule_in_words(aws_rule) == words
    assert is_protect_rule(aws_rule) is ("protect" in rule_in_plain_words)


def test_a_raw_count_rule_below_the_protect_count_is_not_read_as_protected():
    assert is_protect_rule(rule(1, "tagged", "imageCountMoreThan", 9999, patterns=["v*"])) is False
    assert is_protect_rule(rule(1, "tagged", "imageCountMoreThan", 999999, patterns=["v*"])) is True
