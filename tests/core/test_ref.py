"""References ``kind:namespace/name@version`` and the name grammar."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from hyper_registry import Invalid, Ref
from hyper_registry.core.ref import NAME_MAX, NAMESPACE_MAX, check_name, name_problem

# The grammar: lowercase letters, digits, '-', '_' and '.', starting with a letter or digit,
# ending with a letter, digit or '_', and never '..'.
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_."
names = st.from_regex(r"\A[a-z0-9]([a-z0-9._-]{0,40}[a-z0-9])?\Z").filter(lambda s: ".." not in s)
namespaces = names.filter(lambda s: len(s) <= NAMESPACE_MAX)
kinds = st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z")
versions = st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9._+-]{0,30}[A-Za-z0-9_+])?\Z").filter(
    lambda s: ".." not in s
)
# Characters a name may never hold: '/', NUL, whitespace of every sort, upper case, others.
FORBIDDEN = ["/", "\x00", " ", "\t", "\n", "\r", "\u00a0", "\u2003", "A", "Z", "@", ":", "*", "é"]


def test_parse_full_reference() -> None:
    ref = Ref.parse("model:risk/fraud-detector@2.1.0")
    assert (ref.kind, ref.namespace, ref.name, ref.version) == (
        "model",
        "risk",
        "fraud-detector",
        "2.1.0",
    )
    assert str(ref) == "model:risk/fraud-detector@2.1.0"


def test_parse_without_version_means_latest() -> None:
    ref = Ref.parse("dataset:shop/sessions")
    assert ref.version is None
    assert str(ref) == "dataset:shop/sessions"


def test_parse_alias_is_kept_as_the_version_text() -> None:
    ref = Ref.parse("model:shop/bot-detector@champion")
    assert ref.version == "champion"


def test_default_kind_applies_only_without_a_kind() -> None:
    assert Ref.parse("shop/orders@1.0.0", default_kind="service") == Ref(
        "service", "shop", "orders", "1.0.0"
    )
    assert Ref.parse("model:shop/orders", default_kind="service").kind == "model"


def test_unversioned_and_at() -> None:
    ref = Ref.parse("service:edge/gw@5.2.0")
    assert ref.unversioned == Ref("service", "edge", "gw")
    assert ref.unversioned.at("6.0.0") == Ref("service", "edge", "gw", "6.0.0")


def test_refs_are_values() -> None:
    a = Ref.parse("service:edge/gw@1.0.0")
    b = Ref.parse("service:edge/gw@1.0.0")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, a.unversioned}) == 2


@settings(deadline=None)  # no timing: CI machines are shared
@given(kind=kinds, namespace=namespaces, name=names, version=st.none() | versions)
def test_print_then_parse_round_trips(
    kind: str, namespace: str, name: str, version: str | None
) -> None:
    ref = Ref(kind, namespace, name, version)
    assert Ref.parse(str(ref)) == ref


@settings(deadline=None)  # no timing: CI machines are shared
@given(name=names)
@example(name="a")
@example(name="0")
@example(name="a.b-c_d")
@example(name="x" * NAME_MAX)
def test_grammar_names_are_accepted(name: str) -> None:
    assert name_problem(name) is None
    assert check_name(name) == name


@settings(deadline=None)  # no timing: CI machines are shared
@given(
    prefix=st.text(NAME_CHARS, max_size=8),
    bad=st.sampled_from(FORBIDDEN),
    suffix=st.text(NAME_CHARS, max_size=8),
)
def test_names_with_a_forbidden_character_are_refused(prefix: str, bad: str, suffix: str) -> None:
    name = f"a{prefix}{bad}{suffix}b"
    assert name_problem(name) is not None
    with pytest.raises(Invalid) as info:
        Ref.parse(f"model:team/{name}@1.0.0")
    assert info.value.problems[0].code == "bad-ref"
    with pytest.raises(Invalid):
        Ref.parse(f"model:{name}/thing@1.0.0")


@settings(deadline=None)  # no timing: CI machines are shared
@given(left=names, right=names)
def test_double_dot_is_refused_anywhere(left: str, right: str) -> None:
    name = f"{left}..{right}"
    assert name_problem(name) is not None
    with pytest.raises(Invalid):
        Ref.parse(f"service:team/{name}")


@pytest.mark.parametrize("name", ["-a", "a-", ".a", "a.", "_a", ""])
def test_names_must_start_and_end_with_a_letter_or_digit(name: str) -> None:
    assert name_problem(name) is not None


def test_length_limits() -> None:
    assert name_problem("a" * NAME_MAX) is None
    assert name_problem("a" * (NAME_MAX + 1)) is not None
    assert name_problem("a" * NAMESPACE_MAX, "namespace", NAMESPACE_MAX) is None
    with pytest.raises(Invalid):
        Ref.parse(f"service:{'a' * (NAMESPACE_MAX + 1)}/gw")
    Ref.parse(f"service:{'a' * NAMESPACE_MAX}/{'b' * NAME_MAX}")


def test_check_name_reports_the_field() -> None:
    with pytest.raises(Invalid) as info:
        check_name("Bad Name", "alias")
    (problem,) = info.value.problems
    assert problem.loc == ("alias",)
    assert problem.code == "bad-name"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "model",
        "model:",
        "model:risk",
        "model:/fraud",
        "model:risk/",
        "model:risk/fraud@",
        "model:risk/fraud@1..2",
        "model:risk/fraud@-1",
        "model:risk/fraud@1.0@2",
        "model:risk/team/fraud",
        "model:Risk/fraud",
        "model:risk/Fraud",
        "Model:risk/fraud",
        "1model:risk/fraud",
        ":risk/fraud",
        "model:risk/fraud@1.0.0 ",
        " model:risk/fraud",
        "model:risk/fr aud",
        "model:risk/fraud\x00",
        "model:risk/fraud@1.0\n",
        "model:ri:sk/fraud",
        "model:../fraud",
        "model:risk/..",
    ],
)
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(Invalid) as info:
        Ref.parse(text)
    assert info.value.problems[0].code == "bad-ref"
    assert info.value.message


def test_a_non_string_is_refused() -> None:
    with pytest.raises(Invalid):
        Ref.parse(42)  # type: ignore[arg-type]


class _Holder(BaseModel):
    target: Ref


def test_pydantic_field_parses_and_prints_the_string_form() -> None:
    held = _Holder.model_validate({"target": "dataset:shop/sessions@2026-09"})
    assert held.target == Ref("dataset", "shop", "sessions", "2026-09")
    assert held.model_dump(mode="json") == {"target": "dataset:shop/sessions@2026-09"}
    with pytest.raises(ValidationError):
        _Holder.model_validate({"target": "not a ref"})
    with pytest.raises(ValidationError):
        _Holder.model_validate({"target": 7})
