"""The evaluator, preview and guard on the images CI really pushes: image indexes and what they list,
attestations, cosign signature tags and OCI referrers (AWS facts: REFERENCE.md, "Images that are not one
manifest")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_graph import image_graph
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_evaluate import (
    evaluate_lifecycle_policy,
    expire_summary,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    LifecycleSpec,
    guard_refusal,
    lifecycle_preview,
    preview_text,
)
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import (
    build_lifecycle_policy,
    buildx_release,
    cosign_signature,
    docker_manifest_list,
    index_manifests,
    oci_referrer,
    single_image,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ROLE_DEFAULT = [
    {"description": "Keep the last 10 untagged images", "tag_status": "untagged", "keep_last": 10},
    {"description": "Keep tagged images for 30 days", "tag_status": "tagged", "tag_patterns": ["*"], "keep_days": 30},
]
KEEP_2_UNTAGGED = [{"tag_status": "untagged", "keep_last": 2}]
TAGGED_30_DAYS = [{"tag_patterns": ["*"], "keep_days": 30}]


class Repository:
    """Manifests pushed at given ages; ``graph()`` is what the module reads (DescribeImages + index manifests)."""

    def __init__(self):
        self.images = []
        self.manifests = []

    def push(self, *manifests, days_ago: float, archived_days_ago: float | None = None):
        for offset, manifest in enumerate(manifests):
            # children are pushed a moment before their index, as buildx does
            pushed = NOW - timedelta(days=days_ago, seconds=len(manifests) - offset)
            if archived_days_ago is None:
                self.images.append(manifest.image(pushed))
            else:
                self.images.append(manifest.image(pushed, "archive", NOW - timedelta(days=archived_days_ago)))
            self.manifests.append(manifest)
        return self

    def releases(self, count: int, first_days_ago: float, every_days: float = 1.0, prefix: str = "v"):
        made = []
        for n in range(count):
            release = buildx_release(f"{prefix}{n}", f"{prefix}{n}")
            self.push(*release.manifests, days_ago=first_days_ago - n * every_days)
            made.append(release)
        return made

    def orphans(self, count: int, first_days_ago: float):
        made = [single_image(f"orphan-{n}") for n in range(count)]
        for n, image in enumerate(made):
            self.push(image, days_ago=first_days_ago - n)
        return made

    def graph(self):
        return image_graph(self.images, index_manifests(self.manifests))


def decisions_of(rules, repository):
    return evaluate_lifecycle_policy(build_lifecycle_policy(rules), repository.graph(), NOW)


def acted(decisions):
    return {d.digest: (d.action, d.rule_priority) for d in decisions}


# The must-show case ----------------------------------------------------------------------------------
def test_the_role_default_on_twelve_buildx_releases_and_three_orphans_expires_no_child_and_passes_the_guard():
    repository = Repository()
    releases = repository.releases(12, first_days_ago=20)
    orphans = repository.orphans(3, first_days_ago=25)
    preview = lifecycle_preview(build_lifecycle_policy(ROLE_DEFAULT), repository.graph(), NOW)
    children = {m.digest for release in releases for m in release.children}
    listed = {image["digest"] for action in ("expire", "transition", "goes_with_index") for image in preview[action]}
    assert listed.isdisjoint(children)
    assert preview["summary"] | {"text": None} == {
        "images": 63,
        "rankable": 15,
        "expire": 0,
        "transition": 0,
        "goes_with_index": 0,
        "keep": 63,
        "expire_percent": 0.0,
        "protected": 0,
        "indexes": 12,
        "children": 48,
        "referrers": 0,
        "text": None,
    }
    assert preview["rules"][0]["selected"] == len(orphans)  # the orphans are the untagged images the rule ranks
    assert preview["rules"][1]["selected"] == 12
    assert guard_refusal(LifecycleSpec("app", "repositories[0]", None, 50), preview) is None


def test_beyond_ten_orphans_only_orphans_expire_never_a_child_of_a_live_index():
    repository = Repository()
    releases = repository.releases(12, first_days_ago=20)
    orphans = repository.orphans(14, first_days_ago=40)
    decisions = decisions_of(ROLE_DEFAULT, repository)
    assert [d.digest for d in decisions] == [o.digest for o in orphans[:4]]
    assert {d.reason.split(",")[0] for d in decisions} == {"untagged"}
    assert not {d.digest for d in decisions} & {m.digest for r in releases for m in r.children}


def test_aws_measured_case_the_children_of_a_live_index_are_not_ranked():
    # get-lifecycle-policy-preview on AWS (DefangLabs/pulumi-defang#466): 26 pushed, "24 rankable".
    repository = Repository()
    repository.push(*buildx_release("multi", "v1", platforms=("linux/amd64",)).manifests, days_ago=30)
    repository.orphans(23, first_days_ago=29)
    graph = repository.graph()
    decisions = evaluate_lifecycle_policy(build_lifecycle_policy(KEEP_2_UNTAGGED), graph, NOW)
    assert (expire_summary(decisions, graph)["images"], expire_summary(decisions, graph)["rankable"]) == (26, 24)
    assert len(decisions) == 21
    assert decisions[0].reason == "untagged, 23rd newest of 23 untagged images; rule 1 keeps the last 2"


# Indexes that expire, and what goes with them -------------------------------------------------------
def test_an_index_a_rule_expires_takes_its_children_with_it():
    repository = Repository()
    old, new = repository.releases(2, first_days_ago=40, every_days=20)
    decisions = decisions_of(TAGGED_30_DAYS, repository)
    assert acted(decisions) == {
        old.index.digest: ("expire", 1),
        **{m.digest: ("goes_with_index", 1) for m in old.children},
    }
    index = next(d for d in decisions if d.digest == old.index.digest)
    assert index.reason == (
        "index tagged v0, pushed 40 days ago; rule 1 expires images tagged * after 30 days; 4 images go with it"
    )
    child = next(d for d in decisions if d.digest == old.platforms[0].digest)
    assert child.goes_with == old.index.digest and child.kind == "platform"
    assert child.reason.startswith(
        f"untagged platform manifest linux/amd64 listed by index {old.index.digest[:19]} (tagged v0), "
        "which rule 1 expires: goes with its index (whether ECR deletes it at once"
    )
    attestation = next(d for d in decisions if d.digest == old.attestations[0].digest)
    assert attestation.kind == "attestation" and attestation.goes_with == old.index.digest
    assert not {d.digest for d in decisions} & {m.digest for m in new.manifests}


def test_the_guard_measures_the_ranked_images_and_the_children_going_with_an_index_are_counted_apart():
    repository = Repository()
    repository.releases(4, first_days_ago=40, every_days=7)  # 40, 33, 26 and 19 days old: two expire
    preview = lifecycle_preview(build_lifecycle_policy(TAGGED_30_DAYS), repository.graph(), NOW)
    summary = preview["summary"]
    assert (summary["expire"], summary["rankable"], summary["expire_percent"]) == (2, 4, 50.0)
    assert summary["goes_with_index"] == 8
    assert summary["keep"] == 20 - 2 - 8
    assert preview["kinds"]["index"] == {"images": 4, "kept": 2, "expire": 2, "transition": 0, "goes_with_index": 0}
    assert preview["kinds"]["platform"]["goes_with_index"] == 4
    refusal = guard_refusal(LifecycleSpec("app", "repositories[0]", None, 40), preview)
    assert refusal == (
        "app (repositories[0]): the new policy would expire 2 of its 4 ranked images (50.0%), more than "
        "max_expire_percent 40% (of its 20 images, 4 are indexes, 16 index children, not ranked while their "
        "index stays, and 0 referrers or signatures; 8 more would go with their index or subject)"
    )


def test_a_docker_manifest_list_is_an_index_too():
    repository = Repository()
    old = docker_manifest_list("old", "v0")
    repository.push(*old.manifests, days_ago=40)
    orphans = repository.orphans(3, first_days_ago=50)
    decisions = decisions_of([{"tag_status": "untagged", "keep_last": 1}, *TAGGED_30_DAYS], repository)
    assert acted(decisions) == {
        **{orphan.digest: ("expire", 1) for orphan in orphans[:2]},
        old.index.digest: ("expire", 2),
        **{m.digest: ("goes_with_index", 2) for m in old.platforms},
    }
    index = next(d for d in decisions if d.digest == old.index.digest)
    assert index.reason.startswith("manifest list tagged v0, pushed 40 days ago")


def test_an_orphan_child_is_an_ordinary_untagged_image():
    repository = Repository()
    gone = buildx_release("gone", "v0")
    repository.push(*gone.children, days_ago=10)  # its index was deleted
    live = repository.releases(1, first_days_ago=5)[0]
    decisions = decisions_of(KEEP_2_UNTAGGED, repository)
    assert [d.digest for d in decisions] == [m.digest for m in gone.children[:2]]
    assert not {d.digest for d in decisions} & {m.digest for m in live.manifests}


def test_an_image_listed_by_two_indexes_stays_while_either_stays():
    repository = Repository()
    release = buildx_release("r", "v1")
    retagged = replace(release.index, body={**release.index.body, "annotations": {"n": "2"}}, tag="stable")
    repository.push(*release.manifests, days_ago=40).push(retagged, days_ago=1)
    decisions = decisions_of(TAGGED_30_DAYS, repository)
    assert acted(decisions) == {release.index.digest: ("expire", 1)}


def test_a_tagged_child_a_rule_selects_is_held_by_the_index_that_stays():
    repository = Repository()
    release = buildx_release("r", "v1")
    tagged = replace(release.platforms[0], tag="v1-amd64")
    repository.push(tagged, *release.platforms[1:], *release.attestations, release.index, days_ago=10)
    rules = [{"tag_prefixes": ["v1-"], "keep_days": 5}]
    decisions = decisions_of(rules, repository)
    assert acted(decisions) == {tagged.digest: ("held", 1)}
    assert decisions[0].reason.endswith(
        f"but index {release.index.digest[:19]} (tagged v1) lists it and stays: AWS does not expire an image "
        "before the index that lists it"
    )
    preview = lifecycle_preview(build_lifecycle_policy(rules), repository.graph(), NOW)
    assert preview["summary"]["expire"] == 0 and preview["held"][0]["digest"] == tagged.digest


def test_a_tagged_child_expires_by_its_own_rule_when_its_index_goes_too():
    repository = Repository()
    release = buildx_release("r", "v1")
    tagged = replace(release.platforms[0], tag="v1-amd64")
    repository.push(tagged, *release.platforms[1:], *release.attestations, release.index, days_ago=40)
    decisions = decisions_of(TAGGED_30_DAYS, repository)
    assert acted(decisions)[tagged.digest] == ("expire", 1)
    assert acted(decisions)[release.platforms[1].digest] == ("goes_with_index", 1)


def test_a_protected_index_keeps_its_children_and_reads_protected():
    repository = Repository()
    release = repository.releases(1, first_days_ago=400)[0]
    rules = [{"tag_patterns": ["v*"], "protect": True}, *ROLE_DEFAULT]
    preview = lifecycle_preview(build_lifecycle_policy(rules), repository.graph(), NOW)
    assert preview["expire"] == [] and preview["goes_with_index"] == []
    assert preview["summary"]["protected"] == 1
    protect = preview["rules"][0]
    assert (protect["action"], protect["selected"]) == ("protect", 1)
    assert protect["words"] == "protected: images tagged v*, which no later rule expires or archives"
    text = preview_text(preview)
    assert "  rule 1 (protected: images tagged v*, which no later rule expires or archives): 1 image protected" in text
    assert "999999" not in text and release.index.digest not in text


# Referrers and signatures ---------------------------------------------------------------------------
def test_an_oci_signature_goes_with_the_image_it_signs():
    repository = Repository()
    image = single_image("app", "v1")
    signature = oci_referrer(image)
    repository.push(image, signature, days_ago=40)
    decisions = decisions_of(ROLE_DEFAULT, repository)
    assert acted(decisions) == {image.digest: ("expire", 2), signature.digest: ("goes_with_index", 2)}
    going = next(d for d in decisions if d.digest == signature.digest)
    assert going.goes_with == image.digest and going.kind == "referrer"
    assert going.reason == (
        f"signature referrer of image {image.digest[:19]} (tagged v1), which rule 2 expires: goes with its subject "
        "(ECR removes referrers within 24 hours of their subject)"
    )


def test_the_signature_of_an_index_goes_with_the_index_and_its_children():
    repository = Repository()
    release = buildx_release("r", "v1")
    signature = oci_referrer(release.index)
    repository.push(*release.manifests, signature, days_ago=40)
    decisions = decisions_of(ROLE_DEFAULT, repository)
    assert acted(decisions)[signature.digest] == ("goes_with_index", 2)
    assert next(d for d in decisions if d.digest == release.index.digest).reason.endswith("5 images go with it")


def test_a_referrer_whose_subject_stays_is_ranked_like_an_untagged_image_and_says_it_is_not_documented():
    repository = Repository()
    signed = [single_image(f"app{n}", f"v{n}") for n in range(3)]
    for n, image in enumerate(signed):
        repository.push(image, oci_referrer(image), days_ago=10 - n)
    decisions = decisions_of(KEEP_2_UNTAGGED, repository)
    assert [d.digest for d in decisions] == [oci_referrer(signed[0]).digest]
    assert decisions[0].reason.endswith(
        "rule 1 keeps the last 2; its subject stays: AWS counts referrers against the rules like images "
        "(containers-roadmap#2613; not documented)"
    )


def test_a_cosign_signature_tag_is_an_ordinary_tagged_image_that_can_outlive_or_lose_its_image():
    repository = Repository()
    release, other = single_image("rel", "v1.0.0"), single_image("feature", "feature-x")
    repository.push(release, cosign_signature(release), other, cosign_signature(other), days_ago=40)
    rules = [{"tag_patterns": ["v*"], "protect": True}, *TAGGED_30_DAYS]
    decisions = decisions_of(rules, repository)
    assert acted(decisions) == {
        cosign_signature(release).digest: ("expire", 2),
        other.digest: ("expire", 2),
        cosign_signature(other).digest: ("expire", 2),
    }
    lost = next(d for d in decisions if d.digest == cosign_signature(release).digest)
    assert lost.kind == "signature"
    assert lost.reason.startswith(f"cosign signature of {release.digest[:19]}, pushed 40 days ago; rule 2 expires")
    assert lost.reason.endswith(f"; the image it signs ({release.digest[:19]}) stays and loses this signature")


# Archive storage class ------------------------------------------------------------------------------
def test_an_archived_index_keeps_its_archived_children_out_of_the_ranking_and_takes_them_when_it_expires():
    repository = Repository()
    old, recent = buildx_release("old", "v0"), buildx_release("recent", "v1")
    repository.push(*old.manifests, days_ago=500, archived_days_ago=400)
    repository.push(*recent.manifests, days_ago=300, archived_days_ago=100)
    rules = [{"tag_status": "any", "delete_archived_after_days": 365}]
    decisions = decisions_of(rules, repository)
    assert acted(decisions) == {
        old.index.digest: ("expire", 1),
        **{m.digest: ("goes_with_index", 1) for m in old.children},
    }
    assert next(d for d in decisions if d.digest == old.index.digest).reason.startswith(
        "index tagged v0, archived 400 days ago; rule 1 expires archived images after 365 days"
    )


def test_an_index_an_archive_rule_moves_is_counted_as_moving_with_its_children():
    repository = Repository()
    release = repository.releases(1, first_days_ago=200)[0]
    decisions = decisions_of([{"tag_status": "any", "archive_after_days": 90}], repository)
    assert acted(decisions) == {m.digest: ("transition", 1) for m in release.manifests}
    child = next(d for d in decisions if d.digest == release.platforms[0].digest)
    assert child.goes_with == release.index.digest
    assert "counted as archived with it (whether AWS archives the images an index lists with it is not documented)" in (
        child.reason
    )


def test_an_unread_index_leaves_its_children_counted_as_untagged_images_and_the_preview_says_so():
    repository = Repository()
    release = repository.releases(1, first_days_ago=5)[0]
    graph = image_graph(repository.images, {}, [release.index.digest])
    preview = lifecycle_preview(build_lifecycle_policy([{"tag_status": "untagged", "keep_last": 1}]), graph, NOW)
    assert len(preview["expire"]) == 3
    assert preview["notes"][0].startswith("1 index manifests could not be read")


# The preview as text ----------------------------------------------------------------------------------
def test_the_preview_text_counts_by_kind_and_lists_each_rule_with_what_goes_with_its_images():
    repository = Repository()
    old, _new = repository.releases(2, first_days_ago=40, every_days=20)
    repository.orphans(1, first_days_ago=3)
    text = preview_text(lifecycle_preview(build_lifecycle_policy(ROLE_DEFAULT), repository.graph(), NOW), limit=2)
    lines = text.splitlines()
    assert lines[:6] == [
        "preview: 1 of 3 ranked images would expire (33.3%), 0 would be archived, 4 go with their index",
        "  11 images: 2 indexes, 4 platform manifests, 4 attestations, 1 single image; 3 ranked "
        "(the untagged images an index lists are not ranked while it stays)",
        "  kept: 1 index, 2 platform manifests, 2 attestations, 1 single image",
        "  expire: 1 index",
        "  go with their index: 2 platform manifests, 2 attestations",
        "  rule 1 (keep the last 10 untagged images): 1 image, 0 expire",
    ]
    assert lines[6] == "  rule 2 (expire images tagged * 30 days after push): 2 images, 1 expire, 4 go with them"
    assert lines[7].startswith(f"    expire {old.index.digest}: index tagged v0, pushed 40 days ago")
    platforms = ", ".join(m.digest[:19] for m in old.platforms)
    attestations = ", ".join(m.digest[:19] for m in old.attestations)
    assert lines[8] == f"      goes with it: 2 platform manifests ({platforms}), 2 attestations ({attestations})"
    assert len(lines) == 9
