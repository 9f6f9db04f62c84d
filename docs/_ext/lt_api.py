"""The ``lt-package`` directive: a module and all its public submodules on one page.

An API page says ``.. lt-package:: lerendtransformeren.<name>``. The directive documents
that module with ``automodule`` (the names in its ``__all__``; without ``__all__`` the
public names defined in it) and then gives each public submodule (no leading underscore,
found recursively at build time) a section with its own ``automodule``. A module added to
a package, or a name added to a module's ``__all__``, appears without editing the page.

Each function and class is documented once, at its home: the shallowest public module
that exports it among the packages above the module that defines it, and that module
itself (``scales.score`` is documented on ``scales``, not again under ``scales.scoring``
nor under ``goalreport``, which re-exports ``study.load_study``). A constant is left out
of a submodule when a package above it on the same page exports the same object.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from types import ModuleType

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = "lerendtransformeren"


def public_submodules(package: str) -> list[str]:
    """Dotted names of the public submodules of ``package``, depth first, sorted."""
    module = importlib.import_module(package)
    if not hasattr(module, "__path__"):
        return []
    found = []
    for info in sorted(pkgutil.iter_modules(module.__path__, prefix=f"{package}."), key=lambda i: i.name):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        found.append(info.name)
        if info.ispkg:
            found.extend(public_submodules(info.name))
    return found


@cache
def exported(name: str) -> dict[str, object]:
    """What automodule documents for module ``name``: ``__all__``, else its own public names."""
    module: ModuleType = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            key
            for key, value in vars(module).items()
            if not key.startswith("_") and getattr(value, "__module__", None) == name
        ]
    return {key: getattr(module, key) for key in names if hasattr(module, key)}


def home(obj: object) -> str | None:
    """The module that documents function or class ``obj`` (None for anything else)."""
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return None
    defining = getattr(obj, "__module__", None)
    if not isinstance(defining, str) or not defining.startswith(f"{ROOT}."):
        return None
    parts = defining.split(".")
    for depth in range(2, len(parts) + 1):  # the package facade (depth 1) documents nothing
        if parts[depth - 1].startswith("_"):
            return None
        candidate = ".".join(parts[:depth])
        if any(value is obj for value in exported(candidate).values()):
            return candidate
    return None


def left_out(name: str, top: str) -> list[str]:
    """Names that module ``name`` exports but that are documented elsewhere."""
    parts = name.split(".")
    above: dict[str, object] = {}
    for depth in range(len(top.split(".")), len(parts)):
        for key, value in exported(".".join(parts[:depth])).items():
            above.setdefault(key, value)
    skip = []
    for key, value in exported(name).items():
        where = home(value)
        if (where is not None and where != name) or (where is None and above.get(key, None) is value):
            skip.append(key)
    return sorted(skip)


def automodule(name: str, top: str) -> list[str]:
    lines = [f".. automodule:: {name}", "   :members:"]
    skip = left_out(name, top)
    if skip:
        lines.append(f"   :exclude-members: {', '.join(skip)}")
    parent, _, last = name.rpartition(".")
    if parent and getattr(importlib.import_module(parent), last, None) is not importlib.import_module(name):
        lines.append("   :no-index:")  # a package attribute of the same name (scales.reliability)
    return lines


class Package(SphinxDirective):
    """``.. lt-package:: module``: the module, then a section per public submodule."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        top = self.arguments[0]
        container = nodes.container()
        self.state.nested_parse(StringList(automodule(top, top), source=f"<lt-package {top}>"), 0, container)
        result: list[nodes.Node] = list(container.children)
        for name in public_submodules(top):
            section = nodes.section(ids=[nodes.make_id(f"submodule {name}")])
            section += nodes.title(text=name)
            lines = automodule(name, top)
            self.state.nested_parse(StringList(lines, source=f"<lt-package {name}>"), 0, section)
            result.append(section)
        return result


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("lt-package", Package)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
