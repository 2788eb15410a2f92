"""ecr_repository's lifecycle option against moto: one module call converges repositories and their
lifecycle policies; what moto holds after each run, and which calls were made, is the assertion."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr_lifecycle import EcrLifecycle
from ansible_collections.cloudops.ecr.plugins.modules import ecr_repository
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import build_lifecycle_policy
from ansible_collections.cloudops.ecr.tests.unit.plugins.modules.test_ecr_lifecycle import (
    ROLE_DEFAULT,
    push_untagged,
    rule,
    stored_policy,
)

REPOS = ["example-org/api", "example-org/web"]
KEEP_5_ANY = [{"tag_status": "any", "keep_last": 5}]
EXPIRES_MOST = [{"tag_status": "untagged", "keep_last": 2}]


def exists(ecr, name):
    return name in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}


def scan_on_push(ecr, name):
    repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    return repo["imageScanningConfiguration"]["scanOnPush"]


def by_name(result):
    return {r["name"]: r for r in result["repositories"]}


def test_a_cold_run_creates_the_repositories_with_their_lifecycle_policies(aws, run_module):
    ecr = aws("ecr")
    result = run_module(ecr_repository, {"repositories": REPOS, "lifecycle": {"rules": ROLE_DEFAULT}})
    assert result["changed"] is True
    expected = build_lifecycle_policy(ROLE_DEFAULT)
    for name in REPOS:
        assert exists(ecr, name)
        assert stored_policy(ecr, name) == expected
    first = result["repositories"][0]
    assert first["changes"] == ["created", "lifecycle_policy"]
    assert first["lifecycle"]["changes"] == ["created"]
    assert first["lifecycle"]["policy"] == expected
    assert result["registry_id"] == DEFAULT_ACCOUNT_ID
    assert result["partition"] == "aws"


def test_an_unchanged_rerun_reads_each_repository_once_per_kind_and_writes_nothing(aws, run_module, api_calls):
    names = [f"svc-{i:02d}" for i in range(12)]
    args = {"repositories": names, "tags": {"team": "platform"}, "lifecycle": {"rules": ROLE_DEFAULT}}
    run_module(ecr_repository, args)
    api_calls.clear()
    result = run_module(ecr_repository, args)
    assert result["changed"] is False
    assert api_calls.writes == []
    assert api_calls.count("DescribeRepositories") == 1
    assert api_calls.count("ListTagsForResource") == len(names)
    assert api_calls.count("GetLifecyclePolicy") == len(names)
    assert len(api_calls.reads) == 1 + 2 * len(names)
    assert {r["lifecycle"]["changed"] for r in result["repositories"]} == {False}
    assert result["repositories"][0]["lifecycle"]["policy"] == build_lifecycle_policy(ROLE_DEFAULT)
    assert result["registry_id"] == DEFAULT_ACCOUNT_ID


def test_changed_rules_update_only_the_lifecycle_policy(aws, run_module, api_calls):
    ecr = aws("ecr")
    run_module(ecr_repository, {"repositories": REPOS, "lifecycle": {"rules": ROLE_DEFAULT}})
    api_calls.clear()
    result = run_module(ecr_repository, {"repositories": REPOS, "lifecycle": {"rules": KEEP_5_ANY}})
    assert result["changed"] is True
    assert [r["changes"] for r in result["repositories"]] == [["lifecycle_policy"], ["lifecycle_policy"]]
    assert result["repositories"][0]["lifecycle"]["changes"] == ["updated"]
    assert sorted(api_calls.writes) == ["PutLifecyclePolicy", "PutLifecyclePolicy"]
    assert stored_policy(ecr, "example-org/web") == build_lifecycle_policy(KEEP_5_ANY)


def test_a_repository_lifecycle_replaces_the_shared_rules(aws, run_module):
    ecr = aws("ecr")
    run_module(
        ecr_repository,
        {
            "repositories": ["example-org/api", {"name": "example-org/web", "lifecycle": {"rules": KEEP_5_ANY}}],
            "lifecycle": {"rules": ROLE_DEFAULT},
        },
    )
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)
    assert stored_policy(ecr, "example-org/web") == build_lifecycle_policy(KEEP_5_ANY)


def test_a_repository_max_expire_percent_falls_back_to_the_shared_one_and_may_raise_it(aws, run_module):
    ecr = aws("ecr")
    for name in REPOS:
        ecr.create_repository(repositoryName=name)
        push_untagged(ecr, name, 15)  # the role default expires 5 of 15: 33.3%
    result = run_module(
        ecr_repository,
        {
            "repositories": ["example-org/api", {"name": "example-org/web", "lifecycle": {"max_expire_percent": 40}}],
            "lifecycle": {"rules": ROLE_DEFAULT, "max_expire_percent": 10},
        },
    )
    assert result["failed"] is True
    assert "example-org/api (repositories[0])" in result["msg"]
    assert "example-org/web" not in result["msg"]


def test_a_repository_without_lifecycle_keeps_the_policy_put_by_hand(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="legacy")
    by_hand = {"rules": [rule(1, countNumber=3)]}
    ecr.put_lifecycle_policy(repositoryName="legacy", lifecyclePolicyText=json.dumps(by_hand))
    api_calls.clear()
    result = run_module(
        ecr_repository,
        {"repositories": ["legacy", {"name": "example-org/api", "lifecycle": {"rules": ROLE_DEFAULT}}]},
    )
    assert by_name(result)["legacy"]["lifecycle"] is None
    assert by_name(result)["legacy"]["changed"] is False
    assert api_calls.count("GetLifecyclePolicy") == 0  # legacy: not managed; example-org/api: new
    assert stored_policy(ecr, "legacy") == by_hand
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)


def test_check_mode_writes_nothing_and_reports_the_policies_as_created(aws, run_module, api_calls):
    ecr = aws("ecr")
    result = run_module(ecr_repository, {"repositories": REPOS, "lifecycle": {"rules": ROLE_DEFAULT}}, check_mode=True)
    assert api_calls.writes == []
    assert not exists(ecr, "example-org/api")
    assert result["changed"] is True
    first = result["repositories"][0]
    assert first["changes"] == ["created", "lifecycle_policy"]
    assert first["lifecycle"]["changes"] == ["created"]
    assert first["lifecycle"]["policy"] == build_lifecycle_policy(ROLE_DEFAULT)
    assert result["registry_id"] == DEFAULT_ACCOUNT_ID
    assert api_calls.count("DescribeRegistry") == 1


def test_invalid_lifecycle_input_is_refused_with_its_paths_before_any_call(aws, run_module, api_calls):
    ecr = aws("ecr")
    api_calls.clear()
    result = run_module(
        ecr_repository,
        {
            "repositories": [
                "example-org/new",
                {"name": "example-org/api", "lifecycle": {"rules": [{"tag_status": "untagged", "keep_last": 0}]}},
                {"name": "example-org/web", "lifecycle": {"policy": {"rules": [rule(0)]}, "keep": 1}},
                {"name": "example-org/ops", "lifecycle": "keep 5"},
            ],
            "lifecycle": {"rules": [{"tag_patterns": ["*"], "keep_dayz": 30}]},
        },
    )
    assert result["failed"] is True
    assert {
        "lifecycle.rules[0].keep_dayz",
        "repositories[1].lifecycle.rules[0].keep_last",
        "repositories[2].lifecycle.policy.rules[0].rulePriority",
        "repositories[2].lifecycle.keep",
        "repositories[3].lifecycle",
    } <= {p["path"] for p in result["problems"]}
    assert "lifecycle.rules[0].keep_dayz: " in result["msg"]
    assert api_calls.calls == []
    assert not exists(ecr, "example-org/new")


def test_a_repository_lifecycle_without_rules_or_policy_anywhere_is_refused(aws, run_module, api_calls):
    api_calls.clear()
    result = run_module(
        ecr_repository, {"repositories": [{"name": "example-org/api", "lifecycle": {"max_expire_percent": 80}}]}
    )
    assert result["failed"] is True
    assert "repositories[0].lifecycle: has no lifecycle policy" in result["msg"]
    assert api_calls.calls == []


def test_invalid_repository_settings_and_lifecycle_are_reported_together(aws, run_module):
    result = run_module(
        ecr_repository,
        {"repositories": ["Bad_Name"], "scan_on_push": True, "lifecycle": {"policy": {"rules": []}}},
    )
    paths = {p["path"] for p in result["problems"]}
    assert "repositories[0]" in paths
    assert any(path.startswith("lifecycle.policy") for path in paths)


def test_the_guard_refuses_and_writes_nothing_not_even_the_repository_settings(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="example-org/api", imageScanningConfiguration={"scanOnPush": False})
    push_untagged(ecr, "example-org/api", 10)
    api_calls.clear()
    result = run_module(
        ecr_repository,
        {
            "repositories": ["example-org/new", "example-org/api"],
            "scan_on_push": True,
            "lifecycle": {"rules": EXPIRES_MOST},
        },
    )
    assert result["failed"] is True
    assert "example-org/api (repositories[1])" in result["msg"]
    assert "80.0%" in result["msg"] and "max_expire_percent 50%" in result["msg"]
    assert "Nothing was changed" in result["msg"]
    assert api_calls.writes == []
    assert scan_on_push(ecr, "example-org/api") is False
    assert not exists(ecr, "example-org/new")
    assert stored_policy(ecr, "example-org/api") is None
    refused = by_name(result)["example-org/api"]["lifecycle"]
    assert len(refused["preview"]["expire"]) == 8
    assert refused["policy"] is None


def test_a_policy_within_the_guard_is_previewed_and_applied(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="example-org/api")
    digests = push_untagged(ecr, "example-org/api", 15)
    result = run_module(ecr_repository, {"repositories": ["example-org/api"], "lifecycle": {"rules": ROLE_DEFAULT}})
    preview = result["repositories"][0]["lifecycle"]["preview"]
    assert [image["digest"] for image in preview["expire"]] == digests[:5]
    assert preview["summary"]["expire_percent"] == 33.3
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)


def test_diff_shows_the_lifecycle_policy_and_the_preview(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="example-org/api")
    old = {"rules": [rule(1, countNumber=3)]}
    ecr.put_lifecycle_policy(repositoryName="example-org/api", lifecyclePolicyText=json.dumps(old))
    push_untagged(ecr, "example-org/api", 12)
    result = run_module(
        ecr_repository,
        {"repositories": ["example-org/api"], "lifecycle": {"rules": ROLE_DEFAULT}},
        check_mode=True,
        diff=True,
    )
    shown = result["diff"][0]
    assert shown["before"]["lifecycle_policy"] == old
    assert shown["after"]["lifecycle_policy"] == build_lifecycle_policy(ROLE_DEFAULT)
    assert shown["prepared"].startswith("preview: 2 of 12 images would expire (16.7%)")


def test_absent_does_not_use_lifecycle_and_still_names_the_registry(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="example-org/old")
    api_calls.clear()
    result = run_module(
        ecr_repository,
        {"repositories": ["example-org/old"], "state": "absent", "lifecycle": {"rules": ROLE_DEFAULT}},
    )
    assert result["repositories"][0]["changes"] == ["deleted"]
    assert result["repositories"][0]["lifecycle"] is None
    assert api_calls.count("GetLifecyclePolicy") == 0
    assert result["registry_id"] == DEFAULT_ACCOUNT_ID
    assert not exists(ecr, "example-org/old")


def test_a_failed_lifecycle_write_reports_what_was_written(aws, run_module, monkeypatch):
    ecr = aws("ecr")
    put = EcrLifecycle.put

    def refuse_web(self, name, doc):
        if name == "example-org/web":
            denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutLifecyclePolicy")
            raise AnsibleAWSError(message=f"Failed to write the lifecycle policy of {name}", exception=denied)
        put(self, name, doc)

    monkeypatch.setattr(EcrLifecycle, "put", refuse_web)
    result = run_module(ecr_repository, {"repositories": REPOS, "lifecycle": {"rules": ROLE_DEFAULT}})
    assert result["failed"] is True
    assert "Failed to write the lifecycle policy of example-org/web: " in result["msg"]
    done = by_name(result)
    assert done["example-org/api"]["lifecycle"]["changes"] == ["created"]
    assert done["example-org/web"]["changes"] == ["created"] and done["example-org/web"]["lifecycle"] is None
    assert stored_policy(ecr, "example-org/api") == build_lifecycle_policy(ROLE_DEFAULT)
