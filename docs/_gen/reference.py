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


def _kind(schema: dict[str, Any], prop: dict[str, Any]) -> str:
    """One alternative of a field's type: an enum's values, a nested table's name, or the JSON type."""
    if "$ref" in prop:
        name = prop["$ref"].split("/")[-1]
        values = schema.get("$defs", {}).get(name, {}).get("enum")
        return " / ".join(f"`{v}`" for v in values) if values else name
    return str(prop.get("type", ""))


def _schema_rows(model: Any) -> list[tuple[str, str, str, str]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    comments = _attribute_comments(inspect.getsourcefile(model) or "")
    rows = []
    for name, field in model.model_fields.items():
        prop = schema.get("properties", {}).get(name, {})
        if "$ref" in prop:  # an enum or a nested table, defined once in $defs
            prop = {**schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], {}), **prop}
        kind = prop.get("type") or " or ".join(_kind(schema, p) for p in prop.get("anyOf", []))
        if "enum" in prop:
            kind = " / ".join(f"`{v}`" for v in prop["enum"])
        elif kind == "array" and "$ref" in prop.get("items", {}):
            kind = f"array of tables ({prop['items']['$ref'].split('/')[-1]})"
        if name in required:
            default = "required"
        elif field.default_factory is not None and field.default_factory not in (list, dict):
            default = (inspect.getdoc(field.default_factory) or "computed").split("\n")[0]
        else:
            value = field.get_default(call_default_factory=True)
            default = f"`{value.value!r}`" if isinstance(value, enum.Enum) else f"`{value!r}`"
        meaning = field.description or comments.get(name, "")
        rows.append((f"`{name}`", kind or "", default, meaning))
    return rows


#: The tables of tasks.toml: (heading, the model defining it). A model this build lacks (a table another
#: branch adds) is left out; every model here that exists is documented from its fields.
TOML_TABLES = (
    ("`[settings]`", "RegistrySettings"),
    ("`[[task]]`", "TaskSpec"),
    ("`[dicom]`", "DicomSettings"),
    ("`[[dicom.node]]`", "RemoteNode"),
    ("`[[trigger]]`", "TriggerSpec"),
)


def tasks_toml_page() -> str:
    from osirix_tasks import model

    parts = [
        "# `tasks.toml` fields\n",
        "Every table and field of the registry, generated from the pydantic models in `osirix_tasks/model.py`",
        "(which also validate it: every problem is reported with its file, line and field). How the file is",
        "found, edited and checked: [the registry](registry.md).\n",
    ]
    for title, name in TOML_TABLES:
        cls = getattr(model, name, None)
        if cls is None:
            continue
        doc = inspect.getdoc(cls) or ""
        rows = _schema_rows(cls)
        parts.append(f"## {title}\n\n{doc}\n\n" + _table(["field", "type", "default", "meaning"], rows))
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

    rows, undocumented = [], []
    for route in routes.ROUTES:
        if not isinstance(route, Route):
            continue
        endpoint = route.endpoint
        target = getattr(endpoint, "__wrapped__", endpoint)
        doc = (inspect.getdoc(target) or "").split("\n\n")[0]
        if not doc:
            undocumented.append(f"{target.__module__}.{target.__name__} ({route.path})")
        module = getattr(target, "__module__", "").rsplit(".", 1)[-1]
        methods = ", ".join(sorted(m for m in (route.methods or ()) if m != "HEAD"))
        rows.append((methods, f"`{route.path}`", module, doc))
    if undocumented:  # the page says what each route does: its docstring's first paragraph
        raise RuntimeError(f"web routes without a docstring: {', '.join(undocumented)} - document them")
    intro = (
        "The page's JSON API (`osirix_tasks/web/routes/`), generated from its routes. Every request carries the "
        "page's token or is refused (see [the security model](../explanation/security.md))."
    )
    return "# The web API\n\n" + intro + "\n\n" + _table(["methods", "path", "window", "what"], rows)


#: The limits a user may meet, by area: (module, constant, required). The value and its meaning (the
#: ``#:`` comment above the constant) are read from the code. A constant that is not required is one
#: another branch adds, left out while this build lacks it; a required one that is gone fails the build
#: (every one listed here is in the build today: all required).
LIMITS: tuple[tuple[str, tuple[tuple[str, str, bool], ...]], ...] = (
    (
        "The gRPC ports",
        (
            ("osirix_tasks.wire.options", "MAX_MESSAGE_BYTES", True),
            ("osirix_tasks.emulator.request_guard", "SMALL_CALL_LIMIT_BYTES", True),
            ("osirix_tasks.emulator.request_guard", "LARGE_REQUEST_BYTES", True),
            ("osirix_tasks.emulator.roi_factory", "NAME_LIMIT", True),
            ("osirix_tasks.emulator.roi_bounds", "MAX_ROI_POINTS", True),
            ("osirix_tasks.emulator.roi_bounds", "MAX_CURVE_POINTS", True),
            ("osirix_tasks.emulator.roi_bounds", "MAX_FILL_CROSSINGS", True),
        ),
    ),
    (
        "DICOM files",
        (
            ("osirix_tasks.emulator.database.dicomread", "MAX_HEADER_BYTES", True),
            ("osirix_tasks.emulator.database.dicomread", "MAX_INFLATED_HEADER_BYTES", True),
            ("osirix_tasks.emulator.database.declared_size", "MAX_DEFLATE_RATIO", True),
            ("osirix_tasks.emulator.decode_limit", "DEFAULT_MAX_DECODE_BYTES", True),
            ("osirix_tasks.roidicom.objects", "MAX_OBJECT_BYTES", True),
            ("osirix_tasks.roidicom.evidence", "MAX_HEADER", True),
            ("osirix_tasks.roidicom.seg", "MAX_SEG_FRAMES", True),
            ("osirix_tasks.roidicom.private", "MAX_DOCUMENT", True),
        ),
    ),
    (
        "Runs and the console",
        (
            ("osirix_tasks.run.store", "DEFAULT_MAX_OUTPUT_BYTES", True),
            ("osirix_tasks.batch.item", "MAX_ITEM_OUTPUT", True),
            ("osirix_tasks.client.deferred", "MAX_DEFERRED_BYTES", True),
        ),
    ),
    (
        "The page",
        (
            ("osirix_tasks.web.connections", "MAX_CONNECTIONS", True),
            ("osirix_tasks.web.connections", "HEADER_SECONDS", True),
            ("osirix_tasks.web.server", "MAX_HEAD_BYTES", True),
            ("osirix_tasks.web.server", "KEEP_ALIVE_SECONDS", True),
            ("osirix_tasks.web.streams", "MAX_STREAMS", True),
            ("osirix_tasks.web.streams", "STREAM_SECONDS", True),
            ("osirix_tasks.web.tickets", "TICKET_SECONDS", True),
            ("osirix_tasks.web.uploads", "MAX_UPLOAD_BYTES", True),
            ("osirix_tasks.web.uploads", "KEEP_SECONDS", True),
            ("osirix_tasks.web.render3d", "MAX_SIDE", True),
            ("osirix_tasks.web.batch_starts", "MAX_DRIVERS", True),
        ),
    ),
    (
        "The control channel",
        (
            ("osirix_tasks.host.control_protocol", "MAX_FRAME_BYTES", True),
            ("osirix_tasks.host.control_protocol", "HANDSHAKE_SECONDS", True),
            ("osirix_tasks.host.control_listener", "MAX_CONNECTIONS", True),
            ("osirix_tasks.host.control_listener", "REQUEST_SECONDS", True),
        ),
    ),
    (
        "The DICOM node",
        (
            ("osirix_tasks.dicomnode.query", "MAX_MATCHES", True),
            ("osirix_tasks.dicomnode.allow", "REFUSAL_WINDOW_SECONDS", True),
        ),
    ),
)


def _limit_value(name: str, value: object) -> str:
    if isinstance(value, float) and name.endswith("SECONDS"):
        return f"{value:g} s"
    if isinstance(value, int) and name.endswith("SECONDS"):
        return f"{value} s"
    if isinstance(value, int) and ("BYTES" in name or name.endswith(("OUTPUT", "HEADER", "DOCUMENT"))):
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if value >= size and value % size == 0:
                return f"{value // size} {unit}"
        return f"{value} bytes"
    return f"{value:,}" if isinstance(value, int) else str(value)


def limits_page() -> str:
    import importlib

    parts = [
        "# Limits\n",
        "Every resource is bounded: what one request, file, run or connection may take. Generated from the",
        "constants that enforce them (value and meaning from the code). Limits a user sets are settings: the",
        "run store's output cap (`console --max-output MB`), the DICOM node's `max_associations` and",
        "`max_dataset_mb` ([`[dicom]`](tasks-toml.md)), and those in [environment variables](environment.md).\n",
    ]
    for area, constants in LIMITS:
        rows = []
        for module_name, name, required in constants:
            try:
                module = importlib.import_module(module_name)
                value = getattr(module, name)
            except (ImportError, AttributeError) as exc:
                if required:
                    raise RuntimeError(f"the limits page names {module_name}.{name}: {exc} - update docs/_gen") from exc
                continue
            meaning = _attribute_comments(inspect.getsourcefile(module) or "").get(name, "")
            rows.append((_limit_value(name, value), meaning, f"`{module_name.removeprefix('osirix_tasks.')}.{name}`"))
        if rows:
            parts.append(f"## {area}\n\n" + _table(["limit", "what", "defined in"], rows))
    return "\n".join(parts)


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
        "reference/limits.md": limits_page(),
    }
    for path, text in pages.items():
        with mkdocs_gen_files.open(path, "w") as out:
            out.write(text)


main()
