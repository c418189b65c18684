"""Parsing a template, bounded in time and memory.

``parse_files`` parses in the calling process. ``parse_bounded`` runs it in a child
process (``fork``: the child starts with the parent's already imported parsers, in
about 10 ms) and waits at most ``timeout`` seconds; a parse that runs away is killed
and reported as an ``error`` note, and the child's address space is capped so a memory
bomb fails there instead of in the server. A thread could not be stopped (Python has no
way to kill one), which is why the parse is not run in a thread with a timeout.
Where ``fork`` does not exist (Windows, macOS' default) the parse runs in-process,
bounded only by the input limits (size, YAML depth and aliases).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from hyper_registry.kinds.infra import ansible, cloudformation, helm, terraform
from hyper_registry.kinds.infra.archives import ArchiveProblem
from hyper_registry.kinds.infra.detect import source_files
from hyper_registry.kinds.infra.model import Parsed

PARSE_TIMEOUT = 20.0
"""Seconds a parse may take (a 1 MB Terraform file parses in about 5 s here)."""
CHILD_MEMORY_BYTES = 1024 * 1024 * 1024
"""Address space a parse may add to the parent's."""

PARSERS: dict[str, Callable[[dict[str, str], dict[str, Any]], Parsed]] = {
    "terraform": terraform.parse,
    "helm": helm.parse,
    "cloudformation": cloudformation.parse,
    "ansible": ansible.parse,
}


def parse_files(template_type: str, files: dict[str, str], parameters: dict[str, Any]) -> Parsed:
    parsed = PARSERS[template_type](files, parameters)
    parsed.files = sorted(files)
    return parsed


def parse_source(template_type: str, source: str, parameters: dict[str, Any]) -> Parsed:
    try:
        files = source_files(template_type, source)
    except ArchiveProblem as exc:
        parsed = Parsed(templateType=template_type)
        parsed.note("error", str(exc), exc.code)
        return parsed
    return parse_files(template_type, files, parameters)


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as fh:
            current = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = current + CHILD_MEMORY_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (OSError, ValueError, ImportError):  # pragma: no cover - not Linux
        pass


def _child(conn: Any, template_type: str, source: str, parameters: dict[str, Any]) -> None:
    _limit_memory()
    try:
        result: Any = ("ok", parse_source(template_type, source, parameters).model_dump())
    except MemoryError:
        result = ("error", "the parse ran out of memory")
    except RecursionError:
        result = ("error", "the template is nested too deeply")
    except Exception as exc:  # the child must answer, whatever went wrong
        result = ("error", f"the parser failed: {type(exc).__name__}")
    try:
        conn.send(result)
    finally:
        conn.close()


def _warm() -> None:
    """Import the parsers (and build HCL's grammar) before forking, so every child has them."""
    import hcl2.parser

    hcl2.parser.parser()


def parse_bounded(
    template_type: str,
    source: str,
    parameters: dict[str, Any],
    *,
    timeout: float = PARSE_TIMEOUT,
) -> Parsed:
    """``parse_source`` in a child process that is killed after ``timeout`` seconds."""
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return parse_source(template_type, source, parameters)
    if template_type == "terraform":
        _warm()
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, template_type, source, parameters), daemon=True)
    proc.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                status, payload = receive.recv()
            except EOFError:
                status, payload = "error", "the parser stopped without an answer (out of memory?)"
        else:
            status, payload = "timeout", f"the parse took more than {timeout:g} s and was stopped"
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        proc.close()
    if status == "ok":
        return Parsed.model_validate(payload)
    parsed = Parsed(templateType=template_type)
    parsed.note("error", str(payload), "timeout" if status == "timeout" else "parser-failed")
    return parsed
