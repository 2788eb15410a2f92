#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_inputs
short_description: Check every input of an ecr_registry run and build the arguments of its module tasks
version_added: 0.1.0
description:
  - The first task of the M(cloudops.ecr.ecr_registry) role. It is an action plugin, which runs on the controller and
    makes no AWS call. It reads the role's variables, checks them all at once, and returns the arguments
    every later module task of the role uses, so that a mistake in the last task's input fails the run
    before the first task writes anything.
  - Refused, each problem named by the variable you wrote (C(ecr_registry_extra_repositories[1]),
    C(ecr_registry_repository_overrides['acme/Web'])) - any C(ecr_registry_*) variable the role does not
    declare (with the closest declared name), values of the wrong type, everything the modules'
    own validators refuse (names, settings, lifecycle rules, GitHub repositories and subjects, role and
    cluster names), override keys that name no repository, a region botocore does not know, and an
    outputs file that cannot be written.
  - Booleans are read the way Ansible reads them wherever they come from (C(-e ecr_registry_ci_role=false),
    AWX extra vars, YAML).
  - The region is C(ecr_registry_region) (the inventory's C(aws_region)), else the C(region) of the play's
    C(module_defaults) for C(group/cloudops.ecr.aws), else C(AWS_REGION) / C(AWS_DEFAULT_REGION), else the
    region of the AWS profile.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  role_path:
    description: The role's folder (C({{ role_path }})), where its C(meta/argument_specs.yml) declares its variables.
    type: path
    required: true
  entry_point:
    description: The role's entry point whose variables are read.
    type: str
    default: main
  region:
    description:
      - Set by the play's C(module_defaults) for C(group/cloudops.ecr.aws), like every module of the group;
        used when the role's variables name no region.
    type: str
notes:
  - Runs on the controller. Check mode and diff mode change nothing, since it never writes.
"""

EXAMPLES = r"""
- name: Every input of the run is valid before anything is written
  cloudops.ecr.registry_inputs:
    role_path: "{{ role_path }}"
  register: inputs

- name: Repositories, with the arguments the check built
  cloudops.ecr.ecr_repository:
    region: "{{ inputs.region }}"
    repositories: "{{ inputs.ecr_repository.repositories }}"
"""

RETURN = r"""
region:
  description: The registry's region.
  returned: success
  type: str
  sample: eu-west-1
environment:
  description: The environment name.
  returned: success
  type: str
github_repos:
  description: The GitHub repositories, as written.
  returned: success
  type: list
  elements: str
repository_names:
  description: The ECR repositories of the registry, in order.
  returned: success
  type: list
  elements: str
ecr_repository:
  description: The arguments of the M(cloudops.ecr.ecr_repository) task.
  returned: success
  type: dict
ecr_lifecycle:
  description: The arguments of the M(cloudops.ecr.ecr_lifecycle) task; null when lifecycle policies are not managed.
  returned: success
  type: dict
github_oidc_role:
  description: The arguments of the M(cloudops.ecr.github_oidc_role) task; null when there is no CI role to converge.
  returned: success
  type: dict
image_updater_role:
  description: The arguments of the M(cloudops.ecr.image_updater_role) task; null without an Image Updater role.
  returned: success
  type: dict
outputs_file:
  description:
    - The absolute path of the outputs file (a relative path is relative to where the run started); null for none.
  returned: success
  type: str
handoff_dir:
  description: The absolute path of the hand-off folder (relative to where the run started); null for none.
  returned: success
  type: str
handoff:
  description:
    - What the hand-off files are made from besides the outputs - C(ci_subjects), C(ci_role_name), C(per_repository)
      and C(repository_mutability) (per repository, C(image_tag_mutability) and C(exclusions)); null without the
      registry's part.
  returned: success
  type: dict
summary:
  description: Whether to print the summary.
  returned: success
  type: bool
problems:
  description: "One line per problem: C(<variable>: <what is wrong>)."
  returned: failure
  type: list
  elements: str
"""
