"""The domain error tree: problems with field paths, and batch refusals by document index."""

from __future__ import annotations

from hyper_registry import (
    AlreadyExists,
    BatchRefused,
    Conflict,
    HyperRegistryError,
    Invalid,
    NotFound,
    Problem,
)
from hyper_registry.core.errors import ItemError


def test_problem_path_puts_indexes_in_brackets() -> None:
    assert Problem(("metadata", "name"), "bad").path == "metadata.name"
    assert Problem(("relations", 0, "target"), "bad").path == "relations[0].target"
    assert Problem((3, "spec", "x"), "bad").path == "[3].spec.x"
    assert Problem((), "bad").path == ""
    assert Problem(("a",), "m", "c").to_dict() == {"path": "a", "message": "m", "code": "c"}


def test_invalid_at_names_one_field() -> None:
    exc = Invalid.at(("metadata", "name"), "name 'X' is not valid", "bad-name")
    assert exc.problems == [Problem(("metadata", "name"), "name 'X' is not valid", "bad-name")]
    assert str(exc) == "metadata.name: name 'X' is not valid"


def test_str_counts_further_problems() -> None:
    exc = Invalid(
        "the document is not valid",
        problems=[Problem(("a",), "first"), Problem(("b",), "second"), Problem(("c",), "third")],
    )
    assert str(exc) == "the document is not valid: a: first (and 2 more)"


def test_every_domain_error_is_one_registry_error() -> None:
    for cls in (NotFound, AlreadyExists, Conflict, Invalid, BatchRefused):
        assert issubclass(cls, HyperRegistryError)
    assert len({NotFound.code, AlreadyExists.code, Conflict.code, Invalid.code}) == 4


def test_batch_refused_prefixes_problems_with_the_document_index() -> None:
    refused = BatchRefused(
        [
            ItemError(1, Invalid.at(("metadata", "name"), "bad name", "bad-name")),
            ItemError(4, NotFound("model:a/b@1.0.0 not found")),
        ]
    )
    assert isinstance(refused, Invalid)
    assert [(p.loc, p.code) for p in refused.problems] == [
        ((1, "metadata", "name"), "bad-name"),
        ((4,), "not-found"),
    ]
    assert refused.message == "2 documents of the batch refused; nothing was written"
    assert [i.index for i in refused.items] == [1, 4]
