"""The infra kind: template type, providers, source or digest, parameters."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry.kinds.infra import KIND, TEMPLATE_TYPES, InfraSpec
from hyper_registry.kinds.infra.spec import MAX_SOURCE_BYTES

from .kindcheck import check, only

TF = 'resource "aws_s3_bucket" "b" { bucket = "b" }\n'
DIGEST = "sha256:" + "0f" * 32


def spec(**fields: Any) -> dict[str, Any]:
    return {"templateType": "terraform", "source": TF, **fields}


# Templates are parsed at registration (issue 7), so each type needs a source of its own.
SOURCES = {
    "terraform": TF,
    "helm": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "cloudformation": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n",
    "ansible": "- hosts: all\n  tasks:\n    - ping:\n",
}


@pytest.mark.parametrize("template_type", TEMPLATE_TYPES)
def test_template_types(template_type: str) -> None:
    source = SOURCES[template_type]
    assert check("infra", spec(templateType=template_type, source=source)) == []


def test_unknown_template_type_refused() -> None:
    assert only(check("infra", spec(templateType="pulumi"))) == (
        "spec.templateType",
        "templateType 'pulumi' is not one of: terraform, helm, cloudformation, ansible",
    )


def test_source_or_digest() -> None:
    assert check("infra", {"templateType": "helm", "sourceDigest": DIGEST}) == []
    assert only(check("infra", spec(sourceDigest=DIGEST))) == (
        "spec",
        "give exactly one of source or sourceDigest; got both",
    )
    assert only(check("infra", {"templateType": "helm"})) == (
        "spec",
        "give exactly one of source or sourceDigest; got neither",
    )
    assert only(check("infra", {"templateType": "helm", "sourceDigest": "sha256:zz"})) == (
        "spec.sourceDigest",
        "digest 'sha256:zz' must be 'sha256:' followed by 64 lowercase hex digits",
    )


def test_source_limits() -> None:
    assert only(check("infra", spec(source="  \n"))) == ("spec.source", "source must not be empty")
    assert only(check("infra", spec(source="a\x00b"))) == (
        "spec.source",
        "source must not contain NUL characters",
    )
    big = "#" * (MAX_SOURCE_BYTES + 1)
    assert only(check("infra", spec(source=big))) == (
        "spec.source",
        f"source is {MAX_SOURCE_BYTES + 1} bytes; the limit is {MAX_SOURCE_BYTES} bytes",
    )
    # the limit counts bytes, not characters
    assert only(check("infra", spec(source="é" * (MAX_SOURCE_BYTES // 2 + 1))))[0] == "spec.source"


def test_providers() -> None:
    assert check("infra", spec(providers=["aws", "google", "azurerm", "kubernetes"])) == []
    assert only(check("infra", spec(providers=["AWS"]))) == (
        "spec.providers[0]",
        "provider 'AWS' must use lowercase letters, digits, '-', '_' and '.', "
        "and start and end with a letter or digit",
    )
    assert only(check("infra", spec(providers=["aws", "aws"]))) == (
        "spec.providers[1]",
        "provider 'aws' is listed twice (first at spec.providers[0])",
    )


def test_parameters() -> None:
    params = {"region": "eu-west-1", "replicas": 3, "tags": {"team": "edge"}, "zones": ["a", "b"]}
    infra = InfraSpec.model_validate(spec(parameters=params))
    assert infra.parameters == params
    (problem,) = check("infra", spec(parameters={"": 1}))
    assert problem.loc == ("spec", "parameters", "", "[key]")  # Pydantic's location of a dict key


def test_no_implied_relations() -> None:
    assert KIND.relations_of(InfraSpec.model_validate(spec())) == []


def test_unknown_fields_refused() -> None:
    assert only(check("infra", spec(resources=[]))) == (
        "spec.resources",
        "Extra inputs are not permitted",
    )
