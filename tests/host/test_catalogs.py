"""The host's catalog cache: a catalog is built once and kept until something it is made of changes;
the page asks the same cache (menu opens and clicks do not rebuild the catalog)."""

from __future__ import annotations

import os
from pathlib import Path

from osirix_tasks.host.catalogs import CatalogCache
from osirix_tasks.web.page import Page


def _registry(tmp_path: Path, *names: str) -> Path:
    script = tmp_path / "hello.py"
    script.write_text("print('hello')\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text("".join(f'[[task]]\nname = "{n}"\ntype = "Database"\nlocation = "{script}"\n\n' for n in names))
    return registry


def test_a_catalog_is_kept_until_its_registry_changes(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "first")
    cache = CatalogCache()
    catalog = cache.get(registry)
    assert cache.get(registry) is catalog
    registry.write_text(_registry(tmp_path, "first", "second").read_text())
    stat = registry.stat()
    os.utime(registry, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later edit, whatever the clock
    rebuilt = cache.get(registry)
    assert rebuilt is not catalog
    assert [e.spec.name for e in rebuilt.entries if e.origin.startswith("tasks.toml")] == ["first", "second"]


def test_the_page_asks_one_cache(tmp_path: Path) -> None:
    page = Page(host=None, registry=_registry(tmp_path, "first"))
    assert page.catalog() is page.catalog()
    assert page.catalog().resolve("first").spec.name == "first"
