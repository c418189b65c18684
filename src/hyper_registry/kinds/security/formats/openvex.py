"""OpenVEX JSON (v0.0.x and v0.2.0): statements about (vulnerability, product).

No schema ships with the installed libraries, so the check is our own and follows the MUSTs of
the OpenVEX specification: a known status; ``not_affected`` carries a justification or an
impact statement; ``affected`` carries an action statement; every statement names a
vulnerability and at least one product.
"""

from __future__ import annotations

from typing import Any

from hyper_registry.core.errors import Invalid, Problem
from hyper_registry.kinds.security.formats._common import (
    DEFAULT_MAX_BYTES,
    check_size,
    decode_text,
    invalid,
    pointer,
)
from hyper_registry.kinds.security.formats.cyclonedx import loads
from hyper_registry.kinds.security.parsed import VexStatement, VexStatus

STATUSES: tuple[VexStatus, ...] = ("not_affected", "affected", "fixed", "under_investigation")
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)


def _product_id(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, dict):
        if isinstance(raw.get("@id"), str):
            return str(raw["@id"])
        identifiers = raw.get("identifiers")
        if isinstance(identifiers, dict):
            for key in ("purl", "cpe23", "cpe22"):
                if isinstance(identifiers.get(key), str):
                    return str(identifiers[key])
    return None


def parse_openvex(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[VexStatement]:
    """The statements of an OpenVEX document; Invalid (JSON pointers) when it breaks the spec."""
    check_size(data, max_bytes, "VEX document")
    doc = loads(decode_text(data))
    if not isinstance(doc, dict):
        raise Invalid.at(("/",), "an OpenVEX document is a JSON object")
    context = doc.get("@context")
    if not isinstance(context, str) or "openvex.dev/ns" not in context:
        raise Invalid.at(
            ("/@context",), "not an OpenVEX document (@context must be https://openvex.dev/ns/...)"
        )
    problems: list[Problem] = []
    statements: list[VexStatement] = []
    raws = doc.get("statements")
    if not isinstance(raws, list):
        raise Invalid.at(("/statements",), "'statements' must be a list")

    def bad(path: list[str | int], message: str) -> None:
        problems.append(Problem((pointer(path),), message, "schema"))

    for index, raw in enumerate(raws):
        here: list[str | int] = ["statements", index]
        if not isinstance(raw, dict):
            bad(here, "a statement must be an object")
            continue
        vuln = raw.get("vulnerability")
        vuln_id = vuln.get("name") or vuln.get("@id") if isinstance(vuln, dict) else vuln
        if not isinstance(vuln_id, str) or not vuln_id.strip():
            bad([*here, "vulnerability"], "a statement names a vulnerability")
            continue
        status = raw.get("status")
        if status not in STATUSES:
            bad([*here, "status"], f"status {status!r} is not one of {', '.join(STATUSES)}")
            continue
        justification = raw.get("justification")
        impact = raw.get("impact_statement")
        if justification is not None and justification not in JUSTIFICATIONS:
            bad([*here, "justification"], f"unknown justification {justification!r}")
            continue
        if status == "not_affected" and not justification and not impact:
            bad(here, "a not_affected statement needs a justification or an impact_statement")
            continue
        action = raw.get("action_statement")
        if status == "affected" and not action:
            bad(here, "an affected statement needs an action_statement")
            continue
        products: list[str] = []
        subcomponents: list[str] = []
        for pindex, product in enumerate(raw.get("products") or []):
            pid = _product_id(product)
            if pid is None:
                bad([*here, "products", pindex], "a product needs an @id or an identifier")
                continue
            products.append(pid)
            if isinstance(product, dict):
                subcomponents.extend(
                    s for s in (_product_id(x) for x in product.get("subcomponents") or []) if s
                )
        subcomponents.extend(
            s for s in (_product_id(x) for x in raw.get("subcomponents") or []) if s
        )
        if not products:
            bad([*here, "products"], "a statement names at least one product")
            continue
        statements.append(
            VexStatement(
                vulnerability=vuln_id.strip(),
                status=status,
                justification=justification,
                statement=impact if isinstance(impact, str) else raw.get("status_notes"),
                products=products,
                subcomponents=list(dict.fromkeys(subcomponents)),
                action=action if isinstance(action, str) else None,
                timestamp=raw.get("timestamp") or doc.get("timestamp"),
            )
        )
    if problems:
        raise invalid("not a valid OpenVEX document", problems)
    return statements
