"""Real wasmtime runs of hand-written modules: results, WASI capabilities and every failure.

After each failure the same registry serves a good run: the host process survives.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from hyper_registry import AlreadyExists, Forbidden, Invalid, Ref, Registry, Settings
from hyper_registry.kinds.plugin.errors import PluginNotRunnable, PluginRunError
from hyper_registry.kinds.plugin.runtime import PluginRuntime

from .conftest import Push, pusher


def still_serves(runtime: PluginRuntime, push: Push) -> None:
    with contextlib.suppress(AlreadyExists):  # pushed already by this test
        push("add")
    assert runtime.run("plugin:lab/add@1.0.0", "add", ["40", "2"])["results"] == [42]


def test_trivial_export(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("add")
    out = runtime.run("plugin:lab/add@1.0.0", "add", ["2", "3"])
    assert out["results"] == [5]
    assert out["exitCode"] is None
    assert out["fuelConsumed"] > 0
    assert out["limits"]["sandboxing"] == "strict"
    assert runtime.run("plugin:lab/add", "half", ["5"])["results"] == [2.5]
    assert runtime.run("plugin:lab/add", "noop")["results"] == []
    assert runtime.run("plugin:lab/add", "add", ["0xffffffff", "1"])["results"] == [0]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["1"], "takes 2 arguments (i32, i32); got 1"), (["1", "x"], "'x' is not a valid i32")],
)
def test_bad_arguments(runtime: PluginRuntime, pushed: Push, args: list[str], message: str) -> None:
    pushed("add")
    with pytest.raises(Invalid, match=r"takes|valid") as caught:
        runtime.run("plugin:lab/add@1.0.0", "add", args)
    assert message in str(caught.value)
    assert caught.value.problems[0].code == "bad-args"


def test_unknown_export(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("add")
    with pytest.raises(Invalid) as caught:
        runtime.run("plugin:lab/add@1.0.0", "sub")
    assert caught.value.problems[0].code == "no-export"
    assert "add, half, noop" in str(caught.value)


def test_infinite_loop_runs_out_of_fuel(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("loop")
    with pytest.raises(PluginRunError) as caught:
        runtime.run("plugin:lab/loop@1.0.0", "spin")
    assert caught.value.code == "plugin-fuel"
    still_serves(runtime, pushed)


def test_infinite_loop_hits_the_wall_clock(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", plugin_strict_fuel=10**15, plugin_strict_timeout=0.3
    )
    with Registry.open(settings) as reg:
        push = pusher(reg)
        runtime = reg.extension(PluginRuntime)
        push("loop")
        with pytest.raises(PluginRunError) as caught:
            runtime.run("plugin:lab/loop@1.0.0", "spin")
        assert caught.value.code == "plugin-timeout"
        assert "0.3 s" in str(caught.value)
        still_serves(runtime, push)


def test_memory_bomb_hits_the_memory_limit(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("membomb")
    with pytest.raises(PluginRunError) as caught:
        runtime.run("plugin:lab/membomb@1.0.0", "bomb")
    assert caught.value.code == "plugin-memory"
    assert "memory.grow was refused" in str(caught.value)
    still_serves(runtime, pushed)


def test_memory_over_the_limit_at_instantiation(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("bigmem")
    with pytest.raises(PluginRunError) as caught:
        runtime.run("plugin:lab/bigmem@1.0.0", "start")
    assert caught.value.code == "plugin-memory"
    assert "2000 pages exceeds memory limits" in str(caught.value)
    still_serves(runtime, pushed)


def test_relaxed_allows_more_memory(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("bigmem", sandboxing="relaxed")
    out = runtime.run("plugin:lab/bigmem@1.0.0", "start")
    assert out["limits"]["sandboxing"] == "relaxed"
    assert out["limits"]["memoryBytes"] > 2000 * 65536


@pytest.mark.parametrize(
    ("export", "args", "message"),
    [
        ("boom", [], "wasm trap: wasm `unreachable` instruction executed"),
        ("divide", ["1", "0"], "wasm trap: integer divide by zero"),
    ],
)
def test_trap_reports_its_message(
    runtime: PluginRuntime, pushed: Push, export: str, args: list[str], message: str
) -> None:
    pushed("trap")
    with pytest.raises(PluginRunError) as caught:
        runtime.run("plugin:lab/trap@1.0.0", export, args)
    assert caught.value.code == "plugin-trap"
    assert str(caught.value) == f"the plugin trapped: {message}"
    still_serves(runtime, pushed)


def test_deep_recursion_overflows_the_stack(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("recursion")
    with pytest.raises(PluginRunError) as caught:
        runtime.run("plugin:lab/recursion@1.0.0", "recurse", ["0"])
    assert caught.value.code == "plugin-stack"
    assert "call stack exhausted" in str(caught.value)
    still_serves(runtime, pushed)


def test_every_failure_in_a_row_then_a_good_run(runtime: PluginRuntime, pushed: Push) -> None:
    for name in ("loop", "membomb", "trap", "recursion"):
        pushed(name)
    codes = []
    for ref, export, args in [
        ("loop", "spin", []),
        ("membomb", "bomb", []),
        ("trap", "boom", []),
        ("recursion", "recurse", ["1"]),
    ]:
        with pytest.raises(PluginRunError) as caught:
            runtime.run(f"plugin:lab/{ref}@1.0.0", export, args)
        codes.append(caught.value.code)
    assert codes == ["plugin-fuel", "plugin-memory", "plugin-trap", "plugin-stack"]
    still_serves(runtime, pushed)


def test_stdio_stdin_args_and_exit_code(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("hello")
    out = runtime.run("plugin:lab/hello@1.0.0", "_start", stdin=b"world\n")
    assert (out["stdout"], out["stderr"]) == ("hello world\n", "a warning\n")
    assert runtime.run("plugin:lab/hello@1.0.0", "argc", ["a", "b"])["results"] == [3]
    assert runtime.run("plugin:lab/hello@1.0.0", "exit")["exitCode"] == 7


def test_output_is_capped(tmp_path: Path) -> None:
    with Registry.open(Settings(data_dir=tmp_path / "d", plugin_output_bytes=1000)) as reg:
        pusher(reg)("hello")
        out = reg.extension(PluginRuntime).run("plugin:lab/hello@1.0.0", "flood")
        assert len(out["stdout"]) == 1000
        assert out["stdoutTruncated"] is True
        assert out["stdout"].startswith("hello hello ")


def test_fs_read_is_a_read_only_directory(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("files", ["fs:read"])
    files = runtime.files_dir(Ref.parse("plugin:lab/files"))
    (files / "in.txt").write_text("data for the plugin\n")
    out = runtime.run("plugin:lab/files@1.0.0", "read")
    assert (out["results"], out["stdout"]) == ([0], "data for the plugin\n")
    refused = runtime.run("plugin:lab/files@1.0.0", "write")["results"][0]
    assert refused != 0  # a WASI errno: the directory is read-only
    assert not (files / "out.txt").exists()


def test_fs_write_is_a_read_write_directory(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("files", ["fs:write"])
    assert runtime.run("plugin:lab/files@1.0.0", "write")["results"] == [0]
    files = runtime.files_dir(Ref.parse("plugin:lab/files"))
    assert (files / "out.txt").read_text() == "written by a plugin\n"
    assert [p.name for p in files.iterdir()] == ["out.txt"]


def test_env_sees_only_the_allowlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGIN_OK", "yes")
    monkeypatch.setenv("PLUGIN_SECRET", "no")
    settings = Settings(data_dir=tmp_path / "d", plugin_env_allowlist=["PLUGIN_OK", "ABSENT"])
    with Registry.open(settings) as reg:
        pusher(reg)("env", ["env"])
        out = reg.extension(PluginRuntime).run("plugin:lab/env@1.0.0", "dump")
        assert out["stdout"] == "PLUGIN_OK=yes\n"
        assert out["results"] == [1]


def test_sleeping_is_not_available(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("sleep")
    assert runtime.run("plugin:lab/sleep@1.0.0", "nap")["results"] == [58]  # ENOTSUP


def test_sockets_with_permission_reach_nothing(runtime: PluginRuntime, pushed: Push) -> None:
    pushed("socket", ["network:http"])
    errno = runtime.run("plugin:lab/socket@1.0.0", "ping")["results"][0]
    assert errno == 8  # EBADF: no socket is ever handed to a plugin


def test_none_is_refused_unless_trusted(tmp_path: Path) -> None:
    with Registry.open(Settings(data_dir=tmp_path / "a")) as reg:
        pusher(reg)("add", sandboxing="none")
        with pytest.raises(Forbidden, match="does not run"):
            reg.extension(PluginRuntime).run("plugin:lab/add@1.0.0", "noop")
    with Registry.open(Settings(data_dir=tmp_path / "b", plugin_trust_unsandboxed=True)) as reg:
        pusher(reg)("add", sandboxing="none")
        out = reg.extension(PluginRuntime).run("plugin:lab/add@1.0.0", "add", ["1", "2"])
        assert out["results"] == [3]
        assert out["limits"]["fuel"] is None


def test_host_imports_are_not_runnable(sqlite_registry: Registry) -> None:
    pusher(sqlite_registry)("simple", exports=["exported_func"])
    entry = sqlite_registry.get("plugin:lab/simple@1.0.0")
    assert entry.status["wasm"]["runnable"] is False
    assert entry.status["wasm"]["hostImports"] == ["my_namespace.imported_func"]
    with pytest.raises(PluginNotRunnable, match=r"my_namespace\.imported_func"):
        sqlite_registry.extension(PluginRuntime).run("plugin:lab/simple@1.0.0", "exported_func")


def test_not_a_plugin(sqlite_registry: Registry) -> None:
    sqlite_registry.apply(
        {
            "kind": "service",
            "metadata": {"namespace": "lab", "name": "svc", "version": "1.0.0"},
            "spec": {},
        }
    )
    with pytest.raises(Invalid, match="not a plugin"):
        sqlite_registry.extension(PluginRuntime).run("service:lab/svc@1.0.0", "x")
