# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module run shares: validate, read, plan, write (not in check mode), result.

A runner subclass says how its module validates its parameters (``validate``) and converges
(``converge``, returning the result and the diffs). This class turns ``InvalidInput`` into one
``fail_json`` naming every field, an AWS error (``AnsibleAWSError``, raised by the ``_aws``
handlers) into ``fail_json_aws`` carrying what was already done (``self.partial``), and leaves
any other exception alone: a bug shows as a traceback, never as an AWS failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import Outcome, run_concurrently
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import InvalidInput


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


def diff_entry(before: dict, after: dict, header: str) -> dict:
    """One item of a module's ``diff`` list, as Ansible shows it."""
    return with_header({"before": before, "after": after}, header)


def with_header(diff: dict, header: str) -> dict:
    """``diff`` (before, after and perhaps ``prepared``) shown under ``header``."""
    return {**diff, "before_header": header, "after_header": header}


class Runner:
    """One module run. Subclasses implement ``validate`` and ``converge``."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        # What the result holds if an AWS error stops the run: updated as writes land.
        self.partial: dict[str, Any] = {}

    def validate(self) -> Any:
        """The module's parameters as a validated request; raise ``InvalidInput`` naming every field."""
        raise NotImplementedError

    def converge(self, request: Any) -> tuple[dict, list[dict] | dict]:
        """Read, plan and (outside check mode) write; the result and the diff."""
        raise NotImplementedError

    def warn(self, warnings: Iterable[str]) -> None:
        for warning in warnings:
            self.module.warn(warning)

    def write_each(self, write: Callable[[Any], Any], items: Iterable[Any]) -> list[Outcome]:
        """``write(item)`` for every item on the bounded pool (nothing in check mode)."""
        return [] if self.check_mode else run_concurrently(write, items)

    def run(self) -> None:
        module = self.module
        with input_checked(module):
            request = self.validate()
        try:
            with input_checked(module):
                result, diffs = self.converge(request)
        except AnsibleAWSError as error:
            module.fail_json_aws(error.exception or error, msg=error.message or str(error), **self.partial)
        module.exit_json(**result, diff=diffs if module._diff else type(diffs)())
