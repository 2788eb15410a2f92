# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``github_oidc_role``: the account's GitHub OIDC provider (created or reused) and the
CI role(s), every role read and planned before the first write, then written concurrently."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import (
    IAM_RETRY,
    aws_client,
    raise_first_error,
    results_by_item,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.iam import IamAccess
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    ci_role_entry,
    ci_role_request,
    ci_role_specs,
    github_provider_arn,
    roles_quota_refusal,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_role import (
    access_removed,
    access_removed_words,
    plan_provider,
    plan_role,
    provider_view,
    role_after,
    role_view,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import Problems
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, diff_entry


class GithubOidcRoleRunner(Runner):
    def validate(self):
        request = ci_role_request({**self.params, "region": self.module.region})
        self.warn(request.warnings)
        if self.params["state"] == "present" and not self.module.region:
            self.module.fail_json(msg="region is required: the ECR repository ARNs the role may push to name it")
        return request

    def converge(self, request):
        account_id, partition = get_aws_account_info(self.module)
        self.iam = IamAccess(aws_client(self.module, "iam", IAM_RETRY))
        provider_arn = github_provider_arn(partition, account_id)
        if self.params["state"] == "absent":
            roles, diffs = self.roles_absent(request)
            result = {"provider_arn": provider_arn}
        else:
            # Everything is read and planned (refusals included) before the provider's first write.
            provider = self.plan_provider(provider_arn)
            specs = ci_role_specs(request, provider["arn"], account_id, partition, self.module.region, self.params)
            planned = self.plan_roles(request, specs)
            provider, provider_diff = self.write_provider(provider)
            roles, diffs = self.write_roles(request, specs, *planned)
            diffs = provider_diff + diffs
            result = {"provider_arn": provider["arn"], "provider": provider}
        if not self.params["per_repository"]:
            result["role_arn"] = roles[0]["arn"]
        changed = any(r["changed"] for r in roles) or bool(result.get("provider", {}).get("changes"))
        return {"changed": changed, "roles": roles, **result}, diffs

    def plan_provider(self, provider_arn: str) -> dict:
        """The account's GitHub provider and what it needs: created, or our audience kept among its client ids."""
        current = self.iam.find_provider(GITHUB_OIDC_HOST)
        plan = plan_provider(current, GITHUB_OIDC_AUDIENCE, self.params["thumbprints"])
        return {"current": current, "plan": plan, "arn": current.arn if current else provider_arn}

    def write_provider(self, planned: dict) -> tuple[dict, list[dict]]:
        current, plan, arn = planned["current"], planned["plan"], planned["arn"]
        thumbprints = self.params["thumbprints"]
        before, after, client_ids = provider_view(current, plan, GITHUB_OIDC_URL, GITHUB_OIDC_AUDIENCE)
        if not self.check_mode:
            if plan.create:
                arn = self.iam.create_provider(
                    GITHUB_OIDC_URL, [GITHUB_OIDC_AUDIENCE], list(thumbprints or []), self.params["tags"]
                )
            if plan.add_client_id:
                self.iam.add_client_id(arn, plan.add_client_id)
            if plan.thumbprints is not None:
                self.iam.set_thumbprints(arn, list(plan.thumbprints))
        diffs = [diff_entry(before, after, f"OIDC provider {GITHUB_OIDC_HOST}")] if plan.changed else []
        return {"arn": arn, "client_ids": client_ids, "changes": plan.changes}, diffs

    def plan_roles(self, request, specs):
        """Every role read and planned; refused when IAM could not hold it (path moved, roles quota)."""
        policy_name = self.params["policy_name"]
        states = results_by_item(lambda name: self.iam.role_state(name, policy_name), [s.name for s in specs])
        problems = Problems()
        plans = {s.name: problems.checked(plan_role, s, states[s.name], compare_policies) for s in specs}
        problems.raise_if_any()
        creates = sum(1 for s in specs if states[s.name] is None)
        if creates > 1:  # one role fits any account but a full one; only many roles need counting
            existing = self.iam.count_roles()
            refusal = roles_quota_refusal(existing, creates, request.roles_max)
            if refusal:
                self.module.fail_json(msg=refusal, roles_in_account=existing, roles_to_create=creates)
        return states, plans

    def write_roles(self, request, specs, states, plans):
        after = {s.name: role_after(s, states[s.name], plans[s.name]) for s in specs}

        def write(spec):
            if plans[spec.name].create:
                return self.iam.create_role(spec).arn
            self.iam.update_role(spec, plans[spec.name])
            return states[spec.name].arn

        outcomes = self.write_each(write, [s for s in specs if plans[s.name].changed])
        for outcome in outcomes:
            if outcome.error is None:
                spec = outcome.item
                after[spec.name] = role_after(spec, states[spec.name], plans[spec.name], outcome.result)
        self.partial = {"changed": bool(outcomes)}
        raise_first_error(outcomes)

        results, diffs = [], []
        for role, spec in zip(request.roles, specs, strict=True):
            plan = plans[spec.name]
            entry = ci_role_entry(role, after[spec.name].arn, True, plan.changes, request.subjects)
            entry["access_removed"] = removed = access_removed(states[spec.name], spec)
            results.append(entry)
            if plan.changed:
                shown = diff_entry(role_view(states[spec.name]), role_view(after[spec.name]), f"role {spec.name}")
                narrowed = access_removed_words(spec.name, removed, "push access")
                if narrowed:
                    self.module.warn(f"Access removed: {narrowed}")
                    shown["prepared"] = f"access removed: {narrowed}\n"
                diffs.append(shown)
        return results, diffs

    def roles_absent(self, request):
        policy_name = self.params["policy_name"]
        states = results_by_item(lambda name: self.iam.role_state(name, policy_name), [r.name for r in request.roles])
        existing = [role for role in request.roles if states[role.name] is not None]
        outcomes = self.write_each(lambda role: self.iam.delete_role(role.name), existing)
        self.partial = {"changed": bool(outcomes)}
        raise_first_error(outcomes)
        results, diffs = [], []
        for role in request.roles:
            gone = states[role.name] is not None
            results.append(ci_role_entry(role, None, False, ["deleted"] if gone else [], request.subjects))
            if gone:
                diffs.append(diff_entry(role_view(states[role.name]), {}, f"role {role.name}"))
        return results, diffs
