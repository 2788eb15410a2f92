"""Where one module run's time goes, as Ansible ran it.

    python bench/profile_module.py AnsiballZ_ecr_repository.py

Runs an AnsiballZ payload kept by ``ANSIBLE_KEEP_REMOTE_FILES=1`` (module and arguments exactly
as the playbook sent them) under cProfile in this process, against whatever endpoint the
environment names, and prints one JSON object: wall seconds of the whole run split into
imports, module set-up, client creation and the rest (AWS calls and the module's own work),
plus the number of API calls made.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import pstats
import runpy
import sys
import time

# (path suffix, function) whose cumulative time is one phase. Python 3.12's cProfile sees every
# thread: only main-thread phases are summed into wall time, API calls (any thread) are counted.
PHASES = {
    "imports": (("<frozen importlib._bootstrap>", "_find_and_load"),),
    "module set-up": (("amazon/aws/plugins/module_utils/modules.py", "__init__"),),
    "client creation": (("botocore/session.py", "create_client"),),
}
API_CALL = ("botocore/client.py", "_make_api_call")


def _cumulative(stats: pstats.Stats, wanted: tuple[str, str]) -> tuple[int, float]:
    calls, seconds = 0, 0.0
    for (path, _line, name), (_primitive, total, _tottime, cumtime, _callers) in stats.stats.items():
        if name == wanted[1] and path.endswith(wanted[0]):
            calls, seconds = calls + total, seconds + cumtime
    return calls, seconds


def profile(ansiballz: str) -> dict:
    profiler = cProfile.Profile()
    output = io.StringIO()
    sys.argv = [ansiballz]
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        profiler.enable()
        try:
            runpy.run_path(ansiballz, run_name="__main__")
        except SystemExit:
            pass
        finally:
            profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    phases = {phase: sum(_cumulative(stats, w)[1] for w in wanted) for phase, wanted in PHASES.items()}
    calls = _cumulative(stats, API_CALL)[0]
    try:
        result = json.loads(output.getvalue().strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"failed": True, "msg": output.getvalue()[-500:]}
    return {
        "module": ansiballz.rsplit("AnsiballZ_", 1)[-1].removesuffix(".py"),
        "wall": wall,
        **phases,
        "rest": max(0.0, wall - sum(phases.values())),
        "api_calls": calls,
        "failed": bool(result.get("failed")),
    }


if __name__ == "__main__":
    print(json.dumps(profile(sys.argv[1])))
