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

Images that are not one manifest (see :mod:`image_graph`) follow AWS too: the untagged children of
an index are not ranked (measured with AWS's preview) and no child goes while an index that lists
it stays (ECR refuses: ``ImageReferencedByManifestList``); when an index expires, its children and
its referrers go with it; referrers also go with their subject (ECR removes them within 24 hours).
Where AWS documents nothing, the reason says so and the preview counts the image as acted on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import (
    ATTESTATION,
    DOCKER_MANIFEST_LIST,
    INDEX,
    PLATFORM,
    REFERRER,
    SIGNATURE,
    SINGLE,
    GraphImage,
    Image,
    ImageGraph,
    artifact_words,
    as_image_graph,
    short_digest,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import normalise_lifecycle_policy
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import is_protect_rule

EXPIRE, TRANSITION, GOES_WITH_INDEX, HELD = "expire", "transition", "goes_with_index", "held"
ACTIONS = (EXPIRE, TRANSITION, GOES_WITH_INDEX, HELD)
_GOES_WITH_INDEX = (
    "goes with its index (whether ECR deletes it at once or leaves it untagged for a later run is not documented)"
)
_GOES_WITH_SUBJECT = "goes with its subject (ECR removes referrers within 24 hours of their subject)"
_NOT_DOCUMENTED_REFERRER = (
    "AWS counts referrers against the rules like images (containers-roadmap#2613; not documented)"
)
_NOT_DOCUMENTED_ARCHIVE = "whether AWS archives the images an index lists with it is not documented"


@dataclass(frozen=True)
class Decision:
    """What happens to one image: ``expire`` or ``transition`` by a rule, ``goes_with_index`` (leaves with
    the index or subject ``goes_with``, whose rule is ``rule_priority``), or ``held`` (a rule would expire
    it, but an index that lists it stays)."""

    digest: str
    tags: tuple[str, ...]
    action: str
    rule_priority: int
    reason: str
    kind: str = SINGLE
    goes_with: str | None = None


def evaluate_lifecycle_policy(doc: dict | str, images: ImageGraph | Iterable[Image], now: datetime) -> list[Decision]:
    """The images each rule of a valid policy would expire or transition at ``now`` and why, the images
    that go with them, and the images a rule selects that an index keeps.

    Ordered by rule priority, then oldest pushed first.
    """
    graph = as_image_graph(images)
    rules = normalise_lifecycle_policy(doc)["rules"]
    marked: dict[str, tuple[str, int, str]] = {}
    for rule, owned in _owned(rules, graph):
        for image, reason in _marked(rule, owned, graph, now):
            marked[image.digest] = (rule["action"]["type"], rule["rulePriority"], reason)
    decisions = _Fates(graph, marked).decisions()
    pushed = {node.digest: node.image.pushed_at for node in graph}
    return sorted(decisions, key=lambda d: (d.rule_priority, pushed[d.digest], d.digest))


def owned_by_rule(doc: dict | str, images: ImageGraph | Iterable[Image]) -> dict[int, int]:
    """How many ranked images each rule acts on (the first rule whose tag filter selects them), by priority."""
    rules = normalise_lifecycle_policy(doc)["rules"]
    return {rule["rulePriority"]: len(owned) for rule, owned in _owned(rules, as_image_graph(images))}


def expire_summary(decisions: list[Decision], images: ImageGraph | Iterable[Image]) -> dict:
    """Counts, and the share of the ranked images that would expire (the guard's measure)."""
    graph = as_image_graph(images)
    counts = {action: sum(1 for d in decisions if d.action == action) for action in ACTIONS}
    total, rankable = len(graph), sum(1 for node in graph if node.rankable)
    return {
        "images": total,
        "rankable": rankable,
        "expire": counts[EXPIRE],
        "transition": counts[TRANSITION],
        "goes_with_index": counts[GOES_WITH_INDEX],
        "keep": total - counts[EXPIRE] - counts[TRANSITION] - counts[GOES_WITH_INDEX],
        "expire_percent": round(100.0 * counts[EXPIRE] / rankable, 1) if rankable else 0.0,
    }


def rule_in_words(rule: dict) -> str:
    """One rule of a valid policy as a phrase, such as ``keep the last 10 untagged images``; a protect
    rule (a count no repository reaches) reads ``protected: ...``."""
    selection, action = rule["selection"], rule["action"]["type"]
    what, number, count_type = _selection_words(selection), selection["countNumber"], selection["countType"]
    if is_protect_rule(rule):
        return f"protected: {what}, which no later rule expires or archives"
    if count_type == "imageCountMoreThan":
        return f"keep the last {number} {what}" if action == EXPIRE else f"archive all but the last {number} {what}"
    if count_type == "sinceImagePulled":
        return f"archive {what} not pulled for {number} days"
    if count_type == "sinceImageTransitioned":
        return f"delete {what} {number} days after archiving"
    return f"{'archive' if action == TRANSITION else 'expire'} {what} {number} days after push"


def _owned(rules: list[dict], graph: ImageGraph) -> list[tuple[dict, list[Image]]]:
    """Each rule with the ranked images it acts on: those it selects that no earlier rule selects."""
    rankable = [node.image for node in graph if node.rankable]
    owner: dict[str, int] = {}
    for rule in rules:
        for image in rankable:
            if _selects(rule, image):
                owner.setdefault(image.digest, rule["rulePriority"])
    return [(rule, [image for image in rankable if owner.get(image.digest) == rule["rulePriority"]]) for rule in rules]


class _Fates:
    """Where each image ends up once the rules have marked the ranked ones: an index that stays holds what
    it lists; an image whose indexes all leave goes with them, a referrer with its subject."""

    def __init__(self, graph: ImageGraph, marked: dict[str, tuple[str, int, str]]):
        self.graph, self.marked = graph, marked
        self._leaves: dict[str, bool] = {}
        self._archives: dict[str, bool] = {}

    def follows(self, node: GraphImage) -> tuple[str, ...]:
        """The images whose fate this one shares: its indexes, else a referrer's subject."""
        if node.parents:
            return node.parents
        if node.kind == REFERRER and node.subject in self.graph:
            return (node.subject,)
        return ()

    def leaves(self, digest: str) -> bool:
        if digest not in self._leaves:
            self._leaves[digest] = False  # content addressing makes cycles impossible; this stops a malformed one
            node, own = self.graph[digest], self.marked.get(digest)
            if node.parents:
                self._leaves[digest] = all(self.leaves(parent) for parent in node.parents)
            else:
                by_rule = own is not None and own[0] == EXPIRE
                self._leaves[digest] = by_rule or any(self.leaves(d) for d in self.follows(node))
        return self._leaves[digest]

    def archives(self, digest: str) -> bool:
        if digest not in self._archives:
            self._archives[digest] = False
            node, own = self.graph[digest], self.marked.get(digest)
            if self.leaves(digest):
                result = False
            elif own is not None and own[0] == TRANSITION:
                result = True
            else:
                followed = self.follows(node)
                result = (
                    node.image.storage_class == "standard"
                    and bool(followed)
                    and all(self.leaves(d) or self.archives(d) for d in followed)
                    and any(self.archives(d) for d in followed)
                )
            self._archives[digest] = result
        return self._archives[digest]

    def cause(self, node: GraphImage) -> GraphImage:
        """The image this one leaves or moves with."""
        followed = self.follows(node)
        going = [d for d in followed if self.leaves(d)] or [d for d in followed if self.archives(d)]
        return self.graph[going[0]]

    def priority(self, node: GraphImage) -> int:
        own = self.marked.get(node.digest)
        if own is not None and (own[0] == EXPIRE) == self.leaves(node.digest):
            return own[1]
        return self.priority(self.cause(node))

    def decisions(self) -> list[Decision]:
        found = []
        for node in self.graph:
            decision = self._decision(node)
            if decision is not None:
                found.append(decision)
        going_with = {}
        for decision in found:
            if decision.goes_with and decision.action == GOES_WITH_INDEX:
                going_with[decision.goes_with] = going_with.get(decision.goes_with, 0) + 1
        return [_with_followers(d, going_with.get(d.digest, 0)) for d in found]

    def _decision(self, node: GraphImage) -> Decision | None:
        own = self.marked.get(node.digest)
        image = node.image
        if self.leaves(node.digest):
            if own is not None and own[0] == EXPIRE:
                return Decision(image.digest, image.tags, EXPIRE, own[1], own[2] + self._expire_note(node), node.kind)
            cause = self.cause(node)
            reason = f"{_follower_words(node, cause)}, which {self._fate_words(cause)}: "
            reason += _GOES_WITH_INDEX if node.parents else _GOES_WITH_SUBJECT
            priority = self.priority(node)
            return Decision(image.digest, image.tags, GOES_WITH_INDEX, priority, reason, node.kind, cause.digest)
        if self.archives(node.digest):
            if own is not None and own[0] == TRANSITION:
                note = "; an index lists it (not documented whether AWS archives it then)" if node.parents else ""
                return Decision(image.digest, image.tags, TRANSITION, own[1], own[2] + note, node.kind)
            cause = self.cause(node)
            reason = f"{_follower_words(node, cause)}, which {self._fate_words(cause)}: "
            reason += f"counted as archived with it ({_NOT_DOCUMENTED_ARCHIVE})"
            return Decision(image.digest, image.tags, TRANSITION, self.priority(node), reason, node.kind, cause.digest)
        if own is not None and own[0] == EXPIRE:
            staying = next(self.graph[p] for p in node.parents if not self.leaves(p))
            reason = (
                f"{own[2]}, but {_cause_words(staying)} lists it and stays: AWS does not expire an image "
                "before the index that lists it"
            )
            return Decision(image.digest, image.tags, HELD, own[1], reason, node.kind, staying.digest)
        return None

    def _fate_words(self, node: GraphImage) -> str:
        own = self.marked.get(node.digest)
        if self.leaves(node.digest):
            if own is not None and own[0] == EXPIRE:
                return f"rule {own[1]} expires"
            return "goes with its index" if node.parents else "goes with its subject"
        if own is not None and own[0] == TRANSITION:
            return f"rule {own[1]} archives"
        return "is archived with its index"

    def _expire_note(self, node: GraphImage) -> str:
        subject = node.subject
        if subject not in self.graph or self.leaves(subject):
            return ""
        if node.kind == REFERRER:
            return f"; its subject stays: {_NOT_DOCUMENTED_REFERRER}"
        if node.kind == SIGNATURE:
            return f"; the image it signs ({short_digest(subject)}) stays and loses this signature"
        return ""


def _with_followers(decision: Decision, followers: int) -> Decision:
    if not followers or decision.action != EXPIRE:
        return decision
    images = "image goes" if followers == 1 else "images go"
    return replace(decision, reason=f"{decision.reason}; {followers} {images} with it")


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


def _marked(rule: dict, images: list[Image], graph: ImageGraph, now: datetime):
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
                        f"{_node_words(graph[image.digest])}, {_ordinal(rank)} newest of {len(images)} {what}; "
                        f"rule {priority} keeps the last {number}"
                    ),
                )
        return
    verb = "archives" if rule["action"]["type"] == TRANSITION else "expires"
    for image in reversed(newest_first):
        since, event = _since(count_type, image)
        age = now - since
        if age > timedelta(days=number):
            reason = f"{_node_words(graph[image.digest])}, {event} {age.days} days ago"
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


def _tag_words(image: Image) -> str:
    return f"tagged {', '.join(image.tags)}" if image.tags else "untagged"


def kind_words(node: GraphImage) -> str:
    """What the image is, in a few words: ``platform manifest linux/arm64``, ``cosign signature of sha256:...``."""
    if node.kind == INDEX:
        return "manifest list" if node.image.media_type == DOCKER_MANIFEST_LIST else "index"
    if node.kind == PLATFORM:
        return f"platform manifest {node.platform}" if node.platform else "platform manifest"
    if node.kind == ATTESTATION:
        return f"attestation of {short_digest(node.subject)}" if node.subject else "attestation"
    if node.kind == REFERRER:
        return f"{artifact_words(node.image.artifact_media_type)} referrer of {short_digest(node.subject)}"
    if node.kind == SIGNATURE:
        return f"cosign signature of {short_digest(node.subject)}"
    return "image"


def _node_words(node: GraphImage) -> str:
    """The image as a reason starts: ``untagged``, ``tagged v1``, ``index tagged v1``, ``untagged attestation``."""
    tags = _tag_words(node.image)
    if node.kind == SINGLE:
        return tags
    if node.kind == SIGNATURE:
        return kind_words(node)  # its tag only repeats the digest
    if node.kind == REFERRER:
        return f"{kind_words(node)}, {tags}"
    return f"{kind_words(node)} {tags}" if node.image.tags else f"{tags} {kind_words(node)}"


def _follower_words(node: GraphImage, cause: GraphImage) -> str:
    """An image that shares ``cause``'s fate: ``untagged platform manifest linux/amd64 listed by index ...``."""
    if node.parents:
        return f"{_node_words(node)} listed by {_cause_words(cause)}"
    tagged = f", {_tag_words(node.image)}" if node.image.tags else ""
    return f"{artifact_words(node.image.artifact_media_type)} referrer{tagged} of {_cause_words(cause)}"


def _cause_words(node: GraphImage) -> str:
    return f"{kind_words(node)} {short_digest(node.digest)} ({_tag_words(node.image)})"


def _selection_words(selection: dict) -> str:
    images = "archived images" if selection.get("storageClass") == "archive" else "images"
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
