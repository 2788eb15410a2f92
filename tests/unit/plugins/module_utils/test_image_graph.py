"""The image graph: what each image of a repository is, from DescribeImages and the manifests of its indexes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import (
    ImageGraph,
    image_from_aws,
    image_graph,
    short_digest,
)
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import (
    buildx_release,
    cosign_signature,
    docker_manifest_list,
    index_manifests,
    oci_referrer,
    single_image,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def graph_of(*manifests, read=True) -> ImageGraph:
    images = [m.image(NOW - timedelta(days=1)) for m in manifests]
    return image_graph(images, index_manifests(manifests) if read else {})


def test_a_buildx_release_is_an_index_two_platform_manifests_and_two_attestations():
    release = buildx_release("r1", "v1")
    graph = graph_of(*release.manifests)
    index = graph[release.index.digest]
    assert (index.kind, index.parents, index.rankable) == ("index", (), True)
    amd64, arm64 = (graph[m.digest] for m in release.platforms)
    assert (amd64.kind, amd64.platform, amd64.parents) == ("platform", "linux/amd64", (release.index.digest,))
    assert arm64.platform == "linux/arm64"
    attestation = graph[release.attestations[0].digest]
    assert (attestation.kind, attestation.subject) == ("attestation", release.platforms[0].digest)
    assert not any(graph[m.digest].rankable for m in release.children)
    assert (graph.count("index"), graph.children, graph.referrers) == (1, 4, 0)


def test_a_docker_manifest_list_lists_its_platform_images():
    release = docker_manifest_list("r1", "v1")
    graph = graph_of(*release.manifests)
    assert graph[release.index.digest].kind == "index"
    assert [graph[m.digest].kind for m in release.platforms] == ["platform", "platform"]


def test_a_child_whose_index_is_gone_is_an_ordinary_untagged_image():
    release = buildx_release("r1", "v1")
    graph = graph_of(*release.children)
    assert {graph[m.digest].kind for m in release.children} == {"image"}
    assert all(graph[m.digest].rankable for m in release.children)


def test_a_tagged_child_is_ranked_though_listed_by_an_index():
    release = buildx_release("r1", "v1")
    tagged = replace(release.platforms[0], tag="v1-amd64")
    graph = graph_of(tagged, release.index)
    assert graph[tagged.digest].parents == (release.index.digest,)
    assert graph[tagged.digest].rankable is True


def test_an_image_listed_by_two_indexes_has_both_as_parents():
    release = buildx_release("r1", "v1")
    again = replace(release.index, body={**release.index.body, "annotations": {"note": "again"}}, tag="v1-again")
    graph = graph_of(*release.manifests, again)
    assert set(graph[release.platforms[0].digest].parents) == {release.index.digest, again.digest}


def test_an_index_whose_manifest_was_not_read_lists_nothing():
    release = buildx_release("r1", "v1")
    graph = image_graph([m.image(NOW) for m in release.manifests], {}, [release.index.digest])
    assert graph.unread_indexes == (release.index.digest,)
    assert graph.children == 0


def test_an_oci_referrer_names_its_subject_and_a_cosign_tag_its_image():
    image = single_image("app", "v1")
    referrer, signature = oci_referrer(image), cosign_signature(image)
    graph = graph_of(image, referrer, signature)
    assert (graph[referrer.digest].kind, graph[referrer.digest].subject) == ("referrer", image.digest)
    assert (graph[signature.digest].kind, graph[signature.digest].subject) == ("signature", image.digest)
    assert graph[referrer.digest].rankable and graph[signature.digest].rankable
    assert graph.referrers == 2


def test_single_images_stand_alone():
    graph = graph_of(single_image("a", "v1"), single_image("b"))
    assert graph.children == 0 and graph.count("image") == 2
    assert {node.kind for node in graph} == {"image"}


def test_image_from_aws_reads_media_types_and_the_subject():
    detail = {
        "imageDigest": "sha256:abc",
        "imagePushedAt": NOW,
        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactMediaType": "application/vnd.cncf.notary.signature",
        "subjectManifestDigest": "sha256:def",
    }
    image = image_from_aws(detail)
    assert (image.media_type, image.artifact_media_type, image.subject) == (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.cncf.notary.signature",
        "sha256:def",
    )
    assert image.is_index is False
    assert image_from_aws({**detail, "imageManifestMediaType": "application/vnd.oci.image.index.v1+json"}).is_index


def test_a_short_digest_is_the_algorithm_and_twelve_hex_digits():
    assert short_digest("sha256:" + "0123456789abcdef" * 4) == "sha256:0123456789ab"
