"""Several AWS accounts on one local endpoint: an AWS config file whose profiles assume a role in
each account (boto3's own assume-role profiles: ``role_arn`` + ``source_profile``), as a team's real
config names its registry and workload accounts.

moto keeps state per account and its STS AssumeRole returns credentials that act in the role's
account, so ``registry``, ``dev`` and ``pro`` below are three accounts of one moto server. Used by
`make demo-accounts` (scripts/demo_accounts.py) and the three-account tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile

# Three accounts, as in AWS's multi-account guidance: the registry's, and one per environment.
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "pro": "333333333333"}
SOURCE_PROFILE = "local-base"  # the credentials the assume-role profiles start from
ASSUMED_ROLE = "cloudops-ecr-deployer"  # the role each profile assumes in its account


class AccountProfiles:
    """``with AccountProfiles(aws) as accounts: subprocess.run(..., env=accounts.env())``.

    Writes an AWS config and credentials file in a temporary directory (removed at the end): one
    profile per name of ``ACCOUNTS`` assuming ``ASSUMED_ROLE`` in that account."""

    def __init__(self, aws, accounts: dict[str, str] | None = None):
        self.aws = aws
        self.accounts = dict(accounts or ACCOUNTS)
        self.directory: str | None = None

    def __enter__(self) -> AccountProfiles:
        self.directory = tempfile.mkdtemp(prefix="cloudops-ecr-accounts-")
        credentials = self.aws.env()
        with open(os.path.join(self.directory, "credentials"), "w") as f:
            f.write(
                f"[{SOURCE_PROFILE}]\n"
                f"aws_access_key_id = {credentials['AWS_ACCESS_KEY_ID']}\n"
                f"aws_secret_access_key = {credentials['AWS_SECRET_ACCESS_KEY']}\n"
            )
        with open(os.path.join(self.directory, "config"), "w") as f:
            for name, account in self.accounts.items():
                f.write(
                    f"[profile {name}]\n"
                    f"role_arn = arn:aws:iam::{account}:role/{ASSUMED_ROLE}\n"
                    f"source_profile = {SOURCE_PROFILE}\n"
                    f"region = {self.aws.region}\n\n"
                )
        return self

    def __exit__(self, *exc) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def env(self, endpoint: str | None = None) -> dict:
        """The local endpoint's environment without ambient credentials: every run names a profile.
        (amazon.aws refuses a profile together with access keys from the environment.)"""
        env = self.aws.env(endpoint=endpoint)
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.pop(var, None)
        env["AWS_CONFIG_FILE"] = os.path.join(self.directory, "config")
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(self.directory, "credentials")
        return env

    def client(self, name: str, service: str, region: str | None = None):
        """A boto3 client acting in account ``name``: the same role its profile assumes, assumed here
        on the local endpoint (a profile's own resolution would reach STS only through the environment)."""
        import boto3

        sts = self.aws.client("sts")
        role = f"arn:aws:iam::{self.accounts[name]}:role/{ASSUMED_ROLE}"
        credentials = sts.assume_role(RoleArn=role, RoleSessionName="cloudops-ecr-check")["Credentials"]
        return boto3.client(
            service,
            endpoint_url=self.aws.url,
            region_name=region or self.aws.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def inventory_vars(environment: str) -> dict:
    """The extra vars that put the registry in its account and ``environment`` in its own: the same
    two variables a team sets in inventories/shared/registry.yml and the environment's group_vars."""
    return {"registry_aws_profile": "registry", "environment_aws_profile": environment}


def resources(accounts: AccountProfiles) -> dict:
    """Per account: its id, ECR repositories (with the Sids of their policies) and IAM roles."""
    import json

    held = {}
    for name in accounts.accounts:
        ecr = accounts.client(name, "ecr")
        iam = accounts.client(name, "iam")
        sts = accounts.client(name, "sts")
        repositories = {}
        for page in ecr.get_paginator("describe_repositories").paginate():
            for repo in page["repositories"]:
                try:
                    text = ecr.get_repository_policy(repositoryName=repo["repositoryName"])["policyText"]
                    sids = sorted(s.get("Sid", "") for s in json.loads(text)["Statement"])
                except ecr.exceptions.RepositoryPolicyNotFoundException:
                    sids = []
                repositories[repo["repositoryName"]] = sids
        roles = sorted(
            role["RoleName"] for page in iam.get_paginator("list_roles").paginate() for role in page["Roles"]
        )
        held[name] = {
            "account": sts.get_caller_identity()["Account"],
            "repositories": repositories,
            "roles": roles,
        }
    return held
