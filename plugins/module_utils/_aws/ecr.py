# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR repository calls: one listing for the whole registry, per-repository reads and writes
on a bounded pool, retries on every call, not-found turned into ``None``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
    paginated_query_with_retries,
)
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import RETRY, missing_is, results_by_item
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr_lifecycle import EcrLifecycle
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    DEFAULT_MUTABILITY,
    DEFAULT_SCAN_ON_PUSH,
    RepositoryPlan,
    RepositorySpec,
    RepositoryState,
)

_REPOSITORY_MISSING = missing_is("RepositoryNotFoundException")
_POLICY_MISSING = missing_is("RepositoryPolicyNotFoundException")


def state_from_aws(repo: dict, tags: dict | None = None, policy: dict | None = None) -> RepositoryState:
    encryption = repo.get("encryptionConfiguration") or {}
    return RepositoryState(
        name=repo["repositoryName"],
        arn=repo["repositoryArn"],
        uri=repo["repositoryUri"],
        registry_id=repo["registryId"],
        image_tag_mutability=repo.get("imageTagMutability", "MUTABLE"),
        mutability_exclusions=tuple(f["filter"] for f in repo.get("imageTagMutabilityExclusionFilters") or []),
        scan_on_push=bool((repo.get("imageScanningConfiguration") or {}).get("scanOnPush")),
        encryption_type=encryption.get("encryptionType", "AES256"),
        kms_key=encryption.get("kmsKey"),
        tags=tags,
        policy=policy,
    )


@dataclass(frozen=True)
class RegistryRead:
    """What one read of the registry found: the listed repositories that exist, the repositories
    not listed, the stored lifecycle policy text (None: none) of those asked for, and the ARN of
    any repository in the registry (None when it is empty), which names its account and partition."""

    states: dict[str, RepositoryState]
    unmanaged: list[str]
    lifecycle_policies: dict[str, str | None]
    any_arn: str | None = None
    unmanaged_arns: dict[str, str] = field(default_factory=dict)


class EcrRegistry:
    """The private registry of one account and region, through a retrying ECR client."""

    def __init__(self, client, kms_client: Callable[[], object] | None = None):
        self.client = client
        self._kms_client = kms_client
        self._kms = None
        self.lifecycle = EcrLifecycle(client)

    # reads -------------------------------------------------------------------------------
    @AWSErrorHandler.common_error_handler("list the repositories of the ECR registry")
    def list_repositories(self) -> dict[str, dict]:
        """Every repository in the registry, by name: one call per 1,000 repositories."""
        found = paginated_query_with_retries(self.client, "describe_repositories", RETRY, maxResults=1000)
        return {repo["repositoryName"]: repo for repo in found.get("repositories", [])}

    @AWSErrorHandler.common_error_handler("read the tags of {arn}")
    def tags(self, arn: str) -> dict[str, str]:
        response = self.client.list_tags_for_resource(aws_retry=True, resourceArn=arn)
        return boto3_tag_list_to_ansible_dict(response.get("tags", []), "Key", "Value")

    @_POLICY_MISSING.list_error_handler("read the repository policy of {name}")
    def policy(self, name: str) -> dict | None:
        response = self.client.get_repository_policy(aws_retry=True, repositoryName=name)
        return json.loads(response["policyText"])

    def current_states(
        self, names: list[str], read_tags: set[str], read_policy: set[str], read_lifecycle: set[str] = frozenset()
    ) -> RegistryRead:
        """The named repositories that exist, with their tags, policy and lifecycle policy read only
        where asked: every one of those reads in one concurrent pass."""
        listed = self.list_repositories()
        existing = [n for n in names if n in listed]
        readers = {
            "tags": lambda name: self.tags(listed[name]["repositoryArn"]),
            "policy": self.policy,
            "lifecycle": lambda name: self.lifecycle.stored_policy(name)[1],
        }
        asked = {"tags": read_tags, "policy": read_policy, "lifecycle": read_lifecycle}
        reads = [(kind, name) for name in existing for kind in readers if name in asked[kind]]
        found = results_by_item(lambda read: readers[read[0]](read[1]), reads)
        states = {
            name: state_from_aws(listed[name], found.get(("tags", name)), found.get(("policy", name)))
            for name in existing
        }
        lifecycle = {name: found[("lifecycle", name)] for name in existing if ("lifecycle", name) in found}
        any_arn = next((repo["repositoryArn"] for repo in listed.values()), None)
        unmanaged = sorted(set(listed) - set(names))
        arns = {name: listed[name]["repositoryArn"] for name in unmanaged}
        return RegistryRead(states, unmanaged, lifecycle, any_arn, arns)

    @AWSErrorHandler.common_error_handler("read the ECR registry's account")
    def identity(self, arns: Iterable[str]) -> tuple[str, str]:
        """(registry id, partition): from any repository ARN, else from one DescribeRegistry call."""
        for arn in arns:
            _arn, partition, _service, _region, account, _resource = arn.split(":", 5)
            return account, partition
        return self.client.describe_registry(aws_retry=True)["registryId"], self.client.meta.partition

    @AWSErrorHandler.common_error_handler("resolve kms_key {key}")
    def key_arn(self, key: str) -> str:
        """The key ARN AWS reports for a key id, alias name or alias ARN (ECR stores the ARN)."""
        if key.startswith("arn:") and ":key/" in key:
            return key
        if self._kms is None:
            self._kms = self._kms_client()
        return self._kms.describe_key(aws_retry=True, KeyId=key)["KeyMetadata"]["Arn"]

    @AWSErrorHandler.common_error_handler("list the images of {name}")
    def has_images(self, name: str) -> bool:
        response = self.client.list_images(aws_retry=True, repositoryName=name, maxResults=1)
        return bool(response.get("imageIds"))

    # writes ------------------------------------------------------------------------------
    @AWSErrorHandler.common_error_handler("create repository {spec.name}")
    def create(self, spec: RepositorySpec) -> RepositoryState:
        kwargs = {
            "repositoryName": spec.name,
            "imageTagMutability": spec.image_tag_mutability or DEFAULT_MUTABILITY,
            "imageScanningConfiguration": {
                "scanOnPush": DEFAULT_SCAN_ON_PUSH if spec.scan_on_push is None else spec.scan_on_push
            },
            "encryptionConfiguration": {"encryptionType": spec.encryption_type or "AES256"},
        }
        if spec.mutability_exclusions:
            kwargs["imageTagMutabilityExclusionFilters"] = _exclusion_filters(spec)
        if spec.kms_key:
            kwargs["encryptionConfiguration"]["kmsKey"] = spec.kms_key
        if spec.tags:
            kwargs["tags"] = ansible_dict_to_boto3_tag_list(spec.tags)
        try:
            repo = self.client.create_repository(aws_retry=True, **kwargs)["repository"]
        except is_boto3_error_code("RepositoryAlreadyExistsException"):
            # botocore resends a create whose answer was lost (connection closed after AWS acted):
            # the repository our own first attempt made is the one we wanted.
            repo = self._made_by_an_earlier_attempt(kwargs)
            if repo is None:
                raise
        if spec.policy:
            self.set_policy(spec.name, spec.policy)
        return state_from_aws(repo, dict(spec.tags or {}), spec.policy or None)

    @AWSErrorHandler.common_error_handler("update repository {spec.name}")
    def update(self, spec: RepositorySpec, plan: RepositoryPlan, current: RepositoryState) -> None:
        name = spec.name
        if plan.mutability:
            kwargs = {"repositoryName": name, "imageTagMutability": spec.image_tag_mutability}
            if spec.mutability_exclusions:
                kwargs["imageTagMutabilityExclusionFilters"] = _exclusion_filters(spec)
            self.client.put_image_tag_mutability(aws_retry=True, **kwargs)
        if plan.scanning:
            self.client.put_image_scanning_configuration(
                aws_retry=True, repositoryName=name, imageScanningConfiguration={"scanOnPush": spec.scan_on_push}
            )
        if plan.tags_to_set:
            self.client.tag_resource(
                aws_retry=True, resourceArn=current.arn, tags=ansible_dict_to_boto3_tag_list(plan.tags_to_set)
            )
        if plan.tags_to_remove:
            self.client.untag_resource(aws_retry=True, resourceArn=current.arn, tagKeys=plan.tags_to_remove)
        if plan.set_policy is not None:
            self.set_policy(name, plan.set_policy)
        if plan.delete_policy:
            self.remove_policy(name)

    def _made_by_an_earlier_attempt(self, kwargs: dict) -> dict | None:
        """The repository if it has exactly the settings and tags of ``kwargs``, else None (someone else's)."""
        found = self.describe(kwargs["repositoryName"])
        if found is None:
            return None
        made = {
            "imageTagMutability": found.get("imageTagMutability"),
            "imageScanningConfiguration": {
                "scanOnPush": bool((found.get("imageScanningConfiguration") or {}).get("scanOnPush"))
            },
            "encryptionType": (found.get("encryptionConfiguration") or {}).get("encryptionType"),
            "tags": self.tags(found["repositoryArn"]),
        }
        wanted = {
            "imageTagMutability": kwargs["imageTagMutability"],
            "imageScanningConfiguration": kwargs["imageScanningConfiguration"],
            "encryptionType": kwargs["encryptionConfiguration"]["encryptionType"],
            "tags": boto3_tag_list_to_ansible_dict(kwargs.get("tags", []), "Key", "Value"),
        }
        return found if made == wanted else None

    @_REPOSITORY_MISSING.list_error_handler("describe repository {name}")
    def describe(self, name: str) -> dict | None:
        return self.client.describe_repositories(aws_retry=True, repositoryNames=[name])["repositories"][0]

    @AWSErrorHandler.common_error_handler("remove tag {key} from {arn}")
    def untag(self, arn: str, key: str) -> None:
        self.client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=[key])

    @AWSErrorHandler.common_error_handler("set the repository policy of {name}")
    def set_policy(self, name: str, policy: dict) -> None:
        # compact, as its size was checked (ECR counts the text it is sent)
        text = json.dumps(policy, separators=(",", ":"))
        self.client.set_repository_policy(aws_retry=True, repositoryName=name, policyText=text)

    # gone already (an earlier attempt's answer was lost): nothing to do
    @_POLICY_MISSING.deletion_error_handler("delete the repository policy of {name}")
    def remove_policy(self, name: str) -> None:
        self.client.delete_repository_policy(aws_retry=True, repositoryName=name)

    @_REPOSITORY_MISSING.deletion_error_handler("delete repository {name}")
    def delete(self, name: str, force: bool) -> None:
        self.client.delete_repository(aws_retry=True, repositoryName=name, force=force)


def _exclusion_filters(spec: RepositorySpec) -> list[dict]:
    return [{"filterType": "WILDCARD", "filter": f} for f in spec.mutability_exclusions or ()]
