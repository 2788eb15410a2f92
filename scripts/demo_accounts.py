"""`make demo-accounts`: the registry in its own account, dev and pro in theirs, on one local endpoint.

Starts a moto server, writes an AWS config with one assume-role profile per account (scripts/
accounts.py: registry 111111111111, dev 222222222222, pro 333333333333), runs `site.yml` for dev,
then pro, then dev again (the third run changes nothing), prints every account's resources, and
removes the config and stops the server whatever happened. The outputs land in outputs/accounts/.
The exit status is the first failing playbook's, else 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accounts import AccountProfiles, inventory_vars, resources
from localaws import MotoServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = ("dev", "pro", "dev")


def site(accounts: AccountProfiles, environment: str) -> int:
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    extra = {
        **inventory_vars(environment),
        "ecr_registry_outputs_file": os.path.join("outputs", "accounts", f"{environment}.json"),
        # moto has no EKS Pod Identity API: the association is left out (README, ArgoCD Image Updater).
        "ecr_registry_pod_identity_association": False,
    }
    print(f"\n=== site.yml -i inventories/{environment}  (profiles: registry, {environment})")
    return subprocess.call(
        [playbook, "site.yml", "-i", f"inventories/{environment}", "-e", json.dumps(extra)],
        cwd=ROOT,
        env=accounts.env(),
    )


def main() -> int:
    os.makedirs(os.path.join(ROOT, "outputs", "accounts"), exist_ok=True)
    with MotoServer() as aws, AccountProfiles(aws) as accounts:
        print(f"Local AWS endpoint (moto) on {aws.url}; AWS config with assume-role profiles in {accounts.directory}")
        for environment in RUNS:
            rc = site(accounts, environment)
            if rc != 0:
                print(f"The playbook failed (exit {rc}); the local endpoint is stopped.", file=sys.stderr)
                return rc
        print("\n=== What each account holds")
        for name, held in resources(accounts).items():
            print(f"{name} (account {held['account']}):")
            print(f"  ECR repositories: {len(held['repositories']) or 'none'}")
            for repo, sids in sorted(held["repositories"].items()):
                print(f"    {repo}: policy statements {', '.join(sids) or 'none'}")
            print(f"  IAM roles: {', '.join(held['roles']) or 'none'}")
    print("\nOutputs: outputs/accounts/dev.json and pro.json; the AWS config is removed, the endpoint stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
