# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR repository rules: names, desired settings, repository policies, and the plan of changes.

Pure: no boto3. ``repository_specs`` turns module parameters into validated ``RepositorySpec``
values; ``plan_repository`` compares one with the repository AWS holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.ecr_actions import (
    ECR_ENVIRONMENT_READ_ACTIONS,
    ECR_PULL_ACTIONS,
    ECR_PUSH_ACTIONS,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import (
    InvalidInput,
    Problem,
    Problems,
    join_path,
    json_object,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.resource_plan import ResourcePlan, tags_after

# botocore ECR model, RepositoryName: 2-256 chars, this pattern as a full match.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPOSITORY_NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
REPOSITORY_NAME_MIN, REPOSITORY_NAME_MAX = 2, 256

# What a new repository gets when the option is left out (an existing one keeps its setting).
DEFAULT_MUTABILITY, DEFAULT_SCAN_ON_PUSH = "IMMUTABLE", True
MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
EXCLUSION_FILTER_RE = re.compile(r"[0-9a-zA-Z._*-]{1,128}")
ENCRYPTION_TYPES = ("AES256", "KMS", "KMS_DSSE")
KMS_KEY_MAX = 2048
POLICY_MAX_CHARS = 10240
TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_MAX = 128, 256, 50
ACCOUNT_ID_RE = re.compile(r"\d{12}")
PRINCIPAL_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)/[\w+=,.@/-]+)")
ORGANIZATION_ID_RE = re.compile(r"o-[a-z0-9]{10,32}")
_GITHUB_ID = re.compile(r"@[0-9]+(?=/|$)")

# Settings a repository entry may override; None means "leave what AWS holds alone".
SETTINGS = ("image_tag_mutability", "mutability_exclusions", "scan_on_push", "encryption_type", "kms_key", "tags")
POLICY_SETTINGS = ("policy", "access")
# What a repository entry may hold: its settings, and its own lifecycle policy (read by lifecycle_plan).
ENTRY_OPTIONS = (*SETTINGS, *POLICY_SETTINGS, "lifecycle")


@dataclass(frozen=True)
class RepositorySpec:
    """What the user asked for one repository. ``None`` leaves the current setting alone."""

    name: str
    image_tag_mutability: str | None = None
    mutability_exclusions: tuple[str, ...] | None = None
    scan_on_push: bool | None = None
    encryption_type: str | None = None
    kms_key: str | None = None
    tags: dict[str, str] | None = None
    purge_tags: bool = False
    policy: dict | None = None  # {} removes the policy
    path: str = "repositories"
    # With access: the Sids the policy's statements take; other statements of the repository's
    # policy (other owners' grants) are kept. None: policy is the whole document.
    owned_sids: frozenset[str] | None = None


@dataclass(frozen=True)
class RepositoryState:
    """What AWS holds for one repository (tags/policy None when not read)."""

    name: str
    arn: str
    uri: str
    registry_id: str
    image_tag_mutability: str
    mutability_exclusions: tuple[str, ...] = ()
    scan_on_push: bool = False
    encryption_type: str = "AES256"
    kms_key: str | None = None
    tags: dict[str, str] | None = None
    policy: dict | None = None


@dataclass(kw_only=True)
class RepositoryPlan(ResourcePlan):
    """The writes one repository needs, named as the result reports them."""

    name: str
    mutability: bool = False
    scanning: bool = False
    set_policy: dict | None = None
    delete_policy: bool = False

    def named_changes(self):
        return [
            ("image_tag_mutability", self.mutability),
            ("scan_on_push", self.scanning),
            ("tags", self.tags_change),
            ("policy", self.set_policy is not None or self.delete_policy),
        ]

    def created_with(self) -> list[str]:
        return ["policy"] if self.set_policy else []


def is_valid_repository_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and REPOSITORY_NAME_MIN <= len(name) <= REPOSITORY_NAME_MAX
        and REPOSITORY_NAME_RE.fullmatch(name) is not None
    )


def check_repository_name(name: Any, path: str, problems: Problems) -> None:
    if not isinstance(name, str):
        problems.add(path, f"repository name must be a string, got {type(name).__name__} {name!r}")
    elif not REPOSITORY_NAME_MIN <= len(name) <= REPOSITORY_NAME_MAX:
        problems.add(
            path,
            f"repository name {_short(name)} is {len(name)} characters; AWS allows "
            f"{REPOSITORY_NAME_MIN} to {REPOSITORY_NAME_MAX}",
        )
    elif REPOSITORY_NAME_RE.fullmatch(name) is None:
        problems.add(
            path,
            f"repository name {name!r} is not valid for ECR: lowercase letters and digits, "
            "components joined by '.', '_', '__' or '-', separated by single '/'",
        )


def repository_name_for_github(github_repo: str) -> str:
    """``Example-Org/My.App`` -> ``example-org/my.app``: the ECR repository for a GitHub repository.

    The immutable form ``owner@OWNER_ID/repo@REPO_ID`` names the same repository: the ids are left out."""
    return _GITHUB_ID.sub("", github_repo.strip()).lower()


def access_policy(
    pull: list[str] | tuple[str, ...] = (),
    push: list[str] | tuple[str, ...] = (),
    organizations: list[str] | tuple[str, ...] = (),
    owner: str = "Allow",
    pull_actions: tuple[str, ...] = ECR_PULL_ACTIONS,
) -> dict:
    """A repository policy granting pull (``pull_actions``) and push to principals, and pull to AWS
    Organizations, in statements whose ``Sid`` starts with ``owner`` (see :func:`owned_sids`)."""
    statements = []
    if pull:
        statements.append(_statement(f"{owner}Pull", {"AWS": sorted(set(pull))}, pull_actions))
    if push:
        statements.append(_statement(f"{owner}Push", {"AWS": sorted(set(push))}, ECR_PUSH_ACTIONS))
    if organizations:
        statement = _statement(f"{owner}PullFromOrganizations", "*", pull_actions)
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": sorted(set(organizations))}}
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def owned_sids(owner: str = "Allow") -> frozenset[str]:
    """The statement ids one owner's access takes in a repository policy (the registry's own: ``Allow``...)."""
    return frozenset({f"{owner}Pull", f"{owner}Push", f"{owner}PullFromOrganizations"})


def statement_owner(name: str) -> str:
    """A name (an environment's) as the alphanumeric Sid prefix IAM accepts, one prefix per name.

    A name of lowercase letters and digits reads as itself: ``dev`` -> ``EnvironmentDev``. Any other
    name (``pre-prod``, ``Pro``) is spelt out in hex after a ``0`` (``Environment0...``), which no
    readable prefix starts with: two names never share statements, so one environment's
    ``state=absent`` never removes another's grant."""
    if re.fullmatch(r"[a-z][a-z0-9]*", name):
        return "Environment" + name.capitalize()
    return "Environment0" + name.encode("utf-8").hex()


def policy_size_refusal(policies: dict[str, dict]) -> str | None:
    """Why these repository policies cannot be written: those over ECR's limit, as ECR counts the text
    it is sent (compact JSON). None when every one fits."""
    over = {
        name: size
        for name, policy in sorted(policies.items())
        if (size := len(json.dumps(policy, separators=(",", ":")))) > POLICY_MAX_CHARS
    }
    if not over:
        return None
    sizes = ", ".join(f"{name} ({size} characters)" for name, size in over.items())
    return (
        f"The repository policies of {sizes} would be over the {POLICY_MAX_CHARS} characters ECR allows: "
        "grant fewer principals (an account id instead of its roles, or an organization). Nothing was changed."
    )


def validate_access_owner(owner: Any, path: str = "owner") -> str:
    """The owner of a set of statements (an environment's name): letters and digits after the Sid prefix."""
    if not isinstance(owner, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", owner):
        raise InvalidInput([Problem(path, f"{owner!r} must be a name of 1-64 letters, digits, '.', '_', '-'")])
    return owner


def repository_access_request(params: dict) -> tuple[list[str], frozenset[str], list[dict]]:
    """``ecr_repository_access``'s parameters checked at once (raise InvalidInput): the repositories, the
    Sids its owner's statements take, and those statements (none with state absent)."""
    problems = Problems()
    names = repository_entries(params.get("repositories"), (), problems)
    owner = problems.checked(validate_access_owner, params.get("owner"))
    grants = {"pull": params.get("pull") or [], "organizations": params.get("organizations") or []}
    present = params.get("state", "present") == "present"
    if present and not params.get("own_account"):
        check_access(grants, "", problems)
    problems.raise_if_any()
    prefix = statement_owner(owner)
    statements = (
        access_policy(**grants, owner=prefix, pull_actions=ECR_ENVIRONMENT_READ_ACTIONS)["Statement"] if present else []
    )
    return [name for _path, name, _entry in names], owned_sids(prefix), statements


def missing_repositories_refusal(missing: list[str], check_mode: bool) -> str | None:
    """Why policies cannot be written (repositories that do not exist; in check mode they may be about to
    be created, so nothing is refused)."""
    if not missing or check_mode:
        return None
    return (
        f"These repositories do not exist: {', '.join(missing)}; converge the registry first "
        "(cloudops.ecr.ecr_repository). Nothing was changed."
    )


def merged_policy(current: dict | None, owned: frozenset[str], statements: list[dict]) -> dict | None:
    """``current`` with the statements of ``owned`` Sids replaced by ``statements``, every other
    statement kept as it is (other owners' grants). None when no statement is left."""
    kept = [s for s in _statement_list(current) if s.get("Sid") not in owned]
    everything = kept + list(statements)
    if not everything:
        return None
    return {"Version": (current or {}).get("Version", "2012-10-17"), "Statement": everything}


def _statement_list(policy: dict | None) -> list[dict]:
    statements = (policy or {}).get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _statement(sid: str, principal: Any, actions: tuple[str, ...]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": list(actions)}


def check_access(access: Any, path: str, problems: Problems) -> None:
    if not isinstance(access, dict):
        problems.add(path, "must be a dict with pull, push and/or organizations")
        return
    unknown = set(access) - {"pull", "push", "organizations"}
    for key in sorted(unknown):
        problems.add(join_path(path, key), "unknown key; use pull, push or organizations")
    for key in ("pull", "push"):
        for i, principal in enumerate(access.get(key) or []):
            item = join_path(join_path(path, key), i)
            if principal == "*" or not isinstance(principal, str):
                problems.add(item, f"{principal!r} would open the repository to everyone; name accounts or ARNs")
            elif not (ACCOUNT_ID_RE.fullmatch(principal) or PRINCIPAL_ARN_RE.fullmatch(principal)):
                problems.add(item, f"{principal!r} is not a 12-digit account id or an IAM root/role/user ARN")
    for i, org in enumerate(access.get("organizations") or []):
        if not isinstance(org, str) or not ORGANIZATION_ID_RE.fullmatch(org):
            problems.add(join_path(join_path(path, "organizations"), i), f"{org!r} is not an organization id (o-...)")
    if not any(access.get(k) for k in ("pull", "push", "organizations")):
        problems.add(path, "grants nothing: give pull, push or organizations (or policy: {} to remove the policy)")


def parse_policy_document(policy: Any, path: str, problems: Problems, max_chars: int = POLICY_MAX_CHARS) -> dict | None:
    """A raw IAM-style policy as a dict (from a dict or JSON text), checked for shape and size."""
    policy = json_object(policy, path, problems, "a policy document (dict or JSON object)")
    if not policy:
        return policy
    size = len(json.dumps(policy, separators=(",", ":")))
    if size > max_chars:
        problems.add(path, f"is {size} characters; AWS allows at most {max_chars}")
    statements = policy.get("Statement")
    if not statements or not isinstance(statements, (list, dict)):
        problems.add(join_path(path, "Statement"), "a policy needs at least one statement")
    else:
        for i, st in enumerate(statements if isinstance(statements, list) else [statements]):
            st_path = join_path(join_path(path, "Statement"), i)
            if not isinstance(st, dict):
                problems.add(st_path, "must be a dict")
                continue
            if st.get("Effect") not in ("Allow", "Deny"):
                problems.add(join_path(st_path, "Effect"), f"must be Allow or Deny, got {st.get('Effect')!r}")
            if "Action" not in st and "NotAction" not in st:
                problems.add(st_path, "needs Action or NotAction")
            if "Principal" not in st and "NotPrincipal" not in st:
                problems.add(st_path, "a repository policy statement needs a Principal")
    return policy


def check_tags(tags: Any, path: str, problems: Problems) -> dict[str, str] | None:
    if not isinstance(tags, dict):
        problems.add(path, f"must be a dict of key: value, got {type(tags).__name__}")
        return None
    if len(tags) > TAGS_MAX:
        problems.add(path, f"has {len(tags)} tags; AWS allows at most {TAGS_MAX}")
    clean = {}
    for key, value in tags.items():
        key_s, value_s = str(key), "" if value is None else str(value)
        if not 1 <= len(key_s) <= TAG_KEY_MAX or key_s.startswith("aws:"):
            problems.add(join_path(path, key_s), f"tag key must be 1-{TAG_KEY_MAX} characters, not starting 'aws:'")
        if len(value_s) > TAG_VALUE_MAX:
            problems.add(join_path(path, key_s), f"tag value is {len(value_s)} characters; at most {TAG_VALUE_MAX}")
        clean[key_s] = value_s
    return clean


def repository_entries(entries: Any, options: tuple[str, ...], problems: Problems) -> list[tuple[str, Any, dict]]:
    """The entries of a module's ``repositories`` list as ``(path, name, entry)``: a plain name
    becomes ``{"name": ...}``; bad names, duplicates and options not in ``options`` are reported
    (the caller still checks the entry's options, so every problem shows at once)."""
    if not entries:
        problems.add("repositories", "list at least one repository")
    found, seen = [], {}
    for index, entry in enumerate(entries or []):
        path = join_path("repositories", index)
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            problems.add(path, f"must be a repository name or a dict with name, not {type(entry).__name__}")
            continue
        for key in sorted(set(entry) - {"name", *options}, key=str):
            problems.add(join_path(path, str(key)), f"unknown option; a repository entry takes {', '.join(options)}")
        name = entry.get("name")
        check_repository_name(name, join_path(path, "name") if len(entry) > 1 else path, problems)
        if isinstance(name, str):
            if name in seen:
                problems.add(path, f"repository {name!r} is listed twice (also at {seen[name]})")
            seen.setdefault(name, path)
        found.append((path, name, entry))
    return found


def repository_specs(params: dict, problems: Problems) -> list[tuple[RepositorySpec, dict]]:
    """One spec per repository with its entry (whose ``lifecycle`` the caller reads); problems are
    added to ``problems``, so a caller validating more reports everything at once. The membership
    tag, when given, is among every repository's tags."""
    shared = _settings(params, "", problems)
    membership = membership_tag(params.get("membership_tag"), problems)
    specs = []
    for path, name, entry in repository_entries(params.get("repositories"), ENTRY_OPTIONS, problems):
        override = {k: v for k, v in _settings(entry, path, problems).items() if v is not None}
        merged = {**shared, **override}
        if "policy" in override:  # a repository's own policy or access replaces the shared one, ownership too
            merged["owned_sids"] = override.get("owned_sids")
        purge = bool(params.get("purge_tags"))
        if membership is not None:
            key, value = membership
            given = merged.get("tags")
            if given is not None and given.get(key, value) != value:
                where = join_path(path if "tags" in override else "", "tags")
                problems.add(
                    join_path(where, key), f"is the membership tag: it must be {value!r}, as membership_tag says"
                )
            purge = purge and given is not None
            merged["tags"] = {**(given or {}), key: value}
        specs.append((RepositorySpec(name=name, purge_tags=purge, path=path, **merged), entry))
    return specs


def membership_tag(value: Any, problems: Problems, path: str = "membership_tag") -> tuple[str, str] | None:
    """A ``{key, value}`` tag option as a pair, checked as an ECR tag; None when not given."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"key", "value"}:
        problems.add(path, f"must be a dict with key and value, not {value!r}")
        return None
    checked = check_tags({value["key"]: value["value"]}, path, problems) or {}
    return next(iter(checked.items()), None)


def _settings(source: dict, path: str, problems: Problems) -> dict:
    """Read and check the settings in ``source`` (module top level or one repository entry)."""
    out: dict[str, Any] = {k: None for k in (*SETTINGS, "policy", "owned_sids")}
    mutability = source.get("image_tag_mutability")
    if mutability is not None:
        if mutability not in MUTABILITY:
            problems.add(
                join_path(path, "image_tag_mutability"), f"{mutability!r} is not one of {', '.join(MUTABILITY)}"
            )
        out["image_tag_mutability"] = mutability
    exclusions = source.get("mutability_exclusions")
    if exclusions is not None:
        out["mutability_exclusions"] = tuple(exclusions)
        for i, f in enumerate(exclusions):
            if not isinstance(f, str) or not EXCLUSION_FILTER_RE.fullmatch(f):
                problems.add(
                    join_path(join_path(path, "mutability_exclusions"), i),
                    f"{f!r} is not a tag filter: 1-128 of letters, digits, '.', '_', '-', '*'",
                )
    if mutability is not None and mutability.endswith("_WITH_EXCLUSION"):
        if not exclusions or not 1 <= len(exclusions) <= 5:
            problems.add(join_path(path, "mutability_exclusions"), f"{mutability} needs 1 to 5 exclusion filters")
    elif exclusions:
        problems.add(
            join_path(path, "mutability_exclusions"),
            "only used with image_tag_mutability IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION",
        )
    scan = source.get("scan_on_push")
    if scan is not None:
        if not isinstance(scan, bool):
            problems.add(join_path(path, "scan_on_push"), f"must be true or false, got {scan!r}")
        out["scan_on_push"] = scan
    encryption = source.get("encryption_type")
    kms_key = source.get("kms_key")
    if encryption is not None and encryption not in ENCRYPTION_TYPES:
        problems.add(join_path(path, "encryption_type"), f"{encryption!r} is not one of {', '.join(ENCRYPTION_TYPES)}")
    if kms_key is not None:
        if encryption not in ("KMS", "KMS_DSSE"):
            problems.add(
                join_path(path, "kms_key"),
                f"{_short(str(kms_key))} needs encryption_type KMS or KMS_DSSE, not {encryption!r}",
            )
        elif not isinstance(kms_key, str) or not 1 <= len(kms_key) <= KMS_KEY_MAX:
            problems.add(
                join_path(path, "kms_key"),
                f"{_short(str(kms_key))} is not a key id, ARN or alias of 1-{KMS_KEY_MAX} characters",
            )
    out["encryption_type"], out["kms_key"] = encryption, kms_key
    if source.get("tags") is not None:
        out["tags"] = check_tags(source["tags"], join_path(path, "tags"), problems)
    policy, access = source.get("policy"), source.get("access")
    if policy is not None and access is not None:
        problems.add(join_path(path, "access"), "give either policy or access, not both")
    elif access is not None:
        check_access(access, join_path(path, "access"), problems)
        out["policy"] = access_policy(**{k: access.get(k) or () for k in ("pull", "push", "organizations")})
        out["owned_sids"] = owned_sids()
        size = len(json.dumps(out["policy"], separators=(",", ":")))
        if size > POLICY_MAX_CHARS:
            problems.add(
                join_path(path, "access"),
                f"gives a repository policy of {size} characters; ECR allows {POLICY_MAX_CHARS}: name accounts "
                "instead of many roles, or an organization",
            )
    elif policy is not None:
        out["policy"] = parse_policy_document(policy, join_path(path, "policy"), problems)
    return out


def plan_repository(spec: RepositorySpec, current: RepositoryState | None, policy_differs) -> RepositoryPlan:
    """The writes that make ``current`` match ``spec``. ``policy_differs(a, b)`` compares policies.

    Raises InvalidInput for a change AWS cannot make in place (encryption is fixed at creation).
    """
    plan = RepositoryPlan(name=spec.name)
    if current is None:
        plan.create = True
        plan.set_policy = spec.policy or None
        return plan
    problems = Problems()
    if spec.encryption_type is not None and spec.encryption_type != current.encryption_type:
        problems.add(
            join_path(spec.path, "encryption_type"),
            f"repository {spec.name!r} is encrypted with {current.encryption_type}, not {spec.encryption_type}; "
            "ECR cannot change encryption after creation (recreate the repository to change it)",
        )
    elif spec.kms_key is not None and current.kms_key is not None and spec.kms_key != current.kms_key:
        problems.add(
            join_path(spec.path, "kms_key"),
            f"repository {spec.name!r} uses KMS key {current.kms_key}, not {spec.kms_key}; "
            "ECR cannot change the key after creation",
        )
    problems.raise_if_any()
    if spec.image_tag_mutability is not None and (
        spec.image_tag_mutability != current.image_tag_mutability
        or (
            spec.mutability_exclusions is not None
            and set(spec.mutability_exclusions) != set(current.mutability_exclusions)
        )
    ):
        plan.mutability = True
    if spec.scan_on_push is not None and spec.scan_on_push != current.scan_on_push:
        plan.scanning = True
    if spec.tags is not None:
        to_set, to_remove = compare_aws_tags(current.tags or {}, spec.tags, spec.purge_tags)
        plan.tags_to_set, plan.tags_to_remove = to_set, sorted(to_remove)
    if spec.policy is not None:
        wanted = spec.policy
        if spec.owned_sids is not None:
            wanted = merged_policy(current.policy, spec.owned_sids, _statement_list(spec.policy)) or {}
        if not wanted:
            plan.delete_policy = current.policy is not None
        elif current.policy is None or policy_differs(current.policy, wanted):
            plan.set_policy = wanted
    return plan


def state_view(state: RepositoryState | None, spec: RepositorySpec | None = None) -> dict:
    """A repository as shown in diff mode: the settings the user manages, snake_case."""
    if state is None:
        if spec is None:
            return {}
        return {
            "image_tag_mutability": spec.image_tag_mutability or DEFAULT_MUTABILITY,
            "scan_on_push": DEFAULT_SCAN_ON_PUSH if spec.scan_on_push is None else spec.scan_on_push,
            "encryption_type": spec.encryption_type or "AES256",
            "tags": spec.tags or {},
            "policy": spec.policy or None,
        }
    view = {
        "image_tag_mutability": state.image_tag_mutability,
        "scan_on_push": state.scan_on_push,
        "encryption_type": state.encryption_type,
    }
    if state.mutability_exclusions:
        view["mutability_exclusions"] = list(state.mutability_exclusions)
    if state.tags is not None:
        view["tags"] = state.tags
    if state.policy is not None:
        view["policy"] = state.policy
    return view


def planned_view(current: RepositoryState, plan: RepositoryPlan, spec: RepositorySpec) -> dict:
    """``state_view(current)`` with the plan applied: the diff's ``after``."""
    view = state_view(current)
    if plan.mutability:
        view["image_tag_mutability"] = spec.image_tag_mutability
        if spec.mutability_exclusions:
            view["mutability_exclusions"] = list(spec.mutability_exclusions)
    if plan.scanning:
        view["scan_on_push"] = spec.scan_on_push
    if plan.tags_change:
        view["tags"] = tags_after(current.tags or {}, plan)
    if plan.set_policy is not None:
        view["policy"] = plan.set_policy
    if plan.delete_policy:
        view.pop("policy", None)
    return view


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def deletion_refusal(holding_images: list[str], force: bool) -> str | None:
    """Why ``state: absent`` must not delete these repositories, or None: images go only with ``force``."""
    if force or not holding_images:
        return None
    return (
        f"Refusing to delete repositories that hold images: {', '.join(holding_images)}; "
        "set force: true to delete them with their images. Nothing was deleted."
    )


def plan_repositories(specs: list[RepositorySpec], states: dict[str, RepositoryState], policy_differs) -> list:
    """``(spec, plan)`` for every repository, every refusal of every repository raised at once."""
    problems, plans = Problems(), []
    for spec in specs:
        plan = problems.checked(plan_repository, spec, states.get(spec.name), policy_differs)
        if plan is not None:
            plans.append((spec, plan))
    problems.raise_if_any()
    return plans
