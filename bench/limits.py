"""Which documents a local AWS endpoint holds that real AWS would refuse: moto enforces none of IAM's
or ECR's size limits, so a run that "works" on moto proves nothing about them until this says so.

``documents_over_limits(state)`` reads a snapshot (tests/integration/reliability/snapshot.py) and
names every document over its limit, with its size: empty when everything would fit on AWS. The
limits and the way each service counts come from the collection's own rules, where they live once.
"""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.join(ROOT, ".collections") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    ROLE_INLINE_POLICIES_MAX,
    TRUST_POLICY_DEFAULT_MAX,
    document_size,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_policy import TEXT_MAX
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import POLICY_MAX_CHARS

MANAGED_POLICY_MAX = 6144  # IAM (reference_iam-quotas): one customer managed policy, fixed


def ecr_size(document: dict) -> int:
    """ECR counts the policy text it is sent: ours is compact JSON."""
    return len(json.dumps(document, separators=(",", ":")))


def documents_over_limits(state: dict, trust_max: int = TRUST_POLICY_DEFAULT_MAX) -> list[str]:
    """Every IAM and ECR document in ``state`` over AWS's limit, as 'what: size > limit' (sorted).

    ``trust_max`` is the account's trust policy quota (IAM's default unless raised). A role's inline
    policies count together against one limit."""
    over = []
    for role in state["iam"]["roles"]:
        trust = document_size(role["trust_policy"])
        if trust > trust_max:
            over.append(f"role {role['name']} trust policy: {trust} > {trust_max}")
        inline = sum(document_size(document) for document in role["inline_policies"].values())
        if inline > ROLE_INLINE_POLICIES_MAX:
            over.append(f"role {role['name']} inline policies: {inline} > {ROLE_INLINE_POLICIES_MAX}")
    for policy in state["iam"]["customer_managed_policies"]:
        size = document_size(policy["document"])
        if size > MANAGED_POLICY_MAX:
            over.append(f"managed policy {policy['arn']}: {size} > {MANAGED_POLICY_MAX}")
    for repo in state["ecr"]["repositories"]:
        if repo["policy"] and (size := ecr_size(repo["policy"])) > POLICY_MAX_CHARS:
            over.append(f"repository {repo['name']} policy: {size} > {POLICY_MAX_CHARS}")
        if repo["lifecycle_policy"] and (size := ecr_size(repo["lifecycle_policy"])) > TEXT_MAX:
            over.append(f"repository {repo['name']} lifecycle policy: {size} > {TEXT_MAX}")
    return sorted(over)


def largest_documents(state: dict) -> dict[str, int]:
    """The largest document of each kind in ``state`` (0 where there is none): how close to the limits."""

    def most(sizes):
        return max(sizes, default=0)

    roles, repos = state["iam"]["roles"], state["ecr"]["repositories"]
    return {
        "trust_policy": most(document_size(r["trust_policy"]) for r in roles),
        "inline_policies": most(sum(document_size(d) for d in r["inline_policies"].values()) for r in roles),
        "repository_policy": most(ecr_size(r["policy"]) for r in repos if r["policy"]),
        "lifecycle_policy": most(ecr_size(r["lifecycle_policy"]) for r in repos if r["lifecycle_policy"]),
    }
