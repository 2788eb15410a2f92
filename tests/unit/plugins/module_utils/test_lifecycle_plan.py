"""ecr_lifecycle's parameters become one spec per repository; the guard refuses a policy that expires too much."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import Image
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    DEFAULT_MAX_EXPIRE_PERCENT,
    LifecycleSpec,
    desired_lifecycle_policies,
    desired_repositories_with_lifecycle,
    guard_refusal,
    lifecycle_preview,
    parse_current_policy,
    plan_lifecycle,
    policy_changes,
    preview_text,
    refused_plans,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import build_lifecycle_policy

NOW = datetime(2025, 6, 1, tzinfo=UTC)
KEEP_10_UNTAGGED = [{"tag_status": "untagged", "keep_last": 10}]
KEEP_5_ANY = [{"tag_status": "any", "keep_last": 5}]


def problems_of(params):
    with pytest.raises(InvalidInput) as caught:
        desired_lifecycle_policies(params)
    return {p.path: p.message for p in caught.value.problems}


def test_shared_rules_apply_to_every_repository_without_its_own():
    specs, warnings = desired_lifecycle_policies(
        {"repositories": ["api", {"name": "batch", "rules": KEEP_5_ANY}], "rules": KEEP_10_UNTAGGED}
    )
    assert specs == [
        LifecycleSpec("api", "repositories[0]", build_lifecycle_policy(KEEP_10_UNTAGGED), DEFAULT_MAX_EXPIRE_PERCENT),
        LifecycleSpec("batch", "repositories[1]", build_lifecycle_policy(KEEP_5_ANY), DEFAULT_MAX_EXPIRE_PERCENT),
    ]
    assert warnings == []


def test_a_repository_may_give_its_own_raw_policy_and_limit():
    doc = build_lifecycle_policy(KEEP_5_ANY)
    specs, _warnings = desired_lifecycle_policies(
        {"repositories": [{"name": "api", "policy": doc, "max_expire_percent": 80}], "max_expire_percent": 10}
    )
    assert (specs[0].policy, specs[0].max_expire_percent) == (doc, 80.0)


def test_state_absent_needs_no_policy():
    specs, _warnings = desired_lifecycle_policies({"repositories": ["api"], "state": "absent"})
    assert specs[0].policy is None


def test_a_repository_without_any_policy_is_refused():
    assert "has no lifecycle policy" in problems_of({"repositories": ["api"]})["repositories[0]"]


def test_rules_and_policy_in_one_entry_are_refused():
    entry = {"name": "api", "rules": KEEP_5_ANY, "policy": build_lifecycle_policy(KEEP_5_ANY)}
    assert "not both" in problems_of({"repositories": [entry]})["repositories[0]"]


def test_an_unknown_entry_key_is_refused():
    entry = {"name": "api", "keep_last": 3}
    assert "unknown option" in problems_of({"repositories": [entry], "rules": KEEP_5_ANY})["repositories[0].keep_last"]


def test_a_repository_listed_twice_is_refused():
    problems = problems_of({"repositories": ["api", "api"], "rules": KEEP_5_ANY})
    assert "listed twice" in problems["repositories[1]"]


def test_an_invalid_repository_name_is_refused():
    assert "not valid for ECR" in problems_of({"repositories": ["Api"], "rules": KEEP_5_ANY})["repositories[0]"]


def test_no_repositories_are_refused():
    assert "at least one" in problems_of({"repositories": [], "rules": KEEP_5_ANY})["repositories"]


@pytest.mark.parametrize("bad", [-1, 100.5, "50", True])
def test_max_expire_percent_outside_0_to_100_is_refused(bad):
    assert (
        "0 to 100"
        in problems_of({"repositories": ["api"], "rules": KEEP_5_ANY, "max_expire_percent": bad})["max_expire_percent"]
    )


def test_errors_in_shared_and_own_rules_are_reported_together_with_their_paths():
    problems = problems_of(
        {
            "repositories": [{"name": "api", "policy": {"rules": []}}],
            "rules": [{"tag_status": "untagged", "keep_last": 0}],
        }
    )
    assert {"rules[0].keep_last", "repositories[0].policy", "repositories[0].policy.rules"} <= set(problems)


def test_a_warning_of_the_shared_rules_is_given_once():
    rules = [{"tag_status": "any", "delete_archived_after_days": 30}]
    _specs, warnings = desired_lifecycle_policies({"repositories": ["a1", "a2", "a3"], "rules": rules})
    assert len(warnings) == 1 and warnings[0].startswith("rules[0].delete_archived_after_days: ")


@pytest.mark.parametrize(
    ("current", "desired", "changes"),
    [
        (None, {"rules": []}, ["created"]),
        ({"rules": [1]}, None, ["deleted"]),
        (None, None, []),
        (build_lifecycle_policy(KEEP_5_ANY), build_lifecycle_policy(KEEP_5_ANY), []),
        (build_lifecycle_policy(KEEP_5_ANY), build_lifecycle_policy(KEEP_10_UNTAGGED), ["updated"]),
    ],
)
def test_policy_changes_name_what_a_write_would_do(current, desired, changes):
    assert policy_changes(current, desired) == changes


def test_stored_text_that_is_not_json_compares_as_different():
    assert parse_current_policy(None) is None
    assert policy_changes(parse_current_policy("{not json"), build_lifecycle_policy(KEEP_5_ANY)) == ["updated"]


def untagged_images(count):
    return [Image(f"sha256:{n:02}", (), NOW - timedelta(days=count - n)) for n in range(count)]


def test_the_preview_lists_images_with_push_time_and_reason():
    preview = lifecycle_preview(build_lifecycle_policy(KEEP_10_UNTAGGED), untagged_images(12), NOW)
    assert preview["summary"]["expire"] == 2
    assert preview["expire"][0] == {
        "digest": "sha256:00",
        "tags": [],
        "pushed_at": "2025-05-20T00:00:00+00:00",
        "rule_priority": 1,
        "reason": "untagged, 12th newest of 12 untagged images; rule 1 keeps the last 10",
        "kind": "image",
    }
    assert preview["transition"] == []


def test_the_guard_allows_a_share_up_to_the_limit():
    preview = lifecycle_preview(build_lifecycle_policy(KEEP_10_UNTAGGED), untagged_images(20), NOW)
    assert guard_refusal(LifecycleSpec("api", "repositories[0]", None, 50), preview) is None


def test_the_guard_refuses_more_than_the_limit_naming_repository_share_and_option():
    preview = lifecycle_preview(build_lifecycle_policy(KEEP_10_UNTAGGED), untagged_images(15), NOW)
    refusal = guard_refusal(LifecycleSpec("api", "repositories[0]", None, 10), preview)
    assert refusal == (
        "api (repositories[0]): the new policy would expire 5 of its 15 images (33.3%), "
        "more than max_expire_percent 10%"
    )


def test_the_preview_text_is_capped_for_diff_mode():
    preview = lifecycle_preview(build_lifecycle_policy(KEEP_10_UNTAGGED), untagged_images(14), NOW)
    text = preview_text(preview, limit=3)
    assert text.splitlines() == [
        "preview: 4 of 14 images would expire (28.6%), 0 would be archived",
        "  rule 1 (keep the last 10 untagged images): 14 images, 4 expire",
        "    expire sha256:00: untagged, 14th newest of 14 untagged images; rule 1 keeps the last 10",
        "    expire sha256:01: untagged, 13th newest of 14 untagged images; rule 1 keeps the last 10",
        "    expire sha256:02: untagged, 12th newest of 14 untagged images; rule 1 keeps the last 10",
        "    ... and 1 more (expire)",
    ]


def repository_problems_of(params):
    with pytest.raises(InvalidInput) as caught:
        desired_repositories_with_lifecycle(params)
    return {p.path: p.message for p in caught.value.problems}


def test_ecr_repository_shared_lifecycle_applies_to_every_repository_without_its_own():
    specs, lifecycles, _warnings = desired_repositories_with_lifecycle(
        {
            "repositories": ["api", {"name": "batch", "lifecycle": {"rules": KEEP_5_ANY, "max_expire_percent": 80}}],
            "lifecycle": {"rules": KEEP_10_UNTAGGED, "max_expire_percent": 10},
        }
    )
    assert [s.name for s in specs] == ["api", "batch"]
    assert lifecycles == [
        LifecycleSpec("api", "repositories[0]", build_lifecycle_policy(KEEP_10_UNTAGGED), 10.0),
        LifecycleSpec("batch", "repositories[1]", build_lifecycle_policy(KEEP_5_ANY), 80.0),
    ]


def test_ecr_repository_own_limit_alone_keeps_the_shared_rules_and_the_shared_limit_is_the_fallback():
    _specs, lifecycles, _warnings = desired_repositories_with_lifecycle(
        {
            "repositories": [
                {"name": "api", "lifecycle": {"max_expire_percent": 70}},
                {"name": "web", "lifecycle": {}},
            ],
            "lifecycle": {"rules": KEEP_10_UNTAGGED, "max_expire_percent": 20},
        }
    )
    assert [(lc.policy, lc.max_expire_percent) for lc in lifecycles] == [
        (build_lifecycle_policy(KEEP_10_UNTAGGED), 70.0),
        (build_lifecycle_policy(KEEP_10_UNTAGGED), 20.0),
    ]


def test_ecr_repository_without_any_lifecycle_leaves_it_unmanaged():
    _specs, lifecycles, _warnings = desired_repositories_with_lifecycle(
        {"repositories": ["api", {"name": "web", "lifecycle": {"rules": KEEP_5_ANY}}]}
    )
    assert lifecycles[0] is None
    assert lifecycles[1].policy == build_lifecycle_policy(KEEP_5_ANY)


def test_ecr_repository_absent_does_not_read_lifecycle():
    _specs, lifecycles, _warnings = desired_repositories_with_lifecycle(
        {"repositories": [{"name": "api", "lifecycle": {"bogus": 1}}], "state": "absent", "lifecycle": {"rules": []}}
    )
    assert lifecycles == [None]


def test_ecr_repository_lifecycle_problems_carry_their_paths_with_the_settings_problems():
    problems = repository_problems_of(
        {
            "repositories": [
                "Api",
                {"name": "web", "lifecycle": {"policy": {"rules": []}, "keep_last": 3}},
                {"name": "ops", "lifecycle": ["keep"]},
                {"name": "batch", "lifecycle": {"rules": KEEP_5_ANY, "max_expire_percent": 120}},
            ],
            "scan_on_push": "yes",
            "lifecycle": {"rules": [{"tag_status": "untagged", "keep_last": 0}]},
        }
    )
    assert {
        "repositories[0]",
        "scan_on_push",
        "lifecycle.rules[0].keep_last",
        "repositories[1].lifecycle.policy.rules",
        "repositories[1].lifecycle.keep_last",
        "repositories[2].lifecycle",
        "repositories[3].lifecycle.max_expire_percent",
    } <= set(problems)
    assert "unknown option" in problems["repositories[1].lifecycle.keep_last"]


def test_ecr_repository_lifecycle_without_rules_or_policy_anywhere_is_refused():
    problems = repository_problems_of({"repositories": [{"name": "api", "lifecycle": {"max_expire_percent": 80}}]})
    assert "has no lifecycle policy" in problems["repositories[0].lifecycle"]


def test_a_plan_reports_the_stored_policy_until_applied_and_only_new_policies_are_guarded():
    spec = LifecycleSpec("api", "repositories[0]", build_lifecycle_policy(KEEP_10_UNTAGGED), 10)
    plan = plan_lifecycle(spec, None).previewed(untagged_images(15), NOW)
    assert plan.changes == ["created"]
    assert plan.result()["policy"] == spec.policy
    assert plan.result(applied=False)["policy"] is None
    assert refused_plans([plan]) == [(plan, guard_refusal(spec, plan.preview))]
    unchanged = plan_lifecycle(spec, json.dumps(spec.policy))
    assert unchanged.changes == [] and unchanged.previewed(untagged_images(15), NOW).preview is None
