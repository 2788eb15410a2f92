# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitHub repositories, subjects and the trust policy: who gets in, who is kept out."""

from __future__ import annotations

import json

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    CiRole,
    GithubRepo,
    ci_role_request,
    ci_roles,
    github_provider_arn,
    github_subject_claims,
    github_trust_policy,
    parse_github_repos,
    parse_subjects,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import allows_web_identity

ACCOUNT = "123456789012"
PROVIDER = github_provider_arn("aws", ACCOUNT)
SUB = f"{GITHUB_OIDC_HOST}:sub"
AUD = f"{GITHUB_OIDC_HOST}:aud"


def token(sub: str | None, aud: str = GITHUB_OIDC_AUDIENCE, iss: str = GITHUB_OIDC_URL) -> dict:
    claims = {"iss": iss, "aud": aud}
    if sub is not None:
        claims["sub"] = sub
    return claims


def messages(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# --- constants --------------------------------------------------------------------------------


def test_provider_constants_name_githubs_issuer_and_the_sts_audience():
    assert GITHUB_OIDC_URL == "https://token.actions.githubusercontent.com"
    assert GITHUB_OIDC_HOST == "token.actions.githubusercontent.com"
    assert GITHUB_OIDC_AUDIENCE == "sts.amazonaws.com"
    assert PROVIDER == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


# --- github_repos ------------------------------------------------------------------------------


def test_owner_slash_repo_is_parsed_keeping_its_case():
    assert parse_github_repos(["Example-Org/My.App_2"]) == [GithubRepo("Example-Org", "My.App_2")]


def test_immutable_form_carries_owner_and_repository_ids():
    (repo,) = parse_github_repos(["example-org@123/app@456"])
    assert repo == GithubRepo("example-org", "app", "123", "456")
    assert repo.claim_name == "example-org@123/app@456"
    assert repo.full_name == "example-org/app"


def test_ecr_repository_of_a_github_repository_is_its_lowercased_full_name():
    assert GithubRepo("Example-Org", "App").ecr_repository_name == "example-org/app"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("*", "holds a wildcard"),
        ("*/*", "holds a wildcard"),
        ("example-org/*", "holds a wildcard"),
        ("*/app", "holds a wildcard"),
        ("example-org/app?", "holds a wildcard"),
        ("?", "holds a wildcard"),
        ("example-org", "exactly one '/'"),
        ("example-org/app/extra", "exactly one '/'"),
        ("/app", "owner ''"),
        ("example-org/", "repository ''"),
        ("-example/app", "not starting or ending with a hyphen"),
        ("example-/app", "not starting or ending with a hyphen"),
        ("exa--mple/app", "single hyphens"),
        ("e" * 40 + "/app", "1-39"),
        ("example_org/app", "owner 'example_org'"),
        ("example-org/" + "a" * 101, "1-100"),
        ("example-org/.", "not '.' or '..'"),
        ("example-org/..", "not '.' or '..'"),
        ("example-org/my app", "repository 'my app'"),
        ("example-org@12/app", "needs both ids"),
        ("example-org/app@34", "needs both ids"),
        ("example-org@x/app@34", "owner id 'x'"),
        ("example-org@12/app@0", "repository id '0'"),
    ],
)
def test_malformed_or_wildcard_repository_is_refused_naming_the_value(value, rule):
    with pytest.raises(InvalidInput) as excinfo:
        parse_github_repos(["good-org/good", value])
    (message,) = messages(excinfo)
    assert message.startswith(f"github_repos[1]: {value!r}")
    assert rule in message


def test_every_bad_repository_is_reported_at_once():
    with pytest.raises(InvalidInput) as excinfo:
        parse_github_repos(["*/*", "example-org/*", "example-org"])
    assert [p.path for p in excinfo.value.problems] == ["github_repos[0]", "github_repos[1]", "github_repos[2]"]
    assert "'*/*'" in str(excinfo.value)
    assert "'example-org/*'" in str(excinfo.value)
    assert "'example-org'" in str(excinfo.value)


def test_empty_repository_list_is_refused():
    with pytest.raises(InvalidInput, match=r"github_repos: at least one 'owner/repo' is required"):
        parse_github_repos([])


@pytest.mark.parametrize("value", ["example-org/app", None, {"owner": "x"}])
def test_repositories_not_given_as_a_list_of_strings_are_refused(value):
    with pytest.raises(InvalidInput, match=r"github_repos"):
        parse_github_repos(value if isinstance(value, str) else [value])


def test_same_repository_twice_is_refused_even_in_another_case():
    with pytest.raises(InvalidInput) as excinfo:
        parse_github_repos(["example-org/app", "Example-Org/App"])
    assert messages(excinfo) == [
        "github_repos[1]: 'Example-Org/App' is listed twice (same repository as github_repos[0])"
    ]


def test_classic_and_immutable_form_of_one_repository_may_both_be_listed():
    repos = parse_github_repos(["example-org/app", "example-org@1/app@2"])
    assert [r.claim_name for r in repos] == ["example-org/app", "example-org@1/app@2"]


def test_error_path_follows_the_given_field():
    with pytest.raises(InvalidInput, match=r"^ci\.repos\[0\]: '\*/\*'"):
        parse_github_repos(["*/*"], path="ci.repos")


# --- subjects ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "ref:refs/heads/main",
        "ref:refs/heads/release/1.x",
        "ref:refs/tags/v1.2.3",
        "environment:production",
        "ref:refs/tags/v*",
        "ref:refs/heads/release/*",
        "environment:prod-*",
    ],
)
def test_supported_subjects_are_accepted_without_warning(value):
    assert parse_subjects([value]) == ([value], [])


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("*", "may hold '*' only in a branch, tag or environment name after a fixed prefix"),
        ("ref:*", "may hold '*' only in a branch, tag or environment name after a fixed prefix"),
        ("ref:refs/*", "may hold '*' only in a branch, tag or environment name after a fixed prefix"),
        ("ref:refs/heads/*-hotfix", "only after a fixed branch prefix"),
        ("environment:*prod", "only after a fixed environment prefix"),
        ("?", "'?' is a wildcard"),
        ("ref:refs/heads/ma?n", "'?' is a wildcard"),
        ("repo:example-org/app:ref:refs/heads/main", "after 'repo:OWNER/REPO:' only"),
        ("ref:refs/heads/", "names no branch"),
        ("environment:", "names no environment"),
        ("ref:refs/heads/a b", "git forbids"),
        ("ref:refs/heads/a..b", "not a valid git ref name"),
        ("ref:refs/heads/main/", "not a valid git ref name"),
        ("ref:refs/heads/${aws:username}", "policy variable"),
        ("ref:refs/pull/1/merge", "is not a supported subject"),
        ("job_workflow_ref:o/r/.github/workflows/x.yml@refs/heads/main", "is not a supported subject"),
        ("branch:main", "is not a supported subject"),
    ],
)
def test_wildcard_or_malformed_subject_is_refused_naming_the_value(value, rule):
    with pytest.raises(InvalidInput) as excinfo:
        parse_subjects(["ref:refs/heads/main", value])
    (message,) = messages(excinfo)
    assert message.startswith(f"subjects[1]: {value!r}")
    assert rule in message


@pytest.mark.parametrize("value", ["", None, 3])
def test_empty_or_non_string_subject_is_refused(value):
    with pytest.raises(InvalidInput, match=r"^subjects\[0\]: .* must be a non-empty string"):
        parse_subjects([value])


def test_empty_subject_list_is_refused():
    with pytest.raises(InvalidInput, match=r"^subjects: at least one subject is required"):
        parse_subjects([])


def test_same_subject_twice_is_refused():
    with pytest.raises(InvalidInput, match=r"subjects\[1\]: 'environment:prod' is listed twice"):
        parse_subjects(["environment:prod", "environment:prod"])


def test_pull_request_subject_is_accepted_with_a_warning_about_unreviewed_code():
    subjects, warnings = parse_subjects(["pull_request"])
    assert subjects == ["pull_request"]
    assert len(warnings) == 1
    assert warnings[0].startswith("subjects[0]: 'pull_request'")
    assert "before anyone reviews it" in warnings[0]


@pytest.mark.parametrize(("value", "kind"), [("ref:refs/heads/*", "branch"), ("ref:refs/tags/*", "tag")])
def test_whole_branch_or_tag_wildcard_is_accepted_with_a_warning(value, kind):
    subjects, warnings = parse_subjects([value])
    assert subjects == [value]
    assert warnings == [
        f"subjects[0]: {value!r} admits every {kind} of the listed repositories; prefer exact names or a fixed prefix"
    ]


# --- claims and trust policy -------------------------------------------------------------------


def test_subject_claims_are_every_repository_times_every_subject_sorted():
    assert github_subject_claims(["o/b", "o/a"], ["ref:refs/tags/v*", "environment:prod"]) == [
        "repo:o/a:environment:prod",
        "repo:o/a:ref:refs/tags/v*",
        "repo:o/b:environment:prod",
        "repo:o/b:ref:refs/tags/v*",
    ]


def test_subject_claims_validate_their_input():
    with pytest.raises(InvalidInput, match=r"github_repos\[0\]: '\*/\*'"):
        github_subject_claims(["*/*"], ["ref:refs/heads/main"])
    with pytest.raises(InvalidInput, match=r"subjects\[0\]: 'ref:\*'"):
        github_subject_claims(["o/r"], ["ref:*"])


def test_trust_policy_with_exact_subjects_only_uses_string_equals():
    policy = github_trust_policy(PROVIDER, ["example-org/app"], ["ref:refs/heads/main"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GithubActionsExactSubjects",
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {AUD: "sts.amazonaws.com", SUB: ["repo:example-org/app:ref:refs/heads/main"]}
                },
            }
        ],
    }


def test_trust_policy_puts_wildcard_subjects_under_string_like_in_a_second_statement():
    policy = github_trust_policy(PROVIDER, ["o/r"], ["ref:refs/tags/v*", "ref:refs/heads/main"])
    exact, pattern = policy["Statement"]
    assert exact["Condition"] == {"StringEquals": {AUD: GITHUB_OIDC_AUDIENCE, SUB: ["repo:o/r:ref:refs/heads/main"]}}
    assert pattern["Condition"] == {
        "StringEquals": {AUD: GITHUB_OIDC_AUDIENCE},
        "StringLike": {SUB: ["repo:o/r:ref:refs/tags/v*"]},
    }


def test_trust_policy_never_holds_a_star_under_string_equals_nor_set_operators():
    policy = github_trust_policy(PROVIDER, ["o/a", "o/b"], ["ref:refs/heads/*", "environment:prod", "pull_request"])
    for statement in policy["Statement"]:
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert all("*" not in value for value in statement["Condition"]["StringEquals"].get(SUB, []))
        assert not any(op.startswith(("ForAllValues", "ForAnyValue")) for op in statement["Condition"])
        assert statement["Condition"]["StringEquals"][AUD] == GITHUB_OIDC_AUDIENCE


def test_trust_policy_is_the_same_whatever_the_input_order():
    first = github_trust_policy(PROVIDER, ["o/a", "o/b"], ["environment:prod", "ref:refs/heads/main"])
    second = github_trust_policy(PROVIDER, ["o/b", "o/a"], ["ref:refs/heads/main", "environment:prod"])
    assert json.dumps(first) == json.dumps(second)


@pytest.mark.parametrize(
    "provider_arn",
    [
        "arn:aws:iam::123456789012:oidc-provider/gitlab.com",
        "arn:aws:iam::123456789012:saml-provider/token.actions.githubusercontent.com",
        "*",
        "",
    ],
)
def test_trust_policy_refuses_a_provider_other_than_github(provider_arn):
    with pytest.raises(InvalidInput, match=r"^provider_arn: .* must be the ARN of the token\.actions"):
        github_trust_policy(provider_arn, ["o/r"], ["ref:refs/heads/main"])


def test_trust_policy_refuses_open_repositories_and_subjects_together():
    with pytest.raises(InvalidInput) as excinfo:
        github_trust_policy(PROVIDER, ["*/*"], ["*"])
    assert [p.path for p in excinfo.value.problems] == ["github_repos[0]"]


# --- who gets in: the trust policy judged by the evaluator -------------------------------------

REPOS = ["example-org/app", "example-org/api"]
SUBJECTS = ["ref:refs/heads/main", "ref:refs/tags/v*", "environment:production"]


@pytest.fixture
def trust() -> dict:
    return github_trust_policy(PROVIDER, REPOS, SUBJECTS)


@pytest.mark.parametrize("repo", REPOS)
@pytest.mark.parametrize("suffix", ["ref:refs/heads/main", "ref:refs/tags/v1.4.0", "environment:production"])
def test_each_listed_repository_with_an_allowed_subject_is_admitted(trust, repo, suffix):
    assert allows_web_identity(trust, token(f"repo:{repo}:{suffix}"))


@pytest.mark.parametrize(
    "sub",
    [
        "repo:example-org/other:ref:refs/heads/main",  # another repository of the owner
        "repo:other-org/app:ref:refs/heads/main",  # another owner
        "repo:example-org/app-evil:ref:refs/heads/main",  # look-alike name
        "repo:Example-Org/app:ref:refs/heads/main",  # look-alike case
        "repo:example-org/app:pull_request",  # pull request
        "repo:example-org/app:ref:refs/heads/feature",  # another branch
        "repo:example-org/app:ref:refs/heads/main-old",  # branch sharing a prefix
        "repo:example-org/app:ref:refs/tags/1.0",  # tag outside the prefix
        "repo:example-org/app:environment:staging",  # another environment
        "repo:example-org/app:environment:Production",  # environment in another case
        "repo:example-org@1/app@2:ref:refs/heads/main",  # immutable form when the classic one is listed
        "repo:example-org/app:ref:refs/heads/main:extra",  # custom claim template
        "repo:example-org/*:ref:refs/heads/main",  # a literal star is no wildcard in a token
    ],
)
def test_anything_else_is_kept_out(trust, sub):
    assert not allows_web_identity(trust, token(sub))


def test_wrong_audience_is_kept_out(trust):
    assert not allows_web_identity(trust, token("repo:example-org/app:ref:refs/heads/main", aud="sigstore"))


def test_missing_audience_is_kept_out(trust):
    claims = token("repo:example-org/app:ref:refs/heads/main")
    del claims["aud"]
    assert not allows_web_identity(trust, claims)


def test_wrong_issuer_is_kept_out(trust):
    assert not allows_web_identity(trust, token("repo:example-org/app:ref:refs/heads/main", iss="https://gitlab.com"))


def test_provider_of_another_account_is_kept_out(trust):
    claims = token("repo:example-org/app:ref:refs/heads/main")
    assert not allows_web_identity(trust, claims, account_id="999999999999")


def test_missing_subject_is_kept_out(trust):
    assert not allows_web_identity(trust, token(None))


def test_immutable_form_is_admitted_exactly():
    policy = github_trust_policy(PROVIDER, ["example-org@1001/app@2002"], ["ref:refs/heads/main"])
    assert allows_web_identity(policy, token("repo:example-org@1001/app@2002:ref:refs/heads/main"))
    assert not allows_web_identity(policy, token("repo:example-org/app:ref:refs/heads/main"))
    assert not allows_web_identity(policy, token("repo:example-org@1001/app@2003:ref:refs/heads/main"))
    assert not allows_web_identity(policy, token("repo:example-org@1009/app@2002:ref:refs/heads/main"))


def test_whole_branch_wildcard_stays_inside_the_listed_repository():
    policy = github_trust_policy(PROVIDER, ["example-org/app"], ["ref:refs/heads/*"])
    assert allows_web_identity(policy, token("repo:example-org/app:ref:refs/heads/any/branch"))
    assert not allows_web_identity(policy, token("repo:example-org/app-evil:ref:refs/heads/main"))
    assert not allows_web_identity(policy, token("repo:example-org/app:ref:refs/tags/v1"))
    assert not allows_web_identity(policy, token("repo:example-org/app:pull_request"))


def test_pull_request_is_admitted_only_when_listed():
    policy = github_trust_policy(PROVIDER, ["example-org/app"], ["pull_request"])
    assert allows_web_identity(policy, token("repo:example-org/app:pull_request"))
    assert not allows_web_identity(policy, token("repo:example-org/app:ref:refs/heads/main"))


# --- CI roles: one for all repositories, or one per repository ---------------------------------


def test_one_role_pushes_to_each_github_repositorys_own_ecr_repository_by_default():
    (role,) = ci_roles("github-actions", parse_github_repos(["Example-Org/Web-App", "example-org/api"]))
    assert role.name == "github-actions"
    assert role.repositories == ("example-org/api", "example-org/web-app")


def test_listed_repositories_replace_the_default_ones():
    (role,) = ci_roles("ci", parse_github_repos(["o/a"]), ["shared/releases", "shared/releases"])
    assert role.repositories == ("shared/releases",)


def test_invalid_ecr_repository_names_are_refused_with_their_field():
    with pytest.raises(InvalidInput) as excinfo:
        ci_roles("ci", parse_github_repos(["o/.github"]), None)
    assert [p.path for p in excinfo.value.problems] == ["github_repos[0]"]
    with pytest.raises(InvalidInput) as excinfo:
        ci_roles("ci", parse_github_repos(["o/a"]), ["ok", "Not_OK"])
    assert [p.path for p in excinfo.value.problems] == ["repositories[1]"]
    with pytest.raises(InvalidInput, match=r"^repositories: \[\] must be a non-empty list"):
        ci_roles("ci", parse_github_repos(["o/a"]), [])


def test_per_repository_roles_are_named_from_the_template_in_lowercase():
    roles = ci_roles("gha-{owner}-{repo}", parse_github_repos(["Example-Org/Web-App", "o/api"]), per_repository=True)
    assert [(r.name, r.repositories) for r in roles] == [
        ("gha-example-org-web-app", ("example-org/web-app",)),
        ("gha-o-api", ("o/api",)),
    ]
    assert [r.github_repos for r in roles] == [(GithubRepo("Example-Org", "Web-App"),), (GithubRepo("o", "api"),)]


def test_per_repository_role_trusts_both_forms_of_its_repository():
    (role,) = ci_roles("gha-{repo}", parse_github_repos(["o/app", "o@1/app@2"]), per_repository=True)
    assert [r.claim_name for r in role.github_repos] == ["o/app", "o@1/app@2"]


def test_per_repository_template_must_name_the_repository():
    with pytest.raises(InvalidInput, match=r"^name: 'github-ci' must hold '\{repo\}' with per_repository"):
        ci_roles("github-ci", parse_github_repos(["o/a"]), per_repository=True)


def test_per_repository_refuses_listed_repositories():
    with pytest.raises(InvalidInput, match=r"^repositories: must be left out with per_repository"):
        ci_roles("gha-{repo}", parse_github_repos(["o/a"]), ["x"], per_repository=True)


def test_per_repository_refuses_too_long_or_colliding_role_names():
    with pytest.raises(InvalidInput) as excinfo:
        ci_roles("gha-{repo}", parse_github_repos(["o/" + "a" * 70, "x/app", "y/App"]), per_repository=True)
    assert [str(p) for p in excinfo.value.problems] == [
        f"github_repos[0]: 'o/{'a' * 70}' gives role name 'gha-{'a' * 70}' from name 'gha-{{repo}}', not an IAM "
        "role name: 1-64 of letters, digits and +=,.@_-",
        "github_repos[2]: 'y/App' gives role name 'gha-app', already used by github_repos[1]: put '{owner}' in name",
    ]


def test_role_request_validates_every_field_at_once():
    with pytest.raises(InvalidInput) as excinfo:
        ci_role_request(
            {
                "name": "bad name",
                "github_repos": ["*/*"],
                "subjects": ["ref:*"],
                "path": "ci",
                "max_session_duration": 10,
                "permissions_boundary": "x",
                "description": "é" * 1001,
                "thumbprints": ["z" * 40],
            }
        )
    assert [p.path for p in excinfo.value.problems] == [
        "subjects[0]",
        "github_repos[0]",
        "path",
        "max_session_duration",
        "permissions_boundary",
        "description",
        "thumbprints[0]",
    ]


def test_role_request_carries_validated_values_and_warnings():
    request = ci_role_request(
        {
            "name": "ci",
            "github_repos": ["o/a"],
            "subjects": ["pull_request"],
            "path": "/ci/",
            "max_session_duration": 7200,
            "permissions_boundary": "arn:aws:iam::123456789012:policy/boundary",
            "thumbprints": ["A" * 40],
        }
    )
    assert request.roles == (CiRole("ci", (GithubRepo("o", "a"),), ("o/a",)),)
    assert request.subjects == ("pull_request",)
    assert len(request.warnings) == 1
    assert (request.path, request.max_session_duration) == ("/ci/", 7200)
    assert request.thumbprints == ("A" * 40,)


def test_role_request_to_delete_needs_only_the_name():
    request = ci_role_request({"name": "ci", "state": "absent", "subjects": ["ref:refs/heads/main"]})
    assert [r.name for r in request.roles] == ["ci"]
