"""Lifecycle policy documents for tests, built the way the modules build them from plain words."""

from __future__ import annotations

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.lifecycle_rules import lifecycle_policy_from_rules


def build_lifecycle_policy(rules: list[dict], path: str = "rules") -> dict:
    """The AWS document for high-level ``rules`` (raises InvalidInput like the modules)."""
    return lifecycle_policy_from_rules(rules, path)[0]
