"""ECR: the private repositories of the deployed images (seed 004, "Container Registry")."""

from __future__ import annotations

import re

import pytest

from gauntlet.cloud import ecr

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


@pytest.mark.check("aws.ecr.private")
def test_repository_is_private(repository_name, aws_configuration):
    """"These images are NOT publicly available.\": the repository is in the account's private registry and no
    policy statement lets anyone ("Principal": "*") pull without a condition."""
    repository = ecr.describe_repository(repository_name, aws_configuration)
    assert repository, f"ECR repository {repository_name}: expected it in the private registry, found none"
    public = ecr.public_statements(ecr.repository_policy(repository_name, aws_configuration))
    assert not public, (
        f"ECR repository {repository_name} ({repository.get('repositoryUri')}): policy: expected no anonymous pull, "
        f"found {public}")


@pytest.mark.check("aws.ecr.commit-tagged-images")
def test_repository_holds_images_of_master_commits(repository_name, aws_configuration):
    """"a Docker image for each of the Artifact Hub components is built and pushed to ECR for each commit to the
    master branch\": the repository holds images tagged with a commit SHA."""
    tags = ecr.image_tags(repository_name, aws_configuration)
    assert any(COMMIT_SHA.match(t) for t in tags), (
        f"ECR repository {repository_name}: image tags: expected 40-hex commit SHAs, found {tags[:10] or 'no image'}")
