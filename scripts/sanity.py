"""ansible-test sanity for the checkout, offline-safe: ``python scripts/sanity.py [ansible-test args]``.

ansible-test wants the collection at ``.../ansible_collections/cloudops/ecr`` (resolved physically,
so the ``.collections`` symlink does not do) with its dependencies in the same
``ansible_collections/`` tree. This script:

1. syncs the git-tracked and untracked-but-not-ignored files of the checkout into
   ``tests/output/sanity-tree/ansible_collections/cloudops/ecr`` (copies; symlinks stay symlinks),
   a git work tree of its own with nothing committed: ansible-test takes its file list from the
   nearest ``.git`` upwards, and the checkout's ignores ``tests/output``;
2. links amazon.aws from the venv's site-packages next to it;
3. writes a stand-in for ansible-test's get-pip bootstrap in ``~/.ansible/test/cache`` when none
   is there (the real one comes from a host this machine cannot reach): it runs
   ``python -m ensurepip`` and then installs the requested pip from the package index;
4. runs ``ansible-test sanity --local --python 3.12`` there, with the tests that run locally.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, "tests", "output", "sanity-tree", "ansible_collections")
COLLECTION = os.path.join(TREE, "cloudops", "ecr")
PYTHON_VERSION = "3.12"

# Tests that need a tool this machine lacks, and why; everything else runs. None of the tests
# needs docker with --local; the network they need is the package index, for their venvs.
SKIPPED = {
    # PowerShell only: the collection has no .ps1/.psm1 files and pwsh is not installed.
    "pslint": "no PowerShell content, pwsh not installed",
}
if shutil.which("shellcheck") is None:
    # Our shell scripts get `bash -n` in the lint gate instead.
    SKIPPED["shellcheck"] = "shellcheck binary not installed"

STAND_IN = '''\
"""Stand-in for get-pip.py, written by cloudops.ecr scripts/sanity.py.

ansible-test downloads get-pip.py from ci-files.testing.ansible.com, which this network cannot
reach. Same effect: bootstrap pip from the interpreter's own ensurepip, then install the requested
pip (and whatever else ansible-test asked for) from the package index. Delete this file to let
ansible-test download the real script.
"""

import subprocess
import sys

requested = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", *requested])
'''


def checkout_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({p for p in out.split("\0") if p and os.path.lexists(os.path.join(ROOT, p))})


def sync(files: list[str]) -> None:
    """Make COLLECTION hold exactly ``files`` (plus its .git and ansible-test's tests/output)."""
    wanted = set(files)
    if not os.path.isdir(os.path.join(COLLECTION, ".git")):
        os.makedirs(COLLECTION, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", COLLECTION], check=True)
    for path in files:
        src, dst = os.path.join(ROOT, path), os.path.join(COLLECTION, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            target = os.readlink(src)
            if not (os.path.islink(dst) and os.readlink(dst) == target):
                _remove(dst)
                os.symlink(target, dst)
        elif not _same(src, dst):
            _remove(dst)
            shutil.copy2(src, dst)
    own_output = os.path.join(COLLECTION, "tests", "output")
    for dirpath, dirnames, filenames in os.walk(COLLECTION, topdown=True):
        if dirpath == COLLECTION:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        if dirpath == os.path.dirname(own_output):
            dirnames[:] = [d for d in dirnames if d != "output"]
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            if os.path.relpath(full, COLLECTION) not in wanted:
                _remove(full)
    for dirpath, _dirnames, _filenames in os.walk(COLLECTION, topdown=False):
        keep = dirpath.startswith((own_output, os.path.join(COLLECTION, ".git")))
        if dirpath != COLLECTION and not keep and not os.listdir(dirpath):
            os.rmdir(dirpath)


def _same(src: str, dst: str) -> bool:
    if os.path.islink(dst) or not os.path.isfile(dst):
        return False
    a, b = os.stat(src), os.stat(dst)
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime) and a.st_mode == b.st_mode


def _remove(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def link_dependencies() -> None:
    """amazon.aws (bundled with the ``ansible`` package) in the same ansible_collections tree."""
    source = os.path.join(sysconfig.get_paths()["purelib"], "ansible_collections", "amazon")
    if not os.path.isdir(os.path.join(source, "aws")):
        sys.exit(f"sanity: amazon.aws not found at {source}; run `make setup`")
    link = os.path.join(TREE, "amazon")
    if not (os.path.islink(link) and os.readlink(link) == source):
        _remove(link)
        os.symlink(source, link)


def pip_bootstrap_cache() -> str:
    """Write the get-pip stand-in under the name ansible-test looks for, unless a file is there."""
    import ansible_test

    source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(source, encoding="utf-8") as f:
        match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", f.read())
    if not match:
        sys.exit(f"sanity: could not find ansible-test's pip version in {source}")
    cache = os.path.expanduser(f"~/.ansible/test/cache/get_pip_{match.group(1).replace('.', '_')}.py")
    if not os.path.exists(cache):
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(cache, "w", encoding="utf-8") as f:
            f.write(STAND_IN)
        print(f"sanity: wrote pip bootstrap stand-in {cache}")
    return cache


def main(argv: list[str]) -> int:
    os.makedirs(TREE, exist_ok=True)
    with open(os.path.join(TREE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one run at a time in this tree (e.g. two `make test`)
        return run_sanity(argv)


def run_sanity(argv: list[str]) -> int:
    started = time.monotonic()
    sync(checkout_files())
    link_dependencies()
    pip_bootstrap_cache()
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("ANSIBLE_CONFIG", None)  # the checkout's ansible.cfg points at .collections, not this tree
    command = [os.path.join(bin_dir, "ansible-test"), "sanity", "--local", "--python", PYTHON_VERSION, "--color", "no"]
    for test, reason in SKIPPED.items():
        print(f"sanity: skipping {test}: {reason}")
        command += ["--skip-test", test]
    print(f"sanity: prepared {COLLECTION} in {time.monotonic() - started:.1f}s", flush=True)
    return subprocess.call(command + argv, cwd=COLLECTION, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
