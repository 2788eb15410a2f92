# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitHub Actions OIDC: repository names, ``sub`` suffixes and the role trust policy.

Pure rules, no AWS call. The trust policy never admits more than the listed repositories and
subjects: wildcards in owner or repository, ``*``, ``repo:*``, ``?`` and ``*`` under
``StringEquals`` are refused before anything is built.

Case: IAM compares ``sub`` case-sensitively while GitHub names are case-insensitive, and the
token carries the repository's canonical case (as shown on GitHub). We keep the case given, so
users must write the canonical case; writing it wrong locks CI out, it never lets anyone in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_documents import (
    PLACEHOLDER_ACCOUNT,
    ROLES_DEFAULT_MAX,
    ROLES_QUOTA_MAX,
    TRUST_POLICY_DEFAULT_MAX,
    TRUST_POLICY_QUOTA_MAX,
    document_size,
    ecr_push_policy,
    is_valid_role_description,
    partition_of,
    repository_arn,
    role_document_problems,
    validate_max_session_duration,
    validate_policy_arn,
    validate_quota,
    validate_role_description,
    validate_role_name,
    validate_role_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.iam_role import RoleSpec
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import (
    InvalidInput,
    Problem,
    Problems,
    join_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    check_repository_name,
    repository_name_for_github,
)

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
DEFAULT_SUBJECTS = ("ref:refs/heads/main",)

AUD_KEY = f"{GITHUB_OIDC_HOST}:aud"
SUB_KEY = f"{GITHUB_OIDC_HOST}:sub"

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_ID = re.compile(r"[1-9][0-9]{0,19}")
_PROVIDER_ARN = re.compile(rf"arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}")
# git check-ref-format: no control chars, space, ~ ^ : ? * [ \ (``*`` is handled as a wildcard).
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?\[\\]")
_SUBJECT_KINDS = (("ref:refs/heads/", "branch"), ("ref:refs/tags/", "tag"), ("environment:", "environment"))
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")
_SUBJECT_FORMS = "'ref:refs/heads/BRANCH', 'ref:refs/tags/TAG', 'environment:NAME' or 'pull_request'"


@dataclass(frozen=True)
class GithubRepo:
    """A GitHub repository as named in the ``sub`` claim: ``owner/name`` or ``owner@ID/name@ID``."""

    owner: str
    name: str
    owner_id: str | None = None
    repo_id: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def claim_name(self) -> str:
        """The repository part of ``sub``: the immutable form when the ids are known."""
        if self.owner_id:
            return f"{self.owner}@{self.owner_id}/{self.name}@{self.repo_id}"
        return self.full_name

    @property
    def ecr_repository_name(self) -> str:
        """The ECR repository this GitHub repository pushes to (ECR names are lowercase)."""
        return repository_name_for_github(self.full_name)

    def __str__(self) -> str:
        return self.claim_name


def _split_id(part: str) -> tuple[str, str | None]:
    name, sep, ident = part.partition("@")
    return name, (ident if sep else None)


def _repo_problems(value: str) -> list[str]:
    """Why ``value`` is not ``owner/repo`` or ``owner@ID/repo@ID`` (empty when it is)."""
    if "*" in value or "?" in value:
        return [
            "holds a wildcard: owner and repository must be exact, else the role trusts repositories you do not own"
        ]
    if value.count("/") != 1:
        return ["must be 'owner/repo' (or 'owner@OWNER_ID/repo@REPO_ID'), exactly one '/'"]
    owner_part, repo_part = value.split("/")
    owner, owner_id = _split_id(owner_part)
    repo, repo_id = _split_id(repo_part)
    errors = []
    if not _OWNER.fullmatch(owner):
        errors.append(
            f"owner {owner!r} must be 1-39 letters, digits or single hyphens, not starting or ending with a hyphen"
        )
    if not _REPO.fullmatch(repo) or repo in (".", ".."):
        errors.append(f"repository {repo!r} must be 1-100 of letters, digits, '.', '_', '-' (not '.' or '..')")
    if (owner_id is None) != (repo_id is None):
        errors.append("the immutable form needs both ids: 'owner@OWNER_ID/repo@REPO_ID'")
    for label, ident in (("owner id", owner_id), ("repository id", repo_id)):
        if ident is not None and not _ID.fullmatch(ident):
            errors.append(f"{label} {ident!r} must be a positive number")
    return errors


def parse_github_repos(repos: object, path: str = "github_repos") -> list[GithubRepo]:
    """Parse ``owner/repo`` strings (or the immutable ``owner@ID/repo@ID``); every problem at once.

    Two names differing only in case are the same GitHub repository and count as duplicates;
    the classic and the immutable form of one repository may both be listed (migration).
    """
    problems = Problems()
    if not isinstance(repos, (list, tuple)):
        problems.add(path, f"{repos!r} must be a list of 'owner/repo' strings")
        problems.raise_if_any()
    if not repos:
        problems.add(path, "at least one 'owner/repo' is required: an empty list would trust no one")
    parsed: list[GithubRepo] = []
    seen: dict[tuple[str, str, str | None], int] = {}
    for index, value in enumerate(repos):
        item_path = join_path(path, index)
        if isinstance(value, GithubRepo):
            value = value.claim_name
        if not isinstance(value, str):
            problems.add(item_path, f"{value!r} must be a string 'owner/repo'")
            continue
        errors = _repo_problems(value)
        for error in errors:
            problems.add(item_path, f"{value!r} {error}")
        if errors:
            continue
        owner_part, repo_part = value.split("/")
        owner, owner_id = _split_id(owner_part)
        name, repo_id = _split_id(repo_part)
        repo = GithubRepo(owner, name, owner_id, repo_id)
        key = (repo.full_name.lower(), owner_id or "", repo_id)
        if key in seen:
            problems.add(item_path, f"{value!r} is listed twice (same repository as {join_path(path, seen[key])})")
            continue
        seen[key] = index
        parsed.append(repo)
    problems.raise_if_any()
    return parsed


def _subject_problems(value: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one ``sub`` suffix."""
    if value == "pull_request":
        return [], ["admits every pull_request workflow run, which runs code before anyone reviews it"]
    if value.startswith("repo:"):
        return ["lists the part after 'repo:OWNER/REPO:' only; the repositories come from github_repos"], []
    if "?" in value:
        return ["'?' is a wildcard for one character: write the exact value or a prefix followed by '*'"], []
    if "${" in value:
        return ["'${' starts an IAM policy variable and is not allowed"], []
    for prefix, kind in _SUBJECT_KINDS:
        if not value.startswith(prefix):
            continue
        rest = value[len(prefix) :]
        if not rest:
            return [f"names no {kind}: {_SUBJECT_FORMS} expected"], []
        if rest == "*":
            return [], [f"admits every {kind} of the listed repositories; prefer exact names or a fixed prefix"]
        if rest.startswith("*"):
            return [f"a wildcard is allowed only after a fixed {kind} prefix, e.g. '{prefix}release/*'"], []
        if kind != "environment" and (problem := _ref_problem(rest)):
            return [f"{kind} name {rest!r} {problem}"], []
        if kind == "environment" and (rest != rest.strip() or any(ord(c) < 32 for c in rest)):
            return [f"environment name {rest!r} has leading/trailing spaces or control characters"], []
        return [], []
    if "*" in value:
        return [f"may hold '*' only in a branch, tag or environment name after a fixed prefix: {_SUBJECT_FORMS}"], []
    return [f"is not a supported subject: {_SUBJECT_FORMS} expected"], []


def _ref_problem(name: str) -> str:
    if _REF_FORBIDDEN.search(name):
        return "holds a character git forbids in ref names (space, control, ~ ^ : ? [ \\)"
    if name.startswith("/") or name.endswith(("/", ".", ".lock")) or "//" in name or ".." in name or "@{" in name:
        return "is not a valid git ref name (check 'git check-ref-format')"
    return ""


def parse_subjects(subjects: object, path: str = "subjects") -> tuple[list[str], list[str]]:
    """Validate ``sub`` suffixes (the part after ``repo:OWNER/REPO:``); return (subjects, warnings)."""
    problems = Problems()
    if not isinstance(subjects, (list, tuple)):
        problems.add(path, f"{subjects!r} must be a list of subjects such as 'ref:refs/heads/main'")
        problems.raise_if_any()
    if not subjects:
        problems.add(path, f"at least one subject is required: {_SUBJECT_FORMS}")
    result: list[str] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(subjects):
        item_path = join_path(path, index)
        if not isinstance(value, str) or not value:
            problems.add(item_path, f"{value!r} must be a non-empty string: {_SUBJECT_FORMS}")
            continue
        errors, notes = _subject_problems(value)
        for error in errors:
            problems.add(item_path, f"{value!r} {error}")
        if errors:
            continue
        if value in seen:
            problems.add(item_path, f"{value!r} is listed twice (see {join_path(path, seen[value])})")
            continue
        seen[value] = index
        warnings.extend(f"{item_path}: {value!r} {note}" for note in notes)
        result.append(value)
    problems.raise_if_any()
    return result, warnings


def github_subject_claims(repos: Sequence[GithubRepo | str], subjects: Sequence[str]) -> list[str]:
    """Every full ``sub`` value admitted: ``repo:OWNER/REPO:SUFFIX`` for each repository and suffix, sorted."""
    parsed_repos = parse_github_repos(list(repos))
    parsed_subjects, _warnings = parse_subjects(subjects)
    return sorted({f"repo:{repo.claim_name}:{suffix}" for repo in parsed_repos for suffix in parsed_subjects})


def github_provider_arn(partition: str, account_id: str) -> str:
    """ARN of the account's GitHub Actions OIDC provider (IAM names it after the URL host)."""
    return f"arn:{partition}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def github_trust_policy(provider_arn: str, repos: Sequence[GithubRepo | str], subjects: Sequence[str]) -> dict:
    """Trust policy admitting exactly ``repos`` x ``subjects`` through the GitHub OIDC provider.

    Exact values go under ``StringEquals``; values holding ``*`` under ``StringLike`` in a
    second statement (a ``*`` under ``StringEquals`` is literal and never matches). Sorted, so
    a rerun builds an equal document.
    """
    if not isinstance(provider_arn, str) or not _PROVIDER_ARN.fullmatch(provider_arn):
        raise InvalidInput(
            [Problem("provider_arn", f"{provider_arn!r} must be the ARN of the {GITHUB_OIDC_HOST} OIDC provider")]
        )
    claims = github_subject_claims(repos, subjects)
    exact = [c for c in claims if "*" not in c]
    patterns = [c for c in claims if "*" in c]
    statements = []
    for sid, operator, values in (
        ("GithubActionsExactSubjects", "StringEquals", exact),
        ("GithubActionsSubjectPatterns", "StringLike", patterns),
    ):
        if not values:
            continue
        condition: dict = {"StringEquals": {AUD_KEY: GITHUB_OIDC_AUDIENCE}}
        condition.setdefault(operator, {})[SUB_KEY] = values
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class CiRole:
    """One CI role: the GitHub repositories it trusts and the ECR repositories it may push to."""

    name: str
    github_repos: tuple[GithubRepo, ...]
    repositories: tuple[str, ...]


def ci_roles(
    name: str,
    repos: Sequence[GithubRepo],
    repositories: Sequence[str] | None = None,
    per_repository: bool = False,
) -> list[CiRole]:
    """The CI roles to converge: one for all ``repos``, or one per GitHub repository.

    ``repositories`` (ECR names) defaults to each GitHub repository's own, ``owner/repo``
    lowercased. With ``per_repository`` each role trusts one GitHub repository (both of its
    classic and immutable forms when listed) and pushes only to its own ECR repository;
    ``name`` is then a template where ``{owner}`` and ``{repo}`` stand for the lowercased names.
    """
    problems = Problems()
    if per_repository:
        if repositories is not None:
            problems.add("repositories", "must be left out with per_repository: each role pushes to its own repository")
        if not isinstance(name, str) or "{repo}" not in name:
            problems.add("name", f"{name!r} must hold '{{repo}}' with per_repository, e.g. 'github-{{owner}}-{{repo}}'")
        problems.raise_if_any()
        return _roles_per_repository(name, repos, problems)
    try:
        validate_role_name(name, "name")
    except InvalidInput as exc:
        problems.extend(exc)
    if repositories is None:
        targets = {}
        for index, repo in enumerate(repos):
            check_repository_name(repo.ecr_repository_name, join_path("github_repos", index), problems)
            targets.setdefault(repo.ecr_repository_name, index)
        names = list(targets)
    else:
        if not isinstance(repositories, (list, tuple)) or not repositories:
            problems.add("repositories", f"{repositories!r} must be a non-empty list of ECR repository names")
            problems.raise_if_any()
        for index, repository in enumerate(repositories):
            check_repository_name(repository, join_path("repositories", index), problems)
        names = list(dict.fromkeys(repositories))
    problems.raise_if_any()
    return [CiRole(name, tuple(repos), tuple(sorted(names)))]


def _roles_per_repository(template: str, repos: Sequence[GithubRepo], problems: Problems) -> list[CiRole]:
    groups: dict[str, list[tuple[int, GithubRepo]]] = {}
    for index, repo in enumerate(repos):
        groups.setdefault(repo.ecr_repository_name, []).append((index, repo))
    roles, seen = [], {}
    for repository, members in groups.items():
        index, repo = members[0]
        path = join_path("github_repos", index)
        check_repository_name(repository, path, problems)
        role_name = template.replace("{owner}", repo.owner.lower()).replace("{repo}", repo.name.lower())
        try:
            validate_role_name(role_name, path)
        except InvalidInput:
            problems.add(
                path,
                f"{repo.claim_name!r} gives role name {role_name!r} from name {template!r}, "
                "not an IAM role name: 1-64 of letters, digits and +=,.@_-",
            )
            continue
        if role_name.lower() in seen:
            problems.add(
                path,
                f"{repo.claim_name!r} gives role name {role_name!r}, already used by "
                f"{seen[role_name.lower()]}: put '{{owner}}' in name",
            )
            continue
        seen[role_name.lower()] = path
        roles.append(CiRole(role_name, tuple(r for _position, r in members), (repository,)))
    problems.raise_if_any()
    return roles


@dataclass(frozen=True)
class CiRoleRequest:
    """Everything ``github_oidc_role`` was asked, validated: nothing invalid reaches AWS."""

    roles: tuple[CiRole, ...]
    subjects: tuple[str, ...]
    warnings: tuple[str, ...]
    path: str = "/"
    max_session_duration: int = 3600
    permissions_boundary: str | None = None
    description: str | None = None
    thumbprints: tuple[str, ...] | None = None
    trust_policy_max: int = TRUST_POLICY_DEFAULT_MAX
    roles_max: int = ROLES_DEFAULT_MAX


def ci_role_request(params: Mapping) -> CiRoleRequest:
    """Validate the module's parameters, every field at once; ``state: absent`` needs only the names."""
    problems = Problems()

    checked = problems.checked

    present = params.get("state", "present") == "present"
    per_repository = bool(params.get("per_repository"))
    subjects, warnings = checked(parse_subjects, params.get("subjects")) or ([], [])
    repos, roles = None, None
    if present or per_repository:
        repos = checked(parse_github_repos, params.get("github_repos"))
    path = checked(validate_role_path, params.get("path", "/"), "path")
    duration = checked(validate_max_session_duration, params.get("max_session_duration", 3600))
    boundary = params.get("permissions_boundary")
    if boundary is not None:
        checked(validate_policy_arn, boundary, "permissions_boundary")
    description = params.get("description")
    if description is not None:
        checked(validate_role_description, description, "description")
    thumbprints = params.get("thumbprints")
    if thumbprints is not None:
        if not 1 <= len(thumbprints) <= 5:
            problems.add("thumbprints", f"{thumbprints!r} must list 1 to 5 thumbprints, or be left out")
        for index, thumbprint in enumerate(thumbprints):
            if not isinstance(thumbprint, str) or not _THUMBPRINT.fullmatch(thumbprint):
                problems.add(join_path("thumbprints", index), f"{thumbprint!r} must be 40 hexadecimal characters")
    trust_max = checked(
        validate_quota,
        params.get("trust_policy_max", TRUST_POLICY_DEFAULT_MAX),
        "trust_policy_max",
        TRUST_POLICY_DEFAULT_MAX,
        TRUST_POLICY_QUOTA_MAX,
        "the account's trust policy length quota",
    )
    roles_max = checked(
        validate_quota,
        params.get("roles_max", ROLES_DEFAULT_MAX),
        "roles_max",
        ROLES_DEFAULT_MAX,
        ROLES_QUOTA_MAX,
        "the account's roles quota",
    )
    if repos is not None or not (present or per_repository):
        roles = checked(ci_roles, params.get("name"), repos or [], params.get("repositories"), per_repository)
    problems.raise_if_any()
    request = CiRoleRequest(
        roles=tuple(roles),
        subjects=tuple(subjects),
        warnings=tuple(warnings),
        path=path,
        max_session_duration=duration,
        permissions_boundary=boundary,
        description=description,
        thumbprints=tuple(thumbprints) if thumbprints is not None else None,
        trust_policy_max=trust_max,
        roles_max=roles_max,
    )
    if present and params.get("region"):
        ci_role_size_problems(request, params["region"]).raise_if_any()
    return request


def ci_role_size_problems(request: CiRoleRequest, region: str) -> Problems:
    """What IAM would refuse of the CI roles' documents, known before any call (an account id is always
    12 digits): each role's trust and push policy sizes, and per-repository roles over the roles quota."""
    problems = Problems()
    if len(request.roles) > request.roles_max:
        problems.add(
            "github_repos",
            f"{len(request.roles)} CI roles (one per repository) are more than the {request.roles_max} roles the "
            f"account allows; IAM's roles quota can be raised to {ROLES_QUOTA_MAX} in Service Quotas (then declare "
            "it with roles_max)",
        )
        return problems
    partition = partition_of(region)
    provider = github_provider_arn(partition, PLACEHOLDER_ACCOUNT)
    specs = ci_role_specs(
        request,
        provider,
        PLACEHOLDER_ACCOUNT,
        partition,
        region,
        {"policy_name": "p", "tags": None, "purge_tags": True},
    )
    for role, spec in zip(request.roles, specs, strict=True):
        fix = _fewer_per_role(request, role, provider, region) if len(role.github_repos) > 1 else "list fewer subjects"
        for problem in role_document_problems(
            role.name, spec.trust_policy, spec.policy, request.trust_policy_max, "github_repos", fix
        ):
            problems.add(problem.path, problem.message)
    return problems


def roles_quota_refusal(existing: int, creates: int, roles_max: int) -> str | None:
    """Why creating ``creates`` roles in an account holding ``existing`` would go over its roles quota, or None."""
    if existing + creates <= roles_max:
        return None
    return (
        f"Creating {creates} CI roles in an account that holds {existing} roles would go over its roles quota "
        f"({roles_max}; IAM's default is {ROLES_DEFAULT_MAX}, raisable to {ROLES_QUOTA_MAX} in Service Quotas, then "
        "declare it with roles_max). Nothing was changed."
    )


def _fewer_per_role(request: CiRoleRequest, role: CiRole, provider: str, region: str) -> str:
    """How many GitHub repositories fit one role's trust, from the size each one adds."""
    first = replace(role, github_repos=role.github_repos[:1])
    base = document_size(github_trust_policy(provider, first.github_repos, request.subjects))
    full = document_size(github_trust_policy(provider, role.github_repos, request.subjects))
    each = (full - base) / (len(role.github_repos) - 1)
    fit = max(1, 1 + int((request.trust_policy_max - base) // each)) if each > 0 else len(role.github_repos)
    return (
        f"about {fit} of these {len(role.github_repos)} GitHub repositories fit one role with "
        f"{len(request.subjects)} subject(s); set per_repository: true (one small role per repository)"
    )


def ci_role_description(repositories: Sequence[str]) -> str:
    """What a new CI role says it is for: the repositories it pushes to, when that fits IAM's limit."""
    listed = f"GitHub Actions OIDC: push to ECR {', '.join(repositories)} (cloudops.ecr)"
    return listed if is_valid_role_description(listed) else "GitHub Actions OIDC: push to ECR (cloudops.ecr)"


def ci_role_specs(
    request: CiRoleRequest,
    provider_arn: str,
    account_id: str,
    partition: str,
    region: str,
    settings: Mapping,
) -> list[RoleSpec]:
    """The documents of every CI role (trust from the repos and subjects, push on the repository
    ARNs). ``settings`` holds policy_name, tags and purge_tags."""
    specs = []
    for role in request.roles:
        arns = [repository_arn(partition, region, account_id, name) for name in role.repositories]
        trust = github_trust_policy(provider_arn, role.github_repos, request.subjects)
        policy = ecr_push_policy(arns, "repositories")
        specs.append(
            RoleSpec(
                name=role.name,
                path=request.path,
                trust_policy=trust,
                policy_name=settings["policy_name"],
                policy=policy,
                max_session_duration=request.max_session_duration,
                description=request.description,
                new_role_description=ci_role_description(role.repositories),
                permissions_boundary=request.permissions_boundary,
                tags=settings["tags"],
                purge_tags=settings["purge_tags"],
            )
        )
    return specs


def ci_role_entry(role: CiRole, arn: str | None, present: bool, changes: list[str], subjects: Sequence[str]) -> dict:
    """One CI role as ``github_oidc_role`` returns it."""
    return {
        "name": role.name,
        "arn": arn,
        "github_repos": [r.claim_name for r in role.github_repos],
        "repositories": list(role.repositories),
        "subjects": github_subject_claims(role.github_repos, subjects) if role.github_repos else [],
        "state": "present" if present else "absent",
        "changed": bool(changes),
        "changes": changes,
    }
