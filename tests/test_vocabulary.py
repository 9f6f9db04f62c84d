"""One vocabulary: every Dutch/English label lives in a vocabulary module, and one check of
the language.

Labels (words and short phrases: terms, units, levels, categories, headers) are
:class:`lerendtransformeren.lang.Label` constants in :mod:`lerendtransformeren.vocabulary`
(generic words, at the bottom layer) or :mod:`lerendtransformeren.study.vocabulary` (the programme's words).
Sentences (texts that end with a full stop) may be written where they are used. These tests
read the source with :mod:`ast`, so they see every module, imported or not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lerendtransformeren

PACKAGE = Path(lerendtransformeren.__file__).parent
VOCABULARIES = {"lang.py", "vocabulary.py", "study/vocabulary.py"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _module_constants(tree: ast.Module):
    """(name, line, value) of every module-level assignment."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            names = [node.target.id]
        else:
            continue
        for name in names:
            yield name, node.lineno, node.value


def _label_calls(value: ast.AST):
    """Label(...) calls whose arguments are two plain strings."""
    for node in ast.walk(value):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Label"
                and len(node.args) == 2
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
            yield node.args[0].value, node.args[1].value


def _string_pairs(value: ast.AST):
    """Bare ``("nl", "en")`` tuples of two strings inside a dict literal."""
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):
            for v in node.values:
                if (isinstance(v, ast.Tuple) and len(v.elts) == 2
                        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in v.elts)
                        and any(c.isalpha() for e in v.elts for c in e.value)):  # words, not codes
                    yield tuple(e.value for e in v.elts)


def _is_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", ".)"))


def label_constants_outside_vocabularies(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        rel = path.relative_to(root).as_posix()
        if rel in VOCABULARIES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line, value in _module_constants(tree):
            labels = [nl for nl, en in _label_calls(value) if not (_is_sentence(nl) and _is_sentence(en))]
            pairs = list(_string_pairs(value))
            if labels or pairs:
                example = labels[0] if labels else pairs[0]
                found.append(f"{rel}:{line}: {name} holds labels ({example!r}); move it to a vocabulary module")
    return found


def language_checks_outside_lang(root: Path = PACKAGE) -> list[str]:
    """Membership tests of a language code (``lang in ("nl", "en")``) outside lang.py."""
    found = []
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        rel = path.relative_to(root).as_posix()
        if rel == "lang.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare) or not any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                continue
            for comp in node.comparators:
                if isinstance(comp, (ast.Tuple, ast.List, ast.Set)) and {
                    e.value for e in comp.elts if isinstance(e, ast.Constant)
                } == {"nl", "en"}:
                    found.append(f"{rel}:{node.lineno}: checks a language by hand; use lang.check_lang")
                if isinstance(comp, ast.Name) and comp.id in ("_LANGS", "LANGS"):
                    found.append(f"{rel}:{node.lineno}: checks a language by hand; use lang.check_lang")
    return found


def test_no_label_constants_outside_the_vocabularies():
    assert label_constants_outside_vocabularies() == []


def test_one_language_check():
    assert language_checks_outside_lang() == []


def test_the_checks_find_planted_labels(tmp_path):
    (tmp_path / "words.py").write_text(
        "from lerendtransformeren.lang import Label\n"
        "UNITS = {'team': Label('team', 'team')}\n"
        "PAIRS = {'family': ('gezin', 'family')}\n"
        "BANDS = {'sdq': ('8-11', '12-17')}\n"
        "SENTENCES = {'x': Label('Dit is een zin.', 'This is a sentence.')}\n"
        "def f(lang):\n"
        "    if lang not in ('nl', 'en'):\n"
        "        raise ValueError(lang)\n",
        encoding="utf-8",
    )
    labels = label_constants_outside_vocabularies(tmp_path)
    assert [m.split(": ")[1].split(" ")[0] for m in labels] == ["UNITS", "PAIRS"]
    assert len(language_checks_outside_lang(tmp_path)) == 1


@pytest.mark.parametrize("module", ["vocabulary", "study.vocabulary"])
def test_vocabularies_hold_only_labels(module):
    from importlib import import_module

    from lerendtransformeren.lang import Label

    vocab = import_module(f"lerendtransformeren.{module}")
    for name in vocab.__all__:
        value = getattr(vocab, name)
        leaves = list(_leaves(value))
        assert leaves, name
        assert all(isinstance(v, (Label, str, int, float)) for v in leaves), name
        assert any(isinstance(v, Label) for v in leaves), name


def _leaves(value):
    from lerendtransformeren.lang import Label

    if isinstance(value, Label):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
