"""The layers stay visible: pure rules import no AWS SDK, the AWS layer no runner, modules only wire."""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
PACKAGE = "ansible_collections.cloudops.ecr.plugins.module_utils"
AMAZON = "ansible_collections.amazon.aws.plugins.module_utils"
# amazon.aws helpers that are plain Python (no botocore, no module): the rules may use them.
PURE_AMAZON_HELPERS = {f"{AMAZON}.tagging", f"{AMAZON}.policy", f"{AMAZON}.arn", f"{AMAZON}.transformation"}
MODULE_CODE_LINES_MAX = 60


def python_files(folder: str) -> list[str]:
    return sorted(
        os.path.join(top, name) for top, _dirs, names in os.walk(folder) for name in names if name.endswith(".py")
    )


def imported(path: str) -> set[str]:
    """Every module ``path`` imports (``from x import y`` counts as x and x.y)."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def forbidden_in_rules(names: set[str]) -> list[str]:
    """The imports a pure rule may not make: the AWS SDK, amazon.aws's modules, retries and
    botocore helpers, and the collection's AWS and runner layers."""
    bad = []
    for name in sorted(names):
        root = name.split(".")[0]
        if (
            root in ("boto3", "botocore")
            or (
                name.startswith(AMAZON + ".")
                and not any(name == helper or name.startswith(helper + ".") for helper in PURE_AMAZON_HELPERS)
            )
            or name.startswith((f"{PACKAGE}._aws", f"{PACKAGE}._runners"))
        ):
            bad.append(name)
    return bad


RULES = python_files(os.path.join(MODULE_UTILS, "_rules"))
AWS = python_files(os.path.join(MODULE_UTILS, "_aws"))
MODULES = [p for p in python_files(os.path.join(ROOT, "plugins", "modules")) if not p.endswith("__init__.py")]


def test_the_three_layers_exist_and_hold_every_module_util():
    loose = [name for name in os.listdir(MODULE_UTILS) if name.endswith(".py") and name != "__init__.py"]
    assert loose == [], f"module_utils files outside a layer package: {loose}"
    assert RULES and AWS and python_files(os.path.join(MODULE_UTILS, "_runners"))


@pytest.mark.parametrize("path", RULES, ids=lambda p: os.path.relpath(p, ROOT))
def test_pure_rules_import_no_aws_sdk_and_no_other_layer(path):
    assert forbidden_in_rules(imported(path)) == []


def test_the_rule_check_catches_each_forbidden_import():
    names = {
        "boto3",
        "botocore.exceptions",
        f"{AMAZON}.retries.AWSRetry",
        f"{AMAZON}.modules.AnsibleAWSModule",
        f"{AMAZON}.botocore.is_boto3_error_code",
        f"{PACKAGE}._aws.client",
        f"{AMAZON}.tagging.compare_aws_tags",
        f"{PACKAGE}._rules.problems",
    }
    assert forbidden_in_rules(names) == sorted(
        names - {f"{AMAZON}.tagging.compare_aws_tags", f"{PACKAGE}._rules.problems"}
    )


@pytest.mark.parametrize("path", AWS, ids=lambda p: os.path.relpath(p, ROOT))
def test_aws_access_does_not_reach_up_into_the_runners(path):
    assert [name for name in imported(path) if name.startswith(f"{PACKAGE}._runners")] == []


def code_lines(path: str) -> int:
    """Lines of a module file that are not its DOCUMENTATION / EXAMPLES / RETURN, comments or blank."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    tree = ast.parse(source)
    doc_lines = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in ("DOCUMENTATION", "EXAMPLES", "RETURN") for t in node.targets
        ):
            doc_lines.update(range(node.lineno, node.end_lineno + 1))
    lines = source.splitlines()
    return sum(
        1
        for number, line in enumerate(lines, start=1)
        if number not in doc_lines and line.strip() and not line.strip().startswith("#")
    )


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_a_module_is_its_docs_argument_spec_and_a_short_main(path):
    assert code_lines(path) <= MODULE_CODE_LINES_MAX
    names = imported(path)
    collection = {n for n in names if n.startswith("ansible_collections.cloudops.ecr.")}
    assert all(n.startswith((f"{PACKAGE}._runners", f"{PACKAGE}._rules")) for n in collection), collection
