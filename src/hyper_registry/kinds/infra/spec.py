"""The infra kind's spec: an infrastructure-as-code template, inline or by digest."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, model_validator

from hyper_registry.core.envelope import Strict
from hyper_registry.kinds.common import Digest, choice, invalid, max_bytes, named

MAX_SOURCE_BYTES = 1024 * 1024
"""The largest inline template source; bigger templates are uploaded and given by digest."""

TemplateType = Literal["terraform", "helm", "cloudformation", "ansible"]
TEMPLATE_TYPES: tuple[str, ...] = get_args(TemplateType)


def _source(value: str) -> str:
    if not value.strip():
        raise invalid("bad-source", "source must not be empty")
    if "\x00" in value:
        raise invalid("bad-source", "source must not contain NUL characters")
    return value


ParameterName = Annotated[str, Field(min_length=1, max_length=256)]


class InfraSpec(Strict):
    templateType: Annotated[TemplateType, choice("templateType", TemplateType)]
    providers: list[Annotated[str, named("provider", 63)]] = Field(
        default_factory=list, max_length=64, description="aws, google, azurerm, kubernetes, ..."
    )
    source: (
        Annotated[str, AfterValidator(_source), max_bytes("source", MAX_SOURCE_BYTES)] | None
    ) = None
    sourceDigest: Digest | None = Field(
        default=None, description="the digest of an uploaded template, instead of source"
    )
    parameters: dict[ParameterName, Any] = Field(default_factory=dict, max_length=1000)

    @model_validator(mode="after")
    def _one_source(self) -> InfraSpec:
        if (self.source is None) == (self.sourceDigest is None):
            got = "both" if self.source is not None else "neither"
            raise invalid("bad-source", f"give exactly one of source or sourceDigest; got {got}")
        return self
