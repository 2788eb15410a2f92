# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``cloudops.ecr.registry_inputs``: on the controller, before any AWS call."""

from __future__ import annotations

import importlib.util
import json
import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput
from ansible_collections.cloudops.ecr.plugins.plugin_utils.registry_inputs import (
    ROLE_PREFIX,
    known_region_problem,
    role_inputs,
    unknown_role_variables,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        specs = self._loader.load_from_file(os.path.join(args["role_path"], "meta", "argument_specs.yml"))
        entry_point = specs["argument_specs"][args.get("entry_point", "main")]["options"]
        declared = {name for spec in specs["argument_specs"].values() for name in spec.get("options", {})}

        unknown = unknown_role_variables((n for n in task_vars if n.startswith(ROLE_PREFIX)), declared)
        if unknown:
            return self._failed(result, "Unknown role variables, nothing was changed", unknown)

        provided = {name: task_vars[name] for name in entry_point if name in task_vars}
        checked = ArgumentSpecValidator(entry_point).validate(self._templar.template(provided))
        if checked.error_messages:
            return self._failed(result, "Invalid role variables, nothing was changed", checked.error_messages)
        values = checked.validated_parameters

        region, problems = self._region(values["ecr_registry_region"], args)
        if problems:
            return self._failed(result, "Invalid input, nothing was changed", problems)
        try:
            inputs = role_inputs(values, region, os.getcwd())
        except InvalidInput as exc:
            return self._failed(result, "Invalid input, nothing was changed", [str(p) for p in exc.problems])
        result.update(changed=False, **inputs.as_result())
        result["warnings"] = inputs.warnings
        return result

    def _region(self, given: str, args: dict) -> tuple[str, list[str]]:
        """The registry's region: the role variable, else the play's module_defaults (this action is in the
        group/cloudops.ecr.aws action group), else AWS_REGION / AWS_DEFAULT_REGION, else the AWS profile's."""
        region = given or args.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = region or _profile_region(args.get("profile") or os.environ.get("AWS_PROFILE"))
        if not region:
            return "", [
                "ecr_registry_region: is empty: set aws_region in the inventory, ecr_registry_region, "
                "a region in the play's module_defaults for group/cloudops.ecr.aws, or AWS_REGION"
            ]
        partitions = _botocore_partitions()
        problem = known_region_problem(region, partitions) if partitions else None
        return region, [f"ecr_registry_region: {problem}"] if problem else []

    @staticmethod
    def _failed(result: dict, title: str, lines: list[str]) -> dict:
        result.update(failed=True, msg="\n".join([f"{title}:", *(f"  - {line}" for line in lines)]), problems=lines)
        return result


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
