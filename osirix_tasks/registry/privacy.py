"""Whether a registry's secrets are readable by other users: a task's ``env`` values often hold
passwords and tokens, so a tasks.toml that has some should be owner-only (``chmod 600``)."""

from __future__ import annotations

import stat

from .load import Registry

__all__ = ["exposed_secrets"]


def exposed_secrets(registry: Registry) -> list[str]:
    """A warning for the registry file (and its backup) when it gives tasks ``env`` values and others
    may read it; empty otherwise."""
    with_env = [spec.name for spec in registry.tasks if spec.env]
    if not with_env:
        return []
    warnings = []
    backup = registry.path.with_name(registry.path.name + ".bak")
    for path in (registry.path, backup):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o044:
            who = "every user" if mode & 0o004 else "its group"
            names = ", ".join(repr(name) for name in with_env[:3]) + (" ..." if len(with_env) > 3 else "")
            warnings.append(
                f"{path}: readable by {who} (mode {mode:04o}) and it sets env values of task(s) {names}, which "
                f"may be secrets - make it private: chmod 600 {path}"
            )
    return warnings
