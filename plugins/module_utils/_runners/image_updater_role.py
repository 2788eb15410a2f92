# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``image_updater_role``: the role and its Pod Identity association, both read and
planned (refusals included) before the first write; the association only after the role."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import IAM_RETRY, RETRY, aws_client
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.eks import PodIdentityAssociations
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.iam import IamAccess
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import role_arn
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_role import (
    access_removed,
    access_removed_words,
    plan_role,
    role_after,
    role_view,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_updater import (
    association_request,
    image_updater_request,
    image_updater_role_spec,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.pod_identity import (
    association_view,
    planned_association,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, diff_entry


def role_entry(name: str, arn: str | None, path: str, changes: list[str]) -> dict:
    return {"name": name, "arn": arn, "path": path, "changed": bool(changes), "changes": changes}


class ImageUpdaterRoleRunner(Runner):
    def validate(self):
        if self.params["state"] == "present" and not self.module.region:
            self.module.fail_json(msg="region is required: the ECR repository ARNs the role may read name it")
        return image_updater_request({**self.params, "region": self.module.region})

    def converge(self, request):
        params = self.params
        account_id, partition = get_aws_account_info(self.module)
        arn = role_arn(partition, account_id, params["name"], params["path"])
        self.iam = IamAccess(aws_client(self.module, "iam", IAM_RETRY))
        self.associations = (
            PodIdentityAssociations(aws_client(self.module, "eks", RETRY)) if params["association"] else None
        )
        self.association_header = (
            f"association {params['cluster_name']}/{params['namespace']}/{params['service_account']}"
        )
        if params["state"] == "present":
            spec = image_updater_role_spec(params, request, account_id, partition, self.module.region)
            result, diffs = self.present(spec, arn)
        else:
            result, diffs = self.absent(arn)
        return {"account_id": account_id, "partition": partition, **result}, diffs

    def present(self, spec, arn):
        """Read the role and the association, plan both (refusals before any write), then write."""
        current = self.iam.role_state(spec.name, spec.policy_name)
        plan = plan_role(spec, current, compare_policies)
        arn = current.arn if current else arn
        request = found = association_plan = association_after = None
        if self.associations is not None:
            request = association_request(self.params, arn, spec.tags)
            found = self.associations.find(request.cluster_name, request.namespace, request.service_account)
            association_plan, association_after = planned_association(found, request)

        after = role_after(spec, current, plan, arn)
        role = role_entry(spec.name, arn, spec.path, plan.changes)
        self.partial = {"changed": plan.changed, "role_arn": arn}
        if plan.changed and not self.check_mode:
            if plan.create:
                after = self.iam.create_role(spec)
                role["arn"] = arn = after.arn
            else:
                self.iam.update_role(spec, plan)
        role["access_removed"] = removed = access_removed(current, spec)
        diffs = []
        if plan.changed:
            diffs.append(diff_entry(role_view(current), role_view(after), f"role {spec.name}"))
            narrowed = access_removed_words(spec.name, removed, "read access")
            if narrowed:
                self.module.warn(f"Access removed: {narrowed}")
                diffs[0]["prepared"] = f"access removed: {narrowed}\n"
        result = {"role_arn": arn, "role": role, "association": None, "changed": plan.changed}
        if request is None:
            return result, diffs

        self.partial = {"changed": True, "role_arn": arn, "role": role}
        if association_plan.changed and not self.check_mode:
            association_after = self.associations.apply(
                found, request, association_plan, association_after, role_is_new=plan.create
            )
        if association_plan.changed:
            diffs.append(diff_entry(association_view(found), association_after, self.association_header))
        result["association"] = {} if self.check_mode and found is None else association_after
        result["changed"] = plan.changed or association_plan.changed
        return result, diffs

    def absent(self, arn):
        """The association first (only when it gives this role), then the role with its policies."""
        params = self.params
        current = self.iam.role_state(params["name"], params["policy_name"])
        arn = current.arn if current else arn
        result = {"role_arn": arn, "association": None}
        diffs, association_changes = [], []
        if self.associations is not None:
            found = self.associations.find(params["cluster_name"], params["namespace"], params["service_account"])
            if found is not None and found.role_arn != arn:
                self.module.warn(
                    f"The association of {found.service_account!r} gives role {found.role_arn}: left alone"
                )
                result["association"] = association_view(found)
            else:
                if found is not None:
                    association_changes = ["deleted"]
                    if not self.check_mode:
                        self.associations.delete(found)
                    diffs.append(diff_entry(association_view(found), {}, self.association_header))
                result["association"] = {}
        changes = ["deleted"] if current else []
        self.partial = {"changed": bool(association_changes), **result}
        if current:
            if not self.check_mode:
                self.iam.delete_role(current.name)
            diffs.insert(0, diff_entry(role_view(current), {}, f"role {current.name}"))
        result["role"] = role_entry(params["name"], arn, current.path if current else params["path"], changes)
        result["changed"] = bool(changes or association_changes)
        return result, diffs
