# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: handoff_files
short_description: The files that wire each GitHub repository's CI and ArgoCD Image Updater to the registry
version_added: 0.1.0
description:
  - From a registry run's outputs, the exact files a team needs, by path relative to a hand-off directory - one
    GitHub Actions workflow per GitHub repository (C(workflows/OWNER/REPO.yml)) and, for the outputs' environment,
    the ArgoCD Image Updater's configuration (C(image-updater/ENVIRONMENT/)).
  - The workflow assumes the CI role that admits the repository, logs in to the registry, and builds and pushes the
    image for O(platforms). Its triggers are only those the CI role's trust admits - C(ref:refs/heads/B) a push to
    B, C(ref:refs/tags/T) a push of tag T, C(environment:E) a job in environment E run by hand
    (C(workflow_dispatch)), C(pull_request) pull requests; a subject that maps to no trigger is named in a comment.
  - Tags - C(sha-COMMIT) on every run (C(pr-NUMBER-COMMIT) for a pull request), the git tag on a tag push, and
    C(latest) on the default branch only where the repository lets C(latest) move. A tag the repository keeps
    immutable that already exists is not pushed again, so re-running a commit pushes nothing and is never refused.
  - Cache - the registry, under the tag C(buildcache), where the repository lets that tag move (C(MUTABLE), or an
    exclusion filter matching it); GitHub's cache (C(type=gha)) otherwise, with a comment saying why.
  - The Image Updater files - C(registries.conf.yaml), C(ecr-login.sh), C(values.yaml) (argo-helm chart),
    C(imageupdater.yaml) (v1.x C(ImageUpdater) resource), C(annotations.yaml) (v0.x Application annotations) and
    C(README.md) (the service account the Pod Identity association targets) - name the registry's account and
    region, wherever the Image Updater runs.
  - A value the outputs hold as null (check mode - the repository or role would be created) is never invented - the
    file says it is unknown, and a workflow missing one refuses to run.
positional: ci_subjects, ci_role_name, per_repository, mutability, platforms
options:
  _input:
    description: The registry's outputs (C(ecr_registry_outputs), as written to C(outputs/ENVIRONMENT.json)).
    type: dict
    required: true
  ci_subjects:
    description:
      - The subjects the CI role's trust admits, the part after C(repo:OWNER/REPO:) - the role's
        C(ecr_registry_ci_subjects) plus the environments' C(ecr_registry_ci_environment_subjects).
    type: list
    elements: str
    default: [ref:refs/heads/main]
  ci_role_name:
    description:
      - The CI role's name, looked up in the outputs' C(ci_role_arns); with O(per_repository), the template of the
        role names, where C({owner}) and C({repo}) stand for the lowercased GitHub names (C(gha-{owner}-{repo})).
    type: str
    default: github-actions
  per_repository:
    description: One CI role per GitHub repository (the role's C(ecr_registry_ci_per_repository)).
    type: bool
    default: false
  mutability:
    description:
      - Tag mutability by ECR repository name, each C({image_tag_mutability, exclusions}) where an exclusion is a
        wildcard filter string or ECR's C({filterType, filter}). A repository not listed is C(IMMUTABLE).
    type: dict
    default: {}
  platforms:
    description: The platforms every image is built for.
    type: list
    elements: str
    default: [linux/amd64, linux/arm64]
  namespace:
    description: The Kubernetes namespace of the Image Updater and of the Argo CD Applications it updates.
    type: str
    default: argocd
  service_account:
    description: The Image Updater's service account, the one its Pod Identity association targets.
    type: str
    default: argocd-image-updater
  update_strategy:
    description:
      - How the Image Updater picks a tag - C(semver) (the highest C(vX.Y.Z) release tag) or C(newest-build) (the
        newest C(sha-COMMIT)). Left out - C(semver) when the trust admits tag pushes, else C(newest-build).
    type: str
    choices: [semver, newest-build]
  applications:
    description: The Argo CD Application name (or glob) deploying each C(owner/repo); left out, the repository's name.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: The hand-off files are known
  ansible.builtin.set_fact:
    handoff: "{{ ecr_registry_outputs | cloudops.ecr.handoff_files(subjects, mutability=mutability) }}"
  vars:
    subjects: [ref:refs/heads/main, ref:refs/tags/v*]
    mutability:
      example-org/web-app:
        image_tag_mutability: IMMUTABLE_WITH_EXCLUSION
        exclusions: [buildcache]

- name: The hand-off directories exist
  ansible.builtin.file:
    path: "handoff/{{ item | dirname }}"
    state: directory
    mode: "0755"
  loop: "{{ handoff | list }}"

- name: The hand-off files are written
  ansible.builtin.copy:
    content: "{{ item.value }}"
    dest: "handoff/{{ item.key }}"
    mode: "{{ '0755' if item.key.endswith('.sh') else '0644' }}"
  loop: "{{ handoff | dict2items }}"
"""

RETURN = r"""
_value:
  description:
    - File text by path relative to the hand-off directory - C(workflows/OWNER/REPO.yml) for each GitHub repository,
      and C(image-updater/ENVIRONMENT/) C(registries.conf.yaml), C(ecr-login.sh), C(values.yaml),
      C(imageupdater.yaml), C(annotations.yaml) and C(README.md).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.ecr.plugins.module_utils._rules import handoff
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput


def handoff_files(
    outputs,
    ci_subjects=None,
    ci_role_name=None,
    per_repository=False,
    mutability=None,
    platforms=None,
    namespace=None,
    service_account=None,
    update_strategy=None,
    applications=None,
):
    try:
        settings = handoff.handoff_settings(
            ci_subjects,
            ci_role_name,
            per_repository,
            mutability,
            platforms,
            namespace,
            service_account,
            update_strategy,
            applications,
        )
        return handoff.handoff_files(outputs, settings)
    except InvalidInput as exc:
        raise AnsibleFilterError(f"handoff_files: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"handoff_files": handoff_files}
