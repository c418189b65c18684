"""Helm: the argo charts (hand-counted), chart validation, values, the inline format."""

from __future__ import annotations

from hyper_registry.kinds.infra import helm
from hyper_registry.kinds.infra.detect import source_files

from .conftest import files_of


def test_argo_rollouts_kinds_and_conditions() -> None:
    p = helm.parse(files_of("helm/argo-rollouts"), {})
    assert p.errors == []
    assert p.details["chart"]["name"] == "argo-rollouts"
    assert p.details["chart"]["version"] == "2.41.0"
    # templates/controller: deployment.yaml (Deployment) and metrics-service.yaml (a
    # Service guarded by .Values.controller.metrics.enabled, false in values.yaml)
    got = [(r.type, r.count, r.attributes.get("condition")) for r in p.resources]
    assert got == [
        ("Deployment", 2, None),  # replicas: {{ .Values.controller.replicas }} = 2
        ("Service", 0, ".Values.controller.metrics.enabled"),
    ]


def test_argo_events_and_argocd_apps() -> None:
    events = helm.parse(files_of("helm/argo-events"), {})
    assert [r.type for r in events.resources] == ["Deployment", "Service"]
    apps = helm.parse(files_of("helm/argocd-apps"), {})
    assert [(r.type, r.count, r.countExpr) for r in apps.resources] == [
        ("Application", 0, "range .Values.applications"),
        ("AppProject", 0, "range .Values.projects"),
    ]
    more = helm.parse(
        files_of("helm/argocd-apps"), {"values": {"applications": {"a": {}, "b": {}}}}
    )
    assert more.resources[0].count == 2


def test_requests_read_from_values() -> None:
    values = {
        "values": {
            "controller": {
                "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}},
                "metrics": {"enabled": True},
            }
        }
    }
    p = helm.parse(files_of("helm/argo-rollouts"), values)
    dep, svc = p.resources
    assert dep.attributes["requests.cpu"] == 0.25
    assert dep.attributes["requests.memoryGB"] == 0.5
    assert svc.count == 1


def test_chart_validation() -> None:
    p = helm.parse({"Chart.yaml": "apiVersion: v3\nname: web\nversion: '1.0'\n"}, {})
    assert sorted(n.code for n in p.errors) == ["chart-field", "chart-semver"]
    missing = helm.parse({"Chart.yaml": "apiVersion: v2\n"}, {})
    assert sorted(n.message for n in missing.errors) == [
        "Chart.yaml: name is required",
        "Chart.yaml: version is required",
    ]
    bad_values = helm.parse(
        {"Chart.yaml": "apiVersion: v2\nname: a\nversion: 1.0.0\n", "values.yaml": "a: [\n"}, {}
    )
    assert bad_values.errors[0].file == "values.yaml" and bad_values.errors[0].line is not None


def test_inline_comment_headed_documents_and_values_only_charts() -> None:
    source = (
        "# Chart.yaml\napiVersion: v2\nname: payments\nversion: 1.8.0\n---\n# values.yaml\n"
        "gateway:\n  replicaCount: 6\n  resources:\n    requests: {cpu: 500m, memory: 512Mi}\n"
    )
    files = source_files("helm", source)
    assert sorted(files) == ["Chart.yaml", "values.yaml"]
    p = helm.parse(files, {})
    (dep,) = p.resources
    assert (dep.type, dep.name, dep.count) == ("Deployment", "gateway", 6)
    assert dep.attributes["requests.cpu"] == 0.5
    rendered = source_files(
        "helm", "# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n"
    )
    assert list(rendered) == ["templates/svc.yaml"]


def test_templated_kind_warns() -> None:
    p = helm.parse(
        {
            "Chart.yaml": "apiVersion: v2\nname: a\nversion: 1.0.0\n",
            "templates/x.yaml": "apiVersion: v1\nkind: {{ .Values.kind }}\n",
        },
        {},
    )
    assert [n.code for n in p.notes] == ["templated-kind"] and p.resources == []
