"""The repository_entries filter: the role's one way from github_repos to the modules' repositories list."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.filter.repository_entries import repository_entries


def test_github_repos_become_lowercase_names_without_duplicates():
    assert repository_entries(["Example-Org/App", "example-org/app", "example-org/api"], ["tools", "tools"]) == [
        "example-org/app",
        "example-org/api",
        "tools",
    ]


def test_overrides_and_lifecycle_attach_to_their_repository_only():
    lifecycle = {"rules": [{"tag_status": "any", "keep_last": 50}]}
    entries = repository_entries(
        ["example-org/app", "example-org/api"],
        ["tools"],
        {"tools": {"scan_on_push": False}, "example-org/app": {"image_tag_mutability": "MUTABLE"}},
        {"example-org/app": lifecycle},
    )
    assert entries == [
        {"name": "example-org/app", "image_tag_mutability": "MUTABLE", "lifecycle": lifecycle},
        "example-org/api",
        {"name": "tools", "scan_on_push": False},
    ]


@pytest.mark.parametrize(
    ("overrides", "lifecycle", "message"),
    [
        ({"missing": {}}, None, "overrides name repositories not in the list: missing"),
        (None, {"Example-Org/App": {}}, "lifecycle name repositories not in the list: Example-Org/App"),
    ],
)
def test_settings_for_a_repository_not_in_the_list_are_an_error(overrides, lifecycle, message):
    with pytest.raises(AnsibleFilterError, match=message):
        repository_entries(["example-org/app"], [], overrides, lifecycle)


def test_github_repos_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="github_repos must be a list, got str"):
        repository_entries("example-org/app")
