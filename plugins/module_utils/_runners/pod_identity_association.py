# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``pod_identity_association``: one service account's association, read, planned,
then created, updated or deleted."""

from __future__ import annotations

from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY, aws_client
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.eks import PodIdentityAssociations
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    validate_pod_identity_target,
    validate_role_arn,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_updater import association_request
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.pod_identity import (
    association_view,
    planned_association,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import Problems
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, diff_entry


class PodIdentityAssociationRunner(Runner):
    def validate(self):
        params, problems = self.params, Problems()
        problems.checked(
            validate_pod_identity_target, params["cluster_name"], params["namespace"], params["service_account"]
        )
        if params["state"] == "present":
            problems.checked(validate_role_arn, params["role_arn"])
        problems.raise_if_any()
        return association_request(params, params["role_arn"], params["tags"])

    def converge(self, request):
        associations = PodIdentityAssociations(aws_client(self.module, "eks", RETRY))
        current = associations.find(request.cluster_name, request.namespace, request.service_account)
        if self.params["state"] == "present":
            plan, after = planned_association(current, request)
            if plan.changed and not self.check_mode:
                after = associations.apply(current, request, plan, after)
            changes = plan.changes
        else:
            changes, after = (["deleted"] if current else []), {}
            if current and not self.check_mode:
                associations.delete(current)
        diff = diff_entry(association_view(current), after, request.header) if changes else {}
        association = {} if self.check_mode and current is None else after
        return {"changed": bool(changes), "changes": changes, "association": association}, diff
