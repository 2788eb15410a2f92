# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: repository_entries
short_description: The ECR repositories of a registry, from GitHub repositories and plain names
version_added: 0.1.0
description:
  - Turns a list of GitHub C(owner/repo) into ECR repository names (lowercased, C(owner/repo)), adds
    plain repository names, drops duplicates and attaches per-repository overrides and lifecycle
    policies, giving the O(cloudops.ecr.ecr_repository#module:repositories) list.
positional: extra, overrides, lifecycle
options:
  _input:
    description: GitHub repositories, C(owner/repo).
    type: list
    elements: str
    required: true
  extra:
    description: Plain repository names.
    type: list
    elements: str
    default: []
  overrides:
    description: Per-repository settings, keyed by repository name.
    type: dict
    default: {}
  lifecycle:
    description:
      - Per-repository lifecycle policies, keyed by repository name, each a dict with C(rules) or
        C(policy) and optionally C(max_expire_percent); attached as the entry's C(lifecycle).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Repositories for the registry
  ansible.builtin.debug:
    msg: "{{ ['Example-Org/App'] | cloudops.ecr.repository_entries(['tools'], {'tools': {'scan_on_push': false}}) }}"
  # -> ['example-org/app', {'name': 'tools', 'scan_on_push': false}]

- name: The same, with a lifecycle policy of its own for example-org/app
  ansible.builtin.debug:
    msg: >-
      {{ ['Example-Org/App'] | cloudops.ecr.repository_entries(['tools'], {},
           {'example-org/app': {'rules': [{'tag_status': 'any', 'keep_last': 50}]}}) }}
  # -> [{'name': 'example-org/app', 'lifecycle': {'rules': [...]}}, 'tools']
"""

RETURN = r"""
_value:
  description: Repository names, or dicts with C(name) and the overrides where some are given.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import repository_name_for_github


def repository_entries(github_repos, extra=None, overrides=None, lifecycle=None):
    if not isinstance(github_repos, list):
        raise AnsibleFilterError(f"repository_entries: github_repos must be a list, got {type(github_repos).__name__}")
    names = []
    for name in [repository_name_for_github(str(r)) for r in github_repos] + [str(n) for n in extra or []]:
        if name not in names:
            names.append(name)
    per_name = {n: {} for n in names}
    for label, given in (("overrides", overrides), ("lifecycle", lifecycle)):
        unknown = sorted(set(given or {}) - set(names))
        if unknown:
            raise AnsibleFilterError(
                f"repository_entries: {label} name repositories not in the list: {', '.join(unknown)}"
            )
        for name, value in (given or {}).items():
            per_name[name].update(value if label == "overrides" else {"lifecycle": value})
    return [{"name": n, **per_name[n]} if per_name[n] else n for n in names]


class FilterModule:
    def filters(self):
        return {"repository_entries": repository_entries}
