# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""github_oidc_role against moto: what IAM holds after each run is the assertion."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import IAM_RETRY
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.iam import IamAccess
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import github_trust_policy
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import document_size, ecr_push_policy
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_role import (
    OidcProvider,
    RoleSpec,
    RoleState,
    plan_provider,
    plan_role,
    role_after,
)
from ansible_collections.cloudops.ecr.plugins.modules import github_oidc_role
from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import allows_web_identity

ACCOUNT = "123456789012"
REGION = "eu-west-1"
HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"
REPOS = ["example-org/web-app", "example-org/api-service"]
ARGS = {"name": "github-actions", "github_repos": REPOS}


def ecr_arn(name):
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"


def providers(iam):
    return [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def trust_of(iam, name):
    return iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]


def inline_policy(iam, name, policy_name="ecr-push"):
    return iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]


def token(sub):
    return {"iss": f"https://{HOST}", "aud": "sts.amazonaws.com", "sub": sub}


# --- provider and role are created, documents as specified -------------------------------------


def test_provider_and_role_are_created_with_exact_trust_and_push_policy(aws, run_module):
    iam = aws("iam")
    result = run_module(github_oidc_role, ARGS)
    assert result["changed"] is True
    assert result["provider_arn"] == PROVIDER
    assert result["provider"]["changes"] == ["created"]
    assert providers(iam) == [PROVIDER]
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == []

    assert result["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/github-actions"
    assert trust_of(iam, "github-actions") == github_trust_policy(PROVIDER, REPOS, ["ref:refs/heads/main"])
    assert inline_policy(iam, "github-actions") == ecr_push_policy(
        [ecr_arn("example-org/web-app"), ecr_arn("example-org/api-service")]
    )
    (role,) = result["roles"]
    assert role["changes"] == ["created"]
    assert role["repositories"] == ["example-org/api-service", "example-org/web-app"]
    assert role["subjects"] == [
        "repo:example-org/api-service:ref:refs/heads/main",
        "repo:example-org/web-app:ref:refs/heads/main",
    ]


def test_stored_trust_admits_exactly_the_listed_repositories_and_subjects(aws, run_module):
    iam = aws("iam")
    run_module(github_oidc_role, {**ARGS, "subjects": ["ref:refs/heads/main", "ref:refs/tags/v*"]})
    trust = trust_of(iam, "github-actions")
    assert allows_web_identity(trust, token("repo:example-org/web-app:ref:refs/heads/main"))
    assert allows_web_identity(trust, token("repo:example-org/api-service:ref:refs/tags/v2.0.1"))
    assert not allows_web_identity(trust, token("repo:example-org/web-app-evil:ref:refs/heads/main"))
    assert not allows_web_identity(trust, token("repo:Example-Org/web-app:ref:refs/heads/main"))
    assert not allows_web_identity(trust, token("repo:example-org/web-app:pull_request"))
    assert not allows_web_identity(trust, token("repo:example-org/web-app:ref:refs/heads/dev"))


def test_role_grants_no_action_outside_ecr_push_and_no_resource_outside_the_listed_arns(aws, run_module):
    iam = aws("iam")
    run_module(github_oidc_role, {**ARGS, "repositories": ["shared/releases"]})
    statements = inline_policy(iam, "github-actions")["Statement"]
    star = [s for s in statements if s["Resource"] == "*"]
    assert [s["Action"] for s in star] == ["ecr:GetAuthorizationToken"]
    scoped = [s for s in statements if s["Resource"] != "*"]
    assert [s["Resource"] for s in scoped] == [[ecr_arn("shared/releases")]]
    assert all(a.startswith("ecr:") for s in scoped for a in s["Action"])
    assert iam.list_role_policies(RoleName="github-actions")["PolicyNames"] == ["ecr-push"]
    assert iam.list_attached_role_policies(RoleName="github-actions")["AttachedPolicies"] == []


def test_role_settings_and_tags_are_applied(aws, run_module):
    iam = aws("iam")
    boundary = iam.create_policy(PolicyName="ci-boundary", PolicyDocument=_any_policy())["Policy"]["Arn"]
    run_module(
        github_oidc_role,
        {
            **ARGS,
            "path": "/ci/",
            "max_session_duration": 7200,
            "description": "CI push",
            "permissions_boundary": boundary,
            "tags": {"team": "platform"},
        },
    )
    role = iam.get_role(RoleName="github-actions")["Role"]
    assert role["Path"] == "/ci/"
    assert role["MaxSessionDuration"] == 7200
    assert role["Description"] == "CI push"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == {"team": "platform"}


# --- idempotence, check mode, diff -------------------------------------------------------------


def test_rerun_changes_nothing_and_writes_nothing(aws, run_module, api_calls):
    args = {**ARGS, "subjects": ["ref:refs/heads/main", "environment:production"], "tags": {"team": "platform"}}
    run_module(github_oidc_role, args)
    api_calls.clear()
    result = run_module(github_oidc_role, args)
    assert result["changed"] is False
    assert result["provider"]["changes"] == []
    assert result["roles"][0]["changes"] == []
    assert api_calls.writes == []


def test_check_mode_makes_no_write_and_reports_what_would_change(aws, run_module, api_calls):
    iam = aws("iam")
    result = run_module(github_oidc_role, ARGS, check_mode=True)
    assert result["changed"] is True
    assert result["provider"]["changes"] == ["created"]
    assert result["roles"][0]["changes"] == ["created"]
    assert result["role_arn"] is None
    assert api_calls.writes == []
    assert providers(iam) == []
    assert iam.list_roles()["Roles"] == []


def test_check_mode_on_an_existing_role_makes_no_write(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(github_oidc_role, ARGS)
    api_calls.clear()
    result = run_module(github_oidc_role, {**ARGS, "subjects": ["environment:production"]}, check_mode=True)
    assert result["roles"][0]["changes"] == ["trust_policy"]
    assert api_calls.writes == []
    assert trust_of(iam, "github-actions") == github_trust_policy(PROVIDER, REPOS, ["ref:refs/heads/main"])


def test_diff_shows_trust_and_permission_documents_before_and_after(aws, run_module):
    run_module(github_oidc_role, ARGS)
    result = run_module(
        github_oidc_role, {**ARGS, "subjects": ["ref:refs/tags/v*"], "repositories": ["example-org/web-app"]}, diff=True
    )
    (diff,) = result["diff"]
    assert diff["before"]["trust_policy"] == github_trust_policy(PROVIDER, REPOS, ["ref:refs/heads/main"])
    assert diff["after"]["trust_policy"] == github_trust_policy(PROVIDER, REPOS, ["ref:refs/tags/v*"])
    assert diff["before"]["permissions_policy"]["Statement"][1]["Resource"] == [
        ecr_arn("example-org/api-service"),
        ecr_arn("example-org/web-app"),
    ]
    assert diff["after"]["permissions_policy"]["Statement"][1]["Resource"] == [ecr_arn("example-org/web-app")]
    assert result["roles"][0]["changes"] == ["trust_policy", "permissions_policy"]


def test_diff_of_a_new_role_shows_the_provider_and_the_documents(aws, run_module):
    result = run_module(github_oidc_role, ARGS, check_mode=True, diff=True)
    provider_diff, role_diff = result["diff"]
    assert provider_diff["before"] == {}
    assert provider_diff["after"]["client_ids"] == ["sts.amazonaws.com"]
    assert role_diff["before"] == {}
    assert role_diff["after"]["trust_policy"]["Statement"][0]["Principal"] == {"Federated": PROVIDER}


# --- updates -----------------------------------------------------------------------------------


def test_changed_subjects_update_only_the_trust(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(github_oidc_role, ARGS)
    api_calls.clear()
    result = run_module(github_oidc_role, {**ARGS, "subjects": ["environment:production"]})
    assert result["roles"][0]["changes"] == ["trust_policy"]
    assert api_calls.writes == ["UpdateAssumeRolePolicy"]
    assert trust_of(iam, "github-actions") == github_trust_policy(PROVIDER, REPOS, ["environment:production"])


def test_tags_not_listed_are_purged(aws, run_module):
    iam = aws("iam")
    run_module(github_oidc_role, {**ARGS, "tags": {"team": "platform", "old": "x"}})
    result = run_module(github_oidc_role, {**ARGS, "tags": {"team": "platform"}})
    assert result["roles"][0]["changes"] == ["tags"]
    assert iam.list_role_tags(RoleName="github-actions")["Tags"] == [{"Key": "team", "Value": "platform"}]


def test_changed_path_is_refused_before_any_write(aws, run_module, api_calls):
    run_module(github_oidc_role, ARGS)
    api_calls.clear()
    result = run_module(github_oidc_role, {**ARGS, "path": "/ci/"})
    assert result["failed"] is True
    assert "path: '/ci/' differs from the path '/'" in result["msg"]
    assert api_calls.writes == []


# --- provider reuse ----------------------------------------------------------------------------


def test_existing_provider_is_reused_with_its_other_client_ids(aws, run_module, api_calls):
    iam = aws("iam")
    iam.create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com", "other-audience"], ThumbprintList=["a" * 40]
    )
    api_calls.clear()
    result = run_module(github_oidc_role, ARGS)
    assert result["provider"] == {
        "arn": PROVIDER,
        "client_ids": ["sts.amazonaws.com", "other-audience"],
        "changes": [],
    }
    assert "CreateOpenIDConnectProvider" not in api_calls.writes
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)
    assert provider["ClientIDList"] == ["sts.amazonaws.com", "other-audience"]
    assert provider["ThumbprintList"] == ["a" * 40]


def test_second_role_in_the_account_shares_the_one_provider(aws, run_module):
    iam = aws("iam")
    run_module(github_oidc_role, ARGS)
    result = run_module(github_oidc_role, {"name": "github-release", "github_repos": ["example-org/worker"]})
    assert result["provider"]["changes"] == []
    assert providers(iam) == [PROVIDER]


def test_provider_without_the_sts_audience_gets_it_added(aws, run_module, api_calls):
    # moto does not implement AddClientIDToOpenIDConnectProvider: check mode shows the plan.
    iam = aws("iam")
    iam.create_open_id_connect_provider(Url=f"https://{HOST}", ClientIDList=["other-audience"])
    api_calls.clear()
    result = run_module(github_oidc_role, ARGS, check_mode=True)
    assert result["provider"] == {
        "arn": PROVIDER,
        "client_ids": ["other-audience", "sts.amazonaws.com"],
        "changes": ["client_id"],
    }
    assert api_calls.writes == []


def test_missing_sts_audience_is_added_and_given_thumbprints_are_set():
    plan = plan_provider(OidcProvider(PROVIDER, HOST, ("other",), (), {}), "sts.amazonaws.com", ("b" * 40,))
    assert plan.changes == ["client_id", "thumbprints"]
    assert (plan.add_client_id, plan.thumbprints) == ("sts.amazonaws.com", ("b" * 40,))


def test_thumbprints_left_out_are_not_changed():
    plan = plan_provider(
        OidcProvider(PROVIDER, HOST, ("sts.amazonaws.com",), ("c" * 40,), {}), "sts.amazonaws.com", None
    )
    assert plan.changes == []


def test_given_thumbprints_compare_without_case_or_order():
    current = OidcProvider(PROVIDER, HOST, ("sts.amazonaws.com",), ("A" * 40, "b" * 40), {})
    assert plan_provider(current, "sts.amazonaws.com", ("B" * 40, "a" * 40)).changes == []


# --- per repository ----------------------------------------------------------------------------


def test_per_repository_roles_trust_one_repository_and_push_only_to_its_own(aws, run_module):
    iam = aws("iam")
    result = run_module(
        github_oidc_role,
        {"name": "gha-{owner}-{repo}", "per_repository": True, "github_repos": ["Example-Org/Web-App", "other/tool"]},
    )
    assert "role_arn" not in result
    assert [r["name"] for r in result["roles"]] == ["gha-example-org-web-app", "gha-other-tool"]
    web = trust_of(iam, "gha-example-org-web-app")
    assert allows_web_identity(web, token("repo:Example-Org/Web-App:ref:refs/heads/main"))
    assert not allows_web_identity(web, token("repo:other/tool:ref:refs/heads/main"))
    assert inline_policy(iam, "gha-example-org-web-app")["Statement"][1]["Resource"] == [ecr_arn("example-org/web-app")]
    assert inline_policy(iam, "gha-other-tool")["Statement"][1]["Resource"] == [ecr_arn("other/tool")]


def test_per_repository_rerun_changes_nothing(aws, run_module, api_calls):
    args = {"name": "gha-{repo}", "per_repository": True, "github_repos": ["o/a", "o/b", "o/c"]}
    run_module(github_oidc_role, args)
    api_calls.clear()
    result = run_module(github_oidc_role, args)
    assert result["changed"] is False
    assert api_calls.writes == []


def test_per_repository_refuses_repositories(aws, run_module, api_calls):
    result = run_module(
        github_oidc_role, {"name": "gha-{repo}", "per_repository": True, "github_repos": ["o/a"], "repositories": ["x"]}
    )
    assert result["failed"] is True
    assert api_calls.calls == []


def test_per_repository_refuses_names_that_collide(aws, run_module, api_calls):
    result = run_module(
        github_oidc_role, {"name": "gha-{repo}", "per_repository": True, "github_repos": ["a/app", "b/app"]}
    )
    assert result["failed"] is True
    assert "github_repos[1]: 'b/app' gives role name 'gha-app', already used by github_repos[0]" in result["msg"]
    assert api_calls.calls == []


# --- refusals before any call ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"github_repos": ["*/*"]}, "github_repos[0]: '*/*' holds a wildcard"),
        ({"github_repos": ["example-org/*"]}, "github_repos[0]: 'example-org/*' holds a wildcard"),
        ({"github_repos": ["example-org"]}, "github_repos[0]: 'example-org' must be 'owner/repo'"),
        ({"subjects": ["*"]}, "subjects[0]: '*' may hold '*' only"),
        ({"subjects": ["ref:*"]}, "subjects[0]: 'ref:*' may hold '*' only"),
        ({"subjects": []}, "subjects: at least one subject is required"),
        ({"github_repos": []}, "github_repos: at least one 'owner/repo' is required"),
        ({"name": "has space"}, "name: 'has space' must be an IAM role name"),
        ({"max_session_duration": 60}, "max_session_duration: 60 must be whole seconds from 3600 to 43200"),
        ({"path": "ci"}, "path: 'ci' must be '/'"),
        ({"repositories": ["Bad_Name"]}, "repositories[0]: repository name 'Bad_Name' is not valid for ECR"),
        ({"permissions_boundary": "boundary"}, "permissions_boundary: 'boundary' must be a managed policy ARN"),
        ({"thumbprints": ["abc"]}, "thumbprints[0]: 'abc' must be 40 hexadecimal characters"),
    ],
)
def test_invalid_input_fails_naming_the_value_before_any_aws_call(aws, run_module, api_calls, args, expected):
    result = run_module(github_oidc_role, {**ARGS, **args})
    assert result["failed"] is True
    assert result["msg"].startswith("Invalid input, nothing was changed: ")
    assert expected in result["msg"]
    assert api_calls.calls == []


def test_every_invalid_field_is_reported_at_once(aws, run_module):
    result = run_module(github_oidc_role, {"name": "ci", "github_repos": ["*/*", "example-org"], "subjects": ["ref:*"]})
    assert [p["path"] for p in result["problems"]] == ["subjects[0]", "github_repos[0]", "github_repos[1]"]


def test_pull_request_subject_is_converged_with_a_warning(aws, run_module):
    result = run_module(github_oidc_role, {**ARGS, "subjects": ["pull_request"]})
    assert result["changed"] is True
    assert "subjects[0]: 'pull_request' admits every pull_request workflow run" in str(result["warnings"])


# --- absent ------------------------------------------------------------------------------------


def test_absent_deletes_the_role_with_its_policies_and_keeps_the_provider(aws, run_module):
    iam = aws("iam")
    run_module(github_oidc_role, ARGS)
    iam.put_role_policy(RoleName="github-actions", PolicyName="extra", PolicyDocument=_any_policy())
    result = run_module(github_oidc_role, {"name": "github-actions", "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["roles"][0]["changes"] == ["deleted"]
    assert result["diff"][0]["after"] == {}
    assert iam.list_roles()["Roles"] == []
    assert providers(iam) == [PROVIDER]


def test_absent_role_that_does_not_exist_changes_nothing(aws, run_module, api_calls):
    result = run_module(github_oidc_role, {"name": "github-actions", "state": "absent"})
    assert result["changed"] is False
    assert api_calls.writes == []


def test_absent_in_check_mode_deletes_nothing(aws, run_module, api_calls):
    iam = aws("iam")
    run_module(github_oidc_role, ARGS)
    api_calls.clear()
    result = run_module(github_oidc_role, {"name": "github-actions", "state": "absent"}, check_mode=True)
    assert result["changed"] is True
    assert api_calls.writes == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["github-actions"]


def _any_policy():
    statement = '{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}'
    return '{"Version": "2012-10-17", "Statement": [' + statement + "]}"


# --- IAM propagation -----------------------------------------------------------------------------


def stubbed_iam():
    client = boto3.client("iam", region_name=REGION)
    return client, Stubber(client), IamAccess(RetryingBotoClientWrapper(client, IAM_RETRY))


SPEC = RoleSpec(
    name="github-actions",
    path="/",
    trust_policy=github_trust_policy(PROVIDER, REPOS, ["ref:refs/heads/main"]),
    policy_name="ecr-push",
    policy=ecr_push_policy([ecr_arn("example-org/web-app")]),
    max_session_duration=3600,
)
PUT_POLICY = {"RoleName": "github-actions", "PolicyName": "ecr-push", "PolicyDocument": json.dumps(SPEC.policy)}


def test_policy_write_right_after_the_role_is_created_is_retried_while_iam_propagates(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    _client, stubber, iam = stubbed_iam()
    role = {
        "Path": "/",
        "RoleName": "github-actions",
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/github-actions",
        "CreateDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    }
    stubber.add_response("create_role", {"Role": role})
    stubber.add_client_error("put_role_policy", "NoSuchEntity", "The role cannot be found.", 404, PUT_POLICY)
    stubber.add_response("put_role_policy", {}, PUT_POLICY)
    with stubber:
        created = iam.create_role(SPEC)
    stubber.assert_no_pending_responses()
    assert created.arn == role["Arn"]


def test_missing_role_is_not_retried_when_nothing_was_created(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail("retried a NoSuchEntity without a create"))
    _client, stubber, iam = stubbed_iam()
    stubber.add_client_error("put_role_policy", "NoSuchEntity", "The role cannot be found.", 404, PUT_POLICY)
    with stubber, pytest.raises(AnsibleAWSError, match="NoSuchEntity"):
        iam.put_policy(SPEC)


# --- the plan, with literals -------------------------------------------------------------------


def current_state(**changes):
    state = {
        "name": SPEC.name,
        "arn": f"arn:aws:iam::{ACCOUNT}:role/github-actions",
        "path": "/",
        "trust_policy": SPEC.trust_policy,
        "max_session_duration": 3600,
        "description": "kept",
        "permissions_boundary": None,
        "tags": {"team": "a"},
        "policy": SPEC.policy,
    }
    return RoleState(**{**state, **changes})


def test_role_matching_the_spec_needs_no_change():
    assert plan_role(SPEC, current_state(), compare_policies).changes == []


def test_missing_role_is_created_with_its_policy():
    assert plan_role(SPEC, None, compare_policies).changes == ["created"]


def test_left_out_description_boundary_and_tags_are_left_alone():
    plan = plan_role(SPEC, current_state(permissions_boundary="arn:aws:iam::aws:policy/x"), compare_policies)
    assert plan.changes == []


def test_missing_inline_policy_is_put_back():
    assert plan_role(SPEC, current_state(policy=None), compare_policies).changes == ["permissions_policy"]


def test_reordered_documents_compare_equal():
    trust = {**SPEC.trust_policy, "Statement": list(reversed(SPEC.trust_policy["Statement"]))}
    assert plan_role(SPEC, current_state(trust_policy=trust), compare_policies).changes == []


def test_session_duration_and_description_are_settings():
    spec = RoleSpec(**{**SPEC.__dict__, "description": "new", "max_session_duration": 7200})
    plan = plan_role(spec, current_state(), compare_policies)
    assert plan.changes == ["settings"]
    after = role_after(spec, current_state(), plan)
    assert (after.description, after.max_session_duration, after.tags) == ("new", 7200, {"team": "a"})


def test_a_trust_over_the_default_quota_is_refused_before_any_call_unless_the_raised_quota_is_declared(
    aws, run_module, api_calls
):
    repos = [f"example-org/service-{i:02d}" for i in range(50)]
    refused = run_module(github_oidc_role, {"name": "github-actions", "github_repos": repos})
    assert refused["failed"] is True
    assert api_calls.calls == []
    assert "the trust policy of role 'github-actions' would be" in refused["msg"]
    assert "over the 2048 the account allows" in refused["msg"]
    fit = int(refused["msg"].split("about ", 1)[1].split()[0])
    assert "of these 50 GitHub repositories fit one role" in refused["msg"]
    fits = run_module(github_oidc_role, {"name": "github-actions", "github_repos": repos[: fit - 1]}, check_mode=True)
    assert fits.get("failed") is not True, fits.get("msg")
    assert "set per_repository: true" in refused["msg"]
    result = run_module(github_oidc_role, {"name": "github-actions", "github_repos": repos, "trust_policy_max": 4096})
    assert result["changed"] is True
    trust = aws("iam").get_role(RoleName="github-actions")["Role"]["AssumeRolePolicyDocument"]
    assert 2048 < document_size(trust) <= 4096


@pytest.mark.parametrize("quota", [1024, 5000, "4096"])
def test_a_trust_quota_outside_what_iam_allows_is_refused(run_module, quota):
    result = run_module(github_oidc_role, {**ARGS, "trust_policy_max": quota})
    assert result["failed"] is True


def test_per_repository_roles_over_the_declared_roles_quota_are_refused_before_any_call(aws, run_module, api_calls):
    repos = [f"example-org/service-{i:04d}" for i in range(1001)]
    result = run_module(github_oidc_role, {"name": "gha-{repo}", "per_repository": True, "github_repos": repos})
    assert result["failed"] is True
    assert "1001 CI roles (one per repository) are more than the 1000 roles the account allows" in result["msg"]
    assert api_calls.calls == []


def test_creating_roles_past_the_quota_with_the_accounts_own_roles_is_refused_before_any_write(
    aws, run_module, api_calls
):
    iam = aws("iam")
    for index in range(3):
        iam.create_role(RoleName=f"existing-{index}", AssumeRolePolicyDocument="{}")
    repos = [f"example-org/service-{i:04d}" for i in range(998)]
    api_calls.clear()
    result = run_module(github_oidc_role, {"name": "gha-{repo}", "per_repository": True, "github_repos": repos})
    assert result["failed"] is True
    assert "Creating 998 CI roles in an account that holds 3 roles would go over its roles quota" in result["msg"]
    assert api_calls.writes == []


def test_a_github_repository_left_out_of_the_list_is_reported_as_losing_push_access(aws, run_module):
    run_module(github_oidc_role, ARGS)
    result = run_module(github_oidc_role, {**ARGS, "github_repos": REPOS[:1]}, diff=True)
    [role] = result["roles"]
    assert role["access_removed"] == {
        "subjects": [f"repo:{REPOS[1]}:ref:refs/heads/main"],
        "repositories": [REPOS[1]],
    }
    prepared = next(d["prepared"] for d in result["diff"] if d["before_header"] == "role github-actions")
    assert f"{REPOS[1]} lose push access through role github-actions" in prepared
