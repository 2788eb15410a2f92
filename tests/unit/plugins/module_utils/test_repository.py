"""Repository rules: names, settings, access policies and the plan of changes (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.ecr_actions import (
    ECR_PULL_ACTIONS as PULL_ACTIONS,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.ecr_actions import (
    ECR_PUSH_ACTIONS as PUSH_ACTIONS,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problems
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    RepositorySpec,
    RepositoryState,
    access_policy,
    is_valid_repository_name,
    plan_repository,
    repository_name_for_github,
    repository_specs,
)


def desired_repositories(params):
    """The specs of a module call's repositories; every problem raised at once."""
    problems = Problems()
    specs = [spec for spec, _entry in repository_specs(params, problems)]
    problems.raise_if_any()
    return specs


@pytest.mark.parametrize(
    "name", ["ab", "a__b", "a---b", "a.b", "a_b", "example-org/app", "a/b/c", "x" * 256, "0a", "v1.2-rc_3"]
)
def test_names_aws_accepts_are_valid(name):
    assert is_valid_repository_name(name)


@pytest.mark.parametrize(
    "name", ["a", "A", "Bad_Name", "a___b", "-a", "a-", "a/", "/a", "a//b", "a..b", "a b", "a" * 257, "", "a._b"]
)
def test_names_aws_rejects_are_invalid(name):
    assert not is_valid_repository_name(name)


def test_github_repository_maps_to_its_lowercased_name():
    assert repository_name_for_github(" Example-Org/My.App ") == "example-org/my.app"


def problems_of(params):
    with pytest.raises(InvalidInput) as exc:
        desired_repositories(params)
    return {p.path: p.message for p in exc.value.problems}


def test_name_too_long_names_its_length():
    problems = problems_of({"repositories": ["a" * 257]})
    assert "257 characters" in problems["repositories[0]"]


def test_duplicate_repository_is_rejected():
    problems = problems_of({"repositories": ["app", {"name": "app"}]})
    assert "listed twice" in problems["repositories[1]"]


def test_unknown_per_repository_option_is_rejected():
    problems = problems_of({"repositories": [{"name": "app", "scan": True}]})
    assert "repositories[0].scan" in problems


def test_exclusion_mode_needs_one_to_five_filters():
    problems = problems_of({"repositories": ["app"], "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION"})
    assert "1 to 5" in problems["mutability_exclusions"]
    problems = problems_of(
        {
            "repositories": ["app"],
            "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
            "mutability_exclusions": ["a"] * 6,
        }
    )
    assert "1 to 5" in problems["mutability_exclusions"]


def test_exclusion_filter_pattern_is_checked():
    problems = problems_of(
        {
            "repositories": ["app"],
            "image_tag_mutability": "MUTABLE_WITH_EXCLUSION",
            "mutability_exclusions": ["bad/tag"],
        }
    )
    assert "mutability_exclusions[0]" in problems


def test_kms_key_needs_kms_encryption():
    assert "kms_key" in problems_of({"repositories": ["app"], "kms_key": "alias/x"})


def test_policy_over_10240_characters_is_rejected():
    statement = {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "ecr:BatchGetImage"}
    policy = {"Version": "2012-10-17", "Statement": [dict(statement, Sid=f"S{i}") for i in range(200)]}
    assert "at most 10240" in problems_of({"repositories": ["app"], "policy": policy})["policy"]


def test_policy_that_is_not_json_is_rejected():
    assert "not valid JSON" in problems_of({"repositories": ["app"], "policy": "{nope"})["policy"]


def test_access_refuses_everyone_and_malformed_principals():
    problems = problems_of(
        {"repositories": ["app"], "access": {"push": ["*"], "pull": ["1234"], "organizations": ["x"]}}
    )
    assert set(problems) == {"access.push[0]", "access.pull[0]", "access.organizations[0]"}


def test_tag_key_starting_with_aws_is_rejected():
    assert "tags.aws:owner" in problems_of({"repositories": ["app"], "tags": {"aws:owner": "x"}})


def test_per_repository_override_replaces_the_shared_setting():
    specs = desired_repositories(
        {"repositories": ["a1", {"name": "b1", "scan_on_push": False}], "scan_on_push": True, "tags": {"t": "1"}}
    )
    assert [(s.name, s.scan_on_push, s.tags) for s in specs] == [("a1", True, {"t": "1"}), ("b1", False, {"t": "1"})]


def test_access_policy_grants_pull_push_and_organization_pull():
    policy = access_policy(
        pull=["222233334444"], push=["arn:aws:iam::111122223333:role/ci"], organizations=["o-abcdefghij"]
    )
    pull, push, org = policy["Statement"]
    assert pull["Action"] == list(PULL_ACTIONS) and pull["Principal"] == {"AWS": ["222233334444"]}
    assert push["Action"] == list(PUSH_ACTIONS)
    assert org["Principal"] == "*" and org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ["o-abcdefghij"]}}


def state(**kw):
    base = dict(name="app", arn="arn", uri="uri", registry_id="1", image_tag_mutability="IMMUTABLE", scan_on_push=True)
    return RepositoryState(**{**base, **kw})


def test_missing_repository_is_planned_for_creation():
    plan = plan_repository(RepositorySpec(name="app"), None, compare_policies)
    assert plan.create and plan.changes == ["created"]


def test_left_out_settings_plan_nothing():
    plan = plan_repository(RepositorySpec(name="app"), state(image_tag_mutability="MUTABLE"), compare_policies)
    assert plan.changes == []


def test_equivalent_policy_in_another_order_is_not_a_change():
    desired = access_policy(pull=["111122223333", "222233334444"])
    current = access_policy(pull=["222233334444", "111122223333"])
    current["Statement"][0]["Action"] = list(reversed(current["Statement"][0]["Action"]))
    plan = plan_repository(RepositorySpec(name="app", policy=desired), state(policy=current), compare_policies)
    assert plan.changes == []


def test_tags_plan_only_the_difference_and_purges_when_asked():
    spec = RepositorySpec(name="app", tags={"a": "1", "b": "2"}, purge_tags=True)
    plan = plan_repository(spec, state(tags={"a": "1", "b": "old", "c": "3"}), compare_policies)
    assert plan.tags_to_set == {"b": "2"} and plan.tags_to_remove == ["c"]


def test_encryption_drift_is_an_error_naming_the_field():
    with pytest.raises(InvalidInput) as exc:
        plan_repository(
            RepositorySpec(name="app", encryption_type="KMS", path="repositories[3]"), state(), compare_policies
        )
    assert exc.value.problems[0].path == "repositories[3].encryption_type"


def test_an_access_list_giving_a_repository_policy_over_ecrs_limit_is_refused():
    roles = [f"arn:aws:iam::123456789012:role/puller-{i:03d}" for i in range(300)]
    problems = problems_of({"repositories": ["app"], "access": {"pull": roles}})
    assert "gives a repository policy of" in problems["access"] and "ECR allows 10240" in problems["access"]
