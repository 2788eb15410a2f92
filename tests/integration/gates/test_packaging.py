"""Packaging gate: the collection as users get it, from the built tarball, run by FQCN against moto."""

from __future__ import annotations

import json
import os
import tarfile
import warnings

import pytest
from conftest import BIN, GATES, galaxy, outside_env, run

# What a cloudops.ecr tarball may hold: the collection, not the project around it.
SHIPPED = (
    "FILES.json",
    "MANIFEST.json",
    "README.md",
    "LICENSE",
    "COPYING",
    "CHANGELOG.rst",
    "bindep.txt",
    "requirements.txt",
    "changelogs/",
    "docs/",
    "meta/",
    "playbooks/",
    "plugins/",
    "roles/",
    "tests/sanity/",
)
REQUIRED = (
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "requirements.txt",
    "bindep.txt",
    "roles/ecr_registry/README.md",
    "plugins/modules/ecr_repository.py",
    "roles/ecr_registry/meta/argument_specs.yml",
    "changelogs/changelog.yaml",
)


def test_tarball_holds_the_collection_and_no_development_files(tarball):
    with tarfile.open(tarball) as tar:
        members = [m.name + ("/" if m.isdir() else "") for m in tar.getmembers()]
    files = [m for m in members if not m.endswith("/")]
    stray = [f for f in files if not f.startswith(SHIPPED)]
    assert stray == [], f"files that are not part of the collection (add them to galaxy.yml build_ignore): {stray}"
    missing = [f for f in REQUIRED if f not in files]
    assert missing == [], f"missing from the tarball: {missing}"


# Warnings galaxy-importer prints for this collection, each with its reason; any other one fails.
EXPLAINED_IMPORTER_WARNINGS = {
    # ansible-lint 26.10 (galaxy-importer allows none newer) lists supported releases up to 2.19;
    # the lint gate adds 2.20 in .ansible-lint, which the tarball does not ship.
    "meta-runtime[unsupported-version]": "ansible-lint's list of supported ansible-core ends at 2.19",
}


def test_galaxy_importer_accepts_the_tarball(tarball, galaxy_importer, tmp_path):
    """What Galaxy and Automation Hub run on upload (ansible-doc, ansible-lint, role and changelog
    checks), offline: galaxy-importer.cfg leaves ansible-test to the sanity gate."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GALAXY_IMPORTER_"))}
    env["GALAXY_IMPORTER_CONFIG"] = os.path.join(GATES, "galaxy-importer.cfg")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the ansible-doc and ansible-lint it runs
    env["HOME"] = str(tmp_path)  # their caches (~/.ansible, ~/.cache) stay in the test's directory
    result = run([galaxy_importer, "-m", "galaxy_importer.main", tarball], str(tmp_path), env)
    log = result.stdout + result.stderr
    errors = [line for line in log.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    assert result.returncode == 0 and errors == [], log
    assert "Importer processing completed successfully" in log, log

    printed = [line for line in log.splitlines() if line.startswith("WARNING")]
    reasons = {line: [why for tag, why in EXPLAINED_IMPORTER_WARNINGS.items() if tag in line] for line in printed}
    unexplained = [line for line, why in reasons.items() if not why]
    assert unexplained == [], "galaxy-importer warns (fix it, or explain it above):\n" + "\n".join(unexplained)
    for line, why in reasons.items():
        warnings.warn(f"galaxy-importer {line} (known: {why[0]})", stacklevel=1)

    imported = json.loads((tmp_path / "importer_result.json").read_text())
    contents = {(c["content_type"], c["name"]) for c in imported["contents"]}
    assert {("role", "ecr_registry"), ("module", "ecr_repository")} <= contents, sorted(contents)


def test_manifest_declares_amazon_aws_as_dependency(tarball):
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("cloudops", "ecr", galaxy()["version"])
    assert "amazon.aws" in info["dependencies"]


def test_installed_copy_is_the_one_ansible_uses(installed, tmp_path):
    env = outside_env(dict(os.environ), installed)
    doc = run([f"{BIN}/ansible-doc", "--json", "-t", "module", "cloudops.ecr.ecr_repository"], str(tmp_path), env)
    assert doc.returncode == 0, doc.stderr
    filename = json.loads(doc.stdout)["cloudops.ecr.ecr_repository"]["doc"]["filename"]
    assert filename.startswith(installed), filename


def test_installed_module_by_fqcn_creates_repositories(installed, aws, tmp_path):
    env = outside_env(aws.env(), installed)
    args = json.dumps({"repositories": ["packaged/api", "packaged/web"], "tags": {"team": "platform"}})
    result = run(
        [
            f"{BIN}/ansible",
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={BIN}/python",
            "-m",
            "cloudops.ecr.ecr_repository",
            "-a",
            args,
        ],
        str(tmp_path),
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CHANGED" in result.stdout, result.stdout

    repos = {r["repositoryName"]: r for r in aws.client("ecr").describe_repositories()["repositories"]}
    assert sorted(repos) == ["packaged/api", "packaged/web"]
    assert all(r["imageTagMutability"] == "IMMUTABLE" for r in repos.values())
    assert all(r["imageScanningConfiguration"]["scanOnPush"] for r in repos.values())


@pytest.fixture
def role_playbook(tmp_path):
    (tmp_path / "inventory.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
    )
    (tmp_path / "registry.yml").write_text(
        "- name: Registry from the installed collection\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  roles:\n"
        "    - role: cloudops.ecr.ecr_registry\n"
        "      vars:\n"
        "        ecr_registry_region: eu-west-1\n"
        "        ecr_registry_environment: packaging\n"
        "        ecr_registry_github_repos: [Example-Org/Packaged-App]\n"
        "        ecr_registry_extra_repositories: [packaged-tools]\n"
        "        ecr_registry_pod_identity_association: false\n"
    )
    return tmp_path


def test_installed_role_by_fqcn_converges_the_registry(installed, aws, role_playbook):
    env = outside_env(aws.env(), installed)
    result = run(
        [f"{BIN}/ansible-playbook", "-i", "inventory.yml", "registry.yml"],
        str(role_playbook),
        env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

    ecr = aws.client("ecr")
    names = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    assert names == ["example-org/packaged-app", "packaged-tools"]
    assert ecr.get_lifecycle_policy(repositoryName="example-org/packaged-app")["lifecyclePolicyText"]
    roles = [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]]
    assert "github-actions" in roles, roles
