"""Sentences for reports in Dutch and English, in the spirit of R's easystats ``report``.

Built from the tidy DataFrames of a fitted model (see the data contracts in
:mod:`lerendtransformeren.report.tables`): one sentence per fixed effect with estimate,
95% CI, Satterthwaite t test and p value (APA style), a sentence on how the variance is
partitioned over the levels, and a methods paragraph that names the model, the
estimation, the df method and the software with versions and citations.

This module also holds the presenters of the statistics layer's results (see
:mod:`lerendtransformeren.presenters`): importing it registers

- ``"multilevel.report"``: :func:`model_report`, behind ``MultilevelResult.report``;
- ``"gee.report"``: :func:`gee_sentence`, behind ``GEEResult.report``;
- ``"power_curve.report"``: :func:`power_curve_report`, behind ``PowerCurve.report``;
- ``"power_curve.plot"``: :func:`power_curve_plot`, behind ``PowerCurve.plot``
  (:func:`~lerendtransformeren.report.figures.plot_power_curve`).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import Label, cap, join_words
from lerendtransformeren.presenters import register
from lerendtransformeren.report.format import (
    check_lang,
    fmt_bounded,
    fmt_ci,
    fmt_df,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
)
from lerendtransformeren.report.provenance import Provenance
from lerendtransformeren.report.tables import (
    _shares,
    _tidy_variance,
    power_curve_along,
    unit_plural,
)
from lerendtransformeren.vocabulary import (
    EFFECT_LABELS,
    GEE_CORRECTIONS,
    GEE_EFFECT_WORDS,
    N_VARIABLES,
    RESIDUAL_PHRASE,
    UNIT_NOUNS,
    UNITS_IN_TEXT,
)

__all__ = [
    "EFFECT_LABELS",
    "effect_sentence",
    "fixed_effects_text",
    "variance_sentence",
    "methods_paragraph",
    "power_sentence",
    "term_phrase",
    "t_statistic",
    "f_statistic",
    "factor_references",
    "units_phrase",
    "between_phrase",
    "model_report",
    "gee_sentence",
    "power_curve_report",
    "power_curve_plot",
]

_BETWEEN: dict[str, Label] = {"residual": RESIDUAL_PHRASE}


def units_phrase(level: str) -> Label:
    """The units of a grouping level in running text, plural: a noun, never a ``:``-joined name.

    A nested level (``"organisation:team:professional:family"``, as the engine names the
    levels of ``(1 | organisation/team/professional/family)``) is named by its innermost unit
    and the unit it is nested in. The units of the data contract (organisation, team,
    professional, family, youth, wave) are known in both languages; other names are used as
    they are.

    Examples
    --------
    >>> units_phrase("organisation:team:professional:family")
    Label(nl='gezinnen binnen professionals', en='families within professionals')
    >>> units_phrase("org:team").pick("en"), units_phrase("school").pick("nl")
    ('teams within org', 'school')
    """
    *outer, inner = str(level).split(":")
    noun = UNITS_IN_TEXT.get(inner) or unit_plural(inner)
    if not outer:
        return noun
    parent = UNITS_IN_TEXT.get(outer[-1]) or unit_plural(outer[-1])
    return noun + Label(" binnen ", " within ") + parent


def between_phrase(level: str) -> Label:
    """How the variance sentence names the share of a level ("tussen teams binnen organisaties").

    Examples
    --------
    >>> between_phrase("organisation:team:professional:family").pick("nl")
    'tussen gezinnen binnen professionals'
    >>> between_phrase("school:class").pick("en")
    'at level class within school'
    """
    if level in _BETWEEN:
        return _BETWEEN[level]
    inner = str(level).split(":")[-1]
    known = inner in UNIT_NOUNS or inner in UNITS_IN_TEXT
    return (Label("tussen ", "between ") if known else Label("op niveau ", "at level ")) + units_phrase(level)

_FIXED = ["estimate", "df", "t", "p", "ci_low", "ci_high"]

#: How the methods paragraph names the test of the fixed effects, per df method (nl, en).
_DF_METHODS: dict[str, Label] = {
    "Satterthwaite": Label(
        "De vaste effecten zijn getoetst met t-toetsen met vrijheidsgraden volgens Satterthwaite "
        "(1946), zoals in lmerTest (Kuznetsova et al., 2017); bij een klein aantal organisaties "
        "zijn z-toetsen te optimistisch.",
        "Fixed effects were tested with t tests with Satterthwaite (1946) degrees of freedom, as "
        "in lmerTest (Kuznetsova et al., 2017); with few organisations, z tests are too optimistic.",
    ),
    "Kenward-Roger": Label(
        "De vaste effecten zijn getoetst met t- en F-toetsen met standaardfouten en "
        "vrijheidsgraden volgens Kenward en Roger (1997), zoals in pbkrtest (Halekoh & Højsgaard, "
        "2014) en lmerTest (Kuznetsova et al., 2017); bij een klein aantal organisaties zijn "
        "z-toetsen te optimistisch.",
        "Fixed effects were tested with t and F tests with Kenward and Roger's (1997) adjusted "
        "standard errors and degrees of freedom, as in pbkrtest (Halekoh & Højsgaard, 2014) and "
        "lmerTest (Kuznetsova et al., 2017); with few organisations, z tests are too optimistic.",
    ),
    "z": Label(
        "De vaste effecten zijn getoetst met z-toetsen (statsmodels geeft geen vrijheidsgraden); "
        "bij een klein aantal organisaties zijn die te optimistisch.",
        "Fixed effects were tested with z tests (statsmodels gives no degrees of freedom); with "
        "few organisations these are too optimistic.",
    ),
}

# The names of factor columns of a fixed design: C(x)[T.level] (treatment coding), C(x)[level]
# (full coding) and x[T.level] (a string column coded without C()); ``factor`` is the name of
# the factor (the key of factor_references).
_FACTOR_COLUMN = re.compile(
    r"^(?P<factor>C\((?P<c>[^,()]+)(?:,[^()]*(?:\([^()]*\))?[^()]*)?\)|(?P<v>[A-Za-z_][\w.]*))"
    r"\[(?P<t>T\.)?(?P<level>[^\]]*)\]$"
)

#: The data contract's column of measurement waves: its levels read as T0, T1, ...
WAVE = "wave"


def factor_references(frame: Any) -> dict[str, str]:
    """The reference category of every treatment-coded factor of a fitted model.

    Parameters
    ----------
    frame : ModelFrame
        The model frame of the fit (``MultilevelResult.frame``); anything with a
        ``factor_references()`` method.

    Returns
    -------
    dict
        The factor's name in the design (``"C(wave)"``, ``"ses"``,
        ``"C(ses, Treatment('hoog'))"``) -> its reference level as text: the level the
        treatment coding leaves out (the first level, unless ``Treatment(...)`` says
        otherwise). Factors without a reference (another or a full-rank coding) are left out.

    Examples
    --------
    >>> from lerendtransformeren.multilevel.frame import build_frame
    >>> d = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "ses": ["laag", "hoog"] * 3, "g": [1, 1, 2, 2, 3, 3]})
    >>> factor_references(build_frame("y ~ C(ses, Treatment('laag')) + (1 | g)", d))
    {"C(ses, Treatment('laag'))": 'laag'}
    >>> factor_references(build_frame("y ~ ses + (1 | g)", d))
    {'ses': 'hoog'}
    """
    return dict(frame.factor_references())


def _level_text(variable: str, level: str) -> str:
    """A factor level in words: waves as T0, T1, ... (integer codes), others as they are."""
    if variable == WAVE:
        try:
            number = float(level)
        except ValueError:
            return level
        if number.is_integer():
            return f"T{int(number)}"
    return level


def term_phrase(term: Hashable, references: Mapping[str, str] | None = None) -> Label:
    """How a fixed-effect term (a design column name) reads in a sentence, ``(nl, en)``.

    Known terms come from :data:`EFFECT_LABELS`; a factor level coded against a reference
    category names that category when ``references`` has it ("ses = laag (vs hoog)"; the
    data contract's wave column: "wave T1 (vs T0)"), and else says "vs. the reference
    category"; the parts of an interaction are joined by "×"; anything else is the name
    itself.

    Parameters
    ----------
    term : hashable
        A row of the fixed effects (a design column name).
    references : mapping, optional
        The reference level per factor, :func:`factor_references` of the fitted model.

    Examples
    --------
    >>> term_phrase("offer")
    Label(nl='het ondersteuningsaanbod', en='the support offer')
    >>> term_phrase("C(ses)[T.laag]")
    Label(nl='ses = laag (t.o.v. de referentiecategorie)', en='ses = laag (vs. the reference category)')
    >>> term_phrase("C(wave)[T.2]", references={"C(wave)": "0"})
    Label(nl='meetmoment T2 (t.o.v. T0)', en='wave T2 (vs T0)')
    >>> term_phrase("offer:C(goal)[5]").en
    'the support offer × goal = 5'
    """
    if term in EFFECT_LABELS:
        return EFFECT_LABELS[term]
    name = str(term)
    parts = name.split(":")
    if len(parts) > 1 and all(p for p in parts):
        phrases = [_part_phrase(p, False, references or {}) for p in parts]
        return Label(" × ".join(p.nl for p in phrases), " × ".join(p.en for p in phrases))
    return _part_phrase(name, True, references or {})


def _part_phrase(part: str, contrast_note: bool, references: Mapping[str, str]) -> Label:
    if part in EFFECT_LABELS:
        return EFFECT_LABELS[part]
    m = _FACTOR_COLUMN.match(part)
    if m is None:
        return Label.same(part)
    variable = (m["c"] or m["v"]).strip()
    level = _level_text(variable, m["level"])
    if variable == WAVE:
        base = Label(f"meetmoment {level}", f"wave {level}")
    else:
        base = Label.same(f"{variable} = {level}")
    reference = references.get(m["factor"]) if m["t"] else None
    if reference is not None:
        ref = _level_text(variable, reference)
        return base + Label(f" (t.o.v. {ref})", f" (vs {ref})")
    if m["t"] and contrast_note:
        return base + Label(" (t.o.v. de referentiecategorie)", " (vs. the reference category)")
    return base


def t_statistic(t: float, df: float, lang: str = "nl", digits: int = 2) -> str:
    """An APA t statistic with its degrees of freedom: ``t(5744,7) = 2,10``.

    The df are written by :func:`~lerendtransformeren.report.format.fmt_df` (no thousands
    separator; one decimal when fractional).

    Examples
    --------
    >>> t_statistic(2.1, 5744.71, "nl"), t_statistic(2.1, 5744.71, "en"), t_statistic(-1.5, 10, "en")
    ('t(5744,7) = 2,10', 't(5744.7) = 2.10', 't(10) = -1.50')
    """
    return f"t({fmt_df(df, lang)}) = {fmt_num(t, digits, lang)}"


def f_statistic(f: float, numdf: float, dendf: float, lang: str = "nl", digits: int = 2) -> str:
    """An APA F statistic with its degrees of freedom: ``F(2; 5744,7) = 3,10`` in Dutch.

    Dutch separates the two df with a semicolon (the comma is the decimal sign), English
    with a comma; df are written by :func:`~lerendtransformeren.report.format.fmt_df`.

    Examples
    --------
    >>> f_statistic(3.1, 2, 5744.71, "nl"), f_statistic(3.1, 2, 5744.71, "en")
    ('F(2; 5744,7) = 3,10', 'F(2, 5744.7) = 3.10')
    """
    sep = "; " if check_lang(lang) == "nl" else ", "
    return f"F({fmt_df(numdf, lang)}{sep}{fmt_df(dendf, lang)}) = {fmt_num(f, digits, lang)}"


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecificationError(
            f"The {what} lacks column(s) {missing}; it has {list(frame.columns)}."
        )


def _join(items: Sequence[str], lang: str) -> str:
    return join_words(items, lang)


def effect_sentence(
    fixed: pd.DataFrame,
    term: Hashable,
    *,
    lang: str = "nl",
    label: str | Label | None = None,
    digits: int = 2,
    references: Mapping[str, str] | None = None,
) -> str:
    """One sentence reporting a fixed effect: estimate, 95% CI, t(df) and p.

    Parameters
    ----------
    fixed : pandas.DataFrame
        Fixed effects indexed by term, with columns ``estimate, df, t, p, ci_low,
        ci_high`` (Satterthwaite df).
    term : hashable
        Row of ``fixed`` to report.
    lang : {"nl", "en"}, default "nl"
    label : str or (nl, en), optional
        How to name the term in text; default from :data:`EFFECT_LABELS`, else the term.
    digits : int, default 2
        Decimals of estimate, CI and t (df: one decimal when fractional, no thousands
        separator; see :func:`~lerendtransformeren.report.format.fmt_df`).
    references : mapping, optional
        Reference level per factor (:func:`factor_references`), named for factor terms.

    Returns
    -------
    str

    Examples
    --------
    >>> fixed = pd.DataFrame({"estimate": [0.18], "se": [0.035], "df": [12.4], "t": [5.1],
    ...     "p": [0.00021], "ci_low": [0.11], "ci_high": [0.25]}, index=["offer"])
    >>> effect_sentence(fixed, "offer", lang="nl")
    'Het effect van het ondersteuningsaanbod was b = 0,18 (95%-BI [0,11; 0,25]; t(12,4) = 5,10; p < ,001).'
    >>> effect_sentence(fixed, "offer", lang="en")
    'The effect of the support offer was b = 0.18, 95% CI [0.11, 0.25], t(12.4) = 5.10, p < .001.'
    """
    check_lang(lang)
    _require(fixed, _FIXED, "fixed-effects frame")
    if term not in fixed.index:
        raise SpecificationError(
            f"Term {term!r} is not in the fixed effects; terms are {list(fixed.index)}."
        )
    row = fixed.loc[term]
    if label is None:
        label = term_phrase(term, references)
    name = label if isinstance(label, str) else Label.of(label).pick(lang)
    est = fmt_num(row["estimate"], digits, lang)
    ci = fmt_ci(row["ci_low"], row["ci_high"], digits, lang)
    t = t_statistic(row["t"], row["df"], lang, digits)
    p = fmt_p(row["p"], lang, prefix=True)
    # Dutch separates with semicolons (the numbers carry decimal commas); English with commas
    sentence = Label("Het effect van {} was b = {} (95%-BI {}; {}; {}).", "The effect of {} was b = {}, 95% CI {}, {}, {}.")
    return sentence.pick(lang).format(name, est, ci, t, p)


def fixed_effects_text(
    fixed: pd.DataFrame,
    *,
    lang: str = "nl",
    labels: Mapping[Hashable, str | Label] | None = None,
    digits: int = 2,
    references: Mapping[str, str] | None = None,
) -> str:
    """One :func:`effect_sentence` per fixed effect other than the intercept.

    ``references`` (:func:`factor_references` of the fitted model) names the reference
    category of factor terms.

    Examples
    --------
    >>> fixed = pd.DataFrame({"estimate": [2.4, -0.02, 0.18], "se": [0.1, 0.01, 0.035],
    ...     "df": [14.1, 2900.3, 12.4], "t": [24.0, -2.0, 5.1], "p": [1e-12, 0.0456, 0.00021],
    ...     "ci_low": [2.19, -0.04, 0.11], "ci_high": [2.61, -0.0004, 0.25]},
    ...     index=["Intercept", "wave", "offer"])
    >>> print(fixed_effects_text(fixed, lang="en"))
    The effect of time (per wave) was b = -0.02, 95% CI [-0.04, 0.00], t(2900.3) = -2.00, p = .046. The effect of the support offer was b = 0.18, 95% CI [0.11, 0.25], t(12.4) = 5.10, p < .001.
    """
    labels = labels or {}
    terms = [t for t in fixed.index if str(t) not in ("Intercept", "(Intercept)")]
    return " ".join(
        effect_sentence(fixed, t, lang=lang, label=labels.get(t), digits=digits, references=references)
        for t in terms
    )


def variance_sentence(
    variance: pd.DataFrame,
    *,
    lang: str = "nl",
    labels: Mapping[str, Label] | None = None,
) -> str:
    """How the total variance is shared over the levels (the ICCs), as one sentence.

    Parameters
    ----------
    variance : pandas.DataFrame
        Columns ``level, term, variance, sd`` or indexed by ``(group, term)`` as
        ``MultilevelResult.variance``; the residual has level ``"residual"``. Only
        intercept variances and the residual count (random slopes have no share).
    lang : {"nl", "en"}, default "nl"
    labels : mapping, optional
        Phrases ``(nl, en)`` per level ("tussen organisaties", "between organisations");
        other levels are named by :func:`between_phrase` (nested levels by their innermost
        unit: "tussen gezinnen binnen professionals").

    Examples
    --------
    >>> vc = pd.DataFrame({"level": ["organisation", "organisation:team", "residual"],
    ...     "term": ["(Intercept)"] * 3, "variance": [0.04, 0.06, 0.90], "sd": [0.2, 0.245, 0.949]})
    >>> variance_sentence(vc, lang="nl")
    'Van de totale variantie lag 4% tussen organisaties, 6% tussen teams binnen organisaties en 90% in het residu (binnen de laagste eenheid).'
    >>> variance_sentence(vc, lang="en")
    'Of the total variance, 4% lay between organisations, 6% between teams within organisations and 90% in the residual (within the lowest unit).'
    """
    check_lang(lang)
    variance = _tidy_variance(variance)
    phrases = dict(labels or {})
    shares = _shares(variance)
    parts = []
    for level, share in zip(variance["level"], shares):
        if pd.isna(share):
            continue
        phrase = Label.of(phrases[level]) if level in phrases else between_phrase(level)
        verb = " lay" if lang == "en" and not parts else ""
        parts.append(f"{fmt_pct(share, 0, lang)}{verb} {phrase.pick(lang)}")
    sentence = Label("Van de totale variantie lag {}.", "Of the total variance, {}.")
    return sentence.pick(lang).format(_join(parts, lang))


def methods_paragraph(
    *,
    outcome: str | Label,
    formula: str,
    levels: Sequence[str],
    n_obs: int,
    n_units: Mapping[str, int] | None = None,
    estimation: str = "REML",
    engine: str = "nested",
    ddf: str = "Satterthwaite",
    provenance: Provenance | None = None,
    lang: str = "nl",
) -> str:
    """A methods paragraph: model, estimation, df method, software with versions, citations.

    Parameters
    ----------
    outcome : str or (nl, en)
        The outcome in words ("beheersing (Pearlin)").
    formula : str
        The model formula, shown as is.
    levels : sequence of str
        Grouping levels with random intercepts, top down (``"organisation"``,
        ``"organisation:team"``, ...).
    n_obs : int
        Number of measurements the model used.
    n_units : mapping, optional
        Number of units per level, shown after the number of measurements.
    estimation : {"REML", "ML"}, default "REML"
    engine : {"nested", "statsmodels"}, default "nested"
        The package's exact nested engine, or the statsmodels MixedLM fallback (whose
        z tests the paragraph then names).
    ddf : {"Satterthwaite", "Kenward-Roger"}, default "Satterthwaite"
        The small-sample method of the t tests (``MultilevelResult.ddf``); Kenward-Roger
        needs REML.
    provenance : Provenance, optional
        For the Python and library versions; without it no versions are named.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    str
        Citations are (Author, year) of works in :data:`lerendtransformeren.report.references.REFERENCES`.

    Examples
    --------
    >>> text = methods_paragraph(outcome=("beheersing", "mastery"),
    ...     formula="mastery ~ wave + offer + (1 | organisation/team)",
    ...     levels=["organisation", "organisation:team"], n_obs=9584,
    ...     n_units={"organisation": 15, "organisation:team": 60}, lang="en")
    >>> text[:118]
    'We analysed mastery with a linear multilevel model (mastery ~ wave + offer + (1 | organisation/team)) with random inte'
    >>> "Satterthwaite (1946)" in text and "9,584 measurements" in text
    True
    >>> "Kenward en Roger (1997)" in methods_paragraph(outcome="beheersing", formula="y ~ offer + (1 | org)",
    ...     levels=["organisation"], n_obs=120, ddf="Kenward-Roger")
    True
    """
    check_lang(lang)
    if estimation not in ("REML", "ML"):
        raise SpecificationError(f"estimation={estimation!r} must be 'REML' or 'ML'.")
    if engine not in ("nested", "statsmodels"):
        raise SpecificationError(f"engine={engine!r} must be 'nested' or 'statsmodels'.")
    if ddf not in _DF_METHODS:
        raise SpecificationError(f"ddf={ddf!r} must be one of {sorted(_DF_METHODS)}.")
    if ddf == "Kenward-Roger" and estimation != "REML":
        raise SpecificationError("Kenward-Roger applies to REML fits; estimation is 'ML'.")
    what = outcome if isinstance(outcome, str) else Label.of(outcome).pick(lang)
    units = [units_phrase(lv).pick(lang) for lv in levels]
    counts = ""
    if n_units:
        counted = [f"{fmt_int(n, lang)} {units_phrase(lv).pick(lang)}" for lv, n in n_units.items()]
        counts = " in " + _join(counted, lang)
    how = {"REML": "restricted maximum likelihood (REML)", "ML": "maximum likelihood (ML)"}[estimation]
    versions = dict(provenance.libraries) if provenance else {}

    def sw(name: str, dist: str, cite: str) -> str:
        v = versions.get(dist)
        return f"{name} {v} ({cite})" if v else f"{name} ({cite})"

    software = [
        sw("NumPy", "numpy", "Harris et al., 2020"),
        sw("pandas", "pandas", "McKinney, 2010"),
        sw("SciPy", "scipy", "Virtanen et al., 2020"),
        sw("matplotlib", "matplotlib", "Hunter, 2007"),
        sw("seaborn", "seaborn", "Waskom, 2021"),
    ]
    if engine == "statsmodels":
        software.insert(0, sw("statsmodels", "statsmodels", "Seabold & Perktold, 2010"))
        engine_nl = "met MixedLM van statsmodels"
        engine_en = "with MixedLM of statsmodels"
    else:
        engine_nl = (
            "met de exacte geneste rekenmethode van lerendtransformeren in de parametrisatie "
            "van lme4 (Bates et al., 2015)"
        )
        engine_en = (
            "with the exact nested computation of lerendtransformeren in the parametrisation "
            "of lme4 (Bates et al., 2015)"
        )
    tests = _DF_METHODS["z" if engine == "statsmodels" else ddf].pick(lang)
    python = f"Python {provenance.python}" if provenance else "Python"
    package = "lerendtransformeren" + (f" {provenance.package_version}" if provenance else "")
    paragraph = Label(
        "We analyseerden {what} met een lineair multilevelmodel ({formula}) met random "
        "intercepts voor {units}. Het model is geschat met {how} op {n} metingen{counts}, "
        "{engine}. {tests} Analyses zijn uitgevoerd in {python} met {package}, {software}.",
        "We analysed {what} with a linear multilevel model ({formula}) with random "
        "intercepts for {units}. The model was estimated by {how} on {n} measurements{counts}, "
        "{engine}. {tests} Analyses were run in {python} with {package}, {software}.",
    )
    return paragraph.pick(lang).format(
        what=what, formula=formula, units=_join(units, lang), how=how, n=fmt_int(n_obs, lang),
        counts=counts, engine=Label(engine_nl, engine_en).pick(lang), tests=tests, python=python,
        package=package, software=_join(software, lang),
    )


def power_sentence(
    table: pd.DataFrame,
    at: int,
    *,
    effect: float | None = None,
    standardized: bool = True,
    alpha: float = 0.05,
    target: float = 0.8,
    lang: str = "nl",
) -> str:
    """Two sentences on simulated power: at the planned design, and where the target is met.

    Parameters
    ----------
    table : pandas.DataFrame
        ``PowerCurve.table`` (columns ``along, value, n_sim, power, ci_low, ci_high``) for
        one effect size.
    at : int
        The planned design point (a ``value`` in the table), e.g. 15 organisations.
    effect : float, optional
        Effect size simulated, named in the sentence (``d = 0.30`` when ``standardized``).
    standardized : bool, default True
        Whether ``effect`` is a standardised mean difference d.
    alpha : float, default 0.05
        Significance level of the simulated tests.
    target : float, default 0.8
        The power aimed at.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    str

    Examples
    --------
    >>> table = pd.DataFrame({"along": "organisation", "value": [6, 15, 24], "n_sim": 1000,
    ...     "power": [0.21, 0.62, 0.84], "ci_low": [0.18, 0.59, 0.82], "ci_high": [0.24, 0.65, 0.86]})
    >>> print(power_sentence(table, 15, effect=0.3, lang="nl"))
    Met 15 organisaties was de gesimuleerde power voor een effect van d = 0,30 62% (95%-BI [59%; 65%]; 1.000 gesimuleerde studies, α = ,05). Een power van 80% werd bereikt vanaf 24 organisaties (84%).
    >>> print(power_sentence(table, 15, effect=0.3, lang="en", target=0.9))
    With 15 organisations, the simulated power for an effect of d = 0.30 was 62% (95% CI [59%, 65%]; 1,000 simulated studies, α = .05). None of the designs studied (6 to 24 organisations) reached a power of 90%.
    """
    check_lang(lang)
    _, unit_names = power_curve_along(table)
    if at not in set(table["value"]):
        raise SpecificationError(
            f"The design point {at!r} is not in the table; it has values {sorted(table['value'])}."
        )
    units = Label.of(unit_names).pick(lang)
    table = table.sort_values("value").reset_index(drop=True)
    row = table.loc[table["value"] == at].iloc[0]
    if effect is None:
        what = Label("het effect", "the effect").pick(lang)
    else:
        size = ("d = " if standardized else "") + fmt_num(effect, 2, lang)
        what = Label("een effect van {}", "an effect of {}").pick(lang).format(size)
    fill = {
        "at": at,
        "units": units,
        "what": what,
        "power": fmt_pct(row["power"], 0, lang),
        "ci": fmt_ci(row["ci_low"], row["ci_high"], 0, lang, percent=True),
        "sims": fmt_int(int(row["n_sim"]), lang),
        "alpha": fmt_bounded(alpha, 2, lang),
        "goal": fmt_pct(target, 0, lang),
        "lo": table["value"].min(),
        "hi": table["value"].max(),
    }
    # The smallest design from which every larger design studied reaches the target, so
    # that a lucky point amid lower ones (Monte Carlo noise) is not taken for the answer.
    below = np.flatnonzero(table["power"].to_numpy() < target)
    first_ok = 0 if below.size == 0 else below[-1] + 1
    if first_ok < len(table):
        fill["from"] = table["value"].iloc[first_ok]
        fill["from_power"] = fmt_pct(table["power"].iloc[first_ok], 0, lang)
    second = _POWER_TEXT["reached" if "from" in fill else "not_reached"].pick(lang)
    return f"{_POWER_TEXT['at'].pick(lang).format(**fill)} {second.format(**fill)}"


_POWER_TEXT: dict[str, Label] = {
    "at": Label(
        "Met {at} {units} was de gesimuleerde power voor {what} {power} "
        "(95%-BI {ci}; {sims} gesimuleerde studies, α = {alpha}).",
        "With {at} {units}, the simulated power for {what} was {power} "
        "(95% CI {ci}; {sims} simulated studies, α = {alpha}).",
    ),
    "reached": Label(
        "Een power van {goal} werd bereikt vanaf {from} {units} ({from_power}).",
        "A power of {goal} was reached from {from} {units} ({from_power}).",
    ),
    "not_reached": Label(
        "Geen van de onderzochte ontwerpen ({lo} tot {hi} {units}) bereikte een power van {goal}.",
        "None of the designs studied ({lo} to {hi} {units}) reached a power of {goal}.",
    ),
}


# --- presenters of the statistics layer's results (lerendtransformeren.presenters) -------


@register("multilevel.report")
def model_report(result: Any, lang: str = "nl", *, labels: Mapping[Hashable, str | Label] | None = None) -> str:
    """APA-style sentences on a fitted multilevel model: its fixed effects and variance partition.

    The presenter behind ``MultilevelResult.report``: one :func:`effect_sentence` per fixed
    effect other than the intercept (factor terms name their reference category from the
    model's own coding, :func:`factor_references`), then :func:`variance_sentence`.

    Parameters
    ----------
    result : MultilevelResult
    lang : {"nl", "en"}
    labels : mapping, optional
        Words per term, ``{"offer": ("het aanbod", "the offer")}``.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example().assign(wave=lambda f: f["wave"].clip(upper=1))
    >>> print(model_report(fit("y ~ C(wave) + (1 | org/team)", d), lang="en"))  # doctest: +ELLIPSIS
    The effect of wave T1 (vs T0) was ..., t(...) = ..., p ... Of the total variance, ...% lay between teams within org, ...
    """
    check_lang(lang)
    references = factor_references(result.frame)
    fixed = fixed_effects_text(result.fixed, lang=lang, labels=labels, references=references)
    return f"{fixed} {variance_sentence(result.variance, lang=lang)}".strip()



_POOLED_TEXT: dict[str, Label] = {
    "barnard": Label(
        "De schattingen zijn gecombineerd over m = {m} geïmputeerde datasets volgens de regels van Rubin "
        "(vrijheidsgraden volgens Barnard en Rubin).",
        "Estimates were pooled over m = {m} imputed data sets by Rubin's rules (Barnard-Rubin degrees of freedom).",
    ),
    "rubin": Label(
        "De schattingen zijn gecombineerd over m = {m} geïmputeerde datasets volgens de regels van Rubin "
        "(vrijheidsgraden volgens Rubin, 1987).",
        "Estimates were pooled over m = {m} imputed data sets by Rubin's rules (Rubin's 1987 degrees of freedom).",
    ),
    "imputed": Label(
        "De ontbrekende waarden van {variables} zijn m = {m} keer geïmputeerd met een multilevelimputatiemodel "
        "(een gezamenlijk normaal model met random intercepts voor {levels} en als voorspellers {predictors}; "
        "{chains} ketens, {burn} iteraties inloop en {between} tussen twee imputaties; grootste R-hat {rhat}).",
        "Missing values of {variables} were imputed m = {m} times by a multilevel imputation model "
        "(a joint normal model with random intercepts for {levels} and predictors {predictors}; "
        "{chains} chains, a burn-in of {burn} iterations and {between} between imputations; largest R-hat {rhat}).",
    ),
    "fmi": Label(
        "Het aandeel ontbrekende informatie (fmi) was het grootst voor {term}: {fmi}.",
        "The fraction of missing information (fmi) was largest for {term}: {fmi}.",
    ),
}


def _imputation_sentence(settings: Mapping[str, Any], lang: str) -> str:
    """How the data sets were imputed (``PooledResult.imputation``), as one sentence."""
    fill = dict(settings)
    names = [str(v) for v in settings["variables"]]
    fill["variables"] = (join_words(names, lang) if len(names) <= 4
                         else N_VARIABLES.pick(lang).format(len(names)))
    fill["levels"] = join_words([str(v) for v in settings["levels"]], lang)
    fill["rhat"] = fmt_num(settings["rhat"], 2, lang)
    return _POOLED_TEXT["imputed"].pick(lang).format(**fill)


@register("pooled.report")
def pooled_report(result: Any, lang: str = "nl", *, labels: Mapping[Hashable, str | Label] | None = None) -> str:
    """APA-style sentences on fits pooled over imputed data sets (``PooledResult.report``).

    The pooled fixed effects as :func:`model_report` writes them (t with the pooled df), the
    variance partition of the mean variance components (when the fits have them), the
    imputation method when known, and one sentence on the pooling: ``m``, the df rule and
    the term with the largest fraction of missing information.
    """
    check_lang(lang)
    labels = labels or {}
    fixed = fixed_effects_text(result.fixed, lang=lang, labels=labels, references=result.references)
    parts = [fixed]
    if result.variance is not None:
        parts.append(variance_sentence(result.variance, lang=lang))
    if result.imputation:
        parts.append(_imputation_sentence(result.imputation, lang))
    rule = "rubin" if result.pooled.df_complete is None else "barnard"
    parts.append(_POOLED_TEXT[rule].pick(lang).format(m=result.m))
    fmi = result.fixed["fmi"].drop(["Intercept", "(Intercept)"], errors="ignore").dropna()
    if len(fmi):
        term = fmi.idxmax()
        label = labels[term] if term in labels else term_phrase(term, result.references)
        name = label if isinstance(label, str) else Label.of(label).pick(lang)
        parts.append(_POOLED_TEXT["fmi"].pick(lang).format(term=name, fmi=fmt_pct(fmi.max(), 0, lang)))
    return " ".join(p for p in parts if p).strip()


@register("gee.report")
def gee_sentence(
    result: Any,
    term: str | None = None,
    lang: str = "nl",
    *,
    term_label: str | None = None,
    outcome_label: str | None = None,
    alpha: float = 0.05,
) -> str:
    """One APA-style sentence on one coefficient of a GEE fit, in Dutch or English.

    The presenter behind ``GEEResult.report`` (see there for the parameters). The sentence
    describes an association when ``p < alpha`` and otherwise says that no association was
    shown; odds ratios (binomial) and rate ratios (counts) with their interval, the t test
    with the clusters' df (:func:`t_statistic`) or Wald z, the correction and the clusters.

    Examples
    --------
    >>> from lerendtransformeren.multilevel.gee import _example_data, fit_gee
    >>> result = fit_gee("y ~ x", _example_data(), cluster="org")
    >>> print(gee_sentence(result, lang="en"))
    X was associated with higher odds of y (OR = 2.08, 95% CI [1.17, 3.72], t(10) = 2.82, p = .018;
    GEE with Mancl-DeRouen correction, 12 clusters).
    """
    check_lang(lang)
    fixed = result.fixed
    terms = [t for t in fixed.index if t != "Intercept"]
    if term is None:
        if not terms:
            raise SpecificationError("The model has only an intercept; pass term='Intercept'.")
        term = terms[0]
    if term not in fixed.index:
        raise SpecificationError(f"Unknown term {term!r}; the terms are {list(fixed.index)}.")
    row = fixed.loc[term]
    measure, *phrases = GEE_EFFECT_WORDS[result.family]
    outcome = outcome_label or result.formula.split("~")[0].strip()
    neutral, higher, lower = (p.pick(lang).format(outcome) for p in phrases)
    subject = term_label or term
    if row["p"] < alpha:
        direction = higher if row["estimate"] > 0 else lower
        opening = Label("{} ging samen met {}", "{} was associated with {}").pick(lang).format(subject, direction)
    else:
        opening = Label("{} hing niet aantoonbaar samen met {}", "{} was not clearly associated with {}")
        opening = opening.pick(lang).format(subject, neutral)
    exp = result.family != "gaussian"
    est, low, high = (
        (row["exp_estimate"], row["exp_ci_low"], row["exp_ci_high"])
        if exp
        else (row["estimate"], row["ci_low"], row["ci_high"])
    )
    level = f"{100 * result.conf_level:g}"
    ci = Label("{}%-BI {}", "{}% CI {}").pick(lang).format(level, fmt_ci(low, high, 2, lang))
    stat = (
        f"z = {fmt_num(row['t'], 2, lang)}"
        if result.df_rule == "normal"
        else t_statistic(row["t"], row["df"], lang)
    )
    correction = GEE_CORRECTIONS[result.small_sample].pick(lang)
    if result.small_sample == "none":
        method = Label("GEE zonder {}", "GEE without {}").pick(lang).format(correction)
    else:
        method = Label("GEE met {}", "GEE with {}").pick(lang).format(correction)
    noun = unit_plural(result.cluster) if result.cluster in UNIT_NOUNS else Label.same("clusters")
    clusters = f"{result.n['clusters']} {noun.pick(lang)}"
    return (
        f"{cap(opening)} ({measure} = {fmt_num(est, 2, lang)}, {ci}, {stat}, "
        f"{fmt_p(row['p'], lang, prefix=True)}; {method}, {clusters})."
    )


@register("power_curve.report")
def power_curve_report(curve: Any, at: int, **kwargs: Any) -> str:
    """:func:`power_sentence` on a ``PowerCurve`` at design point ``at``, with the curve's alpha.

    The presenter behind ``PowerCurve.report``; ``effect``, ``standardized``, ``target`` and
    ``lang`` are passed on.
    """
    return power_sentence(curve.table, at, alpha=curve.alpha, **kwargs)


@register("power_curve.plot")
def power_curve_plot(curve: Any, **kwargs: Any):
    """:func:`~lerendtransformeren.report.figures.plot_power_curve` of a ``PowerCurve``'s table.

    The presenter behind ``PowerCurve.plot``; keyword arguments are passed on.
    """
    # matplotlib loads with the figures module, on the first figure
    from lerendtransformeren.report.figures.power import plot_power_curve

    return plot_power_curve(curve.table, **kwargs)
