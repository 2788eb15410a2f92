"""The site playbook and the inventories, run for real against a moto server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from localaws import split_calls

from ansible_collections.cloudops.ecr.tests.helpers.access_evaluator import Principal, Repository, may
from ansible_collections.cloudops.ecr.tests.helpers.playbook import recap_of

BIN = os.path.dirname(sys.executable)


def ansible(aws, *args, env_extra=None, env_drop=()) -> subprocess.CompletedProcess:
    env = aws.env()
    env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
    env.update(env_extra or {})
    for name in env_drop:
        env.pop(name, None)
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def playbook(aws, *args, **kw) -> subprocess.CompletedProcess:
    extra = json.dumps({"ecr_registry_pod_identity_association": False})
    return ansible(aws, f"{BIN}/ansible-playbook", *args, "-e", extra, **kw)


def recap(result: subprocess.CompletedProcess) -> dict[str, int]:
    return recap_of(result.stdout, result.stdout + result.stderr)


def test_site_converges_then_a_rerun_changes_nothing(aws, tmp_path):
    outputs = tmp_path / "dev.json"
    first = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", f"ecr_registry_outputs_file={outputs}")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    assert recap(first)["changed"] > 0
    ecr = aws.client("ecr")
    names = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    assert names == sorted(
        ["example-org/web-app", "example-org/api-service", "example-org/worker", "my-web-app", "api-service"]
    )
    for repo in ecr.describe_repositories()["repositories"]:
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
        policy = json.loads(ecr.get_lifecycle_policy(repositoryName=repo["repositoryName"])["lifecyclePolicyText"])
        assert [
            (r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"])
            for r in policy["rules"]
        ] == [("untagged", "imageCountMoreThan", 10), ("tagged", "sinceImagePushed", 30)]
    data = json.loads(outputs.read_text())
    assert data["repository_urls"]["example-org/worker"].endswith(".amazonaws.com/example-org/worker")
    assert set(data["repository_arns"]) == set(names)
    assert data["account_id"] == "123456789012"
    assert data["github_repository_arns"]["example-org/worker"] == data["repository_arns"]["example-org/worker"]
    iam = aws.client("iam")
    updater = iam.get_role(RoleName="argocd-image-updater-dev")["Role"]
    assert data["image_updater_role_arn"] == updater["Arn"]
    assert data["ci_role_arns"] == {"github-actions": iam.get_role(RoleName="github-actions")["Role"]["Arn"]}
    [provider] = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert data["oidc_provider_arn"] == provider["Arn"]
    read = iam.get_role_policy(RoleName="argocd-image-updater-dev", PolicyName="ecr-read")["PolicyDocument"]
    reader = Principal(updater["Arn"], [read])
    for arn in data["repository_arns"].values():
        tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}
        assert may(reader, "ecr:BatchGetImage", Repository(arn, tags)), arn
    ecr.create_repository(repositoryName="not-ours")
    other = ecr.describe_repositories(repositoryNames=["not-ours"])["repositories"][0]["repositoryArn"]
    assert not may(reader, "ecr:BatchGetImage", Repository(other, {}))
    ecr.delete_repository(repositoryName="not-ours")

    second = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", f"ecr_registry_outputs_file={outputs}")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert recap(second)["changed"] == 0, second.stdout


def test_unchanged_rerun_over_20_repositories_makes_no_write_call(aws, tmp_path):
    repos = [f"bench-org/svc-{i:02d}" for i in range(20)]
    args = ("site.yml", "-i", "inventories/dev", "-e", json.dumps({"github_repos": repos, "extra_repositories": []}))
    assert playbook(aws, *args).returncode == 0
    aws.start_recording()
    rerun = playbook(aws, *args)
    reads, writes = split_calls(aws.stop_recording())
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert recap(rerun)["changed"] == 0
    assert writes == []
    assert len(reads) <= 4 * len(repos), reads


# With the IAM roles off the preflight is skipped: ecr_repository is then the only writer and
# validates every repository before its first call.
REGISTRY_ONLY = {"ecr_registry_ci_role": False, "ecr_registry_image_updater": False}


@pytest.mark.parametrize("scope", [{}, REGISTRY_ONLY], ids=["whole site", "registry only"])
def test_invalid_repository_name_fails_and_nothing_is_created(aws, scope):
    bad = ["example-org/good", "Bad_Name", "a" * 257, "a//b"]
    aws.start_recording()
    result = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", json.dumps({"extra_repositories": bad, **scope}))
    _reads, writes = split_calls(aws.stop_recording())
    assert result.returncode != 0
    for name in ("Bad_Name", "257 characters", "a//b"):
        assert name in result.stdout
    assert writes == []
    assert aws.client("ecr").describe_repositories()["repositories"] == []


@pytest.mark.parametrize(
    ("scope", "message"),
    [({}, "ecr_registry_region: is empty"), (REGISTRY_ONLY, "ecr_registry_region: is empty")],
    ids=["whole site", "registry only"],
)
def test_without_a_region_the_run_fails_naming_it_and_writes_nothing(aws, scope, message):
    aws.start_recording()
    result = playbook(
        aws,
        "site.yml",
        "-i",
        "inventories/dev",
        "-e",
        json.dumps({"registry_region": "", "aws_region": "", **scope}),
        env_drop=("AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    reads, writes = split_calls(aws.stop_recording())
    assert result.returncode != 0
    assert message in result.stdout, result.stdout
    assert writes == [] and reads == []
    assert aws.client("ecr").describe_repositories()["repositories"] == []


@pytest.mark.parametrize("env", ["dev", "pro"])
def test_both_inventories_see_the_one_github_repos_list(aws, env):
    result = ansible(aws, f"{BIN}/ansible-inventory", "-i", f"inventories/{env}", "--list")
    assert result.returncode == 0, result.stderr
    hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
    assert set(hostvars) == {"registry-account", env}  # the registry's host and the environment's
    assert hostvars[env]["env_name"] == env
    for host in hostvars.values():
        assert host["github_repos"] == ["example-org/web-app", "example-org/api-service", "example-org/worker"]


def test_github_repos_is_defined_in_exactly_one_file():
    found = subprocess.run(
        ["grep", "-rn", "^github_repos:", "inventories/"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.splitlines()
    assert len(found) == 1, found


ISS = "https://token.actions.githubusercontent.com"


def token(sub, aud="sts.amazonaws.com"):
    return {"iss": ISS, "aud": aud, "sub": sub}


def test_site_builds_the_ci_role_and_per_environment_image_updater_roles(aws):
    from ansible_collections.cloudops.ecr.tests.helpers.trust_evaluator import allows_service, allows_web_identity

    dev = playbook(aws, "site.yml", "-i", "inventories/dev")
    assert dev.returncode == 0, dev.stdout[-3000:] + dev.stderr
    iam = aws.client("iam")
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert len(providers) == 1 and providers[0]["Arn"].endswith("oidc-provider/token.actions.githubusercontent.com")

    role = iam.get_role(RoleName="github-actions")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    for repo in ("example-org/web-app", "example-org/api-service", "example-org/worker"):
        assert allows_web_identity(trust, token(f"repo:{repo}:ref:refs/heads/main"))
    for sub in (
        "repo:example-org/web-app:ref:refs/heads/feature",
        "repo:example-org/web-app-evil:ref:refs/heads/main",
        "repo:Example-Org/web-app:ref:refs/heads/main",
        "repo:other-org/web-app:ref:refs/heads/main",
        "repo:example-org/web-app:pull_request",
    ):
        assert not allows_web_identity(trust, token(sub)), sub
    assert not allows_web_identity(trust, token("repo:example-org/web-app:ref:refs/heads/main", aud="other"))

    statements = []
    for name in iam.list_role_policies(RoleName="github-actions")["PolicyNames"]:
        statements += iam.get_role_policy(RoleName="github-actions", PolicyName=name)["PolicyDocument"]["Statement"]
    assert iam.list_attached_role_policies(RoleName="github-actions")["AttachedPolicies"] == []
    repo_arns = {r["repositoryArn"] for r in aws.client("ecr").describe_repositories()["repositories"]}
    github_arns = {a for a in repo_arns if "/example-org/" in a}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert all(a.startswith("ecr:") for a in actions)
        if resources == ["*"]:
            assert actions == ["ecr:GetAuthorizationToken"]
        else:
            assert set(resources) == github_arns
            assert "ecr:GetAuthorizationToken" not in actions

    dev_trust = iam.get_role(RoleName="argocd-image-updater-dev")["Role"]["AssumeRolePolicyDocument"]
    tags = {
        "aws:SourceAccount": "123456789012",
        "aws:RequestTag/eks-cluster-name": "dev-eks",
        "aws:RequestTag/kubernetes-namespace": "argocd",
        "aws:RequestTag/kubernetes-service-account": "argocd-image-updater",
    }
    assert allows_service(dev_trust, "pods.eks.amazonaws.com", "sts:AssumeRole", tags)
    assert not allows_service(
        dev_trust, "pods.eks.amazonaws.com", "sts:AssumeRole", {**tags, "aws:RequestTag/eks-cluster-name": "pro-eks"}
    )

    pro = playbook(aws, "site.yml", "-i", "inventories/pro")
    assert pro.returncode == 0, pro.stdout[-3000:] + pro.stderr
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert {"github-actions", "argocd-image-updater-dev", "argocd-image-updater-pro"} <= roles
    assert recap(playbook(aws, "site.yml", "-i", "inventories/pro"))["changed"] == 0


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"github_repos": ["*/*"]}, "*/*"),
        ({"github_repos": ["example-org/*"]}, "example-org/*"),
        ({"github_repos": ["example-org"]}, "example-org"),
        ({"ecr_registry_ci_subjects": ["*"]}, "'*'"),
        ({"ecr_registry_ci_subjects": ["ref:*"]}, "ref:*"),
    ],
)
def test_loose_github_trust_is_refused_before_any_write(aws, extra, named):
    aws.start_recording()
    result = playbook(aws, "site.yml", "-i", "inventories/dev", "-e", json.dumps(extra))
    _reads, writes = split_calls(aws.stop_recording())
    assert result.returncode != 0
    assert named in result.stdout
    assert writes == []


def test_credentials_a_play_sets_in_module_defaults_reach_every_task_of_the_role(aws, tmp_path):
    env = aws.env()
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {
                "group/cloudops.ecr.aws": {
                    "access_key": env["AWS_ACCESS_KEY_ID"],
                    "secret_key": env["AWS_SECRET_ACCESS_KEY"],
                }
            },
            "roles": [
                {
                    "role": "cloudops.ecr.ecr_registry",
                    "vars": {"ecr_registry_github_repos": ["example-org/app"], "ecr_registry_region": aws.region},
                }
            ],
        }
    ]
    playbook_file = tmp_path / "play.yml"
    playbook_file.write_text(json.dumps(play))
    no_env_credentials = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    result = playbook(aws, str(playbook_file), "-i", "inventories/dev", env_extra=no_env_credentials)
    assert result.returncode == 0, result.stdout[-3000:]
    assert aws.client("iam").get_role(RoleName="argocd-image-updater-dev")["Role"]["Arn"]
