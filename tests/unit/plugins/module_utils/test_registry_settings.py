"""Registry settings rules: what AWS accepts for scanning and replication, and the merge with what is there
(no AWS). The limits are AWS's: botocore's ECR model (patterns, 2 scanning rules, 1-255 character wildcard
filters, 2-256 character prefixes) and the ECR user guide (10 replication rules, 25 destinations across
them, 100 filters a rule)."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.registry_settings import (
    ReplicationRequest,
    ScanningRequest,
    planned_replication,
    planned_scanning,
    registry_settings_request,
    with_registry,
)

ACCOUNT, OTHER = "123456789012", "222222222222"
REGION = "eu-west-1"


def problems_of(params: dict) -> dict[str, str]:
    with pytest.raises(InvalidInput) as exc:
        registry_settings_request({"region": REGION, **params})
    return {p.path: p.message for p in exc.value.problems}


def scanning(*rules: dict, scan_type: str = "BASIC", **more) -> dict:
    return {"scanning": {"scan_type": scan_type, "rules": list(rules), **more}}


def replication(*rules: dict, **more) -> dict:
    return {"replication": {"rules": list(rules), **more}}


def push(*filters) -> dict:
    return {"frequency": "SCAN_ON_PUSH", "filters": list(filters)}


def to(region: str, account: str | None = None, filters: list | None = None) -> dict:
    rule: dict = {"destinations": [{"region": region, "account_id": account}]}
    return {**rule, "filters": filters} if filters is not None else rule


def stored_rule(*destinations: tuple[str, str], filters: tuple[str, ...] = ()) -> dict:
    rule: dict = {"destinations": [{"region": r, "registryId": a} for r, a in destinations]}
    if filters:
        rule["repositoryFilters"] = [{"filter": f, "filterType": "PREFIX_MATCH"} for f in filters]
    return rule


def scan_config(scan_type: str, **rules: list[str]) -> dict:
    return {
        "scanType": scan_type,
        "rules": [
            {"scanFrequency": f, "repositoryFilters": [{"filter": x, "filterType": "WILDCARD"} for x in filters]}
            for f, filters in rules.items()
        ],
    }


# --- scanning input ---------------------------------------------------------------------------------


def test_scanning_request_holds_each_frequencys_filters_sorted_once():
    request, _replication = registry_settings_request(scanning(push("b*", "a*", "b*")))
    assert request == ScanningRequest("BASIC", {"SCAN_ON_PUSH": ("a*", "b*")}, False)


@pytest.mark.parametrize(
    ("scan_type", "frequency", "accepted"),
    [
        ("BASIC", "SCAN_ON_PUSH", True),
        ("BASIC", "CONTINUOUS_SCAN", False),  # moto accepts it, AWS does not
        ("BASIC", "MANUAL", False),  # the frequency of what no rule matches, never a rule's
        ("ENHANCED", "SCAN_ON_PUSH", True),
        ("ENHANCED", "CONTINUOUS_SCAN", True),
        ("ENHANCED", "MANUAL", False),
    ],
)
def test_scan_frequency_is_one_its_scan_type_allows(scan_type, frequency, accepted):
    params = scanning({"frequency": frequency, "filters": ["*"]}, scan_type=scan_type)
    if accepted:
        registry_settings_request({"region": REGION, **params})
    else:
        assert scan_type in problems_of(params)["scanning.rules[0].frequency"]


def test_unknown_scan_type_is_refused():
    assert "BASIC, ENHANCED" in problems_of(scanning(push("*"), scan_type="INSPECTOR"))["scanning.scan_type"]


def test_three_scanning_rules_are_refused():
    params = scanning(push("a*"), {"frequency": "CONTINUOUS_SCAN", "filters": ["b*"]}, push("c*"), scan_type="ENHANCED")
    assert "at most 2" in problems_of(params)["scanning.rules"]


def test_a_frequency_given_twice_is_refused():
    assert "twice" in problems_of(scanning(push("a*"), push("b*")))["scanning.rules[1].frequency"]


@pytest.mark.parametrize("count", [0, 101])
def test_a_scanning_rule_needs_1_to_100_filters(count):
    params = scanning(push(*[f"team-{i}-*" for i in range(count)]))
    assert f"not {count}" in problems_of(params)["scanning.rules[0].filters"]


def test_a_scanning_rule_takes_100_filters():
    registry_settings_request({"region": REGION, **scanning(push(*[f"team-{i}-*" for i in range(100)]))})


@pytest.mark.parametrize(
    "pattern", ["*", "prod", "*prod", "prod*", "*prod*", "prod*repo", "example-org/*", "a.b_c-d/e", "**", "a" * 255]
)
def test_wildcard_filters_aws_accepts(pattern):
    registry_settings_request({"region": REGION, **scanning(push(pattern))})


@pytest.mark.parametrize(
    "pattern", ["", "Prod*", "a b", "-prod", "prod-", "prod/", "/prod", "a--b", "a//b", "a?b", "a" * 256, 7]
)
def test_wildcard_filters_aws_refuses(pattern):
    assert "scanning.rules[0].filters[0]" in problems_of(scanning(push(pattern)))


def test_filters_given_as_one_string_are_refused_not_read_as_characters():
    # "prod*" read as characters would be the filters p, r, o, d and *: every repository
    params = scanning({"frequency": "SCAN_ON_PUSH", "filters": "prod*"})
    assert "must be a list" in problems_of(params)["scanning.rules[0].filters"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"scanning": ["SCAN_ON_PUSH"]}, "scanning"),
        ({"scanning": {"type": "BASIC", "rules": [push("*")]}}, "scanning.type"),
        (
            scanning({"frequency": "SCAN_ON_PUSH", "filters": ["*"], "filterType": "WILDCARD"}),
            "scanning.rules[0].filterType",
        ),
        (scanning("SCAN_ON_PUSH"), "scanning.rules[0]"),
        (scanning(push("*"), replace="yes"), "scanning.replace"),
        ({"replication": "us-east-1"}, "replication"),
        ({"replication": {"rule": [to("us-east-1")]}}, "replication.rule"),
        (replication({"destinations": {"region": "us-east-1"}}), "replication.rules[0].destinations"),
        (replication({"destinations": ["us-east-1"]}), "replication.rules[0].destinations[0]"),
        (
            replication({"destinations": [{"region": "us-east-1", "registryId": OTHER}]}),
            "replication.rules[0].destinations[0].registryId",
        ),
        (replication(to("us-east-1", filters="example-org")), "replication.rules[0].filters"),
    ],
)
def test_a_misspelt_or_misshapen_setting_is_refused_where_it_is(params, path):
    assert path in problems_of(params)


# --- replication input ------------------------------------------------------------------------------


def test_replication_request_in_aws_shape_with_the_account_left_for_the_registry():
    _scanning, request = registry_settings_request(
        {"region": REGION, **replication(to("us-east-1", filters=["b-", "a/"]), to(REGION, OTHER))}
    )
    assert request == ReplicationRequest(
        (
            {
                "destinations": [{"region": "us-east-1", "registryId": None}],
                "repositoryFilters": [
                    {"filter": "a/", "filterType": "PREFIX_MATCH"},
                    {"filter": "b-", "filterType": "PREFIX_MATCH"},
                ],
            },
            {"destinations": [{"region": REGION, "registryId": OTHER}]},
        ),
        False,
    )


def test_an_account_id_read_from_yaml_as_a_number_is_the_account():
    _scanning, request = registry_settings_request({"region": REGION, **replication(to("us-east-1", int(OTHER)))})
    assert request.rules[0]["destinations"] == [{"region": "us-east-1", "registryId": OTHER}]


@pytest.mark.parametrize("account", ["22222222222", "2222222222222", "abcdefghijkl", 12345678901, True])
def test_an_account_id_is_12_digits(account):
    assert (
        "12-digit"
        in problems_of(replication(to("us-east-1", account)))["replication.rules[0].destinations[0].account_id"]
    )


@pytest.mark.parametrize("region", ["us-east", "US-EAST-1", "useast1", "", None, "us-east-1a"])
def test_a_destination_region_is_a_region_name(region):
    assert "replication.rules[0].destinations[0].region" in problems_of(replication(to(region)))


@pytest.mark.parametrize("region", ["us-east-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1", "il-central-1"])
def test_region_names_aws_has(region):
    registry_settings_request({"region": REGION, **replication(to(region))})


def test_replicating_the_registry_to_its_own_region_is_refused():
    assert "itself" in problems_of(replication(to(REGION)))["replication.rules[0].destinations[0]"]


@pytest.mark.parametrize("count", [0, 11])
def test_replication_needs_1_to_10_rules(count):
    params = replication(*[to("us-east-1", filters=[f"team-{i}"]) for i in range(count)])
    assert f"not {count}" in problems_of(params)["replication.rules"]


def test_replication_takes_10_rules():
    registry_settings_request(
        {"region": REGION, **replication(*[to("us-east-1", filters=[f"t{i}"]) for i in range(10)])}
    )


def test_a_replication_rule_needs_a_destination():
    assert "at least one" in problems_of(replication({"destinations": []}))["replication.rules[0].destinations"]


def test_26_destinations_across_rules_are_refused_and_one_named_twice_counts_once():
    accounts = [f"3333333333{i:02d}" for i in range(26)]
    too_many = replication(
        {"destinations": [{"region": REGION, "account_id": a} for a in accounts[:13]]},
        {"destinations": [{"region": REGION, "account_id": a} for a in accounts[13:]]},
    )
    assert "26 destinations" in problems_of(too_many)["replication.rules"]
    twice = replication(
        {"destinations": [{"region": REGION, "account_id": a} for a in accounts[:13]]},
        {"destinations": [{"region": REGION, "account_id": a} for a in accounts[12:25]]},
    )
    registry_settings_request({"region": REGION, **twice})


def test_a_replication_rule_takes_100_filters_not_101():
    registry_settings_request(
        {"region": REGION, **replication(to("us-east-1", filters=[f"t{i:03d}" for i in range(100)]))}
    )
    params = replication(to("us-east-1", filters=[f"t{i:03d}" for i in range(101)]))
    assert "101 filters" in problems_of(params)["replication.rules[0].filters"]


@pytest.mark.parametrize(
    "prefix", ["ab", "example-org", "example-org/", "team-", "example-org/web", "a__b", "v1.", "x" * 256]
)
def test_prefix_filters_aws_accepts(prefix):
    registry_settings_request({"region": REGION, **replication(to("us-east-1", filters=[prefix]))})


@pytest.mark.parametrize("prefix", ["a", "Example", "a//b", "/a", "a b", "a*", "x" * 257, 42])
def test_prefix_filters_aws_refuses(prefix):
    assert "replication.rules[0].filters[0]" in problems_of(replication(to("us-east-1", filters=[prefix])))


def test_every_problem_of_both_settings_is_raised_at_once():
    problems = problems_of(
        {**scanning({"frequency": "CONTINUOUS_SCAN", "filters": []}), **replication(to("mars-1", "1"))}
    )
    assert set(problems) == {
        "scanning.rules[0].frequency",
        "scanning.rules[0].filters",
        "replication.rules[0].destinations[0].region",
        "replication.rules[0].destinations[0].account_id",
    }


# --- the destinations' account, once the registry is known ------------------------------------------


def test_the_registrys_own_account_fills_a_destination_left_without_one():
    rules = ({"destinations": [{"region": "us-east-1", "registryId": None}, {"region": REGION, "registryId": OTHER}]},)
    assert with_registry(rules, ACCOUNT, REGION) == [
        {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}, {"region": REGION, "registryId": OTHER}]}
    ]


def test_a_destination_naming_the_registrys_own_account_and_region_is_refused():
    rules = (
        {"destinations": [{"region": "us-east-1", "registryId": None}]},
        {"destinations": [{"region": REGION, "registryId": ACCOUNT}]},
    )
    with pytest.raises(InvalidInput) as exc:
        with_registry(rules, ACCOUNT, REGION)
    assert [p.path for p in exc.value.problems] == ["replication.rules[1].destinations[0]"]


# --- scanning merged with what is there -------------------------------------------------------------


def test_our_filters_join_the_rule_of_the_same_frequency_and_other_rules_stay():
    current = scan_config("ENHANCED", CONTINUOUS_SCAN=["prod-*"], SCAN_ON_PUSH=["legacy-*"])
    plan, refusal = planned_scanning(current, ScanningRequest("ENHANCED", {"SCAN_ON_PUSH": ("example-org/*",)}, False))
    assert refusal is None
    assert plan == scan_config("ENHANCED", CONTINUOUS_SCAN=["prod-*"], SCAN_ON_PUSH=["example-org/*", "legacy-*"])


def test_filters_already_there_are_no_change():
    current = scan_config("BASIC", SCAN_ON_PUSH=["b*", "a*", "c*"])
    assert planned_scanning(current, ScanningRequest("BASIC", {"SCAN_ON_PUSH": ("a*", "c*")}, False)) == (None, None)


def test_another_scan_type_over_rules_there_is_refused_without_replace():
    current = scan_config("ENHANCED", CONTINUOUS_SCAN=["prod-*"])
    plan, refusal = planned_scanning(current, ScanningRequest("BASIC", {"SCAN_ON_PUSH": ("a*",)}, False))
    assert plan is None
    assert "ENHANCED" in refusal and "replace: true" in refusal


def test_the_scan_type_of_a_registry_scanning_nothing_may_change():
    plan, refusal = planned_scanning(
        scan_config("BASIC"), ScanningRequest("ENHANCED", {"CONTINUOUS_SCAN": ("*",)}, False)
    )
    assert (plan, refusal) == (scan_config("ENHANCED", CONTINUOUS_SCAN=["*"]), None)


def test_replace_writes_ours_alone_and_only_when_it_differs():
    current = scan_config("ENHANCED", CONTINUOUS_SCAN=["prod-*"])
    ours = ScanningRequest("BASIC", {"SCAN_ON_PUSH": ("a*",)}, True)
    assert planned_scanning(current, ours) == (scan_config("BASIC", SCAN_ON_PUSH=["a*"]), None)
    assert planned_scanning(scan_config("BASIC", SCAN_ON_PUSH=["a*"]), ours) == (None, None)


def test_a_merge_over_100_filters_in_a_rule_is_refused():
    current = scan_config("BASIC", SCAN_ON_PUSH=[f"t{i}-*" for i in range(100)])
    plan, refusal = planned_scanning(current, ScanningRequest("BASIC", {"SCAN_ON_PUSH": ("a*",)}, False))
    assert plan is None
    assert "101 filters" in refusal


# --- replication merged with what is there ----------------------------------------------------------


def test_our_rule_is_added_after_theirs_which_stay_as_aws_holds_them():
    theirs = {**stored_rule(("ap-southeast-2", ACCOUNT), filters=("legacy",)), "deleteReplication": {"enabled": True}}
    ours = stored_rule(("us-east-1", OTHER))
    assert planned_replication([theirs], [ours], replace=False) == ([theirs, ours], None)


def test_our_rule_there_in_another_order_is_no_change():
    theirs = stored_rule(("us-east-1", ACCOUNT), ("us-west-2", OTHER), filters=("b1", "a1"))
    ours = stored_rule(("us-west-2", OTHER), ("us-east-1", ACCOUNT), filters=("a1", "b1"))
    assert planned_replication([stored_rule(("eu-north-1", ACCOUNT)), theirs], [ours], replace=False) == (None, None)
    assert planned_replication([theirs], [ours], replace=True) == (None, None)


def test_replace_writes_ours_alone_even_over_a_rule_like_ours_with_delete_replication():
    ours = stored_rule(("us-east-1", ACCOUNT))
    assert planned_replication([stored_rule(("ap-southeast-2", ACCOUNT))], [ours], replace=True) == ([ours], None)
    with_deletes = {**ours, "deleteReplication": {"enabled": True}}
    assert planned_replication([with_deletes], [ours], replace=True) == ([ours], None)


def test_a_merge_over_10_rules_or_25_destinations_is_refused():
    theirs = [stored_rule(("us-east-1", ACCOUNT), filters=(f"t{i}",)) for i in range(10)]
    plan, refusal = planned_replication(theirs, [stored_rule(("us-west-2", ACCOUNT))], replace=False)
    assert plan is None and "11 rules" in refusal
    many = [stored_rule(*[(REGION, f"3333333333{i:02d}") for i in range(25)])]
    plan, refusal = planned_replication(many, [stored_rule(("us-west-2", ACCOUNT))], replace=False)
    assert plan is None and "26 destinations" in refusal
