#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pod_identity_association
short_description: EKS Pod Identity association of a Kubernetes service account with an IAM role
version_added: 0.1.0
description:
  - Associates a service account of an EKS cluster with an IAM role through EKS Pod Identity, so
    pods running as that service account get the role's credentials (ArgoCD Image Updater reading
    ECR, for example). amazon.aws and community.aws have no module for this API.
  - EKS allows one association per service account; an existing one is updated in place to the
    given role. Session tags stay enabled - the role's trust policy should match on them
    (C(aws:RequestTag/eks-cluster-name), C(kubernetes-namespace), C(kubernetes-service-account)).
  - Inputs are validated before any AWS call. Check mode makes no write call; diff mode shows the
    association before and after.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  namespace:
    description: Kubernetes namespace of the service account.
    type: str
    default: argocd
  service_account:
    description: Kubernetes service account the pods run as.
    type: str
    default: argocd-image-updater
  role_arn:
    description: ARN of the IAM role the pods get. Required with O(state=present).
    type: str
  state:
    description: V(present) creates or updates the association; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - The EKS Pod Identity Agent add-on must run in the cluster.
  - Needs C(eks:ListPodIdentityAssociations), C(eks:DescribePodIdentityAssociation), and for
    changes C(eks:CreatePodIdentityAssociation), C(eks:UpdatePodIdentityAssociation),
    C(eks:DeletePodIdentityAssociation), C(eks:TagResource), C(eks:UntagResource), plus
    C(iam:PassRole) on the role.
  - An association owned by an EKS add-on is refused; change it through the add-on.
"""

EXAMPLES = r"""
- name: ArgoCD Image Updater pods get the ECR read role
  cloudops.ecr.pod_identity_association:
    cluster_name: dev-eks
    namespace: argocd
    service_account: argocd-image-updater
    role_arn: arn:aws:iam::123456789012:role/argocd-image-updater-dev
    tags:
      managed-by: cloudops.ecr

- name: The association is gone
  cloudops.ecr.pod_identity_association:
    cluster_name: dev-eks
    state: absent
"""

RETURN = r"""
association:
  description: The association after the run (empty after deletion and in check mode for one to create).
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
changes:
  description: C(created), C(deleted), C(role), C(tags).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.pod_identity_association import (
    PodIdentityAssociationRunner,
)

ARGUMENT_SPEC = dict(
    cluster_name=dict(type="str", required=True),
    namespace=dict(type="str", default="argocd"),
    service_account=dict(type="str", default="argocd-image-updater"),
    role_arn=dict(type="str"),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_if=[("state", "present", ["role_arn"])]
    )
    PodIdentityAssociationRunner(module).run()


if __name__ == "__main__":
    main()
