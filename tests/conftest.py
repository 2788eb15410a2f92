"""Make the checkout importable as ``ansible_collections.cloudops.ecr`` for plain pytest.

``make`` links the checkout at ``.collections/ansible_collections/cloudops/ecr``; amazon.aws
comes from the venv's site-packages. Both trees merge as one namespace package.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")
link = os.path.join(COLLECTIONS, "ansible_collections", "cloudops", "ecr")
if not os.path.islink(link) and not os.path.exists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(ROOT, link)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


sys.path.insert(0, os.path.join(ROOT, "scripts"))
from localaws import MotoServer


@pytest.fixture(scope="session")
def moto():
    """One moto server on loopback for the session (for each worker under xdist), stopped at the end."""
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto):
    """The session's moto server, emptied for the test (tests/unit/modules overrides it with mock_aws)."""
    moto.reset()
    return moto
