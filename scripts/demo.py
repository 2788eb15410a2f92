"""`make demo`: converge the dev registry on a local AWS endpoint and print what it built.

Starts a moto server on a free loopback port, runs `ansible-playbook site.yml -i inventories/dev`
against it (AWS_ENDPOINT_URL / AWS_URL only), prints the outputs, and stops the server whatever
happened. The exit status is the playbook's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localaws import MotoServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENT = os.environ.get("DEMO_ENV", "dev")


def main() -> int:
    outputs = os.path.join(ROOT, "outputs", f"{ENVIRONMENT}.json")
    os.makedirs(os.path.dirname(outputs), exist_ok=True)
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    with MotoServer() as aws:
        print(f"Local AWS endpoint (moto) on {aws.url}")
        extra = {"ecr_registry_outputs_file": outputs, "ecr_registry_pod_identity_association": False}
        rc = subprocess.call(
            [playbook, "site.yml", "-i", f"inventories/{ENVIRONMENT}", "-e", json.dumps(extra)],
            cwd=ROOT,
            env=aws.env(),
        )
    if rc != 0:
        print(f"The playbook failed (exit {rc}); the local endpoint is stopped.", file=sys.stderr)
        return rc
    with open(outputs) as f:
        data = json.load(f)
    print(f"\nRegistry for {data['environment']} — outputs in {os.path.relpath(outputs, ROOT)}")
    for name, url in data["repository_urls"].items():
        print(f"  {name:<28} {url}")
    print(f"  {'GitHub OIDC provider':<28} {data.get('oidc_provider_arn')}")
    for name, arn in (data.get("ci_role_arns") or {}).items():
        print(f"  {'CI push role ' + name:<28} {arn}")
    print(f"  {'Image Updater role':<28} {data.get('image_updater_role_arn')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
