"""Commands for WASM plugins: push, run sandboxed, inspect.

hyper-registry plugin push FILE --name NS/NAME --version V [--permissions P,...]
                           [--sandboxing strict|relaxed|none] [--export NAME ...]
hyper-registry plugin run REF --export NAME [--arg A ...] [--stdin FILE] [-o ...]
hyper-registry plugin inspect FILE|REF [-o ...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hyper_registry.cli.context import Output, check_format, client, local, remote_call
from hyper_registry.cli.output import emit, fail
from hyper_registry.core.errors import HyperRegistryError, Invalid, TooLarge
from hyper_registry.core.ref import Ref

plugin_app = typer.Typer(
    help="WebAssembly plugins: push a module, run an export sandboxed, inspect.",
    no_args_is_help=True,
)

RUN_TIMEOUT = 3700.0
"""Seconds the CLI waits for a server-side run (the server enforces the run's own limit)."""


def _ref(text: str, *, versioned: bool = False) -> Ref:
    try:
        ref = Ref.parse(text, default_kind="plugin")
    except HyperRegistryError as exc:
        raise fail(exc) from None
    except ValueError as exc:
        raise fail(Invalid.at(("ref",), str(exc))) from None
    if ref.kind != "plugin":
        raise fail(Invalid.at(("ref",), f"{text!r} is a {ref.kind}, not a plugin"))
    if versioned and not ref.version:
        raise fail(Invalid.at(("ref",), f"{text!r}: name the version"))
    return ref


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise fail(TooLarge(f"{what} {path} is {size} bytes; the limit is {limit} bytes"))
        return path.read_bytes()
    except OSError as exc:
        raise fail(Invalid.at((what,), f"cannot read {path}: {exc.strerror}")) from None


def _split(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]


@plugin_app.command("push")
def push_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the module: a .wasm binary or .wat text")],
    name: Annotated[str, typer.Option("--name", help="NAMESPACE/NAME")],
    version: Annotated[str, typer.Option("--version", help="a semantic version")],
    permissions: Annotated[
        list[str] | None,
        typer.Option("--permissions", "-p", help="fs:read, fs:write, network:http, env, ... "),
    ] = None,
    sandboxing: Annotated[str, typer.Option(help="strict, relaxed or none")] = "strict",
    exports: Annotated[
        list[str] | None, typer.Option("--export", "-e", help="an export the module must have")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="the owning team")] = None,
    title: Annotated[str | None, typer.Option(help="a human title")] = None,
    output: Output = "table",
) -> None:
    """Check, store and precompile a module, and register it as a plugin version."""
    check_format(output)
    namespace, sep, plugin_name = name.partition("/")
    if not sep or not namespace or not plugin_name or "/" in plugin_name:
        raise fail(Invalid.at(("name",), f"--name {name!r} must be NAMESPACE/NAME"))
    ref = _ref(f"plugin:{namespace}/{plugin_name}@{version}", versioned=True)
    perms = _split(permissions)
    metadata = {k: v for k, v in (("owner", owner), ("title", title)) if v is not None}
    remote = client(ctx)
    if remote is not None:
        raw = _read(file, 64 * 1024 * 1024, "module")
        binary = raw.startswith(b"\0asm")
        params: list[tuple[str, str]] = [("permission", p) for p in perms]
        params += [("export", e) for e in exports or []]
        params += [("sandboxing", sandboxing), *metadata.items()]
        entry = remote_call(
            remote,
            "POST",
            f"/v1/plugins/{ref.namespace}/{ref.name}/{ref.version}",
            content=raw,
            params=params,
            headers={"Content-Type": "application/wasm" if binary else "text/plain"},
            timeout=300.0,
        )
    else:

        def go(registry: Any) -> dict[str, Any]:
            from hyper_registry.kinds.plugin.push import push

            raw = _read(file, registry.settings.plugin_max_module_bytes, "module")
            return dict(
                push(
                    registry,
                    raw,
                    ref,
                    permissions=perms,
                    sandboxing=sandboxing,
                    exports=exports or [],
                    metadata=metadata,
                    actor="cli",
                ).to_dict()
            )

        entry = local(ctx, go)
    if output != "table":
        emit(entry, output)
        return
    wasm = (entry.get("status") or {}).get("wasm") or {}
    typer.echo(
        f"pushed plugin:{ref.namespace}/{ref.name}@{ref.version} "
        f"({wasm.get('size', '?')} bytes, {wasm.get('digest', '?')})"
    )
    _print_inventory(wasm)


def _print_inventory(wasm: dict[str, Any]) -> None:
    exports = ", ".join(f"{e['name']} ({e['kind']})" for e in wasm.get("exports", [])) or "none"
    typer.echo(f"exports: {exports}")
    imports = ", ".join(f"{i['module']}.{i['name']}" for i in wasm.get("imports", [])) or "none"
    typer.echo(f"imports: {imports}")
    mems = wasm.get("memories", [])
    if mems:
        shown = ", ".join(
            f"{m['minPages']}..{m['maxPages'] if m['maxPages'] is not None else '-'} pages"
            f"{' (imported)' if m['imported'] else ''}"
            for m in mems
        )
        typer.echo(f"memories: {shown}")
    if "capabilities" in wasm:
        typer.echo(f"capabilities: {', '.join(wasm['capabilities']) or 'none'}")
    if wasm.get("hostImports"):
        typer.echo("not runnable here: imports outside WASI preview 1")
    for p in wasm.get("problems", []):
        typer.echo(f"problem: {p.get('path') or '-'}: {p['message']}")


@plugin_app.command("run")
def run_cmd(
    ctx: typer.Context,
    ref_text: Annotated[str, typer.Argument(metavar="REF", help="plugin:NS/NAME[@VERSION]")],
    export: Annotated[str, typer.Option("--export", "-e", help="the export to call")],
    args: Annotated[
        list[str] | None, typer.Option("--arg", "-a", help="an argument (repeat in order)")
    ] = None,
    stdin: Annotated[
        Path | None, typer.Option("--stdin", help="a file given to the plugin as stdin")
    ] = None,
    output: Output = "table",
) -> None:
    """Run an export of a plugin in its sandbox and print the results and output."""
    check_format(output)
    ref = _ref(ref_text)
    arguments = list(args or [])
    remote = client(ctx)
    data = _read(stdin, 16 * 1024 * 1024, "stdin") if stdin is not None else None
    if remote is not None:
        import base64

        body: dict[str, Any] = {"export": export, "args": arguments}
        if data is not None:
            body["stdinBase64"] = base64.b64encode(data).decode()
        base = f"/v1/plugins/{ref.namespace}/{ref.name}"
        path = f"{base}/{ref.version}/run" if ref.version else f"{base}/run"
        result = remote_call(remote, "POST", path, json=body, timeout=RUN_TIMEOUT)
    else:

        def go(registry: Any) -> dict[str, Any]:
            from hyper_registry.kinds.plugin.runtime import PluginRuntime

            out: dict[str, Any] = registry.extension(PluginRuntime).run(
                ref, export, arguments, data
            )
            return out

        result = local(ctx, go)
    if output != "table":
        emit(result, output)
        return
    if result.get("stdout"):
        sys.stdout.write(result["stdout"])
        if not result["stdout"].endswith("\n"):
            sys.stdout.write("\n")
    if result.get("stderr"):
        sys.stderr.write(result["stderr"])
    for value in result.get("results", []):
        typer.echo(value)
    if result.get("exitCode") not in (None, 0):
        typer.echo(f"exit code {result['exitCode']}", err=True)
        raise typer.Exit(int(result["exitCode"]) % 256 or 1)


@plugin_app.command("inspect")
def inspect_cmd(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="a module file (.wasm/.wat), or a plugin REF")],
    output: Output = "table",
) -> None:
    """Show a module's imports, exports, memories and the permissions they need."""
    check_format(output)
    path = Path(target)
    if path.is_file():
        from hyper_registry.kinds.plugin.permissions import check
        from hyper_registry.kinds.plugin.push import inspect_upload

        try:
            info = inspect_upload(_read(path, 64 * 1024 * 1024, "module"), 64 * 1024 * 1024)
        except HyperRegistryError as exc:
            raise fail(exc) from None
        perms = check(info.imports, [])
        wasm: dict[str, Any] = {
            **info.to_dict(),
            **perms.to_dict(),
            "requiredPermissions": sorted(
                {" or ".join(_perms_of(cap)) for cap in perms.capabilities if _perms_of(cap)}
            ),
        }
        wasm.pop("unusedPermissions", None)
        wasm.pop("runnable", None)
    else:
        ref = _ref(target)
        remote = client(ctx)
        if remote is not None:
            from hyper_registry.client import entry_path

            entry = remote_call(remote, "GET", entry_path(ref))
        else:
            entry = local(ctx, lambda registry: registry.get(ref).to_dict())
        wasm = (entry.get("status") or {}).get("wasm") or {}
    if output != "table":
        emit(wasm, output)
        return
    if "digest" in wasm:
        typer.echo(f"module: {wasm['digest']} ({wasm['size']} bytes)")
    _print_inventory(wasm)
    if wasm.get("requiredPermissions"):
        typer.echo(f"needs: {', '.join(wasm['requiredPermissions'])}")


def _perms_of(capability: str) -> tuple[str, ...]:
    from hyper_registry.kinds.plugin.permissions import CAPABILITIES

    return CAPABILITIES[capability][0]


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
    app.add_typer(plugin_app, name="plugin")
