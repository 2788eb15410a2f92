# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle steps both ``ecr_lifecycle`` and ``ecr_repository``'s ``lifecycle`` option run:
preview every new policy against the images, refuse before any write when the guard trips,
then write the policies that change."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import first_error
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr_lifecycle import EcrLifecycle
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    LifecyclePlan,
    refused_message,
    refused_plans,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, with_header


def previewed(access: EcrLifecycle, plans: list[LifecyclePlan], existing: Collection[str]) -> list[LifecyclePlan]:
    """The plans, each new policy previewed against its repository's images and what its indexes list
    (read concurrently, only for the repositories whose policy changes; a repository that does not exist
    yet has none)."""
    images = access.image_graphs_of([p.spec.name for p in plans if p.sets_policy and p.spec.name in existing])
    now = datetime.now(UTC)
    return [plan.previewed(images.get(plan.spec.name, []), now) for plan in plans]


def refuse_when_guarded(
    runner: Runner,
    plans: list[LifecyclePlan],
    shown: Callable[[LifecyclePlan], dict],
    diffs: Callable[[], list[dict]],
) -> None:
    """Fail the module, before any write, when a new policy would expire too many images. The message
    holds the refused previews: Ansible shows a failed task's message, never its diff (which is still
    returned in diff mode, for -vvv and registered results)."""
    refused = refused_plans(plans)
    if refused:
        extra = {"diff": diffs()} if runner.module._diff else {}
        runner.module.fail_json(msg=refused_message(refused), repositories=[shown(p) for p in plans], **extra)


def grouped_diffs(named: list[tuple[str, dict]]) -> list[dict]:
    """One diff entry per distinct diff, its header naming every repository that shares it, in first-seen
    order: a hundred repositories given the same policy read as one diff, not a hundred."""
    groups: dict[str, tuple[list[str], dict]] = {}
    for name, diff in named:
        key = json.dumps(diff, sort_keys=True, default=str)
        groups.setdefault(key, ([], diff))[0].append(name)
    return [with_header(diff, _repositories_header(names)) for names, diff in groups.values()]


def _repositories_header(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} repositories: {', '.join(names)}"


def write_policies(
    runner: Runner, access: EcrLifecycle, plans: list[LifecyclePlan]
) -> tuple[set[str], AnsibleAWSError | None]:
    """Put or delete the policy of every plan that changes, concurrently: the repositories whose
    policy was written, and the first error (None when all were)."""

    def apply(plan: LifecyclePlan) -> None:
        if plan.spec.policy is None:
            access.delete(plan.spec.name)
        else:
            access.put(plan.spec.name, plan.spec.policy)

    outcomes = runner.write_each(apply, [plan for plan in plans if plan.changes])
    failed = first_error(outcomes)
    return {o.item.spec.name for o in outcomes if o.error is None}, failed.error if failed else None
