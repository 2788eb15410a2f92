"""A new user's first hour: the README's commands as written, typos, a removed repository, the
messages they meet. Each test runs the real site playbook (or the README's own example) on moto."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from ansible_collections.cloudops.ecr.tests.helpers.access_evaluator import Principal, Repository, may
from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import BIN, ROOT, run, site

REPOS = ["example-org/web-app", "example-org/api-service", "example-org/worker"]
# What a test that is about something else leaves out, to keep its run short (each module task is a process).
REGISTRY_ONLY = {
    "ecr_registry_ci_role": False,
    "ecr_registry_image_updater": False,
    "ecr_registry_lifecycle_enabled": False,
}
NO_LIFECYCLE = {"ecr_registry_lifecycle_enabled": False}


def iam_documents(aws) -> dict:
    """The CI role's trust and push policy and the Image Updater's read policy, as IAM holds them."""
    iam = aws.client("iam")

    def policy(role, name):
        return iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]

    return {
        "ci_trust": iam.get_role(RoleName="github-actions")["Role"]["AssumeRolePolicyDocument"],
        "ci_push": policy("github-actions", "ecr-push"),
        "read": policy("argocd-image-updater-dev", "ecr-read"),
    }


def repository_tags(aws) -> dict[str, dict[str, str]]:
    ecr = aws.client("ecr")
    return {
        repo["repositoryName"]: {
            t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
        }
        for repo in ecr.describe_repositories()["repositories"]
    }


def subjects(trust: dict) -> list[str]:
    return sorted(
        v
        for st in trust["Statement"]
        for c in st["Condition"].values()
        for k, vs in c.items()
        if k.endswith(":sub")
        for v in vs
    )


def resources(policy: dict) -> list[str]:
    found = []
    for statement in policy["Statement"]:
        listed = statement["Resource"]
        found += [listed] if isinstance(listed, str) else listed
    return sorted(r for r in found if r != "*")


# --- 1. a misspelled role variable never removes access ------------------------------------------


def test_a_misspelled_role_variable_fails_before_any_aws_call_naming_the_closest_and_access_is_unchanged(
    aws, recorded, tmp_path
):
    assert site(aws.env(), extra={"github_repos": REPOS}).returncode == 0
    before = iam_documents(aws)
    playbook = tmp_path / "reuse.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: cloudops.ecr.ecr_registry\n      vars:\n"
        f"        ecr_registry_github_repo: {json.dumps(REPOS[:1])}\n"
        "        ecr_registry_pod_identity_association: false\n"
    )
    with recorded() as calls:
        typo = run([f"{BIN}/ansible-playbook", str(playbook), "-i", "inventories/dev"], aws.env())
    assert typo.returncode != 0
    assert "ecr_registry_github_repo: is not a variable of the ecr_registry role" in typo.output
    assert "did you mean ecr_registry_github_repos?" in typo.output
    assert calls.reads == [] and calls.writes == []
    assert iam_documents(aws) == before


@pytest.mark.parametrize(
    ("typo", "closest"),
    [
        ("ecr_registry_lifecyle_rules", "ecr_registry_lifecycle_rules"),
        ("ecr_registry_scan_onpush", "ecr_registry_scan_on_push"),
    ],
)
def test_misspelled_inventory_variables_fail_naming_the_closest(aws, recorded, typo, closest):
    with recorded() as calls:
        result = site(aws.env(), extra={typo: [] if "rules" in typo else False})
    assert result.returncode != 0
    assert f"{typo}: is not a variable of the ecr_registry role; did you mean {closest}?" in result.output
    assert calls.writes == [] and calls.reads == []


# --- 2. a repository left alone: its access goes, and the run says so first -------------------------


def test_a_removed_repository_loses_its_access_and_the_check_run_said_so_first(aws, recorded):
    assert site(aws.env(), extra={"github_repos": REPOS, **NO_LIFECYCLE}).returncode == 0
    before, before_tags = iam_documents(aws), repository_tags(aws)
    with recorded() as calls:
        preview = site(aws.env(), "--check", "--diff", extra={"github_repos": REPOS[:2], **NO_LIFECYCLE})
    assert preview.returncode == 0, preview.tail()
    assert calls.writes == []
    assert iam_documents(aws) == before
    would = "Access that would be removed: example-org/worker would lose push access through role github-actions"
    assert would in preview.output.replace("\n        ", " ")
    assert "access removed: example-org/worker lose push access" in preview.output

    applied = site(aws.env(), extra={"github_repos": REPOS[:2], **NO_LIFECYCLE})
    assert applied.returncode == 0, applied.tail()
    after = iam_documents(aws)
    lost = [s for s in subjects(before["ci_trust"]) if s not in subjects(after["ci_trust"])]
    assert lost == ["repo:example-org/worker:ref:refs/heads/main"]
    assert [r for r in resources(before["ci_push"]) if r not in resources(after["ci_push"])] == [
        "arn:aws:ecr:eu-west-1:123456789012:repository/example-org/worker"
    ]
    reader = Principal("arn:aws:iam::123456789012:role/argocd-image-updater-dev", [after["read"]])
    worker = "arn:aws:ecr:eu-west-1:123456789012:repository/example-org/worker"
    assert before_tags["example-org/worker"]["cloudops.ecr/registry"] == "main"
    assert may(
        Principal(reader.arn, [before["read"]]),
        "ecr:BatchGetImage",
        Repository(worker, before_tags["example-org/worker"]),
    )
    assert not may(reader, "ecr:BatchGetImage", Repository(worker, repository_tags(aws)["example-org/worker"]))
    assert may(
        reader,
        "ecr:BatchGetImage",
        Repository(worker.replace("worker", "web-app"), repository_tags(aws)["example-org/web-app"]),
    )
    text = applied.output.replace("\n        ", " ")
    assert "[WARNING]: Access removed: example-org/worker lose push access through role github-actions" in text
    assert "Access removed: example-org/worker lost read access through role argocd-image-updater-dev" in text
    assert "Not managed here (left alone" in text and "example-org/worker" in text
    assert aws.client("ecr").describe_repositories(repositoryNames=["example-org/worker"])["repositories"]


# --- 4. the README's commands, as written ----------------------------------------------------------


def test_a_relative_outputs_file_is_written_where_the_user_runs_with_its_folder_created(aws):
    relative = "tests/output/first-hour/nested/dev.json"
    target = os.path.join(ROOT, relative)
    if os.path.exists(target):
        os.unlink(target)
    result = site(aws.env(), extra={"ecr_registry_outputs_file": relative, **REGISTRY_ONLY})
    assert result.returncode == 0, result.tail()
    with open(target, encoding="utf-8") as written:
        assert json.load(written)["repository_urls"]


def test_an_outputs_file_that_cannot_be_written_fails_before_the_first_write(aws, recorded, tmp_path):
    with recorded() as calls:
        result = site(aws.env(), extra={"ecr_registry_outputs_file": str(tmp_path)})
    assert result.returncode != 0
    assert "ecr_registry_outputs_file: " in result.output and "is a directory" in result.output
    assert calls.writes == []


def test_booleans_from_the_command_line_are_read_as_ansible_reads_them(aws):
    spellings = ["ecr_registry_ci_role=false", "ecr_registry_summary=no", "ecr_registry_image_updater=False"]
    args = [f"{BIN}/ansible-playbook", "site.yml", "-i", "inventories/dev", "-e", "ecr_registry_lifecycle_enabled=0"]
    result = run([*args, *(arg for spelling in spellings for arg in ("-e", spelling))], aws.env())
    assert result.returncode == 0, result.tail()
    assert aws.client("iam").list_roles()["Roles"] == []
    assert "ECR registry, dev" not in result.stdout  # no summary
    assert aws.client("ecr").describe_repositories()["repositories"]


def readme_block(heading: str, language: str = "yaml") -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    section = text.split(f"## {heading}", 1)[1]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def test_the_readme_reuse_example_runs_as_written_with_its_module_defaults_region(aws, tmp_path):
    playbook = tmp_path / "reuse.yml"
    playbook.write_text(readme_block("Reusing the role or the modules"))
    env = aws.env()
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name)  # the region must come from the example's module_defaults
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable  # this machine's interpreter discovery finds a broken shim
    result = run([f"{BIN}/ansible-playbook", str(playbook), "-i", "localhost,", "-c", "local"], env)
    assert result.returncode == 0, result.tail()
    names = sorted(r["repositoryName"] for r in aws.client("ecr").describe_repositories()["repositories"])
    assert names == ["example-org/api", "example-org/web"]


def test_the_immutable_github_id_form_names_the_plain_ecr_repository_and_the_trust_keeps_it(aws):
    extra = {"github_repos": ["acme@1234/Frontend-Web@5678"], "extra_repositories": [], **NO_LIFECYCLE}
    result = site(aws.env(), extra={**extra, "ecr_registry_image_updater": False})
    assert result.returncode == 0, result.tail()
    names = [r["repositoryName"] for r in aws.client("ecr").describe_repositories()["repositories"]]
    assert names == ["acme/frontend-web"]
    trust = aws.client("iam").get_role(RoleName="github-actions")["Role"]["AssumeRolePolicyDocument"]
    assert subjects(trust) == ["repo:acme@1234/Frontend-Web@5678:ref:refs/heads/main"]


# --- 5. a local endpoint you keep running; an endpoint without EKS ---------------------------------


def test_make_localaws_prints_the_environment_of_an_endpoint_that_works_until_stopped():
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "localaws.py"), "run"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    exports = {}
    for line in process.stdout:
        if line.startswith("export "):
            name, value = line[len("export ") :].strip().split("=", 1)
            exports[name] = value
        if line.startswith("The endpoint has no EKS"):
            break
    import boto3

    ecr = boto3.client(
        "ecr",
        endpoint_url=exports["AWS_ENDPOINT_URL"],
        region_name=exports["AWS_REGION"],
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
    )
    ecr.create_repository(repositoryName="kept")
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["kept"]
    assert exports["AWS_URL"] == exports["AWS_ENDPOINT_URL"]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_an_endpoint_without_eks_pod_identity_fails_before_any_write_naming_the_variable(aws, recorded):
    with recorded() as calls:
        result = site(aws.env(), extra={"ecr_registry_pod_identity_association": True})
    assert result.returncode != 0
    assert (
        "This endpoint has no EKS Pod Identity API: set ecr_registry_pod_identity_association: false" in result.output
    )
    assert calls.writes == []


# --- 6. messages that hit their target ---------------------------------------------------------------


def test_an_override_in_github_case_names_the_variable_the_key_and_the_lowercase_name(aws, recorded):
    with recorded() as calls:
        result = site(
            aws.env(), extra={"ecr_registry_repository_overrides": {"example-org/Web-App": {"scan_on_push": False}}}
        )
    assert result.returncode != 0
    assert (
        "ecr_registry_repository_overrides['example-org/Web-App']: names no repository of the registry; "
        "ECR names are lowercase: write 'example-org/web-app'"
    ) in result.output
    assert "caused by" not in result.output.lower()
    assert calls.reads == [] and calls.writes == []


def test_a_bad_repository_is_named_once_by_the_variable_the_user_wrote(aws, recorded):
    with recorded() as calls:
        result = site(aws.env(), extra={"extra_repositories": ["my-web-app", "Bad_Name"]})
    assert result.returncode != 0
    listed = result.output.split("problems:", 1)[1]
    assert [line.strip() for line in listed.splitlines() if "Bad_Name" in line] == [
        "- 'ecr_registry_extra_repositories[1]: repository name ''Bad_Name'' is not valid for"
    ]
    assert calls.writes == []


def test_a_misspelled_region_is_refused_before_any_aws_call_with_the_closest_region(aws, recorded):
    with recorded() as calls:
        result = site(aws.env(), extra={"ecr_registry_region": "eu-west-l"})
    assert result.returncode != 0
    assert "ecr_registry_region: 'eu-west-l' is not an AWS region; did you mean eu-west-1?" in result.output
    assert calls.reads == [] and calls.writes == []


# --- 7. output a user reads -------------------------------------------------------------------------


def test_check_mode_on_an_empty_account_shows_what_would_be_created_not_arns(aws):
    result = site(aws.env(), "--check")
    assert result.returncode == 0, result.tail()
    assert "GitHub OIDC provider: (would be created)" in result.output
    assert "CI push role github-actions: (would be created)" in result.output
    assert "Image Updater role (dev): (would be created)" in result.output
    assert "arn:aws:iam::" not in result.output.split("Registry summary", 1)[1]


def test_make_demo_prints_the_summary_once(tmp_path):
    env = {**os.environ, "DEMO_ENV": "pro"}
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert_handoff_matches_the_outputs("pro")
    assert result.stdout.count("ECR registry (") == 1  # printed by the registry's host
    assert result.stdout.count("Environment pro (") == 1  # and the environment's by its own
    assert "Outputs of pro: outputs/pro.json" in result.stdout


def assert_handoff_matches_the_outputs(environment: str) -> None:
    """What `make demo` left in outputs/handoff: one workflow per GitHub repository that actionlint
    passes, naming the role, region and registry of the outputs file; Image Updater files that parse
    and name the registry and the service account."""
    import yaml

    with open(os.path.join(ROOT, "outputs", f"{environment}.json"), encoding="utf-8") as handle:
        outputs = json.load(handle)
    handoff = os.path.join(ROOT, "outputs", "handoff")
    workflows = [os.path.join(handoff, "workflows", f"{repo}.yml") for repo in REPOS]
    assert sorted(
        os.path.join(folder, name)
        for folder, _dirs, names in os.walk(os.path.join(handoff, "workflows"))
        for name in names
    ) == sorted(workflows)
    lint = subprocess.run([f"{BIN}/actionlint", *workflows], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    registry = f"{outputs['account_id']}.dkr.ecr.{outputs['region']}.amazonaws.com"
    [role_arn] = outputs["ci_role_arns"].values()
    for repo, path in zip(REPOS, workflows, strict=True):
        with open(path, encoding="utf-8") as handle:
            workflow = yaml.safe_load(handle)
        steps = workflow["jobs"]["image"]["steps"]
        [credentials] = [step for step in steps if step.get("uses", "").startswith("aws-actions/configure-aws")]
        assert credentials["with"] == {"role-to-assume": role_arn, "aws-region": outputs["region"]}
        assert workflow["env"]["IMAGE"] == outputs["github_repository_urls"][repo] == f"{registry}/{repo}"
    updater = os.path.join(handoff, "image-updater", environment)
    texts = {}
    for name in os.listdir(updater):
        with open(os.path.join(updater, name), encoding="utf-8") as handle:
            texts[name] = handle.read()
    for name, text in texts.items():
        if name.endswith(".yaml"):
            yaml.safe_load(text)  # parses
            assert registry in text, name
    assert "argocd-image-updater" in texts["values.yaml"] and "argocd-image-updater" in texts["README.md"]
    assert outputs["image_updater_role_arn"] in texts["README.md"]
