# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecr_registry_settings against moto: the scanning and replication configuration moto holds after each
run is the assertion. Settings someone else wrote are arranged directly in moto, as the console would."""

from __future__ import annotations

import pytest
from moto.ecr.exceptions import ValidationException
from moto.ecr.models import ECRBackend

from ansible_collections.cloudops.ecr.plugins.modules import ecr_registry_settings

ACCOUNT = "123456789012"  # moto's default account: the registry's
OTHER_ACCOUNT = "222222222222"
REGION = "eu-west-1"  # the registry's (conftest)
WRITES = ("PutRegistryScanningConfiguration", "PutReplicationConfiguration")


def scanning_of(ecr) -> dict:
    configuration = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
    return {
        "scanType": configuration["scanType"],
        "rules": {
            r["scanFrequency"]: sorted(f["filter"] for f in r["repositoryFilters"]) for r in configuration["rules"]
        },
    }


def replication_of(ecr) -> list[dict]:
    return ecr.describe_registry()["replicationConfiguration"]["rules"]


def wildcard(*filters: str) -> list[dict]:
    return [{"filter": f, "filterType": "WILDCARD"} for f in filters]


def prefix(*filters: str) -> list[dict]:
    return [{"filter": f, "filterType": "PREFIX_MATCH"} for f in filters]


def scan_on_push(*filters: str) -> dict:
    return {"frequency": "SCAN_ON_PUSH", "filters": list(filters)}


def to_region(region: str, *filters: str) -> dict:
    rule = {"destinations": [{"region": region}]}
    return {**rule, "filters": list(filters)} if filters else rule


THEIR_RULE = {
    "destinations": [{"region": "ap-southeast-2", "registryId": ACCOUNT}],
    "repositoryFilters": prefix("legacy"),
}


@pytest.fixture(autouse=True)
def replication_rules_as_aws(monkeypatch):
    """moto 5.2.5 refuses a second replication rule ("This feature is disabled"), as AWS did until late 2021;
    AWS now takes 10 (our rules check the limits). moto's own checks still run, one rule at a time."""
    one_rule_at_a_time = ECRBackend.put_replication_configuration

    def put_replication_configuration(self, replication_config):
        for rule in replication_config["rules"]:
            one_rule_at_a_time(self, {"rules": [rule]})
        self.replication_config = replication_config
        return {"replicationConfiguration": replication_config}

    monkeypatch.setattr(ECRBackend, "put_replication_configuration", put_replication_configuration)


# --- scanning ---------------------------------------------------------------------------------------


def test_basic_scan_on_push_for_our_filters_is_written(aws, run_module):
    ecr = aws("ecr")
    result = run_module(ecr_registry_settings, {"scanning": {"rules": [scan_on_push("example-org/*", "tools")]}})
    assert result["changed"] is True
    assert result["changes"] == ["scanning"]
    assert result["registry_id"] == ACCOUNT
    assert scanning_of(ecr) == {"scanType": "BASIC", "rules": {"SCAN_ON_PUSH": ["example-org/*", "tools"]}}


def test_enhanced_continuous_and_scan_on_push_rules_are_written_with_their_filters(aws, run_module):
    ecr = aws("ecr")
    scanning = {
        "scan_type": "ENHANCED",
        "rules": [{"frequency": "CONTINUOUS_SCAN", "filters": ["example-org/*"]}, scan_on_push("*-sandbox")],
    }
    result = run_module(ecr_registry_settings, {"scanning": scanning})
    assert result["changes"] == ["scanning"]
    assert scanning_of(ecr) == {
        "scanType": "ENHANCED",
        "rules": {"CONTINUOUS_SCAN": ["example-org/*"], "SCAN_ON_PUSH": ["*-sandbox"]},
    }
    stored = ecr.get_registry_scanning_configuration()["scanningConfiguration"]["rules"]
    assert {f["filterType"] for rule in stored for f in rule["repositoryFilters"]} == {"WILDCARD"}


def test_rerun_reads_and_writes_nothing(aws, run_module, api_calls):
    args = {
        "scanning": {"rules": [scan_on_push("example-org/*")]},
        "replication": {"rules": [to_region("us-east-1", "example-org")]},
    }
    assert run_module(ecr_registry_settings, args)["changes"] == ["scanning", "replication"]
    api_calls.clear()
    result = run_module(ecr_registry_settings, args)
    assert (result["changed"], result["changes"]) == (False, [])
    assert api_calls.writes == []
    assert sorted(api_calls.reads) == ["DescribeRegistry", "GetRegistryScanningConfiguration"]


def test_our_filters_are_added_to_the_rule_someone_else_wrote(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": wildcard("legacy-*")}]
    )
    args = {"scanning": {"rules": [scan_on_push("example-org/*")]}}
    run_module(ecr_registry_settings, args)
    assert scanning_of(ecr) == {"scanType": "BASIC", "rules": {"SCAN_ON_PUSH": ["example-org/*", "legacy-*"]}}
    api_calls.clear()
    assert run_module(ecr_registry_settings, args)["changed"] is False
    assert api_calls.writes == []


def test_our_rule_is_added_next_to_another_frequency_someone_else_wrote(aws, run_module):
    ecr = aws("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED", rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": wildcard("prod-*")}]
    )
    run_module(ecr_registry_settings, {"scanning": {"scan_type": "ENHANCED", "rules": [scan_on_push("example-org/*")]}})
    assert scanning_of(ecr) == {
        "scanType": "ENHANCED",
        "rules": {"CONTINUOUS_SCAN": ["prod-*"], "SCAN_ON_PUSH": ["example-org/*"]},
    }


def test_changing_the_scan_type_of_rules_someone_else_wrote_is_refused_without_replace(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED", rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": wildcard("prod-*")}]
    )
    api_calls.clear()
    # scan_type left out is BASIC: a team asking for scan on push must not switch Inspector off for all
    result = run_module(
        ecr_registry_settings,
        {"scanning": {"rules": [scan_on_push("example-org/*")]}, "replication": {"rules": [to_region("us-east-1")]}},
    )
    assert result["failed"] is True
    assert "ENHANCED" in result["msg"] and "replace: true" in result["msg"]
    assert not [op for op in api_calls.writes if op in WRITES]
    assert scanning_of(ecr) == {"scanType": "ENHANCED", "rules": {"CONTINUOUS_SCAN": ["prod-*"]}}
    assert replication_of(ecr) == []


def test_replace_makes_our_rules_the_whole_configuration_and_may_change_the_type(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": wildcard("prod-*")},
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": wildcard("legacy-*")},
        ],
    )
    args = {"scanning": {"scan_type": "BASIC", "rules": [scan_on_push("example-org/*")], "replace": True}}
    result = run_module(ecr_registry_settings, args)
    assert result["changes"] == ["scanning"]
    assert scanning_of(ecr) == {"scanType": "BASIC", "rules": {"SCAN_ON_PUSH": ["example-org/*"]}}
    api_calls.clear()
    assert run_module(ecr_registry_settings, args)["changed"] is False
    assert api_calls.writes == []


def test_scanning_check_mode_reports_the_change_and_writes_nothing(aws, run_module, api_calls):
    ecr = aws("ecr")
    api_calls.clear()
    result = run_module(
        ecr_registry_settings, {"scanning": {"rules": [scan_on_push("example-org/*")]}}, check_mode=True
    )
    assert (result["changed"], result["changes"]) == (True, ["scanning"])
    assert api_calls.writes == []
    assert scanning_of(ecr) == {"scanType": "BASIC", "rules": {}}


def test_scanning_diff_shows_the_configuration_before_and_after(aws, run_module):
    ecr = aws("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": wildcard("legacy-*")}]
    )
    result = run_module(ecr_registry_settings, {"scanning": {"rules": [scan_on_push("example-org/*")]}}, diff=True)
    (diff,) = result["diff"]
    assert diff["before_header"] == "registry scanning"
    assert diff["before"] == {
        "scanType": "BASIC",
        "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": wildcard("legacy-*")}],
    }
    assert diff["after"] == {
        "scanType": "BASIC",
        "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": wildcard("example-org/*", "legacy-*")}],
    }


def test_merged_filters_over_aws_limit_are_refused_before_any_write(aws, run_module, api_calls):
    ecr = aws("ecr")
    theirs = [f"team-{i:02d}-*" for i in range(99)]
    ecr.put_registry_scanning_configuration(
        scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": wildcard(*theirs)}]
    )
    api_calls.clear()
    result = run_module(ecr_registry_settings, {"scanning": {"rules": [scan_on_push("example-org/*", "tools")]}})
    assert result["failed"] is True
    assert "101 filters" in result["msg"] and "100" in result["msg"]
    assert api_calls.writes == []
    assert len(scanning_of(ecr)["rules"]["SCAN_ON_PUSH"]) == 99


# --- replication ------------------------------------------------------------------------------------


def test_replication_to_another_region_names_the_registrys_own_account(aws, run_module):
    ecr = aws("ecr")
    result = run_module(ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1", "example-org/")]}})
    assert (result["changed"], result["changes"]) == (True, ["replication"])
    assert replication_of(ecr) == [
        {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}], "repositoryFilters": prefix("example-org/")}
    ]


def test_replication_to_another_account_in_the_same_region_with_filters(aws, run_module, api_calls):
    ecr = aws("ecr")
    rule = {
        "destinations": [
            {"region": REGION, "account_id": OTHER_ACCOUNT},
            {"region": "us-east-1", "account_id": OTHER_ACCOUNT},
        ],
        "filters": ["example-org/web", "example-org/api"],
    }
    run_module(ecr_registry_settings, {"replication": {"rules": [rule]}})
    (stored,) = replication_of(ecr)
    assert sorted(d["region"] for d in stored["destinations"]) == ["eu-west-1", "us-east-1"]
    assert {d["registryId"] for d in stored["destinations"]} == {OTHER_ACCOUNT}
    assert stored["repositoryFilters"] == prefix("example-org/api", "example-org/web")
    # destinations and filters in another order are the same rule
    api_calls.clear()
    reordered = {"destinations": rule["destinations"][::-1], "filters": rule["filters"][::-1]}
    assert run_module(ecr_registry_settings, {"replication": {"rules": [reordered]}})["changed"] is False
    assert api_calls.writes == []


def test_account_id_given_as_a_yaml_number_is_written_as_the_account(aws, run_module, api_calls):
    ecr = aws("ecr")
    args = {"replication": {"rules": [{"destinations": [{"region": "us-east-1", "account_id": int(OTHER_ACCOUNT)}]}]}}
    result = run_module(ecr_registry_settings, args)
    assert result.get("failed") is not True, result
    assert replication_of(ecr) == [{"destinations": [{"region": "us-east-1", "registryId": OTHER_ACCOUNT}]}]
    api_calls.clear()
    assert run_module(ecr_registry_settings, args)["changed"] is False
    assert api_calls.writes == []


def test_our_rule_is_added_after_the_rules_someone_else_wrote(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.put_replication_configuration(replicationConfiguration={"rules": [THEIR_RULE]})
    args = {"replication": {"rules": [{"destinations": [{"region": "us-east-1", "account_id": OTHER_ACCOUNT}]}]}}
    run_module(ecr_registry_settings, args)
    assert replication_of(ecr) == [THEIR_RULE, {"destinations": [{"region": "us-east-1", "registryId": OTHER_ACCOUNT}]}]
    api_calls.clear()
    assert run_module(ecr_registry_settings, args)["changed"] is False
    assert api_calls.writes == []


def test_a_rule_someone_else_wrote_keeps_its_delete_replication_when_ours_is_added(aws, run_module):
    ecr = aws("ecr")
    theirs = {**THEIR_RULE, "deleteReplication": {"enabled": True}}
    ecr.put_replication_configuration(replicationConfiguration={"rules": [theirs]})
    run_module(ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1")]}})
    assert replication_of(ecr) == [theirs, {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}]


def test_our_rule_already_there_among_others_is_not_a_change(aws, run_module, api_calls):
    ecr = aws("ecr")
    ours = {
        "destinations": [{"region": "us-east-1", "registryId": ACCOUNT}],
        "repositoryFilters": prefix("example-org"),
    }
    ecr.put_replication_configuration(replicationConfiguration={"rules": [THEIR_RULE, ours]})
    api_calls.clear()
    result = run_module(ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1", "example-org")]}})
    assert result["changed"] is False
    assert api_calls.writes == []


def test_replace_makes_our_replication_rules_the_whole_configuration(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.put_replication_configuration(replicationConfiguration={"rules": [THEIR_RULE]})
    args = {"replication": {"rules": [to_region("us-east-1", "example-org")], "replace": True}}
    run_module(ecr_registry_settings, args)
    assert replication_of(ecr) == [
        {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}], "repositoryFilters": prefix("example-org")}
    ]
    api_calls.clear()
    assert run_module(ecr_registry_settings, args)["changed"] is False
    assert api_calls.writes == []


def test_replication_check_mode_reports_the_change_and_writes_nothing(aws, run_module, api_calls):
    ecr = aws("ecr")
    ecr.put_replication_configuration(replicationConfiguration={"rules": [THEIR_RULE]})
    api_calls.clear()
    args = {"replication": {"rules": [to_region("us-east-1")], "replace": True}}
    result = run_module(ecr_registry_settings, args, check_mode=True)
    assert (result["changed"], result["changes"]) == (True, ["replication"])
    assert api_calls.writes == []
    assert replication_of(ecr) == [THEIR_RULE]


def test_replication_diff_shows_the_rules_before_and_after(aws, run_module):
    ecr = aws("ecr")
    ecr.put_replication_configuration(replicationConfiguration={"rules": [THEIR_RULE]})
    result = run_module(ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1")]}}, diff=True)
    (diff,) = result["diff"]
    assert diff["before_header"] == "registry replication"
    assert diff["before"] == {"rules": [THEIR_RULE]}
    assert diff["after"] == {"rules": [THEIR_RULE, {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}]}


def test_no_diff_without_diff_mode(aws, run_module):
    result = run_module(ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1")]}})
    assert result["diff"] == []


def test_rules_merged_over_aws_limit_are_refused_before_any_write(aws, run_module, api_calls):
    ecr = aws("ecr")
    theirs = [
        {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}], "repositoryFilters": prefix(f"team-{i}")}
        for i in range(9)
    ]
    ecr.put_replication_configuration(replicationConfiguration={"rules": theirs})
    api_calls.clear()
    args = {
        "scanning": {"rules": [scan_on_push("example-org/*")]},
        "replication": {"rules": [to_region("us-west-2", "a1"), to_region("us-west-2", "b1")]},
    }
    result = run_module(ecr_registry_settings, args)
    assert result["failed"] is True
    assert "11 rules" in result["msg"] and "10" in result["msg"]
    assert api_calls.writes == []
    assert replication_of(ecr) == theirs
    assert scanning_of(ecr)["rules"] == {}


def test_destinations_merged_over_aws_limit_are_refused_before_any_write(aws, run_module, api_calls):
    ecr = aws("ecr")
    theirs = [{"destinations": [{"region": REGION, "registryId": f"3333333333{i:02d}"} for i in range(24)]}]
    ecr.put_replication_configuration(replicationConfiguration={"rules": theirs})
    api_calls.clear()
    result = run_module(
        ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1"), to_region("us-west-2")]}}
    )
    assert result["failed"] is True
    assert "26 destinations" in result["msg"]
    assert api_calls.writes == []
    assert replication_of(ecr) == theirs


def test_a_destination_naming_the_registry_itself_is_refused_before_any_write(aws, run_module, api_calls):
    ecr = aws("ecr")
    rules = [to_region("us-east-1"), {"destinations": [{"region": REGION, "account_id": ACCOUNT}]}]
    result = run_module(ecr_registry_settings, {"replication": {"rules": rules}})
    assert result["failed"] is True
    assert "replication.rules[1].destinations[0]" in result["msg"]
    assert "itself" in result["msg"]
    assert api_calls.writes == []
    assert replication_of(ecr) == []


def test_a_failed_replication_write_reports_the_scanning_already_written(aws, run_module, monkeypatch):
    ecr = aws("ecr")

    def refused(self, replication_config):
        raise ValidationException("The destination registry policy does not allow replication")

    monkeypatch.setattr(ECRBackend, "put_replication_configuration", refused)
    args = {"scanning": {"rules": [scan_on_push("example-org/*")]}, "replication": {"rules": [to_region("us-east-1")]}}
    result = run_module(ecr_registry_settings, args)
    assert result["failed"] is True
    assert "replication" in result["msg"] and "does not allow replication" in result["msg"]
    assert (result["changed"], result["changes"], result["registry_id"]) == (True, ["scanning"], ACCOUNT)
    assert scanning_of(ecr)["rules"] == {"SCAN_ON_PUSH": ["example-org/*"]}


def test_replace_over_a_rule_like_ours_with_delete_replication_writes_ours(aws, run_module):
    ecr = aws("ecr")
    ours = {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{**ours, "deleteReplication": {"enabled": True}}]}
    )
    result = run_module(ecr_registry_settings, {"replication": {"rules": [to_region("us-east-1")], "replace": True}})
    assert result["changed"] is True
    assert replication_of(ecr) == [ours]


# --- bad input: refused before any AWS call, named by its option ------------------------------------


@pytest.mark.parametrize(
    ("args", "path", "named"),
    [
        (
            {"scanning": {"rules": [{"frequency": "CONTINUOUS_SCAN", "filters": ["*"]}]}},
            "scanning.rules[0].frequency",
            "BASIC",
        ),
        (
            {"scanning": {"scan_type": "ENHANCED", "rules": [{"frequency": "MANUAL", "filters": ["*"]}]}},
            "scanning.rules[0].frequency",
            "MANUAL",
        ),
        ({"scanning": {"rules": [scan_on_push("a*"), scan_on_push("b*")]}}, "scanning.rules[1].frequency", "twice"),
        ({"scanning": {"rules": [scan_on_push()]}}, "scanning.rules[0].filters", "1 to 100"),
        ({"scanning": {"rules": [scan_on_push("Example-Org/*")]}}, "scanning.rules[0].filters[0]", "'Example-Org/*'"),
        (
            {"scanning": {"rules": [{"frequency": "SCAN_ON_PUSH", "filters": "prod*"}]}},
            "scanning.rules[0].filters",
            "list",
        ),
        (
            {"scanning": {"rules": [{"frequency": "SCAN_ON_PUSH", "filter": ["prod*"]}]}},
            "scanning.rules[0].filter",
            "unknown",
        ),
        ({"replication": {"rules": []}}, "replication.rules", "1 to 10"),
        ({"replication": {"rules": [{"destinations": []}]}}, "replication.rules[0].destinations", "at least one"),
        (
            {"replication": {"rules": [to_region("us-east")]}},
            "replication.rules[0].destinations[0].region",
            "'us-east'",
        ),
        ({"replication": {"rules": [to_region(REGION)]}}, "replication.rules[0].destinations[0]", "itself"),
        (
            {"replication": {"rules": [to_region("us-east-1", "Example")]}},
            "replication.rules[0].filters[0]",
            "'Example'",
        ),
        (
            {"replication": {"rules": [to_region("us-east-1", "example-org//")]}},
            "replication.rules[0].filters[0]",
            "prefix",
        ),
        (
            {"replication": {"rules": [{"destinations": [{"region": "us-east-1", "account_id": "22222222222"}]}]}},
            "replication.rules[0].destinations[0].account_id",
            "12-digit",
        ),
        (
            {"replication": {"rules": [{"destinations": [{"region": "us-east-1", "account": OTHER_ACCOUNT}]}]}},
            "replication.rules[0].destinations[0].account",
            "unknown",
        ),
        (
            {"replication": {"rules": [{"destinations": [{"region": "us-east-1"}], "filter": ["example-org"]}]}},
            "replication.rules[0].filter",
            "unknown",
        ),
    ],
)
def test_bad_input_fails_before_any_aws_call_naming_the_option(aws, run_module, api_calls, args, path, named):
    result = run_module(ecr_registry_settings, args)
    assert result["failed"] is True
    assert path in {p["path"] for p in result["problems"]}, result["problems"]
    assert named in result["msg"]
    assert api_calls.calls == []


def test_every_problem_is_reported_at_once(aws, run_module, api_calls):
    args = {
        "scanning": {"rules": [{"frequency": "CONTINUOUS_SCAN", "filters": ["UPPER"]}]},
        "replication": {"rules": [to_region("mars-1", "a")]},
    }
    result = run_module(ecr_registry_settings, args)
    assert {p["path"] for p in result["problems"]} == {
        "scanning.rules[0].frequency",
        "scanning.rules[0].filters[0]",
        "replication.rules[0].destinations[0].region",
        "replication.rules[0].filters[0]",
    }
    assert api_calls.calls == []


def test_neither_scanning_nor_replication_fails(aws, run_module, api_calls):
    result = run_module(ecr_registry_settings, {})
    assert result["failed"] is True
    assert "scanning" in result["msg"] and "replication" in result["msg"]
    assert api_calls.calls == []
