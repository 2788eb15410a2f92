"""Lifecycle policy documents for tests, built the way the modules build them from plain words, and the
images CI really pushes (image indexes with platform and attestation manifests, Docker manifest lists,
cosign signature tags, OCI referrers), as plain data for the pure rules and pushed into moto."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import lifecycle_policy_from_rules

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
NOTATION_SIGNATURE = "application/vnd.cncf.notary.signature"
REGION = "eu-west-1"


def build_lifecycle_policy(rules: list[dict], path: str = "rules") -> dict:
    """The AWS document for high-level ``rules`` (raises InvalidInput like the modules)."""
    return lifecycle_policy_from_rules(rules, path)[0]


@dataclass(frozen=True)
class Manifest:
    """One manifest as a client pushes it: its JSON, media type and tag (None: untagged)."""

    body: dict
    media_type: str
    tag: str | None = None
    subject: str | None = None  # what DescribeImages reports as subjectManifestDigest
    artifact_type: str | None = None  # what DescribeImages reports as artifactMediaType

    @property
    def text(self) -> str:
        return json.dumps(self.body, sort_keys=True)

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.text.encode()).hexdigest()

    def image(self, pushed_at: datetime, storage_class: str = "standard", archived_at=None):
        """As DescribeImages reports it (imported here: the moto helpers also run against code without it)."""
        from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import Image

        return Image(
            self.digest,
            (self.tag,) if self.tag else (),
            pushed_at,
            storage_class=storage_class,
            transitioned_at=archived_at,
            media_type=self.media_type,
            artifact_media_type=self.artifact_type,
            subject=self.subject,
        )


def _layer(seed: str, media_type: str) -> dict:
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(seed.encode()).hexdigest(), "size": 100}


def single_image(seed: str, tag: str | None = None, media_type: str = DOCKER_MANIFEST) -> Manifest:
    """An image of one manifest (config and one layer), as ``docker push`` of a one-platform build."""
    config = "application/vnd.docker.container.image.v1+json" if media_type == DOCKER_MANIFEST else None
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": _layer(f"{seed}-config", config or "application/vnd.oci.image.config.v1+json"),
        "layers": [_layer(f"{seed}-layer", "application/vnd.oci.image.layer.v1.tar+gzip")],
    }
    return Manifest(body, media_type, tag)


@dataclass(frozen=True)
class Release:
    """One multi-platform push: the children first, the index last (the order buildx pushes them)."""

    index: Manifest
    platforms: tuple[Manifest, ...]
    attestations: tuple[Manifest, ...]

    @property
    def children(self) -> tuple[Manifest, ...]:
        return self.platforms + self.attestations

    @property
    def manifests(self) -> tuple[Manifest, ...]:
        return (*self.children, self.index)


def buildx_release(
    seed: str, tag: str | None, platforms=("linux/amd64", "linux/arm64"), provenance: bool = True
) -> Release:
    """What ``docker/build-push-action`` v4+ pushes for a multi-platform build: an OCI index listing one
    manifest per platform and, with provenance (the default), one attestation manifest per platform."""
    built = tuple(single_image(f"{seed}-{platform}", media_type=OCI_MANIFEST) for platform in platforms)
    attestations = ()
    if provenance:
        attestations = tuple(
            Manifest(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": _layer(f"{seed}-{platform}-att-config", "application/vnd.oci.image.config.v1+json"),
                    "layers": [_layer(f"{seed}-{platform}-provenance", "application/vnd.in-toto+json")],
                },
                OCI_MANIFEST,
            )
            for platform in platforms
        )
    entries = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": image.digest,
            "size": len(image.text),
            "platform": dict(zip(("os", "architecture"), platform.split("/"), strict=True)),
        }
        for image, platform in zip(built, platforms, strict=True)
    ]
    entries += [
        {
            "mediaType": OCI_MANIFEST,
            "digest": attestation.digest,
            "size": len(attestation.text),
            "annotations": {
                "vnd.docker.reference.digest": image.digest,
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        }
        for attestation, image in zip(attestations, built, strict=False)  # no attestations without provenance
    ]
    index = Manifest({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX, tag)
    return Release(index, built, attestations)


def docker_manifest_list(seed: str, tag: str | None, platforms=("linux/amd64", "linux/arm64")) -> Release:
    """What ``docker manifest push`` makes of per-platform images: a Docker manifest list, no attestations."""
    built = tuple(single_image(f"{seed}-{platform}") for platform in platforms)
    entries = [
        {
            "mediaType": DOCKER_MANIFEST,
            "digest": image.digest,
            "size": len(image.text),
            "platform": dict(zip(("os", "architecture"), platform.split("/"), strict=True)),
        }
        for image, platform in zip(built, platforms, strict=True)
    ]
    index = Manifest({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": entries}, DOCKER_LIST, tag)
    return Release(index, built, ())


def cosign_signature(signed: Manifest) -> Manifest:
    """cosign's default: the signature stored as an ordinary image tagged ``sha256-<digest>.sig``."""
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _layer(f"{signed.digest}-sig-config", "application/vnd.oci.image.config.v1+json"),
        "layers": [_layer(f"{signed.digest}-sig", "application/vnd.dev.cosign.simplesigning.v1+json")],
    }
    return Manifest(body, OCI_MANIFEST, "sha256-" + signed.digest.removeprefix("sha256:") + ".sig")


def oci_referrer(subject: Manifest, artifact_type: str = NOTATION_SIGNATURE) -> Manifest:
    """An OCI 1.1 referrer (Notation / AWS Signer signature): untagged, with a ``subject``."""
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:" + "4" * 64, "size": 2},
        "layers": [_layer(f"{subject.digest}-signature", "application/jose+json")],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.text)},
    }
    return Manifest(body, OCI_MANIFEST, subject=subject.digest, artifact_type=artifact_type)


def index_manifests(manifests) -> dict[str, dict]:
    """The manifests of the indexes among ``manifests``, as BatchGetImage returns them (parsed)."""
    return {m.digest: m.body for m in manifests if m.media_type in (OCI_INDEX, DOCKER_LIST)}


# moto ----------------------------------------------------------------------------------------------
def moto_images(repository: str) -> list:
    """moto's own records of the repository's images, to arrange what its API cannot (push times, archive)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecr.models import ecr_backends

    return ecr_backends[DEFAULT_ACCOUNT_ID][REGION].repositories[repository].images


def push(ecr, repository: str, manifests, days_ago: float, now: datetime | None = None) -> list[str]:
    """Push ``manifests`` with PutImage as a client does (digest and media type given), stamped ``days_ago``
    (moto stamps the current second); what moto does not derive (subjectManifestDigest, artifactMediaType)
    is set as AWS reports it. The digests, in push order."""
    now = now or datetime.now().astimezone()
    pushed = []
    for manifest in manifests:
        args = {
            "repositoryName": repository,
            "imageManifest": manifest.text,
            "imageManifestMediaType": manifest.media_type,
            "imageDigest": manifest.digest,
        }
        if manifest.tag:
            args["imageTag"] = manifest.tag
        ecr.put_image(**args)
        pushed.append(manifest.digest)
    by_digest = {m.digest: m for m in manifests}
    for image in moto_images(repository):
        if image.image_digest in by_digest:
            image.image_pushed_at = int((now - timedelta(days=days_ago)).timestamp())
            manifest = by_digest[image.image_digest]
            if manifest.subject:
                image.subject_manifest_digest = manifest.subject
            if manifest.artifact_type:
                image.artifact_media_type = manifest.artifact_type
    return pushed


def archive_in_moto(repository: str, digests, days_ago: float, now: datetime | None = None) -> None:
    """Mark images archived as DescribeImages reports them (moto has no archive storage class)."""
    now = now or datetime.now().astimezone()
    for image in moto_images(repository):
        if image.image_digest in set(digests):
            image.image_status = "ARCHIVED"
            image.last_archived_at = now - timedelta(days=days_ago)
