"""Model files: stored by content (sha256) under the data directory, never deserialized.

``upload_file`` streams a file in, hashing it and counting its bytes against
``Settings.max_model_file_bytes`` (over the limit: ``TooLarge``, nothing kept), stores
it once at ``<data_dir>/blobs/sha256/<ab>/<digest>`` and lists it in the model
version's ``spec.files`` (a write through the pipeline) and in the files index. The
bytes are only hashed and copied: a pickle is never unpickled, an ONNX graph is only
parsed by ``imports.onnx_spec`` when asked.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hyper_registry.core.errors import Invalid, NotFound, TooLarge
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.dataset.tables import model_files, write_tx
from hyper_registry.kinds.model.edit import document_of

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

CHUNK = 1024 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")
_FILE_NAME = re.compile(r"[^/\\\x00-\x1f]{1,255}")
FORMATS = {
    ".onnx": "onnx",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".safetensors": "safetensors",
    ".h5": "keras",
    ".keras": "keras",
    ".pb": "tensorflow",
    ".gguf": "gguf",
    ".json": "json",
    ".ubj": "xgboost",
    ".txt": "text",
}


def max_bytes(registry: Registry) -> int:
    return int(getattr(registry.settings, "max_model_file_bytes", 512 * 1024 * 1024))


def blob_dir(registry: Registry) -> Path:
    return Path(registry.settings.data_dir) / "blobs" / "sha256"


def blob_path(registry: Registry, digest: str) -> Path:
    hexd = digest.removeprefix("sha256:")
    if not _HEX.fullmatch(hexd):
        raise Invalid.at(("sha256",), f"{digest!r} is not a sha256 digest", "bad-digest")
    return blob_dir(registry) / hexd[:2] / hexd


def guess_format(name: str) -> str:
    if name == "MLmodel":
        return "mlflow"
    return FORMATS.get(Path(name).suffix.lower(), "binary")


def check_file_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not _FILE_NAME.fullmatch(base) or base in (".", ".."):
        raise Invalid.at(("name",), f"file name {name[:100]!r} is not valid", "bad-name")
    return base


def store_blob(registry: Registry, chunks: Iterable[bytes]) -> tuple[str, int]:
    """Store the bytes by content; returns ("sha256:<hex>", size). Over the limit: TooLarge."""
    limit = max_bytes(registry)
    root = blob_dir(registry)
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=root)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the model file is over the limit of {limit} bytes")
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        hexd = digest.hexdigest()
        final = root / hexd[:2] / hexd
        final.parent.mkdir(exist_ok=True)
        if final.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, final)
        return f"sha256:{hexd}", size
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def upload_file(
    registry: Registry,
    ref: Ref | str,
    chunks: Iterable[bytes],
    *,
    name: str,
    fmt: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """Store a file for a model version and list it in the version's ``spec.files``."""
    file_name = check_file_name(name)
    entry = registry.get(ref)
    if entry.kind != "model":
        raise Invalid.at(("ref",), f"{ref} is not a model", "bad-ref-kind")
    digest, size = store_blob(registry, chunks)
    record = {
        "name": file_name,
        "sha256": digest,
        "size": size,
        "format": fmt or guess_format(file_name),
    }
    doc = document_of(entry)
    files = [f for f in doc["spec"].get("files", []) if f.get("name") != file_name]
    files.append(record)
    doc["spec"]["files"] = files
    registry.update(doc, expected_revision=entry.revision, actor=actor)
    with write_tx(registry.store.engine) as conn:
        key = (model_files.c.sha256 == digest[7:]) & (model_files.c.ref_key == str(entry.ref))
        if conn.execute(sa.select(model_files.c.sha256).where(key)).first() is None:
            conn.execute(
                model_files.insert(),
                {
                    "sha256": digest[7:],
                    "ref_key": str(entry.ref),
                    "namespace": entry.metadata.namespace,
                    "name": file_name,
                    "size": size,
                    "format": record["format"],
                    "created_at": timestamp(),
                    "actor": actor[:253],
                },
            )
    return {"ref": str(entry.ref), **record}


def file_of(registry: Registry, ref: Ref | str, name: str) -> tuple[dict[str, Any], Path]:
    """A listed file of a model version and where its bytes are."""
    entry = registry.get(ref)
    for f in entry.spec.get("files", []):
        if f.get("name") == name:
            path = blob_path(registry, str(f["sha256"]))
            if not path.exists():
                raise NotFound(f"the content of {name!r} is missing from this data directory")
            return f, path
    raise NotFound(f"{entry.ref} has no file {name!r}")
