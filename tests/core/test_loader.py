"""Reading descriptor files: YAML (multi-document), JSON, NDJSON and directories."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from hyper_registry import Invalid, TooLarge
from hyper_registry.core.loader import MAX_ALIASES, load_path, parse_text, read_stream


def test_multi_document_yaml_keeps_positions() -> None:
    text = "a: 1\n---\n# nothing but a comment\n---\nb: 2\nc: 3\n"
    got = list(parse_text("f.yaml", text))
    assert [d for _, d in got] == [{"a": 1}, {"b": 2, "c": 3}]
    first, second = (s for s, _ in got)
    assert (first.file, first.index, first.line) == ("f.yaml", 0, 1)
    assert second.line == 5
    assert str(second).startswith("f.yaml:5 ")


def test_json_object_and_list() -> None:
    assert [d for _, d in parse_text("one.json", '{"a": 1}')] == [{"a": 1}]
    docs = list(parse_text("many.json", '[{"a": 1}, {"b": 2}]'))
    assert [(s.index, d) for s, d in docs] == [(0, {"a": 1}), (1, {"b": 2})]


def test_ndjson_lines_are_documents_with_their_line() -> None:
    docs = list(parse_text("x.ndjson", '{"a": 1}\n\n{"b": 2}\n'))
    assert [d for _, d in docs] == [{"a": 1}, {"b": 2}]
    assert [s.line for s, _ in docs] == [1, 3]


def test_yaml_syntax_error_names_file_line_and_column() -> None:
    text = "kind: service\nmetadata:\n  name: [unclosed\n  namespace: x\n"
    with pytest.raises(Invalid) as info:
        list(parse_text("broken.yaml", text))
    assert re.match(r"broken\.yaml:\d+:\d+: invalid YAML", info.value.message), info.value.message


def test_yaml_error_position_is_where_the_problem_is() -> None:
    text = "a: 1\nb: 2\nc: d: e\n"
    with pytest.raises(Invalid) as info:
        list(parse_text("f.yaml", text))
    assert info.value.message.startswith("f.yaml:3:5:"), info.value.message


def test_json_syntax_error_names_line_and_column() -> None:
    with pytest.raises(Invalid) as info:
        list(parse_text("bad.json", '{\n  "a": 1,\n  "b": \n}'))
    assert re.match(r"bad\.json:4:1: invalid JSON", info.value.message), info.value.message


def test_one_line_json_error_names_line_and_column() -> None:
    with pytest.raises(Invalid) as info:
        list(parse_text("bad.json", '{"a": 1,, "b": 2}'))
    assert re.match(r"bad\.json:1:\d+: invalid JSON", info.value.message), info.value.message


def test_ndjson_error_names_the_line() -> None:
    with pytest.raises(Invalid) as info:
        list(parse_text("x.ndjson", '{"a": 1}\n{"b": \n'))
    assert info.value.message.startswith("x.ndjson:2: invalid JSON")


def test_yaml_language_tags_are_refused() -> None:
    text = "a: !!python/object/apply:os.system ['true']\n"
    with pytest.raises(Invalid) as info:
        list(parse_text("evil.yaml", text))
    assert info.value.message.startswith("evil.yaml:1:")


def test_alias_bombs_are_refused() -> None:
    lines = ["a: &a [x, x]"]
    lines += [f"b{i}: &b{i} [*a, *a]" for i in range(MAX_ALIASES)]
    with pytest.raises(Invalid) as info:
        list(parse_text("bomb.yaml", "\n".join(lines) + "\n"))
    assert "aliases" in info.value.message


def test_a_few_aliases_are_fine() -> None:
    docs = list(parse_text("ok.yaml", "base: &b {x: 1}\nother: *b\n"))
    assert docs[0][1] == {"base": {"x": 1}, "other": {"x": 1}}


def test_directory_is_read_recursively_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.yaml").write_text("n: b\n")
    (tmp_path / "a.json").write_text('{"n": "a"}')
    (tmp_path / "sub" / "c.yml").write_text("n: c\n---\nn: d\n")
    (tmp_path / "notes.txt").write_text("not a descriptor")
    got = list(load_path(tmp_path))
    assert [d["n"] for _, d in got] == ["a", "b", "c", "d"]
    assert got[2][0].file == str(tmp_path / "sub" / "c.yml")


def test_missing_path_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as info:
        list(load_path(tmp_path / "nope.yaml"))
    assert "nope.yaml" in info.value.message


def test_non_utf8_file_is_invalid(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(Invalid) as info:
        list(load_path(f))
    assert "not UTF-8" in info.value.message
    assert str(f) in info.value.message


def test_size_limits(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(TooLarge):
        list(load_path(f, limit=100))
    with pytest.raises(TooLarge):
        list(read_stream("<stdin>", io.StringIO("a: " + "x" * 200), limit=100))
    assert next(read_stream("<stdin>", io.StringIO("a: 1\n")))[1] == {"a": 1}
