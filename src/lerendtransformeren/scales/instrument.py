"""Instrument definitions: the frozen :class:`Instrument`, the YAML schema and the registry.

An instrument is data, not code. Each shipped definition lives in
``scales/definitions/<code>.yaml``; a user's own licensed key (OBVL, UBOS, ...) is a YAML
file with the same schema, read with :func:`~lerendtransformeren.scales.keyfile.load`
(``scales.load``). No item wording is stored anywhere:
items are identifiers (``sdq_01``) in the published item order.

YAML schema (fields marked * are required)::

    code*: sdq_parent                    # lower-case identifier, used in column names
    name*: {nl: ..., en: ...}
    construct*: child psychosocial difficulties
    synthetic: false                     # true for the project's own-design scales
    items*: {prefix: sdq, n: 25}         # -> sdq_01..sdq_25; or an explicit list of ids
    response*: {min: 0, max: 2}          # integer response codes as ticked
    reverse: [7, 11, 14, 21, 25]         # item numbers (1-based) or item ids
    scores*:                             # in output order
      emotional: {items: [3, 8, 13, 16, 24], aggregation: prorated_sum,
                  min_answered: 3, rounding: 0}
      total: {scores: [emotional, conduct], aggregation: sum}   # composite of scores
    cutoffs: [{score: total, norm: uk_original, source: ..., note: ...,
               bands: [{label: normal, label_nl: normaal, min: 0, max: 13}, ...]}]
    citation*: ...
    licence*: ...
    verified*: {status: true, source: ..., note: ...}
    goals*: [2]                          # transformation goals served (design.GOALS)
    test_vectors*: [{label: ..., items: [...], expected: {emotional: 3, n_answered: 25}}]

Score fields: ``items`` (numbers, ids, or ``all``) or ``scores`` (a composite of earlier
scores), ``aggregation`` (``sum``, ``mean``, ``prorated_sum`` = mean x number of items,
``kiresuk_sherman`` = GAS T-score with ``rho``), ``min_answered`` (default: all items;
``sum`` requires all items, because a sum over fewer items is not on the same scale),
``transformation`` (``{multiply: "20/9", add: 0}``, applied after aggregation) and
``rounding`` (number of decimals, half away from zero as SPSS ``RND``; default none).

Cut-off fields: ``score`` (a score of this instrument), ``norm`` (an identifier of the
norm the bands come from, default ``default``; one set of bands per score and norm),
``source``, ``note`` and ``bands``: ``label`` (English), optional ``label_nl``, and
inclusive ``min``/``max`` that must not overlap, listed from the most favourable band to
the least (that order is the order of the categories of :func:`classify`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.scales.display import instrument_view

__all__ = ["Instrument", "Score", "Cutoff", "TestVector", "available", "get"]

AGGREGATIONS = ("sum", "mean", "prorated_sum", "kiresuk_sherman")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_FIELDS = {
    "code", "name", "construct", "synthetic", "items", "response", "reverse", "scores",
    "cutoffs", "citation", "licence", "verified", "goals", "test_vectors", "notes",
}
_SCORE_FIELDS = {"items", "scores", "aggregation", "min_answered", "rounding", "transformation", "rho"}


@dataclass(frozen=True)
class Score:
    """One score of an instrument: a subscale (from items) or a composite (from scores)."""

    name: str
    aggregation: str
    items: tuple[str, ...] = ()
    of_scores: tuple[str, ...] = ()
    min_answered: int = 0
    multiply: float = 1.0
    add: float = 0.0
    rounding: int | None = None
    rho: float | None = None


@dataclass(frozen=True)
class Cutoff:
    """Cut-off bands for one score under one norm, with their source.

    ``bands`` are ``(label, min, max)`` with inclusive limits, English labels, listed from
    the most favourable band to the least (the order of :func:`classify`'s categories);
    ``labels_nl`` are the Dutch labels in the same order (the English ones where the
    definition gives none).
    """

    score: str
    source: str
    note: str
    bands: tuple[tuple[str, float, float], ...]  # (label, min, max), inclusive
    norm: str = "default"
    labels_nl: tuple[str, ...] = ()

    def labels(self, lang: str = "en") -> tuple[str, ...]:
        """Band labels in ``"en"`` or ``"nl"``, in band order."""
        if lang == "nl" and self.labels_nl:
            return self.labels_nl
        return tuple(label for label, _, _ in self.bands)


@dataclass(frozen=True)
class TestVector:
    """Item responses (raw, in item order, ``None`` = missing) and the expected scores."""

    label: str
    items: tuple[float | None, ...]
    expected: tuple[tuple[str, float | None], ...]


@dataclass(frozen=True)
class Instrument:
    """A scoring key: items, reverse keys, response range, scores, cut-offs, provenance."""

    code: str
    name_nl: str
    name_en: str
    construct: str
    items: tuple[str, ...]
    response_min: int
    response_max: int
    reverse: tuple[str, ...]
    scores: tuple[Score, ...]
    citation: str
    licence: str
    verified: bool
    verified_source: str
    verified_note: str
    goals: tuple[int, ...]
    synthetic: bool = False
    cutoffs: tuple[Cutoff, ...] = ()
    test_vectors: tuple[TestVector, ...] = ()
    notes: str = ""
    source_file: str = ""

    def __repr__(self) -> str:
        return instrument_view(self).text()

    def _repr_html_(self) -> str:
        return instrument_view(self).html()

    def score_names(self) -> tuple[str, ...]:
        """Names of the scores in output order."""
        return tuple(s.name for s in self.scores)

    def norms(self) -> tuple[str, ...]:
        """Names of the norms with cut-off bands, in the order of the definition."""
        return tuple(dict.fromkeys(c.norm for c in self.cutoffs))

    def score_items(self, name: str) -> tuple[str, ...]:
        """Items of a score; for a composite, the union of its components' items."""
        by_name = {s.name: s for s in self.scores}
        s = by_name[name]
        if s.items:
            return s.items
        out: list[str] = []
        for comp in s.of_scores:
            out.extend(i for i in self.score_items(comp) if i not in out)
        return tuple(i for i in self.items if i in out)


# --------------------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------------------


class _Ctx:
    """Raises SpecificationError naming the file and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, problem: str, fix: str) -> SpecificationError:
        return SpecificationError(f"{self.source}: field '{field}': {problem}. Fix: {fix}")


def _require(d: dict, key: str, ctx: _Ctx, where: str = "") -> Any:
    if key not in d or d[key] is None:
        raise ctx.fail(f"{where}{key}", "missing", f"add '{key}:' (see docs/instruments.md for the schema)")
    return d[key]


def _as_int(value: Any, field: str, ctx: _Ctx) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.fail(field, f"expected an integer, got {value!r}", "write a whole number")
    return value


def _as_number(value: Any, field: str, ctx: _Ctx) -> float:
    """A number, or a fraction written as a string such as ``"20/9"``."""
    if isinstance(value, bool):
        raise ctx.fail(field, f"expected a number, got {value!r}", "write a number or a fraction such as \"20/9\"")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Fraction(value.replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            pass
    raise ctx.fail(field, f"expected a number, got {value!r}", "write a number or a fraction such as \"20/9\"")


def _item_refs(refs: Any, items: tuple[str, ...], field: str, ctx: _Ctx) -> tuple[str, ...]:
    """Resolve item numbers (1-based, published order) or ids to item ids."""
    if refs == "all":
        return items
    if not isinstance(refs, list) or not refs:
        raise ctx.fail(field, f"expected a non-empty list of item numbers or ids, got {refs!r}", "write e.g. [1, 4, 8]")
    out = []
    for r in refs:
        if isinstance(r, int) and not isinstance(r, bool):
            if not 1 <= r <= len(items):
                raise ctx.fail(field, f"item number {r} is outside 1..{len(items)}", "use the published item numbers")
            out.append(items[r - 1])
        elif isinstance(r, str) and r in items:
            out.append(r)
        else:
            raise ctx.fail(field, f"unknown item {r!r}", f"use item numbers 1..{len(items)} or ids such as {items[0]!r}")
    if len(set(out)) != len(out):
        raise ctx.fail(field, "an item is listed twice", "list each item once")
    return tuple(out)


def _parse_items(spec: Any, ctx: _Ctx) -> tuple[str, ...]:
    if isinstance(spec, dict):
        prefix = _require(spec, "prefix", ctx, "items.")
        n = _as_int(_require(spec, "n", ctx, "items."), "items.n", ctx)
        if not isinstance(prefix, str) or not prefix or n < 1:
            raise ctx.fail("items", f"bad prefix/n: {spec!r}", "write e.g. {prefix: sdq, n: 25}")
        width = max(2, len(str(n)))
        return tuple(f"{prefix}_{i:0{width}d}" for i in range(1, n + 1))
    if isinstance(spec, list) and spec and all(isinstance(i, str) and i for i in spec):
        if len(set(spec)) != len(spec):
            raise ctx.fail("items", "duplicate item ids", "list each item once")
        return tuple(spec)
    raise ctx.fail("items", f"expected {{prefix, n}} or a list of item ids, got {spec!r}", "write e.g. {prefix: sdq, n: 25}")


def _parse_score(name: str, spec: Any, items: tuple[str, ...], earlier: dict[str, Score], ctx: _Ctx) -> Score:
    where = f"scores.{name}"
    if not isinstance(spec, dict):
        raise ctx.fail(where, f"expected a mapping, got {spec!r}", "write e.g. {items: [1, 2], aggregation: mean}")
    unknown = set(spec) - _SCORE_FIELDS
    if unknown:
        raise ctx.fail(where, f"unknown key(s) {sorted(unknown)}", f"use only {sorted(_SCORE_FIELDS)}")
    aggregation = _require(spec, "aggregation", ctx, where + ".")
    if aggregation not in AGGREGATIONS:
        raise ctx.fail(where + ".aggregation", f"unknown aggregation {aggregation!r}", f"use one of {AGGREGATIONS}")
    if ("items" in spec) == ("scores" in spec):
        raise ctx.fail(where, "give exactly one of 'items' or 'scores'", "a score is built from items or from earlier scores")
    if "scores" in spec:
        comps = spec["scores"]
        if not isinstance(comps, list) or not comps or any(c not in earlier or not earlier[c].items for c in comps):
            raise ctx.fail(
                where + ".scores", f"{comps!r} must list earlier item-based scores ({sorted(earlier)})",
                "define the component scores above the composite",
            )
        if aggregation not in ("sum", "mean"):
            raise ctx.fail(where + ".aggregation", f"a composite score takes sum or mean, not {aggregation!r}", "use sum or mean")
        if spec.get("min_answered", len(comps)) != len(comps):
            raise ctx.fail(where + ".min_answered", "a composite needs every component score", "remove min_answered")
        score_items: tuple[str, ...] = ()
        of_scores = tuple(comps)
        n_needed = len(comps)
    else:
        score_items = _item_refs(spec["items"], items, where + ".items", ctx)
        of_scores = ()
        n_needed = _as_int(spec.get("min_answered", len(score_items)), where + ".min_answered", ctx)
        if not 1 <= n_needed <= len(score_items):
            raise ctx.fail(where + ".min_answered", f"{n_needed} is outside 1..{len(score_items)}", "give the minimum number of answered items")
        if aggregation == "sum" and n_needed != len(score_items):
            raise ctx.fail(
                where + ".aggregation", "a plain sum over fewer items is not on the scale of the full sum",
                "use aggregation: prorated_sum (mean x number of items) or require all items",
            )
    rho = None
    if aggregation == "kiresuk_sherman":
        rho = _as_number(_require(spec, "rho", ctx, where + "."), where + ".rho", ctx)
        if not 0 <= rho < 1:
            raise ctx.fail(where + ".rho", f"{rho} is outside [0, 1)", "use the assumed inter-goal correlation, usually 0.3")
    elif "rho" in spec:
        raise ctx.fail(where + ".rho", "rho only applies to aggregation kiresuk_sherman", "remove rho")
    transformation = spec.get("transformation") or {}
    if not isinstance(transformation, dict) or set(transformation) - {"multiply", "add"}:
        raise ctx.fail(where + ".transformation", f"expected {{multiply, add}}, got {transformation!r}", "write e.g. {multiply: \"20/9\"}")
    multiply = _as_number(transformation.get("multiply", 1), where + ".transformation.multiply", ctx)
    add = _as_number(transformation.get("add", 0), where + ".transformation.add", ctx)
    rounding = spec.get("rounding")
    if rounding is not None:
        rounding = _as_int(rounding, where + ".rounding", ctx)
    return Score(name, aggregation, score_items, of_scores, n_needed, multiply, add, rounding, rho)


def _parse_cutoffs(spec: Any, score_names: set[str], ctx: _Ctx) -> tuple[Cutoff, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, list):
        raise ctx.fail("cutoffs", "expected a list", "write a list of {score, source, bands}")
    out = []
    for k, c in enumerate(spec):
        where = f"cutoffs[{k}]"
        if not isinstance(c, dict):
            raise ctx.fail(where, "expected a mapping", "write {score, source, note, bands}")
        score = _require(c, "score", ctx, where + ".")
        if score not in score_names:
            raise ctx.fail(where + ".score", f"unknown score {score!r}", f"use one of {sorted(score_names)}")
        source = _require(c, "source", ctx, where + ".")
        norm = c.get("norm", "default")
        if not isinstance(norm, str) or not _CODE_RE.match(norm):
            raise ctx.fail(where + ".norm", f"{norm!r} is not a lower-case identifier", "name the norm, e.g. uk_original")
        if any(o.norm == norm and o.score == score for o in out):
            raise ctx.fail(where, f"score {score!r} has two sets of bands for norm {norm!r}", "give each norm its own name")
        bands = _require(c, "bands", ctx, where + ".")
        if not isinstance(bands, list) or not bands:
            raise ctx.fail(where + ".bands", "expected a non-empty list", "write [{label, min, max}, ...]")
        parsed = []
        labels_nl = []
        for b in bands:
            if not isinstance(b, dict) or not {"label", "min", "max"} <= set(b) <= {"label", "label_nl", "min", "max"}:
                raise ctx.fail(where + ".bands", f"bad band {b!r}", "write {label: normal, label_nl: normaal, min: 0, max: 13}")
            low, high = _as_number(b["min"], where, ctx), _as_number(b["max"], where, ctx)
            if low > high:
                raise ctx.fail(where + ".bands", f"band {b['label']!r} has min {low} above max {high}", "swap min and max")
            parsed.append((str(b["label"]), low, high))
            labels_nl.append(str(b.get("label_nl", b["label"])))
        if len({label for label, _, _ in parsed}) != len(parsed) or len(set(labels_nl)) != len(labels_nl):
            raise ctx.fail(where + ".bands", "a band label occurs twice", "give every band its own label")
        ordered = sorted(parsed, key=lambda band: band[1])
        for (label_a, _, high_a), (label_b, low_b, _) in zip(ordered, ordered[1:]):
            if low_b <= high_a:
                raise ctx.fail(
                    where + ".bands", f"bands {label_a!r} and {label_b!r} overlap (limits are inclusive)",
                    "make each score fall in one band",
                )
        out.append(Cutoff(score, str(source), str(c.get("note", "")), tuple(parsed), norm, tuple(labels_nl)))
    return tuple(out)


def _parse_vectors(spec: Any, items: tuple[str, ...], names: set[str], ctx: _Ctx) -> tuple[TestVector, ...]:
    if not isinstance(spec, list) or not spec:
        raise ctx.fail("test_vectors", "at least one test vector is required", "add hand-computed {label, items, expected}")
    out = []
    for k, v in enumerate(spec):
        where = f"test_vectors[{k}]"
        if not isinstance(v, dict):
            raise ctx.fail(where, "expected a mapping", "write {label, items, expected}")
        vals = _require(v, "items", ctx, where + ".")
        if not isinstance(vals, list) or len(vals) != len(items):
            raise ctx.fail(where + ".items", f"expected {len(items)} values (null = missing)", "give one value per item in item order")
        expected = _require(v, "expected", ctx, where + ".")
        if not isinstance(expected, dict) or not expected or set(expected) - (names | {"n_answered"}):
            raise ctx.fail(where + ".expected", f"keys must be scores {sorted(names)} or n_answered", "name the scores you expect")
        exp = tuple((str(key), None if val is None else _as_number(val, where + ".expected", ctx)) for key, val in expected.items())
        out.append(TestVector(str(v.get("label", f"vector {k}")), tuple(vals), exp))
    return tuple(out)


def parse_instrument(spec: Any, source: str) -> Instrument:
    """Validate a parsed YAML mapping and build an :class:`Instrument`.

    Raises :class:`SpecificationError` naming ``source`` and the offending field.
    """
    ctx = _Ctx(source)
    if not isinstance(spec, dict):
        raise ctx.fail("(top level)", "the file is not a YAML mapping", "start with 'code: my_scale'")
    unknown = set(spec) - _TOP_FIELDS
    if unknown:
        raise ctx.fail("(top level)", f"unknown field(s) {sorted(unknown)}", f"use only {sorted(_TOP_FIELDS)}")
    code = _require(spec, "code", ctx)
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise ctx.fail("code", f"{code!r} is not a lower-case identifier", "use letters, digits and _ (e.g. obvl_parent)")
    name = _require(spec, "name", ctx)
    if not isinstance(name, dict) or not name.get("nl") or not name.get("en"):
        raise ctx.fail("name", "needs both nl and en", "write name: {nl: ..., en: ...}")
    items = _parse_items(_require(spec, "items", ctx), ctx)
    response = _require(spec, "response", ctx)
    if not isinstance(response, dict):
        raise ctx.fail("response", "expected {min, max}", "write response: {min: 0, max: 2}")
    rmin = _as_int(_require(response, "min", ctx, "response."), "response.min", ctx)
    rmax = _as_int(_require(response, "max", ctx, "response."), "response.max", ctx)
    if rmin >= rmax:
        raise ctx.fail("response", f"min {rmin} is not below max {rmax}", "give the lowest and highest response code")
    reverse = _item_refs(spec["reverse"], items, "reverse", ctx) if spec.get("reverse") else ()
    scores_spec = _require(spec, "scores", ctx)
    if not isinstance(scores_spec, dict) or not scores_spec:
        raise ctx.fail("scores", "expected a non-empty mapping name -> score", "write scores: {total: {items: all, aggregation: mean}}")
    scores: dict[str, Score] = {}
    for sname, sspec in scores_spec.items():
        if not isinstance(sname, str) or not _CODE_RE.match(sname) or sname == "n_answered":
            raise ctx.fail(f"scores.{sname}", "score names are lower-case identifiers other than n_answered", "rename the score")
        scores[sname] = _parse_score(sname, sspec, items, scores, ctx)
    verified = _require(spec, "verified", ctx)
    if not isinstance(verified, dict) or not isinstance(verified.get("status"), bool) or not verified.get("source"):
        raise ctx.fail("verified", "expected {status: true|false, source: ..., note: ...}", "say where the key was checked")
    goals = _require(spec, "goals", ctx)
    if not isinstance(goals, list) or not goals or any(g not in (1, 2, 3, 4, 5) for g in goals):
        raise ctx.fail("goals", f"expected a list of transformation goals 1..5, got {goals!r}", "see design.GOALS")
    for key in ("construct", "citation", "licence"):
        if not isinstance(_require(spec, key, ctx), str):
            raise ctx.fail(key, "expected text", f"write {key}: ...")
    return Instrument(
        code=code,
        name_nl=str(name["nl"]),
        name_en=str(name["en"]),
        construct=spec["construct"],
        items=items,
        response_min=rmin,
        response_max=rmax,
        reverse=reverse,
        scores=tuple(scores.values()),
        citation=spec["citation"].strip(),
        licence=spec["licence"].strip(),
        verified=verified["status"],
        verified_source=str(verified["source"]).strip(),
        verified_note=str(verified.get("note", "")).strip(),
        goals=tuple(goals),
        synthetic=bool(spec.get("synthetic", False)),
        cutoffs=_parse_cutoffs(spec.get("cutoffs"), set(scores), ctx),
        test_vectors=_parse_vectors(spec.get("test_vectors"), items, set(scores), ctx),
        notes=str(spec.get("notes", "")).strip(),
        source_file=source,
    )


def _read_yaml(text: str, source: str) -> Instrument:
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecificationError(f"{source}: not valid YAML ({exc}). Fix the syntax at the line shown.") from exc
    return parse_instrument(spec, source)


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------


@functools.cache
def _registry() -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    folder = resources.files("lerendtransformeren.scales") / "definitions"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            inst = _read_yaml(entry.read_text(encoding="utf-8"), f"definitions/{entry.name}")
            out[inst.code] = inst
    return out


def get(code: str) -> Instrument:
    """The shipped instrument with this code.

    Parameters
    ----------
    code : str
        Instrument code, see :func:`available`.

    Returns
    -------
    Instrument

    Examples
    --------
    >>> from lerendtransformeren import scales
    >>> inst = scales.get("uwes9")
    >>> inst.score_names()
    ('vigour', 'dedication', 'absorption', 'total')
    >>> inst.reverse
    ()
    """
    reg = _registry()
    if code not in reg:
        raise SpecificationError(
            f"unknown instrument {code!r}. Shipped: {', '.join(sorted(reg))}. "
            "For your own (licensed) key use scales.load('path/to/key.yaml')."
        )
    return reg[code]


def available() -> pd.DataFrame:
    """Table of the shipped instruments, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name_nl, name_en, construct, synthetic, n_items, items,
        response, scores, reverse, goals, verified, licence``.

    Examples
    --------
    >>> from lerendtransformeren import scales
    >>> tab = scales.available()
    >>> tab.set_index("code").loc["sdq_parent", ["items", "response"]].tolist()
    ['sdq_01..sdq_25', '0..2']
    """
    rows = []
    for inst in _registry().values():
        rows.append(
            {
                "code": inst.code,
                "name_nl": inst.name_nl,
                "name_en": inst.name_en,
                "construct": inst.construct,
                "synthetic": inst.synthetic,
                "n_items": len(inst.items),
                "items": f"{inst.items[0]}..{inst.items[-1]}",
                "response": f"{inst.response_min}..{inst.response_max}",
                "scores": ", ".join(inst.score_names()),
                "reverse": ", ".join(inst.reverse),
                "goals": ", ".join(str(g) for g in inst.goals),
                "verified": inst.verified,
                "licence": inst.licence,
            }
        )
    return pd.DataFrame(rows)
