"""Instrument definitions, registry and user key files."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from lerendtransformeren import scales
from lerendtransformeren.exceptions import SpecificationError

SHIPPED = [
    "sdq_parent", "uwes9", "psoc", "mastery", "sdmq9", "kidscreen10", "nomad",
    "burden", "impl", "collab", "support", "gas",
]


def test_registry_lists_every_shipped_instrument():
    tab = scales.available()
    assert sorted(tab["code"]) == sorted(SHIPPED)
    assert {"code", "name_nl", "name_en", "construct", "goals", "licence", "verified", "synthetic"} <= set(tab.columns)
    synthetic = set(tab.loc[tab["synthetic"], "code"])
    assert synthetic == {"burden", "impl", "collab", "support"}


@pytest.mark.parametrize("code", SHIPPED)
def test_test_vectors_reproduce(code):
    inst = scales.get(code)
    assert len(inst.test_vectors) >= 2
    assert scales.check_test_vectors(inst) == []


@pytest.mark.parametrize("code", SHIPPED)
def test_every_definition_carries_provenance(code):
    inst = scales.get(code)
    assert inst.citation and inst.licence and inst.verified_source
    assert set(inst.goals) <= {1, 2, 3, 4, 5}
    if not inst.verified:
        assert inst.verified_note, "an unverified key must say why"


def test_sdq_key_matches_published_scoring():
    sdq = scales.get("sdq_parent")
    assert sdq.items == tuple(f"sdq_{i:02d}" for i in range(1, 26))
    assert sdq.reverse == ("sdq_07", "sdq_11", "sdq_14", "sdq_21", "sdq_25")
    members = {s.name: {int(i[-2:]) for i in s.items} for s in sdq.scores if s.items}
    assert members == {
        "emotional": {3, 8, 13, 16, 24},
        "conduct": {5, 7, 12, 18, 22},
        "hyperactivity": {2, 10, 15, 21, 25},
        "peer": {6, 11, 14, 19, 23},
        "prosocial": {1, 4, 9, 17, 20},
    }
    total = next(s for s in sdq.scores if s.name == "total_difficulties")
    assert total.of_scores == ("emotional", "conduct", "hyperactivity", "peer")
    assert all(s.min_answered == 3 and s.aggregation == "prorated_sum" for s in sdq.scores if s.items)
    assert sdq.score_items("total_difficulties") == tuple(
        f"sdq_{i:02d}" for i in range(1, 26) if i not in {1, 4, 9, 17, 20}
    )
    bands = {c.score: c.bands for c in sdq.cutoffs}
    assert bands["total_difficulties"] == (("normal", 0, 13), ("borderline", 14, 16), ("abnormal", 17, 40))


def test_instrument_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        scales.get("uwes9").code = "x"


def test_unknown_instrument_names_the_shipped_ones_and_load():
    with pytest.raises(SpecificationError, match=r"unknown instrument 'obvl'.*sdq_parent.*scales\.load"):
        scales.get("obvl")


VALID = """
code: my_obvl
name: {nl: mijn sleutel, en: my key}
construct: example
items: {prefix: obvl, n: 4}
response: {min: 0, max: 2}
reverse: [2]
scores:
  a: {items: [1, 2], aggregation: sum}
  b: {items: [3, 4], aggregation: prorated_sum, min_answered: 1, rounding: 0}
  total: {scores: [a, b], aggregation: sum}
citation: licensed key, typed in by the user
licence: licensed to the user; not shipped
verified: {status: true, source: the publisher's manual}
goals: [3]
test_vectors:
  - {label: one, items: [2, 0, 1, null], expected: {a: 4, b: 2, total: 6, n_answered: 3}}
"""


def _write(tmp_path, text):
    path = tmp_path / "key.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_load_user_key_and_score_it(tmp_path):
    import pandas as pd

    inst = scales.load(_write(tmp_path, VALID))
    assert inst.code == "my_obvl" and inst.reverse == ("obvl_02",)
    df = pd.DataFrame({"obvl_01": [1], "obvl_02": [1], "obvl_03": [2], "obvl_04": [1]})
    out = scales.score(df, inst)
    assert out.loc[0, "my_obvl_total"] == 2 + 3  # a = 1 + (2 - 1); b = 3
    with pytest.raises(SpecificationError, match="unknown instrument"):
        scales.get("my_obvl")  # a user key is not added to the shipped registry


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("reverse: [2]", "reverse: [7]", r"field 'reverse': item number 7 is outside 1\.\.4"),
        ("response: {min: 0, max: 2}", "response: {min: 2, max: 0}", r"field 'response': min 2 is not below max 0"),
        ("aggregation: prorated_sum", "aggregation: average", r"field 'scores\.b\.aggregation': unknown aggregation 'average'"),
        ("a: {items: [1, 2], aggregation: sum}", "a: {items: [1, 2], aggregation: sum, min_answered: 1}",
         r"'scores\.a\.aggregation'.*prorated_sum"),
        ("total: {scores: [a, b]", "total: {scores: [a, c]", r"field 'scores\.total\.scores'"),
        ("goals: [3]", "goals: [6]", r"field 'goals'"),
        ("expected: {a: 4,", "expected: {a: 5,", r"field 'test_vectors': vector 'one': a expected 5\.0, got 4\.0"),
        ("code: my_obvl", "code: My OBVL", r"field 'code': 'My OBVL' is not a lower-case identifier"),
        ("citation: licensed key, typed in by the user\n", "", r"field 'citation': missing"),
        ("construct: example", "construct: example\nlabels: x", r"unknown field\(s\) \['labels'\]"),
    ],
)
def test_malformed_key_file_names_file_and_field(tmp_path, old, new, message):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new))
    with pytest.raises(SpecificationError, match=message) as info:
        scales.load(path)
    assert str(path) in str(info.value)


def test_load_reports_yaml_syntax_and_missing_file(tmp_path):
    with pytest.raises(SpecificationError, match="not valid YAML"):
        scales.load(_write(tmp_path, "code: [unclosed"))
    with pytest.raises(SpecificationError, match="cannot read the key file"):
        scales.load(tmp_path / "nope.yaml")


def test_load_lives_above_instrument_and_scoring():
    """scales.load reads a key file and scores its test vectors: it imports both modules,
    and neither of them imports it (no instrument <-> scoring cycle)."""
    import ast
    import inspect

    from lerendtransformeren.scales import instrument, keyfile, scoring

    assert scales.load is keyfile.load and not hasattr(instrument, "load")
    for module in (instrument, scoring):
        imported = {
            n.module for n in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(n, ast.ImportFrom)
        }
        assert "lerendtransformeren.scales.keyfile" not in imported
    assert "lerendtransformeren.scales.scoring" not in {
        n.module for n in ast.walk(ast.parse(inspect.getsource(instrument))) if isinstance(n, ast.ImportFrom)
    }
