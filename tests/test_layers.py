"""The package's layers: imports point down only, and no two modules import each other.

Target layering (arrows point down only; a module may import its own layer and lower):

    L0 exceptions, lang, vocabulary,         bottom: used by all
       presenters
    L1 design, io                            generic data
    L2 scales/, multilevel/, synthetic       generic statistics
    L3 report/                               generic presentation
    L4 study/                                the programme as data
    L5 goalreport/                           the goal reports application
    L6 cli, the package __init__ (facade)    top

How imports are read
--------------------
Every ``import`` and ``from ... import`` statement of a module counts, wherever it stands:
at the top, inside a function (a lazy import hides a dependency, it does not remove it)
and under ``if TYPE_CHECKING:`` (a type-only import still means the lower module knows the
higher one; use a Protocol or ``Any`` instead). A call ``importlib.import_module("...")``
or ``__import__("...")`` with a literal module name counts too. The one import the check
does not see is the package's documented plug-in point: :func:`lerendtransformeren.presenters.present`
imports ``presenters.PLUGIN`` (the report layer) by a name held in a constant, so that
result objects can offer ``.report()`` and ``.plot()`` without importing the layer above.

Edges and package ``__init__`` modules
--------------------------------------
A node is a module file; a package is its ``__init__.py``, named by the package.

* ``import a.b.c`` and ``from a.b.c import x`` are an edge to ``a.b.c`` only; ``from a.b
  import c`` is an edge to the module ``a.b.c`` when ``c`` is a submodule, else to ``a.b``.
* The parent packages that Python runs before ``a.b.c`` (``a``, ``a.b``) are *not* edges.
  If they were, every ``__init__`` that re-exports its own submodules would form a cycle
  with each of them, and the check would report nothing but false alarms.
* So a package ``__init__`` importing its own submodules is an ordinary edge down the tree,
  not a cycle. A submodule that imports its own package's ``__init__`` (``from
  lerendtransformeren.multilevel import fit`` inside ``multilevel/effects.py``) while that
  ``__init__`` imports the submodule back *is* a cycle, and is reported: it only works
  because of the order in which the ``__init__`` happens to import things.

Cycles are the strongly connected components (Tarjan) of the graph of all edges between
modules of the package; imports of other packages are ignored. The same is checked one
level up, between the top-level parts of the package (``scales``, ``multilevel``,
``report``, ``design``, ...: every module counted as its part): two parts must not import
each other either, even through modules that do not form a cycle themselves (``report.goal``
importing ``multilevel`` while ``multilevel.results`` imports ``report.text`` is such a
cycle, the one the presenters removed).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "lerendtransformeren"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Layer of each module, by the longest matching dotted prefix (package-relative); ``""``
#: is the package ``__init__`` itself only, so a new top-level module must be given a layer.
LAYERS: dict[str, int] = {
    "exceptions": 0,
    "lang": 0,
    "vocabulary": 0,
    "presenters": 0,
    "display": 0,
    "design": 1,
    "io": 1,
    "scales": 2,
    "multilevel": 2,
    "synthetic": 2,
    "report": 3,
    "study": 4,
    "goalreport": 5,
    "cli": 6,
    "": 6,  # the package __init__: the facade
}

#: Allow-lists for a module in transit between layers: empty. An entry needs a comment
#: saying why and when it goes (the goal reports that once lived in report/ moved to
#: goalreport/ and left none behind).
TEMPORARY_LAYERS: dict[str, int] = {}
TEMPORARY_UPWARD: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module name
    target: str
    line: int

    def where(self, root: Path, package: str) -> str:
        return f"{_path_of(self.source, root, package)}:{self.line}"


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _path_of(module: str, root: Path, package: str) -> str:
    rel = module[len(package):].lstrip(".").replace(".", "/")
    base = root / rel if rel else root
    path = base / "__init__.py" if (base / "__init__.py").exists() or not rel else base.with_suffix(".py")
    return str(path.relative_to(root.parent))


def find_modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of the package under ``root``: dotted name -> file."""
    return {_module_name(p, root, package): p for p in sorted(root.rglob("*.py"))}


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _literal_import_call(node: ast.Call) -> str | None:
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called in ("import_module", "__import__") and node.args:
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def import_edges(modules: Mapping[str, Path], package: str = PACKAGE) -> list[Edge]:
    """All imports between modules of the package (see the module docstring for the rules)."""
    edges: dict[Edge, None] = {}  # ordered set: one edge per statement and target
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _resolve_relative(module, is_package, node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            elif isinstance(node, ast.Call):
                name = _literal_import_call(node)
                targets = [name] if name else []
            for target in targets:
                if target == package or target.startswith(package + "."):
                    # the deepest module of the package that the dotted name reaches
                    while target not in modules and "." in target:
                        target = target.rsplit(".", 1)[0]
                    if target != module:
                        edges[Edge(module, target, node.lineno)] = None
    return list(edges)


def layer_of(module: str, layers: Mapping[str, int], package: str = PACKAGE) -> int | None:
    rel = module[len(package):].lstrip(".")
    if not rel:
        return layers.get("")
    parts = rel.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in layers:
            return layers[key]
    return None


def upward_imports(
    modules: Mapping[str, Path],
    edges: Iterable[Edge],
    layers: Mapping[str, int],
    allowed: Iterable[tuple[str, str]] = (),
    root: Path = SRC,
    package: str = PACKAGE,
) -> list[str]:
    """One message per module without a layer and per import of a higher layer."""
    allowed = {(f"{package}.{a}".rstrip("."), f"{package}.{b}".rstrip(".")) for a, b in allowed}
    problems = [
        f"{_path_of(m, root, package)}: module {m} has no layer; add it to LAYERS in tests/test_layers.py"
        for m in modules
        if layer_of(m, layers, package) is None
    ]
    for e in edges:
        low, high = layer_of(e.source, layers, package), layer_of(e.target, layers, package)
        if low is None or high is None or high <= low or (e.source, e.target) in allowed:
            continue
        problems.append(
            f"{e.where(root, package)}: {e.source} (L{low}) imports {e.target} (L{high}), a higher "
            "layer. Move the code down, or let the higher layer call down (for presentation of a "
            "result: lerendtransformeren.presenters.register / present)."
        )
    return problems


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # recursion depth is bounded by the number of modules
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def cycle_messages(edges: list[Edge], root: Path = SRC, package: str = PACKAGE) -> list[str]:
    messages = []
    for component in cycles(edges):
        inside = set(component)
        lines = [
            f"    {e.source} -> {e.target}  ({e.where(root, package)})"
            for e in edges
            if e.source in inside and e.target in inside
        ]
        messages.append(
            f"import cycle between {', '.join(component)}:\n" + "\n".join(sorted(set(lines)))
        )
    return messages


def part_of(module: str, package: str = PACKAGE) -> str:
    """The top-level part of the package a module belongs to (the package itself for its __init__)."""
    rel = module[len(package):].lstrip(".")
    return f"{package}.{rel.split('.')[0]}" if rel else package


def part_edges(edges: Iterable[Edge], package: str = PACKAGE) -> list[Edge]:
    """The edges between top-level parts (within a part they are the module check's business)."""
    return [
        Edge(part_of(e.source, package), part_of(e.target, package), e.line) for e in edges
        if part_of(e.source, package) != part_of(e.target, package)
    ]


def check(root: Path, package: str, layers: Mapping[str, int],
          allowed: Iterable[tuple[str, str]] = ()) -> tuple[list[str], list[str]]:
    """(upward-import problems, cycle problems) of the package under ``root``."""
    modules = find_modules(root, package)
    edges = import_edges(modules, package)
    found = cycle_messages(edges, root, package)
    modules_in_cycles = {m for c in cycles(edges) for m in c}
    for component in cycles(part_edges(edges, package)):
        inside = set(component)
        lines = sorted({
            f"    {e.source} -> {e.target}  ({e.where(root, package)})" for e in edges
            if part_of(e.source, package) in inside and part_of(e.target, package) in inside
            and part_of(e.source, package) != part_of(e.target, package)
            and not {e.source, e.target} <= modules_in_cycles
        })
        found.append(f"import cycle between the parts {', '.join(component)}:\n" + "\n".join(lines))
    return upward_imports(modules, edges, layers, allowed, root, package), found


# --- the package ---------------------------------------------------------------------------


def test_imports_point_down_only():
    upward, _ = check(SRC, PACKAGE, {**LAYERS, **TEMPORARY_LAYERS}, TEMPORARY_UPWARD)
    assert not upward, "Imports of a higher layer:\n" + "\n".join(upward)


def test_no_import_cycles():
    _, found = check(SRC, PACKAGE, LAYERS)
    assert not found, "Import cycles (see tests/test_layers.py for the rules):\n" + "\n".join(found)


def test_the_allow_list_is_still_needed():
    """An entry of the temporary allow-list that nothing needs any more must go."""
    modules = find_modules(SRC)
    edges = {(e.source, e.target) for e in import_edges(modules)}
    stale = [
        (a, b) for a, b in TEMPORARY_UPWARD
        if (f"{PACKAGE}.{a}", f"{PACKAGE}.{b}") not in edges
    ] + [m for m in TEMPORARY_LAYERS if f"{PACKAGE}.{m}" not in modules]
    assert not stale, f"Remove these from the allow-list in tests/test_layers.py: {stale}"


def test_importing_the_package_does_not_load_the_report_layer():
    code = (
        "import sys, lerendtransformeren, lerendtransformeren.multilevel, lerendtransformeren.scales\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'seaborn', 'docx', 'jinja2')"
        " or m.startswith('lerendtransformeren.report'))\n"
        "print(loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_presenters_of_the_statistics_layer_are_registered_by_the_report_package():
    import importlib

    from lerendtransformeren import presenters

    assert presenters.PLUGIN == "lerendtransformeren.report"
    importlib.import_module(presenters.PLUGIN)
    assert {"multilevel.report", "gee.report", "power_curve.report", "power_curve.plot"} <= set(
        presenters.registered()
    )


# --- the checker catches what it should ----------------------------------------------------


def _write(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


FAKE_LAYERS = {"base": 0, "stats": 2, "show": 3, "": 6}


@pytest.fixture
def fake(tmp_path):
    """A small clean package ``fakepkg``: base (L0) <- stats (L2) <- show (L3) <- facade."""
    root = tmp_path / "fakepkg"
    _write(root, {
        "__init__.py": "from fakepkg import stats\nfrom fakepkg.show import text\n",
        "base.py": "import os\n",
        "stats/__init__.py": "from fakepkg.stats.model import fit\nfrom fakepkg.stats import core\n",
        "stats/core.py": "from fakepkg import base\n",
        "stats/model.py": "from fakepkg.stats.core import *\nfrom . import core\n\ndef fit():\n    return 1\n",
        "show/__init__.py": "from fakepkg.show.text import say\n",
        "show/text.py": "from fakepkg.stats import model\nfrom fakepkg.base import x\n\ndef say():\n    pass\n",
    })
    return root


def test_checker_passes_a_clean_tree_with_re_exporting_inits(fake):
    assert check(fake, "fakepkg", FAKE_LAYERS) == ([], [])


def test_checker_catches_a_planted_upward_import(fake):
    _write(fake, {
        "show/plot.py": "import os\n",
        "stats/model.py": """
        def fit():
            from fakepkg.show.plot import draw  # lazy, still an upward import
            return draw
        """,
    })
    upward, found = check(fake, "fakepkg", FAKE_LAYERS)
    assert len(upward) == 1 and "fakepkg.stats.model (L2) imports fakepkg.show.plot (L3)" in upward[0]
    assert "stats/model.py:3" in upward[0]
    # no module cycle, but the parts show and stats now import each other
    assert len(found) == 1 and found[0].startswith("import cycle between the parts fakepkg.show, fakepkg.stats")


def test_checker_counts_type_checking_and_import_module_and_unknown_modules(fake):
    _write(fake, {
        "base.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fakepkg.stats import core\n",
        "stats/core.py": "import importlib\nimportlib.import_module('fakepkg.show')\n",
        "extra.py": "",
    })
    upward, _ = check(fake, "fakepkg", FAKE_LAYERS)
    text = "\n".join(upward)
    assert "fakepkg.base (L0) imports fakepkg.stats.core (L2)" in text
    assert "fakepkg.stats.core (L2) imports fakepkg.show (L3)" in text
    assert "module fakepkg.extra has no layer" in text  # the facade's "" is the __init__ only
    assert len(upward) == 3


def test_checker_catches_a_planted_cycle(fake):
    _write(fake, {"stats/core.py": "from fakepkg.base import x\n\ndef f():\n    from fakepkg.stats import model\n"})
    upward, found = check(fake, "fakepkg", FAKE_LAYERS)
    assert upward == []
    assert len(found) == 1
    assert found[0].startswith("import cycle between fakepkg.stats.core, fakepkg.stats.model")
    assert "fakepkg.stats.core -> fakepkg.stats.model" in found[0]


def test_checker_catches_a_cycle_through_a_package_init(fake):
    # a submodule importing its own package's __init__, which imports it back
    _write(fake, {"stats/core.py": "def f():\n    from fakepkg.stats import fit\n"})
    _, found = check(fake, "fakepkg", FAKE_LAYERS)
    assert len(found) == 1 and "fakepkg.stats, fakepkg.stats.core, fakepkg.stats.model" in found[0]


def test_checker_catches_a_cycle_between_parts_without_a_module_cycle(fake):
    # show.text -> stats.model as before; now stats.core -> show.plot: no module cycle
    _write(fake, {"show/plot.py": "from fakepkg import base\n",
                  "stats/core.py": "def f():\n    from fakepkg.show import plot\n"})
    _, found = check(fake, "fakepkg", {**FAKE_LAYERS, "show": 2})
    assert len(found) == 1
    assert found[0].startswith("import cycle between the parts fakepkg.show, fakepkg.stats:")
    assert "fakepkg.stats.core -> fakepkg.show.plot  (fakepkg/stats/core.py:2)" in found[0]


def test_checker_allow_list_lets_a_named_upward_import_pass(fake):
    _write(fake, {"stats/__init__.py": "from fakepkg.show import text\n"})
    upward, _ = check(fake, "fakepkg", FAKE_LAYERS)
    assert len(upward) == 1
    assert check(fake, "fakepkg", FAKE_LAYERS, {("stats", "show.text")})[0] == []


# --- the presenter hook (lerendtransformeren.presenters) -----------------------------------


def test_present_calls_the_registered_presenter_and_refuses_unknown_kinds():
    from lerendtransformeren.exceptions import SpecificationError
    from lerendtransformeren.presenters import present, register, registered

    @register("test_layers.echo")
    def echo(obj, *args, **kwargs):
        return obj, args, kwargs

    assert present("test_layers.echo", 1, 2, lang="en") == (1, (2,), {"lang": "en"})
    assert "test_layers.echo" in registered()
    with pytest.raises(SpecificationError, match="No presenter for 'test_layers.nothing'"):
        present("test_layers.nothing", 1)
    with pytest.raises(SpecificationError):
        register("")


def test_a_result_loads_the_report_layer_on_its_first_report_only():
    code = textwrap.dedent("""
        import sys
        from lerendtransformeren.multilevel import fit
        from lerendtransformeren.synthetic import nested_example
        res = fit("y ~ wave + (1 | org/team)", nested_example())
        before = "lerendtransformeren.report" in sys.modules or "matplotlib" in sys.modules
        text = res.report(lang="en")
        after = "lerendtransformeren.report" in sys.modules
        print(before, after, text.startswith("The effect of time (per wave) was b = 0.19"))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"], out.stdout + out.stderr
