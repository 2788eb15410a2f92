#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_repository_access
short_description: One owner's pull grants in the repository policies of many ECR repositories
version_added: 0.1.0
description:
  - Grants pull (C(BatchGetImage), C(GetDownloadUrlForLayer), C(BatchCheckLayerAvailability)) and listing
    (C(ListImages), C(DescribeImages), which ArgoCD Image Updater reads tags with) on every listed repository
    to principals or AWS Organizations, as statements of one
    O(owner) (an environment) in each repository's policy, next to every other statement the policy holds
    - the registry's own grants (M(cloudops.ecr.ecr_repository)'s C(access)) and other owners'. Running it
    for dev and then for pro converges both grants; O(state=absent) removes only this owner's.
  - Cross-account pulls need both sides - this policy in the registry's account, and the caller's own IAM
    (a node role with C(AmazonEC2ContainerRegistryReadOnly), the Image Updater role of
    M(cloudops.ecr.image_updater_role)).
  - Statements are named C(Environment<Owner>Pull) and C(Environment<Owner>PullFromOrganizations) - C(dev)
    gives C(EnvironmentDevPull); an owner with other characters than lowercase letters and digits is spelt in
    hex after a C(0) (C(pre-prod) gives C(Environment07072652d70726f64Pull)), so that two owners never share
    statements. A repository that does not exist yet fails the run before any write, except in check mode.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  repositories:
    description: Names of the ECR repositories.
    type: list
    elements: str
    required: true
  owner:
    description: Whose statements these are, for example the environment's name.
    type: str
    required: true
  pull:
    description: Account ids or IAM role/user/root ARNs that may pull.
    type: list
    elements: str
  organizations:
    description: AWS Organizations ids (C(o-...)) whose accounts may pull.
    type: list
    elements: str
  state:
    description: V(present) sets the owner's statements; V(absent) removes them (and a policy left empty).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Needs C(ecr:DescribeRepositories), C(ecr:GetRepositoryPolicy), C(ecr:SetRepositoryPolicy) and
    C(ecr:DeleteRepositoryPolicy).
"""

EXAMPLES = r"""
- name: The pro account may pull every repository of the registry
  cloudops.ecr.ecr_repository_access:
    profile: registry-admin
    repositories: [example-org/web-app, example-org/api-service]
    owner: pro
    pull: ["333333333333"]
"""

RETURN = r"""
repositories:
  description: One entry per repository - C(name), C(changed) and the C(policy) it holds after the run.
  returned: always
  type: list
  elements: dict
granted:
  description: The principals and organizations this owner's statements grant pull (none with O(state=absent)).
  returned: always
  type: list
  elements: str
missing:
  description: Listed repositories that do not exist (check mode only; otherwise the module fails).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.ecr_repository_access import (
    EcrRepositoryAccessRunner,
)

ARGUMENT_SPEC = dict(
    repositories=dict(type="list", elements="str", required=True),
    owner=dict(type="str", required=True),
    pull=dict(type="list", elements="str"),
    organizations=dict(type="list", elements="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    EcrRepositoryAccessRunner(module).run()


if __name__ == "__main__":
    main()
