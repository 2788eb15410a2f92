# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``ecr_repository``: read the registry once, plan every repository (and its
lifecycle policy when asked), refuse before any write, then write concurrently."""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import (
    aws_client,
    raise_first_error,
    results_by_item,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr import EcrRegistry, state_from_aws
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    LifecyclePlan,
    desired_repositories_with_lifecycle,
    plan_lifecycle,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import Problems
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    RepositoryPlan,
    RepositorySpec,
    RepositoryState,
    deletion_refusal,
    membership_tag,
    plan_repositories,
    planned_view,
    state_view,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, diff_entry
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.lifecycle import (
    grouped_diffs,
    previewed,
    refuse_when_guarded,
    write_policies,
)


def repository_entry(
    state: RepositoryState | None, name: str, changes: list[str], present=True, lifecycle: LifecyclePlan | None = None
) -> dict:
    """One repository as returned; ``lifecycle`` is its lifecycle plan when the policy is managed."""
    if lifecycle is not None and lifecycle.changes:
        changes = [*changes, "lifecycle_policy"]
    return {
        "name": name,
        "arn": state.arn if state else None,
        "uri": state.uri if state else None,
        "registry_id": state.registry_id if state else None,
        "state": "present" if present else "absent",
        "changed": bool(changes),
        "changes": changes,
        "lifecycle": lifecycle.result() if lifecycle is not None else None,
    }


def repository_diff(state, spec: RepositorySpec, plan: RepositoryPlan, lifecycle: LifecyclePlan | None) -> dict:
    """The repository's settings before and after, with its lifecycle policy and the preview when managed
    (no header: repositories with the same diff share one entry, see ``grouped_diffs``)."""
    before = {} if plan.create else state_view(state)
    after = state_view(None, spec) if plan.create else planned_view(state, plan, spec)
    shown = {"before": before, "after": after}
    if lifecycle is not None:
        if lifecycle.before is not None:
            before["lifecycle_policy"] = lifecycle.before
        after["lifecycle_policy"] = lifecycle.after
        if lifecycle.preview is not None and lifecycle.changes:
            shown["prepared"] = lifecycle.diff()["prepared"]
    return shown


class EcrRepositoryRunner(Runner):
    def validate(self):
        specs, lifecycles, warnings = desired_repositories_with_lifecycle(self.params)
        self.warn(warnings)
        return specs, lifecycles

    def converge(self, request):
        specs, lifecycles = request
        self.registry = EcrRegistry(aws_client(self.module, "ecr"), lambda: aws_client(self.module, "kms"))
        self.released: list[str] = []  # unlisted repositories that lose the membership tag
        if self.params["state"] == "absent":
            results, diffs, unmanaged, arns = self.absent(specs)
        else:
            results, diffs, unmanaged, arns = self.present(specs, lifecycles)
        registry_id, partition = self.registry.identity(arn for arn in arns if arn)
        changed = any(r["changed"] for r in results) or bool(self.released)
        result = {"changed": changed, "repositories": results, "unmanaged": unmanaged}
        result["membership_removed"] = self.released
        return {**result, "registry_id": registry_id, "partition": partition}, diffs

    def present(self, specs: list[RepositorySpec], lifecycles):
        registry = self.registry
        managed = {lifecycle.name: lifecycle for lifecycle in lifecycles if lifecycle is not None}
        read = registry.current_states(
            [s.name for s in specs],
            read_tags={s.name for s in specs if s.tags is not None},
            read_policy={s.name for s in specs if s.policy is not None},
            read_lifecycle=set(managed),
        )
        states = read.states
        plans = plan_repositories([self._with_key_arn(s, states.get(s.name)) for s in specs], states, compare_policies)

        # A repository created in this run has no images: its preview reads nothing.
        lifecycle_plans = previewed(
            registry.lifecycle,
            [plan_lifecycle(spec, read.lifecycle_policies.get(name)) for name, spec in managed.items()],
            existing=states,
        )
        lifecycle_of = {p.spec.name: p for p in lifecycle_plans}

        def diffs() -> list[dict]:
            """The diff of every repository that changes, its lifecycle policy included; shared diffs grouped."""
            return grouped_diffs(
                [
                    (spec.name, repository_diff(states.get(spec.name), spec, plan, lifecycle_of.get(spec.name)))
                    for spec, plan in plans
                    if plan.changes or (spec.name in lifecycle_of and lifecycle_of[spec.name].changes)
                ]
            )

        refuse_when_guarded(self, lifecycle_plans, lambda p: {"name": p.spec.name, "lifecycle": p.result(False)}, diffs)

        def write(item):
            spec, plan = item
            if plan.create:
                return registry.create(spec)
            registry.update(spec, plan, states[spec.name])
            return states[spec.name]

        to_write = [(spec, plan) for spec, plan in plans if plan.changed]
        outcomes = self.write_each(write, to_write)
        states.update({o.item[0].name: o.result for o in outcomes if o.error is None})

        def entry(spec, plan, lifecycle_written):
            lifecycle = lifecycle_of.get(spec.name) if spec.name in lifecycle_written else None
            return repository_entry(states.get(spec.name), spec.name, plan.changes, lifecycle=lifecycle)

        done = [entry(s, p, ()) for s, p in to_write if s.name in states]
        self.partial = {"changed": bool(done), "repositories": done}
        raise_first_error(outcomes)
        written, error = write_policies(self, registry.lifecycle, lifecycle_plans)
        if error is not None:
            done = [entry(s, p, written) for s, p in plans if p.changed or s.name in written]
            self.partial = {"changed": True, "repositories": done}
            raise error

        results = [entry(s, p, lifecycle_of) for s, p in plans]
        self.released, released_diffs = self.release_membership(read.unmanaged_arns)
        return results, diffs() + released_diffs, read.unmanaged, [read.any_arn, *(s.arn for s in states.values())]

    def release_membership(self, unmanaged_arns: dict[str, str]) -> tuple[list[str], list[dict]]:
        """Unlisted repositories that still carry the membership tag lose it (and the access it grants)."""
        membership = membership_tag(self.params.get("membership_tag"), Problems())
        if membership is None or not unmanaged_arns:
            return [], []
        key, value = membership
        tags = results_by_item(lambda name: self.registry.tags(unmanaged_arns[name]), sorted(unmanaged_arns))
        released = [name for name, held in tags.items() if held.get(key) == value]
        if released:
            self.module.warn(
                f"No longer listed, so they lose the membership tag {key}={value} and the access it grants: "
                + ", ".join(released)
            )
        raise_first_error(self.write_each(lambda name: self.registry.untag(unmanaged_arns[name], key), released))
        diffs = []
        for name in released:
            after = {k: v for k, v in tags[name].items() if k != key}
            shown = diff_entry({"tags": tags[name]}, {"tags": after}, name)
            shown["prepared"] = f"no longer listed: loses tag {key}={value} and the access it grants\n"
            diffs.append(shown)
        return released, diffs

    def _with_key_arn(self, spec: RepositorySpec, current: RepositoryState | None) -> RepositorySpec:
        """The spec with its KMS key as the ARN ECR reports, where an existing repository's key is compared."""
        if current is None or not (spec.kms_key and current.kms_key):
            return spec
        return replace(spec, kms_key=self.registry.key_arn(spec.kms_key))

    def absent(self, specs: list[RepositorySpec]):
        registry = self.registry
        listed = registry.list_repositories()
        existing = [s.name for s in specs if s.name in listed]
        force = self.params["force"]
        holding = [] if force else [name for name, has in results_by_item(registry.has_images, existing).items() if has]
        refusal = deletion_refusal(holding, force)
        if refusal:
            self.module.fail_json(msg=refusal, repositories_with_images=holding)
        raise_first_error(self.write_each(lambda name: registry.delete(name, force), existing))
        results, diffs = [], []
        for spec in specs:
            gone = spec.name in existing
            results.append(repository_entry(None, spec.name, ["deleted"] if gone else [], present=False))
            if gone:
                diffs.append(diff_entry(state_view(state_from_aws(listed[spec.name])), {}, spec.name))
        unmanaged = sorted(set(listed) - {s.name for s in specs})
        return results, diffs, unmanaged, [repo["repositoryArn"] for repo in listed.values()]
