# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: registry_problems
short_description: Every invalid input of a registry run, before anything is written
version_added: 0.1.0
description:
  - Checks the parameters the M(cloudops.ecr.ecr_repository), M(cloudops.ecr.ecr_lifecycle) and
    M(cloudops.ecr.github_oidc_role) tasks of a run will get, and the Image Updater role settings, with
    the same validators the modules use, and returns every problem found.
  - The role calls it first, so that a mistake in the last task's input fails the run before the first
    task writes anything.
options:
  _input:
    description:
      - Sections to check, each the parameters of one task; a section set to null is not checked.
      - C(repositories), C(lifecycle) and C(ci_role) take the module parameters;
        C(image_updater) takes C(role_name), C(role_path), C(cluster_name), C(namespace), C(service_account).
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

from ansible_collections.cloudops.ecr.plugins.module_utils.github_oidc import ci_role_request
from ansible_collections.cloudops.ecr.plugins.module_utils.iam_documents import (
    validate_pod_identity_target,
    validate_role_name,
    validate_role_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle_plan import desired_lifecycle_policies
from ansible_collections.cloudops.ecr.plugins.module_utils.repository import desired_repositories
from ansible_collections.cloudops.ecr.plugins.module_utils.validation import InvalidInput, Problems


def _image_updater(settings: dict) -> None:
    problems = Problems()
    for check, args in (
        (validate_role_name, (settings.get("role_name"), "role_name")),
        (validate_role_path, (settings.get("role_path", "/"), "role_path")),
        (
            validate_pod_identity_target,
            (settings.get("cluster_name"), settings.get("namespace"), settings.get("service_account")),
        ),
    ):
        try:
            check(*args)
        except InvalidInput as exc:
            problems.extend(exc)
    problems.raise_if_any()


CHECKS = {
    "repositories": desired_repositories,
    "lifecycle": desired_lifecycle_policies,
    "ci_role": ci_role_request,
    "image_updater": _image_updater,
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
