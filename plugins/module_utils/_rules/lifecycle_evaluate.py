# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a lifecycle policy would do to a repository's images now, computed locally.

AWS's own preview (StartLifecyclePolicyPreview) is asynchronous and moto lacks it. The semantics
follow AWS's user guide: every rule marks the images it selects (its tag filter, in its storage
class; a count rule marks all but the newest N, oldest first); then, lowest priority number
first, an image is acted on only by the first rule whose tag filter selects it — even when that
rule keeps it. Where AWS leaves a time unknown (never pulled, archive time missing) the push time
is used, which can only make the preview report more, never less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import normalise_lifecycle_policy

# DescribeImages imageStatus: ACTIVATING images are still in archive until their restore completes.
_STORAGE_CLASS_BY_STATUS = {"ARCHIVED": "archive", "ACTIVATING": "archive"}


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    storage_class: str = "standard"
    transitioned_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    digest: str
    tags: tuple[str, ...]
    action: str
    rule_priority: int
    reason: str


def image_from_aws(detail: dict) -> Image:
    """One ``imageDetails`` item of DescribeImages as an :class:`Image`."""
    return Image(
        digest=detail["imageDigest"],
        tags=tuple(detail.get("imageTags") or ()),
        pushed_at=detail["imagePushedAt"],
        last_pulled_at=detail.get("lastRecordedPullTime"),
        storage_class=_STORAGE_CLASS_BY_STATUS.get(detail.get("imageStatus", "ACTIVE"), "standard"),
        transitioned_at=detail.get("lastArchivedAt"),
    )


def evaluate_lifecycle_policy(doc: dict | str, images: list[Image], now: datetime) -> list[Decision]:
    """The images each rule of a valid policy would expire or transition at ``now``, and why.

    Ordered by rule priority, then oldest pushed first.
    """
    rules = normalise_lifecycle_policy(doc)["rules"]
    selected = {rule["rulePriority"]: [image for image in images if _selects(rule, image)] for rule in rules}
    owner: dict[str, int] = {}
    for rule in rules:
        for image in selected[rule["rulePriority"]]:
            owner.setdefault(image.digest, rule["rulePriority"])

    decisions = []
    for rule in rules:
        priority = rule["rulePriority"]
        for image, reason in _marked(rule, selected[priority], now):
            if owner[image.digest] == priority:
                decisions.append(Decision(image.digest, image.tags, rule["action"]["type"], priority, reason))
    return decisions


def expire_summary(decisions: list[Decision], images: list[Image]) -> dict:
    """Counts, and the share of the repository's images that would expire (the guard's measure)."""
    expire = sum(1 for d in decisions if d.action == "expire")
    transition = sum(1 for d in decisions if d.action == "transition")
    total = len(images)
    return {
        "images": total,
        "expire": expire,
        "transition": transition,
        "keep": total - expire - transition,
        "expire_percent": round(100.0 * expire / total, 1) if total else 0.0,
    }


def _selects(rule: dict, image: Image) -> bool:
    selection = rule["selection"]
    if image.storage_class != selection["storageClass"]:
        return False
    status = selection["tagStatus"]
    if status == "untagged":
        return not image.tags
    if status == "any":
        return True
    if not image.tags:
        return False
    if "tagPrefixList" in selection:
        return all(any(tag.startswith(prefix) for tag in image.tags) for prefix in selection["tagPrefixList"])
    return all(any(_pattern(p).fullmatch(tag) for tag in image.tags) for p in selection["tagPatternList"])


def _pattern(pattern: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _marked(rule: dict, images: list[Image], now: datetime):
    """(image, reason) for each image the rule marks, oldest pushed first."""
    selection, priority = rule["selection"], rule["rulePriority"]
    count_type, number = selection["countType"], selection["countNumber"]
    what = _selection_words(selection)
    newest_first = sorted(images, key=lambda image: (image.pushed_at, image.digest), reverse=True)
    if count_type == "imageCountMoreThan":
        for rank, image in reversed(list(enumerate(newest_first, start=1))):
            if rank > number:
                yield (
                    image,
                    (
                        f"{_image_words(image)}, {_ordinal(rank)} newest of {len(images)} {what}; "
                        f"rule {priority} keeps the last {number}"
                    ),
                )
        return
    verb = "archives" if rule["action"]["type"] == "transition" else "expires"
    for image in reversed(newest_first):
        since, event = _since(count_type, image)
        age = now - since
        if age > timedelta(days=number):
            reason = f"{_image_words(image)}, {event} {age.days} days ago"
            yield image, f"{reason}; rule {priority} {verb} {what} after {number} days"


def _since(count_type: str, image: Image) -> tuple[datetime, str]:
    if count_type == "sinceImagePulled":
        return (
            (image.last_pulled_at, "last pulled") if image.last_pulled_at else (image.pushed_at, "never pulled, pushed")
        )
    if count_type == "sinceImageTransitioned":
        if image.transitioned_at:
            return image.transitioned_at, "archived"
        return image.pushed_at, "archive time unknown, pushed"
    return image.pushed_at, "pushed"


def _image_words(image: Image) -> str:
    return f"tagged {', '.join(image.tags)}" if image.tags else "untagged"


def _selection_words(selection: dict) -> str:
    images = "archived images" if selection["storageClass"] == "archive" else "images"
    status = selection["tagStatus"]
    if status == "any":
        return images
    if status == "untagged":
        return f"untagged {images}"
    if "tagPrefixList" in selection:
        return f"{images} tagged with prefix {' and '.join(selection['tagPrefixList'])}"
    return f"{images} tagged {' and '.join(selection['tagPatternList'])}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
