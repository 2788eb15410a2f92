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
    C(iam:GetRole), C(iam:GetRolePolicy), and for changes C(iam:CreateOpenIDConnectProvider),
    C(iam:AddClientIDToOpenIDConnectProvider), C(iam:CreateRole), C(iam:UpdateAssumeRolePolicy),
    C(iam:UpdateRole), C(iam:PutRolePolicy), C(iam:PutRolePermissionsBoundary), C(iam:TagRole),
    C(iam:UntagRole), C(iam:DeleteRole) and friends.
  - IAM's default quota for a trust policy is 2,048 characters; the module warns when the document
    is larger (raise the quota, or use O(per_repository=true)).
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

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils.aws_access import (
    aws_client,
    fail_for,
    first_error,
    input_checked,
    run_concurrently,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.github_oidc import (
    DEFAULT_SUBJECTS,
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    ci_role_request,
    github_provider_arn,
    github_subject_claims,
    github_trust_policy,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.iam_access import (
    IAM_RETRY,
    IamAccess,
    RoleSpec,
    plan_role,
    role_after,
    role_view,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.iam_documents import (
    check_role_document_sizes,
    ecr_push_policy,
    repository_arn,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.validation import InvalidInput, Problems

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
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def ensure_provider(module, iam, provider_arn, thumbprints, tags):
    """Create the provider if missing; keep sts.amazonaws.com among its client ids."""
    current = iam.find_provider(GITHUB_OIDC_HOST)
    if current is None:
        if not module.check_mode:
            provider_arn = iam.create_provider(GITHUB_OIDC_URL, [GITHUB_OIDC_AUDIENCE], list(thumbprints or []), tags)
        return {"arn": provider_arn, "client_ids": [GITHUB_OIDC_AUDIENCE], "changes": ["created"]}, {
            "before": {},
            "after": {"url": GITHUB_OIDC_URL, "client_ids": [GITHUB_OIDC_AUDIENCE]},
        }
    changes = []
    client_ids = list(current.client_ids)
    if GITHUB_OIDC_AUDIENCE not in client_ids:
        changes.append("client_id")
        client_ids.append(GITHUB_OIDC_AUDIENCE)
        if not module.check_mode:
            iam.add_client_id(current.arn, GITHUB_OIDC_AUDIENCE)
    if thumbprints is not None and sorted(t.lower() for t in thumbprints) != sorted(
        t.lower() for t in current.thumbprints
    ):
        changes.append("thumbprints")
        if not module.check_mode:
            iam.set_thumbprints(current.arn, list(thumbprints))
    before = {"url": current.url, "client_ids": list(current.client_ids), "thumbprints": list(current.thumbprints)}
    after = {**before, "client_ids": client_ids, "thumbprints": list(thumbprints or current.thumbprints)}
    return {"arn": current.arn, "client_ids": client_ids, "changes": changes}, {"before": before, "after": after}


def role_specs(module, request, provider_arn, account_id, partition):
    """The documents of every role: trust from the repos and subjects, push on the repository ARNs."""
    params = module.params
    specs = []
    for role in request.roles:
        arns = [repository_arn(partition, module.region, account_id, name) for name in role.repositories]
        new_role_description = f"GitHub Actions OIDC: push to ECR {', '.join(role.repositories)} (cloudops.ecr)"
        if len(new_role_description) > 1000:
            new_role_description = "GitHub Actions OIDC: push to ECR (cloudops.ecr)"
        trust = github_trust_policy(provider_arn, role.github_repos, request.subjects)
        policy = ecr_push_policy(arns, "repositories")
        for warning in check_role_document_sizes(role.name, trust, policy):
            module.warn(warning)
        specs.append(
            RoleSpec(
                name=role.name,
                path=request.path,
                trust_policy=trust,
                policy_name=params["policy_name"],
                policy=policy,
                max_session_duration=request.max_session_duration,
                description=request.description,
                new_role_description=new_role_description,
                permissions_boundary=request.permissions_boundary,
                tags=params["tags"],
                purge_tags=params["purge_tags"],
            )
        )
    return specs


def role_entry(role, arn, present, changes, request):
    return {
        "name": role.name,
        "arn": arn,
        "github_repos": [r.claim_name for r in role.github_repos],
        "repositories": list(role.repositories),
        "subjects": github_subject_claims(role.github_repos, request.subjects) if role.github_repos else [],
        "state": "present" if present else "absent",
        "changed": bool(changes),
        "changes": changes,
    }


def ensure_roles_present(module, iam, request, specs):
    policy_name = module.params["policy_name"]
    outcomes = run_concurrently(lambda spec: iam.role_state(spec.name, policy_name), specs)
    failed = first_error(outcomes)
    if failed:
        fail_for(module, failed.error, f"Reading role {failed.item.name}")
    states = {o.item.name: o.result for o in outcomes}
    problems, plans = Problems(), {}
    for spec in specs:
        try:
            plans[spec.name] = plan_role(spec, states[spec.name], compare_policies)
        except InvalidInput as exc:
            problems.extend(exc)
    with input_checked(module):
        problems.raise_if_any()

    after = {s.name: role_after(s, states[s.name], plans[s.name]) for s in specs}
    to_write = [s for s in specs if plans[s.name].changed]
    if not module.check_mode:

        def write(spec):
            if plans[spec.name].create:
                return iam.create_role(spec).arn
            iam.update_role(spec, plans[spec.name])
            return states[spec.name].arn

        outcomes = run_concurrently(write, to_write)
        for outcome in outcomes:
            if outcome.error is None:
                after[outcome.item.name] = role_after(
                    outcome.item, states[outcome.item.name], plans[outcome.item.name], outcome.result
                )
        failed = first_error(outcomes)
        if failed:
            fail_for(module, failed.error, f"Writing role {failed.item.name}", changed=True)

    results, diffs = [], []
    for role, spec in zip(request.roles, specs, strict=True):
        plan = plans[spec.name]
        results.append(role_entry(role, after[spec.name].arn, True, plan.changes, request))
        if plan.changed:
            diffs.append(
                {
                    "before": role_view(states[spec.name]),
                    "after": role_view(after[spec.name]),
                    "before_header": f"role {spec.name}",
                    "after_header": f"role {spec.name}",
                }
            )
    return results, diffs


def ensure_roles_absent(module, iam, request):
    policy_name = module.params["policy_name"]
    outcomes = run_concurrently(lambda role: iam.role_state(role.name, policy_name), request.roles)
    failed = first_error(outcomes)
    if failed:
        fail_for(module, failed.error, f"Reading role {failed.item.name}")
    existing = [o.item for o in outcomes if o.result is not None]
    states = {o.item.name: o.result for o in outcomes}
    if not module.check_mode:
        failed = first_error(run_concurrently(lambda role: iam.delete_role(role.name), existing))
        if failed:
            fail_for(module, failed.error, f"Deleting role {failed.item.name}", changed=True)
    results, diffs = [], []
    for role in request.roles:
        gone = states[role.name] is not None
        results.append(role_entry(role, None, False, ["deleted"] if gone else [], request))
        if gone:
            header = f"role {role.name}"
            diffs.append(
                {"before": role_view(states[role.name]), "after": {}, "before_header": header, "after_header": header}
            )
    return results, diffs


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_if=[("state", "present", ["github_repos"]), ("per_repository", True, ["github_repos"])],
        mutually_exclusive=[("per_repository", "repositories")],
    )
    with input_checked(module):
        request = ci_role_request(module.params)
    for warning in request.warnings:
        module.warn(warning)
    present = module.params["state"] == "present"
    if present and not module.region:
        module.fail_json(msg="region is required: the ECR repository ARNs the role may push to name it")

    account_id, partition = get_aws_account_info(module)
    iam = IamAccess(aws_client(module, "iam", IAM_RETRY))
    provider_arn = github_provider_arn(partition, account_id)
    result = {}
    try:
        if present:
            provider, provider_diff = ensure_provider(
                module, iam, provider_arn, request.thumbprints, module.params["tags"]
            )
            provider_arn = provider["arn"]
            with input_checked(module):
                specs = role_specs(module, request, provider_arn, account_id, partition)
            roles, diffs = ensure_roles_present(module, iam, request, specs)
            if provider["changes"]:
                header = f"OIDC provider {GITHUB_OIDC_HOST}"
                diffs.insert(0, {**provider_diff, "before_header": header, "after_header": header})
            result["provider"] = provider
        else:
            roles, diffs = ensure_roles_absent(module, iam, request)
    except Exception as exc:  # botocore ClientError / BotoCoreError from a read or the provider
        module.fail_json_aws(exc, msg="Converging the GitHub OIDC provider and roles failed")
    if not module.params["per_repository"]:
        result["role_arn"] = roles[0]["arn"]
    module.exit_json(
        changed=any(r["changed"] for r in roles) or bool(result.get("provider", {}).get("changes")),
        provider_arn=provider_arn,
        roles=roles,
        diff=diffs if module._diff else [],
        **result,
    )


if __name__ == "__main__":
    main()
