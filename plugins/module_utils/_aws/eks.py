# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS Pod Identity association calls. Every call retries (AWSRetry); a write naming a role this
run created also waits while EKS cannot see the role yet."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import (
    RETRY,
    retry_with,
    retrying_differently,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.pod_identity import (
    AssociationPlan,
    AssociationRequest,
    PodIdentityAssociation,
    association_view,
)

# EKS checks the role exists; one IAM created a moment ago may not be visible to it yet.
ROLE_NOT_VISIBLE_MESSAGE = "Role provided in the request does not exist"
ROLE_NOT_VISIBLE = "RoleNotVisibleYet"


class _RoleSettlingRetry(AWSRetry):
    """AWSRetry that also retries EKS's InvalidParameterException for a role it cannot see yet."""

    @staticmethod
    def status_code_from_exception(error):
        code = AWSRetry.status_code_from_exception(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code == "InvalidParameterException" and ROLE_NOT_VISIBLE_MESSAGE in message:
            return ROLE_NOT_VISIBLE
        return code


# Used only for writes naming a role this run created: elsewhere a missing role is a real error.
EKS_ROLE_SETTLING_RETRY = retry_with(ROLE_NOT_VISIBLE, retry_class=_RoleSettlingRetry)


class PodIdentityAssociations:
    """The Pod Identity associations of EKS clusters, through a retrying EKS client."""

    def __init__(self, client):
        self.client = client
        self._settling = retrying_differently(client, EKS_ROLE_SETTLING_RETRY)

    def _writer(self, role_is_new: bool):
        return self._settling if role_is_new else self.client

    @AWSErrorHandler.common_error_handler("list the Pod Identity associations of cluster {cluster_name}")
    def find(self, cluster_name: str, namespace: str, service_account: str) -> PodIdentityAssociation | None:
        """The association of one service account (EKS allows one per service account)."""
        listed = paginated_query_with_retries(
            self.client,
            "list_pod_identity_associations",
            RETRY,
            clusterName=cluster_name,
            namespace=namespace,
            serviceAccount=service_account,
        )
        for summary in listed.get("associations", []):
            if summary["namespace"] == namespace and summary["serviceAccount"] == service_account:
                return self.describe(cluster_name, summary["associationId"])
        return None

    def probe(
        self, cluster_name: str, namespace: str, service_account: str
    ) -> tuple[bool, bool, PodIdentityAssociation | None]:
        """(the endpoint has the Pod Identity API, the cluster exists, the service account's association).

        An endpoint without the API (a local AWS such as moto) answers HTTP 404 with no AWS error code."""
        try:
            return True, True, self.find(cluster_name, namespace, service_account)
        except is_ansible_aws_error_code("404"):
            return False, False, None
        except is_ansible_aws_error_code("ResourceNotFoundException"):  # pylint: disable=duplicate-except
            return True, False, None

    @AWSErrorHandler.common_error_handler("read Pod Identity association {association_id}")
    def describe(self, cluster_name: str, association_id: str) -> PodIdentityAssociation:
        found = self.client.describe_pod_identity_association(
            aws_retry=True, clusterName=cluster_name, associationId=association_id
        )
        return _association(found["association"])

    @AWSErrorHandler.common_error_handler("create the Pod Identity association {request.header}")
    def create(self, request: AssociationRequest, role_is_new: bool = False) -> PodIdentityAssociation:
        kwargs = {
            "clusterName": request.cluster_name,
            "namespace": request.namespace,
            "serviceAccount": request.service_account,
            "roleArn": request.role_arn,
            "disableSessionTags": False,
        }
        if request.tags:
            kwargs["tags"] = request.tags
        created = self._writer(role_is_new).create_pod_identity_association(aws_retry=True, **kwargs)
        return _association(created["association"])

    @AWSErrorHandler.common_error_handler("update Pod Identity association {current.association_id}")
    def update(
        self, current: PodIdentityAssociation, role_arn: str, plan: AssociationPlan, role_is_new: bool = False
    ) -> None:
        if plan.update:
            self._writer(role_is_new).update_pod_identity_association(
                aws_retry=True,
                clusterName=current.cluster_name,
                associationId=current.association_id,
                roleArn=role_arn,
                disableSessionTags=False,
            )
        if plan.tags_to_set:
            self.client.tag_resource(aws_retry=True, resourceArn=current.association_arn, tags=plan.tags_to_set)
        if plan.tags_to_remove:
            self.client.untag_resource(aws_retry=True, resourceArn=current.association_arn, tagKeys=plan.tags_to_remove)

    @AWSErrorHandler.common_error_handler("delete Pod Identity association {current.association_id}")
    def delete(self, current: PodIdentityAssociation) -> None:
        self.client.delete_pod_identity_association(
            aws_retry=True, clusterName=current.cluster_name, associationId=current.association_id
        )

    def apply(
        self,
        current: PodIdentityAssociation | None,
        request: AssociationRequest,
        plan: AssociationPlan,
        after: dict,
        role_is_new: bool = False,
    ) -> dict:
        """Write ``plan``; the association as EKS then holds it. ``role_is_new`` waits out IAM propagation."""
        if plan.create:
            return association_view(self.create(request, role_is_new))
        if plan.changed:
            self.update(current, request.role_arn, plan, role_is_new)
        return after


def _association(found: dict) -> PodIdentityAssociation:
    return PodIdentityAssociation(
        association_id=found["associationId"],
        association_arn=found["associationArn"],
        cluster_name=found["clusterName"],
        namespace=found["namespace"],
        service_account=found["serviceAccount"],
        role_arn=found["roleArn"],
        disable_session_tags=bool(found.get("disableSessionTags")),
        owner_arn=found.get("ownerArn"),
        tags=dict(found.get("tags") or {}),
    )
