"""The first admin token of a fresh registry."""

from __future__ import annotations

import os
from pathlib import Path

from hyper_registry.auth.tokens import TokenService

TOKEN_FILE = "admin-token"


def ensure_admin_token(tokens: TokenService, data_dir: Path) -> str | None:
    """Create an admin token when no active token exists.

    The plaintext is written to ``<data_dir>/admin-token`` (mode 0600) and returned
    so the caller can print it once. Returns None when tokens already exist.
    """
    if tokens.any_active():
        return None
    _, plaintext = tokens.create("admin", "admin", None, created_by="bootstrap")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(plaintext + "\n")
    os.chmod(path, 0o600)
    return plaintext
