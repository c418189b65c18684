"""``infra push``: a file, directory or archive becomes an infra document with an inline bundle."""

from __future__ import annotations

from typing import Any

from hyper_registry.core.errors import HyperRegistryError, Invalid, TooLarge
from hyper_registry.core.ref import check_name
from hyper_registry.kinds.infra.archives import ArchiveProblem, Files, format_bundle, read_archive
from hyper_registry.kinds.infra.detect import detect
from hyper_registry.kinds.infra.spec import MAX_SOURCE_BYTES, TEMPLATE_TYPES

ARCHIVE_MAGIC = (b"\x1f\x8b", b"PK\x03\x04")


def archive_problem(exc: ArchiveProblem) -> HyperRegistryError:
    if exc.code in ("too-large", "decompression-bomb", "too-many-files"):
        return TooLarge(str(exc))
    return Invalid.at(("template",), str(exc), exc.code)


def files_from_upload(data: bytes, filename: str | None) -> Files:
    """The files of an uploaded body: an archive (by magic or name) or one text file."""
    name = filename or "upload"
    try:
        if (
            data[:2] == ARCHIVE_MAGIC[0]
            or data[:4] == ARCHIVE_MAGIC[1]
            or name.endswith((".tar", ".tgz", ".tar.gz", ".zip"))
        ):
            return read_archive(data, name)
        text = data.decode("utf-8")
    except ArchiveProblem as exc:
        raise archive_problem(exc) from None
    except UnicodeDecodeError:
        raise Invalid.at(("template",), f"{name} is not a UTF-8 text file or an archive") from None
    if "\x00" in text:
        raise Invalid.at(("template",), f"{name} is not a text file")
    base = name.replace("\\", "/").rsplit("/", 1)[-1] or "template"
    return Files(files={base: text})


def build_document(
    files: Files,
    *,
    name: str,
    version: str,
    template_type: str | None = None,
    title: str | None = None,
    owner: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The infra document for ``files``; the type is detected when not given."""
    namespace, slash, short = name.partition("/")
    if not slash:
        raise Invalid.at(("name",), f"name {name!r} must be NAMESPACE/NAME")
    check_name(namespace, "namespace")
    check_name(short, "name")
    if not files.files:
        skipped = f" ({len(files.skipped)} other files left out)" if files.skipped else ""
        raise Invalid.at(("template",), f"no template files found{skipped}")
    kind = template_type or detect(files.files)
    if kind is None:
        raise Invalid.at(
            ("type",), "cannot tell the template type; give one of: " + ", ".join(TEMPLATE_TYPES)
        )
    if kind not in TEMPLATE_TYPES:
        raise Invalid.at(("type",), f"type {kind!r} is not one of: {', '.join(TEMPLATE_TYPES)}")
    source = format_bundle(files.files)  # always a bundle: file names stay in messages
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise TooLarge(f"the template's files total {size} bytes; the limit is {MAX_SOURCE_BYTES}")
    metadata: dict[str, Any] = {"namespace": namespace, "name": short, "version": version}
    if title:
        metadata["title"] = title
    if owner:
        metadata["owner"] = owner
    spec: dict[str, Any] = {"templateType": kind, "source": source}
    if parameters:
        spec["parameters"] = parameters
    return {"apiVersion": "hyper-registry/v1", "kind": "infra", "metadata": metadata, "spec": spec}
