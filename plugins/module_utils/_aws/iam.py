# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM calls: the OIDC provider, and IAM roles with one inline policy. Every call retries
(AWSRetry); not-found becomes ``None``; after this run created something, writes also wait out
IAM's propagation (``IAM_SETTLING_RETRY``)."""

from __future__ import annotations

import json
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
    paginated_query_with_retries,
)
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._aws.client import (
    IAM_RETRY,
    IAM_SETTLING_RETRY,
    retrying_differently,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_role import (
    OidcProvider,
    RolePlan,
    RoleSpec,
    RoleState,
    role_after,
)


class IamAccess:
    """One account's IAM through a retrying client (``aws_client(module, "iam", IAM_RETRY)``)."""

    def __init__(self, client):
        self.client = client
        self._settling = retrying_differently(client, IAM_SETTLING_RETRY)
        self._created = False

    @property
    def _writer(self):
        """The client for writes: once this run created something, it waits out IAM's propagation too."""
        return self._settling if self._created else self.client

    # OIDC provider ---------------------------------------------------------------------------
    @IAMErrorHandler.common_error_handler("read the OIDC provider of {host}")
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

    @IAMErrorHandler.common_error_handler("create the OIDC provider {url}")
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

    @IAMErrorHandler.common_error_handler("add client id {client_id} to the OIDC provider")
    def add_client_id(self, arn: str, client_id: str) -> None:
        self._writer.add_client_id_to_open_id_connect_provider(
            aws_retry=True, OpenIDConnectProviderArn=arn, ClientID=client_id
        )

    @IAMErrorHandler.common_error_handler("set the thumbprints of the OIDC provider")
    def set_thumbprints(self, arn: str, thumbprints: list[str]) -> None:
        self._writer.update_open_id_connect_provider_thumbprint(
            aws_retry=True, OpenIDConnectProviderArn=arn, ThumbprintList=thumbprints
        )

    # roles -----------------------------------------------------------------------------------
    @IAMErrorHandler.common_error_handler("count the roles of the account")
    def count_roles(self) -> int:
        """How many roles the account holds (one call per 1,000 roles)."""
        return len(paginated_query_with_retries(self.client, "list_roles", IAM_RETRY, MaxItems=1000)["Roles"])

    @IAMErrorHandler.list_error_handler("read role {name}")
    def role_state(self, name: str, policy_name: str) -> RoleState | None:
        role = self.client.get_role(aws_retry=True, RoleName=name)["Role"]
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

    @IAMErrorHandler.list_error_handler("read the policy {policy_name} of role {role_name}")
    def inline_policy(self, role_name: str, policy_name: str) -> dict | None:
        found = self.client.get_role_policy(aws_retry=True, RoleName=role_name, PolicyName=policy_name)
        return _document(found["PolicyDocument"])

    @IAMErrorHandler.common_error_handler("create role {spec.name}")
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
            role = self._writer.create_role(aws_retry=True, **kwargs)["Role"]
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

    @IAMErrorHandler.common_error_handler("update role {spec.name}")
    def update_role(self, spec: RoleSpec, plan: RolePlan) -> None:
        name, writer = spec.name, self._writer
        if plan.trust:
            writer.update_assume_role_policy(
                aws_retry=True, RoleName=name, PolicyDocument=json.dumps(spec.trust_policy)
            )
        if plan.settings:
            kwargs = {"RoleName": name, "MaxSessionDuration": spec.max_session_duration}
            if spec.description is not None:
                kwargs["Description"] = spec.description
            writer.update_role(aws_retry=True, **kwargs)
        if plan.boundary:
            writer.put_role_permissions_boundary(
                aws_retry=True, RoleName=name, PermissionsBoundary=spec.permissions_boundary
            )
        if plan.policy:
            self.put_policy(spec)
        if plan.tags_to_set:
            writer.tag_role(aws_retry=True, RoleName=name, Tags=ansible_dict_to_boto3_tag_list(plan.tags_to_set))
        if plan.tags_to_remove:
            writer.untag_role(aws_retry=True, RoleName=name, TagKeys=plan.tags_to_remove)

    @IAMErrorHandler.common_error_handler("write the policy {spec.policy_name} of role {spec.name}")
    def put_policy(self, spec: RoleSpec) -> None:
        self._writer.put_role_policy(
            aws_retry=True, RoleName=spec.name, PolicyName=spec.policy_name, PolicyDocument=json.dumps(spec.policy)
        )

    @IAMErrorHandler.deletion_error_handler("delete role {name}")
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
