"""Sizes a reader can hold in mind: in the layers that write reports, no function body is
longer than 80 lines and no module longer than 900 lines.

The report layer, the programme and the goal reports (and the command line above them) are
where sentences, tables and sections are made; a long function there mixes deciding,
computing and writing, which is how wrong sentences went unnoticed before. The cohesive
statistics modules (``multilevel/``, ``scales/``) are not held to these limits. A body is
counted without its docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lerendtransformeren

PACKAGE = Path(lerendtransformeren.__file__).parent
#: The parts of the package held to the limits.
WRITING_LAYERS = ("report", "goalreport", "study", "vocabulary.py", "lang.py", "presenters.py", "display.py", "cli.py")
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 900


def _paths(root: Path) -> list[Path]:
    paths: list[Path] = []
    for part in WRITING_LAYERS:
        target = root / part
        paths += [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
    return [p for p in paths if p.exists() and "__pycache__" not in p.parts]


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    first = body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    start = body[1].lineno if has_doc and len(body) > 1 else first.lineno
    return node.end_lineno - start + 1


def oversized(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in _paths(root):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES:
            found.append(f"{rel}: {n} lines (at most {MAX_MODULE_LINES}); split it by topic")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = _body_lines(node)
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{rel}:{node.lineno}: {node.name} has a body of {length} lines "
                                 f"(at most {MAX_FUNCTION_LINES})")
    return found


def test_writing_layers_stay_small():
    assert oversized() == []


def test_the_check_finds_a_long_function_and_a_long_module(tmp_path):
    (tmp_path / "report").mkdir()
    long_body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    (tmp_path / "report" / "long.py").write_text(f'def f():\n    """Doc."""\n{long_body}\n', encoding="utf-8")
    (tmp_path / "report" / "ok.py").write_text(
        'def g():\n    """' + "\n" * 200 + '"""\n    return 1\n', encoding="utf-8"
    )
    (tmp_path / "cli.py").write_text("\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    found = oversized(tmp_path)
    assert len(found) == 2
    assert any("f has a body of 81 lines" in m for m in found)
    assert any(m.startswith("cli.py:") for m in found)
