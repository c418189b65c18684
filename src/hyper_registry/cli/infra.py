"""Commands for IaC templates.

hyper-registry infra push PATH --name NS/NAME --version V [--type T]   file, directory or archive
hyper-registry infra cost REF [--usage FILE] [--prices FILE] [-o table|json|yaml]
hyper-registry infra diff REF REF [--usage FILE] [-o table|json|yaml]
hyper-registry infra deploys REF [-o ...]            services deployed (declared and inferred)
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Annotated, Any

import typer

from hyper_registry.cli.context import Output, check_format, client, state
from hyper_registry.cli.output import emit, fail, table
from hyper_registry.core.errors import HyperRegistryError, Invalid
from hyper_registry.core.ref import Ref

infra_app = typer.Typer(
    help="IaC templates: push, cost estimates, diffs, deployed services.", no_args_is_help=True
)

RefArg = Annotated[str, typer.Argument(help="infra:NAMESPACE/NAME[@VERSION] or NAMESPACE/NAME")]
UsageOpt = Annotated[
    Path | None, typer.Option("--usage", help="usage file (YAML/JSON, Infracost layout)")
]


def _ref(text: str) -> Ref:
    try:
        ref = Ref.parse(text, default_kind="infra")
    except HyperRegistryError as exc:
        raise fail(exc) from None
    except ValueError as exc:
        raise fail(Invalid.at(("ref",), str(exc))) from None
    if ref.kind != "infra":
        raise fail(Invalid.at(("ref",), f"{text!r} is a {ref.kind}, not an infra template"))
    return ref


def _path(ref: Ref, tail: str) -> str:
    base = f"/v1/infra/{ref.namespace}/{ref.name}"
    return f"{base}/versions/{ref.version}/{tail}" if ref.version else f"{base}/{tail}"


def _call(ctx: typer.Context, local: Any, remote: Any) -> Any:
    """``remote(client)`` with --server, else ``local(registry)``; errors become one line."""
    http = client(ctx)
    try:
        if http is not None:
            try:
                return remote(http)
            finally:
                http.close()
        registry = state(ctx).registry()
        try:
            return local(registry)
        finally:
            registry.close()
    except HyperRegistryError as exc:
        raise fail(exc) from None


def _usage(path: Path | None) -> Any:
    if path is None:
        return None
    from hyper_registry.kinds.infra.safeyaml import YamlProblem, load

    try:
        return load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(Invalid.at(("usage",), f"cannot read {path.name}: {exc}")) from None
    except YamlProblem as exc:
        raise fail(Invalid.at(("usage",), f"{path.name}: {exc}")) from None


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _print_cost(ref: str, report: dict[str, Any]) -> None:
    rows: list[tuple[Any, ...]] = []
    for res in report["resources"]:
        if not res["lines"]:
            continue
        rows.append((res["address"], "", "", _money(res["monthly"])))
        last = len(res["lines"]) - 1
        for i, line in enumerate(res["lines"]):
            branch = "└─" if i == last else "├─"
            rows.append(
                (
                    f" {branch} {line['name']}",
                    f"{line['quantity']:,.4g}",
                    line["unit"],
                    _money(line["monthly"]),
                )
            )
    rows.append(("OVERALL TOTAL", "", "", _money(report["total"])))
    table(
        f"{ref}  ({report['currency']}/month)",
        ["name", "monthly qty", "unit", "monthly cost"],
        rows,
    )
    table(
        None, ["category", "monthly cost"], [(k, _money(v)) for k, v in report["breakdown"].items()]
    )
    free = sum(1 for res in report["resources"] if not res["lines"])
    typer.echo(
        f"{len(report['resources'])} resources priced ({free} free), "
        f"{len(report['unpriced'])} unpriced"
    )
    if report["unpriced"]:
        table(
            "unpriced",
            ["address", "type", "reason"],
            [(u["address"], u["type"], u["reason"]) for u in report["unpriced"]],
        )


def push(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="a template file, a directory or an archive")],
    name: Annotated[str, typer.Option("--name", help="NAMESPACE/NAME")],
    version: Annotated[str, typer.Option("--version", help="semantic version")],
    template_type: Annotated[
        str | None, typer.Option("--type", help="terraform, helm, cloudformation or ansible")
    ] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    output: Output = "table",
) -> None:
    """Register a template from a file, directory or archive (type detected when omitted)."""
    check_format(output)
    from hyper_registry.kinds.infra.archives import ArchiveProblem, read_path
    from hyper_registry.kinds.infra.push import archive_problem, build_document

    def local(registry: Any) -> dict[str, Any]:
        try:
            files = read_path(path)
        except ArchiveProblem as exc:
            raise archive_problem(exc) from None
        doc = build_document(
            files, name=name, version=version, template_type=template_type, title=title, owner=owner
        )
        result = registry.apply(doc)
        entry = registry.get(result.ref)
        return {"outcome": result.outcome, **entry.to_dict()}

    def remote(http: Any) -> dict[str, Any]:
        ns, _, short = name.partition("/")
        data, filename = _upload(path)
        params = {
            k: v
            for k, v in (
                ("type", template_type),
                ("filename", filename),
                ("title", title),
                ("owner", owner),
            )
            if v
        }
        entry: dict[str, Any] = http.request(
            "POST",
            f"/v1/infra/{ns}/{short}/versions/{version}",
            content=data,
            params=params,
            headers={"content-type": "application/octet-stream"},
        )
        return {"outcome": "pushed", **entry}

    result = _call(ctx, local, remote)
    if output != "table":
        result.pop("outcome", None)
        emit(result, output)
        return
    st = result.get("status", {}).get("infra", {})
    md = result["metadata"]
    ref = f"infra:{md['namespace']}/{md['name']}@{md['version']}"
    typer.echo(f"{ref} {result['outcome']} (revision {md['revision']})")
    if st:
        c = st.get("cost", {})
        typer.echo(
            f"{st.get('templateType')}: {st.get('resourceCount')} resources, "
            f"providers {', '.join(st.get('providers') or []) or '-'}; "
            f"estimated {_money(c.get('total'))}/month, {c.get('unpriced', 0)} unpriced"
        )
        for note in st.get("parsed", {}).get("notes", []):
            where = (
                f"{note.get('file')}:{note['line']}" if note.get("line") else note.get("file") or ""
            )
            typer.echo(f"  {note['level']}: {where + ': ' if where else ''}{note['message']}")


def _upload(path: Path) -> tuple[bytes, str | None]:
    """A directory is sent as a gzipped tar of its template files (read with the same guards)."""
    from hyper_registry.kinds.infra.archives import ArchiveProblem, read_path
    from hyper_registry.kinds.infra.push import archive_problem

    if path.is_dir():
        try:
            files = read_path(path)
        except ArchiveProblem as exc:
            raise archive_problem(exc) from None
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for rel, text in files.files.items():
                data = text.encode()
                info = tarfile.TarInfo(rel)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return buf.getvalue(), None
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise Invalid.at(("path",), f"cannot read {path.name}: {exc.strerror}") from None


def cost(
    ctx: typer.Context,
    ref: RefArg,
    usage: UsageOpt = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help="a replacement price catalogue (JSON)")
    ] = None,
    output: Output = "table",
) -> None:
    """Monthly cost estimate: per resource and category, with unpriced resources listed."""
    check_format(output)
    r = _ref(ref)
    use = _usage(usage)

    def local(registry: Any) -> dict[str, Any]:
        from hyper_registry.kinds.infra import infra_service
        from hyper_registry.kinds.infra.cost import load_catalogue

        catalogue = load_catalogue(prices) if prices else None
        result: dict[str, Any] = infra_service(registry).estimate_cost(
            r, usage=use, catalogue=catalogue
        )
        return result

    def remote(http: Any) -> dict[str, Any]:
        if prices is not None:
            raise Invalid.at(("prices",), "--prices works on a local registry, not with --server")
        if use is None:
            result: dict[str, Any] = http.request("GET", _path(r, "cost"))
        else:
            result = http.request("POST", _path(r, "cost"), json=use)
        return result

    report = _call(ctx, local, remote)
    if output != "table":
        emit(report, output)
        return
    _print_cost(str(r), report)


def diff(
    ctx: typer.Context,
    old: RefArg,
    new: RefArg,
    usage: UsageOpt = None,
    output: Output = "table",
) -> None:
    """Resources added, removed and changed between two templates, and the cost delta."""
    check_format(output)
    a, b = _ref(old), _ref(new)
    use = _usage(usage)

    def local(registry: Any) -> dict[str, Any]:
        from hyper_registry.kinds.infra import infra_service

        result: dict[str, Any] = infra_service(registry).diff(a, b, usage=use)
        return result

    def remote(http: Any) -> dict[str, Any]:
        if use is not None:
            raise Invalid.at(("usage",), "--usage works on a local registry, not with --server")
        result: dict[str, Any] = http.request(
            "GET", "/v1/infra/diff", params={"from": str(a), "to": str(b)}
        )
        return result

    report = _call(ctx, local, remote)
    if output != "table":
        emit(report, output)
        return
    rows = [("+", x["address"], x["type"], _money(x["monthly"])) for x in report["added"]]
    rows += [("-", x["address"], x["type"], _money(x["monthly"])) for x in report["removed"]]
    rows += [
        (
            "~",
            x["address"],
            x["type"],
            f"{_money(x['monthlyBefore'])} -> {_money(x['monthlyAfter'])}",
        )
        for x in report["changed"]
    ]
    table(f"{report['from']} -> {report['to']}", ["", "address", "type", "monthly"], rows)
    c = report["cost"]
    sign = "+" if c["delta"] >= 0 else "-"
    typer.echo(
        f"monthly cost {_money(c['before'])} -> {_money(c['after'])} "
        f"({sign}{_money(abs(c['delta']))} {c['currency']})"
    )


def deploys(ctx: typer.Context, ref: RefArg, output: Output = "table") -> None:
    """Services this template deploys: declared relations and inferred name matches."""
    check_format(output)
    r = _ref(ref)

    def local(registry: Any) -> list[dict[str, Any]]:
        from hyper_registry.kinds.infra import infra_service

        result: list[dict[str, Any]] = infra_service(registry).deploys(r)
        return result

    def remote(http: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = http.request("GET", _path(r, "deploys"))["deploys"]
        return result

    items = _call(ctx, local, remote)
    if output != "table":
        emit(items, output)
        return
    table(
        str(r),
        ["service", "how"],
        [(i["target"], f"inferred: {i['reason']}" if i["inferred"] else "declared") for i in items],
    )


def find_by_resource(
    ctx: typer.Context, resource_type: str, all_versions: bool, limit: int
) -> list[dict[str, Any]]:
    """Entries (as dicts) of templates holding ``resource_type`` (for ``list --resource-type``)."""

    def local(registry: Any) -> list[dict[str, Any]]:
        from hyper_registry.kinds.infra import infra_service

        found = infra_service(registry).find(
            resource_type=resource_type, all_versions=all_versions, limit=limit
        )
        return [e.to_dict() for e in found]

    def remote(http: Any) -> list[dict[str, Any]]:
        params = {"type": resource_type, "limit": str(limit)}
        if all_versions:
            params["allVersions"] = "true"
        items: list[dict[str, Any]] = http.request("GET", "/v1/infra/resources", params=params)[
            "items"
        ]
        return items

    result: list[dict[str, Any]] = _call(ctx, local, remote)
    return result


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
    infra_app.command("push")(push)
    infra_app.command("cost")(cost)
    infra_app.command("diff")(diff)
    infra_app.command("deploys")(deploys)
    app.add_typer(infra_app, name="infra")
