# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM calls: the OIDC provider and IAM roles with one inline policy (EKS Pod Identity
associations are in ``pod_identity``). Every call retries (AWSRetry); not-found becomes ``None``;
what to change is planned by comparing the current state with the desired one before any write.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
    paginated_query_with_retries,
)
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.cloudops.ecr.plugins.module_utils.aws_access import retry_with
from ansible_collections.cloudops.ecr.plugins.module_utils.validation import InvalidInput, Problem

# IAM answers ConcurrentModification when two writes touch one entity at once.
IAM_RETRY = retry_with("ConcurrentModification")
# IAM is eventually consistent: just after a create, the new role can be missing
# (NoSuchEntity) and a just-created OIDC provider is not yet a valid principal
# (MalformedPolicyDocument "Invalid principal"). Used only for writes after a create.
IAM_SETTLING_RETRY = retry_with("ConcurrentModification", "NoSuchEntity", "MalformedPolicyDocument")

PolicyDiffers = Callable[[dict, dict], bool]


# --- OIDC provider ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OidcProvider:
    arn: str
    url: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    tags: dict[str, str]


# --- roles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleSpec:
    """The role we want. ``None`` for description, boundary or tags leaves the current value alone."""

    name: str
    path: str
    trust_policy: dict
    policy_name: str
    policy: dict
    max_session_duration: int
    description: str | None = None
    permissions_boundary: str | None = None
    tags: dict[str, str] | None = None
    purge_tags: bool = True
    new_role_description: str | None = None  # used only when the role is created


@dataclass(frozen=True)
class RoleState:
    """The role IAM holds, with the one inline policy we manage (``None`` when missing)."""

    name: str
    arn: str | None
    path: str
    trust_policy: dict
    max_session_duration: int
    description: str | None
    permissions_boundary: str | None
    tags: dict[str, str]
    policy: dict | None


@dataclass
class RolePlan:
    create: bool = False
    trust: bool = False
    settings: bool = False
    boundary: bool = False
    policy: bool = False
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_remove: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[str]:
        if self.create:
            return ["created"]
        named = [
            ("trust_policy", self.trust),
            ("settings", self.settings),
            ("permissions_boundary", self.boundary),
            ("permissions_policy", self.policy),
            ("tags", bool(self.tags_to_set or self.tags_to_remove)),
        ]
        return [name for name, needed in named if needed]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def plan_role(spec: RoleSpec, current: RoleState | None, policy_differs: PolicyDiffers) -> RolePlan:
    """What to write so the role IAM holds becomes ``spec``; refuses what IAM cannot change."""
    if current is None:
        return RolePlan(create=True, policy=True)
    if current.path != spec.path:
        raise InvalidInput(
            [
                Problem(
                    "path",
                    f"{spec.path!r} differs from the path {current.path!r} of the existing role {spec.name!r}; "
                    "IAM cannot move a role: keep the path or delete the role first",
                )
            ]
        )
    plan = RolePlan(
        trust=policy_differs(current.trust_policy, spec.trust_policy),
        settings=current.max_session_duration != spec.max_session_duration
        or (spec.description is not None and (current.description or "") != spec.description),
        boundary=spec.permissions_boundary is not None and current.permissions_boundary != spec.permissions_boundary,
        policy=current.policy is None or policy_differs(current.policy, spec.policy),
    )
    if spec.tags is not None:
        plan.tags_to_set, plan.tags_to_remove = compare_aws_tags(current.tags, spec.tags, spec.purge_tags)
    return plan


def role_after(spec: RoleSpec, current: RoleState | None, plan: RolePlan, arn: str | None = None) -> RoleState:
    """The role as IAM will hold it once ``plan`` is applied (what diff mode shows as after)."""
    if current is None:
        description = spec.description or spec.new_role_description
        boundary, tags = spec.permissions_boundary, dict(spec.tags or {})
    else:
        description = current.description if spec.description is None else spec.description
        boundary = spec.permissions_boundary or current.permissions_boundary
        tags = {k: v for k, v in {**current.tags, **plan.tags_to_set}.items() if k not in plan.tags_to_remove}
    return RoleState(
        name=spec.name,
        arn=arn or (current.arn if current else None),
        path=spec.path,
        trust_policy=spec.trust_policy,
        max_session_duration=spec.max_session_duration,
        description=description,
        permissions_boundary=boundary,
        tags=tags,
        policy=spec.policy,
    )


def role_view(state: RoleState | None) -> dict:
    """A role as diff mode shows it (``{}`` when it does not exist)."""
    if state is None:
        return {}
    return {
        "path": state.path,
        "trust_policy": state.trust_policy,
        "permissions_policy": state.policy,
        "max_session_duration": state.max_session_duration,
        "description": state.description,
        "permissions_boundary": state.permissions_boundary,
        "tags": state.tags,
    }


class IamAccess:
    """One account's IAM through a retrying client (``aws_client(module, "iam", IAM_RETRY)``)."""

    def __init__(self, client):
        self.client = client
        self._created = False

    def _write(self, operation: str, **kwargs):
        """A write; once this run created something, IAM propagation errors are retried too."""
        call = getattr(self.client, operation)
        if self._created:
            return IAM_SETTLING_RETRY(call)(**kwargs)
        return call(aws_retry=True, **kwargs)

    # OIDC provider ---------------------------------------------------------------------------
    def find_provider(self, host: str) -> OidcProvider | None:
        """The account's OIDC provider for ``host`` (IAM names the provider ARN after it)."""
        listed = self.client.list_open_id_connect_providers(aws_retry=True)["OpenIDConnectProviderList"]
        arn = next((p["Arn"] for p in listed if p["Arn"].split(":oidc-provider/", 1)[-1] == host), None)
        if arn is None:
            return None
        found = self.client.get_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn)
        return OidcProvider(
            arn=arn,
            url=found.get("Url", host),
            client_ids=tuple(found.get("ClientIDList", [])),
            thumbprints=tuple(found.get("ThumbprintList", [])),
            tags=boto3_tag_list_to_ansible_dict(found.get("Tags", [])),
        )

    def create_provider(self, url: str, client_ids: list[str], thumbprints: list[str] | None, tags: dict | None) -> str:
        kwargs = {"Url": url, "ClientIDList": client_ids}
        if thumbprints:
            kwargs["ThumbprintList"] = thumbprints
        if tags:
            kwargs["Tags"] = ansible_dict_to_boto3_tag_list(tags)
        try:
            arn = self.client.create_open_id_connect_provider(aws_retry=True, **kwargs)["OpenIDConnectProviderArn"]
        except is_boto3_error_code("EntityAlreadyExists"):
            # A resend of a create whose answer was lost, or another run's: one provider per URL, reuse it.
            found = self.find_provider(url.removeprefix("https://"))
            if found is None:
                raise
            arn = found.arn
        self._created = True
        return arn

    def add_client_id(self, arn: str, client_id: str) -> None:
        self._write("add_client_id_to_open_id_connect_provider", OpenIDConnectProviderArn=arn, ClientID=client_id)

    def set_thumbprints(self, arn: str, thumbprints: list[str]) -> None:
        self._write(
            "update_open_id_connect_provider_thumbprint", OpenIDConnectProviderArn=arn, ThumbprintList=thumbprints
        )

    # roles -----------------------------------------------------------------------------------
    def role_state(self, name: str, policy_name: str) -> RoleState | None:
        try:
            role = self.client.get_role(aws_retry=True, RoleName=name)["Role"]
        except is_boto3_error_code("NoSuchEntity"):
            return None
        return RoleState(
            name=role["RoleName"],
            arn=role["Arn"],
            path=role.get("Path", "/"),
            trust_policy=_document(role.get("AssumeRolePolicyDocument")),
            max_session_duration=role.get("MaxSessionDuration", 3600),
            description=role.get("Description"),
            permissions_boundary=(role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            tags=boto3_tag_list_to_ansible_dict(role.get("Tags", [])),
            policy=self.inline_policy(name, policy_name),
        )

    def inline_policy(self, role_name: str, policy_name: str) -> dict | None:
        try:
            found = self.client.get_role_policy(aws_retry=True, RoleName=role_name, PolicyName=policy_name)
        except is_boto3_error_code("NoSuchEntity"):
            return None
        return _document(found["PolicyDocument"])

    def create_role(self, spec: RoleSpec) -> RoleState:
        kwargs = {
            "RoleName": spec.name,
            "Path": spec.path,
            "AssumeRolePolicyDocument": json.dumps(spec.trust_policy),
            "MaxSessionDuration": spec.max_session_duration,
        }
        if spec.description or spec.new_role_description:
            kwargs["Description"] = spec.description or spec.new_role_description
        if spec.permissions_boundary:
            kwargs["PermissionsBoundary"] = spec.permissions_boundary
        if spec.tags:
            kwargs["Tags"] = ansible_dict_to_boto3_tag_list(spec.tags)
        try:
            role = self._write("create_role", **kwargs)["Role"]
        except is_boto3_error_code("EntityAlreadyExists"):
            role = self._role_if_ours(spec)
            if role is None:
                raise
        self._created = True
        self.put_policy(spec)
        return role_after(spec, None, RolePlan(create=True), arn=role["Arn"])

    def _role_if_ours(self, spec: RoleSpec) -> dict | None:
        """After a resent CreateRole met an existing role: that role when it holds exactly what we asked for
        (our first send landed and its answer was lost), else None."""
        role = self.client.get_role(aws_retry=True, RoleName=spec.name)["Role"]
        trust = _document(role.get("AssumeRolePolicyDocument"))
        ours = role.get("Path", "/") == spec.path and not compare_policies(trust, spec.trust_policy)
        return role if ours else None

    def update_role(self, spec: RoleSpec, plan: RolePlan) -> None:
        name = spec.name
        if plan.trust:
            self._write("update_assume_role_policy", RoleName=name, PolicyDocument=json.dumps(spec.trust_policy))
        if plan.settings:
            kwargs = {"RoleName": name, "MaxSessionDuration": spec.max_session_duration}
            if spec.description is not None:
                kwargs["Description"] = spec.description
            self._write("update_role", **kwargs)
        if plan.boundary:
            self._write("put_role_permissions_boundary", RoleName=name, PermissionsBoundary=spec.permissions_boundary)
        if plan.policy:
            self.put_policy(spec)
        if plan.tags_to_set:
            self._write("tag_role", RoleName=name, Tags=ansible_dict_to_boto3_tag_list(plan.tags_to_set))
        if plan.tags_to_remove:
            self._write("untag_role", RoleName=name, TagKeys=plan.tags_to_remove)

    def put_policy(self, spec: RoleSpec) -> None:
        self._write(
            "put_role_policy", RoleName=spec.name, PolicyName=spec.policy_name, PolicyDocument=json.dumps(spec.policy)
        )

    def delete_role(self, name: str) -> None:
        """Delete the role with what IAM requires gone first: inline and attached policies, instance profiles."""
        client = self.client

        def listed(operation: str, key: str) -> list:
            return paginated_query_with_retries(client, operation, retry_decorator=IAM_RETRY, RoleName=name)[key]

        for policy_name in listed("list_role_policies", "PolicyNames"):
            client.delete_role_policy(aws_retry=True, RoleName=name, PolicyName=policy_name)
        for policy in listed("list_attached_role_policies", "AttachedPolicies"):
            client.detach_role_policy(aws_retry=True, RoleName=name, PolicyArn=policy["PolicyArn"])
        for profile in listed("list_instance_profiles_for_role", "InstanceProfiles"):
            client.remove_role_from_instance_profile(
                aws_retry=True, RoleName=name, InstanceProfileName=profile["InstanceProfileName"]
            )
        client.delete_role(aws_retry=True, RoleName=name)


def _document(value) -> dict:
    """IAM documents arrive decoded by botocore; some endpoints still hand back JSON text."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value or {}
