# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An organisation's worth of GitHub repositories: every document that lands in moto is one AWS would
accept, or the run stops on the controller before its first call, naming the limit.

moto enforces none of IAM's or ECR's size limits, so each test that converges measures what moto
holds (bench/limits.py). The names are generated the way the README's "Scaling" counts them:
example-org/service-001, ... with the default subject ref:refs/heads/main. The whole site at 1,000
repositories with per-repository roles takes over a minute here: it runs in `make bench`.
"""

from __future__ import annotations

import os
import re
import sys

import botocore.session
import pytest

from ansible_collections.cloudops.ecr.tests.helpers.access_evaluator import Principal, Repository, may
from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import ROOT, TRACEBACK, site
from ansible_collections.cloudops.ecr.tests.integration.reliability.fault_proxy import FaultProxy
from ansible_collections.cloudops.ecr.tests.integration.reliability.snapshot import duplicates

sys.path.insert(0, os.path.join(ROOT, "bench"))
from limits import documents_over_limits

SEED = int(os.environ.get("CLOUDOPS_FAULT_SEED", "1"))
ACCOUNT = "123456789012"  # moto's default account
PER_REPOSITORY = {"ecr_registry_ci_per_repository": True, "ecr_registry_ci_role_name": "gha-{owner}-{repo}"}
NO_LIFECYCLE = {"ecr_registry_lifecycle_enabled": False}
# Every repository gets a repository policy too (pull from another account), so that there is one to measure.
PULL_ELSEWHERE = {"ecr_registry_repository_access": {"pull": ["111122223333"]}}
IMAGE_UPDATER_ROLE = "argocd-image-updater-dev"
IAM_OPERATIONS = set(botocore.session.get_session().get_service_model("iam").operation_names)
NO_DUPLICATES = {"repositories": [], "oidc_providers": [], "roles": [], "customer_managed_policies": []}


def github_repos(count: int) -> list[str]:
    return [f"example-org/service-{i:03d}" for i in range(1, count + 1)]


def organisation(count: int, **settings) -> dict:
    """Extra vars for ``count`` generated GitHub repositories and nothing else in the registry."""
    return {"github_repos": github_repos(count), "extra_repositories": [], **settings}


def one_line(text: str) -> str:
    """Ansible's YAML output wraps long messages: joined back, a test can look for a phrase."""
    return re.sub(r"\s*\n\s*", " ", text)


def changed(run) -> int:
    """Tasks reported changed, over every host of the play recap."""
    recap = run.stdout[run.stdout.rfind("PLAY RECAP") :]
    return sum(int(count) for count in re.findall(r"changed=(\d+)", recap))


def ci_role_name(github_repo: str) -> str:
    owner, name = github_repo.split("/")
    return f"gha-{owner}-{name}"


def repository_arn(name: str) -> str:
    return f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/{name}"


# --- one CI role: refused on the controller beyond what its trust policy holds -------------------------


@pytest.mark.parametrize("count", [150, 1000])
def test_one_ci_role_for_an_organisation_is_refused_before_any_call_naming_the_trust_limit_and_per_repository(
    aws, recorded, count
):
    with recorded() as calls:
        refused = site(aws.env(), extra=organisation(count))

    assert refused.returncode != 0
    assert calls.reads == [] and calls.writes == []  # decided on the controller: not even a read
    text = one_line(refused.output)
    assert re.search(r"the trust policy of role 'github-actions' would be \d+ characters, over the 2048 ", text), text
    assert f"about 32 of these {count} GitHub repositories fit one role" in text
    assert "set per_repository: true" in text
    assert TRACEBACK not in refused.output


@pytest.mark.parametrize(("trust_max", "holds"), [(2048, 32), (4096, 72)])
def test_one_ci_role_holds_the_repositories_the_readme_states_and_refuses_one_more(
    aws, held, recorded, trust_max, holds
):
    """README "Scaling": with the default subject, one role's trust holds 32 repositories under IAM's
    default quota and 72 under the raised one; the next one is refused before any call."""
    quota = {"ecr_registry_iam_trust_policy_max": trust_max, "ecr_registry_image_updater": False, **NO_LIFECYCLE}
    with recorded() as calls:
        refused = site(aws.env(), extra=organisation(holds + 1, **quota))
    assert refused.returncode != 0 and calls.writes == [] and calls.reads == []
    assert f"over the {trust_max} the account allows" in one_line(refused.output)

    fits = site(aws.env(), extra=organisation(holds, **quota))

    assert fits.returncode == 0, fits.tail()
    state = held()
    [role] = state["iam"]["roles"]
    assert (
        len(
            role["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        )
        == holds
    )
    assert documents_over_limits(state, trust_max=trust_max) == []


# --- per-repository CI roles ---------------------------------------------------------------------------


def test_150_repositories_with_per_repository_roles_land_only_documents_aws_accepts_and_rerun_read_only(
    aws, held, recorded, report
):
    count = 150
    extra = organisation(count, **PER_REPOSITORY, **PULL_ELSEWHERE)
    cold = site(aws.env(), extra=extra)
    assert cold.returncode == 0, cold.tail()

    state = held()
    assert documents_over_limits(state) == []
    roles = {role["name"]: role for role in state["iam"]["roles"]}
    assert set(roles) == {ci_role_name(repo) for repo in github_repos(count)} | {IMAGE_UPDATER_ROLE}
    assert all(len(role["inline_policies"]) == 1 for role in roles.values())  # every role with its policy
    repositories = {repo["name"]: repo for repo in state["ecr"]["repositories"]}
    assert set(repositories) == set(github_repos(count))
    assert all(repo["policy"] and repo["lifecycle_policy"] for repo in repositories.values())
    # Least privilege still holds at scale: each role pushes to its own repository only; the reader reads all.
    reader = Principal(roles[IMAGE_UPDATER_ROLE]["arn"], list(roles[IMAGE_UPDATER_ROLE]["inline_policies"].values()))
    names = github_repos(count)
    for name, neighbour in zip(names, names[1:] + names[:1], strict=True):
        pusher = Principal(
            roles[ci_role_name(name)]["arn"], list(roles[ci_role_name(name)]["inline_policies"].values())
        )
        own, other = (Repository(repository_arn(n), dict(repositories[n]["tags"])) for n in (name, neighbour))
        assert may(pusher, "ecr:PutImage", own) and not may(pusher, "ecr:PutImage", other), name
        assert may(reader, "ecr:BatchGetImage", own), name

    with recorded() as calls:
        rerun = site(aws.env(), extra=extra)

    assert rerun.returncode == 0, rerun.tail()
    assert calls.writes == [] and changed(rerun) == 0
    assert held() == state
    report(
        {
            "repositories": count,
            "seconds": {"cold": round(cold.seconds, 1), "rerun": round(rerun.seconds, 1)},
            "rerun_reads": len(calls.reads),
        }
    )


def test_per_repository_roles_beyond_the_roles_quota_are_refused_before_any_call_naming_it(aws, recorded):
    with recorded() as calls:
        refused = site(aws.env(), extra=organisation(1001, **PER_REPOSITORY, **NO_LIFECYCLE))

    assert refused.returncode != 0
    assert calls.reads == [] and calls.writes == []
    text = one_line(refused.output)
    assert "1001 CI roles (one per repository) are more than the 1000 roles the account allows" in text
    assert "roles_max" in text
    assert TRACEBACK not in refused.output


# --- IAM's low write rate: hundreds of roles through throttling ----------------------------------------


def test_per_repository_roles_through_heavy_iam_throttling_end_as_a_clean_run_and_a_rerun_stays_read_only(
    aws, held, recorded, report
):
    """A third of IAM's answers are Throttling: the bounded pool and the retries still create every role
    with its policy, once, and the rerun through the same throttling writes nothing.

    100 roles in `make test` (about two minutes); CLOUDOPS_SCALE_ROLES=1000 runs the thousand (about
    three). There, botocore's retry quota runs dry and each IAM call rests on AWSRetry's attempts alone
    (client.IAM_RETRY_ATTEMPTS)."""
    count = int(os.environ.get("CLOUDOPS_SCALE_ROLES", "100"))
    extra = organisation(count, **PER_REPOSITORY, **NO_LIFECYCLE)
    clean = site(aws.env(), extra=extra)
    assert clean.returncode == 0, clean.tail()
    expected = held()

    aws.reset()
    with FaultProxy(aws.url, throttle=0.35, operations=IAM_OPERATIONS, seed=SEED) as proxy:
        faulty = site(aws.env(endpoint=proxy.url), extra=extra)
        converge = proxy.stats()
        after = held() if faulty.returncode == 0 else None
        with recorded() as calls:
            rerun = site(aws.env(endpoint=proxy.url), extra=extra) if faulty.returncode == 0 else None
        total = proxy.stats()
    report(
        {
            "seed": SEED,
            "roles": count + 1,
            "converge": {k: converge[k] for k in ("requests", "faults", "retries", "faults_not_retried")},
            "rerun": {k: total[k] - converge[k] for k in ("requests", "faults_total", "retries")},
            "seconds": {"clean": round(clean.seconds, 1), "throttled": round(faulty.seconds, 1)}
            | ({"rerun": round(rerun.seconds, 1)} if rerun else {}),
        },
        headline=f"{count + 1} IAM roles under 35% IAM throttling, seed {SEED}: {converge['faults_total']} throttled "
        f"answers, {converge['retries']} retries on the cold run ({faulty.seconds:.0f} s, clean {clean.seconds:.0f} s)",
    )
    assert faulty.returncode == 0, faulty.tail()
    assert converge["faults"].get("throttle", 0) >= 100
    assert converge["faults_not_retried"] == 0
    assert after == expected
    assert duplicates(after) == NO_DUPLICATES
    assert all(len(role["inline_policies"]) == 1 for role in after["iam"]["roles"])
    assert rerun.returncode == 0, rerun.tail()
    assert total["faults_total"] > converge["faults_total"]  # the rerun was throttled too
    assert calls.writes == [] and changed(rerun) == 0
    assert held() == expected
    assert TRACEBACK not in faulty.output + rerun.output
