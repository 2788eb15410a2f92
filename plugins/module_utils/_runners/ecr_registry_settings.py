# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``ecr_registry_settings``: scanning and replication read, merged with ours (or replaced
when asked), refused before any write when a change would override others' settings, then written."""

from __future__ import annotations

from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import aws_client
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.ecr_registry import EcrRegistrySettings
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.registry_settings import (
    planned_replication,
    planned_scanning,
    registry_settings_request,
    with_registry,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._runners.base import Runner, diff_entry


class EcrRegistrySettingsRunner(Runner):
    def validate(self):
        return registry_settings_request({**self.params, "region": self.module.region})

    def converge(self, request):
        scanning, replication = request
        settings = EcrRegistrySettings(aws_client(self.module, "ecr"))
        registry_id, current_rules = settings.registry()
        plans, diffs = {}, []
        if scanning is not None:
            current = settings.scanning()
            plans["scanning"], refusal = planned_scanning(current, scanning)
            self._refuse("scanning", refusal)
            if plans["scanning"] is not None:
                diffs.append(diff_entry(current, plans["scanning"], "registry scanning"))
        if replication is not None:
            wanted = with_registry(replication.rules, registry_id, self.module.region)
            plans["replication"], refusal = planned_replication(current_rules, wanted, replication.replace)
            self._refuse("replication", refusal)
            if plans["replication"] is not None:
                diffs.append(
                    diff_entry({"rules": current_rules}, {"rules": plans["replication"]}, "registry replication")
                )
        changes = [name for name, plan in plans.items() if plan is not None]
        if not self.check_mode:
            writes = {"scanning": settings.put_scanning, "replication": settings.put_replication}
            for done, name in enumerate(changes, start=1):
                writes[name](plans[name])
                # what an AWS error on the next write reports as already done
                self.partial = {"changed": True, "changes": changes[:done], "registry_id": registry_id}
        return {"changed": bool(changes), "changes": changes, "registry_id": registry_id}, diffs

    def _refuse(self, setting: str, refusal: str | None) -> None:
        if refusal:
            self.module.fail_json(msg=f"Refusing to change the registry's {setting}: {refusal}. Nothing was changed.")
