# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR lifecycle policy and image calls, per repository on the shared bounded pool, with retries;
a missing policy is ``None``, a missing repository is reported as such."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
    paginated_query_with_retries,
)
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY, missing_is, results_by_item
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_evaluate import Image, image_from_aws
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import policy_text

_POLICY_MISSING = missing_is("LifecyclePolicyNotFoundException")


class EcrLifecycle:
    """Lifecycle policies and images of the private registry, through a retrying ECR client."""

    def __init__(self, client):
        self.client = client

    # reads -------------------------------------------------------------------------------
    @AWSErrorHandler.common_error_handler("read the lifecycle policy of {name}")
    def stored_policy(self, name: str) -> tuple[bool, str | None]:
        """(repository exists, stored policy text or None)."""
        try:
            response = self.client.get_lifecycle_policy(aws_retry=True, repositoryName=name)
        except is_boto3_error_code("LifecyclePolicyNotFoundException"):
            return True, None
        except is_boto3_error_code("RepositoryNotFoundException"):  # pylint: disable=duplicate-except
            return False, None
        return True, response["lifecyclePolicyText"]

    def current_policies(self, names: list[str]) -> tuple[dict[str, str | None], list[str]]:
        """Stored policy text by repository (one call each, concurrently), and the repositories that do not exist."""
        found = results_by_item(self.stored_policy, names)
        return {name: text for name, (exists, text) in found.items() if exists}, [
            name for name, (exists, _text) in found.items() if not exists
        ]

    @AWSErrorHandler.common_error_handler("list the images of {name}")
    def images(self, name: str) -> list[Image]:
        """Every image of the repository, archived ones included: one call per 1,000 images."""
        found = paginated_query_with_retries(
            self.client, "describe_images", RETRY, repositoryName=name, filter={"imageStatus": "ANY"}, maxResults=1000
        )
        return [image_from_aws(detail) for detail in found.get("imageDetails", [])]

    def images_of(self, names: list[str]) -> dict[str, list[Image]]:
        return results_by_item(self.images, names)

    # writes ------------------------------------------------------------------------------
    @AWSErrorHandler.common_error_handler("write the lifecycle policy of {name}")
    def put(self, name: str, doc: dict) -> None:
        self.client.put_lifecycle_policy(aws_retry=True, repositoryName=name, lifecyclePolicyText=policy_text(doc))

    @_POLICY_MISSING.deletion_error_handler("delete the lifecycle policy of {name}")
    def delete(self, name: str) -> None:
        self.client.delete_lifecycle_policy(aws_retry=True, repositoryName=name)
