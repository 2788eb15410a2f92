# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: registry_problems
short_description: Every invalid input of a registry run, before anything is written
version_added: 0.1.0
description:
  - Checks the parameters the M(cloudops.ecr.ecr_repository), M(cloudops.ecr.ecr_lifecycle),
    M(cloudops.ecr.github_oidc_role) and M(cloudops.ecr.image_updater_role) tasks of a run will get, with
    the same validators the modules use, and returns every problem found.
  - The role calls it first, so that a mistake in the last task's input fails the run before the first
    task writes anything.
options:
  _input:
    description:
      - Sections to check, each the parameters of one task; a section set to null is not checked.
      - C(repositories) takes the parameters of M(cloudops.ecr.ecr_repository) (its C(lifecycle) included),
        C(lifecycle) those of M(cloudops.ecr.ecr_lifecycle), C(ci_role) those of M(cloudops.ecr.github_oidc_role)
        and C(image_updater) those of M(cloudops.ecr.image_updater_role).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Every input is valid before anything is written
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems }}"
  vars:
    problems: "{{ {'repositories': {'repositories': ['Bad_Name']}} | cloudops.ecr.registry_problems }}"
"""

RETURN = r"""
_value:
  description: "One line per problem, C(<section> <field path>: <what is wrong>); empty when all is valid."
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import ci_role_request
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_updater import image_updater_request
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    desired_lifecycle_policies,
    desired_repositories_with_lifecycle,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput

CHECKS = {
    "repositories": desired_repositories_with_lifecycle,
    "lifecycle": desired_lifecycle_policies,
    "ci_role": ci_role_request,
    "image_updater": image_updater_request,
}


def registry_problems(sections):
    if not isinstance(sections, dict):
        raise AnsibleFilterError("registry_problems: expects a dict of sections")
    unknown = sorted(set(sections) - set(CHECKS))
    if unknown:
        raise AnsibleFilterError(f"registry_problems: unknown sections {', '.join(unknown)}")
    found = []
    for section, params in sections.items():
        if params is None:
            continue
        try:
            CHECKS[section](dict(params))
        except InvalidInput as exc:
            found += [f"{section} {problem}" for problem in exc.problems]
    return found


class FilterModule:
    def filters(self):
        return {"registry_problems": registry_problems}
