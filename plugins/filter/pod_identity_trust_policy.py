# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: pod_identity_trust_policy
short_description: Trust policy of a role for one EKS Pod Identity service account
version_added: 0.1.0
description:
  - The trust policy that lets EKS Pod Identity (C(pods.eks.amazonaws.com), C(sts:AssumeRole) and
    C(sts:TagSession)) give the role to one service account of one cluster in this account only,
    matching C(aws:SourceAccount) and the session tags C(eks-cluster-name),
    C(kubernetes-namespace) and C(kubernetes-service-account).
  - The same builder the collection's tests lint with parliament and evaluate like IAM.
positional: cluster_name, namespace, service_account
options:
  _input:
    description: The 12-digit AWS account id.
    type: str
    required: true
  cluster_name:
    description: EKS cluster name.
    type: str
    required: true
  namespace:
    description: Kubernetes namespace of the service account.
    type: str
    default: argocd
  service_account:
    description: Kubernetes service account.
    type: str
    default: argocd-image-updater
"""

EXAMPLES = r"""
- name: Role for ArgoCD Image Updater in the dev cluster
  amazon.aws.iam_role:
    name: argocd-image-updater-dev
    assume_role_policy_document: "{{ account_id | cloudops.ecr.pod_identity_trust_policy('dev-eks') }}"
    create_instance_profile: false
"""

RETURN = r"""
_value:
  description: The trust policy document.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.module_utils._rules import iam_documents
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput


def pod_identity_trust_policy(account_id, cluster_name, namespace="argocd", service_account="argocd-image-updater"):
    try:
        return iam_documents.pod_identity_trust_policy(str(account_id), cluster_name, namespace, service_account)
    except InvalidInput as exc:
        raise AnsibleFilterError(f"pod_identity_trust_policy: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"pod_identity_trust_policy": pod_identity_trust_policy}
