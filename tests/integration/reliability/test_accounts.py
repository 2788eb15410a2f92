# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry in its own account, dev and pro in theirs: three accounts of one moto server, reached
through assume-role profiles of an AWS config (scripts/accounts.py), as `make demo-accounts` runs them.

moto checks no permission, so who may read what is judged by evaluating the identity policy (in the
environment's account) and the repository policy (in the registry's) together, as IAM does across
accounts (tests/helpers/access_evaluator.py).
"""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

from ansible_collections.cloudops.ecr.tests.helpers.access_evaluator import Principal, Repository, may
from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import ROOT, TRACEBACK, site

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from accounts import ACCOUNTS, AccountProfiles, inventory_vars, resources

from ansible_collections.cloudops.ecr.tests.integration.reliability.fault_proxy import FaultProxy

SEED = int(os.environ.get("CLOUDOPS_FAULT_SEED", "1"))

MANAGED = {"example-org/web-app", "example-org/api-service", "example-org/worker", "my-web-app", "api-service"}
READS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:ListImages", "ecr:DescribeImages")
FOREIGN = "444455556666"


@pytest.fixture
def accounts(aws):
    with AccountProfiles(aws) as profiles:
        yield profiles


def one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def site_for(accounts: AccountProfiles, environment: str, **extra):
    return site(accounts.env(), extra={**inventory_vars(environment), **extra}, inventory=f"inventories/{environment}")


def repositories_of(accounts: AccountProfiles, name: str, region: str | None = None) -> dict[str, Repository]:
    ecr = accounts.client(name, "ecr", region)
    held = {}
    for repo in ecr.describe_repositories()["repositories"]:
        arn = repo["repositoryArn"]
        tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}
        try:
            policy = json.loads(ecr.get_repository_policy(repositoryName=repo["repositoryName"])["policyText"])
        except ecr.exceptions.RepositoryPolicyNotFoundException:
            policy = None
        held[repo["repositoryName"]] = Repository(arn, tags, policy)
    return held


def role_of(accounts: AccountProfiles, name: str, role: str) -> Principal:
    iam = accounts.client(name, "iam")
    arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    policies = [
        iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    return Principal(arn, policies)


def roles_in(accounts: AccountProfiles, name: str) -> set[str]:
    return {role["RoleName"] for role in accounts.client(name, "iam").list_roles()["Roles"]}


def test_registry_dev_and_pro_in_three_accounts_read_across_and_a_third_run_writes_nothing(aws, accounts, recorded):
    for environment in ("dev", "pro"):
        converged = site_for(accounts, environment)
        assert converged.returncode == 0, converged.tail()
        assert TRACEBACK not in converged.output

    with recorded() as calls:
        again = site_for(accounts, "dev")
    assert again.returncode == 0, again.tail()
    assert calls.writes == [] and again.recap()["changed"] == 0, calls.writes

    # Repositories only in the registry's account; each Image Updater role in its own account.
    registry = repositories_of(accounts, "registry")
    assert set(registry) == MANAGED
    assert repositories_of(accounts, "dev") == {} and repositories_of(accounts, "pro") == {}
    assert "github-actions" in roles_in(accounts, "registry")
    assert not {"argocd-image-updater-dev", "argocd-image-updater-pro"} & roles_in(accounts, "registry")
    assert "argocd-image-updater-dev" in roles_in(accounts, "dev") and "github-actions" not in roles_in(accounts, "dev")
    assert "argocd-image-updater-pro" in roles_in(accounts, "pro")

    # Both environments' grants, each its own statement, in every repository's policy.
    for name, repo in registry.items():
        sids = {statement["Sid"] for statement in repo.policy["Statement"]}
        assert {"EnvironmentDevPull", "EnvironmentProPull"} <= sids, (name, sids)

    # Judged as IAM judges a cross-account call: the identity policy and the repository policy.
    dev = role_of(accounts, "dev", "argocd-image-updater-dev")
    pro = role_of(accounts, "pro", "argocd-image-updater-pro")
    anything = {"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    foreign = Principal(f"arn:aws:iam::{FOREIGN}:role/argocd-image-updater-dev", [anything])
    for name, repo in registry.items():
        for action in READS:
            assert may(dev, action, repo) and may(pro, action, repo), (name, action)
            assert not may(foreign, action, repo), (name, action)
        assert not may(dev, "ecr:PutImage", repo), name

    # A repository the registry does not manage: neither environment reads it.
    accounts.client("registry", "ecr").create_repository(repositoryName="someone-elses")
    unmanaged = repositories_of(accounts, "registry")["someone-elses"]
    assert not may(dev, "ecr:BatchGetImage", unmanaged) and not may(pro, "ecr:BatchGetImage", unmanaged)


def test_an_environment_taken_away_removes_only_its_own_grant_and_role(aws, accounts):
    for environment in ("dev", "pro"):
        converged = site_for(accounts, environment)
        assert converged.returncode == 0, converged.tail()

    gone = site_for(accounts, "dev", ecr_registry_environment_state="absent")

    assert gone.returncode == 0, gone.tail()
    registry = repositories_of(accounts, "registry")
    assert set(registry) == MANAGED  # the registry stays
    for name, repo in registry.items():
        sids = {statement["Sid"] for statement in repo.policy["Statement"]}
        assert "EnvironmentProPull" in sids and "EnvironmentDevPull" not in sids, (name, sids)
    assert "argocd-image-updater-dev" not in roles_in(accounts, "dev")
    assert "argocd-image-updater-pro" in roles_in(accounts, "pro")
    pro = role_of(accounts, "pro", "argocd-image-updater-pro")
    assert all(may(pro, "ecr:BatchGetImage", repo) for repo in registry.values())
    # What was revoked is said: the role, and the repositories whose policies lose dev's statements.
    assert "Image Updater role (dev): argocd-image-updater-dev deleted" in gone.output, gone.tail()
    assert "lost pull access for environment dev (its statements EnvironmentDevPull*" in one_line(gone.output)


def test_the_accounts_are_the_ones_the_profiles_name(aws, accounts):
    """No account id is typed anywhere: each run asks its credentials (caller identity)."""
    converged = site_for(accounts, "dev", ecr_registry_outputs_file="outputs/test-accounts-dev.json")
    assert converged.returncode == 0, converged.tail()
    with open(os.path.join(ROOT, "outputs", "test-accounts-dev.json")) as f:
        outputs = json.load(f)
    os.unlink(os.path.join(ROOT, "outputs", "test-accounts-dev.json"))
    assert outputs["account_id"] == ACCOUNTS["registry"]
    assert outputs["environment_account_id"] == ACCOUNTS["dev"]
    assert outputs["image_updater_role_arn"] == f"arn:aws:iam::{ACCOUNTS['dev']}:role/argocd-image-updater-dev"
    assert set(outputs["ci_role_arns"].values()) == {f"arn:aws:iam::{ACCOUNTS['registry']}:role/github-actions"}
    assert outputs["pull_granted_to"] == [ACCOUNTS["dev"]]


def test_the_three_account_run_under_faults_ends_as_a_clean_run_and_its_rerun_writes_nothing(aws, accounts, recorded):
    """Throttling and 503s on every service, STS's AssumeRole included: the state of each account is
    the clean run's, and the rerun through the same faults writes nothing."""
    clean = site_for(accounts, "dev")
    assert clean.returncode == 0, clean.tail()
    expected = resources(accounts)

    aws.reset()
    with FaultProxy(aws.url, throttle=0.20, unavailable=0.05, seed=SEED) as proxy:
        faulty = site(accounts.env(endpoint=proxy.url), extra=inventory_vars("dev"), inventory="inventories/dev")
        assert faulty.returncode == 0, faulty.tail()
        converge = proxy.stats()
        with recorded() as calls:
            rerun = site(accounts.env(endpoint=proxy.url), extra=inventory_vars("dev"), inventory="inventories/dev")

    assert converge["faults_total"] > 0 and converge["faults_not_retried"] == 0, converge
    assert resources(accounts) == expected
    assert rerun.returncode == 0, rerun.tail()
    assert calls.writes == [] and rerun.recap()["changed"] == 0
    assert TRACEBACK not in faulty.output + rerun.output


# --- an environment in another region, reading replicas there -----------------------------------------

REPLICA = "eu-central-1"
REPLICATED = {
    "ecr_registry_replication": {"rules": [{"destinations": [{"region": REPLICA}]}]},
    "ecr_registry_replica_regions": [REPLICA],
}


def lifecycle_texts(accounts: AccountProfiles, region: str | None = None) -> dict[str, str]:
    ecr = accounts.client("registry", "ecr", region)
    return {
        name: ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        for name in (r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    }


def test_an_environment_in_a_replica_region_reads_the_replicas_there_and_nothing_else(
    aws, accounts, recorded, tmp_path
):
    """Registry in eu-west-1 replicating to eu-central-1; dev runs in eu-central-1, pro in the registry's
    region. The replicas exist before ECR's replication fills them, governed like their sources (tags,
    lifecycle, the registry's grants); dev's pull grant and read policy are on the replicas only."""
    runs = {
        "dev": {**REPLICATED, "ecr_registry_environment_region": REPLICA},
        "pro": dict(REPLICATED),
    }
    for environment, extra in runs.items():
        out = {"ecr_registry_outputs_file": str(tmp_path / f"{environment}.json")}
        converged = site_for(accounts, environment, **extra, **out, ecr_registry_handoff_dir=str(tmp_path / "handoff"))
        assert converged.returncode == 0, converged.tail()
    with recorded() as calls:
        again = site_for(accounts, "dev", **runs["dev"])
    assert again.returncode == 0, again.tail()
    assert calls.writes == [] and again.recap()["changed"] == 0, calls.writes

    source, replicas = repositories_of(accounts, "registry"), repositories_of(accounts, "registry", REPLICA)
    assert set(source) == set(replicas) == MANAGED
    assert repositories_of(accounts, "dev", REPLICA) == {}
    for name in MANAGED:
        assert replicas[name].tags == source[name].tags, name
        assert ":ecr:eu-central-1:" in replicas[name].arn, name
        replica_sids = {s["Sid"] for s in replicas[name].policy["Statement"]}
        source_sids = {s["Sid"] for s in source[name].policy["Statement"]}
        assert "EnvironmentDevPull" in replica_sids and "EnvironmentProPull" not in replica_sids, name
        assert "EnvironmentProPull" in source_sids and "EnvironmentDevPull" not in source_sids, name
    assert lifecycle_texts(accounts, REPLICA) == lifecycle_texts(accounts)
    rules = accounts.client("registry", "ecr").describe_registry()["replicationConfiguration"]["rules"]
    assert [d["region"] for rule in rules for d in rule["destinations"]] == [REPLICA]

    # Judged as IAM does: dev reads the replicas in its region, not the sources; pro the sources.
    dev = role_of(accounts, "dev", "argocd-image-updater-dev")
    pro = role_of(accounts, "pro", "argocd-image-updater-pro")
    for name in MANAGED:
        for action in READS:
            assert may(dev, action, replicas[name]) and not may(dev, action, source[name]), (name, action)
            assert may(pro, action, source[name]) and not may(pro, action, replicas[name]), (name, action)

    # What dev is handed names the replicas' region and URLs; the CI workflows push to the source region.
    registry_account = accounts.accounts["registry"]
    outputs = json.loads((tmp_path / "dev.json").read_text())
    assert outputs["pull_region"] == REPLICA and outputs["region"] == aws.region
    replica_host = f"{registry_account}.dkr.ecr.{REPLICA}.amazonaws.com"
    assert set(outputs["replicas"][REPLICA]["repository_urls"].values()) == {
        f"{replica_host}/{name}" for name in MANAGED
    }
    handoff = tmp_path / "handoff"
    registries = (handoff / "image-updater" / "dev" / "registries.conf.yaml").read_text()
    assert f'"https://{replica_host}"' in registries, registries
    assert f"--region '{REPLICA}'" in (handoff / "image-updater" / "dev" / "ecr-login.sh").read_text()
    assert replica_host in (handoff / "image-updater" / "dev" / "imageupdater.yaml").read_text()
    assert (
        f"{registry_account}.dkr.ecr.{aws.region}.amazonaws.com"
        in (handoff / "image-updater" / "pro" / "registries.conf.yaml").read_text()
    )
    workflow = (handoff / "workflows" / "example-org" / "web-app.yml").read_text()
    assert f"aws-region: {json.dumps(aws.region)}" in workflow and REPLICA not in workflow, workflow
    assert f"Replicas in {REPLICA}" in again.output and f"Images read from: {REPLICA} (replicas)" in again.output
