# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR lifecycle policy and image calls, per repository on the shared bounded pool, with retries;
a missing policy is ``None``, a missing repository is reported as such. The images of a repository
are read with one DescribeImages call per 1,000 images, plus one BatchGetImage call per 100 image
indexes it holds (none when it holds none) to learn what each index lists."""

from __future__ import annotations

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
    paginated_query_with_retries,
)
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY, missing_is, results_by_item
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import (
    MANIFEST_MEDIA_TYPES,
    Image,
    ImageGraph,
    image_from_aws,
    image_graph,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import policy_text

_POLICY_MISSING = missing_is("LifecyclePolicyNotFoundException")
# BatchGetImage takes at most 100 image ids per call (botocore model: imageIds max 100).
BATCH_GET_IMAGE_MAX = 100


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

    @AWSErrorHandler.common_error_handler("read the image indexes of {name}")
    def index_manifests(self, name: str, digests: list[str]) -> tuple[dict[str, dict], list[str]]:
        """The manifests of the index images ``digests`` (parsed), and the digests that could not be read
        (gone since they were listed, or not JSON)."""
        manifests: dict[str, dict] = {}
        for start in range(0, len(digests), BATCH_GET_IMAGE_MAX):
            batch = digests[start : start + BATCH_GET_IMAGE_MAX]
            response = self.client.batch_get_image(
                aws_retry=True,
                repositoryName=name,
                imageIds=[{"imageDigest": digest} for digest in batch],
                acceptedMediaTypes=list(MANIFEST_MEDIA_TYPES),
            )
            for found in response.get("images", []):
                try:
                    manifest = json.loads(found["imageManifest"])
                except (KeyError, TypeError, ValueError):
                    continue  # reported as unread below
                if isinstance(manifest, dict):
                    manifests[found["imageId"]["imageDigest"]] = manifest
        return manifests, [digest for digest in digests if digest not in manifests]

    def image_graph(self, name: str) -> ImageGraph:
        """The repository's images and what each index lists; the manifests are read for the indexes only."""
        images = self.images(name)
        indexes = list(dict.fromkeys(image.digest for image in images if image.is_index))
        manifests, unread = self.index_manifests(name, indexes) if indexes else ({}, [])
        return image_graph(images, manifests, unread)

    def image_graphs_of(self, names: list[str]) -> dict[str, ImageGraph]:
        return results_by_item(self.image_graph, names)

    # writes ------------------------------------------------------------------------------
    @AWSErrorHandler.common_error_handler("write the lifecycle policy of {name}")
    def put(self, name: str, doc: dict) -> None:
        self.client.put_lifecycle_policy(aws_retry=True, repositoryName=name, lifecyclePolicyText=policy_text(doc))

    @_POLICY_MISSING.deletion_error_handler("delete the lifecycle policy of {name}")
    def delete(self, name: str) -> None:
        self.client.delete_lifecycle_policy(aws_retry=True, repositoryName=name)
