# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Under throttling, 5xx and lost connections the site playbook converges to exactly what a clean run makes.

The seed is fixed so a failure replays; set CLOUDOPS_FAULT_SEED to try others.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import TRACEBACK, module, site
from ansible_collections.cloudops.ecr.tests.integration.reliability.fault_proxy import FaultProxy
from ansible_collections.cloudops.ecr.tests.integration.reliability.snapshot import duplicates

SEED = int(os.environ.get("CLOUDOPS_FAULT_SEED", "1"))
NO_DUPLICATES = {"repositories": [], "oidc_providers": [], "roles": [], "customer_managed_policies": []}


def test_site_under_throttling_and_503_ends_as_a_clean_run_and_a_rerun_changes_nothing(aws, held, report):
    clean = site(aws.env())
    assert clean.returncode == 0, clean.tail()
    expected = held()
    assert expected["ecr"]["repositories"] and expected["iam"]["oidc_providers"] and expected["iam"]["roles"]
    assert all(r["lifecycle_policy"] for r in expected["ecr"]["repositories"])

    aws.reset()
    with FaultProxy(aws.url, throttle=0.20, unavailable=0.05, seed=SEED) as proxy:
        faulty = site(aws.env(endpoint=proxy.url))
        converge = proxy.stats()
        after_converge = held() if faulty.returncode == 0 else None
        rerun = site(aws.env(endpoint=proxy.url)) if faulty.returncode == 0 else None
        total = proxy.stats()
        faulted = proxy.faulted_operations()
    figures = {
        "seed": SEED,
        "converge": {k: converge[k] for k in ("requests", "forwarded", "faults", "faults_total", "retries")},
        "converge_and_rerun": {k: total[k] for k in ("requests", "forwarded", "faults", "faults_total", "retries")},
        "faults_not_retried": total["faults_not_retried"],
        "faulted_operations": faulted,
        "seconds": {"clean": round(clean.seconds, 1), "faulty": round(faulty.seconds, 1)}
        | ({"rerun": round(rerun.seconds, 1)} if rerun else {}),
    }
    report(
        figures,
        headline=f"fault injection, seed {SEED}: {total['faults_total']} faults injected ({total['faults']}), "
        f"{total['retries']} retries, {total['faults_not_retried']} faults not retried, over {total['requests']} "
        "requests (converge and rerun through the proxy)",
    )
    assert faulty.returncode == 0, faulty.tail()
    assert converge["faults_total"] > 0 and converge["faults"].get("throttle") and converge["faults"].get("unavailable")
    assert after_converge == expected
    assert duplicates(after_converge) == NO_DUPLICATES
    assert rerun.returncode == 0, rerun.tail()
    assert rerun.recap()["changed"] == 0, rerun.stdout
    assert held() == expected
    assert total["faults_not_retried"] == 0  # every fault was met by a retry, none swallowed
    assert TRACEBACK not in faulty.output + rerun.output


REPOSITORY_WRITES = {
    "CreateRepository",
    "DeleteRepository",
    "SetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "TagResource",
    "UntagResource",
    "PutImageTagMutability",
    "PutImageScanningConfiguration",
}


def test_a_lost_answer_to_a_repository_write_is_recognised_when_botocore_resends_it(aws, held):
    """AWS acted, the answer never came, botocore sent the call again: the module must not fail or duplicate."""
    args = {
        "repositories": ["lost/kept", "lost/removed"],
        "tags": {"team": "platform"},
        "access": {"pull": ["arn:aws:iam::123456789012:root"]},
    }
    with FaultProxy(aws.url, lost=1.0, operations=REPOSITORY_WRITES, max_attempt=1) as proxy:
        env = aws.env(endpoint=proxy.url)
        created = module(env, "cloudops.ecr.ecr_repository", args)
        changed = module(
            env,
            "cloudops.ecr.ecr_repository",
            {"repositories": ["lost/kept"], "image_tag_mutability": "MUTABLE", "tags": {"team": "web"}, "policy": {}},
        )
        removed = module(env, "cloudops.ecr.ecr_repository", {"repositories": ["lost/removed"], "state": "absent"})
        lost = proxy.stats()["faults"].get("lost", 0)
    for run in (created, changed, removed):
        assert run.returncode == 0, run.tail()
        assert run.result()["changed"] is True
    assert lost >= 6  # two creates, two first policies, mutability, tags, policy removal, delete
    state = held()
    assert duplicates(state) == NO_DUPLICATES
    [kept] = state["ecr"]["repositories"]
    assert (kept["name"], kept["image_tag_mutability"], kept["tags"], kept["policy"]) == (
        "lost/kept",
        "MUTABLE",
        [("team", "web")],
        None,
    )


def test_a_lost_answer_to_an_iam_create_is_recognised_when_botocore_resends_it(aws, held):
    args = {"name": "github-actions", "github_repos": ["example-org/web-app"], "region": aws.region}
    with FaultProxy(
        aws.url, lost=1.0, operations={"CreateOpenIDConnectProvider", "CreateRole"}, max_attempt=1
    ) as proxy:
        run = module(aws.env(endpoint=proxy.url), "cloudops.ecr.github_oidc_role", args)
        assert proxy.stats()["faults"].get("lost") == 2
    assert duplicates(held()) == NO_DUPLICATES
    assert run.returncode == 0, run.tail()


IMAGE_UPDATER_ARGS = {
    "name": "argocd-image-updater-dev",
    "cluster_name": "dev-eks",
    "repositories": ["example-org/web-app"],
    "association": False,
}
TRUST_OF_IMAGE_UPDATER = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.mark.parametrize(
    ("name", "args", "converges"),
    [
        ("cloudops.ecr.image_updater_role", IMAGE_UPDATER_ARGS, True),
        (
            "amazon.aws.iam_role",
            {"name": "argocd-image-updater-dev", "assume_role_policy_document": TRUST_OF_IMAGE_UPDATER},
            False,
        ),
    ],
    ids=["image_updater_role", "amazon.aws.iam_role"],
)
def test_a_lost_create_role_answer_is_why_the_role_keeps_its_own_image_updater_module(aws, held, name, args, converges):
    """README "Why image_updater_role": amazon.aws.iam_role treats botocore's resend of a CreateRole whose
    answer was lost as a failure (EntityAlreadyExists); the collection's module recognises its own role."""
    with FaultProxy(aws.url, lost=1.0, operations={"CreateRole"}, max_attempt=1) as proxy:
        run = module(aws.env(endpoint=proxy.url), name, {**args, "region": aws.region})
        assert proxy.stats()["faults"].get("lost") == 1
    assert duplicates(held()) == NO_DUPLICATES
    if converges:
        assert run.returncode == 0, run.tail()
    else:
        assert run.returncode != 0 and "EntityAlreadyExists" in run.output, run.tail()


def test_dropped_connections_are_resent_and_the_site_converges(aws, held, report):
    """8 % of connections are closed before the request reaches the endpoint: botocore sends them again."""
    with FaultProxy(aws.url, drop=0.08, seed=SEED) as proxy:
        faulty = site(aws.env(endpoint=proxy.url))
        stats = proxy.stats()
    report(
        {"seed": SEED, "faults": stats["faults"], "retries": stats["retries"], "requests": stats["requests"]},
        headline=f"dropped connections, seed {SEED}: {stats['faults'].get('drop', 0)} connections dropped, "
        f"{stats['retries']} retries, over {stats['requests']} requests",
    )
    assert stats["faults"].get("drop"), stats
    assert faulty.returncode == 0, faulty.tail()
    assert faulty.recap()["changed"] > 0
    assert duplicates(held()) == NO_DUPLICATES
    assert stats["faults_not_retried"] == 0


PROPAGATION = [
    # a trust naming the OIDC provider created a moment ago: IAM does not know the principal yet
    ("CreateRole", ("MalformedPolicyDocument", 400, 'Invalid principal in policy: "FEDERATED"')),
    # a role created a moment ago is not found by the next call yet
    ("PutRolePolicy", ("NoSuchEntity", 404, "The role with name github-actions cannot be found.")),
]


@pytest.mark.parametrize(("operation", "error"), PROPAGATION, ids=[row[0] for row in PROPAGATION])
def test_iam_propagation_right_after_a_create_is_waited_out(aws, held, operation, error):
    args = {"name": "github-actions", "github_repos": ["example-org/web-app"], "region": aws.region}
    with FaultProxy(aws.url, error=1.0, error_code=error, operations={operation}, max_attempt=2) as proxy:
        run = module(aws.env(endpoint=proxy.url), "cloudops.ecr.github_oidc_role", args)
        assert proxy.stats()["faults"] == {"error": 2}
    assert run.returncode == 0, run.tail()
    [role] = held()["iam"]["roles"]
    assert role["name"] == "github-actions" and role["inline_policies"]["ecr-push"]


def test_iam_propagation_after_the_image_updater_role_is_created_is_waited_out(aws, held):
    error = ("NoSuchEntity", 404, "The role with name argocd-image-updater-dev cannot be found.")
    with FaultProxy(aws.url, error=1.0, error_code=error, operations={"PutRolePolicy"}, max_attempt=1) as proxy:
        run = site(aws.env(endpoint=proxy.url), extra={"ecr_registry_ci_role": False})
        assert proxy.stats()["faults"] == {"error": 1}
    assert run.returncode == 0, run.tail()
    [role] = held()["iam"]["roles"]
    assert role["inline_policies"]["ecr-read"]
