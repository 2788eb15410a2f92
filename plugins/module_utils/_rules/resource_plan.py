# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape every plan of writes shares: created, or a list of named changes, tags among them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class ResourcePlan:
    """The writes one resource needs. Subclasses add their flags and name them in ``named_changes``;
    ``changes`` is what a module returns (``["created"]``, or the names of what differs)."""

    create: bool = False
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_remove: list[str] = field(default_factory=list)

    def named_changes(self) -> Iterable[tuple[str, bool]]:
        """(name, needed) for every kind of change but creation, in the order results list them."""
        return [("tags", self.tags_change)]

    def created_with(self) -> list[str]:
        """What a result names beside ``created`` (e.g. a policy set right after the create)."""
        return []

    @property
    def tags_change(self) -> bool:
        return bool(self.tags_to_set or self.tags_to_remove)

    @property
    def changes(self) -> list[str]:
        if self.create:
            return ["created", *self.created_with()]
        return [name for name, needed in self.named_changes() if needed]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def tags_after(current: dict[str, str], plan: ResourcePlan) -> dict[str, str]:
    """The tags a resource holds once ``plan`` is applied."""
    kept = {k: v for k, v in current.items() if k not in plan.tags_to_remove}
    return {**kept, **plan.tags_to_set}
