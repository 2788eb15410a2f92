#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: github_oidc_role
short_description: IAM roles that GitHub Actions assume through OIDC to push to ECR
version_added: 0.1.0
description:
  - Makes sure the account has the GitHub Actions OIDC identity provider
    (C(https://token.actions.githubusercontent.com)), creating it when missing and reusing it when
    present (IAM allows one per URL and account). The client id C(sts.amazonaws.com) is kept in its
    list; other client ids and thumbprints are left alone unless O(thumbprints) is given.
  - Then converges one IAM role (or one per GitHub repository with O(per_repository=true)) whose
    trust admits exactly the listed O(github_repos) and O(subjects), and whose inline policy allows
    pushing to the listed ECR repositories and nothing else (C(ecr:GetAuthorizationToken) on C(*),
    the push actions on the repository ARNs).
  - Every input is validated before the first AWS call. Trust that would open the role to other
    repositories is refused, naming the value - wildcards in owner or repository (C(*/*),
    C(example-org/*)), C(example-org) without a repository, subjects C(*), C(ref:*), C(?).
    C(pull_request) subjects and whole-branch wildcards (C(ref:refs/heads/*)) are accepted with a warning.
  - Documents are compared semantically, so a rerun changes nothing. Check mode makes no write
    call; diff mode shows the trust and permission documents before and after.
  - IAM compares the token's C(sub) claim case-sensitively and GitHub puts the repository's
    canonical case in it, so write O(github_repos) as GitHub shows them.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  name:
    description:
      - The role name (1 to 64 of letters, digits and C(+=,.@_-)).
      - With O(per_repository=true), a template where C({owner}) and C({repo}) stand for the
        lowercased owner and repository name, for example C(github-{owner}-{repo}); it must hold C({repo}).
    type: str
    required: true
  github_repos:
    description:
      - GitHub repositories the role trusts, as C(owner/repo) or in the immutable form
        C(owner@OWNER_ID/repo@REPO_ID) that GitHub uses in C(sub) for repositories created since
        2026-07-15 (list both forms of one repository while it migrates).
      - Required with O(state=present) or O(per_repository=true).
    type: list
    elements: str
  subjects:
    description:
      - What in those repositories may assume the role - the part of C(sub) after
        C(repo:OWNER/REPO:). C(ref:refs/heads/BRANCH), C(ref:refs/tags/TAG), C(environment:NAME) or
        C(pull_request). A C(*) is allowed inside the branch, tag or environment name after a
        fixed prefix, for example C(ref:refs/tags/v*) or C(ref:refs/heads/release/*).
      - A job that names a GitHub environment gets C(environment:NAME) instead of its branch.
    type: list
    elements: str
    default: [ref:refs/heads/main]
  repositories:
    description:
      - ECR repository names in the module's region the role may push to.
      - Left out, each GitHub repository's own (C(owner/repo) lowercased). Not with O(per_repository=true).
    type: list
    elements: str
  per_repository:
    description:
      - One role per GitHub repository, named from the O(name) template, trusting only that
        repository and pushing only to its own ECR repository (C(owner/repo) lowercased).
    type: bool
    default: false
  path:
    description: IAM path of the role(s), C(/) or C(/segment/.../). IAM cannot change it on an existing role.
    type: str
    default: /
  description:
    description: Role description. Left out, a new role gets one naming what it is for; an existing one keeps its own.
    type: str
  max_session_duration:
    description: Longest session, in seconds (3600 to 43200).
    type: int
    default: 3600
  permissions_boundary:
    description: ARN of a managed policy set as the permissions boundary. Left out, the boundary is left alone.
    type: str
    aliases: [boundary]
  policy_name:
    description: Name of the inline policy holding the push permissions. Other policies of the role are left alone.
    type: str
    default: ecr-push
  thumbprints:
    description:
      - Certificate thumbprints for the OIDC provider. AWS no longer uses them for GitHub; give them
        only if your organisation requires them. Left out, they are neither set nor changed.
    type: list
    elements: str
  trust_policy_max:
    description:
      - The account's trust policy length quota, in characters. IAM's default is 2048; it can be raised to
        4096 in Service Quotas, and declared here once it is.
      - Every role's trust policy is sized before any AWS call (an account id is always 12 digits) and a role
        whose trust would be longer is refused, saying how many repositories fit one role. Each repository
        adds one C(sub) value per subject (about 45 characters with V(ref:refs/heads/main)), so one role
        holds about 40 repositories at 2048 and about 85 at 4096; beyond, use O(per_repository).
    type: int
    default: 2048
  roles_max:
    description:
      - The account's roles quota. IAM's default is 1000 (raisable to 5000). With O(per_repository), more
        roles than this are refused before any AWS call, and a run that would create roles counts the
        account's roles first (C(iam:ListRoles)) and refuses, before any write, to go over it.
    type: int
    default: 1000
  state:
    description:
      - V(present) converges the provider and the role(s).
      - V(absent) deletes the role(s) with their policies. The provider is kept - other roles and
        environments of the account may use it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - O(tags) apply to the role(s), and to the provider when this module creates it; a reused
    provider's tags are left alone.
  - Needs C(sts:GetCallerIdentity), C(iam:ListOpenIDConnectProviders), C(iam:GetOpenIDConnectProvider),
    C(iam:ListRoles) (only when roles are created), C(iam:GetRole), C(iam:GetRolePolicy), and for changes
    C(iam:CreateOpenIDConnectProvider),
    C(iam:AddClientIDToOpenIDConnectProvider), C(iam:CreateRole), C(iam:UpdateAssumeRolePolicy),
    C(iam:UpdateRole), C(iam:PutRolePolicy), C(iam:PutRolePermissionsBoundary), C(iam:TagRole),
    C(iam:UntagRole), C(iam:DeleteRole) and friends.
  - IAM's limits are checked before any AWS call, AWS's own figures, not moto's (which enforces none) -
    trust policy O(trust_policy_max), a role's inline policies 10,240 characters, O(roles_max) roles.
"""

EXAMPLES = r"""
- name: CI of three repositories can push to their ECR repositories from main and version tags
  cloudops.ecr.github_oidc_role:
    name: github-actions
    github_repos:
      - example-org/web-app
      - example-org/api-service
      - example-org/worker
    subjects:
      - ref:refs/heads/main
      - ref:refs/tags/v*
    tags:
      managed-by: cloudops.ecr
  register: ci

- name: Deployments through the production environment push to a shared repository
  cloudops.ecr.github_oidc_role:
    name: github-release
    github_repos: [example-org/api-service]
    subjects: [environment:production]
    repositories: [release/api-service]
    max_session_duration: 3600
    permissions_boundary: arn:aws:iam::123456789012:policy/ci-boundary

- name: One role per repository, each pushing only to its own ECR repository
  cloudops.ecr.github_oidc_role:
    name: "gha-{owner}-{repo}"
    per_repository: true
    github_repos: "{{ github_repos }}"

- name: The CI role is gone (the OIDC provider stays)
  cloudops.ecr.github_oidc_role:
    name: github-actions
    state: absent
"""

RETURN = r"""
provider_arn:
  description: ARN of the GitHub Actions OIDC provider (the one the role trusts).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com
provider:
  description: The provider and what this run changed on it.
  returned: when O(state=present)
  type: dict
  contains:
    arn:
      description: Provider ARN.
      type: str
    client_ids:
      description: Client ids (audiences) after the run.
      type: list
      elements: str
      sample: [sts.amazonaws.com]
    changes:
      description: C(created), C(client_id), C(thumbprints).
      type: list
      elements: str
role_arn:
  description: ARN of the role (null in check mode for a role still to be created). Not with O(per_repository=true).
  returned: when O(per_repository=false)
  type: str
  sample: arn:aws:iam::123456789012:role/github-actions
roles:
  description: One entry per role.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Role name.
      type: str
      sample: github-actions
    arn:
      description: Role ARN (null in check mode for a role still to be created, and after deletion).
      type: str
    github_repos:
      description: GitHub repositories the role trusts, as they appear in C(sub).
      type: list
      elements: str
    repositories:
      description: ECR repositories the role may push to.
      type: list
      elements: str
    subjects:
      description: Full C(sub) values the trust admits (with C(*) where a wildcard was given).
      type: list
      elements: str
    state:
      description: V(present) or V(absent) after the run.
      type: str
    changed:
      description: Whether this role was (or in check mode would be) changed.
      type: bool
    changes:
      description:
        - C(created), C(deleted), C(trust_policy), C(permissions_policy), C(settings),
          C(permissions_boundary), C(tags).
      type: list
      elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import DEFAULT_SUBJECTS
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.github_oidc_role import GithubOidcRoleRunner

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    github_repos=dict(type="list", elements="str"),
    subjects=dict(type="list", elements="str", default=list(DEFAULT_SUBJECTS)),
    repositories=dict(type="list", elements="str"),
    per_repository=dict(type="bool", default=False),
    path=dict(type="str", default="/"),
    description=dict(type="str"),
    max_session_duration=dict(type="int", default=3600),
    permissions_boundary=dict(type="str", aliases=["boundary"]),
    policy_name=dict(type="str", default="ecr-push"),
    thumbprints=dict(type="list", elements="str"),
    trust_policy_max=dict(type="int", default=2048),
    roles_max=dict(type="int", default=1000),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_if=[("state", "present", ["github_repos"]), ("per_repository", True, ["github_repos"])],
        mutually_exclusive=[("per_repository", "repositories")],
    )
    GithubOidcRoleRunner(module).run()


if __name__ == "__main__":
    main()
