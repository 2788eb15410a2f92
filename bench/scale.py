"""`make bench-scale`: cloudops.ecr at an organisation's size, N generated GitHub repositories (default 1,000).

For each N, on a fresh moto server, reset before each mode, the site playbook (site.yml -i inventories/dev)
in two modes, each run cold (empty registry), rerun (nothing to change) and rerun through
bench/latency_proxy.py adding 50 ms to every request:

- registry only (bench/run.py's REGISTRY_ONLY_VARS): repositories and their policies;
- the whole site with one CI role per repository (``gha-{owner}-{repo}``) and the Image Updater role.
  After its cold run every document moto holds is checked against AWS's limits (bench/limits.py).

Every run: seconds, reads and writes per repository (moto's recorder) and the peak RSS of its module
processes. No rerun may write, nor may a document exceed its limit: the report says so and the exit
status is 1. bench/run.py's community.aws.ecs_ecr loop is not run at N: it runs at N=1 and N=--baseline
and its cost at N is extrapolated from those two points, labelled so. Writes bench/scale-results.md.

    .venv/bin/python bench/scale.py [--sizes 1000] [--runs 1] [--baseline 20] [--output bench/scale-results.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

import limits
from limits import documents_over_limits, largest_documents
from run import (
    BASELINE,
    DELAY,
    INVENTORY,
    REGISTRY_ONLY,
    REGISTRY_ONLY_VARS,
    ROOT,
    SITE_VARS,
    Bench,
    BenchError,
    LatencyProxy,
    MotoServer,
    Run,
    inventory_region,
    load,
    machine,
    machine_lines,
    policies_of,
    registry_state,
)

from ansible_collections.cloudops.ecr.tests.integration.reliability.snapshot import snapshot

REGISTRY, SITE = "registry only", "whole site, a CI role per repository"
MODES = {
    REGISTRY: REGISTRY_ONLY_VARS,
    SITE: {
        "ecr_registry_ci_per_repository": True,
        "ecr_registry_ci_role_name": "gha-{owner}-{repo}",
        # 1,000 CI roles and the Image Updater's are more than IAM's default quota of 1,000 roles.
        "ecr_registry_iam_roles_max": 5000,
    },
}
PHASES = ("cold", "rerun", "rerun at 50 ms")
# Each module's interpreter: runs the module, then appends the module process's peak RSS in KiB
# (getrusage(RUSAGE_CHILDREN).ru_maxrss once it has exited) to the file $CLOUDOPS_BENCH_RSS names.
RSS_INTERPRETER = """#!{python}
import os, resource, subprocess, sys
status = subprocess.call([{python!r}, *sys.argv[1:]])
with open(os.environ["CLOUDOPS_BENCH_RSS"], "a") as f:
    f.write(f"{{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}\\n")
sys.exit(status)
"""


@dataclass
class Measured:
    run: Run
    rss_kib: list[int]  # one entry per module process of the run


@dataclass
class Scale:
    """Everything a bench-scale run measured, for the report."""

    runs: int
    baseline: int
    results: dict = field(default_factory=lambda: {mode: {} for mode in MODES})  # mode -> N -> [{phase: Measured}]
    largest: dict = field(default_factory=dict)  # N -> largest_documents after the whole site's cold run
    loop: dict = field(default_factory=dict)  # 1 and baseline -> (cold Run, rerun Run) of the ecs_ecr loop
    wrong: list = field(default_factory=list)  # rerun writes and documents over limits: the run FAILED
    samples: list = field(default_factory=list)  # 1-minute load after each mode
    timings: list = field(default_factory=list)  # (what, seconds) per moto server


def github_repos(n: int) -> list[str]:
    return [f"example-org/service-{i:04d}" for i in range(1, n + 1)]


def organisation(n: int, mode: str) -> dict:
    return {
        "github_repos": github_repos(n),
        "extra_repositories": [],
        "ecr_registry_pod_identity_association": False,  # moto has no EKS Pod Identity API
        **SITE_VARS,
        **MODES[mode],
    }


def site(bench: Bench, interpreter: str, extra: dict, slow: bool = False) -> Measured:
    fd, rss = tempfile.mkstemp(suffix=".rss", dir=bench.workdir)
    os.close(fd)
    result = bench.playbook(
        "site.yml",
        {**extra, "ansible_python_interpreter": interpreter},
        slow=slow,
        record=True,
        env={"CLOUDOPS_BENCH_RSS": rss},
    )
    with open(rss) as f:
        return Measured(result, [int(line) for line in f])


def converge(bench: Bench, interpreter: str, n: int, mode: str) -> tuple[dict[str, Measured], list[str], dict | None]:
    """The three runs of one mode on an empty registry, what is wrong with them, and (whole site) the
    largest documents moto holds after the cold run."""
    extra = organisation(n, mode)
    bench.reset()
    runs = {"cold": site(bench, interpreter, extra)}
    wrong, largest = [], None
    if mode == SITE:
        state = snapshot(bench.aws.url, bench.aws.region, bench.direct)
        wrong += documents_over_limits(state)
        largest = largest_documents(state)
        repositories, roles = len(state["ecr"]["repositories"]), len(state["iam"]["roles"])
        if (repositories, roles) != (n, n + 1):
            wrong.append(f"moto holds {repositories} repositories and {roles} roles, not {n} and {n + 1}")
    runs["rerun"] = site(bench, interpreter, extra)
    runs["rerun at 50 ms"] = site(bench, interpreter, extra, slow=True)
    bench.loads.append(os.getloadavg()[0])
    for phase in PHASES[1:]:
        if runs[phase].run.writes or runs[phase].run.changed:
            wrong.append(
                f"the {phase} wrote {dict(Counter(runs[phase].run.writes))}, changed={runs[phase].run.changed}"
            )
    return runs, [f"{mode}, N={n}: {w}" for w in wrong], largest


def baseline(bench: Bench, n: int) -> dict[int, tuple[Run, Run]]:
    """bench/run.py's ecs_ecr loop, cold and rerun, at 1 and ``n`` repositories, given the policies
    that run.py's registry-only run applies."""
    names = github_repos(n)
    bench.reset()
    bench.converge(REGISTRY_ONLY, names, {})
    policies = policies_of(registry_state(bench.direct, names))
    measured = {}
    for size in (1, n):
        bench.reset()
        cold = bench.converge(BASELINE, names[:size], policies, record=True)
        measured[size] = (cold, bench.converge(BASELINE, names[:size], policies, record=True))
    return measured


# -- report -------------------------------------------------------------------------------------
def mode_table(mode: str, results: dict) -> list[str]:
    lines = [
        "| N | run | s | reads / repository | writes / repository | calls (reads / writes) | changed "
        "| module processes | peak module RSS MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, runs in sorted(results[mode].items()):
        for phase in PHASES:
            ms = [r[phase] for r in runs]
            reads, writes = median([len(m.run.reads) for m in ms]), median([len(m.run.writes) for m in ms])
            lines.append(
                f"| {n} | {phase} | {median([m.run.seconds for m in ms]):.2f} | {reads / n:.2f} | {writes / n:.2f} "
                f"| {reads:g} / {writes:g} | {max(m.run.changed for m in ms)} | {len(ms[0].rss_kib)} "
                f"| {median([max(m.rss_kib, default=0) for m in ms]) / 1024:.0f} |"
            )
    return lines


def limits_table(largest: dict) -> list[str]:
    kinds = (
        ("trust_policy", "a role's trust policy", limits.TRUST_POLICY_DEFAULT_MAX),
        ("inline_policies", "a role's inline policies together", limits.ROLE_INLINE_POLICIES_MAX),
        ("repository_policy", "a repository policy", limits.POLICY_MAX_CHARS),
        ("lifecycle_policy", "a lifecycle policy", limits.TEXT_MAX),
    )
    sizes = sorted(largest)
    lines = [
        "| document | " + " | ".join(f"largest at N={n}" for n in sizes) + " | AWS's limit |",
        "|---|" + "---:|" * (len(sizes) + 1),
    ]
    for key, what, limit in kinds:
        lines.append(f"| {what} | " + " | ".join(f"{largest[n][key]:,}" for n in sizes) + f" | {limit:,} |")
    return lines


def loop_lines(loop: dict, b: int, results: dict) -> list[str]:
    lines = [
        f"| N | run | ecs_ecr loop, measured N=1 | measured N={b} | per further repository "
        f"| **ecs_ecr loop, extrapolated** | cloudops.ecr {REGISTRY}, measured | loop / cloudops.ecr |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, runs in sorted(results[REGISTRY].items()):
        for i, phase in enumerate(("cold", "rerun")):
            one, at_b = loop[1][i].seconds, loop[b][i].seconds
            per = (at_b - one) / (b - 1)
            theirs, ours = one + per * (n - 1), median([r[phase].run.seconds for r in runs])
            lines.append(
                f"| {n} | {phase} | {one:.2f} s | {at_b:.2f} s | {per:.2f} s | **{theirs:.0f} s (extrapolated)** "
                f"| {ours:.2f} s | {theirs / ours:.1f}x |"
            )
    calls = ", ".join(f"{len(loop[b][i].reads)} reads / {len(loop[b][i].writes)} writes" for i in (0, 1))
    lines += ["", f"The loop's calls at N={b} (cold, rerun): {calls}."]
    return lines


def write_report(path: str, scale: Scale, info: dict, started, elapsed: float, loads: list[str]) -> list[str]:
    results, wrong, samples = scale.results, scale.wrong, scale.samples
    out = [
        f"# Scale: cloudops.ecr at N = {', '.join(str(n) for n in sorted(results[REGISTRY]))} repositories",
        "",
        f"Written by `make bench-scale` (bench/scale.py) on {started:%Y-%m-%d %H:%M} UTC, {elapsed / 60:.1f} min; "
        f"{f'medians of {scale.runs} runs' if scale.runs > 1 else 'one run'} per cell.",
        "",
        *(["## FAILED", "", *[f"- **{w}**" for w in wrong], ""] if wrong else []),
        "## Machine",
        "",
        *machine_lines(info, loads, samples, "mode"),
        f"- wall time: {', '.join(f'{what} {seconds / 60:.1f} min' for what, seconds in scale.timings)}",
        *(
            [
                f"- **The machine was busy with other work** (load above its {info['nproc']} CPUs): every time is "
                "inflated and noisy; call counts and sizes are not affected."
            ]
            if median(samples) > info["nproc"]
            else []
        ),
        "",
        "## What is measured",
        "",
        f"`site.yml -i {INVENTORY}` with generated `github_repos` (example-org/service-0001, ...), "
        "`extra_repositories: []`, `ecr_registry_pod_identity_association=false` (moto has no EKS Pod Identity "
        "API) and, as in bench/run.py, a pull grant for another account on every repository "
        "(`ecr_registry_repository_access`), so that each has a repository policy as well as a lifecycle policy.",
        "",
        *(f"- **{mode}**: " + ", ".join(f"`{k}={json.dumps(v)}`" for k, v in MODES[mode].items()) for mode in MODES),
        "- cold = first converge of an empty moto (reset, then warmed up: STS, ECR and IAM answer once); rerun = "
        f"the same run again, nothing to change; rerun at 50 ms = the rerun through a proxy adding "
        f"{DELAY * 1000:.0f} ms to every request.",
        "- s = wall time of ansible-playbook; reads / writes = API calls moto's recorder saw (on in every run, "
        "about 0.5 ms of moto's CPU per call); changed = tasks reported changed in the play recap.",
        "- peak module RSS = the largest resident set of any one module process of the run (the AWS module "
        "tasks: Python importing boto3 and the module's work): each module's interpreter is a small wrapper "
        "that starts the real one and records `getrusage(RUSAGE_CHILDREN).ru_maxrss` after it exits. "
        "ansible-playbook itself and its workers are not included.",
        "",
    ]
    for mode in MODES:
        out += [f"## {mode}", "", *mode_table(mode, results), ""]
    out += [
        "## Documents against AWS's limits (whole site, after the cold run)",
        "",
        "moto enforces none of them: `bench/limits.documents_over_limits` over a snapshot of what moto holds "
        "(tests/integration/reliability/snapshot.py) must be empty, or the run is reported FAILED above. Sizes "
        "as the services count them (IAM: characters without whitespace; ECR: compact JSON).",
        "",
        *limits_table(scale.largest),
        "",
        "## The community.aws.ecs_ecr loop, extrapolated (not run at N)",
        "",
        "bench/run.py's baseline (bench/baseline.yml, one ecs_ecr module run per repository, given the policies "
        f"the registry-only run applies), measured at N=1 and N={scale.baseline} on its own moto server; its cost at "
        "N is N=1's plus the per-repository cost between the two points times N-1. It runs on the registry's "
        "host, as the site's registry play does.",
        "",
        *loop_lines(scale.loop, scale.baseline, results),
        "",
        "Reproduce: `make bench-scale` (options: `.venv/bin/python bench/scale.py --help`).",
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(out))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000", help="repository counts (default 1000)")
    parser.add_argument("--runs", type=int, default=1, help="runs per cell, median reported (default 1)")
    parser.add_argument("--baseline", type=int, default=20, help="largest N the ecs_ecr loop runs at (default 20)")
    parser.add_argument("--output", default=os.path.join(BENCH, "scale-results.md"), help="the report (Markdown)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.baseline < 2:
        parser.error("--baseline must be at least 2: the loop's cost per repository needs two points")

    started, clock, loads, info = datetime.datetime.now(datetime.UTC), time.perf_counter(), [load()], machine()
    scale = Scale(args.runs, args.baseline)

    def say(msg):
        print(f"[{time.perf_counter() - clock:7.1f} s] {msg}", flush=True)

    with tempfile.TemporaryDirectory(prefix="cloudops-scale-") as workdir:
        interpreter = os.path.join(workdir, "python-rss")
        with open(interpreter, "w") as f:
            f.write(RSS_INTERPRETER.format(python=sys.executable))
        os.chmod(interpreter, 0o755)

        def on_fresh_server(what, work):
            begun = time.perf_counter()
            with MotoServer(region=inventory_region()) as aws, LatencyProxy(aws.url, DELAY, lifetime=6 * 3600) as proxy:
                bench = Bench(aws, proxy, workdir)
                bench.reset()
                site(bench, interpreter, organisation(1, SITE))  # warm-up, not measured
                value = work(bench)
            scale.samples += bench.loads
            scale.timings.append((what, time.perf_counter() - begun))
            return value

        def modes(n):
            def work(bench):
                for mode in MODES:
                    for attempt in range(args.runs):
                        runs, problems, documents = converge(bench, interpreter, n, mode)
                        scale.results[mode].setdefault(n, []).append(runs)
                        scale.wrong += problems
                        if documents is not None:
                            scale.largest[n] = documents
                        say(
                            f"N={n} {mode} run {attempt + 1}/{args.runs}: "
                            + ", ".join(f"{p} {m.run.seconds:.1f} s" for p, m in runs.items())
                            + (f"; PROBLEMS: {problems}" if problems else "")
                        )

            return work

        for n in sizes:
            on_fresh_server(f"N={n}", modes(n))
        say(f"ecs_ecr loop at N=1 and N={args.baseline}")
        scale.loop = on_fresh_server(f"ecs_ecr loop at N=1 and {args.baseline}", lambda b: baseline(b, args.baseline))
    loads.append(load())
    elapsed = time.perf_counter() - clock
    out = write_report(args.output, scale, info, started, elapsed, loads)
    print("\n" + "\n".join(out))
    print(f"Written to {os.path.relpath(args.output, ROOT)} ({elapsed / 60:.1f} min)")
    if scale.wrong:
        print("bench-scale FAILED:\n" + "\n".join(f"  {w}" for w in scale.wrong), file=sys.stderr)
    return 1 if scale.wrong else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench-scale: {exc}", file=sys.stderr)
        sys.exit(1)
