"""The builtin tasks, offered through the same hook as any pack."""

from __future__ import annotations

from typing import Any

from .builtin import database_report, image_smooth, roi_statistics, vr_render_mode
from .hookspecs import hookimpl


@hookimpl
def osirix_tasks_register_tasks() -> list[Any]:
    """The modules of ``osirix_tasks.builtin``."""
    return [database_report, image_smooth, roi_statistics, vr_render_mode]
