# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecr_repository_access against moto: the repository policies moto holds after each run are the assertion.
The registry's own grant and statements someone else wrote are arranged directly in moto."""

from __future__ import annotations

import json

import pytest
from moto.ecr.exceptions import InvalidParameterException
from moto.ecr.models import ECRBackend

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.ecr_actions import ECR_ENVIRONMENT_READ_ACTIONS
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import POLICY_MAX_CHARS, access_policy
from ansible_collections.cloudops.ecr.plugins.modules import ecr_repository_access

REPOS = ["example-org/api", "example-org/web"]
DEV, PRO, REGISTRY_READER = "222222222222", "333333333333", "111111111111"
ORGANIZATION = "o-a1b2c3d4e5"
AUDITORS = {
    "Sid": "AllowAuditors",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::444444444444:role/auditor"},
    "Action": ["ecr:DescribeImages", "ecr:ListImages"],
}
POLICY_WRITES = ("SetRepositoryPolicy", "DeleteRepositoryPolicy")


def grant(owner: str, *pull: str, **more) -> dict:
    return {"repositories": REPOS, "owner": owner, "pull": list(pull), **more}


def policy_of(ecr, name: str) -> dict | None:
    try:
        return json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"])
    except ecr.exceptions.RepositoryPolicyNotFoundException:
        return None


def statements_of(ecr, name: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in (policy_of(ecr, name) or {"Statement": []})["Statement"]}


def set_policy(ecr, name: str, statements: list[dict]) -> None:
    ecr.set_repository_policy(
        repositoryName=name, policyText=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )


@pytest.fixture
def registry(aws):
    """Both repositories, each with the registry's own grant (ecr_repository's ``access``) and the
    auditors' statement someone else wrote."""
    ecr = aws("ecr")
    for name in REPOS:
        ecr.create_repository(repositoryName=name)
        set_policy(ecr, name, [*access_policy(pull=[REGISTRY_READER])["Statement"], AUDITORS])
    return ecr


def test_dev_then_pro_both_hold_their_grant_next_to_every_other_statement(registry, run_module):
    ecr = registry
    dev = run_module(ecr_repository_access, grant("dev", DEV))
    assert dev["changed"] is True
    assert [r["changed"] for r in dev["repositories"]] == [True, True]
    assert dev["granted"] == [DEV]
    pro = run_module(ecr_repository_access, grant("pro", PRO))
    assert pro["changed"] is True
    for name in REPOS:
        statements = statements_of(ecr, name)
        assert set(statements) == {"AllowPull", "AllowAuditors", "EnvironmentDevPull", "EnvironmentProPull"}
        assert statements["AllowAuditors"] == AUDITORS
        assert statements["AllowPull"] == access_policy(pull=[REGISTRY_READER])["Statement"][0]
        assert statements["EnvironmentDevPull"] == {
            "Sid": "EnvironmentDevPull",
            "Effect": "Allow",
            "Principal": {"AWS": [DEV]},
            "Action": list(ECR_ENVIRONMENT_READ_ACTIONS),
        }
        assert statements["EnvironmentProPull"]["Principal"] == {"AWS": [PRO]}
    # what the module says each repository holds is what moto holds
    assert [r["policy"] for r in pro["repositories"]] == [policy_of(ecr, name) for name in REPOS]


def test_rerun_of_both_owners_writes_nothing(registry, run_module, api_calls):
    run_module(ecr_repository_access, grant("dev", DEV))
    run_module(ecr_repository_access, grant("pro", PRO))
    api_calls.clear()
    for owner, account in (("dev", DEV), ("pro", PRO)):
        result = run_module(ecr_repository_access, grant(owner, account))
        assert result["changed"] is False
        assert [r["changed"] for r in result["repositories"]] == [False, False]
    assert api_calls.writes == []
    assert api_calls.count("DescribeRepositories") == 2  # one listing a run, then one policy read a repository
    assert api_calls.count("GetRepositoryPolicy") == 4


def test_policy_normalised_by_aws_is_no_change(registry, run_module, api_calls):
    ecr = registry
    node_role = "arn:aws:iam::222222222222:role/eks-node"
    run_module(ecr_repository_access, grant("dev", DEV, node_role))
    run_module(ecr_repository_access, grant("pro", PRO))
    # as AWS may hand it back: account ids as root ARNs, principals, actions and statements reordered,
    # a principal list of one as a string
    for name in REPOS:
        statements = statements_of(ecr, name)
        dev = statements["EnvironmentDevPull"]
        dev["Principal"] = {"AWS": [node_role, f"arn:aws:iam::{DEV}:root"]}
        dev["Action"] = dev["Action"][::-1]
        statements["EnvironmentProPull"]["Principal"] = {"AWS": f"arn:aws:iam::{PRO}:root"}
        set_policy(ecr, name, list(statements.values())[::-1])
    api_calls.clear()
    for args in (grant("dev", node_role, DEV), grant("pro", PRO)):
        assert run_module(ecr_repository_access, args)["changed"] is False
    assert api_calls.writes == []


def test_absent_removes_only_the_owners_statements(registry, run_module):
    ecr = registry
    run_module(ecr_repository_access, grant("dev", DEV, organizations=[ORGANIZATION]))
    run_module(ecr_repository_access, grant("pro", PRO))
    result = run_module(ecr_repository_access, {"repositories": REPOS, "owner": "dev", "state": "absent"})
    assert result["changed"] is True
    for name in REPOS:
        statements = statements_of(ecr, name)
        assert set(statements) == {"AllowPull", "AllowAuditors", "EnvironmentProPull"}
        assert statements["AllowAuditors"] == AUDITORS


def test_absent_says_it_grants_nothing(registry, run_module):
    run_module(ecr_repository_access, grant("dev", DEV))
    result = run_module(ecr_repository_access, {**grant("dev", DEV), "state": "absent"})
    assert result["granted"] == []


def test_the_policy_is_deleted_when_no_statement_is_left(aws, run_module, api_calls):
    ecr = aws("ecr")
    for name in REPOS:
        ecr.create_repository(repositoryName=name)
    run_module(ecr_repository_access, grant("dev", DEV, organizations=[ORGANIZATION]))
    assert set(statements_of(ecr, REPOS[0])) == {"EnvironmentDevPull", "EnvironmentDevPullFromOrganizations"}
    absent = {"repositories": REPOS, "owner": "dev", "state": "absent"}
    result = run_module(ecr_repository_access, absent)
    assert result["changed"] is True
    assert [r["policy"] for r in result["repositories"]] == [None, None]
    assert [policy_of(ecr, name) for name in REPOS] == [None, None]
    api_calls.clear()
    assert run_module(ecr_repository_access, absent)["changed"] is False
    assert api_calls.writes == []


def test_organizations_are_granted_by_principal_org_id(registry, run_module):
    ecr = registry
    run_module(ecr_repository_access, grant("pro", organizations=[ORGANIZATION, "o-zz9y8x7w6v"]))
    statement = statements_of(ecr, REPOS[0])["EnvironmentProPullFromOrganizations"]
    assert statement == {
        "Sid": "EnvironmentProPullFromOrganizations",
        "Effect": "Allow",
        "Principal": "*",
        "Action": list(ECR_ENVIRONMENT_READ_ACTIONS),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": [ORGANIZATION, "o-zz9y8x7w6v"]}},
    }
    assert "EnvironmentProPull" not in statements_of(ecr, REPOS[0])


def test_a_changed_grant_replaces_the_owners_statement(registry, run_module):
    ecr = registry
    run_module(ecr_repository_access, grant("dev", DEV))
    run_module(ecr_repository_access, grant("dev", "555555555555"))
    statements = statements_of(ecr, REPOS[1])
    assert statements["EnvironmentDevPull"]["Principal"] == {"AWS": ["555555555555"]}
    assert set(statements) == {"AllowPull", "AllowAuditors", "EnvironmentDevPull"}


def test_a_repository_that_does_not_exist_fails_before_any_write(registry, run_module, api_calls):
    ecr = registry
    before = {name: policy_of(ecr, name) for name in REPOS}
    api_calls.clear()
    result = run_module(ecr_repository_access, {**grant("dev", DEV), "repositories": [*REPOS, "example-org/new"]})
    assert result["failed"] is True
    assert "example-org/new" in result["msg"]
    assert result["missing_repositories"] == ["example-org/new"]
    assert not [op for op in api_calls.writes if op in POLICY_WRITES]
    assert {name: policy_of(ecr, name) for name in REPOS} == before


def test_check_mode_reports_a_missing_repository_and_writes_nothing(registry, run_module, api_calls):
    ecr = registry
    before = {name: policy_of(ecr, name) for name in REPOS}
    api_calls.clear()
    args = {**grant("dev", DEV), "repositories": [*REPOS, "example-org/new"]}
    result = run_module(ecr_repository_access, args, check_mode=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["missing"] == ["example-org/new"]
    assert [(r["name"], r["changed"]) for r in result["repositories"]] == [
        ("example-org/api", True),
        ("example-org/web", True),
        ("example-org/new", False),
    ]
    assert "EnvironmentDevPull" in {s["Sid"] for s in result["repositories"][0]["policy"]["Statement"]}
    assert api_calls.writes == []
    assert {name: policy_of(ecr, name) for name in REPOS} == before


def test_diff_shows_each_repositorys_policy_before_and_after(registry, run_module):
    ecr = registry
    before = policy_of(ecr, REPOS[0])
    result = run_module(ecr_repository_access, grant("dev", DEV), diff=True)
    diffs = {d["before_header"]: d for d in result["diff"]}
    assert set(diffs) == set(REPOS)
    assert diffs[REPOS[0]]["before"] == {"policy": before}
    assert diffs[REPOS[0]]["after"] == {"policy": policy_of(ecr, REPOS[0])}
    unchanged = run_module(ecr_repository_access, grant("dev", DEV), diff=True)
    assert unchanged["diff"] == []


def test_diff_of_a_deleted_policy_shows_it_empty_after(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="tools")
    run_module(ecr_repository_access, {"repositories": ["tools"], "owner": "dev", "pull": [DEV]})
    before = policy_of(ecr, "tools")
    result = run_module(
        ecr_repository_access, {"repositories": ["tools"], "owner": "dev", "state": "absent"}, diff=True
    )
    assert result["diff"][0]["before"] == {"policy": before}
    assert result["diff"][0]["after"] == {"policy": {}}


def test_a_refused_write_reports_the_repositories_already_written(registry, run_module, monkeypatch):
    ecr = registry
    set_repository_policy = ECRBackend.set_repository_policy

    def refusing_web(self, registry_id, repository_name, policy_text):
        if repository_name == "example-org/web":
            raise InvalidParameterException(
                "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'"
            )
        return set_repository_policy(self, registry_id, repository_name, policy_text)

    monkeypatch.setattr(ECRBackend, "set_repository_policy", refusing_web)
    result = run_module(ecr_repository_access, grant("dev", DEV))
    assert result["failed"] is True
    assert "example-org/web" in result["msg"] and "Principal not found" in result["msg"]
    assert (result["changed"], result["repositories"]) == (True, ["example-org/api"])
    assert "EnvironmentDevPull" in statements_of(ecr, "example-org/api")
    assert "EnvironmentDevPull" not in statements_of(ecr, "example-org/web")


@pytest.mark.parametrize("owner", ["", "dev prod", "-dev", "dev/pro", "d" * 65, "Ümlaut"])
def test_a_bad_owner_fails_before_any_aws_call(aws, run_module, api_calls, owner):
    result = run_module(ecr_repository_access, grant(owner, DEV))
    assert result["failed"] is True
    assert [p["path"] for p in result["problems"]] == ["owner"]
    assert repr(owner) in result["msg"]
    assert api_calls.calls == []


@pytest.mark.parametrize(
    ("args", "path", "named"),
    [
        (grant("dev", "*"), "pull[0]", "'*'"),
        (grant("dev", "22222222222"), "pull[0]", "'22222222222'"),
        (grant("dev", DEV, "arn:aws:iam::222222222222:group/admins"), "pull[1]", "group/admins"),
        (grant("dev", "arn:aws:sts::222222222222:assumed-role/x/y"), "pull[0]", "assumed-role"),
        (grant("dev", organizations=["o-short"]), "organizations[0]", "'o-short'"),
        (grant("dev"), "", "grants nothing"),
        ({**grant("dev", DEV), "repositories": ["example-org/api", "Bad_Name"]}, "repositories[1]", "Bad_Name"),
        ({**grant("dev", DEV), "repositories": []}, "repositories", "at least one"),
    ],
)
def test_a_bad_grant_fails_before_any_aws_call_naming_it(aws, run_module, api_calls, args, path, named):
    result = run_module(ecr_repository_access, args)
    assert result["failed"] is True
    assert path in [p["path"] for p in result["problems"]], result["problems"]
    assert named in result["msg"]
    assert api_calls.calls == []


def test_a_grant_pushing_a_policy_over_10240_characters_is_refused_before_any_write(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName=REPOS[0])
    ecr.create_repository(repositoryName=REPOS[1])
    readers = [f"arn:aws:iam::444444444444:role/reader-{i:03d}" for i in range(225)]
    big = access_policy(pull=readers, owner="Allow")
    size = len(json.dumps(big, separators=(",", ":")))
    assert POLICY_MAX_CHARS - 400 < size <= POLICY_MAX_CHARS, size
    ecr.set_repository_policy(repositoryName=REPOS[1], policyText=json.dumps(big))
    api_calls.clear()
    result = run_module(ecr_repository_access, grant("dev", DEV, "arn:aws:iam::222222222222:role/eks-node"))
    assert result.get("failed") is True
    assert REPOS[1] in result["msg"] and str(POLICY_MAX_CHARS) in result["msg"]
    assert not [op for op in api_calls.writes if op in POLICY_WRITES]
    assert policy_of(ecr, REPOS[0]) is None


def test_owners_with_different_names_never_share_statements(registry, run_module):
    ecr = registry
    run_module(ecr_repository_access, grant("pre-prod", DEV))
    run_module(ecr_repository_access, grant("pre_prod", PRO))
    run_module(ecr_repository_access, {"repositories": REPOS, "owner": "pre_prod", "state": "absent"})
    principals = [s["Principal"] for s in statements_of(ecr, REPOS[0]).values()]
    assert {"AWS": [DEV]} in principals
