"""The one definition of every record osirix-tasks keeps: tasks, settings, servers, run states
(the context a running task receives is :mod:`osirix_tasks.context`).

TOML, JSON export, the CLI and the runner all derive from these pydantic models. Validation
messages follow one shape, ``what is wrong - what to do``, so that the registry loader can
prefix them with file, line, task and field.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "TaskType",
    "TaskSpec",
    "RegistrySettings",
    "ServerSpec",
    "RunStatus",
    "MODULE_LOCATION",
    "FILE_FUNCTION_LOCATION",
    "default_task_name",
]

#: ``package.module:function`` - the location of a decorated task in an importable module (a name
#: ending in ``.py`` is a file: see FILE_FUNCTION_LOCATION).
MODULE_LOCATION = re.compile(r"^(?![\w.]*\.py:)[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
#: ``PATH.py:function`` - a decorated function of a Python file (imported from that file, not by name).
FILE_FUNCTION_LOCATION = re.compile(r"^(?P<path>.+\.py):(?P<function>[A-Za-z_]\w*)$")


class TaskType(enum.StrEnum):
    """The four kinds of OsiriXgrpc scripts, named as OsiriX's menus name them."""

    DATABASE = "Database"
    IMAGE = "Image"
    VR_CONTROLLER = "VRController"
    ROI = "ROI"

    @classmethod
    def parse(cls, value: object) -> TaskType:
        """Accept our names, the plugin's names, pyosirix's tool names and codes 1-4.

        Raises ValueError with the accepted spellings when ``value`` is none of them.
        """
        if isinstance(value, TaskType):
            return value
        key = str(value).strip()
        found = _TYPE_ALIASES.get(key.lower())
        if found is None:
            accepted = ", ".join(t.value for t in cls)
            raise ValueError(
                f"unknown task type {value!r} - use one of {accepted} "
                "(the plugin's VR, codes 1-4 and pyosirix's gRPC*Tool names are accepted too)"
            )
        return found

    @property
    def plugin_name(self) -> str:
        """The spelling the OsiriXgrpc plugin writes in script_configs.json."""
        return _PLUGIN_NAMES[self]


_PLUGIN_NAMES = {
    TaskType.IMAGE: "Image",
    TaskType.ROI: "ROI",
    TaskType.VR_CONTROLLER: "VR",
    TaskType.DATABASE: "Database",
}
_PLUGIN_CODES = {TaskType.IMAGE: 1, TaskType.ROI: 2, TaskType.VR_CONTROLLER: 3, TaskType.DATABASE: 4}
_PYOSIRIX_NAMES = {
    TaskType.IMAGE: "gRPCImageRenderTool",
    TaskType.ROI: "gRPCROITool",
    TaskType.VR_CONTROLLER: "gRPCVolumeRenderTool",
    TaskType.DATABASE: "gRPCDatabaseTool",
}
_TYPE_ALIASES: dict[str, TaskType] = {}
for _t in TaskType:
    for _alias in (_t.value, _PLUGIN_NAMES[_t], _PYOSIRIX_NAMES[_t], str(_PLUGIN_CODES[_t])):
        _TYPE_ALIASES[_alias.lower()] = _t
_TYPE_ALIASES["vr"] = TaskType.VR_CONTROLLER
_TYPE_ALIASES["3d"] = TaskType.VR_CONTROLLER


class RunStatus(enum.StrEnum):
    """How far a run has got. The values are what the run store, ``--json`` and the web UI show."""

    STARTING = "starting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"
    #: The task could not be started at all.
    ERROR = "error"
    #: Its supervisor died before recording the end.
    LOST = "lost"

    @property
    def finished(self) -> bool:
        """Whether the run has ended (no process of ours watches it any more)."""
        return self not in (RunStatus.STARTING, RunStatus.RUNNING)

    @classmethod
    def final(cls) -> tuple[str, ...]:
        """The values of every finished status (for SQL ``IN`` clauses)."""
        return tuple(s.value for s in cls if s.finished)


#: File suffix -> language. Only Python is run today; the table is where a new one goes.
LANGUAGES = {".py": "python"}


def detect_language(location: str) -> str:
    """The language of a task from its location (a script path or ``module:function``)."""
    if location.endswith(".py") or MODULE_LOCATION.match(location) or FILE_FUNCTION_LOCATION.match(location):
        return "python"
    suffix = os.path.splitext(location)[1].lower()
    if suffix in LANGUAGES:
        return LANGUAGES[suffix]
    shown = suffix or "no extension"
    raise ValueError(
        f"cannot run {os.path.basename(location)!r} ({shown}): only Python scripts (.py) are"
        " supported"
        " - point 'location' at a .py file"
    )


def default_interpreter() -> str:
    """The interpreter running osirix-tasks: the default for every task."""
    return sys.executable


@functools.lru_cache(maxsize=64)
def _check_executable(path: str) -> str:
    """Raise a ValueError saying what to do unless ``path`` is an absolute executable file.

    Successes are cached (a registry names few interpreters, ten thousand times); failures are
    not, so a fixed path is seen at once. The runner checks again when it starts a process.
    """
    if not os.path.isabs(path):
        raise ValueError(
            f"interpreter {path!r} is not an absolute path - give the full path, e.g. {default_interpreter()}"
        )
    if not os.path.exists(path):
        raise ValueError(
            f"interpreter {path!r} does not exist - install it or point 'interpreter' at an existing Python"
        )
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise ValueError(f"interpreter {path!r} is not an executable file - chmod +x it or fix the path")
    return path


class TaskSpec(BaseModel):
    """One runnable task: a script file or a decorated function, identified by (name, type)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    #: The menu's name; with ``type``, what identifies the task (default: the file's or function's name).
    name: str = Field(min_length=1)
    #: Which menu offers it and what it gets: Database, Image, VRController or ROI (the plugin's VR, codes
    #: 1-4 and pyosirix's gRPC*Tool names are accepted too).
    type: TaskType
    #: A script's path (relative to tasks.toml, or absolute), or ``module:function`` of a decorated task.
    location: str
    #: OsiriX waits for it to finish: while it runs, every other start is refused.
    blocking: bool = False
    #: Detected from the location (only Python runs today); given, it must match.
    language: str = Field(default="", validate_default=True)
    #: Absolute path of the Python that runs it.
    interpreter: str = Field(default_factory=default_interpreter)
    #: One line shown with the task (a decorated task's default: its docstring's first line).
    description: str = ""
    #: Seconds after which a run is stopped (exit code 124).
    timeout: Annotated[float, Field(gt=0)] | None = None
    #: Arguments given to every run, before those of ``run NAME -- ARGS``.
    args: list[str] = Field(default_factory=list)
    #: Variables added to the run's minimal environment (before plugins add theirs).
    env: dict[str, str] = Field(default_factory=dict)
    #: A decorated task that works on its series' pixels alone (``context.volume``): a batch can run it
    #: on workers that cannot reach OsiriX, the pixels shipped with each item.
    pixels: bool = False

    @property
    def key(self) -> tuple[str, TaskType]:
        """(name, type): how OsiriX tells tasks apart."""
        return (self.name, self.type)

    @property
    def is_script(self) -> bool:
        """True for a script file, False for a decorated ``module:function`` or ``file.py:function``."""
        return not (MODULE_LOCATION.match(self.location) or FILE_FUNCTION_LOCATION.match(self.location))

    @property
    def file(self) -> str | None:
        """The Python file of a script, or of a decorated ``file.py:function``; None for a module's."""
        if MODULE_LOCATION.match(self.location):
            return None
        found = FILE_FUNCTION_LOCATION.match(self.location)
        return found["path"] if found else self.location

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("location"), str):
            data = {**data, "name": default_task_name(data["location"])}
        return data

    @field_validator("type", mode="before")
    @classmethod
    def _parse_type(cls, value: object) -> TaskType:
        return TaskType.parse(value)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if value != value.strip() or "\n" in value:
            raise ValueError(
                f"name {value!r} has leading/trailing spaces or a newline - write it on one line"
                " without surrounding spaces"
            )
        return value

    @field_validator("location")
    @classmethod
    def _check_location(cls, value: str) -> str:
        if MODULE_LOCATION.match(value):
            return value
        in_file = FILE_FUNCTION_LOCATION.match(value)
        path = in_file["path"] if in_file else value
        kind = "file" if in_file else "script"
        if not os.path.isabs(path):
            raise ValueError(
                f"{kind} path {path!r} is not absolute - give the full path (relative paths in "
                "tasks.toml are read from the file's folder)"
            )
        if not _is_file(path):
            raise ValueError(f"{kind} {path!r} does not exist - create it or fix the path")
        detect_language(path)
        return value

    @field_validator("env")
    @classmethod
    def _check_env(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not name or "=" in name or "\x00" in name or "\x00" in value[name]:
                raise ValueError(
                    f"environment variable {name!r} cannot be set - names are non-empty and have no '=' or NUL; "
                    "values have no NUL"
                )
        return value

    @field_validator("interpreter")
    @classmethod
    def _check_interpreter(cls, value: str) -> str:
        return _check_executable(value)

    @field_validator("language")
    @classmethod
    def _detect_language(cls, value: str, info: ValidationInfo) -> str:
        location = info.data.get("location")
        if location is None:  # the location itself was invalid and is reported already
            return value
        detected = detect_language(location)
        if value and value.lower() != detected:
            raise ValueError(
                f"language {value!r} does not match the file ({detected}) - remove 'language' and let it be detected"
            )
        return detected

    def to_toml_table(self) -> dict[str, Any]:
        """The entry as written to tasks.toml: defaults left out, so files stay short."""
        table: dict[str, Any] = {"name": self.name, "type": self.type.value, "location": self.location}
        if self.blocking:
            table["blocking"] = True
        if self.interpreter != default_interpreter():
            table["interpreter"] = self.interpreter
        if self.description:
            table["description"] = self.description
        if self.timeout is not None:
            table["timeout"] = self.timeout
        if self.args:
            table["args"] = list(self.args)
        if self.env:
            table["env"] = dict(self.env)
        if self.pixels:
            table["pixels"] = True
        return table

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return self.model_dump(mode="json")


#: While a registry is validated, the files already seen (a file named by 10,000 tasks is
#: looked up once); None outside :func:`batch_validation`.
_SEEN_FILES: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("osirix_tasks_seen_files", default=None)


def _is_file(path: str) -> bool:
    seen = _SEEN_FILES.get()
    if seen is None:
        return os.path.isfile(path)
    if path in seen:
        return True
    if os.path.isfile(path):
        seen.add(path)
        return True
    return False


@contextlib.contextmanager
def batch_validation() -> Iterator[None]:
    """Within the block, each script file is checked on disk once, however many tasks name it."""
    token = _SEEN_FILES.set(set())
    try:
        yield
    finally:
        _SEEN_FILES.reset(token)


def default_task_name(location: str) -> str:
    """A task's name when none is given: the function of a decorated task, else the script's file name."""
    if MODULE_LOCATION.match(location) or FILE_FUNCTION_LOCATION.match(location):
        return location.rsplit(":", 1)[1]
    return Path(location).stem


class RegistrySettings(BaseModel):
    """The ``[settings]`` table of tasks.toml."""

    model_config = ConfigDict(extra="forbid")

    #: Task packs not loaded: entry-point or distribution names.
    disabled_packs: list[str] = Field(default_factory=list)
    #: Importable modules whose ``@osirix_task`` functions are tasks.
    modules: list[str] = Field(default_factory=list)
    #: The local plugins folder (``*.py`` files implementing hooks), relative to tasks.toml; default ``plugins/``.
    plugins_dir: str | None = None
    #: ``tcp://HOST:PORT`` of the Dask scheduler batches use (``batch --scheduler`` wins); none: a local cluster.
    batch_scheduler: str | None = None


class ServerSpec(BaseModel):
    """One entry of the plugin's server_configs.json."""

    model_config = ConfigDict(extra="forbid")

    ipaddress: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)]
    active: bool = False

    @field_validator("ipaddress")
    @classmethod
    def _local_only(cls, value: str) -> str:
        if value != "127.0.0.1":
            raise ValueError(
                f"address {value!r} is refused: OsiriXgrpc servers listen on 127.0.0.1 only, so "
                "that no other machine can drive OsiriX - use 127.0.0.1"
            )
        return value

    @field_validator("active", mode="before")
    @classmethod
    def _yes_no(cls, value: object) -> object:
        if isinstance(value, str) and value.upper() in ("YES", "NO"):
            return value.upper() == "YES"
        return value

    def to_plugin_json(self) -> dict[str, str]:
        """The entry exactly as the plugin writes it: strings, YES/NO."""
        return {
            "ipaddress": self.ipaddress,
            "port": str(self.port),
            "active": "YES" if self.active else "NO",
        }


# --- the DICOM node: [dicom], [[dicom.node]] and [[trigger]] of tasks.toml ----------------------

#: The AE title the node uses unless ``[dicom] ae_title`` or ``serve --dicom-aet`` says otherwise.
DEFAULT_AE_TITLE = "OSIRIX_TASKS"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_ae_title(value: str) -> str:
    """An AE title as DICOM allows it (1-16 characters, no backslash or control character), stripped."""
    text = value.strip()
    if not 1 <= len(text) <= 16 or "\\" in text or any(ord(c) < 32 or ord(c) > 126 for c in text):
        raise ValueError(
            f"AE title {value!r} is not valid - use 1 to 16 printable ASCII characters without a backslash, "
            'e.g. "OSIRIX_TASKS"'
        )
    return text


class RemoteNode(BaseModel):
    """A DICOM node this host queries and sends to (one ``[[dicom.node]]`` entry)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: What the commands and the page call the node (``osirix-tasks dicom echo NAME``); unique in the file.
    name: str = Field(min_length=1)
    #: The node's own AE title (the called AE title of our associations; a C-MOVE destination's name).
    ae_title: str
    #: The node's host name or IP address.
    host: str = Field(min_length=1)
    #: The node's DICOM port (1-65535).
    port: Annotated[int, Field(ge=1, le=65535)]

    @field_validator("ae_title")
    @classmethod
    def _check_ae(cls, value: str) -> str:
        return check_ae_title(value)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return self.model_dump(mode="json")


class DicomSettings(BaseModel):
    """The ``[dicom]`` table of tasks.toml: the host's DICOM node and the nodes it knows.

    The node listens only when ``port`` is set (or ``serve --dicom-port``). It binds ``address``,
    127.0.0.1 by default; any other address is an explicit choice that requires both allow-lists.
    """

    model_config = ConfigDict(extra="forbid")

    #: This node's AE title: the called AE title peers send to, and the calling one of our queries and sends
    #: (``serve --dicom-aet``).
    ae_title: str = DEFAULT_AE_TITLE
    #: The port the node listens on (0: a free one; ``serve --dicom-port``); unset: the host is no DICOM node.
    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    #: The address the node listens on (``serve --dicom-address``): 127.0.0.1, or another address only with
    #: both ``allowed_aets`` and ``allowed_addresses``.
    address: str = "127.0.0.1"
    #: Calling AE titles allowed to associate (empty: any, only while bound to 127.0.0.1).
    allowed_aets: list[str] = Field(default_factory=list)
    #: Peer addresses allowed to associate: IP addresses or networks (``192.168.1.0/24``).
    allowed_addresses: list[str] = Field(default_factory=list)
    #: Associations served at once; more are rejected (DICOM's "local limit exceeded").
    max_associations: Annotated[int, Field(ge=1, le=64)] = 8
    #: Largest dataset received, in MB; a larger C-STORE is refused (out of resources).
    max_dataset_mb: Annotated[int, Field(ge=1, le=65536)] = 2048
    #: The remote nodes: queried, retrieved from, sent to, and the known C-MOVE destinations.
    node: list[RemoteNode] = Field(default_factory=list)

    @field_validator("ae_title")
    @classmethod
    def _check_ae(cls, value: str) -> str:
        return check_ae_title(value)

    @field_validator("allowed_aets")
    @classmethod
    def _check_aets(cls, value: list[str]) -> list[str]:
        return [check_ae_title(v) for v in value]

    @field_validator("allowed_addresses")
    @classmethod
    def _check_addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f'{item!r} is not an IP address or network - write e.g. "192.168.1.20" or "192.168.1.0/24"'
                ) from None
        return value

    @model_validator(mode="after")
    def _wider_needs_allow_lists(self) -> DicomSettings:
        if not self.is_local and not (self.allowed_aets and self.allowed_addresses):
            raise ValueError(
                f"listening on {self.address} lets other machines send and pull patient data: give both "
                "allowed_aets (calling AE titles) and allowed_addresses, or listen on 127.0.0.1"
            )
        names = [n.name for n in self.node]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ValueError(f"two [[dicom.node]] entries are named {duplicate!r} - give each node its own name")
        return self

    @property
    def is_local(self) -> bool:
        """Whether the node listens on the loopback address only."""
        return self.address in _LOOPBACK

    def find_node(self, name: str) -> RemoteNode | None:
        """The remote node called ``name`` (or with that AE title), or None."""
        for node in self.node:
            if node.name == name:
                return node
        return next((n for n in self.node if n.ae_title == name), None)


class TriggerLevel(enum.StrEnum):
    """What a trigger watches: each series, or each study, as it arrives."""

    SERIES = "series"
    STUDY = "study"


class TriggerSpec(BaseModel):
    """One ``[[trigger]]`` entry: run a task on a series or study once it has arrived and stayed
    unchanged for ``stable_seconds``, when its attributes match the filters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The task to run: a name of the catalog (``osirix-tasks tasks list``).
    task: str = Field(min_length=1)
    #: The task's type, when two tasks share the name (our names, the plugin's, or codes 1-4).
    type: TaskType | None = None
    #: The trigger's name in the log and in each run's ``triggered_by`` (default: "TASK on each LEVEL").
    name: str = ""
    #: What a run acts on: each ``series`` as it arrives, or each ``study``.
    level: TriggerLevel = TriggerLevel.SERIES
    #: Seconds without a new instance of the series (or study) before it counts as arrived (0 < s <= 86400).
    stable_seconds: Annotated[float, Field(gt=0, le=86400)] = 30.0
    #: Modalities that match (any of them; empty: any modality).
    modality: list[str] = Field(default_factory=list)
    #: A pattern the series (or study) description must match: ``*`` and ``?`` as in file names,
    #: case-insensitive (empty: any description).
    description: str = ""
    #: Calling AE titles whose data matches (empty: any sender).
    calling_aet: list[str] = Field(default_factory=list)
    #: Arguments after the task's own ``args``.
    args: list[str] = Field(default_factory=list)
    #: Seconds after which the run is stopped (default: the task's own timeout).
    timeout: Annotated[float, Field(gt=0)] | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _parse_type(cls, value: object) -> TaskType | None:
        return None if value is None else TaskType.parse(value)

    @field_validator("modality", "calling_aet", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("modality")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [v.strip().upper() for v in value]

    @field_validator("calling_aet")
    @classmethod
    def _check_aets(cls, value: list[str]) -> list[str]:
        return [check_ae_title(v) for v in value]

    @property
    def label(self) -> str:
        """The trigger's name as runs record it."""
        return self.name or f"{self.task} on each {self.level.value}"
