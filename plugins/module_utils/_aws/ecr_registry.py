# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry-wide settings of an account and region: scanning configuration and replication."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler


class EcrRegistrySettings:
    """Scanning and replication of the private registry, through a retrying ECR client."""

    def __init__(self, client):
        self.client = client

    @AWSErrorHandler.common_error_handler("read the registry's scanning configuration")
    def scanning(self) -> dict:
        return self.client.get_registry_scanning_configuration(aws_retry=True).get("scanningConfiguration") or {}

    @AWSErrorHandler.common_error_handler("read the registry")
    def registry(self) -> tuple[str, list[dict]]:
        """(registry id, replication rules)."""
        found = self.client.describe_registry(aws_retry=True)
        return found["registryId"], (found.get("replicationConfiguration") or {}).get("rules", [])

    @AWSErrorHandler.common_error_handler("write the registry's scanning configuration")
    def put_scanning(self, configuration: dict) -> None:
        self.client.put_registry_scanning_configuration(
            aws_retry=True, scanType=configuration["scanType"], rules=configuration["rules"]
        )

    @AWSErrorHandler.common_error_handler("write the registry's replication configuration")
    def put_replication(self, rules: list[dict]) -> None:
        self.client.put_replication_configuration(aws_retry=True, replicationConfiguration={"rules": rules})
