"""The role's inputs: every variable checked at once, named as the user wrote it, and the task arguments built once."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problems
from ansible_collections.cloudops.ecr.plugins.plugin_utils.registry_inputs import (
    known_region_problem,
    registry_repositories,
    role_inputs,
    unknown_role_variables,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
with open(os.path.join(ROOT, "roles", "ecr_registry", "meta", "argument_specs.yml"), encoding="utf-8") as _f:
    SPECS = yaml.safe_load(_f)["argument_specs"]
MAIN = SPECS["main"]["options"]
DECLARED = {name for spec in SPECS.values() for name in spec["options"]}


def role_values(**given) -> dict:
    """The role's variables as the action plugin hands them over: declared types, defaults filled in."""
    provided = {
        "ecr_registry_region": "eu-west-1",
        "ecr_registry_environment": "dev",
        "ecr_registry_github_repos": ["example-org/web-app", "example-org/api"],
        "ecr_registry_extra_repositories": ["tools"],
        "ecr_registry_eks_cluster_name": "dev-eks",
        "ecr_registry_image_updater_role_name": "argocd-image-updater-dev",
        **given,
    }
    checked = ArgumentSpecValidator(MAIN).validate(provided)
    assert not checked.error_messages, checked.error_messages
    return checked.validated_parameters


def problems_of(values, cwd="/tmp") -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        role_inputs(values, "eu-west-1", cwd)
    return {p.path: p.message for p in caught.value.problems}


# --- variables the role does not declare ---------------------------------------------------------


def test_a_misspelled_role_variable_is_named_with_the_closest_declared_one():
    lines = unknown_role_variables(
        ["ecr_registry_github_repo", "ecr_registry_lifecyle_rules", "ecr_registry_scan_onpush", "github_repos"],
        DECLARED,
    )
    assert lines == [
        "ecr_registry_github_repo: is not a variable of the ecr_registry role; did you mean ecr_registry_github_repos?",
        "ecr_registry_lifecyle_rules: is not a variable of the ecr_registry role; "
        "did you mean ecr_registry_lifecycle_rules?",
        "ecr_registry_scan_onpush: is not a variable of the ecr_registry role; did you mean ecr_registry_scan_on_push?",
    ]


def test_declared_internal_and_output_variables_are_not_unknown():
    assert unknown_role_variables([*DECLARED, "ecr_registry__inputs", "ecr_registry_outputs"], DECLARED) == []


# --- repositories ------------------------------------------------------------------------------


def test_github_repos_become_lowercase_names_without_duplicates_then_plain_names():
    repos = registry_repositories(
        ["Example-Org/App", "example-org/app", "example-org/api"], ["tools", "tools"], {}, Problems()
    )
    assert repos.names == ["example-org/app", "example-org/api", "tools"]
    assert repos.origin == {
        "example-org/app": "ecr_registry_github_repos[0]",
        "example-org/api": "ecr_registry_github_repos[2]",
        "tools": "ecr_registry_extra_repositories[0]",
    }


def test_the_immutable_id_form_names_the_plain_repository_and_the_trust_keeps_the_form_given():
    inputs = role_inputs(role_values(ecr_registry_github_repos=["acme@1234/Frontend-Web@5678"]), "eu-west-1", "/")
    assert inputs.repository_names == ["acme/frontend-web", "tools"]
    assert inputs.github_oidc_role["github_repos"] == ["acme@1234/Frontend-Web@5678"]
    assert inputs.ecr_repository["repositories"] == ["acme/frontend-web", "tools"]
    assert inputs.image_updater_role["repository_tag"] == {"key": "cloudops.ecr/registry", "value": "main"}


def test_overrides_attach_to_their_repository_only():
    repos = registry_repositories(
        ["example-org/app", "example-org/api"], ["tools"], {"tools": {"scan_on_push": False}}, Problems()
    )
    assert repos.entries == ["example-org/app", "example-org/api", {"name": "tools", "scan_on_push": False}]


def test_an_override_keyed_in_github_case_names_the_variable_and_suggests_the_lowercase_name():
    problems = problems_of(
        role_values(
            ecr_registry_repository_overrides={"Example-Org/Web-App": {"scan_on_push": False}},
            ecr_registry_lifecycle_overrides={"gone/repo": {"rules": [{"tag_status": "any", "keep_last": 5}]}},
        )
    )
    assert problems["ecr_registry_repository_overrides['Example-Org/Web-App']"] == (
        "names no repository of the registry; ECR names are lowercase: write 'example-org/web-app'"
    )
    assert "ecr_registry_lifecycle_overrides['gone/repo']" in problems


def test_a_bad_repository_is_named_by_the_variable_and_index_the_user_wrote_and_reported_once():
    problems = problems_of(role_values(ecr_registry_extra_repositories=["tools", "Bad_Name"]))
    assert list(problems) == ["ecr_registry_extra_repositories[1]"]
    assert "'Bad_Name' is not valid for ECR" in problems["ecr_registry_extra_repositories[1]"]


def test_settings_and_rules_are_named_by_their_role_variable():
    problems = problems_of(
        role_values(
            ecr_registry_mutability_exclusions=["latest"],
            ecr_registry_lifecycle_rules=[{"tag_status": "untagged", "keep_lats": 10}],
            ecr_registry_ci_subjects=["*"],
            ecr_registry_repository_overrides={"tools": {"scan_on_push": "sometimes"}},
        )
    )
    assert set(problems) == {
        "ecr_registry_mutability_exclusions",
        "ecr_registry_lifecycle_rules[0].keep_lats",
        "ecr_registry_lifecycle_rules[0]",
        "ecr_registry_ci_subjects[0]",
        "ecr_registry_repository_overrides['tools'].scan_on_push",
    }
    assert "did you mean keep_last?" in problems["ecr_registry_lifecycle_rules[0].keep_lats"]


def test_each_task_gets_the_arguments_of_its_module_and_none_when_it_does_not_run():
    inputs = role_inputs(
        role_values(ecr_registry_ci_role=False, ecr_registry_lifecycle_enabled=False, ecr_registry_kms_key=""),
        "eu-west-1",
        "/",
    )
    assert inputs.github_oidc_role is None and inputs.ecr_lifecycle is None
    assert inputs.ecr_repository["kms_key"] is None and inputs.ecr_repository["access"] is None
    assert inputs.image_updater_role["association"] is True
    assert json.loads(json.dumps(inputs.as_result()))  # plain data for the registered result


def test_lifecycle_overrides_become_the_repositories_own_policy():
    own = {"rules": [{"tag_status": "any", "keep_last": 5}]}
    inputs = role_inputs(role_values(ecr_registry_lifecycle_overrides={"tools": own}), "eu-west-1", "/")
    assert inputs.ecr_lifecycle["repositories"] == ["example-org/web-app", "example-org/api", {"name": "tools", **own}]


# --- the region and the outputs file ---------------------------------------------------------------


PARTITIONS = [
    {
        "id": "aws",
        "regionRegex": r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        "regions": {"eu-west-1": {}, "us-east-1": {}},
    },
    {"id": "aws-cn", "regionRegex": r"^cn\-\w+\-\d+$", "regions": {"aws-cn-global": {}, "cn-north-1": {}}},
]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("eu-west-1", None),
        ("cn-north-1", None),
        ("eu-west-l", "'eu-west-l' is not an AWS region; did you mean eu-west-1?"),
        ("eu-wset-1", "'eu-wset-1' is not a region the installed botocore knows (did you mean eu-west-1?)"),
        ("aws-cn-global", "is not an AWS region"),
    ],
)
def test_a_region_botocore_does_not_know_is_refused_with_the_closest_one(region, expected):
    problem = known_region_problem(region, PARTITIONS)
    assert (problem is None) if expected is None else (expected in problem)


def test_a_relative_outputs_file_is_relative_to_where_the_run_started(tmp_path):
    inputs = role_inputs(role_values(ecr_registry_outputs_file="outputs/dev.json"), "eu-west-1", str(tmp_path))
    assert inputs.outputs_file == str(tmp_path / "outputs" / "dev.json")


@pytest.mark.parametrize("where", ["a-directory", "a-file/dev.json"])
def test_an_outputs_file_that_cannot_be_written_is_refused_before_anything_runs(tmp_path, where):
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("")
    problems = problems_of(role_values(ecr_registry_outputs_file=where), cwd=str(tmp_path))
    assert list(problems) == ["ecr_registry_outputs_file"]


# --- sizes, before any write ---------------------------------------------------------------------


def test_one_ci_role_for_an_organisation_over_the_trust_quota_is_refused_naming_the_variables():
    repos = [f"example-org/service-{i:03d}" for i in range(150)]
    problems = problems_of(role_values(ecr_registry_github_repos=repos))
    assert list(problems) == ["ecr_registry_github_repos"]
    message = problems["ecr_registry_github_repos"]
    assert "the trust policy of role 'github-actions' would be" in message and "over the 2048" in message
    assert "set per_repository: true" in message


def test_per_repository_ci_roles_for_a_thousand_repositories_fit_every_limit():
    repos = [f"example-org/service-{i:04d}" for i in range(999)]
    inputs = role_inputs(
        role_values(
            ecr_registry_github_repos=repos, ecr_registry_ci_per_repository=True, ecr_registry_ci_role_name="gha-{repo}"
        ),
        "eu-west-1",
        "/",
    )
    assert inputs.github_oidc_role["per_repository"] is True
    assert inputs.image_updater_role["repository_tag"]["key"] == "cloudops.ecr/registry"


def test_more_per_repository_roles_than_the_declared_quota_are_refused():
    repos = [f"example-org/service-{i:04d}" for i in range(1200)]
    values = role_values(
        ecr_registry_github_repos=repos, ecr_registry_ci_per_repository=True, ecr_registry_ci_role_name="gha-{repo}"
    )
    assert "ecr_registry_github_repos" in problems_of(values)
    raised = role_values(**{**values, "ecr_registry_iam_roles_max": 1500})
    assert role_inputs(raised, "eu-west-1", "/").github_oidc_role["roles_max"] == 1500


def test_a_raised_trust_quota_must_be_one_iam_allows():
    problems = problems_of(role_values(ecr_registry_iam_trust_policy_max=8192))
    assert "from 2048 (IAM's default) to 4096" in problems["ecr_registry_iam_trust_policy_max"]


# --- replica regions ---------------------------------------------------------------------------------

TO_FRANKFURT = {"rules": [{"destinations": [{"region": "eu-central-1"}]}]}


def test_replica_regions_replicated_to_in_the_registry_account_are_the_inputs_replicas():
    inputs = role_inputs(
        role_values(ecr_registry_replication=TO_FRANKFURT, ecr_registry_replica_regions=["eu-central-1"]),
        "eu-west-1",
        "/tmp",
    )
    assert inputs.replica_regions == ["eu-central-1"]
    assert role_inputs(role_values(), "eu-west-1", "/tmp").replica_regions == []


@pytest.mark.parametrize(
    ("replication", "regions", "expected"),
    [
        ({}, ["eu-central-1"], "no rule of ecr_registry_replication replicates to eu-central-1"),
        (
            {"rules": [{"destinations": [{"region": "eu-central-1", "account_id": "111122223333"}]}]},
            ["eu-central-1"],
            "no rule of ecr_registry_replication replicates to eu-central-1 in the registry's account",
        ),
        (TO_FRANKFURT, ["eu-west-1"], "the registry's own region (ecr_registry_region)"),
        (TO_FRANKFURT, ["frankfurt"], "'frankfurt' is not a region name"),
        (
            {"rules": [{"destinations": [{"region": "eu-central-1"}], "filters": ["example-org/"]}]},
            ["eu-central-1"],
            "leave out 1 of the registry's repositories (tools)",
        ),
    ],
)
def test_replicas_that_replication_would_leave_empty_are_refused_naming_both_variables(replication, regions, expected):
    problems = problems_of(role_values(ecr_registry_replication=replication, ecr_registry_replica_regions=regions))
    assert expected in problems["ecr_registry_replica_regions[0]"], problems


def test_a_kms_key_with_replica_regions_is_refused_since_a_key_belongs_to_one_region():
    problems = problems_of(
        role_values(
            ecr_registry_replication=TO_FRANKFURT,
            ecr_registry_replica_regions=["eu-central-1"],
            ecr_registry_encryption_type="KMS",
            ecr_registry_kms_key="alias/ecr",
        )
    )
    assert "a KMS key belongs to one region" in problems["ecr_registry_kms_key"]
