"""The drift_report and drift_markdown filters, fed what the role's modules return in check mode with diff
against moto: converge, change things behind the collection's back, then report."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.filter.drift import drift_markdown, drift_report
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import github_trust_policy
from ansible_collections.cloudops.ecr.plugins.modules import (
    ecr_lifecycle,
    ecr_registry_settings,
    ecr_repository,
    ecr_repository_access,
    github_oidc_role,
    image_updater_role,
)
from ansible_collections.cloudops.ecr.tests.unit.plugins.modules import conftest as modules_conftest

# The in-process moto fixtures of the module tests (mock_aws, its environment, run_module, api_calls).
aws, aws_environment = modules_conftest.aws, modules_conftest.aws_environment
run_module, api_calls = modules_conftest.run_module, modules_conftest.api_calls

ACCOUNT = "123456789012"
REGION = modules_conftest.REGION
REPOS = ["example-org/api", "example-org/web"]
MEMBERSHIP = {"key": "registry", "value": "cloudops"}
KEEP_10_UNTAGGED = {"description": "Keep the last 10 untagged images", "tag_status": "untagged", "keep_last": 10}
# The role's tasks, by the key their registered result is given to drift_report under.
TASKS = {
    "repositories": (
        ecr_repository,
        {"repositories": REPOS, "scan_on_push": True, "tags": {"team": "platform"}, "membership_tag": MEMBERSHIP},
    ),
    "lifecycle": (ecr_lifecycle, {"repositories": REPOS, "rules": [KEEP_10_UNTAGGED]}),
    "ci_role": (github_oidc_role, {"name": "github-actions", "github_repos": REPOS}),
    "registry_settings": (
        ecr_registry_settings,
        {"scanning": {"scan_type": "BASIC", "rules": [{"frequency": "SCAN_ON_PUSH", "filters": ["*"]}]}},
    ),
    "image_updater": (
        image_updater_role,
        {"name": "argocd-image-updater-dev", "cluster_name": "dev", "repositories": REPOS, "association": False},
    ),
    "pull": (ecr_repository_access, {"repositories": REPOS, "owner": "dev", "pull": ["210987654321"]}),
}
KEEP_3_UNTAGGED = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3},
            "action": {"type": "expire"},
        }
    ]
}


def converge(run_module) -> None:
    for key, (module, args) in TASKS.items():
        assert not run_module(module, args).get("failed"), key


def check_run(run_module, diff: bool = True) -> dict:
    """Every task in check mode (with diff), as the role registers them."""
    return {key: run_module(module, args, check_mode=True, diff=diff) for key, (module, args) in TASKS.items()}


def trust_admitting_a_fork(iam) -> dict:
    provider = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    return github_trust_policy(provider, [*REPOS, "example-org/fork"], ["ref:refs/heads/main"])


def drift_behind_the_collections_back(ecr, iam) -> dict:
    """Scan on push off for one repository, another lifecycle policy on another, a wider CI trust; and a
    repository made by hand. What AWS then holds, by change."""
    ecr.put_image_scanning_configuration(
        repositoryName="example-org/api", imageScanningConfiguration={"scanOnPush": False}
    )
    ecr.put_lifecycle_policy(repositoryName="example-org/web", lifecyclePolicyText=json.dumps(KEEP_3_UNTAGGED))
    trust = trust_admitting_a_fork(iam)
    iam.update_assume_role_policy(RoleName="github-actions", PolicyDocument=json.dumps(trust))
    ecr.create_repository(repositoryName="legacy")
    return {"lifecycle": KEEP_3_UNTAGGED, "trust": trust}


def moto_state(ecr, iam) -> dict:
    """What moto holds that a run could write: repositories, their tags, lifecycle and repository policies,
    the registry's scanning, the roles with their inline policies."""
    state = {"registry_scanning": ecr.get_registry_scanning_configuration()["scanningConfiguration"]}
    for repo in ecr.describe_repositories()["repositories"]:
        name = repo["repositoryName"]
        state[name] = {
            "repository": repo,
            "tags": ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"],
            "lifecycle": _text_or_none(ecr, "get_lifecycle_policy", name, "lifecyclePolicyText"),
            "policy": _text_or_none(ecr, "get_repository_policy", name, "policyText"),
        }
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        state[f"role {name}"] = {
            "role": iam.get_role(RoleName=name)["Role"],
            "policies": {
                policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
            },
        }
    return state


def _text_or_none(ecr, call: str, name: str, key: str):
    try:
        return getattr(ecr, call)(repositoryName=name)[key]
    except (ecr.exceptions.LifecyclePolicyNotFoundException, ecr.exceptions.RepositoryPolicyNotFoundException):
        return None


@pytest.fixture
def drifted(aws, run_module):
    converge(run_module)
    arranged = drift_behind_the_collections_back(aws("ecr"), aws("iam"))
    return arranged, check_run(run_module)


def test_the_report_lists_exactly_what_was_changed_behind_the_collections_back(drifted):
    arranged, results = drifted
    report = drift_report(results, "dev", ACCOUNT, REGION)
    assert [(i["kind"], i["name"], i["change"], i["what"]) for i in report["items"]] == [
        ("repository", "example-org/api", "update", ["scan_on_push"]),
        ("lifecycle", "example-org/web", "update", ["lifecycle policy"]),
        ("ci_role", "github-actions", "update", ["trust policy"]),
    ]
    assert report["drift"] is True
    assert report["count"] == 3
    assert report["unmanaged"] == ["legacy"]
    assert (report["environment"], report["account_id"], report["region"]) == ("dev", ACCOUNT, REGION)
    scan, lifecycle, ci_role = report["items"]
    assert (scan["before"], scan["after"]) == ({"scan_on_push": False}, {"scan_on_push": True})
    assert lifecycle["before"] == {"lifecycle policy": arranged["lifecycle"]}
    assert lifecycle["after"] == {"lifecycle policy": results["lifecycle"]["repositories"][1]["policy"]}
    assert ci_role["before"]["trust policy"] == arranged["trust"]
    assert "repo:example-org/fork:ref:refs/heads/main" not in json.dumps(ci_role["after"])
    assert ci_role["notes"] == [
        "access removed: role github-actions no longer trusts repo:example-org/fork:ref:refs/heads/main"
    ]


def test_the_check_mode_runs_behind_the_report_write_nothing(aws, run_module, api_calls):
    ecr, iam = aws("ecr"), aws("iam")
    converge(run_module)
    drift_behind_the_collections_back(ecr, iam)
    before = moto_state(ecr, iam)
    api_calls.clear()
    assert drift_report(check_run(run_module))["count"] == 3
    assert api_calls.writes == []
    assert moto_state(ecr, iam) == before


def test_the_markdown_names_each_difference_and_what_is_not_managed(drifted):
    text = drift_markdown(drift_report(drifted[1], "dev", ACCOUNT, REGION))
    assert text.startswith(f"# Drift report: dev, account {ACCOUNT}, {REGION}\n")
    assert "| repository | `example-org/api` | update | scan_on_push |" in text
    assert "| lifecycle | `example-org/web` | update | lifecycle policy |" in text
    assert "| ci_role | `github-actions` | update | trust policy |" in text
    assert "- **scan_on_push**: `false` → `true`" in text
    assert '-        "countNumber": 3,\n  +        "countNumber": 10,' in text
    assert '-            "repo:example-org/fork:ref:refs/heads/main",' in text
    assert text.endswith("## Exists but not managed\n\n- `legacy`\n")
    assert "No drift" not in text


def test_a_converged_registry_has_no_drift_and_a_repository_made_by_hand_is_only_unmanaged(aws, run_module):
    converge(run_module)
    converged = drift_report(check_run(run_module), "dev", ACCOUNT, REGION)
    assert (converged["drift"], converged["count"], converged["items"], converged["unmanaged"]) == (False, 0, [], [])
    assert "No drift" in drift_markdown(converged)

    aws("ecr").create_repository(repositoryName="legacy")
    report = drift_report(check_run(run_module), "dev", ACCOUNT, REGION)
    assert (report["drift"], report["items"], report["unmanaged"]) == (False, [], ["legacy"])
    text = drift_markdown(report)
    assert "No drift" in text
    assert text.endswith("## Exists but not managed\n\n- `legacy`\n")


def test_the_other_modules_drift_is_reported_by_resource_and_field(aws, run_module):
    ecr, iam = aws("ecr"), aws("iam")
    converge(run_module)
    ecr.delete_repository_policy(repositoryName="example-org/web")
    ecr.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "team-*", "filterType": "WILDCARD"}]}
        ],
    )
    provider = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    read_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="argocd-image-updater-dev", PolicyName="ecr-read", PolicyDocument=json.dumps(read_all))

    report = drift_report(check_run(run_module))
    assert [(i["kind"], i["name"], i["change"], i["what"]) for i in report["items"]] == [
        ("repository_policy", "example-org/web", "create", ["repository policy"]),
        ("registry_settings", ACCOUNT, "update", ["scanning"]),
        ("oidc_provider", "token.actions.githubusercontent.com", "create", ["url", "client_ids"]),
        ("image_updater_role", "argocd-image-updater-dev", "update", ["inline policy"]),
    ]
    policy, scanning, provider_item, updater = report["items"]
    assert policy["before"] == {"repository policy": None}
    assert [s["Sid"] for s in policy["after"]["repository policy"]["Statement"]] == ["EnvironmentDevPull"]
    assert provider_item["after"] == {
        "url": "https://token.actions.githubusercontent.com",
        "client_ids": ["sts.amazonaws.com"],
    }
    assert updater["before"] == {"inline policy": read_all}
    assert "example-org/api" in json.dumps(updater["after"])
    assert scanning["before"]["scanning"] != scanning["after"]["scanning"]


def test_a_repository_no_longer_listed_that_would_lose_the_membership_tag_is_an_item(aws, run_module):
    module, args = TASKS["repositories"]
    run_module(module, {**args, "repositories": [*REPOS, "example-org/old"]})
    result = run_module(module, args, check_mode=True, diff=True)
    report = drift_report({"repositories": result})
    (item,) = report["items"]
    assert (item["kind"], item["name"], item["what"]) == ("repository", "example-org/old", ["tags"])
    assert item["before"] == {"tags": {"team": "platform", "registry": "cloudops"}}
    assert item["after"] == {"tags": {"team": "platform"}}
    assert item["notes"] == ["no longer listed: loses tag registry=cloudops and the access it grants"]
    assert report["unmanaged"] == ["example-org/old"]


def test_a_lifecycle_policy_managed_by_ecr_repository_is_a_lifecycle_item_of_its_own(aws, run_module):
    module, args = TASKS["repositories"]
    args = {**args, "lifecycle": {"rules": [KEEP_10_UNTAGGED]}}
    run_module(module, args)
    aws("ecr").put_lifecycle_policy(repositoryName="example-org/web", lifecyclePolicyText=json.dumps(KEEP_3_UNTAGGED))
    result = run_module(module, args, check_mode=True, diff=True)
    (item,) = drift_report({"repositories": result})["items"]
    assert (item["kind"], item["name"], item["change"], item["what"]) == (
        "lifecycle",
        "example-org/web",
        "update",
        ["lifecycle policy"],
    )
    assert item["before"] == {"lifecycle policy": KEEP_3_UNTAGGED}
    assert item["after"] == {"lifecycle policy": result["repositories"][1]["lifecycle"]["policy"]}
    assert item["notes"][0].startswith("preview: 0 of 0 images would expire")


def test_repositories_sharing_one_diff_are_each_an_item(aws, run_module):
    module, args = TASKS["repositories"]
    run_module(module, args)
    for name in REPOS:
        aws("ecr").put_image_scanning_configuration(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": False}
        )
    result = run_module(module, args, check_mode=True, diff=True)
    assert [d["before_header"] for d in result["diff"]] == ["2 repositories: example-org/api, example-org/web"]
    report = drift_report({"repositories": result})
    assert [(i["name"], i["what"], i["after"]) for i in report["items"]] == [
        (name, ["scan_on_push"], {"scan_on_push": True}) for name in REPOS
    ]


def test_what_is_missing_is_an_item_to_create_with_every_declared_field(aws, run_module):
    module, args = TASKS["repositories"]
    report = drift_report({"repositories": run_module(module, args, check_mode=True, diff=True)})
    assert [(i["kind"], i["name"], i["change"]) for i in report["items"]] == [
        ("repository", name, "create") for name in REPOS
    ]
    first = report["items"][0]
    assert first["what"] == ["image_tag_mutability", "scan_on_push", "encryption_type", "tags"]
    assert set(first["before"].values()) == {None}
    assert first["after"]["scan_on_push"] is True


def test_without_diff_the_report_names_the_modules_changes_only(aws, run_module):
    converge(run_module)
    drift_behind_the_collections_back(aws("ecr"), aws("iam"))
    report = drift_report(check_run(run_module, diff=False))
    assert [(i["name"], i["what"], i["before"], i["after"]) for i in report["items"]] == [
        ("example-org/api", ["scan_on_push"], None, None),
        ("example-org/web", ["lifecycle policy"], None, None),
        ("github-actions", ["trust policy"], None, None),
    ]
    assert "run with --diff to see the values" in drift_markdown(report)


def test_skipped_null_and_missing_results_add_nothing(aws, run_module):
    module, args = TASKS["repositories"]
    run_module(module, args)
    repositories = run_module(module, args, check_mode=True, diff=True)
    report = drift_report({"repositories": repositories, "lifecycle": {"skipped": True}, "ci_role": None})
    assert (report["drift"], report["items"], report["account_id"]) == (False, [], ACCOUNT)
    assert drift_report({}) == {
        "environment": None,
        "account_id": None,
        "region": None,
        "drift": False,
        "count": 0,
        "items": [],
        "unmanaged": [],
    }


def test_a_failed_task_is_an_error_never_no_drift():
    with pytest.raises(AnsibleFilterError, match="the ci_role task failed, its drift is unknown: denied"):
        drift_report({"ci_role": {"failed": True, "msg": "denied"}})


def test_an_unknown_key_is_an_error_naming_the_expected_ones():
    with pytest.raises(AnsibleFilterError, match="unknown keys repository; expected repositories, lifecycle"):
        drift_report({"repository": {}})


def test_replicas_drift_is_reported_by_region_and_repository(aws, run_module):
    """The looped results over the replica regions (each with its region as ``item``): a replica
    missing is an item named <region>/<repository>; a failed region is an error, never no drift."""
    module, args = TASKS["repositories"]
    run_module(module, args)
    replica = {
        **run_module(module, {**args, "region": "eu-central-1"}, check_mode=True, diff=True),
        "item": "eu-central-1",
    }
    report = drift_report({"replicas": {"results": [replica]}, "replica_lifecycle": {"results": []}})
    assert [(i["kind"], i["name"], i["change"]) for i in report["items"]] == [
        ("repository", f"eu-central-1/{name}", "create") for name in REPOS
    ]
    with pytest.raises(AnsibleFilterError, match=r"the replicas \(eu-central-1\) task failed"):
        drift_report({"replicas": {"results": [{"item": "eu-central-1", "failed": True, "msg": "denied"}]}})
