"""The study design of "Lerend Transformeren": goals, levels, respondent kinds.

The five transformation goals of the Youth Act reform are data here, with Dutch and
English names, a short description and the academic workplace that leads the goal in
the programme. ``validate`` checks long (one row per respondent per wave) data against
this design.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import PYTHON, OptionNames
from lerendtransformeren.design._checks import (
    _check_nesting,
    _check_unique,
    _check_values,
    _codebook_rows,
    _keys,
)
from lerendtransformeren.design._goals import GOALS, LEVELS, RESPONDENT_KINDS, Goal, goal, goals_table
from lerendtransformeren.design._ids import (
    ID_MODES,
    _check_goals,
    _check_id_text,
    _check_id_types,
    _check_missing_ids,
    _design,
    _waves,
)
from lerendtransformeren.design._messages import _Messages, _names
from lerendtransformeren.design._report import Validated, ValidationReport, _report

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


def validate(
    df: pd.DataFrame,
    *,
    respondent: str | None = None,
    levels: Sequence[str] = ("goal", "organisation", "team"),
    wave: str | None = "wave",
    codebook: pd.DataFrame | None = None,
    source: str | None = None,
    require_codebook_columns: bool = False,
    ids: str = "strict",
    first_row: int | None = None,
    options: OptionNames = PYTHON,
) -> Validated:
    """Check long data against the study design and describe what is in them.

    The checks, in this order, each raising :class:`~lerendtransformeren.exceptions.DataError`
    with a message that names the file, the columns, example rows and the fix:

    1. the id columns are present;
    2. no id is missing (empty text counts as missing);
    3. each id column holds one kind of value (not numbers mixed with text);
    4. ids stored as text have no spaces around them (``'F12 '`` next to ``'F12'`` would
       split a family and fake dropout; ``ids="strip"`` strips them, with a note), and no
       two ids are the same number written differently (``'0007'`` and ``'7'``,
       ``'10.1'`` and ``'10.10'``, ``'7'`` and ``'7.0'``: one unit for Excel or SPSS, two
       as text); these are errors whatever ``ids`` says, since only the user can decide;
    5. waves are whole numbers or labels ``T0``, ``T1``, ... (converted to 0, 1, ...);
    6. goal codes (column ``goal``, when it is a level) are 1..5;
    7. nesting: each unit sits under exactly one unit of the level above it (a team in
       one organisation, a family with one professional, ...);
    8. one row per respondent per wave (cross-sectional data: one row per unit);
    9. values of the variables described in ``codebook`` are allowed: numbers (type
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
        rows in messages are then the file's row numbers (see ``first_row``); otherwise
        rows are named by their index label.
    require_codebook_columns : bool
        Whether every codebook variable must be a column of the data (else the absent
        ones are noted).
    ids : {'strict', 'strip'}
        Ids with spaces around them: an error (``'strict'``, the default) or stripped,
        with a note counting the changed cells per column (``'strip'``).
    first_row : int, optional
        File row of the first data row, as ``io.read_table`` reports it in
        ``source["first_row"]``: data row ``i`` is row ``first_row + i`` in messages. By
        default 2 when ``source`` is given (header on row 1); without either, rows are
        named by their index label.
    options : OptionNames
        How messages name options (see :class:`~lerendtransformeren.exceptions.OptionNames`);
        Python argument names by default.

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
    if ids not in ID_MODES:
        raise ValueError(f"{options.of('ids', ids)} must be one of {', '.join(map(repr, ID_MODES))}.")
    msg = _Messages(df, source, first_row, options)
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
    id_cols = [*above, unit]
    _check_missing_ids(df, id_cols if wave_col is None else [*id_cols, wave_col], msg)
    _check_id_types(df, id_cols, msg)
    data = df.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for col, values in _check_id_text(df, id_cols, ids, notes, msg).items():
        data[col] = values
    if wave_col is not None:
        data[wave_col] = _waves(df[wave_col], wave_col, notes, msg)
    if "goal" in id_cols:
        _check_goals(data["goal"], msg)
    keys = _keys(data, id_cols, wave_col)
    _check_nesting(data, keys, id_cols, added, msg)
    _check_unique(data, keys, unit, wave_col, msg)
    missing_codes: dict[str, list[str]] = {}
    if codebook is not None:
        cb = _codebook_rows(codebook, source, notes, msg)
        missing_codes = _check_values(data, cb, require_codebook_columns, notes, msg)
    order = np.lexsort([keys[col].to_numpy() for col in reversed(keys.columns)])  # stable
    data, keys = data.take(order), keys.take(order).reset_index(drop=True)
    return Validated(data, _report(data, keys, unit, above, wave_col, missing_codes, notes, source))
