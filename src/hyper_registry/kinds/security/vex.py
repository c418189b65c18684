"""Security records of type ``vex``: the triage of one vulnerability in one artifact."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from hyper_registry.core.envelope import Strict
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.common import LongText, Text, a, choice, invalid
from hyper_registry.kinds.security.ids import advisory_id_problem

VexState = Literal["not_affected", "affected", "fixed", "under_investigation"]


def _vulnerability(value: str) -> str:
    if "/" in value:
        try:
            ref = Ref.parse(value)
        except Invalid as exc:
            raise invalid("bad-vulnerability", f"vulnerability {exc.message}") from None
        if ref.kind != "security":
            raise invalid(
                "bad-ref-kind",
                f"vulnerability reference {value!r} must point at a security record, "
                f"not {a(ref.kind)}",
            )
        return value
    if advisory_id_problem(value) is None:
        return value
    raise invalid(
        "bad-vulnerability",
        f"vulnerability {value!r} is neither an advisory id (CVE-..., GHSA-..., an OSV id) "
        "nor a reference security:namespace/name[@version]",
    )


class VexSpec(Strict):
    type: Literal["vex"]
    vulnerability: Annotated[str, Field(max_length=512), AfterValidator(_vulnerability)] = Field(
        description="an advisory id, or a reference to a security record"
    )
    artifact: Ref = Field(description="the artifact the statement is about")
    state: Annotated[VexState, choice("state", VexState)]
    justification: Text | None = Field(
        default=None, description="why not affected, like vulnerable_code_not_in_execute_path"
    )
    statement: LongText | None = None

    @property
    def vulnerability_ref(self) -> Ref | None:
        """The vulnerability as a reference, or None when it is given by advisory id."""
        return Ref.parse(self.vulnerability) if "/" in self.vulnerability else None
