"""What an ansible-playbook run printed, as tests read it."""

from __future__ import annotations

import re


def recap_of(stdout: str, shown_on_failure: str = "") -> dict[str, int]:
    """The PLAY RECAP's counts summed over every host (the site has the registry's and the environment's)."""
    recap = stdout.rsplit("PLAY RECAP", 1)
    assert len(recap) == 2, shown_on_failure or stdout
    totals: dict[str, int] = {}
    for line in recap[1].splitlines():
        if " : " in line:
            for key, value in re.findall(r"(\w+)=(\d+)", line):
                totals[key] = totals.get(key, 0) + int(value)
    assert totals, shown_on_failure or stdout
    return totals
