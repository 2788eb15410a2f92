# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``ecr_repository_access``: one owner's statements in the policies of many repositories,
merged with every other statement they hold (the registry's own grants, other environments')."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import aws_client, raise_first_error
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr import EcrRegistry
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    merged_policy,
    missing_repositories_refusal,
    policy_size_refusal,
    repository_access_request,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, diff_entry


class EcrRepositoryAccessRunner(Runner):
    def validate(self):
        return repository_access_request(self.params)

    def converge(self, request):
        names, owned, statements = request
        registry = EcrRegistry(aws_client(self.module, "ecr"))
        read = registry.current_states(names, read_tags=set(), read_policy=set(names))
        missing = [name for name in names if name not in read.states]
        refusal = missing_repositories_refusal(missing, self.check_mode)
        if refusal:
            self.module.fail_json(msg=refusal, missing_repositories=missing)
        plans = {}
        for name, state in read.states.items():
            wanted = merged_policy(state.policy, owned, statements)
            if wanted is None and state.policy is not None:
                plans[name] = ("delete", state.policy, None)
            elif wanted is not None and (state.policy is None or compare_policies(state.policy, wanted)):
                plans[name] = ("set", state.policy, wanted)

        refusal = policy_size_refusal({name: plan[2] for name, plan in plans.items() if plan[0] == "set"})
        if refusal:
            self.module.fail_json(msg=refusal)

        def write(name):
            action, _before, after = plans[name]
            if action == "set":
                registry.set_policy(name, after)
            else:
                registry.remove_policy(name)

        outcomes = self.write_each(write, sorted(plans))
        written = [o.item for o in outcomes if o.error is None]
        self.partial = {"changed": bool(written), "repositories": written}
        raise_first_error(outcomes)
        results = []
        for name in names:
            current = read.states[name].policy if name in read.states else None
            results.append(
                {"name": name, "changed": name in plans, "policy": plans[name][2] if name in plans else current}
            )
        diffs = [
            diff_entry({"policy": before or {}}, {"policy": after or {}}, name)
            for name, (_a, before, after) in sorted(plans.items())
        ]
        granted = sorted({*(self.params["pull"] or []), *(self.params["organizations"] or [])} if statements else [])
        result = {"changed": bool(plans), "repositories": results, "missing": missing, "granted": granted}
        return result, diffs
