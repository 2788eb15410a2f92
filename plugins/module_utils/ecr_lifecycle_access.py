# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR lifecycle policy and image calls, per repository on the shared bounded pool, with retries;
a missing policy is ``None``, missing repositories are reported by name. Used by ``ecr_lifecycle``
and by ``ecr_repository``'s ``lifecycle`` option alike: the preview and the writes exist once."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.cloudops.ecr.plugins.module_utils.aws_access import fail_for, first_error, run_concurrently
from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle import policy_text
from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle_evaluate import Image, image_from_aws
from ansible_collections.cloudops.ecr.plugins.module_utils.lifecycle_plan import LifecyclePlan


class EcrLifecycle:
    """Lifecycle policies and images of the private registry, through a retrying ECR client."""

    def __init__(self, client):
        self.client = client

    # reads -------------------------------------------------------------------------------
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
        outcomes = _raise_first(run_concurrently(self.stored_policy, names))
        found = {o.item: o.result[1] for o in outcomes if o.result[0]}
        return found, [o.item for o in outcomes if not o.result[0]]

    def images(self, name: str) -> list[Image]:
        """Every image of the repository, archived ones included: one call per 1,000 images."""
        images, token = [], None
        while True:
            kwargs = {"maxResults": 1000, **({"nextToken": token} if token else {})}
            page = self.client.describe_images(
                aws_retry=True, repositoryName=name, filter={"imageStatus": "ANY"}, **kwargs
            )
            images.extend(image_from_aws(detail) for detail in page.get("imageDetails", []))
            token = page.get("nextToken")
            if not token:
                return images

    def images_of(self, names: list[str]) -> dict[str, list[Image]]:
        return {o.item: o.result for o in _raise_first(run_concurrently(self.images, names))}

    def previewed(self, plans: list[LifecyclePlan], existing: Collection[str]) -> list[LifecyclePlan]:
        """The plans, each new policy previewed against its repository's images (read concurrently;
        a repository that does not exist yet has none)."""
        images = self.images_of([p.spec.name for p in plans if p.sets_policy and p.spec.name in existing])
        now = datetime.now(UTC)
        return [plan.previewed(images.get(plan.spec.name, []), now) for plan in plans]

    # writes ------------------------------------------------------------------------------
    def put(self, name: str, doc: dict) -> None:
        self.client.put_lifecycle_policy(aws_retry=True, repositoryName=name, lifecyclePolicyText=policy_text(doc))

    def delete(self, name: str) -> None:
        try:
            self.client.delete_lifecycle_policy(aws_retry=True, repositoryName=name)
        except is_boto3_error_code("LifecyclePolicyNotFoundException"):
            return

    def write(self, module, plans: list[LifecyclePlan], done: Callable[[set[str]], list[dict]]) -> None:
        """Put or delete the policy of every plan that changes, concurrently. On the first error the
        module fails, returning as ``repositories`` what ``done(names whose policy was written)`` gives."""

        def apply(plan: LifecyclePlan) -> None:
            if plan.spec.policy is None:
                self.delete(plan.spec.name)
            else:
                self.put(plan.spec.name, plan.spec.policy)

        outcomes = run_concurrently(apply, [plan for plan in plans if plan.changes])
        failed = first_error(outcomes)
        if failed:
            results = done({o.item.spec.name for o in outcomes if o.error is None})
            fail_for(
                module,
                failed.error,
                f"Writing the lifecycle policy of {failed.item.spec.name}",
                changed=bool(results),
                repositories=results,
            )


def _raise_first(outcomes):
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return outcomes
