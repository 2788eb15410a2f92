#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_updater_role
short_description: IAM role that ArgoCD Image Updater gets through EKS Pod Identity to read ECR
version_added: 0.1.0
description:
  - Converges, in one module run, the IAM role of ArgoCD Image Updater in one environment and, with
    O(association=true), its EKS Pod Identity association - what C(amazon.aws.aws_caller_info),
    C(amazon.aws.iam_role), C(amazon.aws.iam_policy) and M(cloudops.ecr.pod_identity_association)
    did in four.
  - The role's trust admits EKS Pod Identity (C(pods.eks.amazonaws.com), C(sts:AssumeRole) and
    C(sts:TagSession)) for one service account of one cluster in this account only, matching
    C(aws:SourceAccount) and the session tags C(eks-cluster-name), C(kubernetes-namespace) and
    C(kubernetes-service-account) - the document of the P(cloudops.ecr.pod_identity_trust_policy#filter) filter.
  - Its inline policy O(policy_name) allows C(ecr:GetAuthorizationToken) on C(*) and pulling and
    listing images of the listed O(repositories) only - the document of the
    P(cloudops.ecr.ecr_read_policy#filter) filter. A role made with those filters is adopted without change.
  - Every input is validated before the first AWS call; an error names the field. Documents are
    compared semantically, so a rerun writes nothing. Check mode makes no write call and reports the
    ARN a role still to be created will have; diff mode shows the role and the association before and after.
  - IAM is eventually consistent - the policy and association writes that follow a role's creation
    are retried while IAM and EKS do not see the new role yet.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  name:
    description: The role name (1 to 64 of letters, digits and C(+=,.@_-)).
    type: str
    required: true
  path:
    description: IAM path of the role, C(/) or C(/segment/.../). IAM cannot change it on an existing role.
    type: str
    default: /
  description:
    description:
      - Role description (at most 1000 characters).
      - Left out, a new role gets one saying it is ArgoCD Image Updater's ECR read role; an existing one keeps its own.
    type: str
  cluster_name:
    description:
      - Name of the EKS cluster whose Image Updater pods get the role.
      - Required with O(state=present), and with O(state=absent) when O(association=true).
    type: str
  namespace:
    description: Kubernetes namespace of the Image Updater service account.
    type: str
    default: argocd
  service_account:
    description: Kubernetes service account the Image Updater pods run as.
    type: str
    default: argocd-image-updater
  repositories:
    description:
      - Names of the ECR repositories (in the module's region) the role may read, each once.
      - Required with O(state=present).
    type: list
    elements: str
  association:
    description:
      - Whether to converge the EKS Pod Identity association of O(service_account) too (created, or
        pointed at the role with session tags on). EKS allows one association per service account.
      - V(false) leaves the association alone - for an endpoint without the EKS Pod Identity API
        (moto), or when it is managed elsewhere.
    type: bool
    default: true
  max_session_duration:
    description: Longest session, in seconds (3600 to 43200).
    type: int
    default: 3600
  policy_name:
    description: Name of the inline policy holding the read permissions. Other policies of the role are left alone.
    type: str
    default: ecr-read
  state:
    description:
      - V(present) converges the role, its inline policy and (with O(association=true)) the association.
      - V(absent) deletes the association (with O(association=true), when it gives this role), then the
        role with all its policies. An association of the service account to another role is left alone.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - O(tags) apply to the role and to the association.
  - The EKS Pod Identity Agent add-on must run in the cluster for pods to get the role.
  - An association owned by an EKS add-on is refused before any write; change it through the add-on.
  - Needs C(sts:GetCallerIdentity), C(iam:GetRole), C(iam:GetRolePolicy), and for changes
    C(iam:CreateRole), C(iam:UpdateAssumeRolePolicy), C(iam:UpdateRole), C(iam:PutRolePolicy),
    C(iam:TagRole), C(iam:UntagRole), C(iam:DeleteRole) and friends; with O(association=true)
    C(eks:ListPodIdentityAssociations), C(eks:DescribePodIdentityAssociation) and for changes
    C(eks:CreatePodIdentityAssociation), C(eks:UpdatePodIdentityAssociation),
    C(eks:DeletePodIdentityAssociation), C(eks:TagResource), C(eks:UntagResource), C(iam:PassRole) on the role.
seealso:
  - module: cloudops.ecr.pod_identity_association
  - plugin: cloudops.ecr.pod_identity_trust_policy
    plugin_type: filter
  - plugin: cloudops.ecr.ecr_read_policy
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Image Updater in the dev cluster may read the registry's repositories and nothing else
  cloudops.ecr.image_updater_role:
    region: eu-west-1
    name: argocd-image-updater-dev
    description: "ArgoCD Image Updater (dev): read ECR (cloudops.ecr)"
    cluster_name: dev-cluster
    namespace: argocd
    service_account: argocd-image-updater
    repositories:
      - example-org/web-app
      - tools
    tags:
      managed-by: cloudops.ecr
  register: image_updater

- name: The ARN to give the Image Updater's Helm values
  ansible.builtin.debug:
    msg: "{{ image_updater.role_arn }}"

- name: Against an endpoint without the EKS Pod Identity API (moto), the role only
  cloudops.ecr.image_updater_role:
    region: eu-west-1
    name: argocd-image-updater-dev
    cluster_name: dev-cluster
    repositories: [example-org/web-app]
    association: false

- name: The association and the role are gone
  cloudops.ecr.image_updater_role:
    name: argocd-image-updater-dev
    cluster_name: dev-cluster
    state: absent
"""

RETURN = r"""
account_id:
  description: The account the role is in (from C(sts:GetCallerIdentity)).
  returned: always
  type: str
  sample: "123456789012"
partition:
  description: The AWS partition of the account.
  returned: always
  type: str
  sample: aws
role_arn:
  description:
    - ARN of the role - also in check mode for a role still to be created (the ARN it will have),
      and with O(state=absent) (the ARN it had).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/argocd-image-updater-dev
role:
  description: The role and what this run changed on it.
  returned: always
  type: dict
  contains:
    name:
      description: Role name.
      type: str
      sample: argocd-image-updater-dev
    arn:
      description: Role ARN, as RV(role_arn).
      type: str
    path:
      description: Role path.
      type: str
      sample: /
    changed:
      description: Whether the role was (or in check mode would be) changed.
      type: bool
    changes:
      description:
        - C(created), C(deleted), C(trust_policy), C(permissions_policy), C(settings), C(tags).
      type: list
      elements: str
association:
  description:
    - The Pod Identity association after the run, as M(cloudops.ecr.pod_identity_association) returns it.
    - Empty after deletion and in check mode for one to create; null with O(association=false).
  returned: always
  type: dict
  contains:
    association_id:
      description: Association id.
      type: str
      sample: a-abcdefghijklmnop1
    association_arn:
      description: Association ARN.
      type: str
    cluster_name:
      description: Cluster name.
      type: str
    namespace:
      description: Namespace.
      type: str
    service_account:
      description: Service account.
      type: str
    role_arn:
      description: Role the pods get.
      type: str
    disable_session_tags:
      description: Always V(false) after a change by this module.
      type: bool
    tags:
      description: Tags of the association.
      type: dict
diff:
  description: In diff mode, the role and the association before and after, for each that changed (else empty).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils.aws_access import (
    RETRY,
    aws_client,
    fail_for,
    input_checked,
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
    ecr_read_policy,
    image_updater_request,
    pod_identity_trust_policy,
    repository_arn,
    role_arn,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.pod_identity import (
    AssociationRequest,
    PodIdentityAssociations,
    apply_association,
    association_view,
    ensure_association_absent,
    planned_association,
)

NEW_ROLE_DESCRIPTION = "ArgoCD Image Updater: read ECR (cloudops.ecr)"

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    path=dict(type="str", default="/"),
    description=dict(type="str"),
    cluster_name=dict(type="str"),
    namespace=dict(type="str", default="argocd"),
    service_account=dict(type="str", default="argocd-image-updater"),
    repositories=dict(type="list", elements="str"),
    association=dict(type="bool", default=True),
    max_session_duration=dict(type="int", default=3600),
    policy_name=dict(type="str", default="ecr-read"),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def role_spec(module, repositories, tags, account_id, partition) -> RoleSpec:
    """The documents the old filters build: trust for this service account, read on these repositories."""
    params = module.params
    arns = [repository_arn(partition, module.region, account_id, name) for name in repositories]
    return RoleSpec(
        name=params["name"],
        path=params["path"],
        trust_policy=pod_identity_trust_policy(
            account_id, params["cluster_name"], params["namespace"], params["service_account"]
        ),
        policy_name=params["policy_name"],
        policy=ecr_read_policy(arns, "repositories"),
        max_session_duration=params["max_session_duration"],
        description=params["description"],
        new_role_description=NEW_ROLE_DESCRIPTION,
        tags=tags,
        purge_tags=params["purge_tags"],
    )


def role_entry(name, arn, path, changes) -> dict:
    return {"name": name, "arn": arn, "path": path, "changed": bool(changes), "changes": changes}


def diff_entry(before, after, header) -> dict:
    return {"before": before, "after": after, "before_header": header, "after_header": header}


def association_request(module, arn, tags) -> AssociationRequest:
    params = module.params
    return AssociationRequest(
        cluster_name=params["cluster_name"],
        namespace=params["namespace"],
        service_account=params["service_account"],
        role_arn=arn,
        tags=tags,
        purge_tags=params["purge_tags"],
    )


def association_header(module) -> str:
    params = module.params
    return f"association {params['cluster_name']}/{params['namespace']}/{params['service_account']}"


def ensure_present(module, iam, associations, spec, arn):
    """Read the role and the association, plan both (refusals before any write), then write."""
    current = iam.role_state(spec.name, spec.policy_name)
    with input_checked(module):
        plan = plan_role(spec, current, compare_policies)
    arn = current.arn if current else arn
    request = found = association_plan = association_after = None
    if associations is not None:
        request = association_request(module, arn, spec.tags)
        found = associations.find(request.cluster_name, request.namespace, request.service_account)
        with input_checked(module):
            association_plan, association_after = planned_association(found, request)

    after = role_after(spec, current, plan, arn)
    role = role_entry(spec.name, arn, spec.path, plan.changes)
    if plan.changed and not module.check_mode:
        try:
            if plan.create:
                after = iam.create_role(spec)
                role["arn"] = arn = after.arn
            else:
                iam.update_role(spec, plan)
        except Exception as exc:  # botocore ClientError / BotoCoreError
            fail_for(module, exc, f"Writing role {spec.name}", changed=True, role_arn=arn)
    diffs = [diff_entry(role_view(current), role_view(after), f"role {spec.name}")] if plan.changed else []
    result = {"role_arn": arn, "role": role, "association": None, "changed": plan.changed}
    if request is None:
        return result, diffs

    if association_plan.changed and not module.check_mode:
        try:
            association_after = apply_association(
                associations, found, request, association_plan, association_after, role_is_new=plan.create
            )
        except Exception as exc:  # botocore ClientError / BotoCoreError
            fail_for(module, exc, "Writing the Pod Identity association", changed=True, role_arn=arn, role=role)
    if association_plan.changed:
        diffs.append(diff_entry(association_view(found), association_after, association_header(module)))
    result["association"] = {} if module.check_mode and found is None else association_after
    result["changed"] = plan.changed or association_plan.changed
    return result, diffs


def ensure_absent(module, iam, associations, arn):
    """The association first (only when it gives this role), then the role with its policies."""
    params = module.params
    current = iam.role_state(params["name"], params["policy_name"])
    arn = current.arn if current else arn
    result = {"role_arn": arn, "association": None}
    diffs, association_changes = [], []
    if associations is not None:
        found = associations.find(params["cluster_name"], params["namespace"], params["service_account"])
        if found is not None and found.role_arn != arn:
            module.warn(f"The association of {found.service_account!r} gives role {found.role_arn}: left alone")
            result["association"] = association_view(found)
        else:
            association_changes = ensure_association_absent(associations, found, module.check_mode)
            result["association"] = {}
        if association_changes:
            diffs.append(diff_entry(association_view(found), {}, association_header(module)))
    changes = ["deleted"] if current else []
    if current and not module.check_mode:
        try:
            iam.delete_role(current.name)
        except Exception as exc:  # botocore ClientError / BotoCoreError
            fail_for(module, exc, f"Deleting role {current.name}", changed=True, **result)
    if current:
        diffs.insert(0, diff_entry(role_view(current), {}, f"role {current.name}"))
    result["role"] = role_entry(params["name"], arn, current.path if current else params["path"], changes)
    result["changed"] = bool(changes or association_changes)
    return result, diffs


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_if=[("state", "present", ["cluster_name", "repositories"]), ("association", True, ["cluster_name"])],
    )
    params = module.params
    with input_checked(module):
        repositories, tags = image_updater_request(params)
    present = params["state"] == "present"
    if present and not module.region:
        module.fail_json(msg="region is required: the ECR repository ARNs the role may read name it")

    account_id, partition = get_aws_account_info(module)
    arn = role_arn(partition, account_id, params["name"], params["path"])
    iam = IamAccess(aws_client(module, "iam", IAM_RETRY))
    associations = PodIdentityAssociations(aws_client(module, "eks", RETRY)) if params["association"] else None
    try:
        if present:
            with input_checked(module):
                spec = role_spec(module, repositories, tags, account_id, partition)
            result, diffs = ensure_present(module, iam, associations, spec, arn)
        else:
            result, diffs = ensure_absent(module, iam, associations, arn)
    except Exception as exc:  # botocore ClientError / BotoCoreError from a read
        module.fail_json_aws(exc, msg=f"Converging the Image Updater role {params['name']!r} failed")
    module.exit_json(account_id=account_id, partition=partition, diff=diffs if module._diff else [], **result)


if __name__ == "__main__":
    main()
