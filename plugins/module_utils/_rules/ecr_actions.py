# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ECR actions each kind of access needs, defined once for identity and repository policies."""

from __future__ import annotations

# What pulling an image takes (AWS ECR_on_EKS: what a node needs).
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# Pull, plus uploading layers and manifests: AWS's push minimum (image-push-iam) and
# GetDownloadUrlForLayer, which a CI build reading its registry cache needs (amazon-ecr-login's set).
ECR_PUSH_ACTIONS = tuple(
    sorted(
        {
            *ECR_PULL_ACTIONS,
            "ecr:CompleteLayerUpload",
            "ecr:InitiateLayerUpload",
            "ecr:PutImage",
            "ecr:UploadLayerPart",
        }
    )
)
# What a registry watcher (ArgoCD Image Updater) reads: tags, manifests, config blobs.
ECR_READ_ACTIONS = tuple(
    sorted({*ECR_PULL_ACTIONS, "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:ListImages"})
)
# What an environment's account is granted in the registry's repository policies: pull, and listing
# the images (tags and digests), which a registry watcher in that account also needs from the
# registry's side when it reads across accounts.
ECR_ENVIRONMENT_READ_ACTIONS = tuple(sorted({*ECR_PULL_ACTIONS, "ecr:DescribeImages", "ecr:ListImages"}))
# The only ECR action that exists on "*" alone (it names no repository).
ECR_AUTHORIZATION_ACTION = "ecr:GetAuthorizationToken"
