# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``pod_identity_association_info``: whether the endpoint and the cluster can hold the
association, and the association a service account has. Reads only."""

from __future__ import annotations

from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY, aws_client
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.eks import PodIdentityAssociations
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import validate_pod_identity_target
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.pod_identity import association_view
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner


class PodIdentityAssociationInfoRunner(Runner):
    def validate(self):
        params = self.params
        validate_pod_identity_target(params["cluster_name"], params["namespace"], params["service_account"])
        return params

    def converge(self, request):
        associations = PodIdentityAssociations(aws_client(self.module, "eks", RETRY))
        api, cluster, found = associations.probe(
            request["cluster_name"], request["namespace"], request["service_account"]
        )
        result = {
            "changed": False,
            "api_available": api,
            "cluster_found": cluster,
            "association": association_view(found),
        }
        return result, {}
