"""The node's settings: ``[dicom]`` of tasks.toml with the ``serve`` options laid over it, checked
again as a whole (a wider address needs both allow-lists, whichever side said it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import DicomNodeError, describe_validation_error
from ..model import DicomSettings, RemoteNode, TriggerSpec
from ..registry import load_registry

__all__ = ["NodePlan", "plan_node", "load_dicom_settings", "remote_node"]


@dataclass(frozen=True)
class NodePlan:
    """What the host starts: the settings (the ``serve`` options laid over ``[dicom]``), the port,
    the triggers (run from the same registry)."""

    settings: DicomSettings
    port: int
    triggers: list[TriggerSpec]


def _node_problems(registry_path: Path) -> tuple[Any, list[str]]:
    registry = load_registry(registry_path)
    problems = [
        str(p)
        for p in registry.problems
        if p.subject.startswith(("dicom", "trigger")) or (p.subject == "" and p.line is None)
    ]
    return registry, problems


def load_dicom_settings(registry_path: Path) -> DicomSettings:
    """``[dicom]`` of a tasks.toml; DicomNodeError listing its problems (file:line: ...)."""
    registry, problems = _node_problems(registry_path)
    if problems:
        raise DicomNodeError("\n".join(problems))
    settings: DicomSettings = registry.dicom
    return settings


def remote_node(settings: DicomSettings, name: str) -> RemoteNode:
    """The ``[[dicom.node]]`` called ``name``; DicomNodeError listing the known ones."""
    node = settings.find_node(name)
    if node is None:
        known = ", ".join(n.name for n in settings.node) or "none"
        raise DicomNodeError(
            f"no DICOM node named {name!r} in tasks.toml (known: {known}) - add a [[dicom.node]] entry with "
            "name, ae_title, host and port"
        )
    return node


def plan_node(registry_path: Path, *, port: int | None, ae_title: str | None, address: str | None) -> NodePlan | None:
    """The node ``serve`` starts, or None when neither ``--dicom-port`` nor ``[dicom] port`` asks for one."""
    registry, problems = _node_problems(registry_path)
    if problems:
        raise DicomNodeError("\n".join(problems))
    settings: DicomSettings = registry.dicom
    chosen = port if port is not None else settings.port
    if chosen is None:
        return None
    overrides = {k: v for k, v in (("ae_title", ae_title), ("address", address), ("port", chosen)) if v is not None}
    try:
        merged = DicomSettings.model_validate({**settings.model_dump(), **overrides})
    except ValidationError as exc:
        raise DicomNodeError(
            "; ".join(describe_validation_error(e, known=list(DicomSettings.model_fields)) for e in exc.errors())
        ) from None
    return NodePlan(merged, chosen, list(registry.triggers))
