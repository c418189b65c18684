"""API tokens: random, shown once, stored as a hash, each with a role over namespaces.

A token reads ``hr_<id>_<secret>``. The id finds the row; the secret is checked
against its SHA-256 in constant time. Secrets are 256 random bits, so a fast hash
is safe here (a slow password hash protects guessable passwords, not random keys).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import orjson
import sqlalchemy as sa

from hyper_registry.core.errors import Forbidden, Invalid, NotFound
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import NAMESPACE_MAX, name_problem
from hyper_registry.store.schema import changes, tokens

Role = Literal["reader", "writer", "admin"]
ROLES: tuple[Role, ...] = ("reader", "writer", "admin")
_RANK = {"reader": 0, "writer": 1, "admin": 2}
ALL = "*"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's name, role and the namespaces it may see (None: all)."""

    name: str
    role: Role
    namespaces: frozenset[str] | None

    def sees(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def at_least(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]

    @property
    def visible(self) -> list[str] | None:
        return None if self.namespaces is None else sorted(self.namespaces)

    def require(self, role: Role, namespace: str | None = None) -> None:
        """Refuse unless this principal has ``role`` (and sees ``namespace``).

        An invisible namespace is reported as not found, exactly like a missing entry.
        """
        if namespace is not None and not self.sees(namespace):
            raise NotFound("not found")
        if not self.at_least(role):
            raise Forbidden(f"this needs the {role} role; the token has {self.role}")


LOCAL = Principal("local", "admin", None)


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    namespaces: list[str] | None
    created_at: str
    created_by: str
    revoked_at: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "namespaces": self.namespaces if self.namespaces is not None else [ALL],
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "revokedAt": self.revoked_at,
        }


def _audit(
    conn: sa.Connection, actor: str, op: str, token_id: str, detail: dict[str, object]
) -> None:
    """Token changes go to the change log too, outside every namespace (admins read them)."""
    conn.execute(
        changes.insert().values(
            at=timestamp(),
            actor=actor,
            op=op,
            ref=f"token/{token_id}",
            kind="token",
            namespace="",
            uid=None,
            revision=None,
            detail=orjson.dumps(detail).decode(),
        )
    )


def _hash(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    """Creates, checks and revokes tokens in the registry's database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def create(
        self,
        name: str,
        role: str,
        namespaces: Sequence[str] | None = None,
        *,
        created_by: str = "local",
    ) -> tuple[TokenInfo, str]:
        """A new token; the plaintext is returned once and never stored."""
        problem = name_problem(name, "token name")
        if problem:
            raise Invalid.at(("name",), problem)
        if role not in ROLES:
            raise Invalid.at(("role",), f"role must be one of {', '.join(ROLES)}, got {role!r}")
        ns: list[str] | None = None
        if namespaces is not None and ALL not in namespaces:
            ns = sorted(set(namespaces))
            for i, n in enumerate(ns):
                why = name_problem(n, "namespace", NAMESPACE_MAX)
                if why:
                    raise Invalid.at(("namespaces", i), why)
            if not ns:
                raise Invalid.at(("namespaces",), "give at least one namespace, or '*' for all")
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = timestamp()
        with self._engine.begin() as conn:
            conn.execute(
                tokens.insert().values(
                    id=token_id,
                    secret_hash=_hash(secret),
                    name=name,
                    role=role,
                    namespaces=orjson.dumps(ns if ns is not None else [ALL]).decode(),
                    created_at=now,
                    created_by=created_by,
                    revoked_at=None,
                )
            )
            _audit(
                conn,
                created_by,
                "token-create",
                token_id,
                {"name": name, "role": role, "namespaces": ns or [ALL]},
            )
        info = TokenInfo(token_id, name, role, ns, now, created_by, None)
        return info, f"hr_{token_id}_{secret}"

    def verify(self, plaintext: str) -> Principal | None:
        """The principal a token stands for, or None for an unknown, malformed or revoked one."""
        parts = plaintext.split("_", 2)
        if len(parts) != 3 or parts[0] != "hr" or len(parts[1]) != 16:
            return None
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.id == parts[1])).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(parts[2])):
            return None
        ns = orjson.loads(row.namespaces)
        return Principal(row.name, row.role, None if ALL in ns else frozenset(ns))

    def list(self) -> list[TokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(tokens).order_by(tokens.c.created_at)).all()
        return [self._info(r) for r in rows]

    def revoke(self, token_id: str, *, revoked_by: str = "local") -> TokenInfo:
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
            if row is None:
                raise NotFound(f"token {token_id!r} not found")
            if row.revoked_at is None:
                conn.execute(
                    tokens.update().where(tokens.c.id == token_id).values(revoked_at=timestamp())
                )
                _audit(conn, revoked_by, "token-revoke", token_id, {"name": row.name})
            row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).one()
        return self._info(row)

    def any_active(self) -> bool:
        with self._engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(tokens)
                    .where(tokens.c.revoked_at.is_(None))
                ).scalar_one()
                > 0
            )

    @staticmethod
    def _info(row: sa.Row[object]) -> TokenInfo:
        ns = orjson.loads(row.namespaces)
        return TokenInfo(
            row.id,
            row.name,
            row.role,
            None if ALL in ns else ns,
            row.created_at,
            row.created_by,
            row.revoked_at,
        )
