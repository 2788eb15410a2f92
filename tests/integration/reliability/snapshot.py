# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a local AWS endpoint holds that the collection manages, read with boto3 directly.

``snapshot(endpoint)`` is plain data (lists sorted by name, documents parsed, timestamps and
generated ids left out) so two runs compare with ``==``. Lists are kept as lists - a duplicate
resource shows up as a repeated name (see ``duplicates``) instead of being hidden by a dict.
"""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import unquote

import boto3
from botocore.config import Config

_NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=30)


def clients(endpoint: str, region: str, credentials: dict) -> dict:
    session = boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    return {name: session.client(name, endpoint_url=endpoint, config=_NO_RETRIES) for name in ("ecr", "iam")}


def _document(value) -> dict | None:
    if value is None:
        return None
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def ecr_snapshot(ecr) -> dict:
    repositories = []
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repo in page["repositories"]:
            name = repo["repositoryName"]
            try:
                policy = _document(ecr.get_repository_policy(repositoryName=name)["policyText"])
            except ecr.exceptions.RepositoryPolicyNotFoundException:
                policy = None
            try:
                lifecycle = _document(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
            except ecr.exceptions.LifecyclePolicyNotFoundException:
                lifecycle = None
            tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
            repositories.append(
                {
                    "name": name,
                    "arn": repo["repositoryArn"],
                    "uri": repo["repositoryUri"],
                    "image_tag_mutability": repo.get("imageTagMutability"),
                    "mutability_exclusions": sorted(
                        f["filter"] for f in repo.get("imageTagMutabilityExclusionFilters") or []
                    ),
                    "scanning": repo.get("imageScanningConfiguration"),
                    "encryption": repo.get("encryptionConfiguration"),
                    "tags": sorted((t["Key"], t["Value"]) for t in tags),
                    "policy": policy,
                    "lifecycle_policy": lifecycle,
                    "images": len(ecr.list_images(repositoryName=name).get("imageIds", [])),
                }
            )
    try:
        scanning = ecr.get_registry_scanning_configuration().get("scanningConfiguration")
    except Exception as exc:  # not every endpoint implements it
        scanning = f"unavailable: {_error_code(exc) or type(exc).__name__}"
    return {"repositories": sorted(repositories, key=lambda r: r["name"]), "registry_scanning": scanning}


def iam_snapshot(iam) -> dict:
    providers = []
    for listed in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        found = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=listed["Arn"])
        providers.append(
            {
                "arn": listed["Arn"],
                "url": found.get("Url"),
                "client_ids": sorted(found.get("ClientIDList", [])),
                "thumbprints": sorted(found.get("ThumbprintList", [])),
                "tags": sorted((t["Key"], t["Value"]) for t in found.get("Tags", [])),
            }
        )
    roles = []
    for page in iam.get_paginator("list_roles").paginate():
        for listed in page["Roles"]:
            name = listed["RoleName"]
            role = iam.get_role(RoleName=name)["Role"]
            inline = {}
            for policy_page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for policy_name in policy_page["PolicyNames"]:
                    document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
                    inline[policy_name] = _document(document)
            attached = []
            for policy_page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                attached += [p["PolicyArn"] for p in policy_page["AttachedPolicies"]]
            roles.append(
                {
                    "name": name,
                    "arn": role["Arn"],
                    "path": role.get("Path"),
                    "trust_policy": _document(role.get("AssumeRolePolicyDocument")),
                    "description": role.get("Description"),
                    "max_session_duration": role.get("MaxSessionDuration"),
                    "permissions_boundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
                    "tags": sorted((t["Key"], t["Value"]) for t in role.get("Tags", [])),
                    "inline_policies": inline,
                    "attached_policies": sorted(attached),
                }
            )
    managed = []
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
            managed.append({"arn": policy["Arn"], "document": _document(version["PolicyVersion"]["Document"])})
    instance_profiles = sorted(p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"])
    return {
        "oidc_providers": sorted(providers, key=lambda p: p["arn"]),
        "roles": sorted(roles, key=lambda r: r["name"]),
        "customer_managed_policies": sorted(managed, key=lambda p: p["arn"]),
        "instance_profiles": instance_profiles,
    }


def snapshot(endpoint: str, region: str, credentials: dict) -> dict:
    """What the endpoint holds: ECR repositories with every setting and policy, IAM providers and roles."""
    aws = clients(endpoint, region, credentials)
    return {"ecr": ecr_snapshot(aws["ecr"]), "iam": iam_snapshot(aws["iam"])}


def duplicates(state: dict) -> dict[str, list[str]]:
    """Names that occur more than once, per kind of resource (empty lists when there are none)."""

    def repeated(names):
        return sorted(n for n, count in Counter(names).items() if count > 1)

    return {
        "repositories": repeated(r["name"] for r in state["ecr"]["repositories"]),
        "oidc_providers": repeated(p["url"] for p in state["iam"]["oidc_providers"]),
        "roles": repeated(r["name"] for r in state["iam"]["roles"]),
        "customer_managed_policies": repeated(p["arn"] for p in state["iam"]["customer_managed_policies"]),
    }


def is_empty(state: dict) -> bool:
    return not (
        state["ecr"]["repositories"]
        or state["iam"]["oidc_providers"]
        or state["iam"]["roles"]
        or state["iam"]["customer_managed_policies"]
    )
