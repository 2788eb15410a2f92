"""Docs gate: what `ansible-doc` shows users, for every module, filter and the role.

DOCUMENTATION against the argument spec (types, defaults, choices, required) is checked by
validate-modules in the sanity gate; here every plugin must render, list with a description and
carry examples and return values, and the role's argument spec must cover every default.
"""

from __future__ import annotations

import glob
import json
import os

import pytest
import yaml
from conftest import BIN, ROOT, run

MODULES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(f"{ROOT}/plugins/modules/*.py"))
FILTER_FILES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(f"{ROOT}/plugins/filter/*.py"))
ROLES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(f"{ROOT}/roles/*/meta"))


def ansible_doc(*args: str):
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return run([f"{BIN}/ansible-doc", *args], cwd=ROOT, env=env)


def listing(plugin_type: str) -> dict[str, str]:
    result = ansible_doc("-t", plugin_type, "--json", "-l", "cloudops.ecr")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_there_is_something_to_document():
    assert MODULES and ROLES


@pytest.mark.parametrize("module", MODULES)
def test_module_renders_with_examples_and_return_values(module):
    result = ansible_doc("-t", "module", f"cloudops.ecr.{module}")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    for section in ("OPTIONS", "EXAMPLES:", "RETURN VALUES:"):
        assert section in result.stdout, f"{module}: no {section} in ansible-doc output"


def test_every_module_is_listed_with_a_one_line_description():
    listed = listing("module")
    assert sorted(listed) == [f"cloudops.ecr.{m}" for m in MODULES]
    blank = [name for name, description in listed.items() if not description.strip()]
    assert blank == [], f"modules without short_description: {blank}"


def test_every_filter_plugin_is_documented():
    listed = listing("filter")
    undocumented = [name for name, description in listed.items() if not description.strip()]
    assert undocumented == [], f"filters without documentation: {undocumented}"
    result = ansible_doc("-t", "filter", *sorted(listed))
    assert result.returncode == 0, result.stderr
    assert len(listed) >= len(FILTER_FILES), f"filter files {FILTER_FILES}, documented {sorted(listed)}"


@pytest.mark.parametrize("role", ROLES)
def test_role_argument_spec_renders_and_covers_every_default(role):
    result = ansible_doc("-t", "role", f"cloudops.ecr.{role}")
    assert result.returncode == 0, result.stderr

    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as f:
        options = yaml.safe_load(f)["argument_specs"]["main"]["options"]
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as f:
        defaults = yaml.safe_load(f) or {}
    undeclared = sorted(set(defaults) - set(options))
    assert undeclared == [], f"defaults not in meta/argument_specs.yml (no type check): {undeclared}"
    untyped = sorted(name for name, spec in options.items() if "type" not in spec)
    assert untyped == [], f"role variables without a type: {untyped}"
    undescribed = sorted(name for name, spec in options.items() if not spec.get("description"))
    assert undescribed == [], f"role variables without a description: {undescribed}"
