#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_lifecycle
short_description: Set the lifecycle policy of many ECR repositories, previewing what it deletes
version_added: 0.1.0
description:
  - Sets (or with O(state=absent) removes) the lifecycle policy of any number of private Amazon ECR
    repositories in one call. Policies are read concurrently and a repository is written only when
    its policy really differs (key order, rule order and tag list order do not count).
  - Write the policy in plain words with O(rules), or give the AWS document with O(policy).
  - Every policy is checked against the rules AWS documents before the first AWS call, including
    the archive features of 2025 (storage classes, transitions). Each problem names the field, such
    as C(rules[1].keep_last) or C(policy.rules[0].selection.countUnit), and the rule it breaks; all
    are reported together and nothing is changed.
  - Before a new policy is applied, the module evaluates it against the repository's current images
    (AWS's own preview is asynchronous) and returns RV(repositories[].preview), the images it would
    expire or archive now and why, in check mode and diff mode too. A policy that would expire more
    than O(max_expire_percent) of a repository's images is refused, and nothing is written; the refusal
    message holds the preview (Ansible shows a failed task's message, not its diff).
  - The preview knows what CI pushes. The untagged platform and attestation manifests an image index
    (or manifest list) lists are not ranked by the rules and never expire while the index stays; when
    an index expires they are shown going with it. OCI referrers (signatures with a C(subject)) go with
    the image they refer to; cosign's C(sha256-<digest>.sig) tags are ordinary tagged images. Only the
    index manifests are read for this (BatchGetImage, 100 a call; none in a repository without an index).
  - In diff mode, repositories whose diff is the same (same policy before and after, same preview) share
    one diff entry naming them all.
  - Write the rules in plain words with O(rules); see that option for each key, and the examples.
author:
  - cloudops.ecr contributors (@cloudops)
options:
  repositories:
    description:
      - The repositories, as names or as dicts with C(name) and, for this repository only, C(rules)
        or C(policy) and C(max_expire_percent).
      - The repositories must exist (see M(cloudops.ecr.ecr_repository)); in check mode a missing
        one is reported as a policy that would be created.
    type: list
    elements: raw
    required: true
  rules:
    description:
      - The lifecycle policy in plain words, for every listed repository without its own. Each rule
        selects images and does exactly one thing with them. Mutually exclusive with O(policy).
      - "B(Selecting.) C(tag_status: untagged) or C(tag_status: any) (every image), or tagged images
        by C(tag_prefixes: [release-]) (tags starting with each prefix) or C(tag_patterns: [\"v*.*\"])
        (whole tags, C(*) matches anything, at most 4 per pattern). Several prefixes or patterns
        must I(all) match; giving them implies C(tag_status: tagged), and C(tag_patterns: [\"*\"])
        selects every tagged image."
      - "B(keep_last: N) keeps the newest N images the rule selects and expires the older ones.
        C({tag_status: untagged, keep_last: 10})"
      - "B(keep_days: N) expires the images pushed more than N days ago.
        C({tag_patterns: [\"*\"], keep_days: 30})"
      - "B(protect: true) shields the selected images: no other rule expires or archives them
        (an image archived by hand follows the archive rules). C({tag_patterns: [\"v*\"], protect: true})"
      - "B(archive_after_days: N) moves images pushed more than N days ago to the cheaper archive
        storage class. C({tag_prefixes: [release-], archive_after_days: 180})"
      - "B(archive_if_unpulled_days: N) archives images not pulled for N days (an image never pulled
        counts from its push). C({tag_status: any, archive_if_unpulled_days: 90})"
      - "B(delete_archived_after_days: N) deletes archived images N days after they were archived
        (archive storage is billed for at least 90 days). C({tag_status: any, delete_archived_after_days: 365})"
      - "B(description) (optional) is stored with the rule; left out, one is written from the rule,
        such as C(Keep the last 10 untagged images). A key set to null counts as left out."
      - "B(Order.) The module numbers AWS's rule priorities itself: protected rules first, then the
        rules in the order given, C(tag_status: any) rules last (AWS requires it). An image is
        handled only by the first rule that selects it, even when that rule keeps it, so put specific
        rules before general ones. AWS allows one C(untagged) and one C(any) rule per storage class."
    type: list
    elements: dict
  policy:
    description:
      - The AWS lifecycle policy document, as a dict or JSON text (100 to 30,720 characters), for
        every listed repository without its own. Keys set to null are refused, as AWS refuses them.
      - Mutually exclusive with O(rules).
    type: raw
  state:
    description:
      - V(present) sets the policy; V(absent) removes the policy of the listed repositories
        (O(rules) and O(policy) are then not used).
    type: str
    choices: [present, absent]
    default: present
  max_expire_percent:
    description:
      - Refuse to apply a new policy that would expire more than this share (percent) of a
        repository's images now. Raise it on purpose, for example for a one-off clean-up.
      - Applies only when a policy changes; archiving is not counted.
      - The share is of the images the rules rank; the untagged images an index lists are not ranked
        while it stays (AWS's own preview does not rank them either), and those that go with an expiring
        index are reported apart.
    type: float
    default: 50
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Needs C(ecr:GetLifecyclePolicy) on the repositories, C(ecr:DescribeImages) and (for repositories
    holding image indexes) C(ecr:BatchGetImage) for the preview, and C(ecr:PutLifecyclePolicy) /
    C(ecr:DeleteLifecyclePolicy) for what changes.
  - The preview follows AWS's documented evaluation; AWS acts within 24 hours, so images may age
    into a rule in between. An image an index lists is kept by AWS until the index goes
    (C(ImageReferencedByManifestList)). Where AWS documents nothing (whether ECR deletes an expired
    index's children at once, whether it ranks referrers or tagged children, whether it archives an
    index's children with it) the reason says so and the preview counts the image as acted on.
  - moto (the local endpoint of C(make demo)) refuses the archive features AWS accepts; use check
    mode to try them there.
"""

EXAMPLES = r"""
- name: The README's intent - last 10 untagged images, tagged images for 30 days
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/api, example-org/web]
    rules:
      - description: Keep the last 10 untagged images
        tag_status: untagged
        keep_last: 10
      - description: Keep tagged images for 30 days
        tag_status: tagged
        tag_patterns: ["*"]
        keep_days: 30

- name: Never delete releases; keep 20 feature builds; anything else goes after 90 days
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/api]
    rules:
      - tag_patterns: ["v*.*.*"]
        protect: true
      - tag_prefixes: [feature-]
        keep_last: 20
      - tag_status: any
        keep_days: 90

- name: Archive what nobody pulls for 90 days, delete it a year after archiving
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/api]
    rules:
      - tag_status: any
        archive_if_unpulled_days: 90
      - tag_status: any
        delete_archived_after_days: 365

- name: One shared policy, one repository with its own
  cloudops.ecr.ecr_lifecycle:
    repositories:
      - example-org/api
      - name: example-org/batch
        rules:
          - tag_status: any
            keep_last: 5
    rules:
      - tag_status: untagged
        keep_last: 10

- name: The AWS document itself
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/api]
    policy:
      rules:
        - rulePriority: 1
          description: Expire untagged images after 14 days
          selection: {tagStatus: untagged, countType: sinceImagePushed, countUnit: days, countNumber: 14}
          action: {type: expire}

- name: See what the policy would delete, without changing anything
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/api]
    rules:
      - tag_status: untagged
        keep_last: 3
  check_mode: true
  register: lifecycle
- name: Show the preview
  ansible.builtin.debug:
    msg: "{{ lifecycle.repositories[0].preview.expire | map(attribute='reason') }}"

- name: A one-off clean-up that expires most images
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/legacy]
    rules:
      - tag_status: any
        keep_last: 5
    max_expire_percent: 100

- name: Remove the lifecycle policies
  cloudops.ecr.ecr_lifecycle:
    repositories: [example-org/api]
    state: absent
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
    changed:
      description: Whether the policy was (or in check mode would be) changed.
      type: bool
    changes:
      description: V(created), V(updated) or V(deleted); empty when the policy already matched.
      type: list
      elements: str
      sample: [updated]
    policy:
      description: The AWS lifecycle policy document the repository holds after the run (null when none).
      type: dict
      sample:
        rules:
          - rulePriority: 1
            description: Keep the last 10 untagged images
            selection: {tagStatus: untagged, countType: imageCountMoreThan, countNumber: 10}
            action: {type: expire}
    preview:
      description:
        - What the new policy would do to the repository's images now; null when the policy does not change.
      type: dict
      contains:
        summary:
          description:
            - Counts, and the share of the ranked images that would expire (the guard's measure), for
              printing in one line (C(text) is that line).
            - C(images) all images; C(rankable) those the rules rank (not the untagged images an index
              lists while it stays); C(expire), C(transition) (archived) and C(goes_with_index) (leave with
              an expiring index or subject); C(keep) what stays; C(expire_percent) C(expire) of C(rankable);
              C(protected) the images protect rules shield; C(indexes), C(children) (images an index lists)
              and C(referrers) (OCI referrers and cosign signature tags).
          type: dict
          sample:
            images: 63
            rankable: 15
            expire: 1
            transition: 0
            goes_with_index: 4
            keep: 58
            expire_percent: 6.7
            protected: 1
            indexes: 12
            children: 48
            referrers: 0
            text: "1 of 15 ranked images expire (6.7%), 4 go with their index, 58 of 63 kept, 1 protected;
              63 images: 12 indexes, 48 index children, 0 referrers or signatures"
        kinds:
          description:
            - Per kind of image present (V(index), V(platform), V(attestation), V(referrer), V(signature) for a
              cosign signature tag, V(image) for a single image or an orphan child), how many there are and
              how many are kept, expire, are archived or go with their index.
          type: dict
          sample:
            index: {images: 12, kept: 11, expire: 1, transition: 0, goes_with_index: 0}
            platform: {images: 24, kept: 22, expire: 0, transition: 0, goes_with_index: 2}
        rules:
          description:
            - "Per rule, by priority, in plain words; a protect rule has action V(protect) and reads
              C(protected: ...), not as the count no repository reaches that AWS stores."
          type: list
          elements: dict
          sample:
            - rule_priority: 1
              description: Protect images tagged buildcache from every later rule
              action: protect
              words: "protected: images tagged buildcache, which no later rule expires or archives"
              selected: 1
              expire: 0
              transition: 0
              goes_with_index: 0
              held: 0
        expire:
          description: The images that would expire, oldest first within each rule, with their kind and why.
          type: list
          elements: dict
          sample:
            - digest: "sha256:5c4f..."
              tags: []
              pushed_at: "2025-05-01T10:00:00+00:00"
              rule_priority: 1
              reason: "untagged, 11th newest of 15 untagged images; rule 1 keeps the last 10"
              kind: image
        transition:
          description: The images that would move to archive storage, in the same form.
          type: list
          elements: dict
        goes_with_index:
          description:
            - The images that would leave with an index (the platform and attestation manifests it lists) or
              with their subject (referrers), in the same form; C(goes_with)
              is the digest of that index or subject.
          type: list
          elements: dict
        held:
          description:
            - The images a rule would expire that AWS keeps because an index that lists them stays.
          type: list
          elements: dict
        notes:
          description: What the preview could not know, such as an index manifest that could not be read.
          type: list
          elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.ecr_lifecycle import EcrLifecycleRunner

ARGUMENT_SPEC = dict(
    repositories=dict(type="list", elements="raw", required=True),
    rules=dict(type="list", elements="dict"),
    policy=dict(type="raw"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    max_expire_percent=dict(type="float", default=50.0),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=[("policy", "rules")]
    )
    EcrLifecycleRunner(module).run()


if __name__ == "__main__":
    main()
