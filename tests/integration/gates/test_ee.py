"""EE gate: execution-environment.yml gives ansible-builder a complete build context.

Building the image needs podman or docker, which this machine lacks: `ansible-builder create`
(the context) and `ansible-builder introspect` (what the image would install) are what can run.
"""

from __future__ import annotations

import os
import re
import shutil
from importlib import metadata

import pytest
import yaml
from conftest import BIN, ROOT, galaxy, run


def requirement_pins(path: str) -> dict[str, str]:
    pins = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#;]+)", line.strip())
            if match:
                pins[match.group(1).lower()] = match.group(2)
    return pins


@pytest.fixture(scope="module")
def definition() -> dict:
    with open(os.path.join(ROOT, "execution-environment.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def context(definition, tarball, tmp_path_factory):
    """``ansible-builder create`` run the way the README says, in a scratch copy of the project."""
    project = tmp_path_factory.mktemp("ee-project")
    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), project)
    for entry in definition.get("additional_build_files", []):
        os.makedirs(project / os.path.dirname(entry["src"]), exist_ok=True)
        shutil.copy(tarball, project / entry["src"])
    out = project / "context"
    result = run(
        [
            f"{BIN}/ansible-builder",
            "create",
            "-f",
            "execution-environment.yml",
            "-c",
            str(out),
            "--output-filename",
            "Containerfile",
        ],
        cwd=str(project),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_definition_is_builder_v3_with_the_pinned_ansible(definition):
    assert definition["version"] == 3
    pins = requirement_pins(os.path.join(ROOT, "test-requirements.txt"))
    deps = definition["dependencies"]
    assert deps["ansible_core"]["package_pip"] == f"ansible-core=={pins['ansible-core']}"
    assert deps["ansible_runner"]["package_pip"] == f"ansible-runner=={pins['ansible-runner']}"


def test_definition_ships_the_tarball_of_this_version(definition):
    meta = galaxy()
    tarball = f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"
    sources = [os.path.basename(e["src"]) for e in definition["additional_build_files"]]
    galaxy_files = [c["name"] for c in definition["dependencies"]["galaxy"]["collections"] if c.get("type") == "file"]
    assert sources == [tarball], "execution-environment.yml must copy the tarball of galaxy.yml's version"
    assert [os.path.basename(n) for n in galaxy_files] == [tarball]


def test_create_produces_a_build_context(context):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile
    assert "ansible-core==2.21" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [c["name"] for c in requirements["collections"]]
    assert "amazon.aws" in names
    for name in names:
        if name.endswith(".tar.gz"):
            assert (context / "_build" / name).is_file(), f"{name} is not in the build context"
    for script in ("assemble", "introspect.py", "install-from-bindep", "check_ansible"):
        assert (context / "_build" / "scripts" / script).is_file()


def test_collection_declares_its_runtime_dependencies_for_introspection(installed, tmp_path):
    pip, bindep = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    result = run(
        [
            f"{BIN}/ansible-builder",
            "introspect",
            "--sanitize",
            installed,
            "--write-pip",
            str(pip),
            "--write-bindep",
            str(bindep),
        ],
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from collection cloudops.ecr" in pip.read_text()
    introspected = requirement_pins(str(pip))
    runtime = requirement_pins(os.path.join(ROOT, "requirements.txt"))
    assert sorted(runtime) == ["boto3", "botocore"], "requirements.txt holds the target's needs only"
    for package, version in runtime.items():
        assert introspected.get(package) == version, f"the EE would not get requirements.txt's {package}=={version}"
    assert "from collection cloudops.ecr" in bindep.read_text()


def test_runtime_pins_are_the_ones_the_project_tests_with():
    runtime = requirement_pins(os.path.join(ROOT, "requirements.txt"))
    development = requirement_pins(os.path.join(ROOT, "test-requirements.txt"))
    assert not set(runtime) & set(development), "a package pinned in both requirements files"
    installed = {package: metadata.version(package) for package in runtime}
    assert installed == runtime, "the venv does not hold requirements.txt's pins: run `make setup`"
