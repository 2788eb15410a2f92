# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: registry_outputs
short_description: The outputs of a registry run, from the results of its module tasks
version_added: 0.1.0
description:
  - Builds the role's C(ecr_registry_outputs) from what its tasks registered, in one pass (a hundred
    repositories take milliseconds, where the same done with Jinja filters takes a noticeable share of a run).
  - Repositories are keyed by ECR name and, in C(github_repository_urls) and C(github_repository_arns), by the
    C(owner/repo) as written in O(github_repos). A repository that would be created (check mode) has null URL and ARN.
positional: github_repos, ci_role, image_updater, environment, region, check_mode
options:
  _input:
    description: The registered result of M(cloudops.ecr.ecr_repository).
    type: dict
    required: true
  github_repos:
    description: The GitHub repositories, C(owner/repo).
    type: list
    elements: str
    default: []
  ci_role:
    description: The registered result of M(cloudops.ecr.github_oidc_role); a skipped task or null gives no CI outputs.
    type: dict
  image_updater:
    description: The registered result of M(cloudops.ecr.image_updater_role); a skipped task or null gives none.
    type: dict
  environment:
    description: The environment name.
    type: str
  region:
    description: The region of the registry.
    type: str
  check_mode:
    description: The run is in check mode; the ARNs of what it would create are then null.
    type: bool
    default: false
  replicas:
    description:
      - The registered results of M(cloudops.ecr.ecr_repository) looped over the replica regions
        (C(ecr_registry_replica_regions)); each result's C(item) is its region.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Outputs are collected
  ansible.builtin.set_fact:
    outputs: >-
      {{ repositories | cloudops.ecr.registry_outputs(github_repos, ci_role, image_updater, 'dev', 'eu-west-1') }}
"""

RETURN = r"""
_value:
  description: The outputs.
  type: dict
  contains:
    environment: {description: The environment name., type: str}
    account_id: {description: The account of the registry (ECR's registry id)., type: str}
    region: {description: The region., type: str}
    repository_urls: {description: Repository URI by ECR repository name., type: dict}
    repository_arns: {description: Repository ARN by ECR repository name., type: dict}
    unmanaged_repositories: {description: Repositories of the registry not in the list (left alone)., type: list}
    github_repository_urls: {description: Repository URI by C(owner/repo)., type: dict}
    github_repository_arns: {description: Repository ARN by C(owner/repo)., type: dict}
    oidc_provider_arn: {description: The GitHub OIDC provider's ARN; null without a CI role., type: str}
    ci_role_arns: {description: CI role ARN by role name., type: dict}
    image_updater_role_arn: {description: The Image Updater role's ARN; null without one., type: str}
    replicas:
      description:
        - Per replica region, C(repository_urls) and C(repository_arns) by ECR repository name, as for the registry's
          region. Only with replica regions.
        - An environment's outputs then add C(pull_region), the region its Image Updater and pull grant use (a
          replica region when the environment is in one, else the registry's).
      type: dict
    access_removed:
      description:
        - What this run narrowed, one item per role - C(role), C(access) (C(push) or C(read)), C(repositories) that lose
          that access and C(subjects) the trust no longer admits. Empty when nothing was narrowed.
        - An environment taken away (C(ecr_registry_environment_state=absent)) adds an item with C(access) C(pull),
          the C(repositories) whose policies lose its C(statements).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    repository_name_for_github,
    statement_owner,
)


def _ran(result) -> dict:
    """A registered result that did run (not skipped, not null), else an empty dict."""
    return result if isinstance(result, dict) and not result.get("skipped") else {}


def _existing(arn, changes, check_mode):
    """The ARN, or None for what check mode only says would be created."""
    return None if check_mode and changes == ["created"] else arn


def registry_outputs(
    repositories,
    github_repos=None,
    ci_role=None,
    image_updater=None,
    environment=None,
    region=None,
    check_mode=False,
    replicas=None,
):
    if not isinstance(repositories, dict) or "repositories" not in repositories:
        raise AnsibleFilterError("registry_outputs: expects the registered result of cloudops.ecr.ecr_repository")
    urls, arns = _addresses(repositories)
    github = [str(repo) for repo in github_repos or []]
    ci_role, image_updater = _ran(ci_role), _ran(image_updater)
    updater_role = image_updater.get("role") or {}
    provider = ci_role.get("provider") or {}
    removed = [
        {"role": role["name"], "access": "push", **role["access_removed"]}
        for role in ci_role.get("roles", [])
        if any((role.get("access_removed") or {}).values())
    ]
    if any((updater_role.get("access_removed") or {}).values()):
        removed.append({"role": updater_role["name"], "access": "read", **updater_role["access_removed"]})
    if repositories.get("membership_removed"):
        # the Image Updater reads by the registry's tag: untagged, a repository is no longer read
        removed.append(
            {
                "role": updater_role.get("name"),
                "access": "read",
                "subjects": [],
                "repositories": list(repositories["membership_removed"]),
            }
        )
    return {
        "environment": environment,
        "account_id": repositories.get("registry_id"),
        "region": region,
        "repository_urls": urls,
        "repository_arns": arns,
        "unmanaged_repositories": list(repositories.get("unmanaged", [])),
        "github_repository_urls": {repo: urls.get(repository_name_for_github(repo)) for repo in github},
        "github_repository_arns": {repo: arns.get(repository_name_for_github(repo)) for repo in github},
        "oidc_provider_arn": _existing(ci_role.get("provider_arn"), provider.get("changes"), check_mode),
        "ci_role_arns": {
            role["name"]: _existing(role.get("arn"), role.get("changes"), check_mode)
            for role in ci_role.get("roles", [])
        },
        "image_updater_role_arn": _existing(image_updater.get("role_arn"), updater_role.get("changes"), check_mode),
        "access_removed": removed,
    } | _replicas(replicas)


def _replicas(replicas) -> dict:
    """``{"replicas": ...}`` when the run made replicas; nothing otherwise (one region's outputs are as they were)."""
    found = {}
    for replica in replicas or []:
        if isinstance(replica, dict) and not replica.get("skipped") and "repositories" in replica:
            urls, arns = _addresses(replica)
            found[replica["item"]] = {"repository_urls": urls, "repository_arns": arns}
    return {"replicas": found} if found else {}


def _addresses(repositories: dict) -> tuple[dict, dict]:
    """(URI by name, ARN by name) of an ``ecr_repository`` result."""
    entries = repositories.get("repositories") or []
    return {e["name"]: e.get("uri") for e in entries}, {e["name"]: e.get("arn") for e in entries}


def environment_outputs(
    registry, inputs, environment_account=None, image_updater=None, pull=None, check_mode=False, pull_region=None
):
    """The registry's outputs with the environment's added: its account and region, the Image Updater's
    role, whom the registry's repositories grant pull, and the access its run removed."""
    if not isinstance(registry, dict) or "repository_urls" not in registry:
        raise AnsibleFilterError(
            "environment_outputs: expects the registry's outputs (ecr_registry_outputs of its host)"
        )
    if inputs.get("entry_point") == "registry":
        return dict(registry)
    image_updater, pull = _ran(image_updater), _ran(pull)
    role = image_updater.get("role") or {}
    removed = [r for r in registry.get("access_removed", []) if r.get("access") != "read"]
    removed += [
        {**r, "role": role.get("name") or r.get("role")}
        for r in registry.get("access_removed", [])
        if r.get("access") == "read"
    ]
    if any((role.get("access_removed") or {}).values()):
        removed.append({"role": role["name"], "access": "read", **role["access_removed"]})
    access = inputs.get("repository_access") or {}
    if pull and access.get("state") == "absent":
        # the environment taken away: its own pull statements leave these repositories' policies
        lost = [entry["name"] for entry in pull.get("repositories", []) if entry.get("changed")]
        if lost:
            removed.append(
                {
                    "role": None,
                    "access": "pull",
                    "repositories": lost,
                    "subjects": [],
                    "statements": f"{statement_owner(access.get('owner') or '')}Pull*",
                }
            )
    granted = pull.get("granted") if pull else None
    return {
        **registry,
        "environment": inputs.get("environment"),
        "environment_account_id": environment_account,
        "environment_region": inputs.get("environment_region"),
        "image_updater_role_arn": _existing(image_updater.get("role_arn"), role.get("changes"), check_mode),
        "pull_granted_to": granted or [],
        "access_removed": removed,
    } | ({"pull_region": pull_region} if registry.get("replicas") and pull_region else {})


class FilterModule:
    def filters(self):
        return {"registry_outputs": registry_outputs, "environment_outputs": environment_outputs}
