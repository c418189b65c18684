"""Detection, the whole corpus, and the bounded parse (time limit, child process)."""

from __future__ import annotations

import pytest

from hyper_registry.kinds.infra.archives import format_bundle
from hyper_registry.kinds.infra.detect import detect
from hyper_registry.kinds.infra.parse import parse_bounded, parse_files, parse_source

from .conftest import FIXTURES, files_of

CORPUS = {
    "terraform/terraform-aws-vpc": "terraform",
    "terraform/terraform-aws-vpc/examples/simple": "terraform",
    "terraform/terraform-aws-vpc/examples/network-acls": "terraform",
    "helm/argo-rollouts": "helm",
    "helm/argo-events": "helm",
    "helm/argocd-apps": "helm",
    "ansible/lamp-infrastructure": "ansible",
    "ansible/drupal": "ansible",
    "ansible/first-ansible-playbook": "ansible",
    **{
        f"cloudformation/{p.name}": "cloudformation"
        for p in (FIXTURES / "cloudformation").iterdir()
    },
}


@pytest.mark.parametrize("rel", sorted(CORPUS))
def test_every_corpus_template_is_detected_and_parses(rel: str) -> None:
    files = files_of(rel)
    kind = detect(files)
    assert kind == CORPUS[rel]
    parsed = parse_files(kind, files, {})
    assert parsed.errors == []


def test_every_terraform_file_parses_alone() -> None:
    for path in sorted((FIXTURES / "terraform").rglob("*.tf")):
        assert parse_source("terraform", path.read_text() or "\n", {}).errors == [], path


def test_bounded_parse_matches_in_process() -> None:
    source = format_bundle(files_of("helm/argo-rollouts"))
    inline = parse_source("helm", source, {})
    child = parse_bounded("helm", source, {})
    assert child == inline


def test_bounded_parse_reports_syntax_errors() -> None:
    parsed = parse_bounded("terraform", 'resource "a" "b" {\n  x = \n}\n', {})
    assert [(n.file, n.line, n.code) for n in parsed.errors] == [("main.tf", 2, "syntax")]


def test_runaway_parse_is_stopped() -> None:
    big = "".join(
        f'resource "aws_instance" "i{i}" {{\n  instance_type = "m5.large"\n}}\n'
        for i in range(20_000)
    )
    parsed = parse_bounded("terraform", big, {}, timeout=0.2)
    assert [n.code for n in parsed.errors] == ["timeout"]
    assert parsed.errors[0].message == "the parse took more than 0.2 s and was stopped"


def test_nothing_to_detect() -> None:
    assert detect({"notes.yaml": "a: 1\n"}) is None
