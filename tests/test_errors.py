"""One error tree: every exception class of the package lives in ``errors.py`` and is drawn in its
docstring; the package's ``__all__`` is exactly what it exports."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import osirix_tasks
from osirix_tasks import errors

PACKAGE = Path(osirix_tasks.__file__).parent


def _exception_classes_defined_outside_errors() -> list[str]:
    """``module:Class`` for every class deriving from an exception, defined in any module but errors.py
    (read from the source: a class is an exception when one of its bases names one)."""
    exception_names = {name for name, obj in vars(errors).items() if inspect.isclass(obj)}
    exception_names |= {n for n in dir(__builtins__) if n.endswith(("Error", "Exception"))} | {"Exception"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py" and path.parent == PACKAGE or "templates" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if bases & exception_names or any(b.endswith(("Error", "Exception", "Failure")) for b in bases):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    return found


def test_every_exception_class_lives_in_errors_py() -> None:
    assert _exception_classes_defined_outside_errors() == []


def test_every_error_class_is_drawn_in_the_tree_with_its_parent() -> None:
    doc = errors.__doc__ or ""
    tree_lines = [line for line in doc.splitlines() if re.match(r"^\s+[│├└─ ]*[A-Z]\w+\s", line)]
    drawn: dict[str, int] = {}
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in tree_lines:
        name = re.search(r"[A-Z]\w+", line).group(0)  # type: ignore[union-attr]
        depth = line.index(name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
        drawn[name] = depth
    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == errors.__name__
    }
    assert set(classes) == set(drawn), set(classes) ^ set(drawn)
    for name, parent in parents.items():
        assert issubclass(classes[name], classes[parent]), f"{name} is drawn under {parent}"
    assert set(errors.__all__) - {"describe_validation_error"} == set(classes)


def test_the_protocol_status_0_failure_is_one_class_for_client_and_emulator() -> None:
    from osirix_tasks.emulator import protocol

    assert protocol.RpcFailure is errors.OsirixError  # the emulator raises the class the client raises
    failure = errors.OsirixError("No ROI cached", rpc="ROIName")
    assert (failure.rpc, failure.message, str(failure)) == ("ROIName", "No ROI cached", "ROIName: No ROI cached")


def test_the_package_all_is_what_it_exports() -> None:
    source = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    typed = {
        alias.asname or alias.name
        for node in ast.walk(source)
        if isinstance(node, ast.If)
        for sub in node.body
        if isinstance(sub, ast.ImportFrom)
        for alias in sub.names
    }
    defined = {n.name for n in source.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert set(osirix_tasks.__all__) == typed | defined | {"__version__"}
    for name in osirix_tasks.__all__:
        assert getattr(osirix_tasks, name) is not None, name
    assert sorted(dir(osirix_tasks)) == sorted(osirix_tasks.__all__)


def test_every_module_imports_and_the_emulator_reaches_no_client_host_or_page() -> None:
    """The rooms' arrows point down: the emulator imports none of client, host, web, run, cli, testing."""
    upward = ("client", "host", "web", "run", "cli", "testing", "catalog", "registry")
    offenders = []
    for path in sorted((PACKAGE / "emulator").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                depth = len(path.relative_to(PACKAGE).parts) - 1
                if node.level > depth and (node.module or "").split(".")[0] in upward:
                    offenders.append(f"{path.relative_to(PACKAGE)}: from {'.' * node.level}{node.module}")
            if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [n for n in names if n.startswith(tuple(f"osirix_tasks.{u}" for u in upward))]
    assert offenders == []
    for module in pkgutil.walk_packages([str(PACKAGE / "emulator")], "osirix_tasks.emulator."):
        importlib.import_module(module.name)


def test_no_module_of_the_package_shadows_a_public_name() -> None:
    # Importing a submodule sets it as an attribute of the package: a module named like a public
    # function (osirix_tasks/context.py beside osirix_tasks.context()) replaces that function.
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    modules |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert not modules & set(osirix_tasks.__all__), modules & set(osirix_tasks.__all__)
    importlib.import_module("osirix_tasks.task_context")  # the module that once shadowed context()
    assert callable(osirix_tasks.context) and osirix_tasks.context.__module__ == "osirix_tasks"
