"""`make drift ENV=dev`: the drift report of an environment (and the registry), with an exit status
for cron and CI: 0 no drift, 3 drift, 1 the run failed for another reason (credentials, input, AWS).

Runs `ansible-playbook playbooks/drift.yml -i inventories/<ENV>` with the caller's AWS credentials
(or a local endpoint's, through AWS_ENDPOINT_URL / AWS_URL), then reads the report it wrote
(DRIFT_DIR, default outputs/: drift-<ENV>.json). ansible-playbook itself exits 2 both on drift and
on an error; more arguments are passed to it (`-e ...`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NO_DRIFT, ERROR, DRIFT = 0, 1, 3


def main(argv: list[str]) -> int:
    environment = os.environ.get("DRIFT_ENV") or "dev"
    folder = os.path.abspath(os.environ.get("DRIFT_DIR") or os.path.join(ROOT, "outputs"))
    report = os.path.join(folder, f"drift-{environment}.json")
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.join("inventories", environment)
    extra = json.dumps({"ecr_registry_drift_dir": folder})
    started = time.time()
    rc = subprocess.call([playbook, "playbooks/drift.yml", "-i", inventory, "-e", extra, *argv], cwd=ROOT)
    try:
        fresh = os.path.getmtime(report) >= started
        with open(report, encoding="utf-8") as f:
            drift = json.load(f)["drift"]
    except (OSError, ValueError, KeyError):
        fresh, drift = False, None
    if not fresh:
        print(f"No drift report was written (ansible-playbook exit {rc}): the run failed.", file=sys.stderr)
        return ERROR
    if drift:
        print(f"Drift: see {report[:-5]}.md", file=sys.stderr)
        return DRIFT
    return NO_DRIFT if rc == 0 else ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
