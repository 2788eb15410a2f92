# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of every playbook-level test: what moto holds, and which API calls a run made."""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from localaws import TEST_CREDENTIALS, split_calls

from ansible_collections.cloudops.ecr.tests.integration.reliability.snapshot import snapshot


@pytest.fixture
def held(aws):
    """``held()``: what moto holds now, read directly (never through a proxy)."""
    return lambda: snapshot(aws.url, aws.region, TEST_CREDENTIALS)


@pytest.fixture
def recorded(aws):
    """``with recorded() as calls: ...`` then ``calls.writes`` / ``calls.reads``: the API calls moto saw."""

    class Recording:
        reads: list[str]
        writes: list[str]

        def __enter__(self):
            aws.start_recording()
            return self

        def __exit__(self, *exc):
            self.reads, self.writes = split_calls(aws.stop_recording())

    return Recording
