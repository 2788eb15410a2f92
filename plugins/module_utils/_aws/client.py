# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection talks to AWS: clients with bounded retries, a bounded pool for per-resource
calls, and the error handlers that decide once what a failed call means.

Every call of the ``_aws`` package goes through a method decorated with an amazon.aws
``AWSErrorHandler``: a botocore error becomes an ``AnsibleAWSError`` naming what was being done,
not-found becomes the method's default value, and anything else (a programming error) is left
alone, so it surfaces as a traceback instead of being reported as an AWS failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

try:
    from botocore.config import Config
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

# Per-resource calls run this many at a time: real AWS answers in tens of milliseconds, so
# waiting on several calls at once is what makes a hundred repositories take seconds (an unchanged
# run reads three things per repository: 300 reads at 50 ms are 15 s one by one, 1 s sixteen at a
# time). Sixteen stays well inside what the SDK's connection pool and AWS's request rates allow; a
# throttled call is retried (see below), never lost.
MAX_WORKERS = 16

# Transient errors worth retrying besides AWSRetry's defaults (Throttling, RequestLimitExceeded,
# ServiceUnavailable, InternalFailure, ...): ECR/KMS/EKS throttling, 5xx with or without a parseable
# code (botocore reports an empty 503 as code "503"), IAM's ServiceFailure, request timeouts.
# IAM's eventual consistency (a role just created is not yet a principal) is added only where a
# write follows a create (IAM_SETTLING_RETRY): retrying those codes everywhere would hide real errors.
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
# fails after SDK_ATTEMPTS * READ_TIMEOUT; a throttled call gives up after about a minute at worst
# (IAM's: about three minutes, see IAM_RETRY_ATTEMPTS).
RETRY_ATTEMPTS = 5
# IAM's write rate is far below ECR's: a run that writes hundreds of roles meets sustained throttling,
# and botocore's retry quota (500 tokens per client; a resend costs 5, and only a success gives any
# back) runs dry: here it did after a few hundred throttled answers. From then on botocore sends each
# call once and AWSRetry alone carries it: 1,000 roles under 35 % throttling lost 3 of ~2,500 calls
# with 5 attempts ("retry_quota_reached" in the error).
# With 14, giving up on a call throttled a third of the time is a 0.35 ** 14 (4e-7) event; a call
# IAM throttles without end waits about three minutes before it is reported.
IAM_RETRY_ATTEMPTS = 14
RETRY_DELAY = 1
RETRY_BACKOFF = 2.0
RETRY_MAX_DELAY = 8
SDK_ATTEMPTS = 4
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15


def retry_with(*extra_codes: str, retry_class: type[AWSRetry] = AWSRetry, attempts: int = RETRY_ATTEMPTS):
    """AWSRetry (or a subclass deciding codes its own way) with our bounds, our transient codes and ``extra_codes``."""
    return retry_class.jittered_backoff(
        retries=attempts,
        delay=RETRY_DELAY,
        backoff=RETRY_BACKOFF,
        max_delay=RETRY_MAX_DELAY,
        catch_extra_error_codes=RETRYABLE_CODES + tuple(extra_codes),
    )


RETRY = retry_with()
# IAM answers ConcurrentModification when two writes touch one entity at once.
IAM_RETRY = retry_with("ConcurrentModification", attempts=IAM_RETRY_ATTEMPTS)
# IAM is eventually consistent: just after a create, the new role can be missing (NoSuchEntity)
# and a just-created OIDC provider is not yet a valid principal (MalformedPolicyDocument
# "Invalid principal"). Used only for writes after a create.
IAM_SETTLING_RETRY = retry_with(
    "ConcurrentModification", "NoSuchEntity", "MalformedPolicyDocument", attempts=IAM_RETRY_ATTEMPTS
)


def aws_client(module, service: str, retry_decorator=RETRY):
    """A client whose calls retry when made with ``aws_retry=True``; safe to share across threads."""
    config = Config(
        max_pool_connections=MAX_WORKERS * 2,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": SDK_ATTEMPTS},
    )
    return module.client(service, retry_decorator=retry_decorator, config=config)


def retrying_differently(client: RetryingBotoClientWrapper, retry_decorator) -> RetryingBotoClientWrapper:
    """The same connection, its ``aws_retry=True`` calls retried by ``retry_decorator`` instead."""
    return RetryingBotoClientWrapper(client.client, retry_decorator)


def missing_is(*codes: str) -> type[AWSErrorHandler]:
    """An error handler for which these error codes mean "not there": its ``list_error_handler``
    returns the default value and its ``deletion_error_handler`` returns False for them."""

    class NotFoundHandler(AWSErrorHandler):
        @classmethod
        def _is_missing(cls):
            return is_boto3_error_code(list(codes))

    return NotFoundHandler


@dataclass(frozen=True)
class Outcome:
    """What a call for one item gave: its result, or the AWS error it raised."""

    item: Any
    result: Any = None
    error: AnsibleAWSError | None = None


def run_concurrently(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = MAX_WORKERS) -> list[Outcome]:
    """Call ``fn(item)`` for every item on a bounded pool; outcomes in the items' order.

    An AWS error is kept with its item (the caller reports what was done before it); any other
    exception is a bug and propagates."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [_call(fn, item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(lambda item: _call(fn, item), items))


def _call(fn, item) -> Outcome:
    try:
        return Outcome(item, fn(item))
    except AnsibleAWSError as exc:
        return Outcome(item, error=exc)


def first_error(outcomes: list[Outcome]) -> Outcome | None:
    return next((o for o in outcomes if o.error is not None), None)


def raise_first_error(outcomes: list[Outcome]) -> list[Outcome]:
    """The outcomes, when none failed; else the first failure's error is raised."""
    failed = first_error(outcomes)
    if failed is not None:
        raise failed.error
    return outcomes


def results_by_item(fn: Callable[[Any], Any], items: Iterable[Any]) -> dict:
    """``{item: fn(item)}`` for reads made concurrently; the first AWS error is raised."""
    return {o.item: o.result for o in raise_first_error(run_concurrently(fn, items))}
