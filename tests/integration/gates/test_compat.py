"""Compat gate: the ansible-core floor the collection claims is the one the compat venv tests.

meta/runtime.yml's requires_ansible, the role's min_ansible_version and the compat venv's pin
(tests/integration/gates/compat-requirements.txt) name one ansible-core release; the compat gate
runs the module and site tests on that release (scripts/gates.sh, gate_compat).
"""

from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def read_yaml(*parts: str) -> dict:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return yaml.safe_load(f)


def compat_pin() -> tuple[int, int]:
    with open(os.path.join(ROOT, "tests", "integration", "gates", "compat-requirements.txt"), encoding="utf-8") as f:
        [pin] = re.findall(r"^ansible-core==(\d+)\.(\d+)\.\d+$", f.read(), re.MULTILINE)
    return int(pin[0]), int(pin[1])


def test_requires_ansible_starts_at_the_tested_release():
    claim = read_yaml("meta", "runtime.yml")["requires_ansible"]
    match = re.fullmatch(r">=(\d+)\.(\d+)\.0", claim)
    assert match, f"requires_ansible should be a plain floor '>=X.Y.0', not {claim!r}"
    assert (int(match[1]), int(match[2])) == compat_pin(), (
        f"requires_ansible {claim!r} is not the ansible-core the compat gate tests "
        "(tests/integration/gates/compat-requirements.txt)"
    )


def test_role_min_ansible_version_is_the_same_floor():
    minimum = read_yaml("roles", "ecr_registry", "meta", "main.yml")["galaxy_info"]["min_ansible_version"]
    assert minimum == "{}.{}".format(*compat_pin())
