# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection shares to talk to AWS: clients with retries, a bounded
thread pool for per-resource calls, and the one place invalid input becomes ``fail_json``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

try:
    from botocore.config import Config
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.cloudops.ecr.plugins.module_utils.validation import InvalidInput

# Per-resource calls run this many at a time: real AWS answers in tens of milliseconds, so
# waiting on several calls at once is what makes a hundred repositories take seconds.
MAX_WORKERS = 8

# Transient errors worth retrying besides AWSRetry's defaults: ECR/IAM throttling, 5xx without
# a parseable code, and IAM's eventual consistency (a role just created is not yet a principal).
RETRYABLE_CODES = (
    "ThrottlingException",
    "ServiceUnavailableException",
    "ServerException",
    "InternalServerException",
    "500",
    "502",
    "503",
    "504",
)

# Bounded: about a minute of backoff before a dead or refusing endpoint is reported.
RETRY = AWSRetry.jittered_backoff(
    retries=6, delay=1, backoff=2.0, max_delay=15, catch_extra_error_codes=RETRYABLE_CODES
)


def retry_with(*extra_codes: str):
    """AWSRetry with our transient codes plus ``extra_codes`` (e.g. IAM propagation)."""
    return AWSRetry.jittered_backoff(
        retries=6, delay=1, backoff=2.0, max_delay=15, catch_extra_error_codes=RETRYABLE_CODES + tuple(extra_codes)
    )


def aws_client(module, service: str, retry_decorator=RETRY):
    """A client whose calls retry when made with ``aws_retry=True``; safe to share across threads."""
    config = Config(
        max_pool_connections=MAX_WORKERS * 2,
        connect_timeout=10,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return module.client(service, retry_decorator=retry_decorator, config=config)


@dataclass(frozen=True)
class Outcome:
    """What a call for one item gave: its result, or the exception it raised."""

    item: Any
    result: Any = None
    error: BaseException | None = None


def run_concurrently(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = MAX_WORKERS) -> list[Outcome]:
    """Call ``fn(item)`` for every item on a bounded pool; outcomes in the items' order."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [_call(fn, item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(lambda item: _call(fn, item), items))


def _call(fn, item) -> Outcome:
    try:
        return Outcome(item, fn(item))
    except Exception as exc:  # reported per item by the caller
        return Outcome(item, error=exc)


def first_error(outcomes: list[Outcome]) -> Outcome | None:
    return next((o for o in outcomes if o.error is not None), None)


@contextmanager
def input_checked(module):
    """Turn ``InvalidInput`` raised inside the block into one ``fail_json`` naming every field."""
    try:
        yield
    except InvalidInput as exc:
        module.fail_json(
            msg=f"Invalid input, nothing was changed: {exc}",
            problems=[{"path": p.path, "message": p.message} for p in exc.problems],
        )


def fail_for(module, error: BaseException, action: str, **result) -> None:
    """Fail the module for an AWS error during ``action``, keeping what was already done in the result."""
    module.fail_json_aws(error, msg=f"{action} failed", **result)
