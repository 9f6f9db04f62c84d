"""Cut-off bands: classify scores into the normal / borderline / abnormal bands of a norm.

The bands are data (``cutoffs`` in the instrument definitions, see
:class:`~lerendtransformeren.scales.instrument.Cutoff`); this module only applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.lang import check_lang
from lerendtransformeren.scales.display import classification_view
from lerendtransformeren.scales.instrument import Cutoff, Instrument, _registry, get
from lerendtransformeren.scales.scoring import _rows

__all__ = ["Classification", "classify"]



@dataclass(frozen=True)
class Classification:
    """Scores classified into the cut-off bands of one norm.

    Attributes
    ----------
    bands : pandas.DataFrame
        Aligned with the scores' index; one ordered categorical column ``<column>_band``
        per classified score column, categories from the most favourable band to the
        least, missing where the score is missing.
    proportions : pandas.DataFrame
        One row per score column and band: ``score``, ``band``, ``min``, ``max`` (inclusive
        limits), ``n``, ``proportion`` (of the rows with a score), ``n_scored`` and
        ``n_missing`` (rows without a score).
    norm : str
        The norm the bands come from.
    lang : str
        Language of the labels.
    sources : dict
        Score column -> source of its bands (and the definition's note on them).
    """

    bands: pd.DataFrame
    proportions: pd.DataFrame
    norm: str
    lang: str
    sources: dict[str, str]

    def __repr__(self) -> str:
        return classification_view(self).text()

    def _repr_html_(self) -> str:
        return classification_view(self).html()


def _band_codes(values: np.ndarray, cut: Cutoff, column: str, index: pd.Index) -> np.ndarray:
    """Band position per value (-1 = missing); values in no band raise DataError."""
    codes = np.full(values.shape, -1, dtype=int)
    for k, (_, low, high) in enumerate(cut.bands):
        codes[(values >= low) & (values <= high)] = k
    outside = (codes == -1) & ~np.isnan(values)
    if outside.any():
        limits = ", ".join(f"{label} {low:g}-{high:g}" for label, low, high in cut.bands)
        shown = sorted(set(values[outside].tolist()))[:5]
        raise DataError(
            f"column {column!r}: values {shown} in rows {_rows(index[outside])} fall in no band of norm "
            f"{cut.norm!r} ({limits}; limits inclusive). Check that these are scores of this instrument "
            "(scored with its rounding), or write bands that cover them in your own key."
        )
    return codes


def classify(
    scores: pd.DataFrame | pd.Series,
    code: str | Instrument,
    norm: str | None = None,
    *,
    lang: str = "nl",
    prefix: str | None = None,
) -> Classification:
    """Classify scores into the cut-off bands stored in an instrument's definition.

    A score falls in a band when ``min <= score <= max`` (inclusive limits from the
    definition's ``cutoffs``). Every score of the instrument that has bands under the
    chosen norm and is a column of ``scores`` is classified; other columns are ignored.

    Parameters
    ----------
    scores : pandas.DataFrame or pandas.Series
        Output of :func:`score` (columns ``<code>_<score>``), or a Series named so.
    code : str or Instrument
        Instrument code (see :func:`available`) or an instrument from :func:`load` whose
        key has ``cutoffs``.
    norm : str, optional
        Name of the norm (``Instrument.norms()``); default: the first norm in the
        definition. Shipped: ``sdq_parent`` with ``"uk_original"`` only.
    lang : {"nl", "en"}
        Language of the band labels (Dutch labels fall back to English where a
        definition gives none).
    prefix : str, optional
        The ``prefix`` the scores were made with (``"t0_"`` for ``t0_sdq_parent_...``).

    Returns
    -------
    Classification
        ``bands`` (ordered categoricals aligned with ``scores``), ``proportions`` (n and
        proportion per band), ``norm``, ``lang`` and ``sources``.

    Raises
    ------
    SpecificationError
        The instrument has no bands, the norm or language is unknown.
    DataError
        No score column of the instrument with bands is in ``scores``; a column is not
        numeric; a score falls in no band (the message lists values and rows).

    Notes
    -----
    R equivalent: ``cut(x, breaks = c(-Inf, 13, 16, Inf), labels = c("normal",
    "borderline", "abnormal"), ordered_result = TRUE)`` (right-closed intervals, the same
    bands for integer scores) and ``prop.table(table(band))``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lerendtransformeren import scales
    >>> scores = pd.DataFrame({"sdq_parent_total_difficulties": [5, 14, 17, None, 13]})
    >>> result = scales.classify(scores, "sdq_parent")
    >>> result.bands["sdq_parent_total_difficulties_band"].tolist()
    ['normaal', 'grensgebied', 'afwijkend', nan, 'normaal']
    >>> result.bands["sdq_parent_total_difficulties_band"].cat.categories.tolist()
    ['normaal', 'grensgebied', 'afwijkend']
    >>> result.proportions[["band", "min", "max", "n", "proportion"]]
              band   min   max  n  proportion
    0      normaal   0.0  13.0  2        0.50
    1  grensgebied  14.0  16.0  1        0.25
    2    afwijkend  17.0  40.0  1        0.25
    >>> scales.classify(scores, "sdq_parent", "uk_original", lang="en").bands.iloc[1, 0]
    'borderline'
    """
    check_lang(lang)
    inst = code if isinstance(code, Instrument) else get(code)
    if not inst.cutoffs:
        with_bands = sorted(i.code for i in _registry().values() if i.cutoffs)
        raise SpecificationError(
            f"instrument {inst.code!r} has no cut-off bands. Shipped instruments with bands: "
            f"{', '.join(with_bands)}. For your own key add 'cutoffs:' (see docs/instruments.md)."
        )
    norms = inst.norms()
    norm = norms[0] if norm is None else norm
    if norm not in norms:
        raise SpecificationError(
            f"instrument {inst.code!r} has no norm {norm!r}; its norms: {', '.join(norms)}. "
            "Other norms (e.g. Dutch ones) go into your own copy of the key as extra 'cutoffs' with their 'norm'."
        )
    if isinstance(scores, pd.Series):
        scores = scores.to_frame()
    if not isinstance(scores, pd.DataFrame):
        raise DataError(f"classify() needs the DataFrame from scales.score(), got {type(scores).__name__}.")
    prefix = prefix or ""
    cuts = {f"{prefix}{inst.code}_{c.score}": c for c in inst.cutoffs if c.norm == norm}
    present = [column for column in cuts if column in scores.columns]
    if not present:
        raise DataError(
            f"none of the columns with bands ({', '.join(cuts)}) is in the scores. Pass the frame from "
            f"scales.score(df, {inst.code!r}) (and its prefix=, if any)."
        )
    bands: dict[str, pd.Categorical] = {}
    rows = []
    for column in present:
        cut = cuts[column]
        if not pd.api.types.is_numeric_dtype(scores[column]) or pd.api.types.is_bool_dtype(scores[column]):
            raise DataError(f"column {column!r} is not numeric ({scores[column].dtype}); classify the scores, not labels.")
        codes = _band_codes(scores[column].to_numpy(dtype=float, na_value=np.nan), cut, column, scores.index)
        labels = cut.labels(lang)
        bands[f"{column}_band"] = pd.Categorical.from_codes(codes, categories=list(labels), ordered=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(labels))
        n_scored = int(counts.sum())
        for label, (_, low, high), n in zip(labels, cut.bands, counts):
            rows.append(
                {
                    "score": column, "band": label, "min": low, "max": high, "n": int(n),
                    "proportion": n / n_scored if n_scored else np.nan,
                    "n_scored": n_scored, "n_missing": int((codes == -1).sum()),
                }
            )
    return Classification(
        bands=pd.DataFrame(bands, index=scores.index),
        proportions=pd.DataFrame(rows),
        norm=norm,
        lang=lang,
        sources={column: f"{cuts[column].source} {cuts[column].note}".strip() for column in present},
    )
