"""Which relation ends are pinned (out of the name indexes), on both backends.

An end is pinned while its exact version names a stored entry; only a deletion moves it,
and then it is looked up by name again. Latest-version and alias ends are never pinned.
The graph behaviour itself is in ``tests/graph/test_resolution.py``; the migration that
fills the flags of stored rows is checked in ``test_migrations.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from hyper_registry import Registry
from hyper_registry.store.schema import entries, relations

MakeDoc = Callable[..., dict[str, Any]]


def ends(registry: Registry, owner: str) -> list[tuple[bool, bool, bool]]:
    """(src pinned, dst pinned, dst resolved) of each relation ``owner`` declares."""
    with registry.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(relations.c.src_pinned, relations.c.dst_pinned, relations.c.dst_id)
            .join(entries, entries.c.id == relations.c.owner_id)
            .where(entries.c.ref_key == owner)
            .order_by(relations.c.id)
        ).all()
    return [(bool(s), bool(d), i is not None) for s, d, i in rows]


def test_an_exact_version_is_pinned_while_its_entry_exists(
    registry: Registry, make_doc: MakeDoc
) -> None:
    gw = "service:edge/gw@1.0.0"
    registry.register(make_doc(gw, relations=[("uses", "model:shop/det@1.0.0")]))
    assert ends(registry, gw) == [(True, False, False)]  # the owner's end, a dangling one
    registry.register(make_doc("model:shop/det@1.0.0"))
    assert ends(registry, gw) == [(True, True, True)]
    registry.register(make_doc("model:shop/det@2.0.0"))
    assert ends(registry, gw) == [(True, True, True)]
    registry.unregister("model:shop/det@1.0.0")
    assert ends(registry, gw) == [(True, False, False)]
    registry.register(make_doc("model:shop/det@1.0.0"))
    assert ends(registry, gw) == [(True, True, True)]


def test_latest_and_alias_ends_are_never_pinned(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("model:shop/det@1.0.0", spec={"aliases": ["champion"]}))
    gw = "service:edge/gw@1.0.0"
    registry.register(
        make_doc(gw, relations=[("uses", "model:shop/det"), ("uses", "model:shop/det@champion")])
    )
    assert ends(registry, gw) == [(True, False, True), (True, False, True)]
    registry.register(make_doc("model:shop/det@2.0.0", spec={"aliases": ["champion"]}))
    assert ends(registry, gw) == [(True, False, True), (True, False, True)]


def test_an_inverse_declaration_pins_the_owner_as_target(
    registry: Registry, make_doc: MakeDoc
) -> None:
    # ``usedBy`` is stored as the service's ``uses``: the declaring model is the target.
    registry.register(make_doc("service:edge/gw@1.0.0"))
    owner = "model:shop/det@1.0.0"
    registry.register(make_doc(owner, relations=[("usedBy", "service:edge/gw@1.0.0")]))
    assert ends(registry, owner) == [(True, True, True)]
    other = "model:shop/other@1.0.0"
    registry.register(make_doc(other, relations=[("usedBy", "service:edge/gw")]))
    assert ends(registry, other) == [(False, True, True)]
