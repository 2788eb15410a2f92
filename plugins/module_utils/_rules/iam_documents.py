# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM documents for ECR access and EKS Pod Identity, and IAM role name/path/session rules.

Pure rules, no AWS call. Permissions name only ECR actions, on the listed repository ARNs
(``ecr:GetAuthorizationToken`` is account-wide and only exists on ``*``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.ecr_actions import (
    ECR_AUTHORIZATION_ACTION,
    ECR_PUSH_ACTIONS,
    ECR_READ_ACTIONS,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import (
    InvalidInput,
    Problem,
    Problems,
    join_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    check_repository_name,
    is_valid_repository_name,
)

POLICY_VERSION = "2012-10-17"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
# Session tags EKS Pod Identity sets on AssumeRole (EKS user guide, pod-id-abac): the trust
# policy reads them as aws:RequestTag/<key> for both sts:AssumeRole and sts:TagSession.
POD_IDENTITY_TAG_CLUSTER = "aws:RequestTag/eks-cluster-name"
POD_IDENTITY_TAG_NAMESPACE = "aws:RequestTag/kubernetes-namespace"
POD_IDENTITY_TAG_SERVICE_ACCOUNT = "aws:RequestTag/kubernetes-service-account"

# IAM quotas (reference_iam-quotas). IAM counts characters without whitespace. The trust policy
# length and the roles per account are quotas raisable in Service Quotas (up to the second figure);
# the total of a role's inline policies is fixed.
TRUST_POLICY_DEFAULT_MAX, TRUST_POLICY_QUOTA_MAX = 2048, 4096
ROLE_INLINE_POLICIES_MAX = 10240
ROLES_DEFAULT_MAX, ROLES_QUOTA_MAX = 1000, 5000
# Account ids are always 12 digits: a document built with this one has the size of the real one.
PLACEHOLDER_ACCOUNT = "000000000000"
# The partition a region belongs to (botocore's partitions.json regionRegex), for ARNs built before any call.
_PARTITIONS = (
    ("aws-cn", re.compile(r"cn-\w+-\d+")),
    ("aws-us-gov", re.compile(r"us-gov-\w+-\d+")),
    ("aws-iso", re.compile(r"us-iso-\w+-\d+")),
    ("aws-iso-b", re.compile(r"us-isob-\w+-\d+")),
    ("aws-iso-e", re.compile(r"eu-isoe-\w+-\d+")),
    ("aws-iso-f", re.compile(r"us-isof-\w+-\d+")),
    ("aws-eusc", re.compile(r"eusc-de-\w+-\d+")),
)

ROLE_DESCRIPTION_MAX = 1000
MIN_SESSION_DURATION = 3600
MAX_SESSION_DURATION = 43200

_PARTITION = r"aws(?:-cn|-us-gov|-iso(?:-[a-z])?|-eusc)?"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_ACCOUNT = re.compile(r"\d{12}")
_ECR_REPOSITORY_ARN = re.compile(rf"arn:{_PARTITION}:ecr:{_REGION}:\d{{12}}:repository/(?P<name>.+)")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_ROLE_PATH = re.compile(r"/|/[\x21-\x7e]{1,510}/")
_ROLE_ARN = re.compile(rf"arn:{_PARTITION}:iam::\d{{12}}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{{1,64}}", re.ASCII)
_POLICY_ARN = re.compile(
    rf"arn:{_PARTITION}:iam::(?:\d{{12}}|aws):policy/(?:[\x21-\x7e]*/)?[\w+=,.@-]{{1,128}}", re.ASCII
)
_DESCRIPTION = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")
_EKS_CLUSTER = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
_K8S_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
_K8S_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")


def repository_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """``arn:aws:ecr:eu-west-1:123456789012:repository/team/app``."""
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{name}"


def _repository_arns(repository_arns: object, path: str) -> list[str]:
    problems = Problems()
    if not isinstance(repository_arns, (list, tuple)) or not repository_arns:
        problems.add(path, f"{repository_arns!r} must be a non-empty list of ECR repository ARNs")
        problems.raise_if_any()
    seen: dict[str, int] = {}
    for index, arn in enumerate(repository_arns):
        item_path = join_path(path, index)
        match = _ECR_REPOSITORY_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if not match or not is_valid_repository_name(match["name"]):
            problems.add(
                item_path,
                f"{arn!r} must be an ECR repository ARN 'arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME' (no '*')",
            )
        elif arn in seen:
            problems.add(item_path, f"{arn!r} is listed twice (see {join_path(path, seen[arn])})")
        else:
            seen[arn] = index
    problems.raise_if_any()
    return sorted(seen)


def _ecr_policy(sid: str, actions: Sequence[str], repository_arns: object, path: str) -> dict:
    resources = _repository_arns(repository_arns, path)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "GetAuthorizationToken",
                "Effect": "Allow",
                "Action": ECR_AUTHORIZATION_ACTION,
                "Resource": "*",
            },
            {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources},
        ],
    }


def ecr_push_policy(repository_arns: Sequence[str], path: str = "repository_arns") -> dict:
    """Push to the listed repositories only, with what the generated CI workflow does there (README
    "Wiring a repository's CI"): AWS's push minimum (image-push-iam), plus GetDownloadUrlForLayer, which
    reading the registry build cache (``cache-from``) takes - amazon-ecr-login's push and pull set."""
    return _ecr_policy("PushListedRepositories", ECR_PUSH_ACTIONS, repository_arns, path)


def ecr_read_policy(repository_arns: Sequence[str], path: str = "repository_arns") -> dict:
    """Pull and list images of the listed repositories (what ArgoCD Image Updater needs)."""
    return _ecr_policy("ReadListedRepositories", ECR_READ_ACTIONS, repository_arns, path)


def ecr_read_policy_by_tag(partition: str, region: str, account_id: str, tag: tuple[str, str]) -> dict:
    """Pull and list images of every repository of the registry carrying ``tag`` (key, value): one
    document of constant size however many repositories there are (ECR evaluates
    ``aws:ResourceTag`` on its repository actions, AWS ecr-supported-iam-actions-tagging)."""
    key, value = tag
    every_repository = repository_arn(partition, region, account_id, "*")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "GetAuthorizationToken", "Effect": "Allow", "Action": ECR_AUTHORIZATION_ACTION, "Resource": "*"},
            {
                "Sid": "ReadRegistryRepositories",
                "Effect": "Allow",
                "Action": list(ECR_READ_ACTIONS),
                "Resource": every_repository,
                "Condition": {"StringEquals": {f"aws:ResourceTag/{key}": value}},
            },
        ],
    }


def pod_identity_trust_policy(
    account_id: str,
    cluster_name: str,
    namespace: str = "argocd",
    service_account: str = "argocd-image-updater",
) -> dict:
    """Trust for EKS Pod Identity, narrowed to one service account of one cluster in this account.

    Without the request-tag conditions any Pod Identity association in the account could
    assume the role.
    """
    problems = Problems()
    if not isinstance(account_id, str) or not _ACCOUNT.fullmatch(account_id):
        problems.add("account_id", f"{account_id!r} must be a 12-digit AWS account id")
    try:
        validate_pod_identity_target(cluster_name, namespace, service_account)
    except InvalidInput as exc:
        problems.extend(exc)
    problems.raise_if_any()
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_SERVICE},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": account_id,
                        POD_IDENTITY_TAG_CLUSTER: cluster_name,
                        POD_IDENTITY_TAG_NAMESPACE: namespace,
                        POD_IDENTITY_TAG_SERVICE_ACCOUNT: service_account,
                    }
                },
            }
        ],
    }


def validate_pod_identity_target(
    cluster_name: object, namespace: object, service_account: object, path: str = ""
) -> None:
    """The service account of a Pod Identity association: EKS cluster, namespace, service account names."""
    problems = Problems()
    checks = (
        ("cluster_name", cluster_name, _EKS_CLUSTER, "must be an EKS cluster name (1-100 of A-Z a-z 0-9 _ -)"),
        ("namespace", namespace, _K8S_LABEL, "must be a Kubernetes namespace (DNS-1123 label, 1-63 chars)"),
        (
            "service_account",
            service_account,
            _K8S_SUBDOMAIN,
            "must be a Kubernetes service account name (DNS-1123 subdomain, 1-253 chars)",
        ),
    )
    for field, value, pattern, rule in checks:
        if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > 253:
            problems.add(join_path(path, field), f"{value!r} {rule}")
    problems.raise_if_any()


def validate_role_name(name: object, path: str = "name") -> str:
    """IAM role name: 1-64 of letters, digits and ``+=,.@_-``."""
    if not isinstance(name, str) or not _ROLE_NAME.fullmatch(name):
        raise InvalidInput([Problem(path, f"{name!r} must be an IAM role name: 1-64 of letters, digits and +=,.@_-")])
    return name


def validate_policy_name(name: object, path: str = "policy_name") -> str:
    """IAM inline policy name: 1-128 of letters, digits and ``+=,.@_-``."""
    if not isinstance(name, str) or not _POLICY_NAME.fullmatch(name):
        raise InvalidInput(
            [Problem(path, f"{name!r} must be an IAM policy name: 1-128 of letters, digits and +=,.@_-")]
        )
    return name


def validate_repository_names(names: object, path: str = "repositories") -> list[str]:
    """ECR repository names a policy names, each once: the names, sorted."""
    problems = Problems()
    if not isinstance(names, (list, tuple)) or not names:
        problems.add(path, f"{names!r} must be a non-empty list of ECR repository names")
        problems.raise_if_any()
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        item_path = join_path(path, index)
        if isinstance(name, str) and name in seen:
            problems.add(item_path, f"{name!r} is listed twice (see {join_path(path, seen[name])})")
            continue
        check_repository_name(name, item_path, problems)
        if isinstance(name, str):
            seen[name] = index
    problems.raise_if_any()
    return sorted(seen)


def validate_role_path(path_value: object, path: str = "path") -> str:
    """IAM path: ``/`` or ``/segment/.../``, at most 512 characters."""
    if not isinstance(path_value, str) or not _ROLE_PATH.fullmatch(path_value):
        raise InvalidInput(
            [Problem(path, f"{path_value!r} must be '/' or start and end with '/' (at most 512 printable characters)")]
        )
    return path_value


def validate_max_session_duration(seconds: object, path: str = "max_session_duration") -> int:
    """Role maximum session: 3600-43200 seconds (1 to 12 hours)."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not MIN_SESSION_DURATION <= seconds <= MAX_SESSION_DURATION
    ):
        raise InvalidInput(
            [Problem(path, f"{seconds!r} must be whole seconds from {MIN_SESSION_DURATION} to {MAX_SESSION_DURATION}")]
        )
    return seconds


def is_valid_role_description(text: object) -> bool:
    return isinstance(text, str) and len(text) <= ROLE_DESCRIPTION_MAX and _DESCRIPTION.fullmatch(text) is not None


def validate_role_description(text: object, path: str = "description") -> str:
    """IAM role description: at most 1000 characters, printable Latin-1 (tabs and newlines allowed)."""
    if not is_valid_role_description(text):
        shown = f"{text[:40]!r}... ({len(text)} characters)" if isinstance(text, str) and len(text) > 40 else repr(text)
        raise InvalidInput(
            [Problem(path, f"{shown} must be at most {ROLE_DESCRIPTION_MAX} printable Latin-1 characters")]
        )
    return text


def validate_policy_arn(arn: object, path: str = "permissions_boundary") -> str:
    """ARN of a managed policy (customer ``iam::ACCOUNT:policy/...`` or AWS ``iam::aws:policy/...``)."""
    if not isinstance(arn, str) or not _POLICY_ARN.fullmatch(arn):
        raise InvalidInput(
            [Problem(path, f"{arn!r} must be a managed policy ARN 'arn:PARTITION:iam::ACCOUNT_OR_aws:policy/NAME'")]
        )
    return arn


def validate_role_arn(arn: object, path: str = "role_arn") -> str:
    """ARN of an IAM role: ``arn:aws:iam::123456789012:role/PATH/NAME``."""
    if not isinstance(arn, str) or not _ROLE_ARN.fullmatch(arn):
        raise InvalidInput([Problem(path, f"{arn!r} must be an IAM role ARN 'arn:PARTITION:iam::ACCOUNT:role/NAME'")])
    return arn


def role_arn(partition: str, account_id: str, name: str, path: str = "/") -> str:
    """``arn:aws:iam::123456789012:role/ci/github-actions``."""
    return f"arn:{partition}:iam::{account_id}:role{path}{name}"


def document_size(document: dict) -> int:
    """Characters IAM counts against its size quotas: the JSON text without any whitespace."""
    return len(_WHITESPACE.sub("", json.dumps(document, separators=(",", ":"), ensure_ascii=False)))


_WHITESPACE = re.compile(r"\s")


def partition_of(region: str) -> str:
    """``aws``, ``aws-cn``, ``aws-us-gov``... for a region name."""
    return next((name for name, pattern in _PARTITIONS if pattern.fullmatch(region or "")), "aws")


def validate_quota(value: object, path: str, default: int, maximum: int, what: str) -> int:
    """A quota the user declares (raised in Service Quotas): from IAM's default up to its maximum."""
    if isinstance(value, bool) or not isinstance(value, int) or not default <= value <= maximum:
        raise InvalidInput(
            [Problem(path, f"{value!r} must be {what}: from {default} (IAM's default) to {maximum} (its maximum)")]
        )
    return value


def role_document_problems(
    role_name: str, trust_policy: dict, permissions_policy: dict, trust_max: int, path: str, fix: str
) -> list[Problem]:
    """The documents of a role that IAM would refuse: a trust policy over the account's quota
    (``trust_max``), inline policies over the fixed 10,240 characters. ``fix`` says what to change."""
    problems = []
    trust = document_size(trust_policy)
    if trust > trust_max:
        raised = (
            f"; IAM's quota can be raised to {TRUST_POLICY_QUOTA_MAX} in Service Quotas (then declare it)"
            if trust_max < TRUST_POLICY_QUOTA_MAX
            else ""
        )
        problems.append(
            Problem(
                path,
                f"the trust policy of role {role_name!r} would be {trust} characters, over the {trust_max} the "
                f"account allows{raised}: {fix}",
            )
        )
    inline = document_size(permissions_policy)
    if inline > ROLE_INLINE_POLICIES_MAX:
        problems.append(
            Problem(
                path,
                f"the inline policy of role {role_name!r} would be {inline} characters, over the "
                f"{ROLE_INLINE_POLICIES_MAX} IAM allows for a role's inline policies: {fix}",
            )
        )
    return problems
