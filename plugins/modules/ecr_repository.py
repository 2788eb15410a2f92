#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_repository
short_description: Manage many private ECR repositories in one call
version_added: 0.1.0
description:
  - Creates, updates or deletes private Amazon ECR repositories, with image tag mutability, scan on push,
    encryption, tags and the repository policy.
  - One call handles any number of repositories. The registry is listed once (one API call per
    1,000 repositories), the tags and policy of each repository are read concurrently, and a write
    is made only where something differs. A rerun with nothing to change makes no write call.
  - Every input is validated before the first AWS call, with the rules AWS applies (repository
    name pattern and length, policy size, filters). When anything is invalid the module fails,
    naming each offending field, and changes nothing, not even the valid repositories of the call.
  - An option left out leaves the existing setting alone; a new repository gets C(IMMUTABLE) tags
    and scan on push.
  - Repositories that exist but are not listed are never touched; they are returned as RV(unmanaged).
  - With O(lifecycle) the same call also sets the lifecycle policy of the repositories, exactly as
    M(cloudops.ecr.ecr_lifecycle) does (same rules, validation, preview and guard), so one module
    process converges a registry. A policy that would expire more than O(lifecycle.max_expire_percent)
    of a repository's images is refused before anything is written, repository settings included;
    the refusal message holds the preview.
  - In diff mode, repositories whose diff is the same (settings and lifecycle policy before and after,
    and the preview) share one diff entry naming them all.
  - Returns the registry's account id and partition (RV(registry_id), RV(partition)), so a play
    needs no separate caller-identity lookup.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  repositories:
    description:
      - The repositories, as names or as dicts with C(name) and per-repository overrides of
        O(image_tag_mutability), O(mutability_exclusions), O(scan_on_push), O(encryption_type),
        O(kms_key), O(tags), O(policy), O(access) and O(lifecycle).
      - "A repository's own C(lifecycle) (a dict with the keys of O(lifecycle)) is for that repository
        only: its C(rules) or C(policy) replace the shared ones, and its C(max_expire_percent) falls
        back to the shared one. Unknown keys in it are errors, named by their path such as
        C(repositories[2].lifecycle.keep_last)."
      - "A name is 2 to 256 characters: lowercase letters and digits, in components joined by
        C(.), C(_), C(__) or C(-) and separated by single C(/), for example C(example-org/app)."
    type: list
    elements: raw
    required: true
  state:
    description:
      - V(present) creates missing repositories and updates the listed settings.
      - V(absent) deletes the listed repositories. A repository that holds images is deleted only
        with O(force=true); otherwise the module fails before deleting anything.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: With O(state=absent), delete repositories even when they hold images.
    type: bool
    default: false
  image_tag_mutability:
    description:
      - Whether a pushed tag can be moved to another image.
      - Left out, an existing repository keeps its setting and a new one gets V(IMMUTABLE).
    type: str
    choices: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]
  mutability_exclusions:
    description:
      - Tag filters (wildcards with C(*)) excepted from the mutability setting; 1 to 5, only with
        V(IMMUTABLE_WITH_EXCLUSION) or V(MUTABLE_WITH_EXCLUSION). Example C(latest), C(dev-*).
    type: list
    elements: str
  scan_on_push:
    description:
      - Scan each image for vulnerabilities when it is pushed (basic scanning).
      - Left out, an existing repository keeps its setting and a new one gets V(true).
    type: bool
  encryption_type:
    description:
      - Encryption at rest, set when the repository is created. ECR cannot change it afterwards; a
        different value for an existing repository is reported as an error and nothing is changed.
      - Left out, a new repository uses V(AES256).
    type: str
    choices: [AES256, KMS, KMS_DSSE]
  kms_key:
    description:
      - The KMS key for V(KMS) or V(KMS_DSSE), as key id, key ARN, alias name or alias ARN. An alias
        compares equal to the key ARN AWS reports. Left out, ECR uses the AWS managed key.
    type: str
  policy:
    description:
      - The repository policy, as a dict or JSON text (at most 10,240 characters). Compared
        semantically with the current one, so reordering does not cause a change.
      - V({}) removes the policy. Left out, the policy is left alone.
      - Mutually exclusive with O(access).
    type: raw
  access:
    description:
      - A repository policy built for you. Mutually exclusive with O(policy).
    type: dict
    suboptions:
      pull:
        description: Account ids or IAM role/user/root ARNs that may pull.
        type: list
        elements: str
      push:
        description: Account ids or IAM role/user/root ARNs that may push and pull.
        type: list
        elements: str
      organizations:
        description: AWS Organizations ids (C(o-...)) whose accounts may pull.
        type: list
        elements: str
  membership_tag:
    description:
      - A tag that marks the repositories of this registry, one C(key) and C(value). Every listed repository
        gets it (besides O(tags), and kept when O(purge_tags) removes others), and a repository of the
        registry that carries it but is no longer listed loses it - and with it any access granted by the
        tag, such as the read policy M(cloudops.ecr.image_updater_role) writes with
        O(cloudops.ecr.image_updater_role#module:repository_tag).
      - The repositories that lose it are returned as RV(membership_removed), warned about and shown in
        diff mode; nothing else of theirs is touched. Reading their tags costs one call per unlisted repository.
      - A listed repository whose O(tags) give the key another value is refused.
    type: dict
    suboptions:
      key:
        description: The tag key.
        type: str
        required: true
      value:
        description: The tag value.
        type: str
        required: true
  lifecycle:
    description:
      - The lifecycle policy of every listed repository without its own C(lifecycle); the same
        meaning and validation as the options of M(cloudops.ecr.ecr_lifecycle). Left out (and with
        no C(lifecycle) of its own), a repository's lifecycle policy is neither read nor touched.
      - Problems name their field, such as C(lifecycle.rules[0].keep_last) or
        C(repositories[2].lifecycle.policy.rules[0].rulePriority); every input is checked before
        the first AWS call.
      - A changed policy is previewed against the repository's images (RV(repositories[].lifecycle.preview)),
        image indexes, their platform and attestation manifests and signatures included, and refused
        when it would expire too many; a repository created in this run gets its policy with it.
        Policies are written after the repository settings, concurrently.
      - Not used with O(state=absent).
    type: dict
    suboptions:
      rules:
        description:
          - "The lifecycle policy in plain words, a list of rules such as
            C({tag_status: untagged, keep_last: 10}) or C({tag_patterns: [\"*\"], keep_days: 30});
            see O(cloudops.ecr.ecr_lifecycle#module:rules) for every key. Mutually exclusive with O(lifecycle.policy)."
        type: list
        elements: dict
      policy:
        description:
          - The AWS lifecycle policy document, as a dict or JSON text. Mutually exclusive with O(lifecycle.rules).
        type: raw
      max_expire_percent:
        description:
          - Refuse to apply a new policy that would expire more than this share (percent) of a
            repository's images now; then nothing at all is written. Archiving is not counted.
        type: float
        default: 50
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Needs C(ecr:DescribeRepositories) on C(*); C(ecr:ListTagsForResource) and
    C(ecr:GetRepositoryPolicy) when O(tags) and O(policy) are managed; and the write actions for
    what changes (C(ecr:CreateRepository), C(ecr:TagResource), C(ecr:PutImageTagMutability), ...).
  - O(tags) and O(purge_tags) follow the amazon.aws convention; tags are only read and written when
    O(tags) is given.
  - With O(lifecycle), also C(ecr:GetLifecyclePolicy), C(ecr:DescribeImages) and (for repositories
    holding image indexes) C(ecr:BatchGetImage) for the preview, and C(ecr:PutLifecyclePolicy) for
    what changes.
  - C(ecr:DescribeRegistry) is used only when no repository of the registry exists yet (for example
    a first run in check mode), to return RV(registry_id).
"""

EXAMPLES = r"""
- name: Repositories for every GitHub repository, immutable tags, scanned on push
  cloudops.ecr.ecr_repository:
    repositories:
      - example-org/api
      - example-org/web
      - name: example-org/sandbox
        image_tag_mutability: MUTABLE
    image_tag_mutability: IMMUTABLE
    scan_on_push: true
    tags:
      team: platform
      managed-by: ansible

- name: Keep "latest" movable, everything else immutable
  cloudops.ecr.ecr_repository:
    repositories: [example-org/api]
    image_tag_mutability: IMMUTABLE_WITH_EXCLUSION
    mutability_exclusions: [latest, "dev-*"]

- name: Let another account pull and the organisation read
  cloudops.ecr.ecr_repository:
    repositories: [example-org/api]
    access:
      pull: ["arn:aws:iam::111122223333:root"]
      organizations: [o-a1b2c3d4e5]

- name: KMS-encrypted repository
  cloudops.ecr.ecr_repository:
    repositories: [payments/ledger]
    encryption_type: KMS
    kms_key: alias/ecr

- name: Repositories and their lifecycle policies in one call, one repository with its own
  cloudops.ecr.ecr_repository:
    repositories:
      - example-org/api
      - example-org/web
      - name: example-org/batch
        lifecycle:
          rules:
            - tag_status: any
              keep_last: 5
          max_expire_percent: 80
    lifecycle:
      rules:
        - description: Keep the last 10 untagged images
          tag_status: untagged
          keep_last: 10
        - description: Keep tagged images for 30 days
          tag_patterns: ["*"]
          keep_days: 30
  register: registry
- name: Build ARNs from the registry the module returned
  ansible.builtin.debug:
    msg: "arn:{{ registry.partition }}:iam::{{ registry.registry_id }}:root"

- name: Delete a repository and its images
  cloudops.ecr.ecr_repository:
    repositories: [example-org/old-service]
    state: absent
    force: true
"""

RETURN = r"""
repositories:
  description: One entry per listed repository, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Repository name.
      type: str
      sample: example-org/api
    arn:
      description: Repository ARN (null for a repository check mode would create).
      type: str
      sample: arn:aws:ecr:eu-west-1:123456789012:repository/example-org/api
    uri:
      description: Repository URI to tag and push images with.
      type: str
      sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/example-org/api
    registry_id:
      description: The account id of the registry.
      type: str
      sample: "123456789012"
    state:
      description: V(present) or V(absent) after the run.
      type: str
    changed:
      description: Whether this repository was (or in check mode would be) changed.
      type: bool
    changes:
      description:
        - What changed, from C(created), C(deleted), C(image_tag_mutability), C(scan_on_push), C(tags), C(policy),
          C(lifecycle_policy).
      type: list
      elements: str
      sample: [created, lifecycle_policy]
    lifecycle:
      description:
        - The repository's lifecycle policy when O(lifecycle) manages it (null otherwise, and with O(state=absent)).
      type: dict
      contains:
        changed:
          description: Whether the lifecycle policy was (or in check mode would be) changed.
          type: bool
        changes:
          description: V(created) or V(updated); empty when the policy already matched.
          type: list
          elements: str
          sample: [created]
        policy:
          description:
            - The lifecycle policy the repository holds after the run, as
              RV(cloudops.ecr.ecr_lifecycle#module:repositories[].policy).
          type: dict
          sample:
            rules: [{rulePriority: 1, description: Keep the last 5 images, action: {type: expire},
                     selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 5}}]
        preview:
          description:
            - What the new policy would do to the repository's images now, as
              RV(cloudops.ecr.ecr_lifecycle#module:repositories[].preview); null when the policy does not change.
          type: dict
          sample:
            summary: {images: 15, rankable: 15, expire: 5, transition: 0, goes_with_index: 0, keep: 10,
                      expire_percent: 33.3, protected: 0, indexes: 0, children: 0, referrers: 0,
                      text: "5 of 15 images expire (33.3%), 10 kept"}
            kinds: {image: {images: 15, kept: 10, expire: 5, transition: 0, goes_with_index: 0}}
            rules: []
            expire: []
            transition: []
            goes_with_index: []
            held: []
            notes: []
registry_id:
  description: The AWS account id of the registry (the repositories' C(registryId)), in check mode too.
  returned: success
  type: str
  sample: "123456789012"
partition:
  description: The AWS partition of the registry, for building ARNs.
  returned: success
  type: str
  sample: aws
membership_removed:
  description: Unlisted repositories that lost the O(membership_tag) in this run (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [example-org/old]
unmanaged:
  description: Repositories in the registry that were not listed; they are left alone.
  returned: always
  type: list
  elements: str
  sample: [legacy/app]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.ecr_repository import EcrRepositoryRunner

ARGUMENT_SPEC = dict(
    repositories=dict(type="list", elements="raw", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    force=dict(type="bool", default=False),
    image_tag_mutability=dict(
        type="str", choices=["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]
    ),
    mutability_exclusions=dict(type="list", elements="str"),
    scan_on_push=dict(type="bool"),
    encryption_type=dict(type="str", choices=["AES256", "KMS", "KMS_DSSE"]),
    kms_key=dict(type="str", no_log=False),
    policy=dict(type="raw"),
    access=dict(
        type="dict",
        options=dict(
            pull=dict(type="list", elements="str"),
            push=dict(type="list", elements="str"),
            organizations=dict(type="list", elements="str"),
        ),
    ),
    lifecycle=dict(
        type="dict",
        options=dict(
            rules=dict(type="list", elements="dict"),
            policy=dict(type="raw"),
            max_expire_percent=dict(type="float", default=50.0),
        ),
        mutually_exclusive=[("rules", "policy")],
    ),
    membership_tag=dict(
        type="dict",
        options=dict(key=dict(type="str", required=True, no_log=False), value=dict(type="str", required=True)),
    ),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=[("policy", "access")]
    )
    EcrRepositoryRunner(module).run()


if __name__ == "__main__":
    main()
