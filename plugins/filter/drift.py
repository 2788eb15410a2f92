# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: drift_report
short_description: What differs from the declared state, from the role's module results in check mode
version_added: 0.1.0
description:
  - Builds a drift report from what the role's module tasks registered when run with C(--check --diff) - per
    repository and role, exactly the fields that differ from the declared state, with their values before (what
    AWS holds) and after (what a run would write); and the repositories that exist but are not managed.
  - An item is listed only when its module would change something; C(what) names the fields that differ, taken
    from the module's diff (from its C(changes) alone without C(--diff), when C(before) and C(after) are null).
  - Items are ordered as the role runs its tasks (repositories, lifecycle policies, pull grants, registry settings,
    OIDC provider, CI roles, Image Updater role, Pod Identity association), then by name.
  - A task that failed raises an error - its drift is unknown, never reported as none.
  - The companion filter C(drift_markdown) renders the report as Markdown - a title with the environment, account
    and region, a table of the items, each item's fields as actual and declared value (a unified diff of pretty
    JSON for documents such as policies), then the repositories that exist but are not managed.
positional: environment, account_id, region
options:
  _input:
    description:
      - The registered results by task, under the keys C(repositories) (M(cloudops.ecr.ecr_repository)), C(lifecycle)
        (M(cloudops.ecr.ecr_lifecycle)), C(ci_role) (M(cloudops.ecr.github_oidc_role)), C(registry_settings)
        (M(cloudops.ecr.ecr_registry_settings)), C(image_updater) (M(cloudops.ecr.image_updater_role)) and C(pull)
        (M(cloudops.ecr.ecr_repository_access)).
      - C(replicas) and C(replica_lifecycle) hold the looped results of M(cloudops.ecr.ecr_repository) and
        M(cloudops.ecr.ecr_lifecycle) over the replica regions (each result's C(item) is its region); their items
        are named C(<region>/<repository>).
      - Any key may be missing, null or a skipped task's result; any other key is an error.
    type: dict
    required: true
  environment:
    description: The environment name.
    type: str
  account_id:
    description:
      - The registry's account; left out, the C(registry_id) that ecr_repository (or ecr_registry_settings) returned.
    type: str
  region:
    description: The registry's region.
    type: str
"""

EXAMPLES = r"""
- name: What differs from the declared state is known
  ansible.builtin.set_fact:
    drift: >-
      {{ {'repositories': ecr_registry__repositories, 'lifecycle': ecr_registry__lifecycle,
          'ci_role': ecr_registry__ci_role, 'registry_settings': ecr_registry__settings,
          'image_updater': ecr_registry__image_updater, 'pull': ecr_registry__pull}
         | cloudops.ecr.drift_report('dev', ecr_registry__caller.account, 'eu-west-1') }}

- name: The drift report is written
  ansible.builtin.copy:
    content: "{{ drift | cloudops.ecr.drift_markdown }}"
    dest: outputs/drift-dev.md
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The drift report.
  type: dict
  contains:
    environment: {description: The environment name., type: str}
    account_id: {description: The registry's account., type: str}
    region: {description: The registry's region., type: str}
    drift:
      description: Whether anything differs from the declared state (unmanaged repositories do not count).
      type: bool
    count: {description: The number of items., type: int}
    items:
      description:
        - One per resource that differs - C(kind) (V(repository), V(lifecycle), V(repository_policy),
          V(registry_settings), V(oidc_provider), V(ci_role), V(image_updater_role), V(pod_identity_association)),
          C(name), C(change) (V(create), V(update) or V(delete)), C(what) (the fields that differ, such as
          V(scan_on_push), V(tags), V(lifecycle policy), V(trust policy), V(inline policy)).
        - C(before) and C(after) map each field of C(what) to its value (null where absent), or are null without
          C(--diff); C(notes) are the module's own words on the change (the lifecycle preview, access removed).
      type: list
      elements: dict
    unmanaged: {description: Repositories of the registry that are not listed (left alone)., type: list, elements: str}
"""

import difflib
import json
import re

from ansible.errors import AnsibleFilterError

RESULT_KEYS = ("repositories", "lifecycle", "ci_role", "registry_settings", "image_updater", "pull")
# Looped results (one per replica region, its region in ``item``): reported as "<region>/<name>".
LOOPED_KEYS = {"replicas": "repositories", "replica_lifecycle": "lifecycle"}
KINDS = (
    "repository",
    "lifecycle",
    "repository_policy",
    "registry_settings",
    "oidc_provider",
    "ci_role",
    "image_updater_role",
    "pod_identity_association",
)
# The modules' field and change names as the report shows them; any other keeps its own name.
LABELS = {
    "policy": "repository policy",
    "lifecycle_policy": "lifecycle policy",
    "trust_policy": "trust policy",
    "permissions_policy": "inline policy",
    "permissions_boundary": "permissions boundary",
    "client_id": "client_ids",
    "created": "missing",
    "deleted": "exists",
}
# ecr_repository and ecr_lifecycle give repositories that share a diff one entry, its header naming them all
GROUPED_HEADER = re.compile(r"(\d+) repositories: (.+)")


def _ran(key: str, result) -> dict:
    """A registered result that ran (not skipped, not null), else an empty dict; a failed one is an error."""
    if not isinstance(result, dict) or result.get("skipped"):
        return {}
    if result.get("failed"):
        raise AnsibleFilterError(f"drift_report: the {key} task failed, its drift is unknown: {result.get('msg')}")
    return result


def _diffs(result: dict) -> dict[str, dict]:
    """The module's diff entries by header, one per repository where a header names several."""
    found = {}
    for entry in result.get("diff") or []:
        header = entry.get("before_header") or ""
        grouped = GROUPED_HEADER.fullmatch(header)
        names = grouped[2].split(", ") if grouped else []
        for name in names if grouped and int(grouped[1]) == len(names) else [header]:
            found[name] = entry
    return found


def _label(field: str) -> str:
    return LABELS.get(field, field)


def _change(changes) -> str:
    return "create" if "created" in changes else "delete" if "deleted" in changes else "update"


def _change_between(before: dict, after: dict) -> str:
    """From the views: a create when nothing was there, a delete when nothing will be."""
    return "create" if not any(before.values()) else "delete" if not any(after.values()) else "update"


def _item(kind: str, name: str, change: str, changes, views: tuple[dict, dict] | None, prepared=None) -> dict:
    """One resource that differs. ``views`` are its before and after as the module's diff shows them (None
    without ``--diff``: then ``what`` is the module's ``changes``); ``prepared`` is the diff's text."""
    if views is None:
        what, before, after = [_label(c) for c in changes], None, None
    else:
        old, new = views
        fields = [f for f in dict.fromkeys([*new, *old]) if old.get(f) != new.get(f)]
        what = [_label(f) for f in fields] or [_label(c) for c in changes]
        before = {_label(f): old.get(f) for f in fields}
        after = {_label(f): new.get(f) for f in fields}
    notes = [line.strip() for line in (prepared or "").splitlines() if line.strip()]
    return {
        "kind": kind,
        "name": name,
        "change": change,
        "what": what,
        "before": before,
        "after": after,
        "notes": notes,
    }


def _views(diff: dict | None, without: tuple[str, ...] = ()) -> tuple[dict, dict] | None:
    if diff is None:
        return None
    before, after = diff.get("before") or {}, diff.get("after") or {}
    return {k: v for k, v in before.items() if k not in without}, {k: v for k, v in after.items() if k not in without}


def _documents(diffs: dict[str, dict | None]) -> tuple[dict, dict] | None:
    """Views of whole documents (a policy, a registry setting) by field, ``{}`` shown as none."""
    if any(diff is None for diff in diffs.values()):
        return None
    return (
        {field: diff.get("before") or None for field, diff in diffs.items()},
        {field: diff.get("after") or None for field, diff in diffs.items()},
    )


def _repositories(result: dict) -> list[dict]:
    diffs, items = _diffs(result), []
    for entry in result.get("repositories", []):
        name, diff = entry["name"], diffs.get(entry["name"])
        changes = [c for c in entry.get("changes") or [] if c != "lifecycle_policy"]
        if changes:
            views = _views(diff, without=("lifecycle_policy",))
            items.append(_item("repository", name, _change(changes), changes, views))
        lifecycle = (entry.get("lifecycle") or {}).get("changes") or []
        if lifecycle:
            policies = diff and {side: (diff.get(side) or {}).get("lifecycle_policy") for side in ("before", "after")}
            views = _documents({"lifecycle_policy": policies})
            prepared = diff and diff.get("prepared")
            items.append(_item("lifecycle", name, _change(lifecycle), ["lifecycle_policy"], views, prepared))
    for name in result.get("membership_removed") or []:
        diff = diffs.get(name)
        items.append(_item("repository", name, "update", ["tags"], _views(diff), diff and diff.get("prepared")))
    return items


def _lifecycle(result: dict) -> list[dict]:
    diffs = _diffs(result)
    return [
        _item(
            "lifecycle",
            entry["name"],
            _change(entry["changes"]),
            ["lifecycle_policy"],
            _documents({"lifecycle_policy": diffs.get(entry["name"])}),
            (diffs.get(entry["name"]) or {}).get("prepared"),
        )
        for entry in result.get("repositories", [])
        if entry.get("changes")
    ]


def _role(kind: str, role: dict, diffs: dict[str, dict]) -> list[dict]:
    changes = role.get("changes") or []
    if not changes:
        return []
    diff = diffs.get(f"role {role['name']}")
    return [_item(kind, role["name"], _change(changes), changes, _views(diff), diff and diff.get("prepared"))]


def _ci_role(result: dict) -> list[dict]:
    diffs, items = _diffs(result), []
    changes = (result.get("provider") or {}).get("changes") or []
    if changes:
        host = result["provider_arn"].split(":oidc-provider/", 1)[-1]
        items.append(
            _item("oidc_provider", host, _change(changes), changes, _views(diffs.get(f"OIDC provider {host}")))
        )
    for role in result.get("roles", []):
        items += _role("ci_role", role, diffs)
    return items


def _registry_settings(result: dict) -> list[dict]:
    changes = result.get("changes") or []
    if not changes:
        return []
    diffs = _diffs(result)
    views = _documents({change: diffs.get(f"registry {change}") for change in changes})
    return [_item("registry_settings", result.get("registry_id") or "registry", "update", changes, views)]


def _image_updater(result: dict) -> list[dict]:
    diffs = _diffs(result)
    items = _role("image_updater_role", result.get("role") or {}, diffs)
    for header, diff in diffs.items():  # the association's changes are in its diff only
        if header.startswith("association "):
            views = _views(diff)
            kind, name = "pod_identity_association", header.removeprefix("association ")
            items.append(_item(kind, name, _change_between(*views), [], views))
    return items


def _pull(result: dict) -> list[dict]:
    diffs, items = _diffs(result), []
    for entry in result.get("repositories", []):
        if entry.get("changed"):
            diff = diffs.get(entry["name"])
            views = _documents({"policy": diff and {side: diff[side].get("policy") for side in ("before", "after")}})
            change = _change_between(*views) if views else "update"
            items.append(_item("repository_policy", entry["name"], change, ["policy"], views))
    return items


ITEMS = {
    "repositories": _repositories,
    "lifecycle": _lifecycle,
    "ci_role": _ci_role,
    "registry_settings": _registry_settings,
    "image_updater": _image_updater,
    "pull": _pull,
}


def drift_report(results, environment=None, account_id=None, region=None) -> dict:
    if not isinstance(results, dict):
        raise AnsibleFilterError("drift_report: expects the registered results by task, such as {'repositories': ...}")
    unknown = sorted(set(results) - set(RESULT_KEYS) - set(LOOPED_KEYS))
    if unknown:
        expected = ", ".join([*RESULT_KEYS, *LOOPED_KEYS])
        raise AnsibleFilterError(f"drift_report: unknown keys {', '.join(unknown)}; expected {expected}")
    ran = {key: _ran(key, results.get(key)) for key in RESULT_KEYS}
    items = [item for key, build in ITEMS.items() for item in build(ran[key])]
    for key, kind in LOOPED_KEYS.items():
        for looped in _ran(key, results.get(key)).get("results") or []:
            in_region = _ran(f"{key} ({looped.get('item')})", looped)
            items += [{**item, "name": f"{looped['item']}/{item['name']}"} for item in ITEMS[kind](in_region)]
    items.sort(key=lambda item: (KINDS.index(item["kind"]), item["name"]))
    return {
        "environment": environment,
        "account_id": account_id
        or ran["repositories"].get("registry_id")
        or ran["registry_settings"].get("registry_id"),
        "region": region,
        "drift": bool(items),
        "count": len(items),
        "items": items,
        "unmanaged": sorted(ran["repositories"].get("unmanaged") or []),
    }


# --- the report as Markdown ---------------------------------------------------------------------

INLINE_MAX = 60  # a value longer than this as compact JSON is shown as a unified diff of pretty JSON


def _compact(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _inline(value) -> str:
    return "none" if value is None else f"`{_compact(value)}`"


def _pretty(value) -> list[str]:
    return [] if value is None else json.dumps(value, sort_keys=True, indent=2).splitlines()


def _field(label: str, before, after) -> list[str]:
    if len(_compact(before)) <= INLINE_MAX and len(_compact(after)) <= INLINE_MAX:
        return [f"- **{label}**: {_inline(before)} → {_inline(after)}"]
    lines = difflib.unified_diff(_pretty(before), _pretty(after), "actual", "declared", lineterm="")
    return [f"- **{label}**:", "", "  ```diff", *(f"  {line}" for line in lines), "  ```", ""]


def _details(item: dict) -> list[str]:
    lines = [f"### {item['kind']} `{item['name']}`: {item['change']}", ""]
    if item["before"] is None:
        lines.append(f"- {', '.join(item['what'])} (run with --diff to see the values)")
    else:
        for label in item["what"]:
            lines += _field(label, item["before"].get(label), item["after"].get(label))
    lines += [f"- {note}" for note in item["notes"]]
    return [*lines, ""]


def drift_markdown(report) -> str:
    if not isinstance(report, dict) or "items" not in report:
        raise AnsibleFilterError("drift_markdown: expects the result of cloudops.ecr.drift_report")
    place = ", ".join(
        part
        for part in (
            report.get("environment"),
            report.get("account_id") and f"account {report['account_id']}",
            report.get("region"),
        )
        if part
    )
    lines = [f"# Drift report{': ' + place if place else ''}", ""]
    items = report["items"]
    if not items:
        lines += ["No drift: AWS holds the declared state.", ""]
    else:
        lines += [
            f"{len(items)} {'difference' if len(items) == 1 else 'differences'} from the declared state "
            "(what a run would change):",
            "",
            "| kind | name | change | what differs |",
            "| --- | --- | --- | --- |",
            *(f"| {i['kind']} | `{i['name']}` | {i['change']} | {', '.join(i['what'])} |" for i in items),
            "",
            "## What differs (actual → declared)",
            "",
        ]
        for item in items:
            lines += _details(item)
    unmanaged = report.get("unmanaged") or []
    lines += ["## Exists but not managed", ""]
    lines += [f"- `{name}`" for name in unmanaged] if unmanaged else ["No repository exists that is not managed."]
    return "\n".join(lines) + "\n"


class FilterModule:
    def filters(self):
        return {"drift_report": drift_report, "drift_markdown": drift_markdown}
