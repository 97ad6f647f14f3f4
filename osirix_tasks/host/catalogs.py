"""The host's catalogs, one per registry, rebuilt only when something they are made of changed.

A long-lived host starts many runs from the same tasks.toml; building the catalog (reading the
registry, loading plugins, scanning installed packs) each time would cost every menu click tens
of milliseconds. A catalog is kept while its registry file, its local plugins folder and every
folder of ``sys.path`` (where packs are installed or removed) are unchanged.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from ..catalog import Catalog, build_catalog
from ..registry import load_registry

__all__ = ["CatalogCache"]

Signature = tuple[object, ...]


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size)


def _signature(registry: Path, plugins_dir: Path) -> Signature:
    plugins = tuple(sorted((p.name, _stat(p)) for p in plugins_dir.glob("*.py"))) if plugins_dir.is_dir() else ()
    installed = tuple(_stat(Path(entry)) for entry in sys.path if entry and os.path.isdir(entry))
    return (_stat(registry), _stat(plugins_dir), plugins, installed)


class CatalogCache:
    """Catalogs by registry path, checked against what they were built from before each use."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Path, bool], tuple[Signature, Catalog]] = {}
        self._lock = threading.Lock()

    def get(self, registry: Path, *, offer_invalid: bool = True) -> Catalog:
        """The catalog of ``registry``, rebuilt when the registry, its plugins or the installed packs changed
        (``offer_invalid`` False: none of the registry's own tasks while it has problems, as the page offers)."""
        key = (registry, offer_invalid)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == _signature(registry, kept[1].registry.plugins_dir):
                return kept[1]
        catalog = build_catalog(load_registry(registry), offer_invalid=offer_invalid)
        signature = _signature(registry, catalog.registry.plugins_dir)
        with self._lock:
            self._kept[key] = (signature, catalog)
        return catalog
