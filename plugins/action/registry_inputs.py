# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``cloudops.ecr.registry_inputs``: on the controller, before any AWS call."""

from __future__ import annotations

import importlib.util
import json
import os

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.plugins.plugin_utils.registry_inputs import (
    REGISTRY_INVENTORY_VARIABLES,
    ROLE_PREFIX,
    known_region_problem,
    registry_wide_in_environment,
    role_inputs,
    unknown_role_variables,
)

_YAML_FILES = ("", ".yml", ".yaml", ".json")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        entry_point = args.get("entry_point", "main")
        specs = self._loader.load_from_file(os.path.join(args["role_path"], "meta", "argument_specs.yml"))
        every_option = specs["argument_specs"]["main"]["options"]

        unknown = unknown_role_variables((n for n in task_vars if n.startswith(ROLE_PREFIX)), set(every_option))
        if unknown:
            return self._failed(result, "Unknown role variables, nothing was changed", unknown)

        provided = {name: task_vars[name] for name in every_option if name in task_vars}
        checked = ArgumentSpecValidator(every_option).validate(self._templar.template(provided))
        if checked.error_messages:
            return self._failed(result, "Invalid role variables, nothing was changed", checked.error_messages)
        values = checked.validated_parameters

        problems = []
        if values["ecr_registry_environment_inventory"] and entry_point in ("main", "registry"):
            registry_wide = {*REGISTRY_INVENTORY_VARIABLES, *specs["argument_specs"]["registry"]["options"]}
            registry_wide -= set(specs["argument_specs"]["environment"]["options"])
            problems += _registry_wide_problems(values["ecr_registry_environment_inventory"], registry_wide)
        region, region_problems = self._region(values["ecr_registry_region"], args, "ecr_registry_region")
        environment_region, environment_problems = ("", [])
        if entry_point in ("main", "environment"):
            given = values["ecr_registry_environment_region"] or region
            environment_region, environment_problems = self._region(given, args, "ecr_registry_environment_region")
        problems += region_problems + environment_problems
        if problems:
            return self._failed(result, "Invalid input, nothing was changed", problems)
        try:
            inputs = role_inputs(values, region, os.getcwd(), entry_point, environment_region)
        except InvalidInput as exc:
            return self._failed(result, "Invalid input, nothing was changed", [str(p) for p in exc.problems])
        result.update(changed=False, **inputs.as_result())
        return result

    def _region(self, given: str, args: dict, variable: str) -> tuple[str, list[str]]:
        """A region: the role variable, else the play's module_defaults (this action is in the
        group/cloudops.ecr.aws action group), else AWS_REGION / AWS_DEFAULT_REGION, else the AWS profile's."""
        region = given or args.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = region or _profile_region(args.get("profile") or os.environ.get("AWS_PROFILE"))
        if not region:
            return "", [
                f"{variable}: is empty: set it (or the inventory's region), a region in the play's module_defaults "
                "for group/cloudops.ecr.aws, or AWS_REGION"
            ]
        partitions = _botocore_partitions()
        problem = known_region_problem(region, partitions) if partitions else None
        return region, [f"{variable}: {problem}"] if problem else []

    @staticmethod
    def _failed(result: dict, title: str, lines: list[str]) -> dict:
        result.update(failed=True, msg="\n".join([f"{title}:", *(f"  - {line}" for line in lines)]), problems=lines)
        return result


def _registry_wide_problems(inventory: str, registry_wide: set[str]) -> list[str]:
    """Registry-wide variables set in the environment inventory's own files (not in a file it links)."""
    root = os.path.realpath(inventory)
    files, shared = [], set()
    for folder, _dirs, names in os.walk(inventory, followlinks=False):
        for name in sorted(names):
            path = os.path.join(folder, name)
            if os.path.splitext(name)[1] not in _YAML_FILES:
                continue
            real = os.path.realpath(path)
            own = os.path.commonpath([root, real]) == root
            if not own:
                shared.add(os.path.relpath(real, os.getcwd()))
            with open(path, encoding="utf-8") as handle:
                try:
                    data = yaml.safe_load(handle)
                except yaml.YAMLError:
                    continue  # not ours to judge: Ansible reads (or refuses) its inventory itself
            files.append((os.path.relpath(path, os.getcwd()), own, data))
    hint = " or ".join(sorted(shared)) or "a file every environment's inventory links (inventories/shared/registry.yml)"
    return registry_wide_in_environment(files, registry_wide, hint)


def _botocore_partitions() -> list[dict]:
    """botocore's list of partitions and their regions (read from its data file; no botocore import)."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        return []
    with open(os.path.join(os.path.dirname(spec.origin), "data", "partitions.json"), encoding="utf-8") as data:
        return json.load(data)["partitions"]


def _profile_region(profile: str | None) -> str | None:
    """The region the AWS config gives the profile (what boto3 would use), when botocore is installed."""
    try:
        import botocore.exceptions
        import botocore.session
    except ImportError:
        return None
    try:
        return botocore.session.Session(profile=profile).get_config_variable("region")
    except botocore.exceptions.ProfileNotFound:
        return None  # the module tasks report the missing profile themselves
