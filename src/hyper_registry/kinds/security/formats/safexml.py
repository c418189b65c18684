"""Safe XML parsing: defusedxml, with any DTD, entity declaration or external reference refused.

Nothing is fetched or read: a document carrying a DOCTYPE is refused before any entity could
be expanded. Errors name the line.
"""

from __future__ import annotations

from typing import Any

from hyper_registry.core.errors import Invalid


def parse(data: bytes) -> Any:
    """The root ``xml.etree.ElementTree.Element`` of a document without DTD or entities."""
    import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
    from defusedxml import (
        DefusedXmlException,
        DTDForbidden,
        EntitiesForbidden,
        ExternalReferenceForbidden,
    )

    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise Invalid.at(
            ("DOCTYPE",),
            "XML with a DTD (DOCTYPE) is refused; nothing was fetched or read",
            "xml-dtd",
        ) from None
    except EntitiesForbidden as exc:
        raise Invalid.at(
            (f"entity {exc.name}",), "XML entity declarations are refused", "xml-entity"
        ) from None
    except ExternalReferenceForbidden:
        raise Invalid.at(
            ("external reference",),
            "XML external references are refused; nothing was fetched",
            "xml-external",
        ) from None
    except DefusedXmlException as exc:
        raise Invalid.at(
            ("xml",), f"unsafe XML refused: {type(exc).__name__}", "xml-unsafe"
        ) from None
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise Invalid.at(
            (f"line {line}",), f"not well-formed XML (column {column})", "xml-syntax"
        ) from None
