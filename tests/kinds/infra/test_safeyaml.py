"""Safe YAML: language tags refused, alias bombs, depth and size limits, CloudFormation tags."""

from __future__ import annotations

import pytest

from hyper_registry.kinds.infra.safeyaml import YamlProblem, load, load_all


def bomb(levels: int) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def problem(text: str, **kw: bool) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        load_all(text, **kw)
    return info.value


def test_python_tag_refused_with_its_line() -> None:
    p = problem("a: 1\nb: !!python/object/apply:os.system ['id']\n")
    assert (p.line, p.code) == (2, "tag")
    assert "python/object/apply:os.system" in p.message


def test_cloudformation_tags_only_when_asked() -> None:
    text = "A: !Ref Bucket\nB: !GetAtt Role.Arn\nC: !Sub '${AWS::Region}'\nD: !If [c, !Ref x, y]\n"
    assert load(text, cloudformation=True) == {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::GetAtt": ["Role", "Arn"]},
        "C": {"Fn::Sub": "${AWS::Region}"},
        "D": {"Fn::If": ["c", {"Ref": "x"}, "y"]},
    }
    assert problem("A: !Ref Bucket\n").code == "tag"
    assert problem("A: !Bogus x\n", cloudformation=True).code == "tag"


def test_billion_laughs_refused() -> None:
    assert problem(bomb(9)).code == "alias-bomb"
    assert load(bomb(2))["b"][0] == ["lol"] * 9  # a few aliases are fine


def test_too_many_aliases_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 300) + "]\n"
    assert problem(text).code == "alias-limit"


def test_depth_and_size_limits() -> None:
    assert problem("[" * 100 + "]" * 100).code == "too-deep"
    with pytest.raises(YamlProblem) as info:
        load("a: " + "x" * 2000, max_bytes=1000)
    assert info.value.code == "too-large"


def test_syntax_error_has_a_line_and_dates_stay_text() -> None:
    p = problem("a: b\n\nc: [1, 2\nd: e\n")
    assert p.line is not None and p.line >= 3
    assert load("when: 2024-06-01\n") == {"when": "2024-06-01"}
