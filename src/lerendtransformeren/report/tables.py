"""APA-style tables: numbers in a DataFrame, formatting per language on output.

A :class:`Table` keeps the numbers (``frame``) apart from how they are shown
(``columns``, a tuple of :class:`Column`): tests and users can compare the numbers with
the results they came from, and the same table renders in Dutch or English, to HTML,
Word or Markdown (see :mod:`lerendtransformeren.report.render`). Cells suppressed for
disclosure control hold NaN in ``frame`` and show the marker; their numbers never leave
the builder.

Builders for the tables of a goal report:

- :func:`sample_table`: units per level and wave, retention and dropout;
- :func:`descriptives_table`: n, M and SD per wave and condition (offer, SES, ...),
  with small-cell suppression;
- :func:`reliability_table`: alpha and omega with confidence intervals per (sub)scale;
- :func:`fixed_effects_table`: b, SE, df, t, p and 95% CI of a multilevel model;
- :func:`variance_table`: variance components and the share of variance per level;
- :func:`model_comparison_table`: AIC, BIC, log-likelihood and likelihood-ratio tests.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.lang import Label
from lerendtransformeren.report.format import fmt_bounded
from lerendtransformeren.report.suppress import assert_no_identifiers, suppress_small_cells
from lerendtransformeren.report.table import Column, Table
from lerendtransformeren.vocabulary import (
    LEVEL_LABELS,
    OFFER_LABELS,
    POWER_ALONG,
    TERM_LABELS,
    UNIT_NOUNS,
    UNIT_PLURALS,
)

__all__ = [
    "Column",
    "Table",
    "TERM_LABELS",
    "LEVEL_LABELS",
    "OFFER_LABELS",
    "UNIT_NOUNS",
    "level_label",
    "unit_plural",
    "sample_table",
    "descriptives_table",
    "reliability_table",
    "fixed_effects_table",
    "variance_table",
    "model_comparison_table",
    "POWER_ALONG",
    "power_curve_along",
    "power_table",
]



def level_label(level: str) -> Label:
    """How a grouping level is named in a table: a noun, never a ``:``-joined name.

    A nested level (``"organisation:team:professional:family"``, as the engine names the
    levels of ``(1 | organisation/team/professional/family)``) is named by its innermost
    unit, with the unit it is nested in: "Gezin (binnen professional)". The units of the
    data contract (:data:`UNIT_NOUNS`) are known in both languages; other names are used as
    they are. :data:`LEVEL_LABELS` has the labels of the usual levels.

    Examples
    --------
    >>> level_label("organisation:team:professional:family")
    Label(nl='Gezin (binnen professional)', en='Family (within professional)')
    >>> level_label("organisation:team") == LEVEL_LABELS["organisation:team"]
    True
    >>> level_label("org:team").en, level_label("school").en
    ('Team (within org)', 'school')
    """
    if level in LEVEL_LABELS:
        return LEVEL_LABELS[level]
    *outer, inner = str(level).split(":")
    name = UNIT_NOUNS[inner].cap() if inner in UNIT_NOUNS else Label.same(inner)
    if not outer:
        return name
    parent = UNIT_NOUNS.get(outer[-1], Label.same(outer[-1]))
    return name + Label(" (binnen ", " (within ") + parent + ")"


def unit_plural(unit: str) -> Label:
    """The plural noun of a unit of the data contract (``"family"``: gezinnen, families).

    Other names are used as they are.

    >>> unit_plural("family"), unit_plural("school")
    (Label(nl='gezinnen', en='families'), Label(nl='school', en='school'))
    """
    return UNIT_PLURALS.get(unit, Label.same(unit))


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecificationError(
            f"The {what} lacks column(s) {missing}; it has {list(frame.columns)}."
        )


def _wave_label(w: object) -> str:
    """Waves are shown as T0, T1, ... (integer codes), anything else as it is."""
    numeric = isinstance(w, (int, np.integer, float, np.floating))
    return f"T{int(w)}" if numeric and float(w).is_integer() else str(w)


def sample_table(
    data: pd.DataFrame,
    levels: Sequence[str] = ("organisation", "team", "professional", "family"),
    *,
    wave: str = "wave",
    k: int = 5,
) -> Table:
    """Units per level and wave, with retention and dropout of the respondents.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per respondent per wave (a row is a response).
    levels : sequence of str
        Id columns from the top level down; the last one present is the respondent.
        Levels not in ``data`` are skipped.
    wave : str, default "wave"
    k : int, default 5
        Waves with fewer than ``k`` respondents are suppressed.

    Returns
    -------
    Table
        One row per wave: the number of units of each level with at least one response,
        the respondents as a percentage of the first wave, and dropout (respondents of
        the previous wave without a response in this one).

    Examples
    --------
    >>> data = pd.DataFrame({"team": ["A"] * 7 + ["B"] * 5,
    ...                      "family": list("abcdefg") + list("hijkl"),
    ...                      "wave": [0] * 12})
    >>> sample_table(data).formatted("en").iloc[0].tolist()
    ['T0', '2', '12', '100.0%', '—']
    """
    present = [lv for lv in levels if lv in data.columns]
    if not present:
        raise SpecificationError(f"None of the level columns {list(levels)} is in the data.")
    _require(data, [wave], "data")
    respondent = present[-1]
    waves = sorted(data[wave].dropna().unique())
    rows = {}
    previous: set | None = None
    baseline = None
    for w in waves:
        part = data.loc[data[wave] == w]
        row = {f"n_{lv}": float(part[lv].nunique()) for lv in present}
        ids = set(part[respondent].dropna())
        baseline = len(ids) if baseline is None else baseline
        row["retention"] = len(ids) / baseline if baseline else np.nan
        row["dropout"] = float(len(previous - ids)) if previous is not None else np.nan
        previous = ids
        rows[_wave_label(w)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "wave"
    counts = pd.DataFrame({c: frame[f"n_{respondent}"] for c in frame.columns})
    sup = suppress_small_cells(frame, counts, k)
    frame = frame.mask(sup.mask)
    plural = {lv: unit_plural(lv) for lv in present}
    columns = tuple(
        Column(f"n_{lv}", plural[lv].nl.capitalize(), plural[lv].en.capitalize(), kind="int")
        for lv in present
    ) + (
        Column("retention", "% van T0", "% of T0", kind="pct", digits=1),
        Column("dropout", "Uitval", "Dropout", kind="int"),
    )
    resp_nl, resp_en = plural[respondent]
    return Table(
        frame=frame,
        columns=columns,
        title_nl="Steekproef per niveau en meetmoment",
        title_en="Sample per level and wave",
        note_nl=(
            f"Aantallen eenheden met ten minste één respons per meetmoment. % van T0 = "
            f"{resp_nl} als percentage van het eerste meetmoment. Uitval = {resp_nl} die op "
            "het vorige meetmoment wel en nu niet hebben gereageerd."
        ),
        note_en=(
            f"Units with at least one response per wave. % of T0 = {resp_en} as a percentage "
            f"of the first wave. Dropout = {resp_en} who responded at the previous wave but "
            "not at this one."
        ),
        stub_nl=("Meetmoment",),
        stub_en=("Wave",),
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def descriptives_table(
    data: pd.DataFrame,
    measures: Mapping[str, Label] | Sequence[str],
    *,
    by: str = "offer",
    wave: str = "wave",
    by_labels: Mapping[Hashable, Label] | None = None,
    k: int = 5,
    digits: int = 2,
) -> Table:
    """n, mean and SD of each measure per wave and condition, with small-cell suppression.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data with the measures (scale scores), ``wave`` and ``by``.
    measures : mapping or sequence of str
        Columns to describe; a mapping gives their labels ``(nl, en)``.
    by : str, default "offer"
        Condition shown side by side (``offer``, ``ses``, ``migration_background``,
        ``age_band``). Identifier columns are refused.
    wave : str, default "wave"
    by_labels : mapping, optional
        Labels ``(nl, en)`` of the values of ``by``, in the order to show them (values
        without a label follow, sorted); defaults to :data:`OFFER_LABELS` for ``offer``.
    k : int, default 5
        Cells (measure x wave x condition) with fewer than ``k`` scores are suppressed;
        since the number of respondents per wave is published, the next-smallest
        condition of that wave is suppressed too (secondary suppression).
    digits : int, default 2

    Returns
    -------
    Table
        Rows: measure x wave; columns: n, M and SD under a spanner per condition.
        Conditions without respondents at a wave (such as the offer at T0 in a stepped
        wedge) show n = 0 and a dash.

    Examples
    --------
    >>> data = pd.DataFrame({"wave": [0] * 8 + [1] * 8, "offer": [0] * 8 + [0] * 5 + [1] * 3,
    ...                      "mastery": np.arange(16.0)})
    >>> t = descriptives_table(data, {"mastery": ("beheersing", "mastery")})
    >>> t.formatted("en").iloc[:, :5].values.tolist()
    [['mastery', 'T0', '8', '3.50', '2.45'], ['', 'T1', '×', '×', '×']]
    """
    if isinstance(measures, Mapping):
        measure_labels = dict(measures)
    else:
        measure_labels = {m: (m, m) for m in measures}
    _require(data, [*measure_labels, wave, by], "data")
    assert_no_identifiers(data[[by]].drop_duplicates())
    if by_labels is None:
        by_labels = OFFER_LABELS if by == "offer" else {}
    present = set(data[by].dropna().unique())
    conditions = [c for c in by_labels if c in present]
    conditions += sorted(present - set(conditions), key=lambda v: (str(type(v)), v))
    waves = sorted(data[wave].dropna().unique())
    index = pd.MultiIndex.from_product(
        [list(measure_labels), [_wave_label(w) for w in waves]], names=["measure", "wave"]
    )
    pieces = {}
    for m in measure_labels:
        described = data.groupby([wave, by])[m].agg(["count", "mean", "std"])  # count skips NaN
        pieces[m] = described.rename(columns={"count": "n", "std": "sd"}).unstack(by)
    wide = pd.concat(pieces, names=["measure", "wave"]).swaplevel(axis=1)
    wide.index = pd.MultiIndex.from_tuples(
        [(m, _wave_label(w)) for m, w in wide.index], names=["measure", "wave"]
    )
    stats_columns = pd.MultiIndex.from_product([conditions, ["n", "mean", "sd"]])
    frame = wide.reindex(index=index, columns=stats_columns).astype(float)
    n_columns = [(c, "n") for c in conditions]
    frame[n_columns] = frame[n_columns].fillna(0.0)
    counts = frame[n_columns].droplevel(1, axis=1)
    sup = suppress_small_cells(frame, counts, k, margins="rows")
    frame = frame.mask(sup.mask)
    columns = []
    for c in conditions:
        span = by_labels.get(c, (str(c), str(c)))
        columns += [
            Column((c, "n"), "n", "n", kind="int", spanner_nl=span[0], spanner_en=span[1]),
            Column((c, "mean"), "M", "M", digits=digits, spanner_nl=span[0], spanner_en=span[1]),
            Column((c, "sd"), "SD", "SD", digits=digits, spanner_nl=span[0], spanner_en=span[1]),
        ]
    return Table(
        frame=frame,
        columns=tuple(columns),
        title_nl="Gemiddelden en standaardafwijkingen per meetmoment en conditie",
        title_en="Means and standard deviations by wave and condition",
        note_nl="n = aantal respondenten met een score; M = gemiddelde; SD = standaardafwijking.",
        note_en="n = number of respondents with a score; M = mean; SD = standard deviation.",
        stub_nl=("Maat", "Meetmoment"),
        stub_en=("Measure", "Wave"),
        labels=measure_labels,
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def reliability_table(
    reliability: pd.DataFrame,
    labels: Mapping[Hashable, Label] | None = None,
    *,
    k: int = 5,
    digits: int = 2,
) -> Table:
    """Cronbach's alpha and McDonald's omega with 95% CIs per scale and subscale.

    Parameters
    ----------
    reliability : pandas.DataFrame
        Columns ``scale, subscale, n, alpha, alpha_ci_low, alpha_ci_high, omega,
        omega_ci_low, omega_ci_high`` (the contract of ``scales.reliability``). An empty
        or missing subscale stands for the whole scale.
    labels : mapping, optional
        Labels ``(nl, en)`` of scale and subscale codes.
    k : int, default 5
        Rows resting on fewer than ``k`` respondents are suppressed.
    digits : int, default 2

    Examples
    --------
    >>> rel = pd.DataFrame({"scale": ["psoc", "psoc"], "subscale": ["satisfaction", "efficacy"],
    ...     "n": [2859, 2859], "alpha": [0.81, 0.78], "alpha_ci_low": [0.80, 0.77],
    ...     "alpha_ci_high": [0.82, 0.79], "omega": [0.82, 0.79], "omega_ci_low": [0.81, 0.78],
    ...     "omega_ci_high": [0.83, 0.80]})
    >>> reliability_table(rel).formatted("nl").iloc[0].tolist()
    ['psoc', 'satisfaction', '2.859', ',81', '[,80; ,82]', ',82', '[,81; ,83]']
    """
    cols = ["scale", "subscale", "n"] + [
        f"{stat}{end}" for stat in ("alpha", "omega") for end in ("", "_ci_low", "_ci_high")
    ]
    _require(reliability, cols, "reliability frame")
    frame = reliability[cols].copy()
    frame["subscale"] = frame["subscale"].fillna("").astype(str)
    frame = frame.set_index(["scale", "subscale"])
    numbers = frame.astype(float)
    counts = pd.DataFrame({c: numbers["n"] for c in numbers.columns})
    sup = suppress_small_cells(numbers, counts, k)
    numbers = numbers.mask(sup.mask)
    labels = dict(labels or {})
    labels.setdefault("", ("", ""))
    return Table(
        frame=numbers,
        columns=(
            Column("n", "n", "n", kind="int"),
            Column("alpha", "\u03b1", "\u03b1", kind="bounded", digits=digits),
            Column("alpha_ci_low", "95%-BI", "95% CI", "bounded_ci", digits, "alpha_ci_high"),
            Column("omega", "\u03c9", "\u03c9", kind="bounded", digits=digits),
            Column("omega_ci_low", "95%-BI", "95% CI", "bounded_ci", digits, "omega_ci_high"),
        ),
        title_nl="Betrouwbaarheid van de schalen",
        title_en="Reliability of the scales",
        note_nl="\u03b1 = Cronbachs alfa; \u03c9 = McDonalds omega; BI = betrouwbaarheidsinterval.",
        note_en="\u03b1 = Cronbach's alpha; \u03c9 = McDonald's omega; CI = confidence interval.",
        stub_nl=("Schaal", "Subschaal"),
        stub_en=("Scale", "Subscale"),
        labels=labels,
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


_FIXED = ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]


def fixed_effects_table(
    fixed: pd.DataFrame,
    labels: Mapping[Hashable, Label] | None = None,
    *,
    digits: int = 2,
    ddf: str = "Satterthwaite",
) -> Table:
    """Fixed effects of a multilevel model: b, SE, df, t, p and 95% CI.

    Parameters
    ----------
    fixed : pandas.DataFrame
        Indexed by term, columns ``estimate, se, df, t, p, ci_low, ci_high``
        (Satterthwaite df), as ``MultilevelResult.fixed``.
    labels : mapping, optional
        Labels ``(nl, en)`` of terms, added to :data:`TERM_LABELS`.
    digits : int, default 2
        Decimals of b, SE, t and the CI (df get one decimal).
    ddf : {"Satterthwaite", "Kenward-Roger"}, default "Satterthwaite"
        The df method of ``fixed`` (``MultilevelResult.ddf``), named in the note.

    Returns
    -------
    Table
        ``frame`` holds the numbers of ``fixed`` unchanged, in the same order.

    Examples
    --------
    See :meth:`Table.formatted`.
    """
    _require(fixed, _FIXED, "fixed-effects frame")
    if ddf not in ("Satterthwaite", "Kenward-Roger"):
        raise SpecificationError(f"ddf={ddf!r} must be 'Satterthwaite' or 'Kenward-Roger'.")
    kr = ddf == "Kenward-Roger"
    kr_nl = " (aangepast volgens Kenward-Roger)" if kr else ""
    kr_en = " (Kenward-Roger adjusted)" if kr else ""
    frame = fixed[_FIXED].astype(float)
    frame.index = frame.index.astype(str)
    frame.index.name = "term"
    return Table(
        frame=frame,
        columns=(
            Column("estimate", "b", "b", digits=digits),
            Column("se", "SE", "SE", digits=digits),
            Column("df", "df", "df", kind="df"),
            Column("t", "t", "t", digits=digits),
            Column("p", "p", "p", kind="p"),
            Column("ci_low", "95%-BI", "95% CI", kind="ci", digits=digits, source_high="ci_high"),
        ),
        title_nl="Vaste effecten van het multilevelmodel",
        title_en="Fixed effects of the multilevel model",
        note_nl=(
            f"b = ongestandaardiseerde schatting; SE = standaardfout{kr_nl}; df = vrijheidsgraden "
            f"volgens {ddf}; BI = betrouwbaarheidsinterval."
        ),
        note_en=(
            f"b = unstandardised estimate; SE = standard error{kr_en}; df = {ddf} degrees "
            "of freedom; CI = confidence interval."
        ),
        stub_nl=("Predictor",),
        stub_en=("Predictor",),
        labels={**TERM_LABELS, **(labels or {})},
    )


#: Names of the intercept term: lme4's "(Intercept)" and the package engine's "Intercept".
_INTERCEPTS = ("(Intercept)", "Intercept")


def _tidy_variance(variance: pd.DataFrame) -> pd.DataFrame:
    """Variance components with columns level, term, variance, sd.

    Accepts the columns of the report contract, or ``MultilevelResult.variance``: indexed
    by (group, term).
    """
    frame = variance
    if "level" not in frame.columns and "group" in frame.index.names:
        frame = frame.reset_index().rename(columns={"group": "level"})
    _require(frame, ["level", "term", "variance", "sd"], "variance-components frame")
    return frame


def _shares(variance: pd.DataFrame) -> pd.Series:
    """Share of total variance of intercept and residual components (NaN for slopes)."""
    intercept = (variance["level"] == "residual") | variance["term"].astype(str).isin(_INTERCEPTS)
    total = variance.loc[intercept, "variance"].sum()
    return (variance["variance"] / total).where(intercept)


def variance_table(
    variance: pd.DataFrame,
    labels: Mapping[Hashable, Label] | None = None,
    *,
    digits: int = 3,
) -> Table:
    """Variance components with the share of the total variance per level (ICC).

    Parameters
    ----------
    variance : pandas.DataFrame
        Columns ``level, term, variance, sd``, or indexed by ``(group, term)`` as
        ``MultilevelResult.variance``; the residual has level ``"residual"``.
    labels : mapping, optional
        Labels ``(nl, en)`` of levels; the others are named by :func:`level_label` (a
        nested level by its innermost unit, never a ``:``-joined name).
    digits : int, default 3

    Returns
    -------
    Table
        Stub: level (and term, when a model has random slopes). ``share`` is the
        variance of a level's intercept divided by the sum of the intercept and residual
        variances: the ICC of that level. Slopes have no share (it would depend on the
        covariate's value).

    Examples
    --------
    >>> vc = pd.DataFrame({"level": ["organisation", "organisation:team", "residual"],
    ...     "term": ["(Intercept)"] * 3, "variance": [0.04, 0.06, 0.90], "sd": [0.2, 0.245, 0.949]})
    >>> variance_table(vc).formatted("en")["Share"].tolist()
    ['.04', '.06', '.90']
    """
    frame = _tidy_variance(variance).copy()
    frame["term"] = frame["term"].fillna("").astype(str)
    frame["share"] = _shares(frame)
    slopes = bool(((frame["level"] != "residual") & ~frame["term"].isin(_INTERCEPTS)).any())
    keys = ["level", "term"] if slopes else ["level"]
    frame = frame.set_index(keys)[["variance", "sd", "share"]].astype(float)
    note_nl = (
        "Aandeel = variantie van het niveau gedeeld door de totale variantie: de "
        "intraklassecorrelatie (ICC) van dat niveau."
    )
    note_en = (
        "Share = the level's variance divided by the total variance: for a grouping level, "
        "the intraclass correlation (ICC) of that level; the residual share is no ICC."
    )
    if {"organisation", "organisation:team"} <= set(frame.index.get_level_values("level")):
        note_nl += (
            " De correlatie tussen metingen van verschillende respondenten in hetzelfde team is "
            "de som van de aandelen van organisatie en team."
        )
        note_en += (
            " The correlation between measurements of different respondents in the same team "
            "is the sum of the organisation and team shares."
        )
    if slopes:
        note_nl += (
            " Voor random hellingen is geen aandeel gegeven; het totaal omvat alleen "
            "intercepts en residu."
        )
        note_en += (
            " Random slopes have no share; the total includes intercepts and the residual only."
        )
    return Table(
        frame=frame,
        columns=(
            Column("variance", "Variantie", "Variance", digits=digits),
            Column("sd", "SD", "SD", digits=digits),
            Column("share", "Aandeel", "Share", kind="bounded", digits=2),
        ),
        title_nl="Variantiecomponenten",
        title_en="Variance components",
        note_nl=note_nl,
        note_en=note_en,
        stub_nl=("Niveau", "Term")[: len(keys)],
        stub_en=("Level", "Term")[: len(keys)],
        labels={
            **{lv: level_label(lv) for lv in frame.index.get_level_values("level").unique()},
            **(labels or {}),
        },
    )


_COMPARISON_ALIASES = {
    "n_par": "npar", "aic": "AIC", "bic": "BIC", "loglik": "logLik",
    "chisq": "chi2", "Chisq": "chi2", "Df": "df", "Pr(>Chisq)": "p",
}  # fmt: skip


def model_comparison_table(
    comparison: pd.DataFrame,
    labels: Mapping[Hashable, Label] | None = None,
) -> Table:
    """Compare nested models: parameters, AIC, BIC, log-likelihood, likelihood-ratio test.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Indexed by model name, in order of growing complexity, with columns
        ``n_par, aic, bic, loglik, chisq, df, p`` (as ``MultilevelResult.lrt``) or
        ``npar, AIC, BIC, logLik, Chisq, Df, Pr(>Chisq)`` (as R's ``anova(m0, m1)``);
        other columns are ignored. The first model has no test (NaN).
    labels : mapping, optional
        Labels ``(nl, en)`` of the model names.

    Examples
    --------
    >>> cmp = pd.DataFrame({"npar": [4, 5], "AIC": [10234.5, 10220.1], "BIC": [10260.2, 10252.3],
    ...     "logLik": [-5113.2, -5105.0], "chi2": [np.nan, 16.4], "df": [np.nan, 1], "p": [np.nan, 5e-5]},
    ...     index=["M0", "M1"])
    >>> model_comparison_table(cmp).formatted("en").iloc[1].tolist()
    ['M1', '5', '10,220.1', '10,252.3', '-5,105.0', '16.40', '1', '< .001']
    """
    cols = ["npar", "AIC", "BIC", "logLik", "chi2", "df", "p"]
    frame = comparison.rename(columns=_COMPARISON_ALIASES)
    _require(frame, cols, "model-comparison frame")
    frame = frame[cols].astype(float)
    frame.index = frame.index.astype(str)
    frame.index.name = "model"
    return Table(
        frame=frame,
        columns=(
            Column("npar", "Parameters", "Parameters", kind="int"),
            Column("AIC", "AIC", "AIC", digits=1),
            Column("BIC", "BIC", "BIC", digits=1),
            Column("logLik", "Log-likelihood", "Log-likelihood", digits=1),
            Column("chi2", "\u03c7\u00b2", "\u03c7\u00b2", digits=2),
            Column("df", "df", "df", kind="df", digits=0),
            Column("p", "p", "p", kind="p"),
        ),
        title_nl="Vergelijking van modellen",
        title_en="Model comparison",
        note_nl=(
            "AIC en BIC: lager is beter. \u03c7\u00b2 = likelihood-ratiotoets van elk model "
            "tegen het model in de rij erboven, met df het verschil in aantal parameters."
        ),
        note_en=(
            "AIC and BIC: lower is better. \u03c7\u00b2 = likelihood-ratio test of each model "
            "against the model in the row above, df = the difference in parameters."
        ),
        stub_nl=("Model",),
        stub_en=("Model",),
        labels=dict(labels or {}),
    )


_POWER_COLUMNS = ("along", "value", "n_sim", "power", "ci_low", "ci_high")


def power_curve_along(table: pd.DataFrame, extra: Sequence[str] = ()) -> tuple[Label, Label]:
    """Check a power-curve table and return the axis label and unit noun of what it varies.

    The table is ``PowerCurve.table`` of
    :func:`lerendtransformeren.multilevel.simulation.power_curve`: columns ``along, value,
    n_sim, power, ci_low, ci_high`` (plus ``extra``), one row per design point, and one
    varied quantity.

    Raises
    ------
    SpecificationError
        A column is missing or the table varies more than one quantity.
    DataError
        The table has no rows.
    """
    _require(table, [*_POWER_COLUMNS, *extra], "power-curve table")
    if table.empty:
        raise DataError("The power-curve table has no rows; nothing to show.")
    alongs = table["along"].unique()
    if len(alongs) != 1:
        raise SpecificationError(
            f"A power curve varies one quantity; the table varies {list(alongs)}. "
            "Show each quantity on its own."
        )
    along = str(alongs[0])
    return POWER_ALONG.get(along, (Label.same(along), Label.same(along)))


def power_table(
    table: pd.DataFrame,
    by: str | None = None,
    labels: Mapping[Hashable, Label] | None = None,
    alpha: float = 0.05,
) -> Table:
    """APA table of a simulated power curve: power with its Monte Carlo CI, bias, coverage.

    Parameters
    ----------
    table : pandas.DataFrame
        ``PowerCurve.table`` (see :func:`power_curve_along`); columns ``bias``,
        ``coverage`` and ``mean_df`` are shown when present.
    by : str, optional
        Column of stacked curves (e.g. the effect size), shown as the first stub level.
    labels : mapping, optional
        Labels ``(nl, en)`` of the values of ``by``.
    alpha : float, default 0.05
        Significance level of the simulated tests (named in the note).

    Examples
    --------
    >>> curve = pd.DataFrame({"along": "organisation", "value": [9, 15], "n_sim": 1000,
    ...     "power": [0.412, 0.618], "ci_low": [0.381, 0.587], "ci_high": [0.443, 0.648],
    ...     "bias": [0.002, -0.001], "coverage": [0.948, 0.951], "mean_df": [7.1, 13.0]})
    >>> power_table(curve).formatted("nl").iloc[1].tolist()
    ['15', '1.000', '62%', '[59%; 65%]', '-0,001', '95%', '13,0']
    """
    (axis, _) = power_curve_along(table, [by] if by else [])
    keys = ([by] if by else []) + ["value"]
    frame = table.set_index(keys).sort_index()
    columns = [
        Column("n_sim", "Simulaties", "Simulations", kind="int"),
        Column("power", "Power", "Power", kind="pct", digits=0),
        Column("ci_low", "95%-BI", "95% CI", kind="pct_ci", digits=0, source_high="ci_high"),
    ]
    optional = [
        Column("bias", "Vertekening", "Bias", digits=3),
        Column("coverage", "Dekking 95%-BI", "Coverage 95% CI", kind="pct", digits=0),
        Column("mean_df", "Gem. df", "Mean df", kind="df"),
    ]
    columns += [c for c in optional if c.source in frame.columns]
    return Table(
        frame=frame[[c for col in columns for c in (col.source, col.source_high) if c is not None]],
        columns=tuple(columns),
        title_nl="Gesimuleerde power naar " + axis[0].lower(),
        title_en="Simulated power by " + axis[1].lower(),
        note_nl=(
            f"Power: aandeel gesimuleerde studies met p < {fmt_bounded(alpha, 2, 'nl')} "
            "(Satterthwaite-t-toets); 95%-BI: "
            "betrouwbaarheidsinterval van die Monte-Carloschatting. Vertekening: gemiddelde "
            "schatting min de gesimuleerde waarde. Dekking: aandeel 95%-intervallen dat de "
            "gesimuleerde waarde bevat."
        ),
        note_en=(
            f"Power: share of simulated studies with p < {fmt_bounded(alpha, 2, 'en')} "
            "(Satterthwaite t test); 95% CI: "
            "confidence interval of that Monte Carlo estimate. Bias: mean estimate minus the "
            "simulated value. Coverage: share of 95% intervals that contain the simulated value."
        ),
        stub_nl=(*(["Conditie"] if by else []), axis[0]),
        stub_en=(*(["Condition"] if by else []), axis[1]),
        labels=dict(labels or {}),
    )
