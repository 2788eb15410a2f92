"""`make bench`: cloudops.ecr against a community.aws.ecs_ecr loop, on a local moto server.

For N generated repositories (bench-org/svc-000, ...) both tools build the same repositories on
the same moto server, reset before each case, the two tools alternating run after run:

- cold converge, then the unchanged rerun, with API calls counted by moto's recorder;
- the unchanged rerun again through bench/latency_proxy.py adding 50 ms to every request;
- the floor (bench/floor.yml, one AWS module task) between cases.

cloudops.ecr is the real site playbook (site.yml -i inventories/dev), whatever it holds today;
the baseline (bench/baseline.yml) gets the lifecycle and repository policies that the site
playbook applied, read back from moto, and the two states are compared. At the largest N the
rerun is profiled: per-task times (ansible.posix.profile_tasks) and each module run under
cProfile (bench/profile_module.py). Prints one table, writes bench/results.md.

    .venv/bin/python bench/run.py [--sizes 1,20,100] [--runs 3] [--output bench/results.md]
"""

from __future__ import annotations

import argparse
import datetime
import glob
import importlib.metadata
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path[:0] = [os.path.join(ROOT, "scripts"), BENCH]

from latency_proxy import LatencyProxy
from localaws import MotoServer, client_for, split_calls

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
INVENTORY = "inventories/dev"
CLOUDOPS, REGISTRY_ONLY, BASELINE = "cloudops.ecr", "cloudops.ecr, registry only", "ecs_ecr loop"
OURS = (CLOUDOPS, REGISTRY_ONLY)
# The same site playbook with the role's own switches for the IAM parts off: the baseline's scope
# (repositories and their policies), to tell what the ECR modules cost from what the site adds.
REGISTRY_ONLY_VARS = {"ecr_registry_ci_role": False, "ecr_registry_image_updater": False}
# The whole site with one CI role per repository: one shared role's trust holds 32 repositories under
# IAM's default quota (README "Scaling"), and the run refuses more before any call.
WHOLE_SITE_VARS = {"ecr_registry_ci_per_repository": True, "ecr_registry_ci_role_name": "gha-{owner}-{repo}"}
# Both site runs give every repository a repository policy (pull for another account, as a cluster
# in a second account needs), so that the state the baseline must match includes one.
PULL_ACCOUNT = "111122223333"
SITE_VARS = {"ecr_registry_repository_access": {"pull": [PULL_ACCOUNT]}}
DELAY = 0.05


class BenchError(RuntimeError):
    pass


@dataclass
class Run:
    seconds: float
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    changed: int = 0
    log: str = ""
    server_cpu: float | None = None  # CPU seconds the moto server spent during the run


@dataclass
class Case:
    cold: Run
    rerun: Run
    slow_rerun: Run
    state: dict


def repository_names(n: int) -> list[str]:
    return [f"bench-org/svc-{i:03d}" for i in range(n)]


def inventory_region() -> str:
    import yaml

    with open(os.path.join(ROOT, "inventories", "shared", "registry.yml")) as f:
        return yaml.safe_load(f)["registry_region"]


class Bench:
    """Runs playbooks against one moto server, directly or through the latency proxy."""

    def __init__(self, aws: MotoServer, proxy: LatencyProxy, workdir: str):
        self.aws, self.workdir = aws, workdir
        self.direct = self._env(aws.env())
        self.slow = self._env(aws.env(endpoint=proxy.url))
        self._count = 0
        self.loads: list[float] = []  # 1-minute load average after each case: how busy the machine was

    @staticmethod
    def _env(env: dict) -> dict:
        env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
        env["ANSIBLE_NOCOLOR"] = "1"
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        return env

    def playbook(self, playbook: str, extra_vars: dict | None = None, *, slow=False, record=False, env=None) -> Run:
        self._count += 1
        cmd = [PLAYBOOK, playbook, "-i", INVENTORY]
        if extra_vars is not None:
            path = os.path.join(self.workdir, f"vars-{self._count:04d}.json")
            with open(path, "w") as f:
                json.dump(extra_vars, f)
            cmd += ["-e", f"@{path}"]
        log = os.path.join(self.workdir, f"run-{self._count:04d}.log")
        if record:
            self.aws.start_recording()
        cpu = self.aws.cpu_seconds()
        started = time.perf_counter()
        with open(log, "w") as out:
            rc = subprocess.call(
                cmd,
                cwd=ROOT,
                env={**(self.slow if slow else self.direct), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        seconds = time.perf_counter() - started
        cpu_after = self.aws.cpu_seconds()
        server_cpu = None if cpu is None or cpu_after is None else cpu_after - cpu
        reads, writes = split_calls(self.aws.stop_recording()) if record else ([], [])
        with open(log) as f:
            text = f.read()
        if rc != 0:
            tail = "\n".join(text.splitlines()[-40:])
            raise BenchError(f"{' '.join(cmd[1:4])} failed (exit {rc}); end of {log}:\n{tail}")
        recap = text[text.rfind("PLAY RECAP") :]
        changed = sum(int(c) for c in re.findall(r"changed=(\d+)", recap))
        return Run(seconds, reads, writes, changed, log, server_cpu)

    def converge(self, tool: str, names: list[str], policies: dict, **kwargs) -> Run:
        if tool in OURS:
            extra = {
                "github_repos": names,
                "extra_repositories": [],
                "ecr_registry_pod_identity_association": False,
                **SITE_VARS,
            }
            extra.update(REGISTRY_ONLY_VARS if tool == REGISTRY_ONLY else WHOLE_SITE_VARS)
            return self.playbook("site.yml", extra, **kwargs)
        extra = {
            "bench_repositories": names,
            "bench_lifecycle_policies": policies.get("lifecycle", {}),
            "bench_repository_policies": policies.get("repository", {}),
        }
        return self.playbook("bench/baseline.yml", extra, **kwargs)

    def reset(self) -> None:
        """An empty moto, warmed up. After a reset moto builds each backend on its first request:
        the account's IAM backends on any request (0.1 to 0.2 s here), ECR's on the first ECR call
        (0.6 to 1.1 s). A cost of the test double that belongs to neither tool, kept out of the runs."""
        self.aws.reset()
        client_for(self.direct, "sts").get_caller_identity()
        client_for(self.direct, "ecr").describe_repositories()
        client_for(self.direct, "iam").list_roles(MaxItems=1)

    def case(self, tool: str, names: list[str], policies: dict) -> Case:
        self.reset()
        cold = self.converge(tool, names, policies, record=True)
        state = registry_state(self.direct, names)
        rerun = self.converge(tool, names, policies, record=True)
        slow_rerun = self.converge(tool, names, policies, slow=True)
        self.loads.append(os.getloadavg()[0])
        return Case(cold, rerun, slow_rerun, state)

    def floor(self, slow=False, record=False) -> Run:
        return self.playbook("bench/floor.yml", slow=slow, record=record)

    def bare(self) -> Run:
        return self.playbook("bench/bare.yml")

    def profile(self, tool: str, names: list[str], policies: dict) -> dict:
        """Per-task times of the unchanged rerun, and each module run of it under cProfile."""
        self.reset()
        self.converge(tool, names, policies)
        remote = tempfile.mkdtemp(prefix="remote-", dir=self.workdir)
        env = {
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
            "ANSIBLE_KEEP_REMOTE_FILES": "1",
            "ANSIBLE_REMOTE_TMP": remote,
        }
        run = self.converge(tool, names, policies, record=True, env=env)
        with open(run.log) as f:
            text = f.read()
        recap = text[text.rfind("TASKS RECAP") :]
        tasks = [(m[1].strip(), float(m[2])) for m in re.finditer(r"^(.+?) -{2,} (\d+\.\d+)s$", recap, re.M)]
        modules, seen = [], set()
        for ansiballz in sorted(glob.glob(os.path.join(remote, "*", "AnsiballZ_*.py")), key=os.path.getmtime):
            name = os.path.basename(ansiballz)
            if name in seen:  # a loop runs the same module with other arguments: one is enough
                continue
            seen.add(name)
            out = subprocess.run(
                [sys.executable, os.path.join(BENCH, "profile_module.py"), ansiballz],
                env=self.direct,
                capture_output=True,
                text=True,
                check=False,
            )
            try:
                modules.append(json.loads(out.stdout.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                modules.append({"module": name, "failed": True, "error": out.stderr[-300:]})
        return {
            "seconds": run.seconds,
            "tasks": tasks,
            "modules": modules,
            "operations": Counter(run.reads + run.writes),
        }


def registry_state(env: dict, names: list[str]) -> dict:
    """What moto holds for the named repositories (tags aside: ecs_ecr cannot set them)."""
    ecr = client_for(env, "ecr")
    repos = {}
    for page in ecr.get_paginator("describe_repositories").paginate():
        repos.update({r["repositoryName"]: r for r in page["repositories"]})
    state = {}
    for name in names:
        repo = repos.get(name)
        if repo is None:
            state[name] = None
            continue
        state[name] = {
            "image_tag_mutability": repo["imageTagMutability"],
            "scan_on_push": repo["imageScanningConfiguration"]["scanOnPush"],
            "encryption_type": repo["encryptionConfiguration"]["encryptionType"],
            "lifecycle_policy": _document(ecr, "get_lifecycle_policy", "lifecyclePolicyText", name),
            "repository_policy": _document(ecr, "get_repository_policy", "policyText", name),
        }
    return state


def _document(ecr, method: str, key: str, name: str):
    try:
        return json.loads(getattr(ecr, method)(repositoryName=name)[key])
    except ecr.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("LifecyclePolicyNotFoundException", "RepositoryPolicyNotFoundException"):
            return None
        raise


def policies_of(state: dict) -> dict:
    """The per-repository documents the site playbook applied, for the baseline to apply too.

    Every repository must have both: a comparison without one would leave it out of the state the
    baseline has to build."""
    lacking = [
        f"{name} ({', '.join(k for k in ('lifecycle_policy', 'repository_policy') if not (s or {}).get(k))})"
        for name, s in state.items()
        if not s or not s["lifecycle_policy"] or not s["repository_policy"]
    ]
    if lacking:
        raise BenchError(f"the site playbook left repositories without policies to compare: {', '.join(lacking[:5])}")
    return {
        "lifecycle": {n: s["lifecycle_policy"] for n, s in state.items()},
        "repository": {n: s["repository_policy"] for n, s in state.items()},
    }


# -- report -------------------------------------------------------------------------------------
def median(values):
    return statistics.median(values) if values else float("nan")


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import ansible
    import moto
    from ansible.release import __version__ as ansible_core

    def collection(name):
        site_packages = os.path.dirname(os.path.dirname(os.path.abspath(ansible.__file__)))
        manifest = os.path.join(site_packages, "ansible_collections", *name.split("."), "MANIFEST.json")
        try:
            with open(manifest) as f:
                return json.load(f)["collection_info"]["version"]
        except OSError:
            return "?"

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "ansible-core": ansible_core,
        "amazon.aws": collection("amazon.aws"),
        "community.aws": collection("community.aws"),
        "moto": moto.__version__,
        "waitress": importlib.metadata.version("waitress"),
        "commit": commit or "?",
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(seconds: float) -> str:
    return f"{seconds:.2f}"


def summarise(results: dict, floor_calls: Run, floors: list[Run], slow_floors: list[Run]) -> dict:
    """Medians per (N, tool): seconds and call counts."""
    rows = {}
    for (n, tool), cases in results.items():
        rows[(n, tool)] = {
            "cold": median([c.cold.seconds for c in cases]),
            "rerun": median([c.rerun.seconds for c in cases]),
            "slow_rerun": median([c.slow_rerun.seconds for c in cases]),
            "cold_reads": int(median([len(c.cold.reads) for c in cases])),
            "cold_writes": int(median([len(c.cold.writes) for c in cases])),
            "rerun_reads": int(median([len(c.rerun.reads) for c in cases])),
            "rerun_writes": int(median([len(c.rerun.writes) for c in cases])),
            "rerun_changed": max(c.rerun.changed for c in cases),
            "cold_server_cpu": median([c.cold.server_cpu for c in cases if c.cold.server_cpu is not None]),
            "rerun_server_cpu": median([c.rerun.server_cpu for c in cases if c.rerun.server_cpu is not None]),
            "runs": len(cases),
        }
    rows[(None, "floor")] = {
        "rerun": median([f.seconds for f in floors]),
        "slow_rerun": median([f.seconds for f in slow_floors]),
        "rerun_reads": len(floor_calls.reads),
        "rerun_writes": len(floor_calls.writes),
        "runs": len(floors),
    }
    return rows


def table(rows: dict) -> list[str]:
    lines = [
        "| N | tool | cold s | rerun s | reads (cold / rerun) | writes (cold / rerun) | rerun at 50 ms s |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for (n, tool), r in rows.items():
        if n is None:
            continue
        lines.append(
            f"| {n} | {tool} | {fmt(r['cold'])} | {fmt(r['rerun'])} | {r['cold_reads']} / {r['rerun_reads']} "
            f"| {r['cold_writes']} / {r['rerun_writes']} | {fmt(r['slow_rerun'])} |"
        )
    f = rows[(None, "floor")]
    lines.append(
        f"| - | floor (bench/floor.yml) | - | {fmt(f['rerun'])} | - / {f['rerun_reads']} | - / {f['rerun_writes']} "
        f"| {fmt(f['slow_rerun'])} |"
    )
    if (None, "bare") in rows:
        bare = fmt(rows[(None, "bare")]["rerun"])
        lines.append(f"| - | Ansible alone (bench/bare.yml) | - | {bare} | - / 0 | - / 0 | - |")
    return lines


def ratios(rows: dict, sizes: list[int]) -> tuple[list[str], list[str]]:
    big, small = max(sizes), min(sizes)
    theirs = rows[(big, BASELINE)]
    lines, measured = [], {}
    for tool in OURS:
        if (big, tool) not in rows:
            continue
        ours, first = rows[(big, tool)], rows[(small, tool)]
        m = {
            "cold_x": theirs["cold"] / ours["cold"],
            "rerun_x": theirs["rerun"] / ours["rerun"],
            "slow_x": theirs["slow_rerun"] / ours["slow_rerun"],
            "flat": ours["rerun"] / first["rerun"],
            "per_repo": ours["rerun_reads"] / big,
            "marginal": (ours["rerun_reads"] - first["rerun_reads"]) / max(1, big - small),
            "writes": ours["rerun_writes"],
            "slow": ours["slow_rerun"],
        }
        measured[tool] = m
        lines += [
            f"- **{tool}** at N={big}: cold converge **{m['cold_x']:.1f}x** faster than the ecs_ecr loop "
            f"({fmt(theirs['cold'])} s → {fmt(ours['cold'])} s), unchanged rerun **{m['rerun_x']:.1f}x** "
            f"({fmt(theirs['rerun'])} s → {fmt(ours['rerun'])} s), rerun at 50 ms per call **{m['slow_x']:.1f}x** "
            f"({fmt(theirs['slow_rerun'])} s → {fmt(ours['slow_rerun'])} s); rerun N={big} / rerun N={small} "
            f"**{m['flat']:.2f}** ({fmt(ours['rerun'])} s / {fmt(first['rerun'])} s); reads per repository on the "
            f"rerun **{m['per_repo']:.2f}** ({m['marginal']:.2f} per repository beyond N={small})",
        ]
    lines.append(f"- ecs_ecr loop: reads per repository on the rerun {theirs['rerun_reads'] / big:.2f}")
    checks = [
        ("cold converge ≥ 20x faster than the baseline", lambda m: (f"{m['cold_x']:.1f}x", m["cold_x"] >= 20)),
        ("unchanged rerun ≥ 20x faster than the baseline", lambda m: (f"{m['rerun_x']:.1f}x", m["rerun_x"] >= 20)),
        (f"rerun N={big} ≤ 1.5 x rerun N={small}", lambda m: (f"{m['flat']:.2f}x", m["flat"] <= 1.5)),
        ("0 writes on the unchanged rerun", lambda m: (str(m["writes"]), m["writes"] == 0)),
        ("≤ 4 reads per repository on the unchanged rerun", lambda m: (f"{m['per_repo']:.2f}", m["per_repo"] <= 4)),
        ("unchanged rerun at 50 ms per call < 5 s", lambda m: (f"{fmt(m['slow'])} s", m["slow"] < 5)),
    ]
    tools = list(measured)
    target_lines = [
        f"| target (N={big}) | " + " | ".join(tools) + " |",
        "|---|" + "---:|" * len(tools),
    ]
    for what, check in checks:
        cells = []
        for tool in tools:
            value, ok = check(measured[tool])
            cells.append(f"{value} {'met' if ok else '**missed**'}")
        target_lines.append(f"| {what} | " + " | ".join(cells) + " |")
    return lines, target_lines


def dominated(rows: dict, profiles: dict, sizes: list[int]) -> list[str]:
    big, small = max(sizes), min(sizes)
    ours, theirs, floor = rows[(big, CLOUDOPS)], rows[(big, BASELINE)], rows[(None, "floor")]

    def growth(tool):
        first = rows[(small, tool)]["rerun"]
        return first, (rows[(big, tool)]["rerun"] - first) / max(1, big - small)

    parts = [
        f"{tool} {fmt(first)} s at N={small} plus {per * 1000:.0f} ms per further repository"
        for tool in (*OURS, BASELINE)
        if (big, tool) in rows
        for first, per in [growth(tool)]
    ]
    lines = [
        f"- **Fixed cost and cost per repository** (unchanged rerun): {'; '.join(parts)}. "
        f"The floor (Ansible plus one AWS module task) is {fmt(floor['rerun'])} s."
    ]
    bare = rows.get((None, "bare"))
    if bare:
        lines.append(
            f"- **What one module task costs in Ansible**: ansible-playbook with one task that starts no module "
            f"takes {fmt(bare['rerun'])} s; one AWS module task adds {fmt(floor['rerun'] - bare['rerun'])} s "
            "(building the AnsiballZ payload, a worker process, then a Python process importing boto3 and making "
            "a client), however little it does. The full site runs six such tasks (aws_caller_info in the "
            "registry's account and in the environment's, ecr_repository, ecr_lifecycle, github_oidc_role, "
            "image_updater_role), the registry-only run four."
        )
    prof = profiles.get(CLOUDOPS)
    if prof:
        runs = [m for m in prof["modules"] if not m.get("failed")]
        wall = sum(m["wall"] for m in runs)
        imports = sum(m["imports"] for m in runs)
        clients = sum(m["client creation"] for m in runs)
        work = wall - imports - clients
        names = ", ".join(m["module"] for m in prof["modules"])
        lines.append(
            f"- **cloudops.ecr, rerun at N={big}** ({fmt(prof['seconds'])} s in the profiled run): the site run starts "
            f"{len(prof['modules'])} AWS module processes ({names}). Under cProfile they took {fmt(wall)} s: "
            f"imports (boto3, botocore, Ansible's module_utils) {fmt(imports)} s, client creation {fmt(clients)} s, "
            f"AWS calls and module work {fmt(work)} s for {sum(m['api_calls'] for m in runs)} calls. "
            + (
                "Starting module processes, not the API calls, is most of it"
                if imports + clients > work
                else "The API calls and the modules' own work are most of it"
            )
            + f"; the other {fmt(max(0.0, prof['seconds'] - wall))} s or so are ansible-playbook itself (start-up, "
            "inventory, role argument validation, templating, one worker process per task)."
        )
    prof = profiles.get(BASELINE)
    if prof and prof["modules"]:
        m = prof["modules"][0]
        lines.append(
            f"- **ecs_ecr loop**: one module process per repository. One iteration under cProfile: {fmt(m['wall'])} s, "
            f"of which imports {fmt(m['imports'])} s, client creation {fmt(m['client creation'])} s, "
            f"{m['api_calls']} API calls and the rest {fmt(m['rest'])} s — the same start-up cost as a whole "
            "cloudops.ecr module run, paid once per repository."
        )
    served = [
        f"{tool} cold {fmt(r['cold_server_cpu'])} s of {fmt(r['cold'])} s, rerun {fmt(r['rerun_server_cpu'])} s "
        f"of {fmt(r['rerun'])} s"
        for tool in (*OURS, BASELINE)
        for r in [rows.get((big, tool))]
        if r and not math.isnan(r.get("cold_server_cpu", math.nan))  # NaN where /proc is missing
    ]
    if served:
        lines.append(
            f"- **moto's own CPU** at N={big} (the test double serving the calls, on the same cores as Ansible): "
            f"{'; '.join(served)}. Against AWS that work is done on AWS's side; the rerun at 50 ms per call "
            "stands in for what calls cost there."
        )
    extra_ours = ours["slow_rerun"] - ours["rerun"]
    extra_theirs = theirs["slow_rerun"] - theirs["rerun"]
    lines.append(
        f"- **At 50 ms per call**: cloudops.ecr's rerun grew by {fmt(extra_ours)} s for {ours['rerun_reads']} calls "
        f"({fmt(ours['rerun_reads'] * DELAY)} s if made one after another: per-repository reads overlap on the "
        f"bounded pool); the ecs_ecr loop grew by {fmt(extra_theirs)} s for {theirs['rerun_reads']} calls made "
        "one after another."
    )
    return lines


def machine_lines(info: dict, loads, samples, step: str) -> list[str]:
    """The "Machine" lines of a report: versions, commit and load (``step``: what the samples follow)."""
    return [
        f"- {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, ansible-core {info['ansible-core']}, "
        f"amazon.aws {info['amazon.aws']}, community.aws {info['community.aws']}, moto {info['moto']} "
        f"(served by waitress {info['waitress']})",
        f"- tree at commit {info['commit']}; load average (1, 5, 15 min) at start {loads[0]}, at end {loads[1]}; "
        f"1-minute load after each {step}: median {median(samples):.1f}, max {max(samples):.1f}",
    ]


def write_report(path, info, started, elapsed, loads, samples, rows, sizes, runs, profiles, same_state, raw):
    ratio_lines, target_lines = ratios(rows, sizes)
    out = [
        "# Benchmark: cloudops.ecr against a community.aws.ecs_ecr loop",
        "",
        f"Written by `make bench` (bench/run.py) on {started:%Y-%m-%d %H:%M} UTC, {elapsed / 60:.1f} min. "
        f"Medians of {runs} runs per cell, the tools taking turns (order reversed every other run), one moto "
        "server reset before each case; the floor is a median over runs placed between the cases.",
        "",
        f"- **{CLOUDOPS}**: the site playbook as users run it (`site.yml -i {INVENTORY}`, with "
        "`ecr_registry_pod_identity_association=false`: moto lacks that EKS API, and "
        + ", ".join(f"`{k}={json.dumps(v)}`" for k, v in WHOLE_SITE_VARS.items())
        + ": one CI role per repository) — everything the site builds.",
        f"- **{REGISTRY_ONLY}**: the same playbook with "
        + ", ".join(f"`{k}={str(v).lower()}`" for k, v in REGISTRY_ONLY_VARS.items())
        + ": the baseline's scope (repositories and their policies).",
        f"- **{BASELINE}**: `bench/baseline.yml`, community.aws.ecs_ecr once per repository, given the lifecycle "
        "and repository policies the site playbook applied (read back from moto).",
        "- Both site runs set "
        + ", ".join(f"`{k}={json.dumps(v)}`" for k, v in SITE_VARS.items())
        + ": every repository gets a repository policy as well as the role's lifecycle policy, and the bench "
        "stops if a repository lacks either.",
        "- After each reset three untimed requests (STS, ECR, IAM) warm moto up: it builds each backend on its "
        "first request after a reset (ECR's takes about a second here), a cost of the test double that belongs "
        "to neither tool.",
        "- moto's application is served by waitress (scripts/localaws.py), not by werkzeug's development "
        "server: connections stay open between calls, as with AWS, and moto neither logs each request nor "
        "rescans its package directory for each. That halves moto's CPU per call, for both tools alike; the "
        "API moto answers is the same. The 50 ms proxy keeps its connections to moto open too.",
        "",
        "## Machine",
        "",
        *machine_lines(info, loads, samples, "case"),
        *(
            [
                f"- **The machine was busy with other work** (load above its {info['nproc']} CPUs): every figure is "
                "inflated and noisy, the baseline's most (one process start per repository); see every run below."
            ]
            if median(samples) > info["nproc"]
            else []
        ),
        "",
        "## Results",
        "",
        "cold = first converge of an empty registry; rerun = the same run again, nothing to change; "
        "reads/writes = API calls moto recorded (Describe/List/Get/BatchGet… are reads); "
        f"rerun at 50 ms = the rerun through a proxy adding {DELAY * 1000:.0f} ms to every request.",
        "",
        *table(rows),
        "",
        "## Ratios",
        "",
        *ratio_lines,
        "",
        "## Targets",
        "",
        f"The comparison of equal scope is **{REGISTRY_ONLY}**: it builds what the {BASELINE} builds. "
        f"**{CLOUDOPS}** also builds the GitHub OIDC provider, the CI role and the Image Updater role, which "
        "the baseline does not; its verdicts are shown for information.",
        "",
        *target_lines,
        "",
        "## Same state",
        "",
    ]
    for n in sizes:
        mismatched = same_state[n]
        out.append(
            f"- N={n}: "
            + (
                f"the {BASELINE} and the {REGISTRY_ONLY} run built the same repositories as the site playbook: "
                "mutability, scanning, encryption, lifecycle and repository policies"
                if not mismatched
                else f"**the state differs from the site playbook's** for {', '.join(mismatched[:5])}"
            )
        )
    out.append("- Not compared: tags (ecs_ecr has no tags option; the site playbook also tags every repository).")
    noisy = [f"N={n} {tool}" for (n, tool), r in rows.items() if n is not None and r["rerun_changed"]]
    out.append(
        "- Every unchanged rerun reported changed=0."
        if not noisy
        else f"- **Reruns reporting changes**: {', '.join(noisy)} (see the logs: not idempotent)."
    )
    out += ["", "## What dominated", "", *dominated(rows, profiles, sizes), ""]
    prof = profiles.get(CLOUDOPS)
    if prof:
        out += [f"### cloudops.ecr rerun at N={max(sizes)}: tasks (ansible.posix.profile_tasks)", ""]
        out += ["| task | s |", "|---|---:|"] + [f"| {name} | {seconds:.2f} |" for name, seconds in prof["tasks"]]
        out += ["", "### Module runs under cProfile (wall s)", ""]
    for tool in (CLOUDOPS, BASELINE):
        prof = profiles.get(tool)
        if not prof:
            continue
        if tool == BASELINE:
            out += ["", "One iteration of the ecs_ecr loop:", ""]
        out += [
            "| module | wall | imports | module set-up | client creation | AWS calls + work | API calls |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for m in prof["modules"]:
            if m.get("failed"):
                out.append(f"| {m['module']} | failed | | | | | |")
                continue
            out.append(
                f"| {m['module']} | {fmt(m['wall'])} | {fmt(m['imports'])} | {fmt(m['module set-up'])} "
                f"| {fmt(m['client creation'])} | {fmt(m['rest'])} | {m['api_calls']} |"
            )
        ops = ", ".join(f"{op} {count}" for op, count in sorted(prof["operations"].items()))
        out += ["", f"Calls on that rerun ({tool}): {ops}", ""]
    out += ["## Every run (seconds)", "", "| N | tool | cold | rerun | rerun at 50 ms |", "|---:|---|---|---|---|"]
    for (n, tool), cases in raw.items():
        cells = [", ".join(fmt(getattr(c, phase).seconds) for c in cases) for phase in ("cold", "rerun", "slow_rerun")]
        out.append(f"| {n} | {tool} | {' | '.join(cells)} |")
    out += ["", "Reproduce: `make bench` (options: `.venv/bin/python bench/run.py --help`).", ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,20,100", help="repository counts (default 1,20,100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cell, median reported (default 3)")
    parser.add_argument("--output", default=os.path.join(BENCH, "results.md"))
    parser.add_argument("--no-profile", action="store_true", help="skip the profiling runs")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    loads = [load()]
    info = machine()

    def say(msg):
        print(f"[{time.perf_counter() - clock:7.1f} s] {msg}", flush=True)

    with tempfile.TemporaryDirectory(prefix="cloudops-bench-") as workdir:
        with MotoServer(region=inventory_region()) as aws, LatencyProxy(aws.url, DELAY, lifetime=3 * 3600) as proxy:
            bench = Bench(aws, proxy, workdir)
            say(f"moto on {aws.url}, latency proxy (+{DELAY * 1000:.0f} ms) on {proxy.url}; warming up")
            bench.reset()
            bench.converge(CLOUDOPS, repository_names(1), {})
            bench.reset()
            bench.converge(BASELINE, repository_names(1), {})
            floor_calls = bench.floor(record=True)
            floors, slow_floors, bares = [], [], []
            results, same_state, policies = {}, {}, {}
            for n in sizes:
                names = repository_names(n)
                same_state[n] = []
                for run in range(args.runs):
                    order = (CLOUDOPS, REGISTRY_ONLY, BASELINE)
                    order = order if run % 2 == 0 else order[::-1]
                    for tool in order:
                        case = bench.case(tool, names, policies.get(n, {}))
                        if tool == CLOUDOPS and n not in policies:
                            policies[n] = policies_of(case.state)
                            reference = case.state
                        results.setdefault((n, tool), []).append(case)
                        say(
                            f"N={n:<3} run {run + 1}/{args.runs} {tool:<13} cold {fmt(case.cold.seconds)} s, "
                            f"rerun {fmt(case.rerun.seconds)} s, at 50 ms {fmt(case.slow_rerun.seconds)} s, "
                            f"rerun calls {len(case.rerun.reads)} reads / {len(case.rerun.writes)} writes"
                        )
                        if tool != CLOUDOPS:
                            same_state[n] += [f"{tool}: {k}" for k in names if case.state.get(k) != reference.get(k)]
                    floors.append(bench.floor())
                    bares.append(bench.bare())
                    if n == max(sizes):
                        slow_floors.append(bench.floor(slow=True))
                same_state[n] = sorted(set(same_state[n]))
            profiles = {}
            if not args.no_profile:
                big = max(sizes)
                say(f"profiling the cloudops.ecr rerun at N={big} and one ecs_ecr iteration")
                profiles[CLOUDOPS] = bench.profile(CLOUDOPS, repository_names(big), policies[big])
                small = min(sizes)
                profiles[BASELINE] = bench.profile(BASELINE, repository_names(small), policies[small])
        loads.append(load())

    rows = summarise(results, floor_calls, floors, slow_floors)
    rows[(None, "bare")] = {"rerun": median([b.seconds for b in bares]), "runs": len(bares)}
    elapsed = time.perf_counter() - clock
    print()
    print("\n".join(table(rows)))
    ratio_lines, target_lines = ratios(rows, sizes)
    print()
    print("\n".join(ratio_lines))
    print()
    print("\n".join(target_lines))
    write_report(
        args.output, info, started, elapsed, loads, bench.loads, rows, sizes, args.runs, profiles, same_state, results
    )
    print(f"\nWritten to {os.path.relpath(args.output, ROOT)} ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)
