# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which images of a repository belong together, as CI pushes them.

``docker/build-push-action`` pushes, per release, one tagged image index (OCI) or manifest list
(Docker) whose ``manifests[]`` name untagged platform manifests and untagged attestation manifests
(annotation ``vnd.docker.reference.type: attestation-manifest``). Signing adds OCI 1.1 referrers
(manifests with a ``subject``; DescribeImages reports it as ``subjectManifestDigest``) or, with
cosign's default, an ordinary tagged image ``sha256-<digest>.sig``. The graph is built from the
DescribeImages details and the manifests of the index images only: plain data in, plain data out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
IMAGE_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
# BatchGetImage returns a manifest only in a media type the caller accepts.
MANIFEST_MEDIA_TYPES = INDEX_MEDIA_TYPES + IMAGE_MEDIA_TYPES

REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"

# Kinds, in the order the preview lists them.
SINGLE, INDEX, PLATFORM, ATTESTATION, REFERRER, SIGNATURE = (
    "image",
    "index",
    "platform",
    "attestation",
    "referrer",
    "signature",
)
KINDS = (INDEX, PLATFORM, ATTESTATION, REFERRER, SIGNATURE, SINGLE)

_COSIGN_SIGNATURE_TAG = re.compile(r"sha256-([0-9a-f]{64})\.sig")
# DescribeImages imageStatus: ACTIVATING images are still in archive until their restore completes.
_STORAGE_CLASS_BY_STATUS = {"ARCHIVED": "archive", "ACTIVATING": "archive"}
_ARTIFACT_WORDS = (
    ("signature", "signature"),
    (".sig.", "signature"),
    ("sbom", "SBOM"),
    ("spdx", "SBOM"),
    ("in-toto", "attestation"),
)


@dataclass(frozen=True)
class Image:
    """One image of DescribeImages: what the lifecycle rules look at, and what the graph needs."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    storage_class: str = "standard"
    transitioned_at: datetime | None = None
    media_type: str | None = None
    artifact_media_type: str | None = None
    subject: str | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


def image_from_aws(detail: dict) -> Image:
    """One ``imageDetails`` item of DescribeImages as an :class:`Image`."""
    return Image(
        digest=detail["imageDigest"],
        tags=tuple(detail.get("imageTags") or ()),
        pushed_at=detail["imagePushedAt"],
        last_pulled_at=detail.get("lastRecordedPullTime"),
        storage_class=_STORAGE_CLASS_BY_STATUS.get(detail.get("imageStatus", "ACTIVE"), "standard"),
        transitioned_at=detail.get("lastArchivedAt"),
        media_type=detail.get("imageManifestMediaType"),
        artifact_media_type=detail.get("artifactMediaType"),
        subject=detail.get("subjectManifestDigest"),
    )


@dataclass(frozen=True)
class GraphImage:
    """An image with its place in the repository: its kind, the indexes that list it, what it is about."""

    image: Image
    kind: str = SINGLE
    parents: tuple[str, ...] = ()  # the indexes in the repository whose manifests[] name it
    subject: str | None = None  # the image a referrer, signature or attestation is about
    platform: str | None = None  # os/architecture[/variant] of a platform manifest

    @property
    def digest(self) -> str:
        return self.image.digest

    @property
    def rankable(self) -> bool:
        """Whether the rules rank it as an image of its own.

        Measured on AWS (get-lifecycle-policy-preview): the untagged children of a live index are not
        ranked. A tagged child is counted (not measured: counting it can only make the preview report more).
        """
        return not self.parents or bool(self.image.tags)


@dataclass(frozen=True)
class ImageGraph:
    """A repository's images by digest, in DescribeImages order, and the indexes whose manifest could not be read."""

    images: dict[str, GraphImage] = field(default_factory=dict)
    unread_indexes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[GraphImage]:
        return iter(self.images.values())

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, digest: str) -> GraphImage:
        return self.images[digest]

    def __contains__(self, digest: object) -> bool:
        return digest in self.images

    def count(self, *kinds: str) -> int:
        return sum(1 for node in self if node.kind in kinds)

    @property
    def children(self) -> int:
        """Images listed by an index of the repository."""
        return sum(1 for node in self if node.parents)

    @property
    def referrers(self) -> int:
        """OCI referrers and cosign signature tags."""
        return self.count(REFERRER, SIGNATURE)


def image_graph(
    images: Iterable[Image], index_manifests: Mapping[str, dict] | None = None, unread_indexes: Iterable[str] = ()
) -> ImageGraph:
    """The graph of ``images``, the ``manifests[]`` of ``index_manifests`` (index digest -> parsed manifest) naming
    each index's children; an index missing from ``index_manifests`` is taken as listing nothing."""
    images = list(images)
    present = {image.digest for image in images}
    listed: dict[str, list[tuple[str, dict]]] = {}
    for index_digest, manifest in (index_manifests or {}).items():
        for entry in _entries(manifest):
            if entry["digest"] in present and entry["digest"] != index_digest:
                listed.setdefault(entry["digest"], []).append((index_digest, entry))
    nodes = {image.digest: _node(image, listed.get(image.digest, [])) for image in images}
    return ImageGraph(nodes, tuple(unread_indexes))


def as_image_graph(images: ImageGraph | Iterable[Image]) -> ImageGraph:
    """``images`` as a graph: a plain list of images stands alone (no index manifests known)."""
    return images if isinstance(images, ImageGraph) else image_graph(images)


def _entries(manifest: dict) -> list[dict]:
    entries = manifest.get("manifests") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("digest"), str)]


def _node(image: Image, listed: list[tuple[str, dict]]) -> GraphImage:
    parents = tuple(dict.fromkeys(index for index, _entry in listed))
    if image.is_index:
        return GraphImage(image, INDEX, parents)
    if listed:
        entry = listed[0][1]
        annotations = entry.get("annotations") if isinstance(entry.get("annotations"), dict) else {}
        if annotations.get(REFERENCE_TYPE) == ATTESTATION_MANIFEST:
            return GraphImage(image, ATTESTATION, parents, subject=annotations.get(REFERENCE_DIGEST))
        return GraphImage(image, PLATFORM, parents, platform=_platform(entry.get("platform")))
    if image.subject:
        return GraphImage(image, REFERRER, subject=image.subject)
    for tag in image.tags:
        match = _COSIGN_SIGNATURE_TAG.fullmatch(tag)
        if match:
            return GraphImage(image, SIGNATURE, subject=f"sha256:{match.group(1)}")
    return GraphImage(image)


def _platform(platform) -> str | None:
    if not isinstance(platform, dict):
        return None
    parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
    return "/".join(str(part) for part in parts if part) or None


def short_digest(digest: str) -> str:
    """``sha256:`` and the first 12 hex digits, as ``docker images`` shows an id."""
    algorithm, colon, value = digest.partition(":")
    return f"{algorithm}{colon}{value[:12]}" if value else digest[:19]


def artifact_words(media_type: str | None) -> str:
    """What a referrer is, from its artifact media type: signature, SBOM, or the media type itself."""
    lowered = (media_type or "").lower()
    for marker, words in _ARTIFACT_WORDS:
        if marker in lowered:
            return words
    return media_type or "artifact"
