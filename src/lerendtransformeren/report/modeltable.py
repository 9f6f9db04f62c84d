"""Fitted models side by side in one APA table (R: ``modelsummary::modelsummary``).

:func:`model_table` takes one or more fitted models (linear mixed models, GLMMs, GEE) and
returns a :class:`ModelTable`, a :class:`~lerendtransformeren.report.table.Table` with one
column per model, which renders to HTML, Word and Markdown in Dutch and English like every
table of the report layer (put it in a :class:`~lerendtransformeren.report.document.Section`).

Rows, top down, in sections:

* fixed effects: the estimate with its confidence interval in brackets or its standard
  error in parentheses, on the row below (``layout="below"``, as modelsummary) or in the
  same cell (``layout="beside"``); a term a model does not have is left empty;
* random effects: the SD (or the variance) per level and term, correlations of
  correlated random effects, the residual;
* variance partition: the cumulative ICC per level (``result.icc["icc"]``) and the
  marginal and conditional R2 (Nakagawa) of linear mixed models, with parametric-bootstrap
  intervals on request (``icc_ci=``);
* model fit: AIC, BIC and log-likelihood;
* sample: observations and units per level.

The note under the table says what the brackets hold, how each model was estimated
(REML or ML, Laplace or quadrature, GEE), its df method, the scale of GLMM and GEE
estimates and, with ``icc_ci``, how the bootstrap intervals were made and what they rest on.

The frame of the table holds numbers only: per model four columns (``"<m> value"`` is
``"m1"``, ``"m1 low"``, ``"m1 high"``, ``"m1 se"``) and one row per shown line, indexed
by a row key (``"fixed Intercept"``, ``"icc org"``, ``"n"``); :attr:`ModelTable.kinds`
says how each row is written. Model estimates rest on all rows of a model, so the
small-cell rule of the descriptive tables does not apply; the identifier guard does (a
fixed effect of a dummy per organisation would show its code, and a document rendered
with ``identifiers=`` refuses it).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import Label, check_lang
from lerendtransformeren.multilevel.bootstrap import IccR2Bootstrap
from lerendtransformeren.multilevel.gee import GEEResult
from lerendtransformeren.multilevel.glmm_results import GLMMResult
from lerendtransformeren.multilevel.replicates import seed_sequence
from lerendtransformeren.multilevel.results import MultilevelResult
from lerendtransformeren.report.format import fmt_bounded, fmt_ci, fmt_int, fmt_num, fmt_pct
from lerendtransformeren.report.table import Column, Table
from lerendtransformeren.report.tables import level_label
from lerendtransformeren.report.text import factor_references, term_phrase
from lerendtransformeren.vocabulary import GEE_CORRECTIONS, LEVEL_LABELS, TERM_LABELS, UNIT_PLURALS
from lerendtransformeren.vocabulary import MODEL_TABLE_WORDS as W

__all__ = ["ModelTable", "model_table"]

_INTERCEPTS = ("Intercept", "(Intercept)")
_SHOW = ("ci", "se")
_LAYOUTS = ("below", "beside")
_RANDOM = ("sd", "variance")
_STATS = ("value", "low", "high", "se")
_EMPTY = Label.same("")  # the stub of a line below an estimate
#: How a row is written: a section heading, an estimate, its interval or SE on the line
#: below, a number (an SD), a variance (one decimal more: small variances are squares of
#: small SDs), a statistic bounded by 1 (and its interval below), a fit statistic, a count.
_KINDS = ("section", "estimate", "estimate_stat", "number", "variance", "bounded", "bounded_stat", "fit", "count")


@dataclass(frozen=True, repr=False)
class ModelTable(Table):
    """A :class:`~lerendtransformeren.report.table.Table` of models side by side.

    Made by :func:`model_table`. ``frame`` has four number columns per model (value,
    ``low``, ``high``, ``se``) and one row per line of the table; ``kinds`` maps every row
    key to how it is written (see the module notes); ``show``, ``layout`` and ``digits``
    are those of :func:`model_table`. Cells of a model without the row are empty.
    """

    kinds: Mapping[Hashable, str] = field(default_factory=dict)
    show: str = "ci"
    layout: str = "below"
    digits: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        unknown = sorted({k for k in self.kinds.values() if k not in _KINDS})
        if unknown or set(self.kinds) != set(self.frame.index):
            raise SpecificationError(f"ModelTable.kinds must give one of {_KINDS} for every row; got {unknown}.")

    def headings(self) -> list[bool]:
        """The section rows (fixed effects, random effects, ...) head the rows below them."""
        return [self.kinds[key] == "section" for key in self.frame.index]

    def rows(self, lang: str) -> list[list[str]]:
        """The body as text: the row label, then one cell per model."""
        check_lang(lang)
        out = []
        for i, key in enumerate(self.frame.index):
            kind = self.kinds[key]
            cells = ["" if kind == "section" else self._cell(kind, col.source, i, lang) for col in self.columns]
            out.append([self._label(key, lang)] + cells)
        return out

    def _cell(self, kind: str, source: Hashable, i: int, lang: str) -> str:
        value, low, high, se = (self.frame[f"{source} {s}" if s != "value" else source].iloc[i] for s in _STATS)
        bounded = kind.startswith("bounded")
        if kind in ("estimate_stat", "bounded_stat"):
            return self._stat(low, high, se, lang, bounded)
        if pd.isna(value):
            return ""
        if kind == "count":
            return fmt_int(value, lang)
        if kind == "fit":
            return fmt_num(value, 1, lang)
        if kind == "variance":
            return fmt_num(value, self.digits + 1, lang)
        text = fmt_bounded(value, self.digits, lang) if bounded else fmt_num(value, self.digits, lang)
        if kind in ("estimate", "bounded") and self.layout == "beside":
            stat = self._stat(low, high, se, lang, bounded)
            text += f" {stat}" if stat else ""
        return text

    def _stat(self, low, high, se, lang: str, bounded: bool) -> str:
        """The interval ``[low, high]`` or the SE ``(se)``; empty when not available."""
        if self.show == "se":
            return "" if pd.isna(se) else f"({fmt_num(se, self.digits, lang)})"
        if pd.isna(low) or pd.isna(high):
            return ""
        return fmt_ci(low, high, self.digits, lang, leading_zero=not bounded)


# -- what one model contributes ----------------------------------------------------------------
@dataclass
class _Parts:
    """The numbers and words one model contributes to the table."""

    fixed: pd.DataFrame  # estimate, se, ci_low, ci_high; indexed by term
    random: list[tuple[str, Label, float]] = field(default_factory=list)  # row key, label, value
    partition: list[tuple[str, Label, float, float, float, float]] = field(default_factory=list)
    fit: dict[str, float] = field(default_factory=dict)
    n_obs: int = 0
    units: list[tuple[str, int]] = field(default_factory=list)  # level (coarsest first), units
    method: Label = _EMPTY
    scale: Label | None = None
    conf_level: float = 0.95
    references: dict[str, str] = field(default_factory=dict)
    warnings: list[Label] = field(default_factory=list)
    reml: bool = False


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _term_label(term: str, references: Mapping[str, str], labels: Mapping[Hashable, Any]) -> Label:
    """A fixed-effect term as a table row: the user's label, the vocabulary's, or built from its parts."""
    if term in labels:
        return Label.of(labels[term])
    if term in TERM_LABELS:
        return TERM_LABELS[term]
    parts = term.split(":")
    if len(parts) > 1 and all(parts):
        words = [_term_label(p, references, labels) for p in parts]
        return Label(" × ".join(w.nl for w in words), " × ".join(w.en for w in words))
    return term_phrase(term, references).cap()


def _level_units(level: str) -> Label:
    """'Aantal teams' for a level whose innermost unit the vocabulary knows, else 'Aantal eenheden: <level>'."""
    inner = str(level).split(":")[-1]
    if inner in UNIT_PLURALS:
        return W["number_of"] + UNIT_PLURALS[inner]
    return W["units_of"] + level_label(level)


def _random_rows(result, random: str, labels: Mapping[Hashable, Any]) -> list[tuple[str, Label, float]]:
    """SDs or variances per level (coarsest first) and term, correlations, the residual."""
    var = result.variance
    column = "sd" if random == "sd" else "variance"
    rows = []
    for lev in result.frame.levels[::-1]:
        block = var.xs(lev.name, level="group")
        name = Label.of(labels[lev.name]) if lev.name in labels else level_label(lev.name)
        for term, rec in block.iterrows():
            shown = name if term in _INTERCEPTS else name + ": " + _term_label(term, {}, labels)
            rows.append((f"re {lev.name} {term}", shown, float(rec[column])))
            for col in (c for c in block.columns if str(c).startswith("corr ") and pd.notna(rec[c])):
                other = str(col)[len("corr "):]
                words = (W["correlation"] + " " + _term_label(other, {}, labels) + ", "
                         + _term_label(term, {}, labels))
                rows.append((f"re {lev.name} {term} {col}", name + ": " + words, float(rec[col])))
    if "residual" in var.index.get_level_values("group"):
        rows.append(("re residual", LEVEL_LABELS["residual"], float(var.loc[("residual", ""), column])))
    return rows


def _partition_rows(result, boot: IccR2Bootstrap | None, labels) -> list[tuple]:
    """ICC per level and R2: (row key, label, value, low, high, bootstrap SE)."""
    icc = result.icc["icc"].dropna()
    rows = []
    table = boot.table if boot is not None else None
    for level, value in icc.items():
        name = Label.of(labels[level]) if level in labels else level_label(str(level))
        key = ("icc", str(level))
        low, high, se = table.loc[key, ["ci_low", "ci_high", "boot_se"]] if table is not None else (np.nan,) * 3
        rows.append((f"icc {level}", W["icc"] + " " + name.map(_lower_first), float(value), low, high, se))
    for part in ("marginal", "conditional"):
        key = ("r2", part)
        low, high, se = table.loc[key, ["ci_low", "ci_high", "boot_se"]] if table is not None else (np.nan,) * 3
        rows.append((f"r2 {part}", W[f"r2_{part}"], float(result.r2[part]), low, high, se))
    return rows


def _fixed(fixed: pd.DataFrame, ratios: bool, columns: tuple[str, str, str]) -> pd.DataFrame:
    """estimate, se, ci_low, ci_high on the link scale, or as ratios with delta-method SEs."""
    est, low, high = columns
    if not ratios:
        return fixed[["estimate", "se", "ci_low", "ci_high"]].astype(float)
    out = pd.DataFrame({"estimate": fixed[est], "ci_low": fixed[low], "ci_high": fixed[high]}, index=fixed.index)
    out["se"] = fixed[est] * fixed["se"]
    return out[["estimate", "se", "ci_low", "ci_high"]].astype(float)


def _lmm_parts(m: MultilevelResult, random: str, boot, labels) -> _Parts:
    method = (W["reml"] if m.reml else W["ml"]) + ", " + W["df_by"].format(m.ddf)
    return _Parts(
        fixed=_fixed(m.fixed, False, ("", "", "")), random=_random_rows(m, random, labels),
        partition=_partition_rows(m, boot, labels), fit={"aic": m.aic, "bic": m.bic, "loglik": m.loglik},
        n_obs=int(m.engine.n), units=[(lev.name, lev.n_units) for lev in m.frame.levels[::-1]], method=method,
        conf_level=m.conf_level, references=factor_references(m.frame), warnings=_flags(m),
        reml=bool(m.reml),
    )


def _scale(family: str, ratios: bool) -> Label | None:
    """The scale of GLMM or GEE estimates: link scale, or odds / rate ratios."""
    if family == "gaussian":
        return None
    if ratios:
        return W["odds_ratios"] if family == "binomial" else W["rate_ratios"]
    return W["log_odds"] if family == "binomial" else W["log_rate"]


def _glmm_parts(m: GLMMResult, random: str, ratios: bool, labels) -> _Parts:
    how = W["laplace"] if m.nagq == 1 else W["agq"] + f" (nAGQ = {m.nagq})"
    test = W["wald_z"] if m.ddf == "Wald" else W["between_within"]
    fixed = m.fixed
    if ratios:
        ratio = m.ratios().rename(columns={"ci_low": "r_low", "ci_high": "r_high"})
        fixed = fixed.join(ratio[["ratio", "r_low", "r_high"]])
    return _Parts(
        fixed=_fixed(fixed, ratios, ("ratio", "r_low", "r_high")), random=_random_rows(m, random, labels),
        fit={"aic": m.aic, "bic": m.bic, "loglik": m.loglik}, n_obs=int(m.engine.n),
        units=[(lev.name, lev.n_units) for lev in m.frame.levels[::-1]],
        method=Label.same(f"GLMM ({m.family}), ") + how + ", " + test, scale=_scale(m.family, ratios),
        conf_level=m.conf_level, references=factor_references(m.frame), warnings=_flags(m),
    )


def _gee_parts(m: GEEResult, ratios: bool) -> _Parts:
    rule = W["wald_z"] if m.df_rule == "normal" else W[f"gee_df_{m.df_rule}"]
    method = W["gee"] + ", " + W[f"working_{m.cov_struct}"] + ", " + GEE_CORRECTIONS[m.small_sample] + ", " + rule
    ratios = ratios and m.family != "gaussian"
    return _Parts(fixed=_fixed(m.fixed, ratios, ("exp_estimate", "exp_ci_low", "exp_ci_high")),
                  n_obs=int(m.n["rows_used"]), units=[(m.cluster, int(m.n["clusters"]))], method=method,
                  scale=_scale(m.family, ratios), conf_level=m.conf_level,
                  warnings=[] if m.converged else [W["not_converged"]])


def _flags(m) -> list[Label]:
    return ([W["singular"]] if m.singular else []) + ([] if m.converged else [W["not_converged"]])


# -- the table -----------------------------------------------------------------------------------
def _merge(order: list, keys: Sequence) -> None:
    """Add ``keys`` to ``order`` in place, each new key right after its predecessor in ``keys``."""
    for i, key in enumerate(keys):
        if key in order:
            continue
        before = next((keys[j] for j in range(i - 1, -1, -1) if keys[j] in order), None)
        order.insert(order.index(before) + 1 if before is not None else 0, key)


_NONE = (np.nan, np.nan, np.nan, np.nan)


class _Lines:
    """The rows of the table being built: key -> (kind, label) in order, and the numbers per model."""

    def __init__(self, n_models: int):
        self.n = n_models
        self.kinds: dict[str, str] = {}
        self.labels: dict[str, Label] = {}
        self.cells: dict[tuple[str, int], tuple] = {}

    def section(self, key: str, label: Label, rows: list[tuple[str, str, Label]]) -> None:
        """A section heading and its rows ``(key, kind, label)``, when it has any."""
        if not rows:
            return
        self.kinds[key], self.labels[key] = "section", label
        for row, kind, text in rows:
            self.kinds[row], self.labels[row] = kind, text

    def frame(self) -> pd.DataFrame:
        data = {}
        for i in range(self.n):
            values = np.array([self.cells.get((k, i), _NONE) for k in self.kinds], float).reshape(-1, 4)
            for j, stat in enumerate(_STATS):
                data[f"m{i + 1}" if stat == "value" else f"m{i + 1} {stat}"] = values[:, j]
        return pd.DataFrame(data, index=pd.Index(list(self.kinds), name="row"))


def _stat_available(nums: tuple, show: str) -> bool:
    return bool(np.isfinite(nums[3])) if show == "se" else bool(np.isfinite(nums[1]) and np.isfinite(nums[2]))


def _fixed_rows(lines: _Lines, parts: list[_Parts], labels, below: bool) -> list[tuple[str, str, Label]]:
    order: list[str] = []
    for p in parts:
        order += [t for t in p.fixed.index if t not in order]  # in order of first appearance
    order.sort(key=lambda t: t not in _INTERCEPTS)  # the intercept first, the rest as the models have them
    references = {k: v for p in parts for k, v in p.references.items()}
    rows = []
    for term in order:
        rows.append((f"fixed {term}", "estimate", _term_label(str(term), references, labels)))
        if below:
            rows.append((f"fixed {term} stat", "estimate_stat", _EMPTY))
        for i, p in enumerate(parts):
            if term in p.fixed.index:
                r = p.fixed.loc[term]
                nums = (r["estimate"], r["ci_low"], r["ci_high"], r["se"])
                lines.cells[(f"fixed {term}", i)] = lines.cells[(f"fixed {term} stat", i)] = nums
    return rows


def _random_section(lines: _Lines, parts: list[_Parts], random: str) -> list[tuple[str, str, Label]]:
    order: list[str] = []
    words: dict[str, Label] = {}
    for i, p in enumerate(parts):
        _merge(order, [key for key, _, _ in p.random])
        for key, label, value in p.random:
            words.setdefault(key, label)
            lines.cells[(key, i)] = (value, np.nan, np.nan, np.nan)
    kind = "number" if random == "sd" else "variance"
    return [(k, "bounded" if " corr " in k else kind, words[k]) for k in order]


def _partition_section(lines: _Lines, parts: list[_Parts], show: str, below: bool) -> list[tuple[str, str, Label]]:
    order: list[str] = []
    words: dict[str, Label] = {}
    with_stat: set[str] = set()
    for i, p in enumerate(parts):
        _merge(order, [row[0] for row in p.partition])
        for key, label, value, low, high, se in p.partition:
            words.setdefault(key, label)
            nums = (value, low, high, se)
            lines.cells[(key, i)] = lines.cells[(f"{key} stat", i)] = nums
            if _stat_available(nums, show):
                with_stat.add(key)
    rows = []
    for key in order:
        rows.append((key, "bounded", words[key]))
        if below and key in with_stat:
            rows.append((f"{key} stat", "bounded_stat", _EMPTY))
    return rows


def _fit_and_sample(lines: _Lines, parts: list[_Parts]) -> tuple[list, list]:
    fit_rows = []
    for key in ("aic", "bic", "loglik"):
        if any(key in p.fit for p in parts):
            fit_rows.append((key, "fit", W[key]))
            for i, p in enumerate(parts):
                lines.cells[(key, i)] = (p.fit.get(key, np.nan), np.nan, np.nan, np.nan)
    sample_rows = [("n", "count", W["observations"])]
    order: list[str] = []
    for i, p in enumerate(parts):
        lines.cells[("n", i)] = (p.n_obs, np.nan, np.nan, np.nan)
        _merge(order, [f"units {level}" for level, _ in p.units])
        for level, count in p.units:
            lines.cells[(f"units {level}", i)] = (count, np.nan, np.nan, np.nan)
    sample_rows += [(key, "count", _level_units(key[len("units "):])) for key in order]
    return fit_rows, sample_rows


# -- the note ------------------------------------------------------------------------------------
def _models_phrase(indices: Sequence[int], names: Sequence[Label]) -> Label:
    """'Model 1 en Model 2' / 'Model 1 and Model 2'."""
    picked = [names[i] for i in indices]
    nl = ", ".join(n.nl for n in picked[:-1]) + (" en " if len(picked) > 1 else "") + picked[-1].nl
    en = ", ".join(n.en for n in picked[:-1]) + (" and " if len(picked) > 1 else "") + picked[-1].en
    return Label(nl, en)


def _grouped(values: Sequence[Label | None], names: Sequence[Label]) -> list[tuple[Label, Label]]:
    """Distinct values with the models that have them, in order of first appearance."""
    groups: dict[Label, list[int]] = {}
    for i, v in enumerate(values):
        if v is not None:
            groups.setdefault(v, []).append(i)
    return [(v, _models_phrase(ix, names)) for v, ix in groups.items()]


def _note_brackets(parts: list[_Parts], show: str, below: bool, ratios: bool) -> Label:
    levels = sorted({p.conf_level for p in parts})
    nl_pct = " of ".join(fmt_pct(v, 0, "nl") for v in levels)
    en_pct = " or ".join(fmt_pct(v, 0, "en") for v in levels)
    where_nl, where_en = (" eronder", " below it") if below else ("", "")
    if show == "ci":
        text = Label(f"Vaste effecten: schatting met het {nl_pct}-betrouwbaarheidsinterval tussen rechte haken"
                     f"{where_nl}.",
                     f"Fixed effects: estimate with its {en_pct} confidence interval in brackets{where_en}.")
    else:
        text = Label(f"Vaste effecten: schatting met de standaardfout tussen haakjes{where_nl}.",
                     f"Fixed effects: estimate with its standard error in parentheses{where_en}.")
        if ratios and any(p.scale in (W["odds_ratios"], W["rate_ratios"]) for p in parts):
            text = text + Label(" Standaardfouten van ratio's volgens de deltamethode.",
                                " Standard errors of ratios by the delta method.")
    return text


def _note_methods(parts: list[_Parts], names: list[Label]) -> list[Label]:
    groups = _grouped([p.method for p in parts], names)
    if len(parts) == 1:
        out = [W["estimation"] + parts[0].method + "."]
    else:
        out = [W["estimation"]
               + Label("; ".join(f"{m.nl} ({who.nl})" for m, who in groups),
                       "; ".join(f"{m.en} ({who.en})" for m, who in groups)) + "."]
    for scale, who in _grouped([p.scale for p in parts], names):
        out.append(who + Label(": vaste effecten ", ": fixed effects ") + scale + ".")
    if any(p.scale is not None and p.random for p in parts):
        out.append(Label("Random effecten van GLMM's op de linkschaal.", "Random effects of GLMMs on the link scale."))
    for flag, who in _grouped([Label("; ".join(f.nl for f in p.warnings), "; ".join(f.en for f in p.warnings))
                               if p.warnings else None for p in parts], names):
        out.append(who + ": " + flag + ".")
    return out


def _note_partition(parts: list[_Parts], boots: list, show: str, seed: Any) -> list[Label]:
    if not any(p.partition for p in parts):
        return []
    out = [Label(
        "ICC: per niveau cumulatief, de correlatie tussen twee metingen in dezelfde eenheid van dat niveau "
        "(aandeel van dat niveau en de niveaus erboven in de random en residuele variantie); R² volgens "
        "Nakagawa en Schielzeth: marginaal (vaste effecten) en conditioneel (vaste en random effecten).",
        "ICC: cumulative per level, the correlation of two measurements in the same unit of that level "
        "(the share of that level and the levels above it in the random and residual variance); R² of "
        "Nakagawa and Schielzeth: marginal (fixed effects) and conditional (fixed and random effects).")]
    if not all(p.partition for p in parts):
        out.append(Label("ICC en R² alleen voor lineaire multilevelmodellen.",
                         "ICC and R² for linear multilevel models only."))
    done = [b for b in boots if b is not None]
    if done:
        sizes = sorted({b.n_boot for b in done})
        what = W["intervals"] if show == "ci" else W["standard_errors"]
        out.append(Label("De ", "The ") + what + Label(
            f" van ICC en R² komen uit een parametrische bootstrap ({'/'.join(map(str, sizes))} steekproeven, "
            f"percentielmethode, seed {seed}).",
            f" of ICC and R² come from a parametric bootstrap ({'/'.join(map(str, sizes))} samples, "
            f"percentile method, seed {seed})."))
    return out


def _note_boot_counts(boots: list, names: list[Label]) -> list[Label]:
    out = []
    for i, b in enumerate(boots):
        if b is None or not (b.n_failed or b.n_singular or b.n_not_converged):
            continue
        nl, en = [], []
        if b.n_singular:
            nl.append(f"{b.n_singular} singuliere refits meegeteld")
            en.append(f"{b.n_singular} singular refits kept")
        if b.n_not_converged:
            nl.append(f"{b.n_not_converged} refits zonder geslaagde convergentiecontrole meegeteld")
            en.append(f"{b.n_not_converged} refits that failed the convergence checks kept")
        if b.n_failed:
            nl.append(f"{b.n_failed} mislukte refits weggelaten")
            en.append(f"{b.n_failed} failed refits left out")
        out.append(names[i] + Label(f", bootstrap van {b.n_boot}: " + ", ".join(nl) + ".",
                                    f", bootstrap of {b.n_boot}: " + ", ".join(en) + "."))
    return out


def _note(parts, names, boots, show, below, ratios, seed, empty: bool) -> Label:
    sentences = [_note_brackets(parts, show, below, ratios), *_note_methods(parts, names),
                 *_note_partition(parts, boots, show, seed), *_note_boot_counts(boots, names)]
    if any(p.reml for p in parts):
        sentences.append(Label("AIC en BIC van REML-fits zijn alleen vergelijkbaar tussen modellen met dezelfde "
                               "vaste effecten.",
                               "AIC and BIC of REML fits compare only models with the same fixed effects."))
    if empty:
        sentences.append(Label("Een lege cel: de term of maat hoort niet bij dat model.",
                               "An empty cell: the term or statistic is not part of that model."))
    return Label(" ".join(s.nl for s in sentences), " ".join(s.en for s in sentences))


# -- the public function -------------------------------------------------------------------------
def _check_options(show: str, layout: str, random: str, digits: Any) -> None:
    for name, value, allowed in (("show", show, _SHOW), ("layout", layout, _LAYOUTS), ("random", random, _RANDOM)):
        if value not in allowed:
            raise SpecificationError(f"{name}={value!r} must be one of {list(allowed)}.")
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or not 0 <= digits <= 6:
        raise SpecificationError(f"digits must be a whole number from 0 to 6, got {digits!r}.")


def _as_models(models: Any) -> list:
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    if not models:
        raise SpecificationError("model_table needs at least one fitted model.")
    for i, m in enumerate(models, start=1):
        if not isinstance(m, (MultilevelResult, GLMMResult, GEEResult)):
            raise SpecificationError(
                f"Model {i} is a {type(m).__name__}; model_table shows fits of lerendtransformeren.multilevel: "
                "fit(...) (MultilevelResult, GLMMResult) and fit_gee(...) (GEEResult)."
            )
    return models


def _names(names: Any, n: int) -> list[Label]:
    if names is None:
        return [W["model"] + f" {i}" for i in range(1, n + 1)]
    names = [names] if isinstance(names, (str, Label)) else list(names)
    if len(names) != n:
        raise SpecificationError(f"names has {len(names)} entries for {n} models; give one name per model.")
    return [Label.of(v) for v in names]


def _bootstraps(models: list, icc_ci: Any, seed: Any, n_jobs: int, progress) -> tuple[list, Any]:
    """One IccR2Bootstrap (or None) per model, and the seed to name in the note."""
    if icc_ci is None:
        return [None] * len(models), None
    if isinstance(icc_ci, (int, np.integer)) and not isinstance(icc_ci, bool):
        seq, reported = seed_sequence(seed)
        return [m.icc_r2_ci(int(icc_ci), seed=seq, n_jobs=n_jobs, progress=progress)
                if isinstance(m, MultilevelResult) else None for m in models], reported
    boots = list(icc_ci) if isinstance(icc_ci, (list, tuple)) else None
    if boots is None or len(boots) != len(models) or not all(b is None or isinstance(b, IccR2Bootstrap)
                                                             for b in boots):
        raise SpecificationError(
            "icc_ci must be a number of bootstrap samples (e.g. icc_ci=1000, with seed=...) or a list with one "
            "result of result.icc_r2_ci(...) (or None) per model."
        )
    for i, (m, b) in enumerate(zip(models, boots), start=1):
        if b is not None and (not isinstance(m, MultilevelResult) or b.formula != m.formula):
            raise SpecificationError(f"icc_ci[{i - 1}] is the bootstrap of {b.formula!r}, not of model {i}.")
    seeds = {str(b.seed.entropy if isinstance(b.seed, np.random.SeedSequence) else b.seed)
             for b in boots if b is not None}
    return boots, ", ".join(sorted(seeds))


def model_table(
    models: Any,
    names: Sequence[str | Label] | None = None,
    *,
    show: str = "ci",
    layout: str = "below",
    labels: Mapping[Hashable, Any] | None = None,
    digits: int = 2,
    random: str = "sd",
    ratios: bool = False,
    icc_ci: int | Sequence[IccR2Bootstrap | None] | None = None,
    seed: Any = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    title: str | Label | None = None,
) -> ModelTable:
    """Fitted models side by side: fixed effects, random effects, ICC, R2, fit and sample sizes.

    Parameters
    ----------
    models : model or sequence of models
        ``MultilevelResult`` and ``GLMMResult`` (:func:`~lerendtransformeren.multilevel.fit`),
        ``GEEResult`` (:func:`~lerendtransformeren.multilevel.fit_gee`); one column each.
    names : sequence of str or Label, optional
        Column headers; default "Model 1", "Model 2", ...
    show : {"ci", "se"}, default "ci"
        With each fixed effect: its confidence interval in brackets (the model's level and
        df method) or its standard error in parentheses.
    layout : {"below", "beside"}, default "below"
        The interval or SE on the line below the estimate (modelsummary's layout) or in the
        same cell.
    labels : mapping, optional
        Row labels of terms and levels: ``{"offer": ("Aanbod", "Offer")}`` (a
        :class:`~lerendtransformeren.lang.Label`, a ``(nl, en)`` pair or one string); terms
        without one come from the vocabulary (``TERM_LABELS``) or are built from their name.
    digits : int, default 2
        Decimals of estimates, intervals, SDs, ICC and R2 (AIC, BIC and log-likelihood
        get one).
    random : {"sd", "variance"}, default "sd"
        Show the random effects as standard deviations or as variances.
    ratios : bool, default False
        GLMM and GEE fixed effects as odds or rate ratios (exp of the estimate and its
        interval; SEs by the delta method) instead of on the link scale.
    icc_ci : int or sequence, optional
        Intervals (or, with ``show="se"``, standard errors) of the ICC and R2 of the linear
        mixed models from a parametric bootstrap with this many samples
        (``result.icc_r2_ci``), or the results of ``result.icc_r2_ci(...)``, one per model
        (None for a model without).
    seed, n_jobs, progress
        Of the bootstrap (see :func:`~lerendtransformeren.multilevel.bootstrap.bootstrap_icc_r2`);
        every model uses the same seed. The note names the seed.
    title : str or Label, optional
        The table title; default "Schattingen van het model" / "... van de modellen naast elkaar".

    Returns
    -------
    ModelTable
        A :class:`~lerendtransformeren.report.table.Table`; put it in a ``Section`` of a
        ``Document`` to render it (HTML, Word, Markdown), or call ``.formatted(lang)``.

    Raises
    ------
    SpecificationError
        An object that is not a fitted model, names that do not match the models, an
        unknown option.

    Notes
    -----
    R equivalent: ``modelsummary::modelsummary(list(m1, m2), statistic = "conf.int")``
    with ``performance::icc`` and ``performance::r2_nakagawa`` added as rows.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example()
    >>> m0 = fit("y ~ 1 + (1 | org/team)", d)
    >>> m1 = fit("y ~ wave + (1 | org/team)", d)
    >>> t = model_table([m0, m1], labels={"org": ("Organisatie", "Organisation"),
    ...                                  "org:team": ("Team", "Team")})
    >>> t.formatted("en").head(6).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['Fixed effects', '', ''], ['Intercept', '0.13', '-0.36'], ['', '[-0.26, 0.51]', '[-0.77, 0.05]'],
     ['Wave', '', '0.19'], ['', '', '[0.12, 0.26]'], ['Random effects (SD)', '', '']]
    """
    _check_options(show, layout, random, digits)
    models = _as_models(models)
    headers = _names(names, len(models))
    labels = dict(labels or {})
    boots, reported = _bootstraps(models, icc_ci, seed, n_jobs, progress)
    parts = []
    for m, b in zip(models, boots):
        if isinstance(m, MultilevelResult):
            parts.append(_lmm_parts(m, random, b, labels))
        elif isinstance(m, GLMMResult):
            parts.append(_glmm_parts(m, random, ratios, labels))
        else:
            parts.append(_gee_parts(m, ratios))
    below = layout == "below"
    lines = _Lines(len(models))
    lines.section("section fixed", W["fixed"], _fixed_rows(lines, parts, labels, below))
    lines.section("section random", W[f"random_{random}"], _random_section(lines, parts, random))
    lines.section("section partition", W["partition"], _partition_section(lines, parts, show, below))
    fit_rows, sample_rows = _fit_and_sample(lines, parts)
    lines.section("section fit", W["fit"], fit_rows)
    lines.section("section sample", W["sample"], sample_rows)
    frame = lines.frame()
    value_rows = [k for k, kind in lines.kinds.items() if kind not in ("section", "estimate_stat", "bounded_stat")]
    empty = bool(frame.loc[value_rows, [f"m{i + 1}" for i in range(len(models))]].isna().to_numpy().any())
    note = _note(parts, headers, boots, show, below, ratios, reported, empty)
    heading = Label.of(title) if title is not None else W["title" if len(models) == 1 else "title_models"]
    return ModelTable(
        frame=frame,
        columns=tuple(Column(f"m{i + 1}", h.nl, h.en) for i, h in enumerate(headers)),
        title_nl=heading.nl, title_en=heading.en, note_nl=note.nl, note_en=note.en,
        stub_nl=("",), stub_en=("",), labels=lines.labels, kinds=lines.kinds, show=show, layout=layout,
        digits=int(digits),
    )
