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
# waiting on several calls at once is what makes a hundred repositories take seconds (an unchanged
# run reads two things per repository: 200 reads at 50 ms are 10 s one by one, 0.6 s sixteen at a
# time). Sixteen stays well inside what the SDK's connection pool and AWS's request rates allow; a
# throttled call is retried (see below), never lost.
MAX_WORKERS = 16

# Transient errors worth retrying besides AWSRetry's defaults (Throttling, RequestLimitExceeded,
# ServiceUnavailable, InternalFailure, ...): ECR/KMS/EKS throttling, 5xx with or without a parseable
# code (botocore reports an empty 503 as code "503"), IAM's ServiceFailure, request timeouts.
# IAM's eventual consistency (a role just created is not yet a principal) is added per call site
# with ``retry_with``: retrying those codes everywhere would hide real errors.
RETRYABLE_CODES = (
    "ThrottlingException",
    "Throttling",
    "ServiceUnavailableException",
    "ServerException",
    "InternalServerException",
    "ServiceFailure",
    "RequestTimeout",
    "RequestTimeoutException",
    "500",
    "502",
    "503",
    "504",
)

# Two layers, both bounded. botocore (standard mode) resends a request up to SDK_ATTEMPTS times on
# throttling, 5xx and dropped or refused connections, with its own jittered backoff (at most
# 1 + 2 + 4 s when throttled, milliseconds otherwise). When botocore gives up on a throttling or 5xx
# error, AWSRetry waits (jittered, at most 1 + 2 + 4 + 8 s) and calls again, RETRY_ATTEMPTS times in
# all. A refused connection fails in well under a second; an endpoint that accepts but never answers
# fails after SDK_ATTEMPTS * READ_TIMEOUT; a throttled call gives up after about a minute at worst.
RETRY_ATTEMPTS = 5
RETRY_DELAY = 1
RETRY_BACKOFF = 2.0
RETRY_MAX_DELAY = 8
SDK_ATTEMPTS = 4
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15


def retry_with(*extra_codes: str):
    """AWSRetry with our transient codes plus ``extra_codes`` (e.g. IAM propagation)."""
    return AWSRetry.jittered_backoff(
        retries=RETRY_ATTEMPTS,
        delay=RETRY_DELAY,
        backoff=RETRY_BACKOFF,
        max_delay=RETRY_MAX_DELAY,
        catch_extra_error_codes=RETRYABLE_CODES + tuple(extra_codes),
    )


RETRY = retry_with()


def aws_client(module, service: str, retry_decorator=RETRY):
    """A client whose calls retry when made with ``aws_retry=True``; safe to share across threads."""
    config = Config(
        max_pool_connections=MAX_WORKERS * 2,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": SDK_ATTEMPTS},
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
