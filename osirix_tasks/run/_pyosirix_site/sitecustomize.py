"""Put on a run's PYTHONPATH by osirix-tasks when the run was given a server that pyosirix would not
pick by itself (pyosirix connects to the last active entry of ~/Library/Application Support/
OsirixGRPC/server_configs.json).

Only pyosirix is redirected: when code of the ``osirix`` package expands ``~``, it gets a folder
whose server_configs.json lists the run's server alone. HOME, and every other use of ``~``, are
left as they are. The interpreter's own sitecustomize, if any, still runs.
"""

import os
import sys

_HOME = os.environ.get("OSIRIX_TASKS_PYOSIRIX_HOME")
if _HOME:
    _expanduser = os.path.expanduser

    def _pyosirix_expanduser(path):  # type: ignore[no-untyped-def]
        if path == "~" and sys._getframe(1).f_globals.get("__name__", "").partition(".")[0] == "osirix":
            return _HOME
        return _expanduser(path)

    os.path.expanduser = _pyosirix_expanduser

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _chain() -> None:
    """Run the interpreter's own sitecustomize, if there is one, as Python would have."""
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


_chain()
