"""Generate the reference pages that come from the code (run by mkdocs-gen-files at build time).

Nothing here is written by hand: the tasks.toml schema comes from the pydantic models, exit codes
and environment variables from ``osirix_tasks.contract``, the control requests from
``osirix_tasks.host.control_protocol``, the web API from the page's routes. A new field, option or
route appears in the site without anyone writing it.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import io
import tokenize
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mkdocs_gen_files


def _attribute_comments(source_file: str) -> dict[str, str]:
    """``#:`` comments above assignments (Sphinx style), by the assigned name."""
    comments: dict[str, str] = {}
    pending: list[str] = []
    text = Path(source_file).read_text()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and token.string.startswith("#:"):
            pending.append(token.string[2:].strip())
        elif token.type == tokenize.NAME and pending:
            comments.setdefault(token.string, " ".join(pending))
            pending = []
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
            pending = []
    return comments


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _enum_page(title: str, intro: str, members: type[enum.Enum], value_header: str) -> str:
    comments = _attribute_comments(inspect.getsourcefile(members) or "")
    rows = [(f"`{m.value}`", f"`{m.name}`", comments.get(m.name, "")) for m in members]
    return f"# {title}\n\n{intro}\n\n" + _table([value_header, "name", "meaning"], rows)


def _schema_rows(model: Any) -> list[tuple[str, str, str, str]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    comments = _attribute_comments(inspect.getsourcefile(model) or "")
    rows = []
    for name, field in model.model_fields.items():
        prop = schema.get("properties", {}).get(name, {})
        kind = prop.get("type") or " or ".join(
            str(p.get("type", p.get("$ref", "")).split("/")[-1]) for p in prop.get("anyOf", [])
        )
        if "enum" in prop:
            kind = " / ".join(f"`{v}`" for v in prop["enum"])
        if name in required:
            default = "required"
        elif field.default_factory is not None and field.default_factory not in (list, dict):
            default = (inspect.getdoc(field.default_factory) or "computed").split("\n")[0]
        else:
            default = f"`{field.get_default(call_default_factory=True)!r}`"
        meaning = field.description or comments.get(name, "")
        rows.append((f"`{name}`", kind or "", default, meaning))
    return rows


def tasks_toml_page() -> str:
    from osirix_tasks import model

    parts = [
        "# `tasks.toml`\n",
        "The registry: one `[settings]` table and any number of `[[task]]` tables. Generated from the",
        "pydantic models in `osirix_tasks/model.py`; every problem is reported with its line.\n",
    ]
    for title, cls in (("`[settings]`", model.RegistrySettings), ("`[[task]]`", model.TaskSpec)):
        doc = inspect.getdoc(cls) or ""
        parts.append(f"## {title}\n\n{doc}\n\n" + _table(["field", "type", "default", "meaning"], _schema_rows(cls)))
    for name in ("Trigger", "DicomSettings", "DicomNode"):  # tables other issues add, when they exist
        cls = getattr(model, name, None)
        if cls is not None:
            parts.append(
                f"## `{name}`\n\n{inspect.getdoc(cls) or ''}\n\n"
                + _table(["field", "type", "default", "meaning"], _schema_rows(cls))
            )
    return "\n".join(parts)


def _type_name(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return f"`{text}`"


def control_page() -> str:
    from osirix_tasks.host import control_protocol as cp

    parts = ["# The control channel\n", inspect.getdoc(cp) or "", "\n## Requests\n"]
    for name, cls in inspect.getmembers(cp, inspect.isclass):
        if not dataclasses.is_dataclass(cls) or cls.__module__ != cp.__name__:
            continue
        fields = dataclasses.fields(cls)
        rows = [
            (f"`{f.name}`", _type_name(f.type), "" if f.default is dataclasses.MISSING else f"`{f.default!r}`")
            for f in fields
        ]
        parts.append(f"### `{name}`\n\n{inspect.getdoc(cls) or ''}\n\n" + _table(["field", "type", "default"], rows))
    return "\n".join(parts)


def web_api_page() -> str:
    from starlette.routing import Route

    from osirix_tasks.web import routes

    rows = []
    for route in routes.ROUTES:
        if not isinstance(route, Route):
            continue
        endpoint = route.endpoint
        target = getattr(endpoint, "__wrapped__", endpoint)
        doc = (inspect.getdoc(target) or "").split("\n\n")[0]
        module = getattr(target, "__module__", "").rsplit(".", 1)[-1]
        methods = ", ".join(sorted(m for m in (route.methods or ()) if m != "HEAD"))
        rows.append((methods, f"`{route.path}`", module, doc))
    intro = (
        "The page's JSON API (`osirix_tasks/web/routes/`), generated from its routes. Every request carries the "
        "page's token or is refused (see [the security model](../explanation/security.md))."
    )
    return "# The web API\n\n" + intro + "\n\n" + _table(["methods", "path", "window", "what"], rows)


def main() -> None:
    from osirix_tasks import contract

    pages = {
        "reference/tasks-toml.md": tasks_toml_page(),
        "reference/exit-codes.md": _enum_page(
            "Exit codes",
            "Of a task's process and of `osirix-tasks run` (`osirix_tasks/contract.py`); a run ended by "
            f"signal N exits with {contract.SIGNAL_EXIT_BASE} + N, as shells do.",
            contract.ExitCode,
            "code",
        ),
        "reference/environment.md": _enum_page(
            "Environment variables",
            "What osirix-tasks reads or sets (`osirix_tasks/contract.py`).",
            contract.Env,
            "variable",
        ),
        "reference/control-api.md": control_page(),
        "reference/web-api.md": web_api_page(),
    }
    for path, text in pages.items():
        with mkdocs_gen_files.open(path, "w") as out:
            out.write(text)


main()
