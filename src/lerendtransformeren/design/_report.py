"""What validate found: units per level and wave, missingness, dropout, notes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.design._messages import _DROPOUT_COLUMNS, _is_code
from lerendtransformeren.display import Grid, SummaryText, View, count, frame_grid, num



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

    def summary(self) -> SummaryText:
        """Plain-text report for a terminal: units per level and wave, dropout,
        missingness of the ten most-missing variables, notes (a ``str`` that a notebook
        cell shows as text)."""
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
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return _view(self).text()

    def _repr_html_(self) -> str:
        return _view(self).html()

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

    def summary(self) -> SummaryText:
        """Plain-text report for a terminal (see :meth:`ValidationReport.summary`)."""
        return self.report.summary()

    def __repr__(self) -> str:
        return self._view().text()

    def _repr_html_(self) -> str:
        return self._view().html()

    def _view(self) -> View:
        report = _view(self.report)
        shape = f"{count(self.data.shape[0])} rows x {count(self.data.shape[1])} columns"
        return View(
            f"Validated: {self.report.source + ', ' if self.report.source else ''}{shape}",
            facts=report.facts,
            grids=[frame_grid(self.data, "Data"), *report.grids],
            notes=report.notes, notes_where=".report.notes",
            hint="More: .data (the checked data), .report (counts, missing, dropout, notes), .summary()",
        )


#: Variables shown in the missing-values table of a view.
_VIEW_MISSING = 5


def _view(report: ValidationReport) -> View:
    """What ``repr`` and Jupyter show of a validation report: levels, units, dropout, missingness."""
    counts = report.counts
    grids = [Grid(["Level", *(str(c).capitalize() for c in counts.columns)],
                  [[str(k), *(count(v) for v in row)] for k, row in zip(counts.index, counts.to_numpy())],
                  caption="Units per level" + (" and wave" if report.waves else ""))]
    if len(report.dropout):
        n_first = count(report.counts.loc[report.respondent, f"T{report.waves[0]}"])
        grids.append(Grid(
            ["Wave", "Absent", "%", "Dropped out", "%"],
            [[str(k), count(r.n_absent), num(r.pct_absent, 1), count(r.n_dropped_out), num(r.pct_dropped_out, 1)]
             for k, r in zip(report.dropout.index, report.dropout.itertuples())],
            caption=f"Dropout of the {n_first} respondents ({report.respondent}) seen at T{report.waves[0]}",
        ))
    if len(report.missing):
        n_missing = report.missing[("all", "n_missing")]
        worst = n_missing[n_missing > 0].sort_values(ascending=False, kind="stable")
        pct = report.missing[("all", "pct_missing")]
        grids.append(Grid(
            ["Variable", "Missing", "%"],
            [[str(k), count(v), num(pct[k], 1)] for k, v in worst.head(_VIEW_MISSING).items()],
            caption=f"Missing values: {count(len(worst))} of {count(len(n_missing))} variables have some",
            more=f"... the others: .missing" if len(worst) > _VIEW_MISSING else "",
        ))
    chain = " > ".join([*report.levels, report.respondent])
    return View(
        f"ValidationReport: {report.source + ', ' if report.source else ''}{count(report.n_rows)} rows",
        facts=[("Levels", f"{chain} (respondent: {report.respondent})"),
               ("Waves", ", ".join(f"T{w}" for w in report.waves) or "none (cross-sectional data)")],
        grids=grids,
        notes=list(report.notes),
        hint="More: .summary(), .counts, .missing, .dropout, .notes",
    )


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
