# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``ecr_lifecycle``: read every stored policy, plan and preview, refuse before any
write when a repository is missing or the guard trips, then write the policies that change."""

from __future__ import annotations

from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import aws_client
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr_lifecycle import EcrLifecycle
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    LifecyclePlan,
    desired_lifecycle_policies,
    missing_repositories_refusal,
    plan_lifecycle,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.lifecycle import (
    grouped_diffs,
    previewed,
    refuse_when_guarded,
    write_policies,
)


def lifecycle_entry(plan: LifecyclePlan, applied: bool = True) -> dict:
    return {"name": plan.spec.name, **plan.result(applied)}


def lifecycle_diffs(plans: list[LifecyclePlan]) -> list[dict]:
    """The diff of every policy that changes; repositories with the same diff share one entry."""
    return grouped_diffs([(p.spec.name, p.diff()) for p in plans if p.changes])


class EcrLifecycleRunner(Runner):
    def validate(self):
        specs, warnings = desired_lifecycle_policies(self.params)
        self.warn(warnings)
        return specs

    def converge(self, request):
        specs = request
        access = EcrLifecycle(aws_client(self.module, "ecr"))
        current, missing = access.current_policies([s.name for s in specs])
        refusal, needed = missing_repositories_refusal(specs, missing, self.check_mode)
        if refusal:
            self.module.fail_json(msg=refusal, missing_repositories=needed)
        plans = previewed(access, [plan_lifecycle(s, current.get(s.name)) for s in specs], existing=set(current))
        refuse_when_guarded(self, plans, lambda p: lifecycle_entry(p, applied=False), lambda: lifecycle_diffs(plans))

        written, error = write_policies(self, access, plans)
        if error is not None:
            done = [lifecycle_entry(p) for p in plans if p.spec.name in written]
            self.partial = {"changed": bool(done), "repositories": done}
            raise error
        results = [lifecycle_entry(p) for p in plans]
        return {"changed": any(r["changed"] for r in results), "repositories": results}, lifecycle_diffs(plans)
