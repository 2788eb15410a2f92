"""ecr_repository against moto: what moto holds after each run is the assertion."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr import EcrRegistry
from ansible_collections.cloudops.ecr.plugins.modules import ecr_repository


def describe(ecr, name):
    return ecr.describe_repositories(repositoryNames=[name])["repositories"][0]


def names_in(ecr):
    return sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])


def tags_of(ecr, name):
    arn = describe(ecr, name)["repositoryArn"]
    return {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}


def test_new_repositories_are_created_immutable_and_scanned_by_default(aws, run_module):
    ecr = aws("ecr")
    result = run_module(ecr_repository, {"repositories": ["example-org/app", {"name": "tools"}]})
    assert result["changed"] is True
    assert names_in(ecr) == ["example-org/app", "tools"]
    repo = describe(ecr, "example-org/app")
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["encryptionConfiguration"]["encryptionType"] == "AES256"
    first = result["repositories"][0]
    assert first["name"] == "example-org/app"
    assert first["arn"] == repo["repositoryArn"]
    assert first["uri"] == repo["repositoryUri"]
    assert first["registry_id"] == repo["registryId"]
    assert first["changes"] == ["created"]


def test_unchanged_rerun_makes_no_write_call(aws, run_module, api_calls):
    args = {"repositories": [f"svc-{i:02d}" for i in range(20)], "tags": {"team": "platform"}}
    run_module(ecr_repository, args)
    api_calls.clear()
    result = run_module(ecr_repository, args)
    assert result["changed"] is False
    assert api_calls.writes == []
    # one listing for the registry, then tags per repository
    assert api_calls.count("DescribeRepositories") == 1
    assert len(api_calls.reads) <= 1 + 20


def test_per_repository_override_wins_over_shared_setting(aws, run_module):
    ecr = aws("ecr")
    run_module(
        ecr_repository,
        {
            "repositories": ["app", {"name": "sandbox", "image_tag_mutability": "MUTABLE"}],
            "image_tag_mutability": "IMMUTABLE",
        },
    )
    assert describe(ecr, "app")["imageTagMutability"] == "IMMUTABLE"
    assert describe(ecr, "sandbox")["imageTagMutability"] == "MUTABLE"


def test_left_out_options_leave_existing_settings_alone(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="legacy", imageTagMutability="MUTABLE")
    ecr.put_image_scanning_configuration(repositoryName="legacy", imageScanningConfiguration={"scanOnPush": True})
    api_calls.clear()
    result = run_module(ecr_repository, {"repositories": ["legacy"]})
    assert result["changed"] is False
    assert api_calls.writes == []
    repo = describe(ecr, "legacy")
    assert repo["imageTagMutability"] == "MUTABLE"
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True


def test_changed_settings_are_updated_in_place(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="app", imageTagMutability="MUTABLE")
    result = run_module(
        ecr_repository, {"repositories": ["app"], "image_tag_mutability": "IMMUTABLE", "scan_on_push": True}
    )
    assert result["repositories"][0]["changes"] == ["image_tag_mutability", "scan_on_push"]
    repo = describe(ecr, "app")
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True


def test_tags_are_added_changed_and_purged(aws, run_module):
    ecr = aws("ecr")
    run_module(ecr_repository, {"repositories": ["app"], "tags": {"team": "a", "old": "x"}})
    run_module(ecr_repository, {"repositories": ["app"], "tags": {"team": "b", "env": "dev"}})
    assert tags_of(ecr, "app") == {"team": "b", "env": "dev"}


def test_tags_are_kept_when_purge_tags_is_false(aws, run_module):
    ecr = aws("ecr")
    run_module(ecr_repository, {"repositories": ["app"], "tags": {"team": "a", "old": "x"}})
    run_module(ecr_repository, {"repositories": ["app"], "tags": {"team": "a"}, "purge_tags": False})
    assert tags_of(ecr, "app") == {"team": "a", "old": "x"}


def test_access_builds_a_policy_and_reordering_is_not_a_change(aws, run_module, api_calls):
    ecr = aws("ecr")
    access = {"pull": ["111122223333", "arn:aws:iam::444455556666:role/ci"], "organizations": ["o-a1b2c3d4e5"]}
    run_module(ecr_repository, {"repositories": ["app"], "access": access})
    stored = json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"])
    assert stored["Statement"][0]["Principal"]["AWS"] == ["111122223333", "arn:aws:iam::444455556666:role/ci"]
    assert stored["Statement"][1]["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ["o-a1b2c3d4e5"]
    api_calls.clear()
    reordered = {"pull": list(reversed(access["pull"])), "organizations": access["organizations"]}
    result = run_module(ecr_repository, {"repositories": ["app"], "access": reordered})
    assert result["changed"] is False
    assert "SetRepositoryPolicy" not in api_calls.writes


def test_raw_policy_as_json_text_is_set_and_empty_dict_removes_it(aws, run_module):
    ecr = aws("ecr")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "ecr:BatchGetImage"}
        ],
    }
    run_module(ecr_repository, {"repositories": ["app"], "policy": json.dumps(policy)})
    assert json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"]) == policy
    result = run_module(ecr_repository, {"repositories": ["app"], "policy": {}})
    assert result["repositories"][0]["changes"] == ["policy"]
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(repositoryName="app")


@pytest.mark.parametrize(
    ("bad_name", "named"),
    [("Bad_Name", "Bad_Name"), ("a" * 257, "257 characters"), ("a//b", "a//b"), ("a___b", "a___b"), ("-a", "-a")],
)
def test_invalid_name_fails_and_nothing_is_created(aws, run_module, api_calls, bad_name, named):
    ecr = aws("ecr")
    result = run_module(ecr_repository, {"repositories": ["valid-one", bad_name, "valid-two"]})
    assert result["failed"] is True
    assert named in result["msg"]
    assert "repositories[1]" in result["msg"]
    assert api_calls.calls == []
    assert names_in(ecr) == []


@pytest.mark.parametrize("good_name", ["a__b", "a---b", "example-org/app.web", "ab"])
def test_names_aws_accepts_pass_validation_in_check_mode(aws, run_module, good_name):
    # moto rejects a__b and a---b although AWS accepts them: check mode proves our validator does not.
    result = run_module(ecr_repository, {"repositories": [good_name]}, check_mode=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True


def test_every_problem_is_reported_at_once(aws, run_module):
    result = run_module(
        ecr_repository,
        {
            "repositories": ["Bad", {"name": "ok", "mutability_exclusions": ["latest"]}, "ok"],
            "access": {"push": ["*"]},
        },
    )
    assert result["failed"] is True
    paths = {p["path"] for p in result["problems"]}
    assert paths == {"repositories[0]", "repositories[1].mutability_exclusions", "repositories[2]", "access.push[0]"}


def test_check_mode_makes_no_write_and_reports_changes(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="existing", imageTagMutability="MUTABLE")
    api_calls.clear()
    result = run_module(
        ecr_repository, {"repositories": ["existing", "new-one"], "image_tag_mutability": "IMMUTABLE"}, check_mode=True
    )
    assert result["changed"] is True
    assert api_calls.writes == []
    assert names_in(ecr) == ["existing"]
    assert describe(ecr, "existing")["imageTagMutability"] == "MUTABLE"
    assert [r["changes"] for r in result["repositories"]] == [["image_tag_mutability"], ["created"]]


def test_diff_shows_before_and_after_per_repository(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="app", imageTagMutability="MUTABLE")
    result = run_module(
        ecr_repository, {"repositories": ["app", "new"], "image_tag_mutability": "IMMUTABLE"}, diff=True
    )
    diffs = {d["before_header"]: d for d in result["diff"]}
    assert diffs["app"]["before"]["image_tag_mutability"] == "MUTABLE"
    assert diffs["app"]["after"]["image_tag_mutability"] == "IMMUTABLE"
    assert diffs["new"]["before"] == {}
    assert diffs["new"]["after"]["scan_on_push"] is True


def test_encryption_change_is_reported_never_attempted(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="app")
    api_calls.clear()
    result = run_module(ecr_repository, {"repositories": ["app"], "encryption_type": "KMS"})
    assert result["failed"] is True
    assert "repositories[0].encryption_type" in result["msg"]
    assert "cannot change encryption" in result["msg"]
    assert api_calls.writes == []
    assert describe(ecr, "app")["encryptionConfiguration"]["encryptionType"] == "AES256"


def test_same_aes256_encryption_is_not_a_change(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="app", encryptionConfiguration={"encryptionType": "AES256"})
    api_calls.clear()
    result = run_module(ecr_repository, {"repositories": ["app"], "encryption_type": "AES256"})
    assert result["changed"] is False
    assert api_calls.writes == []


def test_kms_alias_compares_equal_to_the_key_arn_aws_reports(aws, run_module):
    kms = aws("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/ecr", TargetKeyId=key["KeyId"])
    ecr = aws("ecr")
    ecr.create_repository(
        repositoryName="secure", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key["Arn"]}
    )
    result = run_module(ecr_repository, {"repositories": ["secure"], "encryption_type": "KMS", "kms_key": "alias/ecr"})
    assert result.get("failed") is not True, result
    assert result["changed"] is False


def test_repositories_not_listed_are_left_alone_and_reported(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="someone-elses")
    result = run_module(ecr_repository, {"repositories": ["mine"]})
    assert result["unmanaged"] == ["someone-elses"]
    assert names_in(ecr) == ["mine", "someone-elses"]


def push_image(ecr, name, tag):
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": f"sha256:{tag:0>64}"},
            "layers": [],
        }
    )
    ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag=tag)


def test_absent_refuses_a_repository_holding_images_without_force(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="busy")
    ecr.create_repository(repositoryName="empty")
    push_image(ecr, "busy", "v1")
    api_calls.clear()
    result = run_module(ecr_repository, {"repositories": ["empty", "busy"], "state": "absent"})
    assert result["failed"] is True
    assert "busy" in result["msg"] and "force" in result["msg"]
    assert api_calls.writes == []
    assert names_in(ecr) == ["busy", "empty"]


def test_absent_with_force_deletes_repositories_and_images(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="busy")
    push_image(ecr, "busy", "v1")
    result = run_module(ecr_repository, {"repositories": ["busy", "never-existed"], "state": "absent", "force": True})
    assert [r["changes"] for r in result["repositories"]] == [["deleted"], []]
    assert names_in(ecr) == []


def test_absent_in_check_mode_deletes_nothing(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="old")
    api_calls.clear()
    result = run_module(ecr_repository, {"repositories": ["old"], "state": "absent"}, check_mode=True)
    assert result["changed"] is True
    assert api_calls.writes == []
    assert names_in(ecr) == ["old"]


# --- errors: AWS refusals are failures, bugs are tracebacks -------------------------------------


def test_an_aws_refusal_fails_the_module_naming_what_was_being_done(aws, run_module, monkeypatch):
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def denied(self, operation, params):
        if operation == "DescribeRepositories":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not for you"}}, operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", denied)
    result = run_module(ecr_repository, {"repositories": ["example-org/app"]})
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to list the repositories of the ECR registry: ")
    assert "AccessDeniedException" in result["msg"]
    assert result["error"]["code"] == "AccessDeniedException"


def test_a_bug_surfaces_as_a_traceback_never_as_an_aws_failure(aws, run_module, monkeypatch):
    def broken(self):
        return {"app": {"repositoryName": "app"}}  # no repositoryArn: the code that reads it fails

    monkeypatch.setattr(EcrRegistry, "list_repositories", broken)
    with pytest.raises(KeyError, match="repositoryArn"):
        run_module(ecr_repository, {"repositories": ["app"], "tags": {"team": "a"}})


# --- the membership tag: in the registry, and out of it -------------------------------------------

MEMBERSHIP = {"key": "cloudops.ecr/registry", "value": "main"}


def test_listed_repositories_carry_the_membership_tag_and_an_unlisted_one_loses_only_it(aws, run_module, api_calls):
    ecr = aws("ecr")
    args = {"repositories": ["example-org/app", "example-org/old"], "tags": {"team": "a"}, "membership_tag": MEMBERSHIP}
    run_module(ecr_repository, args)
    assert tags_of(ecr, "example-org/old") == {"team": "a", "cloudops.ecr/registry": "main"}
    ecr.create_repository(repositoryName="someone-else", tags=[{"Key": "cloudops.ecr/registry", "Value": "other"}])

    preview = run_module(ecr_repository, {**args, "repositories": ["example-org/app"]}, check_mode=True, diff=True)
    assert preview["membership_removed"] == ["example-org/old"]
    assert tags_of(ecr, "example-org/old")["cloudops.ecr/registry"] == "main"

    api_calls.clear()
    result = run_module(ecr_repository, {**args, "repositories": ["example-org/app"]}, diff=True)
    assert result["changed"] is True and result["membership_removed"] == ["example-org/old"]
    assert api_calls.writes == ["UntagResource"]
    assert tags_of(ecr, "example-org/old") == {"team": "a"}
    assert tags_of(ecr, "someone-else") == {"cloudops.ecr/registry": "other"}
    shown = next(d for d in result["diff"] if d["before_header"] == "example-org/old")
    assert "loses tag cloudops.ecr/registry=main" in shown["prepared"]
    rerun = run_module(ecr_repository, {**args, "repositories": ["example-org/app"]})
    assert rerun["changed"] is False and rerun["membership_removed"] == []


def test_the_membership_tag_is_kept_on_repositories_whose_tags_are_not_managed(aws, run_module):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="tools", tags=[{"Key": "owner", "Value": "ops"}])
    run_module(ecr_repository, {"repositories": ["tools"], "membership_tag": MEMBERSHIP})
    assert tags_of(ecr, "tools") == {"owner": "ops", "cloudops.ecr/registry": "main"}


def test_tags_giving_the_membership_key_another_value_are_refused(aws, run_module):
    result = run_module(
        ecr_repository,
        {"repositories": ["tools"], "tags": {"cloudops.ecr/registry": "mine"}, "membership_tag": MEMBERSHIP},
    )
    assert result["failed"] is True
    assert "tags.cloudops.ecr/registry: is the membership tag: it must be 'main'" in result["msg"]


def test_access_replaces_only_its_own_statements_and_keeps_other_owners_grants(aws, run_module):
    ecr = aws("ecr")
    run_module(ecr_repository, {"repositories": ["app"], "access": {"pull": ["111122223333"]}})
    theirs = {
        "Sid": "EnvironmentDevPull",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222233334444:root"},
        "Action": ["ecr:BatchGetImage"],
    }
    policy = json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"])
    ecr.set_repository_policy(
        repositoryName="app", policyText=json.dumps({**policy, "Statement": [*policy["Statement"], theirs]})
    )

    assert (
        run_module(ecr_repository, {"repositories": ["app"], "access": {"pull": ["111122223333"]}})["changed"] is False
    )
    run_module(ecr_repository, {"repositories": ["app"], "access": {"pull": ["555566667777"]}})
    statements = json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"])["Statement"]
    assert {s["Sid"] for s in statements} == {"AllowPull", "EnvironmentDevPull"}
    assert next(s for s in statements if s["Sid"] == "AllowPull")["Principal"] == {"AWS": ["555566667777"]}


def test_a_raw_policy_replaces_the_whole_document(aws, run_module):
    ecr = aws("ecr")
    run_module(ecr_repository, {"repositories": ["app"], "access": {"pull": ["111122223333"]}})
    raw = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Only", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "ecr:BatchGetImage"}
        ],
    }
    run_module(ecr_repository, {"repositories": [{"name": "app", "policy": raw}], "access": {"pull": ["111122223333"]}})
    statements = json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"])["Statement"]
    assert [s["Sid"] for s in statements] == ["Only"]
