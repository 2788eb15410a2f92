# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry-wide settings of an account and region: image scanning and replication.

Both are shared by every repository of the registry (and whoever else manages the account), so by
default ours are merged with what is there: scanning filters are added to the rule of the same
frequency, replication rules are added when missing, and nothing is removed or changed that we did
not write - unless ``replace`` is given. AWS's rules (botocore ECR model, ECR user guide) are
checked before any call; moto accepts, among others, BASIC scanning with CONTINUOUS_SCAN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import Problems, join_path

SCAN_TYPES = ("BASIC", "ENHANCED")
SCAN_FREQUENCIES = {"BASIC": ("SCAN_ON_PUSH",), "ENHANCED": ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")}
SCAN_RULES_MAX, SCAN_FILTERS_MAX = 2, 100
_SCAN_FILTER = re.compile(r"[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*")
# 10 rules, 25 destinations across them all (ECR user guide, replication considerations), 100 filters a rule.
REPLICATION_RULES_MAX, REPLICATION_DESTINATIONS_MAX, REPLICATION_FILTERS_MAX = 10, 25, 100
# botocore ECR model, RepositoryFilterValue: a prefix may end in '-', '.', '_' or '/' ("team-", "example-org/").
_PREFIX_FILTER = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*")
REGION_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True)
class ScanningRequest:
    scan_type: str
    rules: dict[str, tuple[str, ...]]  # frequency -> filters
    replace: bool


@dataclass(frozen=True)
class ReplicationRequest:
    rules: tuple[dict, ...]  # in AWS's shape: {destinations: [...], repositoryFilters: [...]}
    replace: bool


def _checked_dict(value: Any, keys: tuple[str, ...], path: str, problems: Problems) -> dict | None:
    """``value`` if it is a dict of only ``keys`` (None left out); else None, its problems added."""
    if not isinstance(value, dict):
        problems.add(path, f"must be a dict with {', '.join(keys)}, not {type(value).__name__}")
        return None
    for key in sorted(set(value) - set(keys), key=str):
        problems.add(join_path(path, str(key)), f"unknown key; use {', '.join(keys)}")
    return value


def _checked_list(value: Any, path: str, problems: Problems) -> list | None:
    """``value`` as a list ([] when left out); None, with a problem, for a string or a dict - never a list of
    its characters or keys (the filters ``"prod*"`` are not ``p``, ``r``, ``o``, ``d`` and ``*``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, f"must be a list, not {type(value).__name__}")
        return None
    return value


def _checked_replace(value: dict, path: str, problems: Problems) -> bool:
    replace = value.get("replace")
    if replace is not None and not isinstance(replace, bool):
        problems.add(join_path(path, "replace"), f"must be true or false, not {replace!r}")
    return replace is True


def scanning_request(value: Any, problems: Problems, path: str = "scanning") -> ScanningRequest | None:
    """``scanning`` checked as AWS checks it: type, at most 2 rules, their frequency for the type, filters."""
    if value is None or _checked_dict(value, ("scan_type", "rules", "replace"), path, problems) is None:
        return None
    scan_type = value.get("scan_type") or "BASIC"
    if scan_type not in SCAN_TYPES:
        problems.add(join_path(path, "scan_type"), f"{scan_type!r} is not one of {', '.join(SCAN_TYPES)}")
        return None
    rules: dict[str, tuple[str, ...]] = {}
    given = _checked_list(value.get("rules"), join_path(path, "rules"), problems) or []
    if len(given) > SCAN_RULES_MAX:
        problems.add(join_path(path, "rules"), f"has {len(given)} rules; AWS allows at most {SCAN_RULES_MAX}")
    for index, rule in enumerate(given):
        rule_path = join_path(join_path(path, "rules"), index)
        if _checked_dict(rule, ("frequency", "filters"), rule_path, problems) is None:
            continue
        frequency = rule.get("frequency")
        filters = _checked_list(rule.get("filters"), join_path(rule_path, "filters"), problems)
        if frequency not in SCAN_FREQUENCIES[scan_type]:
            problems.add(
                join_path(rule_path, "frequency"),
                f"{frequency!r} is not a frequency of {scan_type} scanning: {', '.join(SCAN_FREQUENCIES[scan_type])}",
            )
        elif frequency in rules:
            problems.add(join_path(rule_path, "frequency"), f"{frequency} is given twice; list its filters once")
        if filters is None:
            filters = []
        elif not 1 <= len(filters) <= SCAN_FILTERS_MAX:
            problems.add(join_path(rule_path, "filters"), f"needs 1 to {SCAN_FILTERS_MAX} filters, not {len(filters)}")
        for number, pattern in enumerate(filters):
            if not isinstance(pattern, str) or not 1 <= len(pattern) <= 255 or not _SCAN_FILTER.fullmatch(pattern):
                problems.add(
                    join_path(join_path(rule_path, "filters"), number),
                    f"{pattern!r} is not a repository filter: lowercase names with '*' wildcards",
                )
        if isinstance(frequency, str):
            rules[frequency] = tuple(sorted({f for f in filters if isinstance(f, str)}))
    return ScanningRequest(scan_type, rules, _checked_replace(value, path, problems))


def replication_request(
    value: Any, registry_region: str | None, problems: Problems, path: str = "replication"
) -> ReplicationRequest | None:
    """``replication`` checked as AWS checks it: up to 10 rules and 25 destinations, prefix filters; a
    destination is not the registry itself (the account is the registry's own when left out)."""
    if value is None or _checked_dict(value, ("rules", "replace"), path, problems) is None:
        return None
    given = _checked_list(value.get("rules"), join_path(path, "rules"), problems)
    if given is None:
        given = []
    elif not 1 <= len(given) <= REPLICATION_RULES_MAX:
        problems.add(join_path(path, "rules"), f"needs 1 to {REPLICATION_RULES_MAX} rules, not {len(given)}")
    rules, destinations = [], set()
    for index, rule in enumerate(given):
        rule_path = join_path(join_path(path, "rules"), index)
        if _checked_dict(rule, ("destinations", "filters"), rule_path, problems) is None:
            continue
        targets = []
        given_destinations = _checked_list(rule.get("destinations"), join_path(rule_path, "destinations"), problems)
        for number, destination in enumerate(given_destinations or []):
            where = join_path(join_path(rule_path, "destinations"), number)
            if _checked_dict(destination, ("region", "account_id"), where, problems) is None:
                continue
            region, account = destination.get("region"), destination.get("account_id")
            if not isinstance(region, str) or not REGION_NAME.fullmatch(region):
                problems.add(join_path(where, "region"), f"{region!r} is not a region name")
            # an unquoted account id in YAML is a number: the same account, as AWS's string
            if isinstance(account, int) and not isinstance(account, bool):
                account = str(account)
            if account is not None and not (isinstance(account, str) and _ACCOUNT.fullmatch(account)):
                problems.add(join_path(where, "account_id"), f"{account!r} must be a 12-digit account id")
            if account is None and region == registry_region:
                problems.add(where, "replicates the registry to itself: name another region or account")
            targets.append({"region": region, "registryId": account})
            destinations.add((region, account))
        if given_destinations == []:
            problems.add(join_path(rule_path, "destinations"), "needs at least one destination")
        filters = _checked_list(rule.get("filters"), join_path(rule_path, "filters"), problems) or []
        if len(filters) > REPLICATION_FILTERS_MAX:
            problems.add(
                join_path(rule_path, "filters"), f"has {len(filters)} filters; at most {REPLICATION_FILTERS_MAX}"
            )
        for number, prefix in enumerate(filters):
            if not isinstance(prefix, str) or not 2 <= len(prefix) <= 256 or not _PREFIX_FILTER.fullmatch(prefix):
                problems.add(
                    join_path(join_path(rule_path, "filters"), number),
                    f"{prefix!r} is not a repository name prefix (ECR's PREFIX_MATCH filter)",
                )
        aws_rule: dict[str, Any] = {"destinations": targets}
        if filters:
            aws_rule["repositoryFilters"] = [
                {"filter": f, "filterType": "PREFIX_MATCH"} for f in sorted({f for f in filters if isinstance(f, str)})
            ]
        rules.append(aws_rule)
    if len(destinations) > REPLICATION_DESTINATIONS_MAX:
        problems.add(
            join_path(path, "rules"),
            f"name {len(destinations)} destinations; AWS allows {REPLICATION_DESTINATIONS_MAX}",
        )
    return ReplicationRequest(tuple(rules), _checked_replace(value, path, problems))


def with_registry(
    rules: tuple[dict, ...], registry_id: str, registry_region: str | None, path: str = "replication"
) -> list[dict]:
    """The rules with a destination's account filled in where it was left out: the registry's own. A
    destination naming the registry's own account in its own region raises InvalidInput (AWS refuses it)."""
    problems = Problems()
    filled = []
    for index, rule in enumerate(rules):
        targets = []
        for number, destination in enumerate(rule["destinations"]):
            target = {**destination, "registryId": destination["registryId"] or registry_id}
            if (target["region"], target["registryId"]) == (registry_region, registry_id):
                where = join_path(join_path(join_path(join_path(path, "rules"), index), "destinations"), number)
                problems.add(where, f"replicates the registry to itself ({registry_id} in {registry_region})")
            targets.append(target)
        filled.append({**rule, "destinations": targets})
    problems.raise_if_any()
    return filled


def planned_scanning(current: dict, request: ScanningRequest) -> tuple[dict | None, str | None]:
    """The scanning configuration to write (None: nothing to change), or why it must not be written.

    ``current`` is AWS's ``scanningConfiguration`` (``scanType``, ``rules``)."""
    current_type = current.get("scanType", "BASIC")
    current_rules = {
        r["scanFrequency"]: tuple(sorted(f["filter"] for f in r.get("repositoryFilters", [])))
        for r in current.get("rules", [])
    }
    if request.replace:
        wanted_type, wanted = request.scan_type, dict(request.rules)
    else:
        if request.scan_type != current_type and current_rules:
            return None, (
                f"the registry scans with {current_type}, and changing it to {request.scan_type} changes scanning "
                "for every repository of the account: set replace: true to do so"
            )
        wanted_type = request.scan_type
        wanted = dict(current_rules)
        for frequency, filters in request.rules.items():
            wanted[frequency] = tuple(sorted(set(wanted.get(frequency, ())) | set(filters)))
    if wanted_type == current_type and wanted == current_rules:
        return None, None
    for frequency, filters in sorted(wanted.items()):
        if len(filters) > SCAN_FILTERS_MAX:
            return None, (
                f"with the filters already there, the {frequency} rule would have {len(filters)} filters; AWS allows "
                f"{SCAN_FILTERS_MAX}: set replace: true, or remove filters"
            )
    return {"scanType": wanted_type, "rules": [_scan_rule(f, filters) for f, filters in sorted(wanted.items())]}, None


def _scan_rule(frequency: str, filters: tuple[str, ...]) -> dict:
    return {"scanFrequency": frequency, "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters]}


def planned_replication(
    current_rules: list[dict], wanted_rules: list[dict], replace: bool
) -> tuple[list[dict] | None, str | None]:
    """The replication rules to write (None: nothing to change) - ours added to those there, kept as AWS holds
    them (``deleteReplication`` and all), or ours alone - or why they must not be written (AWS's limits)."""
    ours = [_normalised(rule) for rule in wanted_rules]
    if replace:
        theirs = [_normalised(rule, with_settings=True) for rule in current_rules]
        if sorted(map(repr, ours)) == sorted(map(repr, theirs)):
            return None, None
        planned = ours
    else:
        known = [_normalised(rule) for rule in current_rules]
        missing = [rule for rule in ours if rule not in known]
        if not missing:
            return None, None
        planned = [*current_rules, *missing]
    destinations = {(d["region"], d["registryId"]) for rule in planned for d in rule["destinations"]}
    if len(planned) > REPLICATION_RULES_MAX or len(destinations) > REPLICATION_DESTINATIONS_MAX:
        return None, (
            f"with the rules already there, replication would have {len(planned)} rules and {len(destinations)} "
            f"destinations; AWS allows {REPLICATION_RULES_MAX} rules and {REPLICATION_DESTINATIONS_MAX} destinations: "
            "set replace: true, or remove rules"
        )
    return planned, None


def _normalised(rule: dict, with_settings: bool = False) -> dict:
    """A rule in one form, to compare: destinations and filters sorted, and (``with_settings``) its
    ``deleteReplication`` when enabled, which ours never set."""
    destinations = sorted(
        ({"region": d["region"], "registryId": d["registryId"]} for d in rule["destinations"]), key=repr
    )
    normalised: dict[str, Any] = {"destinations": destinations}
    filters = sorted(f["filter"] for f in rule.get("repositoryFilters") or [])
    if filters:
        normalised["repositoryFilters"] = [{"filter": f, "filterType": "PREFIX_MATCH"} for f in filters]
    if with_settings and (rule.get("deleteReplication") or {}).get("enabled"):
        normalised["deleteReplication"] = {"enabled": True}
    return normalised


def registry_settings_request(params: dict) -> tuple[ScanningRequest | None, ReplicationRequest | None]:
    """``ecr_registry_settings``'s parameters, every problem raised at once as InvalidInput."""
    problems = Problems()
    scanning = scanning_request(params.get("scanning"), problems)
    replication = replication_request(params.get("replication"), params.get("region"), problems)
    problems.raise_if_any()
    return scanning, replication
