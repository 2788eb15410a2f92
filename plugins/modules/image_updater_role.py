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
      - Names of the ECR repositories (in the module's region) the role may read, each once; their ARNs are
        listed in the read policy. With O(state=present), this or O(repository_tag) is required.
      - IAM allows 10,240 characters for a role's inline policies, about 140 repository ARNs; more are
        refused before any AWS call - use O(repository_tag).
    type: list
    elements: str
  repository_tag:
    description:
      - Read every repository of the registry that carries this tag (one C(key) and C(value)) instead of a
        list. One statement of constant size (C(Resource) all repositories of the region, C(Condition)
        C(aws:ResourceTag/KEY) equals VALUE), however many repositories there are.
      - Give the same tag as M(cloudops.ecr.ecr_repository)'s O(cloudops.ecr.ecr_repository#module:membership_tag),
        which puts it on the registry's repositories and takes it off those no longer listed.
      - Whoever may tag repositories (C(ecr:TagResource)) can then grant this read access; keep that
        permission with the registry's administrators.
    type: dict
    suboptions:
      key:
        description: The tag key.
        type: str
        required: true
      value:
        description: The tag value.
        type: str
        required: true
  registry_account_id:
    description:
      - The account of the registry the role reads, when it is not the role's own (a shared registry account).
        The registry's repository policies must grant this account pull as well (M(cloudops.ecr.ecr_repository_access)).
    type: str
  registry_region:
    description: The region of the registry the role reads, when it is not the module's region.
    type: str
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

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.image_updater_role import ImageUpdaterRoleRunner

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    path=dict(type="str", default="/"),
    description=dict(type="str"),
    cluster_name=dict(type="str"),
    namespace=dict(type="str", default="argocd"),
    service_account=dict(type="str", default="argocd-image-updater"),
    repositories=dict(type="list", elements="str"),
    repository_tag=dict(
        type="dict",
        options=dict(key=dict(type="str", required=True, no_log=False), value=dict(type="str", required=True)),
    ),
    association=dict(type="bool", default=True),
    registry_account_id=dict(type="str"),
    registry_region=dict(type="str"),
    max_session_duration=dict(type="int", default=3600),
    policy_name=dict(type="str", default="ecr-read"),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_if=[
            ("state", "present", ["cluster_name"]),
            ("state", "present", ["repositories", "repository_tag"], True),
            ("association", True, ["cluster_name"]),
        ],
        mutually_exclusive=[("repositories", "repository_tag")],
    )
    ImageUpdaterRoleRunner(module).run()


if __name__ == "__main__":
    main()
