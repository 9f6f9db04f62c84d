"""Internal consistency: Cronbach's alpha (pingouin), omega total (one factor), item statistics."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.display import progress_bar
from lerendtransformeren.exceptions import ConvergenceWarning, DataError, SpecificationError
from lerendtransformeren.scales.display import reliability_view
from lerendtransformeren.scales.instrument import Instrument
from lerendtransformeren.scales.scoring import _item_block, _resolve

__all__ = ["ReliabilityResult", "reliability", "omega_total"]

_MISSING = ("listwise", "pairwise")
# psych::fa (fm = "minres") bounds each uniqueness below at 0.005; so do we.
_MAX_COMMUNALITY = 0.995


@dataclass(frozen=True)
class ReliabilityResult:
    """Reliability per score (``scales``) and per item (``items``), tidy DataFrames.

    ``seed`` is the integer seed of the bootstrap (drawn and recorded when none was
    given; ``None`` when a Generator was passed): ``reliability(..., seed=result.seed)``
    repeats the intervals.
    """

    scales: pd.DataFrame
    items: pd.DataFrame
    missing: str
    seed: int | None = None

    def __repr__(self) -> str:
        return reliability_view(self).text()

    def _repr_html_(self) -> str:
        return reliability_view(self).html()


#: Respondents per block of the weighted sums. Fixed, so the order of summation does not
#: depend on the batch size (item codes are integers, so the sums are exact anyway);
#: a block of the design matrix takes at most _ROWS x 3p x 8 bytes (8192 rows stay in
#: cache: 15 ms per resample of 1,000,000 respondents and 8 items, against 34 ms for 65,536).
_ROWS = 1 << 13
#: Resamples whose one-factor fits are solved together (bounds the p x p matrices held).
_BATCH = 100


def _design(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """Columns whose weighted cross-products give every (pairwise) moment of ``x``.

    Complete data: ``[1, x]``. With missing values: ``[x0, m, x0**2]`` with ``m`` the
    observed indicators and ``x0`` the data with missing values set to 0. Returns the
    design, transposed (k x n, C-contiguous: a block of respondents is a fast slice),
    and whether the data are complete.
    """
    m = ~np.isnan(x)
    if m.all():
        return np.vstack([np.ones(x.shape[0]), x.T]), True
    xz = np.where(m, x, 0.0).T
    return np.vstack([xz, m.T.astype(float), xz**2]), False


def _gram(at: np.ndarray, w: np.ndarray | None, cols: int) -> np.ndarray:
    """``a' diag(w) a[:, :cols]`` from the transposed design ``at`` (k x n), summed over
    fixed blocks of ``_ROWS`` respondents (``w=None``: unit weights)."""
    out = np.zeros((at.shape[0], cols))
    for start in range(0, at.shape[1], _ROWS):
        blk = at[:, start : start + _ROWS]
        out += (blk if w is None else blk * w[start : start + _ROWS]) @ blk[:cols].T
    return out


def _cols(at: np.ndarray, complete: bool) -> int:
    """Columns of the gram that :func:`_moments` reads: all of ``[1, x]``, or ``[x0, m]``."""
    return at.shape[0] if complete else 2 * at.shape[0] // 3


def _moments(grams: np.ndarray, p: int, complete: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete covariance and correlation (B x p x p) from stacked :func:`_gram` results."""
    b = grams.shape[0]
    if complete:
        count = np.broadcast_to(grams[:, :1, :1], (b, p, p))
        s = np.broadcast_to(grams[:, 0, 1:, None], (b, p, p))
        cross = grams[:, 1:, 1:]
        sq = np.broadcast_to(np.diagonal(cross, axis1=1, axis2=2)[:, :, None], (b, p, p))
    else:
        cross = grams[:, :p, :p]  # sum of x_i x_j over rows where both are observed
        count = grams[:, p : 2 * p, p : 2 * p]  # N_ij
        s = grams[:, :p, p : 2 * p]  # S_ij = sum of x_i over rows where both i and j are observed
        sq = grams[:, 2 * p :, p : 2 * p]  # sum of x_i^2 over rows where both are observed
    st = np.swapaxes(s, 1, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (cross - s * st / count) / (count - 1)
        var_i = (sq - s**2 / count) / (count - 1)
        corr = cov / np.sqrt(var_i * np.swapaxes(var_i, 1, 2))
    return cov, corr


def _pairwise_moments(x: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete covariance and correlation for each row of ``weights``.

    ``weights`` (B x n) are case counts (``None``: one row of ones, the data as they
    are; bootstrap: multinomial counts). For items i, j only rows where both are
    observed enter; the correlation uses the SDs on those same rows (as R
    ``cor(use = "pairwise")``). Returns (B x p x p) arrays. Memory is O(n p) whatever B.
    """
    at, complete = _design(x)
    rows = [None] if weights is None else list(np.asarray(weights, dtype=float))
    return _moments(np.stack([_gram(at, w, _cols(at, complete)) for w in rows]), x.shape[1], complete)


def _one_factor(corr: np.ndarray, *, tol: float = 1e-10, max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """One-factor minres (unweighted least squares) loadings for a batch of correlation matrices.

    Iterated principal axes: put the communalities on the diagonal, take the first
    eigenpair, update the communalities; the fixed point is the minres (ULS) solution
    that ``psych::fa(r, 1, fm = "minres")`` finds. Communalities are capped at 0.995 as
    psych's bound on the uniquenesses. Returns loadings (B x p, sum made positive) and a
    boolean convergence flag per matrix.
    """
    b, p, _ = corr.shape
    diag = np.arange(p)
    h = np.where(np.eye(p, dtype=bool), 0.0, np.abs(corr)).max(axis=2)
    lam = np.zeros((b, p))
    converged = np.zeros(b, dtype=bool)
    active = np.arange(b)
    for _ in range(max_iter):
        work_a = corr[active]  # fancy indexing copies
        work_a[:, diag, diag] = h[active]
        vals, vecs = np.linalg.eigh(work_a)
        lam_a = vecs[:, :, -1] * np.sqrt(np.clip(vals[:, -1], 0.0, None))[:, None]
        h_new = np.minimum(lam_a**2, _MAX_COMMUNALITY)
        done = np.abs(h_new - h[active]).max(axis=1) < tol
        h[active] = h_new
        lam[active] = lam_a
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    lam = lam * np.where(lam.sum(axis=1) < 0, -1.0, 1.0)[:, None]
    return lam, converged


def _omega_from_loadings(lam: np.ndarray) -> np.ndarray:
    """McDonald's omega total of a one-factor model on the correlation scale."""
    common = lam.sum(axis=1) ** 2
    return common / (common + (1.0 - lam**2).sum(axis=1))


def omega_total(items: pd.DataFrame | np.ndarray, *, missing: str = "listwise") -> float:
    """McDonald's omega total from a one-factor minres model.

    ``omega = (sum lambda)^2 / ((sum lambda)^2 + sum psi)`` with standardised loadings
    ``lambda`` and uniquenesses ``psi = 1 - lambda^2`` of one factor fitted to the item
    correlations by minres (unweighted least squares), as ``psych::fa(fm = "minres")``.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Item scores, already reverse-keyed (rows = respondents).
    missing : {"listwise", "pairwise"}
        Complete cases, or pairwise-complete correlations.

    Returns
    -------
    float

    Notes
    -----
    R equivalent: ``psych::omega(x, nfactors = 1)$omega.tot``. psych divides by the
    observed total variance ``sum(R)`` instead of the model-implied one; the two differ
    by the residual correlations of the one-factor model (typically below 0.001).

    Examples
    --------
    >>> import numpy as np
    >>> from lerendtransformeren import scales
    >>> r = np.full((4, 4), 0.49) + np.eye(4) * 0.51  # loadings 0.7 exactly
    >>> x = np.random.default_rng(1).multivariate_normal(np.zeros(4), r, size=5000)
    >>> round(scales.omega_total(x), 2)  # population value 2.8^2 / (2.8^2 + 4 * 0.51)
    0.79
    """
    if missing not in _MISSING:
        raise SpecificationError(f"missing must be one of {_MISSING}, got {missing!r}.")
    x = np.asarray(items, dtype=float)
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    _, corr = _pairwise_moments(x)
    lam, ok = _one_factor(corr)
    if not ok[0]:
        warnings.warn("one-factor minres fit did not converge; omega is unreliable.", ConvergenceWarning, stacklevel=2)
    return float(_omega_from_loadings(lam)[0])


def _boot_omegas(
    x: np.ndarray, n_boot: int, rng: np.random.Generator, *, batch: int = _BATCH, progress: bool = False, desc: str = ""
) -> np.ndarray:
    """Omega total of ``n_boot`` bootstrap resamples of the rows of ``x`` (failed fits dropped).

    Resample ``b`` takes the ``b``-th block of ``n`` draws of ``rng.integers(0, n)``, the
    same stream as one ``(n_boot, n)`` call, and enters only through its case counts and
    the weighted cross-products :func:`_gram`: peak memory is O(n p) (data, design and
    one resample's counts), never O(n_boot n). ``batch`` (resamples per batch of factor
    fits) changes neither the draws nor the arithmetic of any resample, so not the result.
    """
    n, p = x.shape
    at, complete = _design(x)
    cols = _cols(at, complete)
    omegas = []
    with progress_bar(n_boot, desc=desc, unit="resample", show=progress) as bar:
        for start in range(0, n_boot, batch):
            size = min(batch, n_boot - start)
            grams = np.empty((size, at.shape[0], cols))
            for i in range(size):
                grams[i] = _gram(at, np.bincount(rng.integers(0, n, size=n), minlength=n).astype(float), cols)
                bar.update()
            _, corr_b = _moments(grams, p, complete)
            usable = np.isfinite(corr_b).all(axis=(1, 2))
            lam_b, ok_b = _one_factor(np.where(usable[:, None, None], corr_b, np.eye(p)))
            omegas.append(_omega_from_loadings(lam_b)[usable & ok_b])
    return np.concatenate(omegas) if omegas else np.empty(0)


def _seeded(seed: int | np.random.Generator | None) -> tuple[np.random.Generator, int | None]:
    """The generator and the seed to record: ``seed=None`` draws fresh entropy and records it."""
    if isinstance(seed, np.random.Generator):
        return seed, None
    used = int(np.random.SeedSequence().entropy if seed is None else seed)
    return np.random.default_rng(used), used


def _alpha_from_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return k / (k - 1) * (1.0 - np.trace(cov) / cov.sum())


def _item_table(cov: np.ndarray, x: np.ndarray, names: list[str], reversed_: set[str]) -> pd.DataFrame:
    """Item-rest correlation and alpha if item deleted, from the covariance matrix (as psych::alpha)."""
    k = cov.shape[0]
    rows = []
    for i in range(k):
        rest = [j for j in range(k) if j != i]
        cov_item_rest = cov[i, rest].sum()
        var_rest = cov[np.ix_(rest, rest)].sum()
        col = x[:, i][~np.isnan(x[:, i])]
        rows.append(
            {
                "item": names[i],
                "reversed": names[i] in reversed_,
                "n": col.size,
                "mean": col.mean(),
                "sd": col.std(ddof=1),
                "r_drop": cov_item_rest / np.sqrt(cov[i, i] * var_rest),
                "alpha_if_deleted": _alpha_from_cov(cov[np.ix_(rest, rest)]) if k > 2 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def reliability(
    df: pd.DataFrame,
    code: str | Instrument,
    *,
    missing: str = "listwise",
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    prefix: str | None = None,
    value_labels: Mapping[str, float] | None = None,
    progress: bool = False,
) -> ReliabilityResult:
    """Cronbach's alpha and omega total per score, with item statistics.

    Every item-based score of the instrument is analysed (a composite such as SDQ total
    difficulties on the union of its items), after reverse keying.

    Missing data: with ``missing="listwise"`` (default) every statistic uses the
    respondents who answered all items of that score (``n_complete``). With
    ``"pairwise"`` the covariances and correlations use, per item pair, everyone who
    answered both (``n_pairwise`` is the smallest such count), as ``psych::alpha``'s
    default; the alpha CI then still uses the number of rows.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw item columns, as for :func:`score`.
    code : str or Instrument
    missing : {"listwise", "pairwise"}
    ci : float
        Confidence level of both intervals.
    n_boot : int
        Bootstrap resamples of respondents for the omega interval (percentile method);
        0 skips the bootstrap. Peak memory grows with the respondents, not with
        ``n_boot`` times the respondents (each resample enters through its case counts).
    seed : int or numpy.random.Generator, optional
        Seed of the bootstrap; the same seed gives the same interval. ``None`` draws
        fresh entropy, recorded as ``result.seed``.
    prefix, value_labels
        As in :func:`score`.
    progress : bool
        Show a progress bar over the resamples (tqdm: a widget in Jupyter with ipywidgets
        installed, text otherwise); off by default.

    Returns
    -------
    ReliabilityResult
        ``scales``: one row per score with ``n_items, n_complete, n_pairwise, missing,
        alpha, alpha_ci_low, alpha_ci_high`` (pingouin.cronbach_alpha; pingouin rounds
        the Feldt CI to 3 decimals), ``omega_total, omega_ci_low, omega_ci_high,
        n_boot_ok`` (resamples whose fit converged). ``items``: one row per score and
        item with ``reversed, n, mean, sd, r_drop`` (item-rest correlation) and
        ``alpha_if_deleted``. ``seed``: the seed used.

    Notes
    -----
    R equivalents: ``psych::alpha(x)`` (``raw_alpha``, ``r.drop``,
    ``alpha.drop$raw_alpha``) and ``psych::omega(x, nfactors = 1)`` (see
    :func:`omega_total` for the small difference in the denominator).

    Examples
    --------
    >>> import pandas as pd
    >>> from lerendtransformeren import scales
    >>> df = pd.DataFrame({"collab_01": [1, 2, 3, 4, 5, 3], "collab_02": [2, 2, 3, 5, 4, 3],
    ...                    "collab_03": [1, 3, 3, 4, 5, 2], "collab_04": [1, 2, 4, 4, 5, 3],
    ...                    "collab_05": [2, 1, 3, 4, 4, 3]})
    >>> res = scales.reliability(df, "collab", n_boot=200, seed=1)
    >>> res.scales[["score", "n_complete", "alpha"]].round(3)  # psych::alpha(x)$total$raw_alpha
      score  n_complete  alpha
    0  mean           6  0.959
    >>> res.seed  # recorded for the provenance; with seed=None the entropy drawn
    1
    """
    if missing not in _MISSING:
        raise SpecificationError(f"missing must be one of {_MISSING}, got {missing!r}.")
    if not 0 < ci < 1:
        raise SpecificationError(f"ci must lie in (0, 1), got {ci}.")
    if n_boot < 0:
        raise SpecificationError(f"n_boot must be 0 or more, got {n_boot}.")
    if not isinstance(code, (str, Instrument)):
        raise SpecificationError(f"reliability() takes one instrument (a code or an Instrument), got {code!r}.")
    (inst,) = _resolve(code)
    targets = [s for s in inst.scores if s.aggregation != "kiresuk_sherman" and len(inst.score_items(s.name)) > 1]
    if not targets:
        raise SpecificationError(f"instrument {inst.code!r} has no multi-item score; reliability does not apply.")
    block = _item_block(df, inst, prefix or "", value_labels)
    rng, used_seed = _seeded(seed)
    reversed_ = set(inst.reverse)
    scale_rows, item_tables = [], []
    for s in targets:
        names = list(inst.score_items(s.name))
        x = block[:, [inst.items.index(i) for i in names]]
        observed = ~np.isnan(x)
        complete = observed.all(axis=1)
        n_pairwise = int((observed.T.astype(int) @ observed.astype(int)).min())
        if missing == "listwise":
            x = x[complete]
        x = x[~np.isnan(x).all(axis=1)]
        if x.shape[0] < 3 or n_pairwise < 3:
            raise DataError(
                f"instrument {inst.code!r}, score {s.name!r}: fewer than 3 respondents answered "
                f"(complete cases: {int(complete.sum())}); reliability cannot be estimated."
            )
        cov, corr = _pairwise_moments(x)
        # pingouin loads matplotlib, seaborn and xarray: import it where it is used.
        import pingouin as pg

        alpha, alpha_ci = pg.cronbach_alpha(data=pd.DataFrame(x, columns=names), nan_policy=missing, ci=ci)
        lam, ok = _one_factor(corr)
        if not ok[0]:
            warnings.warn(
                f"{inst.code} {s.name}: one-factor minres fit did not converge; omega is unreliable.",
                ConvergenceWarning,
                stacklevel=2,
            )
        omega = float(_omega_from_loadings(lam)[0])
        lo = hi = np.nan
        n_ok = 0
        if n_boot:
            boot = _boot_omegas(x, n_boot, rng, progress=progress, desc=f"{inst.code} {s.name}")
            n_ok = boot.size
            lo, hi = np.quantile(boot, [(1 - ci) / 2, (1 + ci) / 2]) if n_ok else (np.nan, np.nan)
        scale_rows.append(
            {
                "instrument": inst.code,
                "score": s.name,
                "n_items": len(names),
                "n_complete": int(complete.sum()),
                "n_pairwise": n_pairwise,
                "missing": missing,
                "alpha": alpha,
                "alpha_ci_low": alpha_ci[0],
                "alpha_ci_high": alpha_ci[1],
                "omega_total": omega,
                "omega_ci_low": lo,
                "omega_ci_high": hi,
                "n_boot_ok": n_ok,
            }
        )
        items = _item_table(cov[0], x, names, reversed_)
        items.insert(0, "score", s.name)
        items.insert(0, "instrument", inst.code)
        item_tables.append(items)
    return ReliabilityResult(pd.DataFrame(scale_rows), pd.concat(item_tables, ignore_index=True), missing, used_seed)
