# -*- coding: utf-8 -*-
# Copyright: cloudops.ecr contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ECR actions each kind of access needs, defined once for identity and repository policies."""

from __future__ import annotations

# What pulling an image takes (AWS ECR_on_EKS: what a node needs).
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# Pull, plus uploading layers and manifests.
ECR_PUSH_ACTIONS = (
    *ECR_PULL_ACTIONS,
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# AWS's documented minimum for pushing (ECR user guide, image-push-iam): no layer download.
ECR_PUSH_MINIMUM_ACTIONS = tuple(sorted(set(ECR_PUSH_ACTIONS) - {"ecr:GetDownloadUrlForLayer"}))
# What a registry watcher (ArgoCD Image Updater) reads: tags, manifests, config blobs.
ECR_READ_ACTIONS = tuple(
    sorted({*ECR_PULL_ACTIONS, "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:ListImages"})
)
# The only ECR action that exists on "*" alone (it names no repository).
ECR_AUTHORIZATION_ACTION = "ecr:GetAuthorizationToken"
