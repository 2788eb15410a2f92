#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pod_identity_association_info
short_description: Whether an EKS cluster can hold a Pod Identity association, and the one a service account has
version_added: 0.1.0
description:
  - Reads the EKS Pod Identity association of one service account, and says whether the endpoint has
    the EKS Pod Identity API and whether the cluster exists, without failing on either.
  - The M(cloudops.ecr.ecr_registry) role runs it before its first write, so that a missing cluster or an
    endpoint without the API (a local AWS such as moto answers HTTP 404) stops the run before the
    repositories and roles are written.
  - Reads only; the same in check mode.
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
    description: Kubernetes service account.
    type: str
    default: argocd-image-updater
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Needs C(eks:ListPodIdentityAssociations) and C(eks:DescribePodIdentityAssociation).
"""

EXAMPLES = r"""
- name: The dev cluster can hold the Image Updater's association
  cloudops.ecr.pod_identity_association_info:
    cluster_name: dev-eks
  register: probe

- name: Stop before anything is written when it cannot
  ansible.builtin.assert:
    that: probe.api_available and probe.cluster_found
"""

RETURN = r"""
api_available:
  description: V(false) when the endpoint has no EKS Pod Identity API (it answered HTTP 404 without an AWS error).
  returned: always
  type: bool
cluster_found:
  description: V(false) when EKS has no cluster of that name in this account and region.
  returned: always
  type: bool
association:
  description:
    - The service account's association, with the keys M(cloudops.ecr.pod_identity_association) returns; empty for none.
  returned: always
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.pod_identity_association_info import (
    PodIdentityAssociationInfoRunner,
)

ARGUMENT_SPEC = dict(
    cluster_name=dict(type="str", required=True),
    namespace=dict(type="str", default="argocd"),
    service_account=dict(type="str", default="argocd-image-updater"),
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    PodIdentityAssociationInfoRunner(module).run()


if __name__ == "__main__":
    main()
