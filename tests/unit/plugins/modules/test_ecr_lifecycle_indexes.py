"""ecr_lifecycle and ecr_repository's lifecycle option on the images CI really pushes, arranged in moto:
buildx releases (an OCI index, two platform manifests, two attestations), Docker manifest lists, orphaned
children, cosign signature tags, OCI referrers, archived indexes. For each: the preview, the guard, and a
rerun that makes no write."""

from __future__ import annotations

import json

import botocore.client
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecr.models import ecr_backends

from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr_lifecycle import EcrLifecycle
from ansible_collections.cloudops.ecr.plugins.modules import ecr_lifecycle, ecr_repository
from ansible_collections.cloudops.ecr.tests.helpers.lifecycle import (
    archive_in_moto,
    build_lifecycle_policy,
    buildx_release,
    cosign_signature,
    docker_manifest_list,
    moto_images,
    oci_referrer,
    push,
    single_image,
)
from ansible_collections.cloudops.ecr.tests.unit.plugins.modules.test_ecr_lifecycle import ROLE_DEFAULT, stored_policy

REPO = "example-org/app"
TAGGED_30_DAYS = [{"tag_patterns": ["*"], "keep_days": 30}]


@pytest.fixture
def ecr(aws):
    client = aws("ecr")
    client.create_repository(repositoryName=REPO)
    return client


def releases(ecr, count, first_days_ago, every_days=1.0, repository=REPO, make=buildx_release):
    made = []
    for n in range(count):
        release = make(f"{repository}-r{n}", f"v{n}")
        push(ecr, repository, release.manifests, days_ago=first_days_ago - n * every_days)
        made.append(release)
    return made


def orphans(ecr, count, first_days_ago, repository=REPO):
    made = [single_image(f"{repository}-orphan-{n}") for n in range(count)]
    for n, image in enumerate(made):
        push(ecr, repository, [image], days_ago=first_days_ago - n)
    return made


def digests(images):
    return [image["digest"] for image in images]


def assert_a_rerun_writes_nothing(run_module, api_calls, module, args):
    api_calls.clear()
    again = run_module(module, args)
    assert again.get("failed") is not True, again
    assert again["changed"] is False
    assert api_calls.writes == []
    assert api_calls.count("DescribeImages") == api_calls.count("BatchGetImage") == 0


# buildx releases: the must-show case ------------------------------------------------------------------
def test_the_role_default_on_twelve_buildx_releases_and_three_orphans_is_applied_and_lists_no_child(
    ecr, run_module, api_calls
):
    made = releases(ecr, 12, first_days_ago=12)
    lone = orphans(ecr, 3, first_days_ago=20)
    args = {"repositories": [REPO], "rules": ROLE_DEFAULT}
    api_calls.clear()
    result = run_module(ecr_lifecycle, args)
    assert result.get("failed") is not True, result  # the old preview refused: "41 of its 63 images (65.1%)"
    preview = result["repositories"][0]["preview"]
    children = {m.digest for release in made for m in release.children}
    assert not children & set(digests(preview["expire"]) + digests(preview["goes_with_index"]))
    summary = preview["summary"]
    assert (summary["images"], summary["rankable"], summary["expire"], summary["expire_percent"]) == (63, 15, 0, 0.0)
    assert (summary["indexes"], summary["children"], summary["referrers"]) == (12, 48, 0)
    assert preview["rules"][0]["selected"] == len(lone)  # the orphans are the untagged images rule 1 ranks
    assert preview["kinds"]["platform"] == {
        "images": 24,
        "kept": 24,
        "expire": 0,
        "transition": 0,
        "goes_with_index": 0,
    }
    assert stored_policy(ecr, REPO) == build_lifecycle_policy(ROLE_DEFAULT)
    assert api_calls.count("DescribeImages") == 1
    assert api_calls.count("BatchGetImage") == 1  # twelve indexes, one call
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


def test_diff_mode_shows_the_kinds_and_that_index_children_are_not_ranked(ecr, run_module):
    releases(ecr, 12, first_days_ago=12)
    orphans(ecr, 3, first_days_ago=20)
    result = run_module(ecr_lifecycle, {"repositories": [REPO], "rules": ROLE_DEFAULT}, check_mode=True, diff=True)
    prepared = result["diff"][0]["prepared"].splitlines()
    assert prepared[:2] == [
        "preview: 0 of 15 ranked images would expire (0.0%), 0 would be archived",
        "  63 images: 12 indexes, 24 platform manifests, 24 attestations, 3 single images; 15 ranked "
        "(the untagged images an index lists are not ranked while it stays)",
    ]
    assert "  rule 1 (keep the last 10 untagged images): 3 images, 0 expire" in prepared


def test_an_index_a_rule_expires_lists_its_children_as_going_with_it(ecr, run_module, api_calls):
    old, *_recent = releases(ecr, 3, first_days_ago=40, every_days=15)
    args = {"repositories": [REPO], "rules": ROLE_DEFAULT}
    result = run_module(ecr_lifecycle, args, diff=True)
    assert result.get("failed") is not True, result
    preview = result["repositories"][0]["preview"]
    assert digests(preview["expire"]) == [old.index.digest]
    going = preview["goes_with_index"]
    assert sorted(digests(going)) == sorted(m.digest for m in old.children)
    assert {image["goes_with"] for image in going} == {old.index.digest}
    assert {image["kind"] for image in going} == {"platform", "attestation"}
    assert all("goes with its index" in image["reason"] for image in going)
    assert preview["summary"]["expire_percent"] == 33.3  # 1 of 3 ranked images
    assert "      goes with it: 2 platform manifests (" in result["diff"][0]["prepared"]
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


def test_the_guard_counts_ranked_images_names_indexes_children_and_referrers_and_shows_the_preview(
    ecr, run_module, api_calls
):
    releases(ecr, 4, first_days_ago=60, every_days=12)  # 60, 48, 36 and 24 days old: three expire
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": [REPO], "rules": TAGGED_30_DAYS}, check_mode=True, diff=True)
    assert result["failed"] is True
    msg = result["msg"]
    assert f"{REPO} (repositories[0]): the new policy would expire 3 of its 4 ranked images (75.0%)" in msg
    assert "of its 20 images, 4 are indexes, 16 index children, not ranked while their index stays" in msg
    assert "and 0 referrers or signatures; 12 more would go with their index or subject" in msg
    # Ansible shows a failed task's message, not its diff: the preview is in the message too.
    assert f"\n\n{REPO} preview: 3 of 4 ranked images would expire (75.0%)" in msg
    assert "      goes with it: 2 platform manifests" in msg
    assert result["diff"][0]["prepared"] in msg
    assert api_calls.writes == []


# Docker manifest lists, orphans -------------------------------------------------------------------
def test_the_platform_images_of_docker_manifest_lists_are_kept_with_their_list(ecr, run_module, api_calls):
    made = releases(ecr, 3, first_days_ago=5, make=docker_manifest_list)
    args = {"repositories": [REPO], "rules": [{"tag_status": "untagged", "keep_last": 2}, *TAGGED_30_DAYS]}
    result = run_module(ecr_lifecycle, args)
    assert result.get("failed") is not True, result  # before: 4 of the 6 platform images listed as expiring
    preview = result["repositories"][0]["preview"]
    assert preview["expire"] == []
    assert preview["kinds"]["platform"]["kept"] == 6
    assert preview["rules"][0]["selected"] == 0
    assert {m.digest for r in made for m in r.platforms} <= {i.image_digest for i in moto_images(REPO)}
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


def test_the_children_of_a_deleted_index_are_ordinary_untagged_images(ecr, run_module, api_calls):
    gone, live = releases(ecr, 2, first_days_ago=10)
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": gone.index.digest}])
    args = {"repositories": [REPO], "rules": [{"tag_status": "untagged", "keep_last": 2}]}
    result = run_module(ecr_lifecycle, args)
    assert result.get("failed") is not True, result
    preview = result["repositories"][0]["preview"]
    expired = digests(preview["expire"])
    assert len(expired) == 2 and set(expired) <= {m.digest for m in gone.children}
    assert not set(expired) & {m.digest for m in live.manifests}
    assert (preview["summary"]["rankable"], preview["summary"]["children"]) == (5, 4)
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


# Signatures ------------------------------------------------------------------------------------
def test_cosign_signature_tags_are_tagged_images_and_the_preview_says_which_image_loses_its_signature(
    ecr, run_module, api_calls
):
    release, feature = single_image("release", "v1.0.0"), single_image("feature", "feature-x")
    push(ecr, REPO, [release, cosign_signature(release), feature, cosign_signature(feature)], days_ago=40)
    rules = [{"tag_patterns": ["v*"], "protect": True}, *TAGGED_30_DAYS]
    refused = run_module(ecr_lifecycle, {"repositories": [REPO], "rules": rules})
    assert refused["failed"] is True
    assert "3 of its 4 images (75.0%)" in refused["msg"]
    assert "2 referrers or signatures" in refused["msg"]
    args = {"repositories": [REPO], "rules": rules, "max_expire_percent": 80}
    result = run_module(ecr_lifecycle, args)
    preview = result["repositories"][0]["preview"]
    assert preview["kinds"]["signature"]["expire"] == 2
    lost = next(i for i in preview["expire"] if i["digest"] == cosign_signature(release).digest)
    assert lost["reason"].endswith("stays and loses this signature")
    assert preview["summary"]["protected"] == 1
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


def test_an_oci_signature_goes_with_the_image_it_signs_and_needs_no_manifest_read(ecr, run_module, api_calls):
    old, new = single_image("old", "v1"), single_image("new", "v2")
    push(ecr, REPO, [old, oci_referrer(old)], days_ago=40)
    push(ecr, REPO, [new, oci_referrer(new)], days_ago=5)
    args = {"repositories": [REPO], "rules": ROLE_DEFAULT}
    api_calls.clear()
    result = run_module(ecr_lifecycle, args)
    assert result.get("failed") is not True, result
    preview = result["repositories"][0]["preview"]
    assert digests(preview["expire"]) == [old.digest]
    assert digests(preview["goes_with_index"]) == [oci_referrer(old).digest]
    assert preview["goes_with_index"][0]["goes_with"] == old.digest
    assert "goes with its subject" in preview["goes_with_index"][0]["reason"]
    assert (preview["summary"]["rankable"], preview["summary"]["referrers"]) == (4, 2)
    assert api_calls.count("BatchGetImage") == 0  # no index in the repository
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


# Archive --------------------------------------------------------------------------------------
def test_an_archived_index_expires_with_its_archived_children(ecr, run_module, api_calls):
    old, recent = releases(ecr, 2, first_days_ago=500, every_days=200)
    archive_in_moto(REPO, [m.digest for m in old.manifests], days_ago=400)
    archive_in_moto(REPO, [m.digest for m in recent.manifests], days_ago=100)
    rules = [{"tag_status": "any", "delete_archived_after_days": 365}]
    args = {"repositories": [REPO], "rules": rules}
    # moto refuses every archive lifecycle feature AWS accepts: check mode shows the preview ...
    result = run_module(ecr_lifecycle, args, check_mode=True)
    assert result.get("failed") is not True, result
    preview = result["repositories"][0]["preview"]
    assert digests(preview["expire"]) == [old.index.digest]
    assert sorted(digests(preview["goes_with_index"])) == sorted(m.digest for m in old.children)
    assert preview["summary"]["expire_percent"] == 50.0  # of the 2 ranked images: the indexes
    # ... and a policy stored as AWS would hold it is left alone by a rerun.
    stored = json.dumps(result["repositories"][0]["policy"])
    ecr_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].repositories[REPO].lifecycle_policy = stored
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_lifecycle, args)


# Diffs shared by many repositories -------------------------------------------------------------
def test_repositories_with_the_same_lifecycle_diff_share_one_diff_entry(aws, run_module):
    ecr = aws("ecr")
    names = ["team/a", "team/b", "team/c", "team/d"]
    for name in names:
        ecr.create_repository(repositoryName=name)
    push(ecr, "team/d", [single_image("d", "v1")], days_ago=1)
    result = run_module(ecr_lifecycle, {"repositories": names, "rules": ROLE_DEFAULT}, check_mode=True, diff=True)
    headers = [d["before_header"] for d in result["diff"]]
    assert headers == ["3 repositories: team/a, team/b, team/c", "team/d"]
    assert result["diff"][0]["after"] == build_lifecycle_policy(ROLE_DEFAULT)
    assert len(result["repositories"]) == 4


def test_ecr_repository_groups_identical_repository_and_lifecycle_diffs(aws, run_module):
    names = ["team/a", "team/b", "team/c"]
    result = run_module(
        ecr_repository,
        {"repositories": [*names, {"name": "team/d", "scan_on_push": False}], "lifecycle": {"rules": ROLE_DEFAULT}},
        check_mode=True,
        diff=True,
    )
    assert [d["before_header"] for d in result["diff"]] == ["3 repositories: team/a, team/b, team/c", "team/d"]
    assert result["diff"][0]["after"]["lifecycle_policy"] == build_lifecycle_policy(ROLE_DEFAULT)


def test_ecr_repository_guard_in_check_and_diff_mode_shows_the_preview_in_its_message(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName=REPO)
    releases(ecr, 4, first_days_ago=60, every_days=12)
    api_calls.clear()
    result = run_module(
        ecr_repository, {"repositories": [REPO], "lifecycle": {"rules": TAGGED_30_DAYS}}, check_mode=True, diff=True
    )
    assert result["failed"] is True
    assert f"{REPO} preview: 3 of 4 ranked images would expire (75.0%)" in result["msg"]
    assert result["diff"][0]["prepared"] in result["msg"]
    assert api_calls.writes == []


# Immutable tags and CI ------------------------------------------------------------------------------
def test_immutable_tags_with_a_moving_latest_and_a_protected_build_cache(ecr, run_module, api_calls):
    """CI's two moving tags: ``latest`` and a buildx cache (``cache-to: type=registry,ref=...:buildcache``),
    both excluded from IMMUTABLE; a protect rule keeps the cache however old, the untagged images an index
    lists stay with it, and an old cache that was replaced is an ordinary untagged image."""
    # Arranged before the exclusions are set: moto 5.2.5 fails an untagged push into a repository with
    # exclusion filters (it matches the filters against a missing tag). A moved tag leaves the image it
    # left untagged on AWS (moto deletes it): the replaced cache is pushed untagged.
    replaced_cache, cache = single_image("cache-1"), single_image("cache-2", "buildcache")
    push(ecr, REPO, [replaced_cache], days_ago=90)
    push(ecr, REPO, [cache], days_ago=45)
    made = releases(ecr, 3, first_days_ago=3)
    newest = made[-1].index
    ecr.put_image(
        repositoryName=REPO,
        imageManifest=newest.text,
        imageManifestMediaType=newest.media_type,
        imageTag="latest",
        imageDigest=newest.digest,
    )
    rules = [{"tag_patterns": ["buildcache"], "protect": True}, *ROLE_DEFAULT]
    args = {
        "repositories": [REPO],
        "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
        "mutability_exclusions": ["latest", "buildcache"],
        "lifecycle": {"rules": rules},
    }
    checked = run_module(ecr_repository, args, check_mode=True, diff=True)
    assert checked.get("failed") is not True, checked
    preview = checked["repositories"][0]["lifecycle"]["preview"]
    assert preview["rules"][0] == {
        "rule_priority": 1,
        "description": "Protect images tagged buildcache from every later rule",
        "action": "protect",
        "words": "protected: images tagged buildcache, which no later rule expires or archives",
        "selected": 1,
        "expire": 0,
        "transition": 0,
        "goes_with_index": 0,
        "held": 0,
    }
    assert preview["expire"] == [] and preview["summary"]["protected"] == 1
    assert preview["rules"][1]["selected"] == 1  # the replaced cache, untagged; no index child
    assert preview["rules"][2]["selected"] == 3  # the releases, latest on the newest
    assert "1 protected" in preview["summary"]["text"]
    assert "rule 1 (protected: images tagged buildcache" in checked["diff"][0]["prepared"]
    assert checked["diff"][0]["after"]["mutability_exclusions"] == ["latest", "buildcache"]

    applied = run_module(ecr_repository, args)
    assert applied["repositories"][0]["changes"] == ["image_tag_mutability", "lifecycle_policy"]
    repo = ecr.describe_repositories(repositoryNames=[REPO])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert [f["filter"] for f in repo["imageTagMutabilityExclusionFilters"]] == ["latest", "buildcache"]
    assert stored_policy(ecr, REPO) == build_lifecycle_policy(rules)
    assert_a_rerun_writes_nothing(run_module, api_calls, ecr_repository, args)


# Reads ------------------------------------------------------------------------------------------------
def test_index_manifests_are_read_a_hundred_at_a_time(ecr, run_module, api_calls):
    for n in range(101):
        release = buildx_release(f"r{n}", f"v{n}", platforms=("linux/amd64",), provenance=False)
        push(ecr, REPO, release.manifests, days_ago=1)
    api_calls.clear()
    result = run_module(ecr_lifecycle, {"repositories": [REPO], "rules": ROLE_DEFAULT}, check_mode=True)
    assert result["repositories"][0]["preview"]["summary"]["children"] == 101
    assert api_calls.count("BatchGetImage") == 2


def test_an_index_gone_before_its_manifest_is_read_is_noted_in_the_preview(ecr, run_module, monkeypatch):
    release = buildx_release("r", "v1")
    push(ecr, REPO, release.manifests, days_ago=1)
    listed = EcrLifecycle.images

    def listed_then_deleted(self, name):
        images = listed(self, name)
        ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": release.index.digest}])
        return images

    monkeypatch.setattr(EcrLifecycle, "images", listed_then_deleted)
    result = run_module(ecr_lifecycle, {"repositories": [REPO], "rules": ROLE_DEFAULT}, check_mode=True)
    preview = result["repositories"][0]["preview"]
    assert preview["notes"] == [
        f"1 index manifests could not be read ({release.index.digest[:19]}): the images they list are counted "
        "as images of their own, so the preview may list more than AWS would expire"
    ]


def test_a_denied_manifest_read_fails_naming_the_repository_and_writes_nothing(ecr, run_module, api_calls, monkeypatch):
    push(ecr, REPO, buildx_release("r", "v1").manifests, days_ago=1)
    original = botocore.client.BaseClient._make_api_call

    def deny_batch_get_image(self, operation, params):
        if operation == "BatchGetImage":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deny_batch_get_image)
    result = run_module(ecr_lifecycle, {"repositories": [REPO], "rules": ROLE_DEFAULT})
    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to read the image indexes of {REPO}: ")
    assert stored_policy(ecr, REPO) is None
