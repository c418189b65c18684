"""Ansible playbooks: plays, hosts, roles, tasks, the modules used, ``become``.

A playbook is a YAML list of plays (mappings with ``hosts`` or ``import_playbook``); other
YAML files of the bundle are taken as vars files or task files. Tasks are read through
``block``/``rescue``/``always``. A task's module is its one key that is not a task keyword.
Tasks of cloud modules (``amazon.aws.*``, ``ec2*``, ``google.cloud.*``, ``azure_rm_*``,
``kubernetes.core.k8s``, ...) are the template's resources; loops over a play variable
(``with_items: "{{ instances }}"``, ``loop:``) multiply them by its length, and
``{{ x | default('t2.micro') }}`` gives the default. Referenced files (``vars_files``,
``import_tasks``, ``include_tasks``, ``import_playbook``) and roles missing from the
bundle are reported, not fatal.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from hyper_registry.kinds.infra.model import Parsed, Resource
from hyper_registry.kinds.infra.safeyaml import YamlProblem, load

TASK_KEYWORDS = frozenset(
    [
        "name",
        "when",
        "loop",
        "loop_control",
        "register",
        "become",
        "become_user",
        "become_method",
        "become_flags",
        "tags",
        "notify",
        "vars",
        "args",
        "ignore_errors",
        "changed_when",
        "failed_when",
        "delegate_to",
        "delegate_facts",
        "run_once",
        "environment",
        "no_log",
        "until",
        "retries",
        "delay",
        "block",
        "rescue",
        "always",
        "listen",
        "check_mode",
        "diff",
        "connection",
        "any_errors_fatal",
        "async",
        "poll",
        "throttle",
        "timeout",
        "collections",
        "module_defaults",
        "debugger",
        "ignore_unreachable",
        "port",
        "remote_user",
        "action",
        "local_action",
    ]
)
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
_CLOUD = (
    ("amazon.aws.", "aws"),
    ("community.aws.", "aws"),
    ("google.cloud.", "google"),
    ("azure.azcollection.", "azurerm"),
    ("kubernetes.core.", "kubernetes"),
    ("ec2", "aws"),
    ("rds", "aws"),
    ("s3_", "aws"),
    ("elb_", "aws"),
    ("gcp_", "google"),
    ("azure_rm_", "azurerm"),
    ("k8s", "kubernetes"),
)
_VAR = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_DEFAULT = re.compile(r"default\(\s*['\"]([^'\"]+)['\"]\s*\)")


def cloud_provider(module: str) -> str | None:
    short = module.rsplit(".", 1)[-1] if module.count(".") >= 2 else module
    for prefix, provider in _CLOUD:
        if module.startswith(prefix) or short.startswith(prefix):
            return provider
    return None


def looks_like(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(p, dict) for p in data)
        and any("hosts" in p or "import_playbook" in p for p in data)
    )


def _module_of(task: dict[str, Any]) -> str | None:
    for key in task:
        if key not in TASK_KEYWORDS and not key.startswith("with_"):
            return str(key)
    action = task.get("action") or task.get("local_action")
    if isinstance(action, str):
        return action.split()[0] if action.split() else None
    if isinstance(action, dict) and isinstance(action.get("module"), str):
        return str(action["module"])
    return None


def parse(files: dict[str, str], parameters: dict[str, Any]) -> Parsed:
    parsed = Parsed(templateType="ansible", files=sorted(files))
    docs: dict[str, Any] = {}
    for path in sorted(files):
        if not path.endswith((".yml", ".yaml")):
            continue
        try:
            docs[path] = load(files[path])
        except YamlProblem as exc:
            parsed.note("error", exc.message, exc.code, file=path, line=exc.line)
    playbooks = [p for p, d in docs.items() if looks_like(d)]
    if not playbooks and not parsed.errors:
        parsed.note("error", "no playbook (a YAML list of plays with hosts) found", "no-playbook")
    plays: list[dict[str, Any]] = []
    modules: dict[str, int] = {}
    for path in playbooks:
        for i, play in enumerate(docs[path]):
            plays.append(_play(path, i, play, files, docs, parameters, modules, parsed))
    parsed.details["plays"] = plays
    parsed.details["modules"] = dict(sorted(modules.items()))
    parsed.providers = sorted({r.provider for r in parsed.resources})
    return parsed


def _play(
    path: str,
    index: int,
    play: dict[str, Any],
    files: dict[str, str],
    docs: dict[str, Any],
    parameters: dict[str, Any],
    modules: dict[str, int],
    parsed: Parsed,
) -> dict[str, Any]:
    here = posixpath.dirname(path)
    if "import_playbook" in play:
        _need(here, play["import_playbook"], files, parsed, path, "playbook")
        return {"file": path, "import_playbook": play["import_playbook"]}
    variables: dict[str, Any] = (
        dict(play.get("vars") or {}) if isinstance(play.get("vars"), dict) else {}
    )
    vars_files = play.get("vars_files") or []
    for vf in vars_files if isinstance(vars_files, list) else [vars_files]:
        if isinstance(vf, str):
            found = _need(here, vf, files, parsed, path, "vars file")
            if found and isinstance(docs.get(found), dict):
                variables.update(docs[found])
    variables.update(parameters)
    roles = []
    for role in play.get("roles") or []:
        name = (
            role
            if isinstance(role, str)
            else role.get("role") or role.get("name")
            if isinstance(role, dict)
            else None
        )
        if isinstance(name, str):
            roles.append(name)
            if not any(p.startswith((f"roles/{name}/", f"{here}/roles/{name}/")) for p in files):
                parsed.note(
                    "info",
                    f"role {name!r} is not in the template; its tasks are not read",
                    "role-missing",
                    file=path,
                )
    tasks = 0
    for key in TASK_LISTS:
        for task in _tasks(play.get(key)):
            tasks += 1
            _task(path, index, task, here, files, variables, modules, parsed)
    return {
        "file": path,
        "name": play.get("name"),
        "hosts": play.get("hosts"),
        "become": bool(play.get("become", False)),
        "roles": roles,
        "tasks": tasks,
    }


def _tasks(value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for task in value if isinstance(value, list) else []:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            for part in ("block", "rescue", "always"):
                out.extend(_tasks(task.get(part)))
        else:
            out.append(task)
    return out


def _need(
    here: str, ref: Any, files: dict[str, str], parsed: Parsed, path: str, what: str
) -> str | None:
    if not isinstance(ref, str) or "{{" in ref:
        return None
    target = posixpath.normpath(posixpath.join(here, ref))
    if target in files:
        return target
    parsed.note("warning", f"{what} {ref!r} is not in the template", "missing-file", file=path)
    return None


def _resolve(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, str) and "{{" in value:
        m = _VAR.match(value.strip())
        if m and m.group(1) in variables:
            return variables[m.group(1)]
        d = _DEFAULT.search(value)
        return d.group(1) if d else None
    return value


def _task(
    path: str,
    play: int,
    task: dict[str, Any],
    here: str,
    files: dict[str, str],
    variables: dict[str, Any],
    modules: dict[str, int],
    parsed: Parsed,
) -> None:
    module = _module_of(task)
    if module is None:
        return
    modules[module] = modules.get(module, 0) + 1
    short = module.rsplit(".", 1)[-1]
    if short in ("import_tasks", "include_tasks", "include", "include_vars"):
        _need(
            here,
            task[module] if isinstance(task[module], str) else None,
            files,
            parsed,
            path,
            "file",
        )
    provider = cloud_provider(module)
    if provider is None:
        return
    args = task[module] if isinstance(task[module], dict) else {}
    loop = task.get("loop", next((task[k] for k in task if k.startswith("with_")), None))
    count: int | None = 1
    expr = None
    if loop is not None:
        items = _resolve(loop, variables)
        count = len(items) if isinstance(items, list | dict) else None
        expr = None if count is not None else str(loop)[:200]
    attrs: dict[str, Any] = {}
    for key, value in args.items():
        v = _resolve(value, variables)
        if isinstance(v, str | int | float | bool) and not (isinstance(v, str) and len(v) > 200):
            attrs[key] = v
    name = task.get("name") if isinstance(task.get("name"), str) else module
    parsed.resources.append(
        Resource(
            address=f"play[{play}].{short}.{len(parsed.resources)}",
            type=short,
            name=str(name)[:200],
            provider=provider,
            count=count,
            countExpr=expr,
            file=path,
            attributes=attrs,
        )
    )
