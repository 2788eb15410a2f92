# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dev and pro on one registry: neither undoes the other, and a registry-wide setting has one source.

Both inventories converge the same repositories and the same CI role; each environment's CI subjects
are collected into the one trust, so dev, pro, then dev again ends with a third run that writes
nothing. A registry-wide variable in an environment's own files fails the run before any call,
naming the variable and the file.
"""

from __future__ import annotations

import json
import os
import shutil

from ansible_collections.cloudops.ecr.tests.integration.reliability.conftest import ROOT, site

ENVIRONMENT_SUBJECTS = {"dev": ["environment:dev"], "pro": ["environment:production"]}


def trust_subjects(aws, role: str = "github-actions") -> list[str]:
    document = aws.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    [statement] = document["Statement"]
    subjects = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    return sorted([subjects] if isinstance(subjects, str) else subjects)


def test_dev_then_pro_then_dev_again_the_third_run_writes_nothing(aws, recorded):
    extra = {"ecr_registry_ci_environment_subjects": ENVIRONMENT_SUBJECTS}
    for environment in ("dev", "pro"):
        converged = site(aws.env(), extra=extra, inventory=f"inventories/{environment}")
        assert converged.returncode == 0, converged.tail()
    after_pro = trust_subjects(aws)

    with recorded() as calls:
        again = site(aws.env(), extra=extra, inventory="inventories/dev")

    assert again.returncode == 0, again.tail()
    assert calls.writes == [] and again.recap()["changed"] == 0, calls.writes
    # Both environments' subjects in the one trust, for every repository: pro did not overwrite dev's.
    for repo in ("example-org/web-app", "example-org/api-service", "example-org/worker"):
        for subject in ("ref:refs/heads/main", "environment:dev", "environment:production"):
            assert f"repo:{repo}:{subject}" in after_pro, (repo, subject)
    assert trust_subjects(aws) == after_pro
    roles = {role["RoleName"] for role in aws.client("iam").list_roles()["Roles"]}
    assert {"github-actions", "argocd-image-updater-dev", "argocd-image-updater-pro"} <= roles


def test_a_registry_wide_setting_in_an_environment_inventory_fails_naming_it_and_its_file(aws, recorded, tmp_path):
    inventories = tmp_path / "inventories"
    shutil.copytree(os.path.join(ROOT, "inventories"), inventories, symlinks=True)
    own = inventories / "pro" / "group_vars" / "environments" / "lifecycle.yml"
    own.write_text("ecr_registry_lifecycle_rules:\n  - {tag_status: untagged, keep_last: 3}\n")

    with recorded() as calls:
        refused = site(aws.env(), inventory=str(inventories / "pro"))

    assert refused.returncode != 0
    assert calls.reads == [] and calls.writes == []
    text = " ".join(refused.output.split())
    assert "ecr_registry_lifecycle_rules" in text and "lifecycle.yml" in text, refused.tail()
    assert "inventories/shared/registry.yml" in text, refused.tail()
