"""The study design of "Lerend Transformeren": goals, levels, respondent kinds.

The five transformation goals of the Youth Act reform are data here, with Dutch and
English names, a short description and the academic workplace that leads the goal in
the programme. ``validate`` checks long (one row per respondent per wave) data against
this design.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool_dtype, is_numeric_dtype

from lerendtransformeren.exceptions import DataError
from lerendtransformeren.vocabulary import RESPONDENT_KINDS  # noqa: F401 (re-exported)

__all__ = [
    "Goal",
    "GOALS",
    "LEVELS",
    "RESPONDENT_KINDS",
    "goals_table",
    "goal",
    "validate",
    "Validated",
    "ValidationReport",
]


@dataclass(frozen=True)
class Goal:
    """One transformation goal (transformatiedoel)."""

    code: int
    short: str
    name_nl: str
    name_en: str
    description_nl: str
    description_en: str
    workplace: str


GOALS: tuple[Goal, ...] = (
    Goal(
        1,
        "preventie",
        "Preventie en eigen kracht",
        "Prevention and own strength",
        "Uitgaan van de eigen verantwoordelijkheid en mogelijkheden van jeugdigen en ouders, "
        "met hun sociale netwerk, en eerder voorkomen dan genezen.",
        "Build on the responsibility and capabilities of young people and parents, with "
        "their social network, and prevent rather than cure.",
        "Academische Werkplaats Transformatie Jeugd C4Youth 2.0",
    ),
    Goal(
        2,
        "normaliseren",
        "Demedicaliseren en normaliseren",
        "Demedicalising and normalising",
        "Gewone opvoedvragen gewoon houden en het pedagogisch klimaat versterken in gezinnen, "
        "wijken, scholen en kinderopvang.",
        "Keep ordinary parenting questions ordinary and strengthen the pedagogical climate "
        "in families, neighbourhoods, schools and childcare.",
        "Academische Werkplaats Samen voor de Jeugd",
    ),
    Goal(
        3,
        "hulp_op_maat",
        "Eerder de juiste hulp op maat",
        "The right help earlier",
        "Sneller passende hulp bieden zodat minder dure gespecialiseerde zorg nodig is.",
        "Offer fitting help sooner, so that less expensive specialised care is needed.",
        "Academische Werkplaats InsideOut",
    ),
    Goal(
        4,
        "integrale_hulp",
        "Integrale hulp: één gezin, één plan, één regisseur",
        "Integrated help: one family, one plan, one coordinator",
        "Samenhangende hulp aan gezinnen met één plan en één regisseur, over de schotten van "
        "budgetten en organisaties heen.",
        "Coherent help for families with one plan and one coordinator, across the boundaries "
        "of budgets and organisations.",
        "Academische Werkplaats Risicojeugd",
    ),
    Goal(
        5,
        "ruimte_professionals",
        "Meer ruimte voor professionals",
        "More room for professionals",
        "Minder regeldruk, zodat professionals de juiste hulp kunnen bieden en samenwerken met "
        "netwerken, vrijwilligers en familie.",
        "Less regulatory burden, so professionals can give the right help and work with "
        "networks, volunteers and relatives.",
        "Transformatie Werkplaats Gezin aan Zet",
    ),
)

#: Levels of the design, top to bottom. ``respondent`` stands for the id column of the
#: respondent kind at hand (``professional``, ``family`` or ``youth``).
LEVELS: tuple[str, ...] = ("goal", "organisation", "team", "respondent", "wave")

def goal(code: int) -> Goal:
    """Return the goal with this code (1..5).

    >>> goal(4).name_en
    'Integrated help: one family, one plan, one coordinator'
    """
    for g in GOALS:
        if g.code == code:
            return g
    raise KeyError(f"There is no transformation goal {code!r}; goals are numbered 1 to 5.")


def goals_table() -> pd.DataFrame:
    """The five goals as a DataFrame indexed by code.

    >>> goals_table().loc[3, "workplace"]
    'Academische Werkplaats InsideOut'
    """
    rows = [g.__dict__ for g in GOALS]
    return pd.DataFrame(rows).set_index("code")


# ----------------------------------------------------------------------------- validate

#: Respondent id columns from the most general to the most specific. A more general kind
#: present in the data is a level above a more specific respondent: a family is in one
#: professional's caseload, a young person in one family.
_KINDS: tuple[str, ...] = ("professional", "family", "youth")
_PLURAL = {
    "goal": "goals",
    "organisation": "organisations",
    "team": "teams",
    "professional": "professionals",
    "family": "families",
    "youth": "young people",
}
_N_ROWS_SHOWN = 5  # example rows per unit or variable in an error message
_N_UNITS_SHOWN = 5  # offending units (or variables) per error message
_N_VALUES_SHOWN = 10  # distinct bad values per variable
_N_NAMES_SHOWN = 30  # column names listed in a message or note
_WAVE_LABEL = r"[Tt](\d{1,6})"
_NUMERIC_TYPES = ("integer", "float", "item")
_WHOLE_TYPES = ("integer", "item")
_CODED_TYPES = ("binary", "categorical")
_DROPOUT_COLUMNS = ["n_absent", "pct_absent", "n_dropped_out", "pct_dropped_out"]


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """What :func:`validate` found in the data.

    Attributes
    ----------
    source : str or None
        The file the data came from, as given to :func:`validate`.
    respondent : str
        Id column of the unit of observation (the respondent, or for data without a
        respondent id the lowest level present).
    levels : tuple of str
        Id columns of the levels above the respondent, top to bottom, as checked.
    counts : pandas.DataFrame
        Number of distinct units per level (index: the id columns, top to bottom, the
        respondent last): column ``total`` and, for longitudinal data, one column per
        wave (``T0``, ``T1``, ...) with the units observed at that wave.
    waves : tuple of int
        The waves present, sorted; empty for cross-sectional data.
    missing : pandas.DataFrame
        Missing values per variable (every column except the id and wave columns), with
        two-level columns: ``("all", "n_missing")``, ``("all", "pct_missing")`` and the
        same per wave (``("T0", "n_missing")``, ...). Values equal to one of the
        codebook's ``missing_codes`` count as missing. Percentages are of the rows.
    dropout : pandas.DataFrame
        For each wave after the first (index ``T1``, ...): respondents seen at the first
        wave who are absent at this wave (``n_absent``, ``pct_absent``) and who are seen
        at neither this nor any later wave (``n_dropped_out``, ``pct_dropped_out``).
        Percentages are of the respondents seen at the first wave. Empty for
        cross-sectional data and data with a single wave.
    notes : tuple of str
        Decisions taken on the user's behalf (inferred respondent, skipped levels,
        converted wave labels, codebook coverage).
    n_rows : int
        Number of rows checked.
    """

    source: str | None
    respondent: str
    levels: tuple[str, ...]
    counts: pd.DataFrame
    waves: tuple[int, ...]
    missing: pd.DataFrame
    dropout: pd.DataFrame
    notes: tuple[str, ...]
    n_rows: int

    def summary(self) -> str:
        """Plain-text report for a terminal: units per level and wave, dropout,
        missingness of the ten most-missing variables, notes."""
        chain = " > ".join([*self.levels, self.respondent])
        waves = ", ".join(f"T{w}" for w in self.waves) or "none (cross-sectional data)"
        lines = [
            f"Validated data: {self.source}" if self.source else "Validated data",
            f"rows: {self.n_rows}",
            f"respondent: {self.respondent}",
            f"levels: {chain}",
            f"waves: {waves}",
            "",
            "Units per level",
            self.counts.rename_axis(None).to_string(),
        ]
        if len(self.dropout):
            n_first = int(self.counts.loc[self.respondent, f"T{self.waves[0]}"])
            table = self.dropout.rename_axis(None)
            table.columns = ["absent", "% absent", "dropped out", "% dropped out"]
            lines += [
                "",
                f"Dropout of the {n_first} respondents ({self.respondent}) seen at T{self.waves[0]}",
                table.to_string(float_format="{:.1f}".format),
            ]
        lines += ["", self._missing_text()]
        if self.notes:
            lines += ["", "Notes", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines)

    def _missing_text(self) -> str:
        n_vars = len(self.missing)
        if n_vars == 0:
            return "Missing values: no variables besides the id columns"
        n_missing = self.missing[("all", "n_missing")]
        worst = n_missing[n_missing > 0].sort_values(ascending=False, kind="stable").head(10)
        if worst.empty:
            return f"Missing values: none in the {n_vars} variables"
        pct = self.missing.xs("pct_missing", axis=1, level="statistic").loc[worst.index]
        table = pd.concat([worst.rename("n missing"), pct.add_prefix("% ")], axis=1)
        title = f"Missing values: the {len(worst)} most-missing of {n_vars} variables"
        return title + "\n" + table.to_string(float_format="{:.1f}".format)


@dataclass(frozen=True, eq=False)
class Validated:
    """Data that passed :func:`validate`, with what was found.

    Attributes
    ----------
    data : pandas.DataFrame
        A copy of the input with the waves as integers, sorted by the level ids, the
        respondent id and the wave. The original index is kept so rows can be traced.
    report : ValidationReport
        Counts per level and wave, waves, missingness, dropout and notes.
    """

    data: pd.DataFrame
    report: ValidationReport

    def summary(self) -> str:
        """Plain-text report for a terminal (see :meth:`ValidationReport.summary`)."""
        return self.report.summary()


class _Messages:
    """Builds DataError messages that name the file, example rows and the fix.

    Rows are shown as spreadsheet row numbers (header = row 1) when the data came from a
    file (``source``) and still have their default index, else by their index labels.
    """

    def __init__(self, frame: pd.DataFrame, source: str | None) -> None:
        self._prefix = f"{source}: " if source else ""
        self._spreadsheet = source is not None and frame.index.equals(pd.RangeIndex(len(frame)))
        self._labels = pd.RangeIndex(2, len(frame) + 2) if self._spreadsheet else frame.index

    def rows(self, positions: np.ndarray, limit: int = _N_ROWS_SHOWN) -> str:
        shown = ", ".join(str(self._labels[p]) for p in positions[:limit])
        more = len(positions) - limit
        word = "row" if len(positions) == 1 else "rows"
        return f"{word} {shown}" + (f" and {more} more" if more > 0 else "")

    def error(self, problem: str, fix: str, *, rows: bool = True) -> DataError:
        text = f"{self._prefix}{problem}\nFix: {fix}"
        if rows:
            text += "\n" + (
                "Row numbers count the header as row 1, as in a spreadsheet."
                if self._spreadsheet
                else "Rows are named by their index label."
            )
        return DataError(text)


def _show(value: object) -> str:
    """repr of a value as the user typed it (numpy scalars as Python scalars)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _names(names: Sequence[object], limit: int = _N_NAMES_SHOWN) -> str:
    shown = ", ".join(_show(n) for n in list(names)[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _plural(name: str) -> str:
    return _PLURAL.get(name, f"'{name}' values")


def _count(n: int, singular: str, plural: str) -> str:
    """'1 team has' or '3 teams have'."""
    return f"1 {singular} has" if n == 1 else f"{n} {plural} have"


def _values(series: pd.Series, mask: np.ndarray) -> str:
    """The first distinct values of ``series`` where ``mask`` holds, for a message."""
    distinct = pd.unique(series.to_numpy()[mask])
    return _names(distinct, _N_VALUES_SHOWN)


def _matching(series: pd.Series, keep: Callable[[object], bool]) -> pd.Series:
    """Rows whose value satisfies ``keep``, evaluated once per distinct value."""
    return series.isin([value for value in series.dropna().unique() if keep(value)])


def _blank(series: pd.Series) -> pd.Series:
    """Missing values, and empty or blank text."""
    if is_numeric_dtype(series):
        return series.isna()
    return series.isna() | _matching(series, lambda value: isinstance(value, str) and not value.strip())


def _is_code(series: pd.Series, codes: Sequence[str]) -> pd.Series:
    """Whether each value equals one of ``codes`` (codebook text, compared as numbers too)."""
    numbers = pd.to_numeric(pd.Series(list(codes), dtype=object), errors="coerce").dropna()
    hit = series.isin(numbers.tolist())
    if not is_numeric_dtype(series):
        texts = set(codes)
        hit = hit | _matching(series, lambda value: str(value).strip() in texts)
    return series.notna() & hit


def _design(
    df: pd.DataFrame,
    respondent: str | None,
    levels: Sequence[str],
    wave: str | None,
    notes: list[str],
    msg: _Messages,
) -> tuple[str, list[str], frozenset[str], str | None]:
    """Resolve the id columns: (unit, levels above it, added kinds, wave column)."""
    present = [lv for lv in dict.fromkeys(levels) if lv in df.columns]
    absent = [lv for lv in levels if lv not in df.columns]
    if absent:
        notes.append(f"level(s) {_names(absent)} not in the data: skipped")
    columns = f"The columns are: {_names(df.columns)}."
    if respondent is None:
        found = [kind for kind in reversed(_KINDS) if kind in df.columns]
        if found:
            respondent = found[0]
            notes.append(
                f"respondent id column '{respondent}' inferred (the most specific of 'youth', "
                "'family', 'professional' present); pass respondent= to choose another"
            )
        elif present:
            respondent = present[-1]
            notes.append(
                "no respondent id column ('youth', 'family' or 'professional'): the unit of "
                f"observation is '{respondent}', the lowest level present"
            )
        else:
            raise msg.error(
                "no id column found: none of the respondent ids 'youth', 'family', "
                f"'professional' and none of the levels {_names(levels)}. {columns}",
                "name the id columns, e.g. validate(df, respondent='<respondent id column>', "
                "levels=('<top level>', ..., '<level just above the respondent>')).",
                rows=False,
            )
    elif respondent not in df.columns:
        raise msg.error(
            f"the respondent id column {respondent!r} is not in the data. {columns}",
            "pass the name of the respondent id column as respondent='...', or respondent=None "
            "to infer it from the columns 'youth', 'family', 'professional'.",
            rows=False,
        )
    above = [lv for lv in present if lv != respondent]
    added: list[str] = []
    if respondent in _KINDS:
        general = _KINDS[: _KINDS.index(respondent)]
        added = [kind for kind in general if kind in df.columns and kind not in above]
        for kind in added:
            notes.append(
                f"'{kind}' is used as a level above '{respondent}' (each {respondent} with one "
                f"{kind})"
            )
        above += added
    if wave is None:
        wave_col = None
    elif wave in df.columns:
        wave_col = wave
    elif wave == "wave":
        wave_col = None
        notes.append(
            f"no column 'wave': checked as cross-sectional data (one row per {respondent}); "
            "pass wave= to name the wave column"
        )
    else:
        raise msg.error(
            f"the wave column {wave!r} is not in the data. {columns}",
            "pass the name of the wave column as wave='...', or wave=None for data with one "
            "row per respondent.",
            rows=False,
        )
    if wave_col is not None and wave_col in [*above, respondent]:
        raise msg.error(
            f"column {wave_col!r} is given both as an id column and as the wave column.",
            "pass the wave column as wave= only, and leave it out of respondent= and levels=.",
            rows=False,
        )
    return respondent, above, frozenset(added), wave_col


def _check_missing_ids(df: pd.DataFrame, columns: list[str], msg: _Messages) -> None:
    parts = []
    for col in columns:
        positions = np.flatnonzero(_blank(df[col]).to_numpy())
        if len(positions):
            parts.append(f"'{col}' in {msg.rows(positions)}")
    if parts:
        raise msg.error(
            "ids are missing: " + "; ".join(parts) + ".",
            "every row needs all its ids: fill them in, or remove rows that are no "
            "observations (such as empty lines at the end of a spreadsheet).",
        )


def _check_id_types(df: pd.DataFrame, columns: list[str], msg: _Messages) -> None:
    """Ids of one column must be all text or all numbers: 1 and '1' would be two units."""
    for col in columns:
        series = df[col]
        if is_numeric_dtype(series) or infer_dtype(series, skipna=True) not in ("mixed", "mixed-integer"):
            continue
        types = series.map(lambda value: type(value).__name__)
        counts = types.value_counts(sort=False).sort_values(ascending=False, kind="stable")
        odd = types.ne(counts.index[0]).to_numpy()  # values not of the most common type
        kinds = ", ".join(f"{n} {t}" for t, n in counts.items())
        raise msg.error(
            f"id column '{col}' mixes kinds of values ({kinds}), e.g. {_values(series, odd)} in "
            f"{msg.rows(np.flatnonzero(odd))}; the same id stored as a number and as text "
            "(1 and '1') would count as two units.",
            f"store all ids of '{col}' as text (or all as numbers), e.g. by formatting the "
            "column as text in the spreadsheet before saving it.",
        )


def _waves(series: pd.Series, col: str, notes: list[str], msg: _Messages) -> pd.Series:
    """Waves as int64: whole numbers, or labels 'T0', 'T1', ... converted to 0, 1, ..."""
    labelled: dict[object, int] = {}
    if is_bool_dtype(series):
        numbers = pd.Series(np.nan, index=series.index)
    elif is_numeric_dtype(series):
        numbers = series.astype(float)
    else:
        label = re.compile(_WAVE_LABEL)
        distinct = series.unique()
        for value in distinct:  # one iteration per distinct value
            match = label.fullmatch(value.strip()) if isinstance(value, str) else None
            if match is not None:
                labelled[value] = int(match.group(1))
        if len(labelled) == len(distinct):
            by_wave = sorted(labelled.items(), key=lambda item: item[1])
            conversions = ", ".join(f"{value!r} -> {number}" for value, number in by_wave)
            notes.append(f"wave labels in '{col}' converted to numbers ({conversions})")
            return series.map(labelled).astype("int64")
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
    values = numbers.to_numpy()
    whole = np.isfinite(values) & (np.round(values) == values) & (np.abs(values) < 2.0**53)
    if not whole.all():
        bad = ~whole
        mixed = " Labels and numbers are mixed." if labelled else ""
        raise msg.error(
            f"wave column '{col}' has values that are neither whole numbers nor labels T0, "
            f"T1, ...: {_values(series, bad)} in {msg.rows(np.flatnonzero(bad))}.{mixed}",
            "code the waves as whole numbers 0, 1, 2, ... (T0 = 0) or as labels 'T0', 'T1', "
            "... throughout, one wave per measurement round.",
        )
    return pd.Series(values.astype("int64"), index=series.index, name=series.name)


def _check_goals(series: pd.Series, msg: _Messages) -> None:
    codes = series if is_numeric_dtype(series) else pd.to_numeric(series, errors="coerce")
    bad = (~codes.isin([g.code for g in GOALS])).to_numpy()
    if bad.any():
        raise msg.error(
            f"column 'goal' has codes that are not transformation goals 1..5: "
            f"{_values(series, bad)} in {msg.rows(np.flatnonzero(bad))}.",
            "code the goals 1 to 5 (design.goals_table() lists them); if 'goal' means "
            "something else in these data, rename the column or leave it out of levels=.",
        )


def _keys(data: pd.DataFrame, ids: list[str], wave_col: str | None) -> pd.DataFrame:
    """The id columns as integer codes in the sort order of their values, and the wave.

    Grouping, nesting and duplicate checks run on these codes: one factorisation per id
    column instead of one per operation. Positions match the rows of ``data``.
    """
    keys = pd.DataFrame({col: pd.factorize(data[col], sort=True)[0] for col in ids})
    if wave_col is not None:
        keys[wave_col] = data[wave_col].to_numpy()
    return keys


def _check_nesting(
    data: pd.DataFrame, keys: pd.DataFrame, ids: list[str], added: frozenset[str], msg: _Messages
) -> None:
    """Each unit sits under exactly one unit of the level above it."""
    for depth, (parent, child) in enumerate(zip(ids, ids[1:])):
        n_parents = keys.groupby(child, sort=False)[parent].nunique()
        bad = n_parents.index[n_parents.to_numpy() > 1].to_numpy()
        if len(bad):
            below = ids[depth + 2] if depth + 2 < len(ids) else None
            raise _nesting_error(data, keys, parent, child, below, bad, parent in added, msg)


def _nesting_error(
    data: pd.DataFrame,
    keys: pd.DataFrame,
    parent: str,
    child: str,
    below: str | None,
    bad: np.ndarray,
    parent_added: bool,
    msg: _Messages,
) -> DataError:
    child_codes, parent_codes = keys[child].to_numpy(), keys[parent].to_numpy()
    lines = []
    for code in bad[:_N_UNITS_SHOWN]:
        in_unit = child_codes == code
        unit = data[child].iloc[np.argmax(in_unit)]
        under = np.unique(parent_codes[in_unit])  # codes sort like the values
        limit = _N_ROWS_SHOWN if len(under) == 2 else 1  # keep a line per unit readable
        names, where = [], []
        for parent_code in under:
            rows = np.flatnonzero(in_unit & (parent_codes == parent_code))
            names.append(_show(data[parent].iloc[rows[0]]))
            where.append(f"{names[-1]} in {msg.rows(rows, limit)}")
        lines.append(
            f"{child} {_show(unit)} appears under {len(under)} {_plural(parent)} "
            f"({', '.join(names)}): {'; '.join(where)}"
        )
    if len(bad) > _N_UNITS_SHOWN:
        lines.append(f"and {len(bad) - _N_UNITS_SHOWN} more {_plural(child)}")
    head = "" if len(bad) == 1 else f"{len(bad)} {_plural(child)} appear under more than one {parent}:\n"
    problem = head + "\n".join(lines) + f"\nEach {child} must be nested in exactly one {parent}."
    combine = f"df[{child!r}] = df[{parent!r}].astype(str) + '-' + df[{child!r}].astype(str)"
    if _ids_look_local(data, keys, parent, child, below, bad):
        fix = (
            f"the {child} ids look unique only within their {parent} (the same id under several "
            f"{_plural(parent)}"
            + (f", each with its own {_plural(below)}" if below else "")
            + f"). Make them unique, e.g. combine them with the {parent} id: {combine}"
        )
    else:
        fix = (
            f"correct the {parent!r} of the wrong rows; if these are different {_plural(child)} "
            f"that share an id, give them different ids, e.g. {combine}"
        )
    if parent_added:
        fix += (
            f". If a {child} can be with more than one {parent}, '{parent}' is no level of this "
            "design: drop that column before validating"
        )
    return msg.error(problem, fix + ".")


def _ids_look_local(
    data: pd.DataFrame, keys: pd.DataFrame, parent: str, child: str, below: str | None, bad: np.ndarray
) -> bool:
    """Whether every offending child id looks like an id that is unique only within its parent.

    Such ids do not contain the parent's id (a text 'O01-T1' under 'O02' is a wrong row,
    not a reused 'T1'), and the units below them never cross parents (the families of
    team 'T1' in 'O01' are not those of 'T1' in 'O02').
    """
    rows = keys[child].isin(bad).to_numpy()
    if not is_numeric_dtype(data[child]):
        pairs = data.loc[rows, [child, parent]].drop_duplicates()
        if any(str(p) in str(c) for c, p in zip(pairs[child], pairs[parent])):
            return False
    if below is None:
        return True
    return bool(keys.loc[rows].groupby(below, sort=False)[parent].nunique().max() <= 1)


def _check_unique(
    data: pd.DataFrame, keys: pd.DataFrame, unit: str, wave_col: str | None, msg: _Messages
) -> None:
    key = [unit] if wave_col is None else [unit, wave_col]
    dup = keys.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return
    repeated = keys.loc[dup, key].drop_duplicates()
    lines = []
    for first, *at in repeated.head(_N_UNITS_SHOWN).itertuples():
        rows = np.flatnonzero(dup & (keys[key] == at).all(axis=1).to_numpy())
        label = f"{unit} {_show(data[unit].iloc[first])}"
        if wave_col is not None:
            label += f" at T{at[1]}"
        lines.append(f"{label} in {msg.rows(rows)}")
    if len(repeated) > _N_UNITS_SHOWN:
        lines.append(f"and {len(repeated) - _N_UNITS_SHOWN} more")
    if wave_col is None:
        head = (
            f"{_count(len(repeated), unit, _plural(unit))} more than one row; data without a wave "
            f"column need one row per {unit}:"
        )
        fix = f"keep one row per {unit}; if the data are longitudinal, name the wave column with wave=; "
    else:
        head = (
            f"{_count(len(repeated), f'{unit}-wave combination', f'{unit}-wave combinations')} "
            "more than one row; the data need "
            f"one row per {unit} per wave:"
        )
        fix = f"keep one row per {unit} per wave; "
    if data.loc[dup].duplicated(keep=False).all():
        lines.append("The repeated rows are exact copies.")
        fix += "remove the copies with df.drop_duplicates()."
    else:
        fix += (
            f"if the rows are different {_plural(unit)} with the same id, give them different "
            f"ids; if the data hold several respondents per {unit}, pass their id column as "
            "respondent=."
        )
    raise msg.error(head + "\n" + "\n".join(lines), fix)


def _codebook_rows(
    codebook: pd.DataFrame, source: str | None, notes: list[str], msg: _Messages
) -> pd.DataFrame:
    """The codebook rows that apply to these data, with text columns cleaned and min/max as numbers."""
    lacking = [col for col in ("variable", "type") if col not in codebook.columns]
    if lacking:
        raise msg.error(
            f"the codebook has no column(s) {_names(lacking)}; it has {_names(codebook.columns)}.",
            "give the codebook the columns of the codebook schema (docs/architecture.md): file, "
            "variable, label_nl, label_en, type, min, max, values, missing_codes, instrument, level.",
            rows=False,
        )

    def text(col: str) -> pd.Series:
        if col not in codebook.columns:
            return pd.Series("", index=codebook.index, dtype="string")
        return codebook[col].astype("string").str.strip().fillna("")

    used = ("file", "variable", "type", "min", "max", "values", "missing_codes")
    cb = pd.DataFrame({col: text(col) for col in used})
    cb["type"] = cb["type"].str.lower()
    named = cb["file"].ne("")
    files = sorted(set(cb.loc[named, "file"]))
    if source is not None and files:
        name = PurePath(source).name
        if not cb["file"].eq(name).any():
            notes.append(
                f"the codebook has no rows for '{name}' (it describes {_names(files)}): only its "
                "rows without a file apply"
            )
    elif files and named.all():
        if len(files) > 1:
            raise msg.error(
                f"the codebook describes several files ({_names(files)}) and it is not known "
                "which of them these data are.",
                f"pass the data file's name, e.g. source={files[0]!r}.",
                rows=False,
            )
        name = files[0]
        notes.append(f"codebook rows of '{name}' used (no source= given)")
    else:
        name = ""  # no source: the rows without a file apply
    cb = cb.loc[~named | cb["file"].eq(name)]
    specific = cb["file"].ne("")  # a row for this file overrides a row without a file
    cb = cb.loc[specific | ~cb["variable"].isin(cb.loc[specific, "variable"])]
    twice = cb["variable"][cb["variable"].duplicated()]
    if len(twice):
        raise msg.error(
            f"the codebook describes {_names(sorted(set(twice)))} more than once for these data.",
            "keep one codebook row per variable (per file).",
            rows=False,
        )
    for col in ("min", "max"):
        numbers = pd.to_numeric(cb[col].replace("", None), errors="coerce")
        unreadable = cb[col].ne("") & numbers.isna()
        if unreadable.any():
            raise msg.error(
                f"the codebook's {col!r} is not a number for "
                f"{_names(cb.loc[unreadable, 'variable'].tolist())}: "
                f"{_names(cb.loc[unreadable, col].tolist())}.",
                f"write {col!r} as a number, or leave it empty for an open range.",
                rows=False,
            )
        cb[col] = numbers.astype(float)
    return cb


def _split(codes: str) -> list[str]:
    return [part.strip() for part in codes.split(";") if part.strip()]


def _check_values(
    data: pd.DataFrame,
    cb: pd.DataFrame,
    require: bool,
    notes: list[str],
    msg: _Messages,
) -> dict[str, list[str]]:
    """Check values against the codebook; return the user-missing codes per variable."""
    described = cb["variable"].tolist()
    absent = [v for v in described if v not in data.columns]
    if absent and require:
        raise msg.error(
            f"codebook variables are not in the data: {_names(absent)}.",
            "rename the data columns to the codebook's names, or pass require_codebook_columns=False.",
            rows=False,
        )
    if absent:
        notes.append(f"codebook variables not in the data: {_names(absent)}")
    undescribed = [c for c in data.columns if c not in set(described)]
    if undescribed:
        notes.append(f"columns not in the codebook (not checked): {_names(undescribed)}")

    missing_codes: dict[str, list[str]] = {}
    problems = []
    for row in cb.itertuples(index=False):  # one iteration per variable, vectorised inside
        if row.variable not in data.columns or row.type == "id":
            continue
        series = data[row.variable]
        codes = _split(row.missing_codes)
        if codes:
            missing_codes[row.variable] = codes
            present = series.notna() & ~_is_code(series, codes)
        else:
            present = series.notna()
        present = present.to_numpy()
        if row.type in _NUMERIC_TYPES:
            found = _numeric_problems(series, present, row)
        elif row.type in _CODED_TYPES:
            allowed = [pair.split("=", 1)[0].strip() for pair in _split(row.values)]
            if not allowed and row.type == "binary":
                allowed = ["0", "1"]
            bad = present & ~_is_code(series, allowed).to_numpy()
            found = [(f"codes not among {', '.join(allowed)}", bad)] if allowed and bad.any() else []
        else:
            notes.append(f"codebook type {row.type!r} of '{row.variable}' is not checked")
            continue
        if found:
            rows = np.flatnonzero(np.logical_or.reduce([mask for _, mask in found]))
            what = "; ".join(f"{text}: {_values(series, mask)}" for text, mask in found)
            problems.append(f"'{row.variable}' ({row.type}): {what}; in {msg.rows(rows)}")
    if problems:
        shown = problems[:_N_UNITS_SHOWN]
        if len(problems) > _N_UNITS_SHOWN:
            shown.append(f"and {len(problems) - _N_UNITS_SHOWN} more variables")
        raise msg.error(
            f"{_count(len(problems), 'variable', 'variables')} values the codebook does not allow:\n"
            + "\n".join(shown),
            "check the codebook (type, min, max, values) or recode these values. Text such as "
            "'n.v.t.' or '-' in a numeric variable usually means missing: make it empty (NA) or "
            "list it in the codebook's missing_codes.",
        )
    return missing_codes


def _numeric_problems(series: pd.Series, present: np.ndarray, row: object) -> list[tuple[str, np.ndarray]]:
    """Text, non-whole numbers and values out of [min, max] in a numeric variable."""
    if is_numeric_dtype(series):
        numbers = series.astype(float).to_numpy()
    else:
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
    found = []
    text = present & np.isnan(numbers)
    if text.any():
        found.append(("not a number", text))
    number = present & ~text
    if row.type in _WHOLE_TYPES:
        broken = number & (np.round(numbers) != numbers)
        if broken.any():
            found.append(("not whole numbers", broken))
    with np.errstate(invalid="ignore"):
        out = number & ((numbers < row.min) | (numbers > row.max))
    if out.any():
        lo = "" if np.isnan(row.min) else f"{row.min:g}"
        hi = "" if np.isnan(row.max) else f"{row.max:g}"
        found.append((f"outside {lo}..{hi}", out))
    return found


def _report(
    data: pd.DataFrame,
    keys: pd.DataFrame,
    unit: str,
    above: list[str],
    wave_col: str | None,
    missing_codes: dict[str, list[str]],
    notes: list[str],
    source: str | None,
) -> ValidationReport:
    ids = [*above, unit]
    variables = [c for c in data.columns if c not in ids and c != wave_col]
    missing = data[variables].isna()
    for col, codes in missing_codes.items():
        if col in missing.columns:
            missing[col] |= _is_code(data[col], codes)
    total = keys[ids].nunique().rename("total")
    blocks = {"all": _missing_block(missing.sum(), len(data))}
    if wave_col is None:
        waves: tuple[int, ...] = ()
        counts = total.to_frame()
        dropout = pd.DataFrame(columns=_DROPOUT_COLUMNS, index=pd.Index([], name="wave"))
    else:
        w = data[wave_col]
        waves = tuple(int(x) for x in np.unique(w.to_numpy()))
        per_wave = keys.groupby(wave_col)[ids].nunique().T
        per_wave.columns = [f"T{x}" for x in per_wave.columns]
        counts = pd.concat([total, per_wave], axis=1)
        by_wave = missing.groupby(w).sum()
        sizes = w.value_counts()
        for x in waves:
            blocks[f"T{x}"] = _missing_block(by_wave.loc[x], int(sizes[x]))
        dropout = _dropout(keys, unit, wave_col, waves)
    return ValidationReport(
        source=source,
        respondent=unit,
        levels=tuple(above),
        counts=counts.rename_axis("level"),
        waves=waves,
        missing=pd.concat(blocks, axis=1, names=["wave", "statistic"]),
        dropout=dropout,
        notes=tuple(notes),
        n_rows=len(data),
    )


def _missing_block(n_missing: pd.Series, n_rows: int) -> pd.DataFrame:
    n_missing = n_missing.astype("int64")
    return pd.DataFrame({"n_missing": n_missing, "pct_missing": 100.0 * n_missing / n_rows})


def _dropout(keys: pd.DataFrame, unit: str, wave_col: str, waves: tuple[int, ...]) -> pd.DataFrame:
    seen = keys.groupby([unit, wave_col]).size().unstack(fill_value=0).gt(0)
    later = seen.iloc[:, ::-1].cummax(axis=1).iloc[:, ::-1]  # seen at this wave or after
    first = seen[waves[0]]
    n_first = int(first.sum())
    rows = {}
    for x in waves[1:]:
        absent = int((first & ~seen[x]).sum())
        dropped = int((first & ~later[x]).sum())
        rows[f"T{x}"] = [absent, 100.0 * absent / n_first, dropped, 100.0 * dropped / n_first]
    return pd.DataFrame.from_dict(rows, orient="index", columns=_DROPOUT_COLUMNS).rename_axis("wave")


def validate(
    df: pd.DataFrame,
    *,
    respondent: str | None = None,
    levels: Sequence[str] = ("goal", "organisation", "team"),
    wave: str | None = "wave",
    codebook: pd.DataFrame | None = None,
    source: str | None = None,
    require_codebook_columns: bool = False,
) -> Validated:
    """Check long data against the study design and describe what is in them.

    The checks, in this order, each raising :class:`~lerendtransformeren.exceptions.DataError`
    with a message that names the file, the columns, example rows and the fix:

    1. the id columns are present;
    2. no id is missing (empty text counts as missing);
    3. each id column holds one kind of value (not numbers mixed with text);
    4. waves are whole numbers or labels ``T0``, ``T1``, ... (converted to 0, 1, ...);
    5. goal codes (column ``goal``, when it is a level) are 1..5;
    6. nesting: each unit sits under exactly one unit of the level above it (a team in
       one organisation, a family with one professional, ...);
    7. one row per respondent per wave (cross-sectional data: one row per unit);
    8. values of the variables described in ``codebook`` are allowed: numbers (type
       ``integer``, ``float``, ``item``) within ``[min, max]``, whole for ``integer``
       and ``item``; codes (type ``categorical``, ``binary``) among ``values`` (binary
       without ``values``: 0 and 1). Values listed in ``missing_codes`` are allowed
       and count as missing.

    Parameters
    ----------
    df : pandas.DataFrame
        Long data: one row per respondent per wave.
    respondent : str, optional
        Id column of the respondent. By default the most specific of ``"youth"``,
        ``"family"``, ``"professional"`` present; without any of them, the lowest level
        present (``organisations.csv``: one row per organisation). A more general
        respondent kind that is present becomes a level above the respondent: in family
        data, ``professional`` sits between ``team`` and ``family``.
    levels : sequence of str
        Id columns of the levels above the respondent, top to bottom. Levels not in the
        data are skipped with a note.
    wave : str or None
        Wave column. Without a column of this name (and ``wave="wave"``, the default),
        or with ``wave=None``, the data are checked as cross-sectional. A wave column
        named otherwise must be present.
    codebook : pandas.DataFrame, optional
        Codebook in the schema of ``docs/architecture.md``. Rows whose ``file`` is the
        file name of ``source`` apply, and rows with an empty ``file``.
    source : str, optional
        File the data came from, named in messages. With the data's default index,
        rows in messages are then spreadsheet row numbers (header = row 1); otherwise
        rows are named by their index label.
    require_codebook_columns : bool
        Whether every codebook variable must be a column of the data (else the absent
        ones are noted).

    Returns
    -------
    Validated
        The data (waves as integers, sorted by the ids and the wave, original index
        kept) and a :class:`ValidationReport`.

    Raises
    ------
    DataError
        When a check fails.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "organisation": ["O1", "O1", "O1", "O2", "O2"],
    ...     "team": ["O1-T1", "O1-T1", "O1-T1", "O2-T1", "O2-T1"],
    ...     "family": ["F1", "F1", "F2", "F3", "F3"],
    ...     "wave": ["T0", "T1", "T0", "T0", "T1"],
    ...     "sdq_01": [0, 2, None, 1, 1],
    ... })
    >>> checked = validate(df)
    >>> checked.report.respondent, checked.report.levels, checked.report.waves
    ('family', ('organisation', 'team'), (0, 1))
    >>> checked.report.counts
                  total  T0  T1
    level
    organisation      2   2   2
    team              2   2   2
    family            3   3   2
    >>> checked.report.dropout["n_dropped_out"].tolist()
    [1]
    >>> validate(df.assign(organisation=["O1", "O1", "O2", "O2", "O2"]))
    Traceback (most recent call last):
    ...
    lerendtransformeren.exceptions.DataError: team 'O1-T1' appears under 2 organisations ('O1', 'O2'): 'O1' in rows 0, 1; 'O2' in row 2
    Each team must be nested in exactly one organisation.
    Fix: correct the 'organisation' of the wrong rows; ...
    """
    msg = _Messages(df, source)
    if df.columns.has_duplicates:
        repeated = df.columns[df.columns.duplicated()].unique()
        raise msg.error(
            f"column name(s) {_names(repeated.tolist())} occur more than once.",
            "give every column its own name.",
            rows=False,
        )
    if len(df) == 0:
        raise msg.error("the data have no rows.", "check the file and the sheet that were read.", rows=False)
    notes: list[str] = []
    unit, above, added, wave_col = _design(df, respondent, levels, wave, notes, msg)
    ids = [*above, unit]
    _check_missing_ids(df, ids if wave_col is None else [*ids, wave_col], msg)
    _check_id_types(df, ids, msg)
    data = df.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    if wave_col is not None:
        data[wave_col] = _waves(df[wave_col], wave_col, notes, msg)
    if "goal" in ids:
        _check_goals(data["goal"], msg)
    keys = _keys(data, ids, wave_col)
    _check_nesting(data, keys, ids, added, msg)
    _check_unique(data, keys, unit, wave_col, msg)
    missing_codes: dict[str, list[str]] = {}
    if codebook is not None:
        cb = _codebook_rows(codebook, source, notes, msg)
        missing_codes = _check_values(data, cb, require_codebook_columns, notes, msg)
    order = np.lexsort([keys[col].to_numpy() for col in reversed(keys.columns)])  # stable
    data, keys = data.take(order), keys.take(order).reset_index(drop=True)
    return Validated(data, _report(data, keys, unit, above, wave_col, missing_codes, notes, source))
