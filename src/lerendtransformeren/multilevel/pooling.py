"""Pooled inference over multiply imputed data: Rubin's rules and the D1 Wald test.

Fit the same model on every imputed data set, then pool the fits: :func:`pool` gives the
pooled fixed effects (Rubin 1987), with Barnard & Rubin's (1999) small-sample df when the
complete-data df are given, and the mean of every variance component; ``pooled.wald(terms)``
(or :func:`pool_wald`) tests several terms jointly with the D1 statistic (Li, Raghunathan &
Rubin 1991; Reiter's 2007 df when the complete-data df are given). :func:`rubin` and
:func:`wald_d1` do the same on arrays of estimates and covariance matrices, whatever model
they came from.

Per term, over ``m`` imputations with estimates ``q_i`` and variances ``u_i``:

* pooled estimate ``qbar = mean(q_i)``; within variance ``W = mean(u_i)``; between variance
  ``B = var(q_i)`` (denominator ``m - 1``); total ``T = W + (1 + 1/m) B``; ``se = sqrt(T)``;
* relative increase in variance ``riv = (1 + 1/m) B / W``; ``lambda = (1 + 1/m) B / T``;
* df: without complete-data df ``nu_old = (m - 1) (1 + 1/riv)^2`` (Rubin 1987); with
  complete-data df ``nu_com``, Barnard-Rubin ``1 / (1/nu_old + 1/nu_obs)`` with
  ``nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda)``;
* ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``, the fraction of missing information as
  mitml 0.4 (``testEstimates``) and mice 3.15 (``pool``) both define it; without
  complete-data df and with ``df`` infinite it equals ``lambda``.

mice floors ``lambda`` at 1e-4 before its df (so that ``B = 0`` gives a large finite df);
this module follows mitml and gives an infinite df (normal reference) when ``B = 0``.

R equivalents: ``mitml::testEstimates(fits, extra.pars = TRUE, df.com = ...)``,
``mice::pool(fits, dfcom = ...)``, ``mitml::testModels(fit, fit0, method = "D1", df.com = ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel.display import pooled_view
from lerendtransformeren.multilevel.results import MultilevelResult
from lerendtransformeren.presenters import present

__all__ = ["pool", "pool_wald", "rubin", "wald_d1", "PooledResult", "RubinPooled"]

#: Spellings of ``df_complete`` that take the df of the fits themselves.
_FIT_DF = {"fits": None, "satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger"}
_FIXED_COLUMNS = ["estimate", "se", "df", "t", "p", "ci_low", "ci_high", "riv", "lambda", "fmi"]


@dataclass
class RubinPooled:
    """Rubin's rules applied to ``m`` sets of estimates (see :func:`rubin`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per parameter: estimate, se, df, t, p, ci_low, ci_high, riv, lambda, fmi, and the
        variances within, between and total.
    within, between, total : ndarray (p, p)
        Mean covariance ``W``, between-imputation covariance ``B`` and ``W + (1 + 1/m) B``.
    estimates : ndarray (m, p)
    covariances : ndarray (m, p, p)
    df_complete : ndarray (p,) or None
    """

    table: pd.DataFrame
    within: np.ndarray
    between: np.ndarray
    total: np.ndarray
    estimates: np.ndarray
    covariances: np.ndarray
    df_complete: np.ndarray | None

    @property
    def m(self) -> int:
        return self.estimates.shape[0]


def _as_arrays(estimates, covariances) -> tuple[np.ndarray, np.ndarray]:
    Q = np.asarray(estimates, dtype=float)
    if Q.ndim == 1:
        Q = Q[:, None]
    if Q.ndim != 2:
        raise SpecificationError("estimates must be an (m, p) array: one row per imputation.")
    m, p = Q.shape
    if m < 2:
        raise SpecificationError(f"Pooling needs at least 2 imputations; got {m}.")
    U = np.asarray(covariances, dtype=float)
    if U.ndim == 1 and p == 1:
        U = U[:, None]
    if U.shape == (m, p):  # variances only
        U = np.stack([np.diag(u) for u in U])
    if U.shape != (m, p, p):
        raise SpecificationError(f"covariances must be (m, p, p) or (m, p) with m = {m}, p = {p}; got shape "
                                 f"{U.shape}.")
    if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(U))):
        raise SpecificationError("The estimates and covariances must be finite (a fit failed?).")
    return Q, U


def _df_complete(df_complete, p: int) -> np.ndarray | None:
    if df_complete is None:
        return None
    dfc = np.broadcast_to(np.asarray(df_complete, dtype=float), (p,)).copy() if np.ndim(df_complete) == 0 \
        else np.asarray(df_complete, dtype=float)
    if dfc.shape != (p,):
        raise SpecificationError(f"df_complete must be one number or one per term ({p}); got {dfc.shape[0]} values.")
    if np.any(~(dfc > 0)):
        raise SpecificationError("df_complete must be positive (np.inf for a large sample).")
    return dfc


def rubin(estimates, covariances, df_complete=None, *, names=None, conf_level: float = 0.95) -> RubinPooled:
    """Pool ``m`` sets of estimates and covariance matrices by Rubin's rules.

    Parameters
    ----------
    estimates : array (m, p)
        One row per imputed data set.
    covariances : array (m, p, p) or (m, p)
        The covariance matrix of each row's estimates, or their variances only.
    df_complete : float or array (p,), optional
        Complete-data df (``np.inf`` allowed): Barnard-Rubin df. None: Rubin's (1987) df.
    names : sequence of str, optional
        Parameter names (the table's index).
    conf_level : float, default 0.95

    Returns
    -------
    RubinPooled

    R equivalent: ``mitml::testEstimates(qhat = Q, uhat = U, df.com = df_complete)``.
    """
    if not 0 < conf_level < 1:
        raise SpecificationError(f"conf_level must be between 0 and 1; got {conf_level}.")
    Q, U = _as_arrays(estimates, covariances)
    m, p = Q.shape
    dfc = _df_complete(df_complete, p)
    qbar = Q.mean(axis=0)
    W = U.mean(axis=0)
    B = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    T = W + (1 + 1 / m) * B
    w, b, tot = np.diag(W), np.diag(B), np.diag(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1 + 1 / m) * b / w
        lam = (1 + 1 / m) * b / tot
        df = (m - 1) * (1 + 1 / riv) ** 2
        if dfc is not None:
            df_obs = np.where(np.isinf(dfc), np.inf, (dfc + 1) / (dfc + 3) * dfc * (1 - lam))
            df = 1 / (1 / df + 1 / df_obs)
        fmi = (riv + 2 / (df + 3)) / (riv + 1)
    se = np.sqrt(tot)
    tval = qbar / se
    crit = stats.t.ppf(0.5 + conf_level / 2, df)
    table = pd.DataFrame(
        {"estimate": qbar, "se": se, "df": df, "t": tval, "p": 2 * stats.t.sf(np.abs(tval), df),
         "ci_low": qbar - crit * se, "ci_high": qbar + crit * se, "riv": riv, "lambda": lam, "fmi": fmi,
         "within": w, "between": b, "total": tot},
        index=pd.Index(list(names) if names is not None else [f"par{j + 1}" for j in range(p)], name="term"),
    )
    return RubinPooled(table, W, B, T, Q, U, dfc)


def wald_d1(estimates, covariances, df_complete: float | None = None) -> pd.Series:
    """D1: pooled Wald test that all ``p`` parameters are 0 (Li, Raghunathan & Rubin 1991).

    ``riv = (1 + 1/m) tr(B W^-1) / p``, ``F = qbar' W^-1 qbar / (p (1 + riv))`` on ``p`` and
    ``df2`` df: without ``df_complete`` Li et al.'s ``4 + (t - 4) (1 + (1 - 2/t) / riv)^2``
    with ``t = p (m - 1)`` (``t (1 + 1/p) (1 + 1/riv)^2 / 2`` when ``t <= 4``), with it
    Reiter's (2007) df (``np.inf`` gives Li et al.'s). Reiter's df needs ``t > 4``; for one
    parameter with ``m <= 5`` the test uses Barnard-Rubin's df instead (``F`` is then the
    square of the pooled t and the test is the pooled t-test; mitml gives no finite df there).

    Parameters
    ----------
    estimates : array (m, p)
    covariances : array (m, p, p)
    df_complete : float, optional

    Returns
    -------
    pandas.Series
        ``F``, ``df1``, ``df2``, ``p``, ``riv``.

    R equivalent: ``mitml::testModels(fit, fit0, method = "D1", df.com = df_complete)``
    (the parameters are those in ``fit`` and not in ``fit0``).
    """
    Q, U = _as_arrays(estimates, covariances)
    m, k = Q.shape
    if df_complete is not None and not (np.ndim(df_complete) == 0 and float(df_complete) > 0):
        raise SpecificationError(f"df_complete of a joint test must be one positive number; got {df_complete!r}.")
    qbar, W = Q.mean(axis=0), U.mean(axis=0)
    B = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    riv = (1 + 1 / m) * float(np.trace(np.linalg.solve(W, B))) / k
    F = float(qbar @ np.linalg.solve((1 + riv) * W, qbar)) / k
    t = k * (m - 1)
    if df_complete is not None and np.isinf(float(df_complete)):
        df_complete = None  # Reiter's df tends to Li et al.'s as the complete-data df grow
    if df_complete is not None and t <= 4 and k == 1:
        # Reiter's formula needs t > 4; for one parameter F = t^2 and Barnard-Rubin's df make
        # the test the pooled t-test
        lam = riv / (1 + riv)
        dfc = float(df_complete)
        df2 = 1 / (1 / ((m - 1) / lam**2) + 1 / ((dfc + 1) / (dfc + 3) * dfc * (1 - lam))) if riv > 0 else \
            (dfc + 1) / (dfc + 3) * dfc
    elif df_complete is not None:
        if t <= 4:
            raise SpecificationError(f"Reiter's df needs k (m - 1) > 4 (here {k} x {m - 1}); use more "
                                     "imputations or df_complete=None.")
        df2 = _reiter_df2(riv, t, float(df_complete))
    elif t > 4:
        df2 = 4 + (t - 4) * (1 + (1 - 2 / t) / riv) ** 2 if riv > 0 else np.inf
    else:
        df2 = t * (1 + 1 / k) * (1 + 1 / riv) ** 2 / 2 if riv > 0 else np.inf
    return pd.Series({"F": F, "df1": float(k), "df2": df2, "p": float(stats.f.sf(F, k, df2)), "riv": riv},
                     name="D1")


def _reiter_df2(riv: float, t: int, df_complete: float) -> float:
    """Reiter's (2007) denominator df of D1 with complete-data df (as mitml's ``.D1``)."""
    a = riv * t / (t - 2)
    vstar = (df_complete + 1) / (df_complete + 3) * df_complete
    c0, c1, c2 = 1 / (t - 4), vstar - 2 * (1 + a), vstar - 4 * (1 + a)
    z = (1 / c2 + c0 * (a**2 * c1 / ((1 + a) ** 2 * c2))
         + c0 * (8 * a**2 * c1 / ((1 + a) * c2**2) + 4 * a**2 / ((1 + a) * c2))
         + c0 * (4 * a**2 / (c2 * c1) + 16 * a**2 * c1 / c2**3) + c0 * (8 * a**2 / c2**2))
    return 4 + 1 / z


@dataclass
class PooledResult:
    """Fits on ``m`` imputed data sets pooled by Rubin's rules (see :func:`pool`).

    Attributes
    ----------
    fixed : pandas.DataFrame
        Per term: estimate, se, df, t, p, ci_low, ci_high, riv, lambda, fmi.
    variance : pandas.DataFrame or None
        Each variance component averaged over the fits (mitml's ``extra.pars``): ``variance``
        the mean variance, ``sd`` its square root, ``corr ...`` from the mean covariance.
        None for models without variance components (GEE).
    m : int
    notes : list of str
        The number of imputations, the df rule and the complete-data df used.
    pooled : RubinPooled
        The arrays behind ``fixed`` (within, between, total covariance).
    """

    fixed: pd.DataFrame
    variance: pd.DataFrame | None
    m: int
    notes: list[str]
    pooled: RubinPooled
    formula: str = ""
    conf_level: float = 0.95
    kind: str = ""
    df_rule: str = field(default="")
    #: Reference category per treatment-coded factor (from the first fit's model frame).
    references: dict = field(default_factory=dict)
    #: How the data sets were imputed, when they came from ``lt.impute`` (set by ``fit``):
    #: the sampler's settings (m, variables, levels, predictors, chains, burn, between)
    #: and ``rhat``, the largest R-hat of its parameters. Empty otherwise.
    imputation: dict = field(default_factory=dict)

    def wald(self, terms) -> pd.Series:
        """D1 test that ``terms`` (fixed-effect names) are jointly 0; see :func:`wald_d1`.

        With per-term complete-data df, the test uses the mean of those of ``terms``.
        """
        terms = [terms] if isinstance(terms, str) else list(terms)
        names = list(self.fixed.index)
        unknown = [t for t in terms if t not in names]
        if unknown or not terms:
            raise SpecificationError(f"Unknown term(s) {unknown} for the pooled Wald test; the terms are {names}.")
        idx = [names.index(t) for t in terms]
        dfc = self.pooled.df_complete
        out = wald_d1(self.pooled.estimates[:, idx], self.pooled.covariances[np.ix_(range(self.m), idx, idx)],
                      None if dfc is None else float(np.mean(dfc[idx])))
        out.attrs["terms"] = terms
        return out

    def report(self, lang: str = "nl", *, labels=None) -> str:
        """APA-style sentences on the pooled fixed effects, the variance partition and the pooling.

        Written by the presentation layer (``present("pooled.report", ...)``), as
        :meth:`MultilevelResult.report`: one sentence per fixed effect with its pooled
        estimate, interval, t(df) and p; the variance partition of the mean variance
        components; and a sentence on the number of imputations, the df rule and the
        largest fraction of missing information.

        Examples
        --------
        >>> import numpy as np
        >>> from lerendtransformeren.synthetic import nested_example
        >>> from lerendtransformeren.multilevel import fit
        >>> d = nested_example()
        >>> rng = np.random.default_rng(1)
        >>> sets = [d.assign(y=d["y"] + rng.normal(0, 0.1, len(d))) for _ in range(3)]
        >>> print(fit("y ~ wave + (1 | org/team)", sets).report(lang="en"))  # doctest: +ELLIPSIS
        The effect of time (per wave) was b = ... Estimates were pooled over m = 3 imputed data sets by Rubin's rules ...
        """
        return present("pooled.report", self, lang=lang, labels=labels)

    def __repr__(self) -> str:
        return pooled_view(self).text()

    def _repr_html_(self) -> str:
        return pooled_view(self).html()


def _covariance(result) -> np.ndarray:
    """The covariance matrix behind ``result.fixed["se"]``."""
    if isinstance(result, MultilevelResult):
        cov = result.kenward_roger.vcov_adj if result.ddf == "Kenward-Roger" else result.satterthwaite.vcov
    elif hasattr(result, "vcov"):  # GLMMResult
        cov = result.vcov
    elif hasattr(result, "cov"):  # GEEResult
        cov = result.cov
    else:
        raise SpecificationError(f"Cannot pool a {type(result).__name__}: it has no covariance matrix of its fixed "
                                 "effects (vcov or cov). Use rubin() with the estimates and covariances.")
    cov = np.asarray(cov, dtype=float)
    se = result.fixed["se"].to_numpy(dtype=float)
    if cov.shape != (len(se), len(se)) or not np.allclose(np.sqrt(np.diag(cov)), se, rtol=1e-6, atol=0):
        raise SpecificationError(f"The covariance matrix of this {type(result).__name__} does not match its "
                                 "standard errors; pool with rubin() instead.")
    return cov


def _check_terms(results) -> list[str]:
    names = list(results[0].fixed.index)
    for i, r in enumerate(results[1:], start=2):
        other = list(r.fixed.index)
        if other != names:
            missing = [t for t in names if t not in other]
            extra = [t for t in other if t not in names]
            what = (f"fit {i} lacks {missing} and has {extra} that fit 1 lacks" if missing or extra
                    else "the same terms in another order")
            raise SpecificationError(
                f"All fits must have the same fixed effects; {what}. A factor category that is missing "
                "in one imputed data set gives a different design: fit the same formula with the same "
                "categories (e.g. pandas Categorical) on every data set.")
    return names


def _pooled_variance(results) -> pd.DataFrame | None:
    tables = [getattr(r, "variance", None) for r in results]
    if any(not isinstance(t, pd.DataFrame) or "variance" not in t.columns for t in tables):
        return None
    index = tables[0].index
    if any(not t.index.equals(index) for t in tables[1:]):
        raise SpecificationError("The fits have different variance components; fit the same random part on "
                                 "every imputed data set.")
    var = np.mean([t["variance"].to_numpy(dtype=float) for t in tables], axis=0)
    out = pd.DataFrame({"variance": var, "sd": np.sqrt(var)}, index=index)
    for col in [c for c in tables[0].columns if str(c).startswith("corr ")]:
        other = str(col)[5:]
        covs = []
        for t in tables:
            sd_other = np.array([t["sd"].get((g, other), np.nan) for g, _ in t.index])
            covs.append(t[col].to_numpy(dtype=float) * t["sd"].to_numpy(dtype=float) * sd_other)
        var_other = np.array([out["variance"].get((g, other), np.nan) for g, _ in index])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[col] = np.mean(covs, axis=0) / np.sqrt(var * var_other)
    return out


def _fit_df(results, rule: str | None):
    """Each fit's df column (after ``with_ddf(rule)`` for linear mixed models), and the fits used."""
    if rule is not None:
        if not all(isinstance(r, MultilevelResult) for r in results):
            raise SpecificationError(f"df_complete={rule.lower()!r} needs linear mixed models (fit); use "
                                     "df_complete='fits' to take the df column of these fits.")
        results = [r if r.ddf == rule else r.with_ddf(rule) for r in results]
    if any("df" not in r.fixed.columns for r in results):
        raise SpecificationError("df_complete='fits' needs fits with a df column in .fixed (these give z-tests); "
                                 "give df_complete as a number or None.")
    df = np.mean([r.fixed["df"].to_numpy(dtype=float) for r in results], axis=0)
    if not np.all(np.isfinite(df)):
        raise SpecificationError("Some fits have no finite df; give df_complete as a number or None.")
    return results, df


def pool(results, df_complete=None, conf_level: float = 0.95) -> PooledResult:
    """Pool models fitted on ``m`` imputed data sets by Rubin's rules.

    Parameters
    ----------
    results : list of MultilevelResult, GLMMResult or GEEResult
        The same model fitted on every imputed data set (at least 2).
    df_complete : None, float, array, pandas.Series or str
        Complete-data df for Barnard & Rubin's (1999) df. None: Rubin's (1987) df (the
        large-sample rule). A number or one per term (a Series is matched on the term
        names), as mitml's ``df.com``. ``"fits"``: the df column of the fits, averaged over
        them, per term; ``"satterthwaite"`` or ``"kenward-roger"``: the same after
        ``with_ddf`` (linear mixed models; with Kenward-Roger the adjusted covariances are
        pooled too).
    conf_level : float, default 0.95

    Returns
    -------
    PooledResult

    Examples
    --------
    >>> import numpy as np
    >>> from lerendtransformeren.synthetic import nested_example
    >>> from lerendtransformeren.multilevel import fit, pool
    >>> d = nested_example()
    >>> rng = np.random.default_rng(1)
    >>> fits = [fit("y ~ wave + (1 | org/team)", d.assign(y=d["y"] + rng.normal(0, 0.1, len(d))))
    ...         for _ in range(3)]
    >>> pooled = pool(fits, df_complete="satterthwaite")
    >>> list(pooled.fixed.columns)
    ['estimate', 'se', 'df', 't', 'p', 'ci_low', 'ci_high', 'riv', 'lambda', 'fmi']
    >>> pooled.notes[0]
    "Pooled over m = 3 imputations by Rubin's rules; Barnard-Rubin df with the complete-data df of the fits ..."
    >>> pooled.wald(["wave"]).index.tolist()
    ['F', 'df1', 'df2', 'p', 'riv']

    R equivalent: ``mitml::testEstimates(fits, extra.pars = TRUE, df.com = df_complete)``
    (``mice::pool(fits, dfcom = df_complete)`` gives the same numbers).
    """
    results = list(results)
    if len(results) < 2:
        raise SpecificationError(f"pool needs the fits on at least 2 imputed data sets; got {len(results)}.")
    kinds = {type(r).__name__ for r in results}
    if len(kinds) > 1:
        raise SpecificationError(f"All fits must be of one kind; got {sorted(kinds)}.")
    names = _check_terms(results)
    if isinstance(df_complete, str):
        key = df_complete.lower()
        if key not in _FIT_DF:
            raise SpecificationError(f"df_complete={df_complete!r} is not known; use None, a number, one per term, "
                                     f"or one of {list(_FIT_DF)}.")
        results, dfc = _fit_df(results, _FIT_DF[key])
        rule = f"Barnard-Rubin df with the complete-data df of the fits ({key}), averaged over the imputations"
    elif isinstance(df_complete, pd.Series):
        missing = [t for t in names if t not in df_complete.index]
        if missing:
            raise SpecificationError(f"df_complete has no value for {missing}.")
        dfc, rule = df_complete[names].to_numpy(dtype=float), "Barnard-Rubin df"
    else:
        dfc, rule = df_complete, "Barnard-Rubin df" if df_complete is not None else "Rubin (1987) df"
    Q = np.array([r.fixed["estimate"].to_numpy(dtype=float) for r in results])
    U = np.array([_covariance(r) for r in results])
    pooled = rubin(Q, U, dfc, names=names, conf_level=conf_level)
    notes = [f"Pooled over m = {len(results)} imputations by Rubin's rules; {rule}."]
    if pooled.df_complete is not None:
        used = pooled.df_complete
        shown = f"{used[0]:.6g}" if np.all(used == used[0]) else ", ".join(f"{t} {v:.4g}" for t, v in zip(names, used))
        notes.append(f"Complete-data df: {shown}.")
    variance = _pooled_variance(results)
    if variance is not None:
        notes.append("Variance components: the mean over the imputations (as mitml); no test.")
    first = results[0]
    frame = getattr(first, "frame", None)
    references = dict(frame.factor_references()) if hasattr(frame, "factor_references") else {}
    return PooledResult(pooled.table[_FIXED_COLUMNS], variance, len(results), notes, pooled,
                        formula=str(getattr(first, "formula", "")), conf_level=conf_level, kind=kinds.pop(),
                        df_rule=rule, references=references)


def pool_wald(results, terms, df_complete=None) -> pd.Series:
    """D1 test that ``terms`` are jointly 0 over the fits on imputed data: ``pool(results, df_complete).wald(terms)``.

    R equivalent: ``mitml::testModels(fits, fits_without_terms, method = "D1", df.com = df_complete)``.
    """
    return pool(results, df_complete).wald(terms)
