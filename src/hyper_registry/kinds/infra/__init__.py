"""The ``infra`` kind: Terraform, Helm, CloudFormation and Ansible templates."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.infra.rules import no_repeats
from hyper_registry.kinds.infra.spec import TEMPLATE_TYPES, InfraSpec

KIND = KindSpec(
    name="infra",
    spec_model=InfraSpec,
    description="An infrastructure-as-code template (Terraform, Helm, CloudFormation, Ansible).",
    versioning="semver",
    rules=(no_repeats,),
)

__all__ = ["KIND", "TEMPLATE_TYPES", "InfraSpec"]
