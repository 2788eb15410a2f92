"""The registry_outputs filter: the role's outputs from what its module tasks registered."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.filter.registry_outputs import registry_outputs

ACCOUNT = "123456789012"
URI = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
ARN = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository"

REPOSITORIES = {
    "registry_id": ACCOUNT,
    "unmanaged": ["legacy"],
    "repositories": [
        {"name": "example-org/app", "uri": f"{URI}/example-org/app", "arn": f"{ARN}/example-org/app"},
        {"name": "tools", "uri": None, "arn": None},  # would be created (check mode)
    ],
}
CI_ROLE = {
    "provider_arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
    "roles": [{"name": "github-actions", "arn": f"arn:aws:iam::{ACCOUNT}:role/github-actions"}],
}
IMAGE_UPDATER = {"role_arn": f"arn:aws:iam::{ACCOUNT}:role/argocd-image-updater-dev"}


def test_every_output_from_the_registered_results():
    outputs = registry_outputs(REPOSITORIES, ["Example-Org/App"], CI_ROLE, IMAGE_UPDATER, "dev", "eu-west-1")
    assert outputs == {
        "environment": "dev",
        "account_id": ACCOUNT,
        "region": "eu-west-1",
        "repository_urls": {"example-org/app": f"{URI}/example-org/app", "tools": None},
        "repository_arns": {"example-org/app": f"{ARN}/example-org/app", "tools": None},
        "unmanaged_repositories": ["legacy"],
        "github_repository_urls": {"Example-Org/App": f"{URI}/example-org/app"},
        "github_repository_arns": {"Example-Org/App": f"{ARN}/example-org/app"},
        "oidc_provider_arn": CI_ROLE["provider_arn"],
        "ci_role_arns": {"github-actions": CI_ROLE["roles"][0]["arn"]},
        "image_updater_role_arn": IMAGE_UPDATER["role_arn"],
        "access_removed": [],
    }


def test_check_mode_gives_no_arn_for_what_would_be_created():
    ci_role = {
        **CI_ROLE,
        "provider": {"changes": ["created"]},
        "roles": [{**CI_ROLE["roles"][0], "changes": ["created"]}],
    }
    updater = {**IMAGE_UPDATER, "role": {"name": "argocd-image-updater-dev", "changes": ["created"]}}
    outputs = registry_outputs(REPOSITORIES, [], ci_role, updater, "dev", "eu-west-1", True)
    assert outputs["oidc_provider_arn"] is None
    assert outputs["ci_role_arns"] == {"github-actions": None}
    assert outputs["image_updater_role_arn"] is None
    applied = registry_outputs(REPOSITORIES, [], ci_role, updater, "dev", "eu-west-1", False)
    assert applied["ci_role_arns"] == {"github-actions": CI_ROLE["roles"][0]["arn"]}


def test_access_removed_lists_each_narrowed_role():
    ci_role = {
        **CI_ROLE,
        "roles": [
            {
                **CI_ROLE["roles"][0],
                "access_removed": {"subjects": ["repo:o/w:ref:refs/heads/main"], "repositories": ["o/w"]},
            }
        ],
    }
    updater = {**IMAGE_UPDATER, "role": {"name": "iu", "access_removed": {"subjects": [], "repositories": ["o/w"]}}}
    outputs = registry_outputs(REPOSITORIES, [], ci_role, updater, "dev", "eu-west-1")
    assert outputs["access_removed"] == [
        {
            "role": "github-actions",
            "access": "push",
            "subjects": ["repo:o/w:ref:refs/heads/main"],
            "repositories": ["o/w"],
        },
        {"role": "iu", "access": "read", "subjects": [], "repositories": ["o/w"]},
    ]


@pytest.mark.parametrize("skipped", [None, {"skipped": True, "changed": False}])
def test_skipped_role_tasks_give_empty_role_outputs(skipped):
    outputs = registry_outputs(REPOSITORIES, [], skipped, skipped, "pro", "eu-west-1")
    assert outputs["oidc_provider_arn"] is None
    assert outputs["ci_role_arns"] == {}
    assert outputs["image_updater_role_arn"] is None
    assert outputs["github_repository_urls"] == {}


def test_anything_but_an_ecr_repository_result_is_refused():
    with pytest.raises(AnsibleFilterError, match=r"registered result of cloudops\.ecr\.ecr_repository"):
        registry_outputs({"changed": False})
