"""The security kind's spec: one record of type ``sbom``, ``vulnerability`` or ``vex``.

``SecuritySpec`` is a root model over the three record models, chosen by ``type``.
It picks the record model itself so that error locations are the paths the user
wrote (``linkedArtifact``, not ``sbom.linkedArtifact`` as a tagged union reports).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ModelWrapValidatorHandler, RootModel, model_validator
from pydantic_core import ValidationError

from hyper_registry.kinds.common import invalid
from hyper_registry.kinds.security.sbom import SbomSpec
from hyper_registry.kinds.security.vex import VexSpec
from hyper_registry.kinds.security.vulnerability import VulnerabilitySpec

SecurityRecord = SbomSpec | VulnerabilitySpec | VexSpec

RECORD_TYPES: dict[str, type[SbomSpec] | type[VulnerabilitySpec] | type[VexSpec]] = {
    "sbom": SbomSpec,
    "vulnerability": VulnerabilitySpec,
    "vex": VexSpec,
}


class SecuritySpec(RootModel[Annotated[SecurityRecord, Field(discriminator="type")]]):
    """A security record; ``.root`` is the :class:`SbomSpec`, :class:`VulnerabilitySpec` or
    :class:`VexSpec`."""

    @model_validator(mode="wrap")
    @classmethod
    def _by_type(cls, value: Any, handler: ModelWrapValidatorHandler[SecuritySpec]) -> SecuritySpec:
        if not isinstance(value, dict):
            return handler(value)
        record_type = value.get("type")
        model = RECORD_TYPES.get(record_type) if isinstance(record_type, str) else None
        if model is None:
            known = ", ".join(RECORD_TYPES)
            message = (
                f"type is required: one of {known}"
                if record_type is None
                else f"type {record_type!r} is not one of: {known}"
            )
            raise ValidationError.from_exception_data(
                cls.__name__,
                [{"type": invalid("bad-choice", message), "loc": ("type",), "input": record_type}],
            )
        return cls.model_construct(model.model_validate(value))
