"""Fixtures for the ecosystem gates: a moto server, the built collection tarball, an installed copy.

The gates consume the collection the way users do, from ``ansible-galaxy collection build`` output,
so they never see the checkout: commands run in a temporary directory, with no ansible.cfg and
``ANSIBLE_COLLECTIONS_PATH`` naming only the temporary install (amazon.aws still comes from the
venv's site-packages, as in an execution environment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
GATES = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "scripts"))


def galaxy() -> dict:
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def run(args: list[str], cwd: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a command, capturing text output; the caller asserts on the outcome."""
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def outside_env(base: dict, collections_path: str) -> dict:
    """``base`` with Ansible seeing only ``collections_path`` (plus site-packages), no project config."""
    env = {k: v for k, v in base.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    env["ANSIBLE_LOCAL_TEMP"] = os.path.join(collections_path, ".ansible-tmp")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PATH"] = f"{BIN}{os.pathsep}{base.get('PATH', '')}"
    return env


@pytest.fixture(scope="session")
def tarball(tmp_path_factory) -> str:
    """The collection as ``ansible-galaxy collection build`` makes it."""
    out = tmp_path_factory.mktemp("dist")
    result = run([f"{BIN}/ansible-galaxy", "collection", "build", "--output-path", str(out)], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    meta = galaxy()
    path = out / f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"
    assert path.is_file(), result.stdout
    return str(path)


@pytest.fixture(scope="session")
def installed(tarball, tmp_path_factory) -> str:
    """A collections path holding only the tarball's cloudops.ecr (offline: --no-deps)."""
    path = tmp_path_factory.mktemp("collections")
    env = outside_env(dict(os.environ), str(path))
    result = run(
        [f"{BIN}/ansible-galaxy", "collection", "install", "--no-deps", "-p", str(path), tarball],
        cwd=str(path),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (path / "ansible_collections" / "cloudops" / "ecr" / "MANIFEST.json").is_file()
    return str(path)


@pytest.fixture(scope="session")
def galaxy_importer() -> str:
    """The python of ``.venv/importer``: galaxy-importer over the dev venv (importer-requirements.txt).

    Its own site-packages come first (attrs 23 for galaxy-importer), then the dev venv's, named by a
    ``.pth`` file: ansible-lint and ansible-doc, which it runs, are the ones the other gates use.
    Made again, and checked with ``pip check``, whenever importer-requirements.txt or
    test-requirements.txt changes; ``make clean`` removes it with ``.venv``.
    """
    venv = os.path.join(ROOT, ".venv", "importer")
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".installed")
    requirements = os.path.join(GATES, "importer-requirements.txt")
    wanted = ""
    for path in (requirements, os.path.join(ROOT, "test-requirements.txt")):  # the dev venv's pins count too
        with open(path, encoding="utf-8") as f:
            wanted += f.read()
    if os.path.isfile(stamp):
        with open(stamp, encoding="utf-8") as f:
            if f.read() == wanted:
                return python
    shutil.rmtree(venv, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    steps = [
        [sys.executable, "-m", "venv", "--without-pip", venv],
        [*pip, "install", "--quiet", "--no-deps", "--no-compile", "-r", requirements],
    ]
    for step in steps:
        result = run(step, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=ROOT).stdout.strip()
    with open(os.path.join(site, "zz-dev-venv.pth"), "w", encoding="utf-8") as f:
        f.write(f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    check = run([*pip, "check"], cwd=ROOT)
    assert check.returncode == 0, "galaxy-importer's requirements are not met:\n" + check.stdout + check.stderr
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(wanted)
    return python
