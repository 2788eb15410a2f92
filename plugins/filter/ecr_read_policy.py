# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ecr_read_policy
short_description: IAM policy to pull and list images of named ECR repositories only
version_added: 0.1.0
description:
  - C(ecr:GetAuthorizationToken) on C(*) (it has no resource) and the read actions
    (C(BatchCheckLayerAvailability), C(BatchGetImage), C(GetDownloadUrlForLayer), C(DescribeImages),
    C(ListImages), C(DescribeRepositories)) on the ARNs of the named repositories - tighter than
    the AWS managed C(AmazonEC2ContainerRegistryReadOnly), which allows them on every repository.
  - The same builder the collection's tests lint with parliament.
positional: account_id, region, partition
options:
  _input:
    description: ECR repository names.
    type: list
    elements: str
    required: true
  account_id:
    description: The 12-digit account id of the registry.
    type: str
    required: true
  region:
    description: Region of the registry.
    type: str
    required: true
  partition:
    description: AWS partition.
    type: str
    default: aws
"""

EXAMPLES = r"""
- name: The Image Updater role may read the registry
  amazon.aws.iam_policy:
    iam_type: role
    iam_name: argocd-image-updater-dev
    policy_name: ecr-read
    policy_json: "{{ ['example-org/web-app'] | cloudops.ecr.ecr_read_policy(account_id, 'eu-west-1') }}"
"""

RETURN = r"""
_value:
  description: The policy document.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.module_utils._rules import iam_documents
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput


def ecr_read_policy(repository_names, account_id, region, partition="aws"):
    if not isinstance(repository_names, list):
        raise AnsibleFilterError(f"ecr_read_policy: expects a list of repository names, got {repository_names!r}")
    arns = [iam_documents.repository_arn(partition, region, str(account_id), name) for name in repository_names]
    try:
        return iam_documents.ecr_read_policy(arns)
    except InvalidInput as exc:
        raise AnsibleFilterError(f"ecr_read_policy: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"ecr_read_policy": ecr_read_policy}
