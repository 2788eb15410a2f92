"""ecr_lifecycle against moto: what moto holds, and which calls were made, is the assertion."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecr.models import ecr_backends

from ansible_collections.cloudops.ecr.plugins.modules import ecr_lifecycle
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import build_lifecycle_policy

REGION = "eu-west-1"
ROLE_DEFAULT = [
    {"description": "Keep the last 10 untagged images", "tag_status": "untagged", "keep_last": 10},
    {"description": "Keep tagged images for 30 days", "tag_status": "tagged", "tag_patterns": ["*"], "keep_days": 30},
]
AWS_ARCHIVE_EXAMPLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled for 90 days",
            "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 90},
            "action": {"type": "transition", "targetStorageClass": "archive"},
        },
        {
            "rulePriority": 2,
            "description": "Delete images archived for a year",
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
}


def stored_policy(ecr, name):
    try:
        return json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return None


def push_untagged(ecr, name, count):
    """``count`` untagged images, the first pushed ``count`` days ago, the last 1 day ago; digests oldest first."""
    digests = []
    for n in range(count):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": f"sha256:{n:064x}",
                "size": 100,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [
                {
                    "digest": f"sha256:{n + 1000:064x}",
                    "size": 10,
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                }
            ],
        }
        digests.append(
            ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest))["image"]["imageId"]["imageDigest"]
        )
    # moto stamps every push with the current second: spread them over days, as a real repository is.
    now = datetime.now(UTC)
    for image in ecr_backends[DEFAULT_ACCOUNT_ID][REGION].repositories[name].images:
        age = count - digests.index(image.image_digest)
        image.image_pushed_at = int((now - timedelta(days=age)).timestamp())
    return digests


def rule(priority, **selection):
    base = {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10}
    return {"rulePriority": priority, "selection": {**base, **selection}, "action": {"type": "expire"}}


def tagged(priority, **selection):
    return rule(priority, **{"tagStatus": "tagged", "tagPatternList": ["v*"], **selection})


def without(doc, key):
    doc = copy.deepcopy(doc)
    del doc["rules"][0]["selection"][key]
    return doc


# What moto 5.2.5 accepts and AWS rejects (REFERENCE.md), and the field each must be refused at.
MOTO_ACCEPTS_AWS_REJECTS = {
    "tagged without a list": (without({"rules": [tagged(1)]}, "tagPatternList"), "rules[0].selection.tagPatternList"),
    "duplicate rulePriority": ({"rules": [rule(1), tagged(1)]}, "rules[1].rulePriority"),
    "rulePriority 0": ({"rules": [rule(0)]}, "rules[0].rulePriority"),
    "negative rulePriority": ({"rules": [rule(-2)]}, "rules[0].rulePriority"),
    "string rulePriority": ({"rules": [rule("1")]}, "rules[0].rulePriority"),
    "any not last": ({"rules": [rule(1, tagStatus="any"), tagged(2)]}, "rules[0].rulePriority"),
    "two any rules": ({"rules": [rule(1, tagStatus="any"), rule(2, tagStatus="any")]}, "rules[1].selection.tagStatus"),
    "two untagged rules": ({"rules": [rule(1), rule(2, countNumber=5)]}, "rules[1].selection.tagStatus"),
    "both lists": ({"rules": [tagged(1, tagPrefixList=["v"])]}, "rules[0].selection.tagPrefixList"),
    "untagged with a list": ({"rules": [rule(1, tagPrefixList=["v"])]}, "rules[0].selection.tagPrefixList"),
    "five wildcards": ({"rules": [tagged(1, tagPatternList=["*a*b*c*d*"])]}, "rules[0].selection.tagPatternList[0]"),
    "countUnit with imageCountMoreThan": ({"rules": [rule(1, countUnit="days")]}, "rules[0].selection.countUnit"),
    "sinceImagePushed without countUnit": (
        {"rules": [rule(1, countType="sinceImagePushed", countNumber=14)]},
        "rules[0].selection.countUnit",
    ),
    "51 rules": ({"rules": [tagged(i, tagPatternList=[f"a{i}*"]) for i in range(1, 52)]}, "rules"),
    "countNumber as a string": ({"rules": [rule(1, countNumber="5")]}, "rules[0].selection.countNumber"),
}


@pytest.fixture
def ecr(aws):
    client = aws("ecr")
    for name in ("example-org/api", "example-org/web"):
        client.create_repository(repositoryName=name)
    return client


def test_the_role_default_is_stored_as_the_aws_document(ecr, run_module):
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api", "example-org/web"], "rules": ROLE_DEFAULT})
    assert result["changed"] is True
    assert [r["changes"] for r in result["repositories"]] == [["created"], ["created"]]
    expected = build_lifecycle_policy(ROLE_DEFAULT)
    assert stored_policy(ecr, "example-org/api") == expected
    assert stored_policy(ecr, "example-org/web") == expected
    assert result["repositories"][0]["policy"] == expected


def test_a_rerun_is_unchanged_and_writes_nothing(ecr, run_module, api_calls):
    args = {"repositories": ["example-org/api", "example-org/web"], "rules": ROLE_DEFAULT}
    run_module(ecr_lifecycle, args)
    api_calls.clear()
    result = run_module(ecr_lifecycle, args)
    assert result["changed"] is False
    assert api_calls.writes == []
    assert api_calls.count("PutLifecyclePolicy") == 0
    assert api_calls.count("DescribeImages") == 0
    assert [r["preview"] for r in result["repositories"]] == [None, None]


def test_an_equivalent_stored_policy_is_not_a_change(ecr, run_module, api_calls):
    doc = build_lifecycle_policy(ROLE_DEFAULT)
    reordered = {"rules": [dict(reversed(list(r.items()))) for r in reversed(doc["rules"])]}
    ecr.put_lifecycle_policy(repositoryName="example-org/api", lifecyclePolicyText=json.dumps(reordered, indent=2))
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "rules": ROLE_DEFAULT})
    assert result["changed"] is False
    assert api_calls.writes == []


def test_a_different_stored_policy_is_updated(ecr, run_module):
    ecr.put_lifecycle_policy(
        repositoryName="example-org/api", lifecyclePolicyText=json.dumps({"rules": [rule(1, countNumber=3)]})
    )
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "rules": ROLE_DEFAULT})
    assert result["repositories"][0]["changes"] == ["updated"]
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)


def test_the_preview_of_the_role_default_lists_exactly_the_five_oldest_of_fifteen_untagged(ecr, run_module):
    digests = push_untagged(ecr, "example-org/api", 15)
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "rules": ROLE_DEFAULT})
    preview = result["repositories"][0]["preview"]
    assert [image["digest"] for image in preview["expire"]] == digests[:5]
    assert {key: preview["summary"][key] for key in ("images", "expire", "transition", "keep", "expire_percent")} == {
        "images": 15,
        "expire": 5,
        "transition": 0,
        "keep": 10,
        "expire_percent": 33.3,
    }
    assert preview["summary"]["text"] == "5 of 15 images expire (33.3%), 10 kept"
    assert preview["expire"][-1]["reason"] == "untagged, 11th newest of 15 untagged images; rule 1 keeps the last 10"
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)


def test_check_mode_writes_nothing_and_shows_the_preview(ecr, run_module, api_calls):
    digests = push_untagged(ecr, "example-org/api", 15)
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "rules": ROLE_DEFAULT}, check_mode=True)
    assert result["changed"] is True
    assert api_calls.writes == []
    assert stored_policy(ecr, "example-org/api") is None
    assert [image["digest"] for image in result["repositories"][0]["preview"]["expire"]] == digests[:5]


def test_a_policy_expiring_more_than_max_expire_percent_is_refused_and_nothing_is_written(ecr, run_module, api_calls):
    push_untagged(ecr, "example-org/api", 15)
    api_calls.clear()
    result = run_module(
        ecr_lifecycle,
        {"repositories": ["example-org/web", "example-org/api"], "rules": ROLE_DEFAULT, "max_expire_percent": 10},
    )
    assert result["failed"] is True
    assert "example-org/api" in result["msg"]
    assert "33.3%" in result["msg"]
    assert "max_expire_percent 10%" in result["msg"]
    assert "example-org/web (" not in result["msg"]
    assert api_calls.writes == []
    assert stored_policy(ecr, "example-org/api") is None
    assert stored_policy(ecr, "example-org/web") is None
    refused = result["repositories"][1]
    assert len(refused["preview"]["expire"]) == 5


def test_max_expire_percent_can_be_raised_for_one_repository(ecr, run_module):
    push_untagged(ecr, "example-org/api", 15)
    result = run_module(
        ecr_lifecycle,
        {
            "repositories": [{"name": "example-org/api", "max_expire_percent": 40}],
            "rules": ROLE_DEFAULT,
            "max_expire_percent": 10,
        },
    )
    assert result.get("failed") is not True, result
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)


def test_the_default_guard_refuses_expiring_most_images(ecr, run_module, api_calls):
    push_untagged(ecr, "example-org/api", 10)
    api_calls.clear()
    result = run_module(
        ecr_lifecycle, {"repositories": ["example-org/api"], "rules": [{"tag_status": "untagged", "keep_last": 2}]}
    )
    assert result["failed"] is True
    assert "80.0%" in result["msg"] and "max_expire_percent 50%" in result["msg"]
    assert api_calls.writes == []


def test_a_repository_override_replaces_the_shared_rules(ecr, run_module):
    own = [{"tag_status": "any", "keep_last": 5}]
    run_module(
        ecr_lifecycle,
        {"repositories": ["example-org/api", {"name": "example-org/web", "rules": own}], "rules": ROLE_DEFAULT},
    )
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)
    assert stored_policy(ecr, "example-org/web") == build_lifecycle_policy(own)


def test_a_raw_policy_as_json_text_is_stored_compact(ecr, run_module):
    doc = {"rules": [rule(1, countType="sinceImagePushed", countUnit="days", countNumber=14)]}
    run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "policy": json.dumps(doc, indent=4)})
    text = ecr.get_lifecycle_policy(repositoryName="example-org/api")["lifecyclePolicyText"]
    assert json.loads(text) == doc
    assert "\n" not in text and ", " not in text


def test_the_aws_archive_example_is_accepted_in_check_mode(ecr, run_module, api_calls):
    # moto refuses every 2025 archive feature although AWS accepts them: check mode proves we do not.
    result = run_module(
        ecr_lifecycle, {"repositories": ["example-org/api"], "policy": AWS_ARCHIVE_EXAMPLE}, check_mode=True
    )
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert api_calls.writes == []


def test_archive_rules_in_plain_words_are_accepted_in_check_mode(ecr, run_module):
    rules = [
        {"tag_status": "any", "archive_if_unpulled_days": 90},
        {"tag_status": "any", "delete_archived_after_days": 365},
    ]
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "rules": rules}, check_mode=True)
    assert result.get("failed") is not True, result
    assert result["repositories"][0]["policy"]["rules"][1]["selection"]["storageClass"] == "archive"


@pytest.mark.parametrize("case", MOTO_ACCEPTS_AWS_REJECTS, ids=list(MOTO_ACCEPTS_AWS_REJECTS))
def test_a_policy_moto_accepts_but_aws_rejects_is_refused_before_any_call(ecr, run_module, api_calls, case):
    doc, path = MOTO_ACCEPTS_AWS_REJECTS[case]
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "policy": doc})
    assert result["failed"] is True
    assert f"policy.{path}: " in result["msg"]
    assert api_calls.calls == []
    assert stored_policy(ecr, "example-org/api") is None


def test_every_problem_is_reported_at_once(ecr, run_module, api_calls):
    api_calls.clear()
    result = run_module(
        ecr_lifecycle,
        {
            "repositories": [
                "Bad_Name",
                {"name": "example-org/api", "rules": [{"tag_status": "untagged", "keep_last": 0}]},
            ],
            "rules": [{"tag_patterns": ["*"], "keep_dayz": 30}],
            "max_expire_percent": 120,
        },
    )
    assert result["failed"] is True
    assert {p["path"] for p in result["problems"]} == {
        "max_expire_percent",
        "rules[0]",
        "rules[0].keep_dayz",
        "repositories[0]",
        "repositories[1].rules[0].keep_last",
    }
    assert api_calls.calls == []


def test_rules_and_policy_together_are_refused(ecr, run_module, api_calls):
    api_calls.clear()
    result = run_module(
        ecr_lifecycle, {"repositories": ["example-org/api"], "rules": ROLE_DEFAULT, "policy": {"rules": [rule(1)]}}
    )
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
    assert api_calls.calls == []


def test_a_repository_without_any_policy_is_refused(ecr, run_module):
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"]})
    assert result["failed"] is True
    assert "repositories[0]: has no lifecycle policy" in result["msg"]


def test_a_missing_repository_fails_before_any_write(ecr, run_module, api_calls):
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api", "not-there"], "rules": ROLE_DEFAULT})
    assert result["failed"] is True
    assert "not-there" in result["msg"]
    assert api_calls.writes == []


def test_a_missing_repository_in_check_mode_is_a_policy_to_create(ecr, run_module):
    result = run_module(ecr_lifecycle, {"repositories": ["not-yet"], "rules": ROLE_DEFAULT}, check_mode=True)
    assert result.get("failed") is not True, result
    assert result["repositories"][0]["changes"] == ["created"]
    assert result["repositories"][0]["preview"]["summary"]["images"] == 0


def test_diff_shows_the_policy_before_and_after(ecr, run_module):
    old = {"rules": [rule(1, countNumber=3)]}
    ecr.put_lifecycle_policy(repositoryName="example-org/api", lifecyclePolicyText=json.dumps(old))
    result = run_module(
        ecr_lifecycle, {"repositories": ["example-org/api", "example-org/web"], "rules": ROLE_DEFAULT}, diff=True
    )
    diffs = {d["before_header"]: d for d in result["diff"]}
    assert diffs["example-org/api"]["before"] == old
    assert diffs["example-org/api"]["after"] == build_lifecycle_policy(ROLE_DEFAULT)
    assert diffs["example-org/web"]["before"] == {}


def test_warnings_from_the_rules_reach_the_user(ecr, run_module):
    rules = [{"tag_status": "any", "delete_archived_after_days": 30}]
    result = run_module(
        ecr_lifecycle, {"repositories": ["example-org/api", "example-org/web"], "rules": rules}, check_mode=True
    )
    messages = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
    assert len([m for m in messages if m.startswith("rules[0].delete_archived_after_days: ")]) == 1


def test_absent_removes_the_policy_and_reruns_unchanged(ecr, run_module, api_calls):
    ecr.put_lifecycle_policy(repositoryName="example-org/api", lifecyclePolicyText=json.dumps({"rules": [rule(1)]}))
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api", "example-org/web"], "state": "absent"})
    assert [r["changes"] for r in result["repositories"]] == [["deleted"], []]
    assert stored_policy(ecr, "example-org/api") is None
    api_calls.clear()
    again = run_module(ecr_lifecycle, {"repositories": ["example-org/api", "gone"], "state": "absent"})
    assert again["changed"] is False
    assert api_calls.writes == []


def test_absent_in_check_mode_deletes_nothing(ecr, run_module, api_calls):
    ecr.put_lifecycle_policy(repositoryName="example-org/api", lifecyclePolicyText=json.dumps({"rules": [rule(1)]}))
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": ["example-org/api"], "state": "absent"}, check_mode=True)
    assert result["changed"] is True
    assert api_calls.writes == []
    assert stored_policy(ecr, "example-org/api") == {"rules": [rule(1)]}


def test_diff_mode_shows_what_the_new_policy_would_expire(ecr, run_module):
    digests = push_untagged(ecr, "example-org/api", 15)
    result = run_module(
        ecr_lifecycle, {"repositories": ["example-org/api"], "rules": ROLE_DEFAULT}, check_mode=True, diff=True
    )
    prepared = result["diff"][0]["prepared"]
    assert prepared.startswith("preview: 5 of 15 images would expire (33.3%), 0 would be archived\n")
    listed = [line.split()[1].rstrip(":") for line in prepared.splitlines() if line.startswith("    expire ")]
    assert listed == digests[:5]
