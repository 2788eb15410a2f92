# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hand-off files: what a team needs to wire each GitHub repository's CI and ArgoCD Image Updater
to the registry, generated from a registry run's outputs. Pure: text in, text out.

``handoff_files(outputs, settings)`` returns ``{relative path: file text}``:

- ``workflows/<owner>/<repo>.yml``: a GitHub Actions workflow that pushes the repository's image with
  the CI role, on the triggers the role's trust admits and nothing else;
- ``image-updater/<environment>/``: registries.conf, the ECR login script, argo-helm chart values,
  an ``ImageUpdater`` resource (v1.x), Application annotations (v0.x) and a README naming the service
  account the Pod Identity association targets.

Tags: every run pushes ``sha-<commit>`` (``pr-<number>-<commit>`` for a pull request), a tag push
also the git tag, and ``latest`` (default branch) only where ECR lets that tag move. A tag ECR keeps
immutable that already exists is left out, so a re-run of the same commit pushes nothing and cannot
be refused; ``pushed_tags`` is that rule, and the workflow's tag step is generated from the same
``TagMutability``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ansible_collections.cloudops.ecr.plugins.module_utils._rules.github import (
    GithubRepo,
    ci_roles,
    parse_github_repos,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.problems import (
    InvalidInput,
    Problem,
    Problems,
    join_path,
)
from ansible_collections.cloudops.ecr.plugins.module_utils._rules.repository import (
    DEFAULT_MUTABILITY,
    EXCLUSION_FILTER_RE,
    MUTABILITY,
    repository_name_for_github,
)

DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")
DEFAULT_NAMESPACE = "argocd"
DEFAULT_SERVICE_ACCOUNT = "argocd-image-updater"
DEFAULT_CI_ROLE_NAME = "github-actions"
DEFAULT_SUBJECTS = ("ref:refs/heads/main",)
UPDATE_STRATEGIES = ("semver", "newest-build")
CACHE_TAG = "buildcache"
LATEST_TAG = "latest"
LOGIN_SCRIPT = "ecr-login.sh"
SCRIPTS_DIR = "/scripts"  # where the argo-helm chart mounts authScripts.scripts
CREDS_EXPIRE = "10h"  # an ECR token lasts 12 hours
# The OCI tag grammar; the workflow's shell checks a git tag against the same text (grep -E).
IMAGE_TAG_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
# What the Image Updater may deploy, per strategy: never latest, buildcache or a pull request's build.
ALLOW_TAGS = {"newest-build": "regexp:^sha-[0-9a-f]{40,64}$", "semver": r"regexp:^v?[0-9]+\.[0-9]+\.[0-9]+$"}
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?")
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_GITHUB_FILTER_SPECIAL = re.compile(r"([?+\[\]!\\])")
_TAGS_DELIMITER = "CLOUDOPS_ECR_TAGS"
_SUBJECT_TRIGGERS = (("ref:refs/heads/", "branches"), ("ref:refs/tags/", "tags"), ("environment:", "environments"))
# The actions' current majors (node24: GitHub stopped running node20 actions in September 2026).
ACTIONS = {
    "checkout": "actions/checkout@v7",
    "credentials": "aws-actions/configure-aws-credentials@v6",
    "ecr_login": "aws-actions/amazon-ecr-login@v2",
    "qemu": "docker/setup-qemu-action@v4",
    "buildx": "docker/setup-buildx-action@v4",
    "build_push": "docker/build-push-action@v7",
}


@dataclass(frozen=True)
class TagMutability:
    """A repository's ``image_tag_mutability`` and exclusion filters: which tags a push may move."""

    mode: str = DEFAULT_MUTABILITY
    exclusions: tuple[str, ...] = ()

    def is_immutable(self, tag: str) -> bool:
        """Whether ECR refuses pushing ``tag`` again once it exists (filters: ``*`` is any characters)."""
        if self.mode in ("MUTABLE", "IMMUTABLE"):
            return self.mode == "IMMUTABLE"
        excluded = any(_wildcard(pattern).fullmatch(tag) for pattern in self.exclusions)
        return excluded != (self.mode == "IMMUTABLE_WITH_EXCLUSION")


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


@dataclass(frozen=True)
class Triggers:
    """The workflow triggers the CI role's trust admits, from its ``sub`` suffixes."""

    branches: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    pull_request: bool = False
    unmapped: tuple[str, ...] = ()

    @property
    def by_event(self) -> bool:
        """Whether a push or a pull request runs the workflow (not only a run by hand in an environment)."""
        return bool(self.branches or self.tags or self.pull_request)


def workflow_triggers(subjects: Sequence[str]) -> Triggers:
    """``ref:refs/heads/B`` -> push to B, ``ref:refs/tags/T`` -> push of T, ``environment:E`` -> a job in
    environment E (run by hand: its token's ``sub`` names the environment, whatever the event),
    ``pull_request`` -> pull_request; anything else is listed as unmapped."""
    found: dict[str, list[str]] = {"branches": [], "tags": [], "environments": [], "unmapped": []}
    for subject in subjects:
        kind, value = next(
            ((k, subject[len(p) :]) for p, k in _SUBJECT_TRIGGERS if subject.startswith(p) and subject != p),
            ("unmapped", subject),
        )
        if subject != "pull_request":
            found[kind].append(value)
    return Triggers(
        **{kind: tuple(dict.fromkeys(values)) for kind, values in found.items()},
        pull_request="pull_request" in subjects,
    )


def github_filter(iam_pattern: str) -> str:
    """An IAM StringLike ref pattern as a GitHub branch/tag filter matching the same refs: IAM's ``*``
    crosses ``/`` like GitHub's ``**``; GitHub's other special characters are escaped."""
    return "**".join(_GITHUB_FILTER_SPECIAL.sub(r"\\\1", part) for part in iam_pattern.split("*"))


@dataclass(frozen=True)
class CiRun:
    """What a workflow run knows when it picks its tags (``github.event_name``, ``github.ref``, ...)."""

    event: str
    ref: str
    sha: str
    default_branch: str = "main"
    pr_number: int | None = None


def candidate_tags(run: CiRun, mutability: TagMutability) -> list[str]:
    """Every tag a run would push before it looks at what the repository holds."""
    tags = [f"pr-{run.pr_number}-{run.sha}" if run.event == "pull_request" else f"sha-{run.sha}"]
    if run.ref.startswith("refs/tags/"):
        version = run.ref[len("refs/tags/") :]
        if re.search(IMAGE_TAG_PATTERN, version):
            tags.append(version)
    if run.ref == f"refs/heads/{run.default_branch}" and not mutability.is_immutable(LATEST_TAG):
        tags.append(LATEST_TAG)
    return tags


def pushed_tags(run: CiRun, mutability: TagMutability, existing: Sequence[str] = ()) -> list[str]:
    """The tags a run pushes: its candidates less those ECR keeps immutable that already exist
    (``existing``: the repository's tags when the run starts). Empty: the run builds nothing."""
    present = set(existing)
    return [tag for tag in candidate_tags(run, mutability) if not (mutability.is_immutable(tag) and tag in present)]


@dataclass(frozen=True)
class HandoffSettings:
    """How the registry was asked for: the CI trust, the repositories' mutability, the Image Updater."""

    ci_subjects: tuple[str, ...] = DEFAULT_SUBJECTS
    ci_role_name: str = DEFAULT_CI_ROLE_NAME
    per_repository: bool = False
    mutability: Mapping[str, TagMutability] | None = None
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    namespace: str = DEFAULT_NAMESPACE
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    update_strategy: str | None = None
    applications: Mapping[str, str] | None = None

    def mutability_of(self, repository: str) -> TagMutability:
        return (self.mutability or {}).get(repository, TagMutability())


def handoff_settings(
    ci_subjects: object = None,
    ci_role_name: object = None,
    per_repository: object = False,
    mutability: object = None,
    platforms: object = None,
    namespace: object = None,
    service_account: object = None,
    update_strategy: object = None,
    applications: object = None,
) -> HandoffSettings:
    """Validated settings; every problem at once, named by the argument."""
    problems = Problems()
    subjects = DEFAULT_SUBJECTS if ci_subjects is None else ci_subjects
    if not isinstance(subjects, (list, tuple)) or not all(isinstance(s, str) for s in subjects):
        problems.add("ci_subjects", f"{subjects!r} must be a list of subjects such as 'ref:refs/heads/main'")
        subjects = ()
    role_name = DEFAULT_CI_ROLE_NAME if ci_role_name is None else ci_role_name
    if not isinstance(role_name, str) or not role_name:
        problems.add("ci_role_name", f"{role_name!r} must be the CI role's name (a template with per_repository)")
    if not isinstance(per_repository, bool):
        problems.add("per_repository", f"{per_repository!r} must be true or false")
    chosen_platforms = DEFAULT_PLATFORMS if platforms is None else platforms
    if not isinstance(chosen_platforms, (list, tuple)) or not chosen_platforms:
        problems.add("platforms", f"{chosen_platforms!r} must be a non-empty list such as ['linux/amd64']")
        chosen_platforms = ()
    for index, platform in enumerate(chosen_platforms):
        if not isinstance(platform, str) or not _PLATFORM.fullmatch(platform):
            problems.add(join_path("platforms", index), f"{platform!r} must be 'os/arch' or 'os/arch/variant'")
    chosen_namespace = namespace or DEFAULT_NAMESPACE
    chosen_account = service_account or DEFAULT_SERVICE_ACCOUNT
    for name, value in (("namespace", chosen_namespace), ("service_account", chosen_account)):
        if not isinstance(value, str) or not _K8S_NAME.fullmatch(value):
            problems.add(name, f"{value!r} must be a Kubernetes name: lowercase letters, digits and '-', 1-63")
    if update_strategy is not None and update_strategy not in UPDATE_STRATEGIES:
        problems.add("update_strategy", f"{update_strategy!r} must be one of {', '.join(UPDATE_STRATEGIES)}")
    if applications is not None and not (
        isinstance(applications, Mapping) and all(isinstance(v, str) and v for v in applications.values())
    ):
        problems.add("applications", f"{applications!r} must map 'owner/repo' to an Argo CD Application name")
    parsed = _mutability(mutability, problems)
    problems.raise_if_any()
    return HandoffSettings(
        ci_subjects=tuple(subjects),
        ci_role_name=role_name,
        per_repository=per_repository,
        mutability=parsed,
        platforms=tuple(chosen_platforms),
        namespace=chosen_namespace,
        service_account=chosen_account,
        update_strategy=update_strategy,
        applications=dict(applications or {}),
    )


def _mutability(value: object, problems: Problems) -> dict[str, TagMutability]:
    """``{ECR name: {image_tag_mutability, exclusions | mutability_exclusions}}``; a filter is a string
    or ECR's ``{filterType: WILDCARD, filter}``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add("mutability", f"{value!r} must map ECR repository names to their tag mutability")
        return {}
    parsed = {}
    for name, entry in value.items():
        path = join_path("mutability", str(name))
        entry = entry if isinstance(entry, Mapping) else {"image_tag_mutability": entry}
        mode = entry.get("image_tag_mutability") or DEFAULT_MUTABILITY
        if mode not in MUTABILITY:
            problems.add(join_path(path, "image_tag_mutability"), f"{mode!r} must be one of {', '.join(MUTABILITY)}")
            continue
        raw = entry.get("exclusions", entry.get("mutability_exclusions")) or []
        filters = []
        for index, item in enumerate(raw if isinstance(raw, (list, tuple)) else [raw]):
            text = item.get("filter") if isinstance(item, Mapping) else item
            if not isinstance(text, str) or not EXCLUSION_FILTER_RE.fullmatch(text):
                problems.add(join_path(join_path(path, "exclusions"), index), f"{item!r} is not an ECR wildcard filter")
                continue
            filters.append(text)
        if mode.endswith("_WITH_EXCLUSION") and not filters:
            problems.add(join_path(path, "exclusions"), f"{mode} needs at least one exclusion filter")
        parsed[str(name)] = TagMutability(mode, tuple(filters))
    return parsed


# ----------------------------------------------------------------------------------------------------
# Files


def handoff_files(outputs: Mapping, settings: HandoffSettings) -> dict[str, str]:
    """Every hand-off file, by path relative to the hand-off directory."""
    if not isinstance(outputs, Mapping) or not isinstance(outputs.get("github_repository_urls"), Mapping):
        raise InvalidInput([Problem("outputs", "must be the registry's outputs (ecr_registry_outputs)")])
    repos = github_repositories(outputs)
    roles = _role_of_each(repos, settings)
    triggers = workflow_triggers(settings.ci_subjects)
    files = {
        f"workflows/{repo.full_name}.yml": ci_workflow(outputs, repo, roles[repo.claim_name], triggers, settings)
        for repo in repos
    }
    files.update(image_updater_files(outputs, repos, triggers, settings))
    return files


def github_repositories(outputs: Mapping) -> list[GithubRepo]:
    """The outputs' GitHub repositories, by name; the classic and immutable forms of one count once."""
    keys = list(outputs["github_repository_urls"])
    problems = Problems()
    parsed = problems.checked(parse_github_repos, keys, "outputs.github_repository_urls") if keys else []
    problems.raise_if_any()
    unique: dict[str, GithubRepo] = {}
    for repo in parsed:
        unique.setdefault(repo.full_name.lower(), repo)
    return [unique[name] for name in sorted(unique)]


def _role_of_each(repos: Sequence[GithubRepo], settings: HandoffSettings) -> dict[str, str]:
    """The CI role admitting each GitHub repository (by claim name), named as github_oidc_role names it."""
    if not repos:
        return {}
    roles = ci_roles(settings.ci_role_name, repos, None, settings.per_repository)
    return {repo.claim_name: role.name for role in roles for repo in role.github_repos}


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(value)


def _line(text: str) -> str:
    """``text`` safe inside a one-line comment."""
    return " ".join(str(text).split())


def _header(outputs: Mapping, what: str, environment: bool = True) -> list[str]:
    """The first lines of a generated file. A workflow serves every environment (one registry, one CI
    role): it names none, so that each environment's run writes the same file."""
    where = f"environment {_line(outputs.get('environment'))}, " if environment else ""
    return [
        f"# Generated by cloudops.ecr from the registry's outputs: {where}"
        f"account {_line(outputs.get('account_id'))}, region {_line(outputs.get('region'))}.",
        f"# {what}. Regenerate it from a new run's outputs rather than edit it.",
    ]


def repository_url(outputs: Mapping, repo: GithubRepo) -> str | None:
    """The URL of ``repo``'s ECR repository, whichever form of its name the outputs key it by."""
    urls = outputs.get("github_repository_urls") or {}
    by_name = {repository_name_for_github(str(key)): url for key, url in urls.items()}
    return by_name.get(repo.ecr_repository_name)


def registry_host(outputs: Mapping) -> str | None:
    account, region = outputs.get("account_id"), outputs.get("region")
    return f"{account}.dkr.ecr.{region}.amazonaws.com" if account and region else None


def ci_workflow(
    outputs: Mapping, repo: GithubRepo, role_name: str, triggers: Triggers, settings: HandoffSettings
) -> str:
    """The GitHub Actions workflow that builds and pushes ``repo``'s image to its ECR repository."""
    repository = repo.ecr_repository_name
    mutability = settings.mutability_of(repository)
    url = repository_url(outputs, repo)
    role_arns = outputs.get("ci_role_arns") or {}
    role_arn = role_arns.get(role_name)
    account, region = outputs.get("account_id"), outputs.get("region")
    unknown = []
    if not account or not region:
        unknown.append("the registry's account and region are not in the outputs")
    if not url:
        unknown.append(f"the ECR repository {repository} does not exist yet (check mode): no URL")
    if not role_arn:
        unknown.append(
            f"the CI role {role_name} does not exist yet (check mode): no ARN"
            if role_name in role_arns
            else f"the outputs hold no CI role {role_name} (ci_role_arns: {', '.join(role_arns) or 'none'})"
        )
    registry_cache = not mutability.is_immutable(CACHE_TAG)
    lines = [
        *_header(outputs, f"CI for {repo.full_name}", environment=False),
        f"# Save it in {repo.full_name} as .github/workflows/ecr-image.yml. It builds the image of the Dockerfile",
        f"# at the repository's root and pushes it to the ECR repository {repository} ({mutability.mode}).",
        "# Tags: sha-<commit> on every run (pr-<number>-<commit> for a pull request), the git tag on a tag push"
        + (", latest on the default branch" if not mutability.is_immutable(LATEST_TAG) else "")
        + ".",
        "# A tag ECR keeps immutable that already exists is not pushed again: a re-run of a commit pushes nothing.",
        f"# The CI role {role_name} trusts this repository for: {', '.join(settings.ci_subjects) or 'nothing'}.",
        *[f"# UNKNOWN: {_line(reason)}; regenerate after a run that applied." for reason in unknown],
        *_trigger_comments(triggers),
        "name: Image to ECR",
        *_on(triggers),
        "permissions:",
        "  id-token: write",
        "  contents: read",
        "# One run per commit at a time, so two runs of one commit do not race for the same immutable tag.",
        "concurrency:",
        "  group: ${{ github.workflow }}-${{ github.sha }}",
        "  cancel-in-progress: false",
        "env:",
        f"  REGISTRY_ID: {_q(str(account))}" if account else "  # REGISTRY_ID: unknown (see UNKNOWN above)",
        f"  REPOSITORY_NAME: {_q(repository)}",
        f"  IMAGE: {_q(url)}" if url else "  # IMAGE: unknown (see UNKNOWN above)",
        "jobs:",
    ]
    steps = _steps(role_arn, account, region, mutability, registry_cache, settings.platforms, unknown)
    both = triggers.by_event and triggers.environments
    if triggers.by_event or not triggers.environments:
        lines += ["  image:"]
        if both:
            lines += ["    if: github.event_name != 'workflow_dispatch'"]
        lines += ["    runs-on: ubuntu-latest", "    steps:", *steps]
    if triggers.environments:
        lines += [
            "  image-in-environment:",
            "    # The token's sub is then repo:OWNER/REPO:environment:NAME, whatever branch the run is on.",
        ]
        if both:
            lines += ["    if: github.event_name == 'workflow_dispatch'"]
        lines += [
            "    environment: ${{ inputs.environment }}",
            "    runs-on: ubuntu-latest",
            "    steps:",
            *steps,
        ]
    return "\n".join(lines) + "\n"


def _trigger_comments(triggers: Triggers) -> list[str]:
    lines = [f"# Not a trigger: the trust's subject {_q(s)} maps to no workflow event." for s in triggers.unmapped]
    if triggers.pull_request:
        lines.append(
            "# pull_request: the trust admits every pull request's run, code nobody has reviewed yet (GitHub gives"
        )
        lines.append("# no OIDC token to pull requests from forks).")
    if not triggers.by_event and not triggers.environments:
        lines.append(
            "# NO TRIGGER: no subject of the CI role's trust maps to a workflow event; this workflow runs only by"
        )
        lines.append(
            "# hand, and AWS refuses its token until the trust admits a branch, tag, environment or pull_request."
        )
    return lines


def _on(triggers: Triggers) -> list[str]:
    lines = ["on:"]
    if triggers.branches or triggers.tags:
        lines.append("  push:")
        for key, patterns in (("branches", triggers.branches), ("tags", triggers.tags)):
            if patterns:
                lines.append(f"    {key}:")
                lines += [f"      - {_q(github_filter(p))}" for p in patterns]
    if triggers.pull_request:
        lines.append("  pull_request:")
    if triggers.environments:
        exact = all("*" not in name for name in triggers.environments)
        lines += [
            "  workflow_dispatch:",
            "    inputs:",
            "      environment:",
            f"        description: {_q('GitHub environment the CI role trusts: ' + ', '.join(triggers.environments))}",
            "        required: true",
        ]
        if exact:
            lines += [
                "        type: choice",
                "        options:",
                *[f"          - {_q(e)}" for e in triggers.environments],
            ]
        else:
            lines += ["        type: string"]
    if len(lines) == 1:
        lines.append("  workflow_dispatch:")
    return lines


def _steps(
    role_arn: str | None,
    account: str | None,
    region: str | None,
    mutability: TagMutability,
    registry_cache: bool,
    platforms: Sequence[str],
    unknown: Sequence[str],
) -> list[str]:
    lines = []
    if unknown:
        lines += [
            "      - name: Refuse to run with values the registry run did not know",
            "        run: |",
            *[f"          echo {_shell_quote('::error::' + _line(reason))}" for reason in unknown],
            "          exit 1",
        ]
    lines += [
        "      - name: Check out",
        f"        uses: {ACTIONS['checkout']}",
        "        with:",
        "          persist-credentials: false",
        "      - name: AWS credentials of the CI role",
        f"        uses: {ACTIONS['credentials']}",
        "        with:",
        f"          role-to-assume: {_q(role_arn)}" if role_arn else "          # role-to-assume: UNKNOWN",
        f"          aws-region: {_q(region or '')}",
        "      - name: Log in to the registry",
        f"        uses: {ACTIONS['ecr_login']}",
        "        with:",
        f"          registries: {_q(str(account or ''))}",
        "      - name: Image tags",
        "        id: tags",
        "        env:",
        "          EVENT: ${{ github.event_name }}",
        "          REF: ${{ github.ref }}",
        "          SHA: ${{ github.sha }}",
        "          DEFAULT_BRANCH: ${{ github.event.repository.default_branch }}",
        "          PR_NUMBER: ${{ github.event.pull_request.number }}",
        "        run: |",
        *[f"          {line}" if line else "" for line in tag_script(mutability)],
    ]
    pushing = "steps.tags.outputs.tags != ''"
    if any(platform.split("/")[1] != "amd64" for platform in platforms):
        lines += [
            f"      - name: QEMU, to build {', '.join(p for p in platforms if p.split('/')[1] != 'amd64')}",
            f"        if: {pushing}",
            f"        uses: {ACTIONS['qemu']}",
        ]
    lines += [
        "      - name: Buildx",
        f"        if: {pushing}",
        f"        uses: {ACTIONS['buildx']}",
    ]
    if registry_cache:
        cache = [
            f"          # The cache lives in the repository under {CACHE_TAG}, a tag ECR lets each run move.",
            f"          cache-from: type=registry,ref=${{{{ env.IMAGE }}}}:{CACHE_TAG}",
            f"          cache-to: type=registry,ref=${{{{ env.IMAGE }}}}:{CACHE_TAG},mode=max,image-manifest=true,"
            "oci-mediatypes=true",
        ]
    else:
        cache = [
            f"          # GitHub's cache, not the registry's: {mutability.mode} refuses moving a {CACHE_TAG} tag.",
            f"          # Add the exclusion filter {CACHE_TAG} (IMMUTABLE_WITH_EXCLUSION) to cache in the repository.",
            "          cache-from: type=gha",
            "          cache-to: type=gha,mode=max",
        ]
    lines += [
        "      - name: Build and push",
        f"        if: {pushing}",
        f"        uses: {ACTIONS['build_push']}",
        "        with:",
        "          context: .",
        f"          platforms: {','.join(platforms)}",
        "          push: true",
        "          tags: ${{ steps.tags.outputs.tags }}",
        *cache,
    ]
    return lines


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def tag_script(mutability: TagMutability) -> list[str]:
    """The shell of the workflow's tag step: ``pushed_tags`` for the run's event, ref and commit, reading
    which immutable tags exist with ``aws ecr batch-get-image`` (BatchGetImage is in the push policy)."""
    lines = ["set -eu", *_immutable_function(mutability)]
    lines += [
        "exists() {",
        '  missing=$(aws ecr batch-get-image --registry-id "$REGISTRY_ID" --repository-name "$REPOSITORY_NAME" \\',
        '    --image-ids "imageTag=$1" --query "length(failures[?failureCode==\'ImageNotFound\'])" --output text) \\',
        "    || exit 1",
        '  [ "$missing" = 0 ]',
        "}",
        'tags=""',
        "add() {",
        '  if immutable "$1" && exists "$1"; then',
        '    echo "::notice::$IMAGE:$1 exists and ECR keeps it: not pushed again"',
        "  else",
        '    tags="$tags $IMAGE:$1"',
        "  fi",
        "}",
        'if [ "$EVENT" = pull_request ]; then add "pr-$PR_NUMBER-$SHA"; else add "sha-$SHA"; fi',
        'case "$REF" in',
        "  refs/tags/*)",
        '    version="${REF#refs/tags/}"',
        f"    if printf '%s\\n' \"$version\" | grep -Eq '{IMAGE_TAG_PATTERN}'; then",
        '      add "$version"',
        "    else",
        '      echo "::warning::git tag $version is not a valid image tag: not pushed as a tag"',
        "    fi",
        "    ;;",
        "esac",
    ]
    if not mutability.is_immutable(LATEST_TAG):
        lines.append(f'if [ "$REF" = "refs/heads/$DEFAULT_BRANCH" ]; then add {LATEST_TAG}; fi')
    lines += [
        'if [ -z "$tags" ]; then echo "::notice::every tag of this run exists: nothing to build"; fi',
        "{",
        f'  echo "tags<<{_TAGS_DELIMITER}"',
        '  for tag in $tags; do echo "$tag"; done',
        f'  echo "{_TAGS_DELIMITER}"',
        '} >> "$GITHUB_OUTPUT"',
    ]
    return lines


def _immutable_function(mutability: TagMutability) -> list[str]:
    """``immutable TAG``: succeeds when ECR refuses pushing TAG again, as ``TagMutability.is_immutable``."""
    if mutability.mode in ("MUTABLE", "IMMUTABLE"):
        verdict = 0 if mutability.mode == "IMMUTABLE" else 1
        return [f"immutable() {{ return {verdict}; }}  # {mutability.mode}"]
    matched, other = (1, 0) if mutability.mode == "IMMUTABLE_WITH_EXCLUSION" else (0, 1)
    return [
        f"immutable() {{  # {mutability.mode}: the exclusion filters ('*' is any characters)",
        '  case "$1" in',
        f"    {' | '.join(mutability.exclusions)}) return {matched} ;;",
        "  esac",
        f"  return {other}",
        "}",
    ]


# ----------------------------------------------------------------------------------------------------
# ArgoCD Image Updater


def update_strategy(triggers: Triggers, settings: HandoffSettings) -> str:
    """The Image Updater's strategy: semver on release tags when the trust admits tag pushes, else the
    newest commit build."""
    return settings.update_strategy or ("semver" if triggers.tags else "newest-build")


def image_alias(repo: GithubRepo) -> str:
    """An alias fit for an annotation key: lowercase letters, digits and '-', at most 40 characters."""
    alias = re.sub(r"[^a-z0-9]+", "-", repo.name.lower()).strip("-")[:40].strip("-")
    return alias or "image"


def pulled_from(outputs: Mapping) -> Mapping:
    """The outputs as the environment reads them: with its ``pull_region`` a replica region, that region
    and the replicas' URLs and ARNs in place of the registry's (the CI workflows keep the registry's)."""
    region = outputs.get("pull_region")
    replica = (outputs.get("replicas") or {}).get(region)
    if not replica or region == outputs.get("region"):
        return outputs
    urls, arns = replica.get("repository_urls") or {}, replica.get("repository_arns") or {}
    github = list(outputs.get("github_repository_urls") or {})
    return {
        **outputs,
        "region": region,
        "repository_urls": dict(urls),
        "repository_arns": dict(arns),
        "github_repository_urls": {key: urls.get(repository_name_for_github(key)) for key in github},
        "github_repository_arns": {key: arns.get(repository_name_for_github(key)) for key in github},
    }


def image_updater_files(
    outputs: Mapping, repos: Sequence[GithubRepo], triggers: Triggers, settings: HandoffSettings
) -> dict[str, str]:
    outputs = pulled_from(outputs)
    environment = outputs.get("environment") or "default"
    base = f"image-updater/{environment}"
    host = registry_host(outputs)
    region = outputs.get("region")
    registries = _registries_lines(outputs, host)
    script = _login_script(region)
    strategy = update_strategy(triggers, settings)
    return {
        f"{base}/registries.conf.yaml": "\n".join(
            [
                *_header(outputs, "The registries.conf of argocd-image-updater"),
                "# The value of the argocd-image-updater-config ConfigMap's registries.conf key (the argo-helm chart's",
                "# config.registries: see values.yaml). The registry is the REGISTRY's account and region (or its",
                "# replicas in the environment's region), wherever the Image Updater runs.",
                "registries:",
                *registries,
            ]
        )
        + "\n",
        f"{base}/{LOGIN_SCRIPT}": "\n".join(script) + "\n",
        f"{base}/values.yaml": _values(outputs, registries, script, settings),
        f"{base}/imageupdater.yaml": _image_updater_resource(outputs, repos, strategy, settings),
        f"{base}/annotations.yaml": _annotations(outputs, repos, strategy, settings),
        f"{base}/README.md": _service_account_readme(outputs, host, strategy, settings),
    }


def _registries_lines(outputs: Mapping, host: str | None) -> list[str]:
    if not host:
        return ["  []  # UNKNOWN: the registry's account and region are not in the outputs; regenerate"]
    return [
        f"  - name: {_q(f'ECR {outputs["account_id"]} {outputs["region"]}')}",
        f"    prefix: {_q(host)}",
        f"    api_url: {_q('https://' + host)}",
        "    ping: true",
        f"    credentials: {_q(f'ext:{SCRIPTS_DIR}/{LOGIN_SCRIPT}')}",
        f"    credsexpire: {_q(CREDS_EXPIRE)}",
    ]


def _login_script(region: str | None) -> list[str]:
    """``AWS:<token>`` on one line; the AWS CLI of the Image Updater's image finds Pod Identity credentials."""
    return [
        "#!/bin/sh",
        "# Generated by cloudops.ecr: ECR credentials for argocd-image-updater (credentials: "
        f"ext:{SCRIPTS_DIR}/{LOGIN_SCRIPT}).",
        "set -eu",
        f"token=$(aws ecr get-login-password --region {_shell_quote(region or '')})",
        "printf 'AWS:%s\\n' \"$token\"",
    ]


def _values(outputs: Mapping, registries: list[str], script: list[str], settings: HandoffSettings) -> str:
    role = outputs.get("image_updater_role_arn")
    return (
        "\n".join(
            [
                *_header(outputs, "Values for the argo-helm chart argocd-image-updater"),
                f"# helm upgrade --install argocd-image-updater argo/argocd-image-updater -n {settings.namespace} "
                "-f values.yaml",
                f"# The service account is named {settings.service_account}, the one the Pod Identity association "
                f"of {_line(role or 'the Image Updater role (unknown: not created yet)')} targets.",
                "serviceAccount:",
                "  create: true",
                f"  name: {_q(settings.service_account)}",
                "config:",
                "  registries:",
                *[f"  {line}" for line in registries],
                "authScripts:",
                "  enabled: true",
                "  scripts:",
                f"    {LOGIN_SCRIPT}: |",
                *[f"      {line}" for line in script],
            ]
        )
        + "\n"
    )


def _images(outputs: Mapping, repos: Sequence[GithubRepo]) -> list[tuple[GithubRepo, str | None]]:
    return [(repo, repository_url(outputs, repo)) for repo in repos]


def _application(repo: GithubRepo, settings: HandoffSettings) -> str:
    names = settings.applications or {}
    return names.get(repo.claim_name) or names.get(repo.full_name) or repo.name.lower()


def _image_updater_resource(
    outputs: Mapping, repos: Sequence[GithubRepo], strategy: str, settings: HandoffSettings
) -> str:
    lines = [
        *_header(outputs, "The ImageUpdater resource of argocd-image-updater v1.x"),
        f"# In {settings.namespace}, the namespace of the Argo CD Applications it updates (v1.0 also wanted",
        "# spec.namespace; later releases refuse it). namePattern: the Application deploying each image.",
        f"# {strategy}: " + ("the highest release tag vX.Y.Z." if strategy == "semver" else "the newest sha-<commit>."),
        "apiVersion: argocd-image-updater.argoproj.io/v1alpha1",
        "kind: ImageUpdater",
        "metadata:",
        f"  name: {_q('ecr-' + str(outputs.get('environment') or 'default'))}",
        f"  namespace: {_q(settings.namespace)}",
        "spec:",
    ]
    refs = []
    for repo, url in _images(outputs, repos):
        if not url:
            refs.append(f"    # {repo.full_name}: UNKNOWN, its ECR repository does not exist yet (check mode)")
            continue
        refs += [
            f"    - namePattern: {_q(_application(repo, settings))}",
            "      images:",
            f"        - alias: {_q(image_alias(repo))}",
            f"          imageName: {_q(url)}",
            "          commonUpdateSettings:",
            f"            updateStrategy: {_q(strategy)}",
            f"            allowTags: {_q(ALLOW_TAGS[strategy])}",
            "            platforms:",
            *[f"              - {_q(p)}" for p in settings.platforms],
        ]
    if not any(line.lstrip().startswith("- namePattern") for line in refs):
        refs.insert(0, "  applicationRefs: []  # no repository URL known yet: regenerate after a run that applied")
        return "\n".join(lines + refs) + "\n"
    return "\n".join([*lines, "  applicationRefs:", *refs]) + "\n"


def _annotations(outputs: Mapping, repos: Sequence[GithubRepo], strategy: str, settings: HandoffSettings) -> str:
    prefix = "argocd-image-updater.argoproj.io"
    lines = [
        *_header(outputs, "Application annotations for argocd-image-updater v0.13 to v0.18"),
        "# v0.x reads images from each Argo CD Application's annotations (v1.x: imageupdater.yaml instead).",
        "# By Application name, what to add to its metadata.annotations:",
    ]
    for repo, url in _images(outputs, repos):
        if not url:
            lines.append(f"# {repo.full_name}: UNKNOWN, its ECR repository does not exist yet (check mode)")
            continue
        alias = image_alias(repo)
        lines += [
            f"{_q(_application(repo, settings))}:",
            f"  {prefix}/image-list: {_q(f'{alias}={url}')}",
            f"  {prefix}/{alias}.update-strategy: {_q(strategy)}",
            f"  {prefix}/{alias}.allow-tags: {_q(ALLOW_TAGS[strategy])}",
            f"  {prefix}/{alias}.platforms: {_q(','.join(settings.platforms))}",
        ]
    if not any(line.startswith('"') for line in lines):
        lines.append("{}  # no repository URL known yet: regenerate after a run that applied")
    return "\n".join(lines) + "\n"


def _service_account_readme(outputs: Mapping, host: str | None, strategy: str, settings: HandoffSettings) -> str:
    role = outputs.get("image_updater_role_arn")
    env_account = outputs.get("environment_account_id") or outputs.get("account_id")
    return (
        "\n".join(
            [
                f"# ArgoCD Image Updater for {_line(outputs.get('environment'))}",
                "",
                "Generated by cloudops.ecr from the registry's outputs; regenerate rather than edit.",
                "",
                f"- Registry: `{host or 'unknown'}` (account {_line(outputs.get('account_id'))}, region "
                f"{_line(outputs.get('region'))}); the Image Updater reads it from account {_line(env_account)}.",
                f"- Service account: `{settings.namespace}/{settings.service_account}`, the one the EKS Pod "
                "Identity association targets.",
                f"- Role: `{role}`."
                if role
                else "- Role: unknown - the Image Updater role does not exist yet (check "
                "mode, or no Image Updater in this run); regenerate after a run that applied.",
                "",
                f"The Pod runs as `{settings.service_account}` only if the install names it so. The v1.x install "
                "manifests name it `argocd-image-updater-controller` and the argo-helm chart after the release: "
                f"`values.yaml` sets `serviceAccount.name: {settings.service_account}`; with the manifests, set "
                "ecr_registry_image_updater_service_account to `argocd-image-updater-controller` instead, put the",
                "registries of `registries.conf.yaml` under the `registries.conf` key of the",
                f"`argocd-image-updater-config` ConfigMap and mount `{LOGIN_SCRIPT}`, executable, at `{SCRIPTS_DIR}`.",
                "",
                "| file | what |",
                "| --- | --- |",
                "| `registries.conf.yaml` | the `registries.conf` key of the `argocd-image-updater-config` ConfigMap |",
                f"| `{LOGIN_SCRIPT}` | the credentials script, mounted at `{SCRIPTS_DIR}` (chart: `authScripts`) |",
                "| `values.yaml` | both, and the service account, for the argo-helm chart |",
                f"| `imageupdater.yaml` | v1.x: the `ImageUpdater` resource ({strategy}) |",
                "| `annotations.yaml` | v0.13 to v0.18: the Applications' annotations |",
            ]
        )
        + "\n"
    )
