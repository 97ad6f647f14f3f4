"""The builtin tasks, offered through the same hook as any pack (datasette's ``default_*`` plugins)."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl


@hookimpl
def osirix_tasks_register_tasks() -> list[Any]:
    """The modules of ``osirix_tasks.builtin`` (imported when asked: a running task does not need them)."""
    from . import database_report, image_smooth, roi_statistics, threshold_segmentation, vr_render_mode

    return [database_report, image_smooth, roi_statistics, threshold_segmentation, vr_render_mode]
