# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Invalid input, reported with the field path and the rule it breaks.

Pure rules collect every :class:`Problem` they find and raise one :class:`InvalidInput`
carrying all of them, so the user sees every mistake at once and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``path`` names the field (``rules[1].selection.countUnit``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidInput(ValueError):
    """Raised by pure rules; modules turn it into ``fail_json`` in one place."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class Problems:
    """Collects problems while validating; ``raise_if_any()`` at the end."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self._items.append(Problem(path, message))

    def extend(self, problems: Problems | InvalidInput | list[Problem], prefix: str = "") -> None:
        items = problems.problems if isinstance(problems, InvalidInput) else list(problems)
        for p in items:
            path = f"{prefix}{'.' if prefix and p.path and not p.path.startswith('[') else ''}{p.path}"
            self._items.append(Problem(path or prefix, p.message))

    def checked(self, fn, *args):
        """``fn(*args)``, or None with its problems collected when it raises InvalidInput."""
        try:
            return fn(*args)
        except InvalidInput as exc:
            self.extend(exc)
            return None

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise InvalidInput(self._items)


def json_object(value: object, path: str, problems: Problems, expected: str) -> dict | None:
    """``value`` as a dict, from a dict or JSON text; else a problem saying what was ``expected``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            problems.add(path, f"is not valid JSON: {exc}")
            return None
    if not isinstance(value, dict):
        problems.add(path, f"must be {expected}, not {type(value).__name__}")
        return None
    return value


def join_path(base: str, key: str | int) -> str:
    """``join_path("rules", 1)`` -> ``rules[1]``; ``join_path("rules[1]", "action")`` -> ``rules[1].action``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key
