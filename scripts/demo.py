"""`make demo` (`make demo ENV=pro`): converge an environment's registry on a local AWS endpoint.

Starts a moto server on a free loopback port, runs `ansible-playbook site.yml -i inventories/<ENV>`
against it (AWS_ENDPOINT_URL / AWS_URL only), and stops the server whatever happened. The run's
own summary says what it built; the outputs land in outputs/<ENV>.json, the hand-off files
(CI workflows, Image Updater configuration) under outputs/handoff/. The exit status is the
playbook's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localaws import MotoServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENT = os.environ.get("DEMO_ENV") or "dev"
# The CI workflows and the Image Updater's configuration the run writes (README "Wiring a repository's CI").
HANDOFF = os.path.join("outputs", "handoff")


def main() -> int:
    if not os.path.isdir(os.path.join(ROOT, "inventories", ENVIRONMENT)):
        print(f"ENV={ENVIRONMENT}: there is no inventories/{ENVIRONMENT}", file=sys.stderr)
        return 2
    outputs = os.path.join("outputs", f"{ENVIRONMENT}.json")
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    with MotoServer() as aws:
        print(f"Local AWS endpoint (moto) on {aws.url}, stopped at the end")
        # moto has no EKS Pod Identity API: the association is left out (README, ArgoCD Image Updater).
        extra = {
            "ecr_registry_outputs_file": outputs,
            "ecr_registry_handoff_dir": HANDOFF,
            "ecr_registry_pod_identity_association": False,
        }
        rc = subprocess.call(
            [playbook, "site.yml", "-i", f"inventories/{ENVIRONMENT}", "-e", json.dumps(extra)],
            cwd=ROOT,
            env=aws.env(),
        )
    if rc != 0:
        print(f"The playbook failed (exit {rc}); the local endpoint is stopped.", file=sys.stderr)
        return rc
    print(f"Outputs of {ENVIRONMENT}: {outputs}; hand-off files under {HANDOFF}/; the local endpoint is stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
