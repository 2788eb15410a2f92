# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ecr_registry`` role's variables as its run will use them, checked all at once, and the
arguments of every module task built from them once.

Controller side and pure: the action plugin ``cloudops.ecr.registry_inputs`` hands over the role's
variables (already converted to their declared types), the region and where it came from. Every
problem is named by the variable the user wrote (``ecr_registry_extra_repositories[1]``, not the
module's ``repositories[3]``), with the modules' own validators deciding what is valid.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import ci_role_request
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.image_updater import image_updater_request
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_plan import (
    desired_lifecycle_policies,
    desired_repositories_with_lifecycle,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput, Problems, join_path
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.registry_settings import (
    REGION_NAME,
    registry_settings_request,
    replication_request,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    repository_access_request,
    repository_name_for_github,
)

ROLE_PREFIX = "ecr_registry_"
INTERNAL_PREFIX = "ecr_registry__"
# Variables the role sets for its callers (not inputs).
ROLE_OUTPUTS = frozenset({"ecr_registry_outputs"})

# Which role variable holds each argument of a module task, for the messages.
_ROLE_VARIABLE = {
    "ecr_repository": {
        "image_tag_mutability": "ecr_registry_image_tag_mutability",
        "mutability_exclusions": "ecr_registry_mutability_exclusions",
        "scan_on_push": "ecr_registry_scan_on_push",
        "encryption_type": "ecr_registry_encryption_type",
        "kms_key": "ecr_registry_kms_key",
        "tags": "ecr_registry_tags",
        "access": "ecr_registry_repository_access",
        "membership_tag": "ecr_registry_access_tag",
    },
    "ecr_lifecycle": {
        "rules": "ecr_registry_lifecycle_rules",
        "max_expire_percent": "ecr_registry_lifecycle_max_expire_percent",
    },
    "github_oidc_role": {
        "name": "ecr_registry_ci_role_name",
        "github_repos": "ecr_registry_github_repos",
        "subjects": "ecr_registry_ci_subjects",
        "path": "ecr_registry_ci_role_path",
        "max_session_duration": "ecr_registry_ci_max_session_duration",
        "permissions_boundary": "ecr_registry_ci_permissions_boundary",
        "tags": "ecr_registry_tags",
        "trust_policy_max": "ecr_registry_iam_trust_policy_max",
        "roles_max": "ecr_registry_iam_roles_max",
    },
    "ecr_registry_settings": {"scanning": "ecr_registry_scanning", "replication": "ecr_registry_replication"},
    "repository_access": {
        "pull": "ecr_registry_pull.principals",
        "organizations": "ecr_registry_pull.organizations",
        "owner": "ecr_registry_environment",
    },
    "image_updater_role": {
        "name": "ecr_registry_image_updater_role_name",
        "path": "ecr_registry_image_updater_role_path",
        "cluster_name": "ecr_registry_eks_cluster_name",
        "namespace": "ecr_registry_image_updater_namespace",
        "service_account": "ecr_registry_image_updater_service_account",
        "tags": "ecr_registry_tags",
    },
}
# The module tasks' own validators: the role checks every task's input before the first writes.
_VALIDATORS: dict[str, Callable[[dict], Any]] = {
    "ecr_repository": desired_repositories_with_lifecycle,
    "ecr_lifecycle": desired_lifecycle_policies,
    "github_oidc_role": ci_role_request,
    "ecr_registry_settings": registry_settings_request,
    "image_updater_role": image_updater_request,
    "repository_access": repository_access_request,
}
_PATH_HEAD = re.compile(r"(?P<key>[A-Za-z_]+)(?:\[(?P<index>\d+)\])?(?P<rest>.*)")


@dataclass(frozen=True)
class RegistryRepositories:
    """The repositories of the registry, as ``ecr_repository`` takes them, and where each was listed."""

    entries: list
    names: list[str]
    origin: dict[str, str] = field(default_factory=dict)  # ECR name -> the role variable that lists it


@dataclass(frozen=True)
class RoleInputs:
    """What the role's run will do: the registry's and the environment's regions and profiles, each module
    task's arguments (None: the task does not run), and the outputs."""

    entry_point: str
    region: str
    profile: str | None
    environment: str
    environment_region: str
    environment_profile: str | None
    replica_regions: list[str]
    github_repos: list[str]
    repository_names: list[str]
    access_tag: dict
    ecr_repository: dict | None
    ecr_lifecycle: dict | None
    github_oidc_role: dict | None
    ecr_registry_settings: dict | None
    image_updater_role: dict | None
    repository_access: dict | None
    outputs_file: str | None
    handoff_dir: str | None
    drift_dir: str | None
    handoff: dict | None
    summary: bool
    preflight_only: bool
    warnings: list[str]

    def as_result(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def unknown_role_variables(names: Iterable[str], declared: Collection[str]) -> list[str]:
    """A line for each ``ecr_registry_*`` variable the role does not declare, naming the closest declared one.

    A misspelled variable is otherwise silently ignored, and its default takes effect instead."""
    lines = []
    for name in sorted(set(names)):
        if not name.startswith(ROLE_PREFIX) or name.startswith(INTERNAL_PREFIX):
            continue
        if name in declared or name in ROLE_OUTPUTS:
            continue
        close = difflib.get_close_matches(name, sorted(declared), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "the role's variables are in its meta/argument_specs.yml"
        lines.append(f"{name}: is not a variable of the ecr_registry role; {hint}")
    return lines


def registry_repositories(
    github_repos: list, extra: list, overrides: Mapping, problems: Problems
) -> RegistryRepositories:
    """The ECR repositories: one per GitHub repository (``owner/repo`` lowercased, ids left out), then
    the plain names, each once; ``overrides`` (keyed by ECR name) attached to their repository."""
    names, origin = [], {}
    for variable, values, name_of in (
        ("ecr_registry_github_repos", github_repos, lambda v: repository_name_for_github(str(v))),
        ("ecr_registry_extra_repositories", extra, str),
    ):
        for index, value in enumerate(values):
            name = name_of(value)
            if name not in origin:
                names.append(name)
                origin[name] = join_path(variable, index)
    _check_keys_name_repositories(overrides, "ecr_registry_repository_overrides", names, problems)
    entries = [{"name": name, **overrides[name]} if overrides.get(name) else name for name in names]
    return RegistryRepositories(entries, names, origin)


def _check_keys_name_repositories(given: Mapping, variable: str, names: list[str], problems: Problems) -> None:
    for key in given:
        if key in names:
            continue
        lowered = repository_name_for_github(str(key))
        if lowered in names:
            hint = f"ECR names are lowercase: write {lowered!r}"
        else:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it, or add the repository to the lists"
        problems.add(f"{variable}[{key!r}]", f"names no repository of the registry; {hint}")
        if not isinstance(given[key], Mapping):
            problems.add(f"{variable}[{key!r}]", "must be a dict of settings")


def role_inputs(
    values: Mapping, region: str, cwd: str, entry_point: str = "main", environment_region: str | None = None
) -> RoleInputs:
    """Every module task's arguments from the role's variables (converted to their declared types), for
    the parts of ``entry_point`` (``main``: the registry and the environment; ``registry``; ``environment``);
    raise InvalidInput naming the user's variables when anything the run would write is invalid."""
    problems = Problems()
    overrides = _mapping(values, "ecr_registry_repository_overrides", problems)
    lifecycle_overrides = _mapping(values, "ecr_registry_lifecycle_overrides", problems)
    repos = registry_repositories(
        values["ecr_registry_github_repos"], values["ecr_registry_extra_repositories"], overrides, problems
    )
    _check_keys_name_repositories(lifecycle_overrides, "ecr_registry_lifecycle_overrides", repos.names, problems)
    tasks = dict.fromkeys(_VALIDATORS)
    replica_regions: list[str] = []
    if entry_point in ("main", "registry"):
        tasks.update(_registry_tasks(values, repos, lifecycle_overrides))
        replica_regions = _replica_regions(values, region, repos, problems)
    environment = values["ecr_registry_environment"]
    environment_region = environment_region or region
    if entry_point in ("main", "environment"):
        tasks.update(_environment_tasks(values, repos, region))
    warnings = _check_tasks(tasks, region, environment_region, repos, overrides, lifecycle_overrides, problems)
    outputs_file = _outputs_file(values["ecr_registry_outputs_file"], cwd, problems)
    handoff_dir = _writable_dir(values["ecr_registry_handoff_dir"], "ecr_registry_handoff_dir", cwd, problems)
    drift_dir = _writable_dir(values["ecr_registry_drift_dir"], "ecr_registry_drift_dir", cwd, problems)
    problems.raise_if_any()
    return RoleInputs(
        entry_point=entry_point,
        region=region,
        profile=values["ecr_registry_aws_profile"] or None,
        environment=environment,
        environment_region=environment_region,
        environment_profile=values["ecr_registry_environment_aws_profile"] or None,
        replica_regions=replica_regions,
        github_repos=[str(repo) for repo in values["ecr_registry_github_repos"]],
        repository_names=repos.names,
        access_tag=values["ecr_registry_access_tag"],
        outputs_file=outputs_file,
        handoff_dir=handoff_dir,
        drift_dir=drift_dir,
        handoff=_handoff_settings(values, repos) if entry_point in ("main", "registry") else None,
        summary=values["ecr_registry_summary"],
        preflight_only=values["ecr_registry_preflight_only"],
        warnings=warnings,
        **tasks,
    )


def ci_subjects(values: Mapping) -> list[str]:
    """The subjects of the one CI trust: the registry's, then every environment's (in name order), each once."""
    subjects = list(values["ecr_registry_ci_subjects"])
    for name in sorted(values["ecr_registry_ci_environment_subjects"] or {}):
        subjects += [s for s in values["ecr_registry_ci_environment_subjects"][name] or [] if s not in subjects]
    return subjects


def _registry_tasks(values: Mapping, repos: RegistryRepositories, lifecycle_overrides: dict) -> dict:
    tasks: dict[str, dict | None] = {
        "ecr_repository": {
            "repositories": repos.entries,
            "image_tag_mutability": values["ecr_registry_image_tag_mutability"],
            "mutability_exclusions": values["ecr_registry_mutability_exclusions"] or None,
            "scan_on_push": values["ecr_registry_scan_on_push"],
            "encryption_type": values["ecr_registry_encryption_type"],
            "kms_key": values["ecr_registry_kms_key"] or None,
            "tags": values["ecr_registry_tags"],
            "purge_tags": values["ecr_registry_purge_tags"],
            "access": {k: v for k, v in (values["ecr_registry_repository_access"] or {}).items() if v} or None,
            "membership_tag": values["ecr_registry_access_tag"],
        }
    }
    if values["ecr_registry_lifecycle_enabled"]:
        tasks["ecr_lifecycle"] = {
            "repositories": [
                {"name": name, **lifecycle_overrides[name]} if lifecycle_overrides.get(name) else name
                for name in repos.names
            ],
            "rules": values["ecr_registry_lifecycle_rules"],
            "max_expire_percent": values["ecr_registry_lifecycle_max_expire_percent"],
        }
    if values["ecr_registry_ci_role"] and values["ecr_registry_github_repos"]:
        tasks["github_oidc_role"] = {
            "name": values["ecr_registry_ci_role_name"],
            "github_repos": values["ecr_registry_github_repos"],
            "subjects": ci_subjects(values),
            "per_repository": values["ecr_registry_ci_per_repository"],
            "path": values["ecr_registry_ci_role_path"],
            "max_session_duration": values["ecr_registry_ci_max_session_duration"],
            "permissions_boundary": values["ecr_registry_ci_permissions_boundary"] or None,
            "tags": values["ecr_registry_tags"],
            "purge_tags": values["ecr_registry_purge_tags"],
            "trust_policy_max": values["ecr_registry_iam_trust_policy_max"],
            "roles_max": values["ecr_registry_iam_roles_max"],
        }
    if values["ecr_registry_scanning"] or values["ecr_registry_replication"]:
        tasks["ecr_registry_settings"] = {
            "scanning": values["ecr_registry_scanning"] or None,
            "replication": values["ecr_registry_replication"] or None,
        }
    return tasks


def _replica_regions(values: Mapping, region: str, repos: RegistryRepositories, problems: Problems) -> list[str]:
    """``ecr_registry_replica_regions``: regions of the registry's account where every repository also
    exists, with the same settings, lifecycle and policies, for ECR's replication to fill.

    ECR replicates into an existing repository of the same name, and creates a missing one with none
    of the source's policies, tags or lifecycle: made first by the collection, the replicas are
    governed like the source. Each region must be a destination of ``ecr_registry_replication``
    in the registry's own account (``account_id`` left out) whose filters take every repository:
    otherwise the replicas would stay empty, which AWS would not say."""
    variable = "ecr_registry_replica_regions"
    given = values.get(variable) or []
    # read as ecr_registry_settings reads it (its own problems are reported by that task's validator)
    replication = replication_request(values.get("ecr_registry_replication") or None, region, Problems())
    rules = replication.rules if replication else ()
    regions: list[str] = []
    for index, replica in enumerate(given):
        where = join_path(variable, index)
        if not isinstance(replica, str) or not REGION_NAME.fullmatch(replica):
            problems.add(where, f"{replica!r} is not a region name")
            continue
        if replica == region:
            problems.add(where, f"{replica} is the registry's own region (ecr_registry_region): list other regions")
            continue
        if replica in regions:
            problems.add(where, f"{replica} is listed twice")
            continue
        regions.append(replica)
        covering = [
            rule
            for rule in rules
            if any(d["region"] == replica and d["registryId"] is None for d in rule["destinations"])
        ]
        if not covering:
            problems.add(
                where,
                f"no rule of ecr_registry_replication replicates to {replica} in the registry's account, so its "
                f"repositories would stay empty: add a rule with destinations [{{region: {replica}}}] (no "
                "account_id), or remove the region",
            )
            continue
        if any(not rule.get("repositoryFilters") for rule in covering):
            continue  # a rule without filters replicates every repository
        prefixes = [f["filter"] for rule in covering for f in rule["repositoryFilters"]]
        missed = [name for name in repos.names if not any(name.startswith(prefix) for prefix in prefixes)]
        if missed:
            shown = ", ".join(missed[:5]) + (f" and {len(missed) - 5} more" if len(missed) > 5 else "")
            problems.add(
                where,
                f"the filters of the ecr_registry_replication rules to {replica} ({', '.join(sorted(prefixes))}) "
                f"leave out {len(missed)} of the registry's repositories ({shown}): their replicas would stay "
                "empty; add a prefix that takes them, or drop the filters",
            )
    if regions:
        keys = [("ecr_registry_kms_key", values.get("ecr_registry_kms_key"))]
        keys += [
            (f"ecr_registry_repository_overrides[{entry['name']!r}].kms_key", entry.get("kms_key"))
            for entry in repos.entries
            if isinstance(entry, Mapping)
        ]
        for where, key in keys:
            if key:
                problems.add(
                    where,
                    "a KMS key belongs to one region, and ecr_registry_replica_regions makes repositories in "
                    f"{', '.join(regions)} too: leave it empty (each region's AWS managed key) or drop the replicas",
                )
    return regions


def _environment_tasks(values: Mapping, repos: RegistryRepositories, registry_region: str) -> dict:
    environment = values["ecr_registry_environment"]
    tasks: dict[str, dict | None] = {}
    if values["ecr_registry_image_updater"]:
        tasks["image_updater_role"] = {
            "name": values["ecr_registry_image_updater_role_name"],
            "path": values["ecr_registry_image_updater_role_path"],
            "description": f"ArgoCD Image Updater ({environment}): read ECR (cloudops.ecr)",
            "cluster_name": values["ecr_registry_eks_cluster_name"],
            "namespace": values["ecr_registry_image_updater_namespace"],
            "service_account": values["ecr_registry_image_updater_service_account"],
            "repository_tag": values["ecr_registry_access_tag"],
            "registry_region": registry_region,
            "association": values["ecr_registry_pod_identity_association"],
            "tags": values["ecr_registry_tags"],
            "purge_tags": values["ecr_registry_purge_tags"],
            "state": values["ecr_registry_environment_state"],
        }
    pull = values["ecr_registry_pull"] or {}
    # pull empty: the environment's own account, when it is not the registry's (known once the run
    # has asked each account who it is); principals or organizations named: always granted.
    tasks["repository_access"] = {
        "repositories": repos.names,
        "owner": environment,
        "pull": list(pull.get("principals") or []),
        "organizations": list(pull.get("organizations") or []),
        "own_account": not (pull.get("principals") or pull.get("organizations")),
        "state": values["ecr_registry_environment_state"],
    }
    return tasks


def _mapping(values: Mapping, variable: str, problems: Problems) -> dict:
    given = values.get(variable) or {}
    if not isinstance(given, Mapping):
        problems.add(variable, "must be a dict keyed by repository name")
        return {}
    return {key: value for key, value in given.items() if isinstance(value, Mapping)}


def _check_tasks(
    tasks: dict,
    region: str,
    environment_region: str,
    repos: RegistryRepositories,
    overrides,
    lifecycle_overrides,
    problems: Problems,
):
    """Each task's arguments through its module's validator; problems renamed to the user's variables,
    each place reported once (a bad repository name is refused by every task that names it)."""
    warnings, seen = [], set()
    for module, args in tasks.items():
        if args is None:
            continue
        try:
            where_it_runs = environment_region if module == "image_updater_role" else region
            found = _VALIDATORS[module]({**args, "region": where_it_runs})
        except InvalidInput as exc:
            for problem in exc.problems:
                where = _user_path(module, problem.path, repos, overrides, lifecycle_overrides)
                if where in seen:
                    continue  # said already: a bad repository is refused by every task that names it
                seen.add(where)
                problems.add(where, problem.message)
            continue
        warnings.extend(_warnings_of(module, found))
    return warnings


def _warnings_of(module: str, found: Any) -> list[str]:
    if module in ("ecr_repository", "ecr_lifecycle"):
        return list(found[-1])
    if module == "github_oidc_role":
        return list(found.warnings)
    return []


def _user_path(module: str, path: str, repos: RegistryRepositories, overrides, lifecycle_overrides) -> str:
    """The role variable (and the place in it) behind a module argument path."""
    match = _PATH_HEAD.fullmatch(path)
    if match is None:
        return path
    key, index, rest = match["key"], match["index"], match["rest"]
    if key == "repositories" and index is not None and int(index) < len(repos.names):
        name = repos.names[int(index)]
        if module == "ecr_lifecycle" and rest.lstrip(".").split(".")[0].split("[")[0] in lifecycle_overrides.get(
            name, {}
        ):
            return f"ecr_registry_lifecycle_overrides[{name!r}]{rest}"
        if module == "ecr_repository" and rest not in ("", ".name"):
            return f"ecr_registry_repository_overrides[{name!r}]{rest}"
        return repos.origin[name]
    if key == "repositories":
        return f"{_repository_list_variable(module)}{'' if index is None else f'[{index}]'}{rest}"
    variable = _ROLE_VARIABLE.get(module, {}).get(key)
    if variable is None:
        return f"{module} {path}"
    return f"{variable}{'' if index is None else f'[{index}]'}{rest}"


def _repository_list_variable(module: str) -> str:
    if module == "github_oidc_role":
        return "ecr_registry_github_repos"
    return "ecr_registry_github_repos / ecr_registry_extra_repositories"


def _handoff_settings(values: Mapping, repos: RegistryRepositories) -> dict:
    """What the hand-off files are made from besides the outputs: the subjects the CI role's trust admits,
    the CI role's name (or template) and each repository's tag mutability (its tags and cache follow it)."""
    mutability = {}
    for entry in repos.entries:
        override = entry if isinstance(entry, Mapping) else {}
        name = override.get("name", entry)
        mutability[name] = {
            "image_tag_mutability": override.get("image_tag_mutability") or values["ecr_registry_image_tag_mutability"],
            "exclusions": list(
                override.get("mutability_exclusions") or values["ecr_registry_mutability_exclusions"] or []
            ),
        }
    return {
        "ci_subjects": ci_subjects(values),
        "ci_role_name": values["ecr_registry_ci_role_name"],
        "per_repository": values["ecr_registry_ci_per_repository"],
        "repository_mutability": mutability,
    }


def _writable_dir(path: str, variable: str, cwd: str, problems: Problems) -> str | None:
    """A folder the run writes files into (``variable``), as an absolute path (relative to where the run
    started); refused when it cannot be made or written."""
    if not path:
        return None
    full = os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))
    existing = full
    while not os.path.isdir(existing):
        if os.path.exists(existing) or existing == os.path.dirname(existing):
            problems.add(variable, f"{path!r}: {existing} is not a directory")
            return full
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        problems.add(variable, f"{path!r} cannot be written here ({existing} is not writable)")
    return full


def _outputs_file(path: str, cwd: str, problems: Problems) -> str | None:
    """The outputs file as an absolute path (relative to where the run started); refused when it cannot be written."""
    if not path:
        return None
    full = os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))
    if os.path.isdir(full):
        problems.add("ecr_registry_outputs_file", f"{path!r} is a directory; name a file such as outputs/dev.json")
        return full
    existing = os.path.dirname(full)
    while not os.path.isdir(existing):
        if os.path.exists(existing) or existing == os.path.dirname(existing):
            problems.add("ecr_registry_outputs_file", f"{path!r}: {existing} is not a directory")
            return full
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK) or (os.path.exists(full) and not os.access(full, os.W_OK)):
        problems.add("ecr_registry_outputs_file", f"{path!r} cannot be written here ({existing} is not writable)")
    return full


def known_region_problem(region: str, partitions: list[dict]) -> str | None:
    """Why ``region`` is not a region of any AWS partition the installed botocore knows, or None.

    ``partitions`` is botocore's ``data/partitions.json`` ``partitions`` list."""
    known = [name for partition in partitions for name in partition.get("regions", {}) if not name.endswith("-global")]
    if region in known:
        return None
    same_looking = [name for name in known if _looks(name) == _looks(region)]
    close = same_looking or difflib.get_close_matches(region, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known regions: {', '.join(sorted(known))}"
    if any(re.fullmatch(partition["regionRegex"], region) for partition in partitions):
        return f"{region!r} is not a region the installed botocore knows ({hint}); a new region needs a newer botocore"
    return f"{region!r} is not an AWS region; {hint}"


def _looks(text: str) -> str:
    """``text`` with the characters people confuse when typing (l/1, o/0) made the same."""
    return text.lower().translate(str.maketrans("lio", "110"))


# Inventory names the role's defaults read for the registry (besides its own ecr_registry_* variables).
REGISTRY_INVENTORY_VARIABLES = ("github_repos", "extra_repositories", "registry_region", "registry_aws_profile")


def registry_wide_in_environment(
    files: list[tuple[str, bool, Any]], registry_wide: Collection[str], shared_hint: str
) -> list[str]:
    """A line for each registry-wide variable an environment inventory sets in a file of its own.

    ``files`` holds (path as shown, whether the file is the environment's own, its parsed YAML); a file
    the inventory links from elsewhere (the shared registry file) may set them."""
    lines = []
    for shown, own, data in files:
        if not own:
            continue
        for name in sorted(_variables_set(data) & set(registry_wide)):
            lines.append(
                f"{name}: is set in {shown}, an environment's own file, but it is a registry-wide setting "
                f"(every environment would undo the others' on each run): set it in {shared_hint}"
            )
    return lines


def _variables_set(data: Any) -> set[str]:
    """Variables a group_vars/host_vars file (its top-level keys) or an inventory file (``vars``, hosts) sets."""
    if not isinstance(data, Mapping):
        return set()
    if not any(isinstance(v, Mapping) and {"hosts", "children", "vars"} & set(v) for v in data.values()):
        return {str(key) for key in data}
    found: set[str] = set()
    for group in data.values():
        if not isinstance(group, Mapping):
            continue
        found.update(str(key) for key in (group.get("vars") or {}))
        for host_vars in (group.get("hosts") or {}).values():
            found.update(str(key) for key in (host_vars or {}))
        found |= _variables_set(group.get("children") or {})
    return found
