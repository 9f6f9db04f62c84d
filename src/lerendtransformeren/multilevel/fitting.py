"""Fitting a mixed model: :func:`fit` (the nested engine, or statsmodels MixedLM; GLMMs with ``family``).

:func:`fit` builds the model frame (:mod:`~lerendtransformeren.multilevel.frame`), fits it
with :class:`~lerendtransformeren.multilevel.engine.NestedEngine` and returns a
:class:`~lerendtransformeren.multilevel.results.MultilevelResult`. It is re-exported as
``lerendtransformeren.multilevel.fit`` and ``lerendtransformeren.fit``.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import DataError, EngineFallbackWarning, SpecificationError
from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.fit_base import NestedFit
from lerendtransformeren.multilevel.formula import parse_formula
from lerendtransformeren.multilevel.frame import build_frame, capture_context, level_index
from lerendtransformeren.multilevel.glmm_results import fit_glmm, warn_family
from lerendtransformeren.multilevel.pooling import pool
from lerendtransformeren.multilevel.results import MultilevelResult, _check_ddf, summary_body

__all__ = ["fit", "StatsmodelsResult"]


def fit(formula: str, data: pd.DataFrame, reml: bool = True, engine: str = "nested", conf_level: float = 0.95,
        ddf: str | None = None, family: str | None = None, nagq: int = 1, transform_rows: str = "all"):
    """Fit a linear (or, with ``family``, a generalised linear) mixed model with nested random effects.

    Parameters
    ----------
    formula : str
        lme4-style formula: a fixed part in the patsy/formulaic formula language (factors,
        ``C(x, Treatment('b'))``, ``C(x, Sum)``, interactions, ``np.log(x)``, ``center(x)``,
        ``scale(x)``, ``poly(x, 2)``) plus random terms, e.g.
        ``"y ~ wave * offer + ses + (1 | organisation/team/respondent)"`` or
        ``"y ~ wave + (1 + wave | respondent) + (1 | organisation)"``. Name the columns:
        ``y ~ .`` is not supported.
    data : DataFrame or list of DataFrame
        Long data, one row per observation. Rows with a missing value in a variable of the
        model (NaN, None or ``pd.NA`` of a nullable column) are left out and counted
        (``result.n``). A category of a pandas Categorical without rows in the data used is
        left out of the model and named in ``result.notes``. A list of two or more frames is
        read as multiply imputed data: the model is fitted on each and the fits are pooled by
        Rubin's rules into a :class:`~.pooling.PooledResult` (linear models: Barnard-Rubin df
        from each fit's own df, as ``mitml::testEstimates(fits, df.com = <df of the fits>)``;
        GLMMs with Wald tests: Rubin's 1987 df).
    reml : bool
        REML (default) or maximum likelihood (use ML to compare fixed parts by LRT).
    engine : {"nested", "statsmodels"}
        ``"nested"``: the exact nested engine (grouping factors must be nested).
        ``"statsmodels"``: statsmodels MixedLM, for crossed factors (random intercepts
        only), with an :class:`~lerendtransformeren.exceptions.EngineFallbackWarning`; it
        gives z-tests only and returns a :class:`StatsmodelsResult` (the same model frame
        and row accounting, ``fixed``, ``variance``, ``loglik``, ``aic``, ``bic``, ``n``,
        ``summary()``, ``predict()``; statsmodels' own result in ``.statsmodels``).
    conf_level : float
        Level of the confidence intervals in ``result.fixed``.
    ddf : {None, "Satterthwaite", "Kenward-Roger", "Wald", "between-within"}
        None: ``"Satterthwaite"`` for a linear model, ``"Wald"`` for a GLMM. Linear models:
        small-sample method of ``result.fixed``, ``contrast``, ``ftest`` and ``anova``
        (lmerTest's ``ddf``). ``"Kenward-Roger"``: standard errors from the Kenward-Roger
        adjusted covariance of the fixed effects and Kenward-Roger df and F statistics
        (Kenward & Roger, 1997, as ``pbkrtest``); REML fits only. ``result.with_ddf(...)``
        switches an existing result without refitting. GLMMs: ``"Wald"`` (z-tests, as
        glmer) or ``"between-within"`` (t-tests with SAS GLIMMIX's between-within df; with
        few top-level units, see :class:`~.glmm_results.GLMMResult` ``.notes``).
    family : {None, "binomial", "poisson"}
        None: a linear mixed model. ``"binomial"`` (0/1 outcome, or bool / two-level
        factor, the second level coded 1; logit link) or ``"poisson"`` (counts; log link):
        a GLMM fitted by maximum likelihood as ``lme4::glmer`` (``reml`` does not apply;
        Wald z-tests unless ``ddf="between-within"``), see :mod:`~lerendtransformeren.multilevel.glmm`. Without a
        family, an outcome with only 0/1 values or counts with many zeros gives a
        :class:`~lerendtransformeren.exceptions.FamilyWarning`.
    nagq : int
        GLMMs only: 1 the Laplace approximation (default); 2-25 adaptive Gauss-Hermite
        quadrature with that many nodes, for a single scalar random intercept only (lme4's
        ``nAGQ``).
    transform_rows : {"all", "used"}
        The rows that data-dependent transformations in the formula are computed on:
        the mean of ``center(x)``, the mean and SD of ``scale(x)`` (R's ``scale``: SD with
        n - 1) and ``standardize(x)`` (patsy's: SD with n), the orthogonal polynomials of
        ``poly(x, 2)``. ``"all"`` (default, R's way): every row of ``data`` where ``x`` is
        observed, also rows left out of the fit because another variable is missing; this is
        what ``model.frame`` in ``lme4::lmer``/``lmerTest`` does, so the estimates equal R's.
        ``"used"``: only the rows used in the fit (after listwise deletion), so that a
        centred variable has mean 0 in the fitted rows. The two differ only when rows are
        left out; both ignore missing values of ``x`` itself. Factor levels always come from
        the rows used.

    Returns
    -------
    MultilevelResult, or GLMMResult when ``family`` is given

    Raises
    ------
    SpecificationError
        Unknown columns, crossed grouping factors (with ``engine="nested"``), a level with
        one unit, a random slope that does not vary within units, collinear fixed effects,
        an unknown ``ddf``, or ``ddf="Kenward-Roger"`` with ``reml=False``; an unknown
        ``family``, ``nagq`` outside 1..25 or ``nagq > 1`` with more than one random term.
    DataError
        No usable rows; with ``family="binomial"`` an outcome that is not 0/1, with
        ``family="poisson"`` one that is not a count (the message names the rows).

    Examples
    --------
    R: ``summary(lmerTest::lmer(y ~ wave + (1 | org/team), data = d))`` gives the same
    estimates, standard errors and df (Intercept: -0.355418, 0.1916016, 14.3122).

    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example()  # 10 organisations x 4 teams x 6 waves
    >>> res = fit("y ~ wave + (1 | org/team)", d)
    >>> res.fixed.round(3)
               estimate     se       df      t      p  ci_low  ci_high
    term
    Intercept    -0.355  0.192   14.312 -1.855  0.084  -0.766    0.055
    wave          0.193  0.035  199.000  5.530  0.000   0.124    0.262
    >>> res.n.loc["units: org:team", "n"]
    np.int64(40)

    Kenward-Roger instead (R: ``summary(m, ddf = "Kenward-Roger")`` gives se 0.1916016 and
    0.0349743, df 14.31221 and 199; in this balanced design the df equal Satterthwaite's):

    >>> fit("y ~ wave + (1 | org/team)", d, ddf="Kenward-Roger").fixed[["se", "df"]].round(4)
                   se        df
    term
    Intercept  0.1916   14.3122
    wave       0.0350  199.0000

    A binary outcome (R: ``glmer(high ~ wave + (1 | org/team), family = binomial)`` with
    ``control = glmerControl(tolPwrss = 1e-12)``: estimates -1.176522 and 0.2887991, se
    0.4041695 and 0.0926075, logLik -147.8444; with glmer's default ``tolPwrss = 1e-7`` its
    standard errors are about 1% smaller, see :mod:`~lerendtransformeren.multilevel.glmm`):

    >>> d["high"] = (d["y"] > 0.5).astype(int)
    >>> m = fit("high ~ wave + (1 | org/team)", d, family="binomial")
    >>> m.fixed[["estimate", "se", "z"]].round(4)
               estimate      se       z
    term
    Intercept   -1.1765  0.4042 -2.9110
    wave         0.2888  0.0926  3.1185
    >>> round(m.loglik, 4)
    -147.8444
    >>> m.ratios().loc["wave", ["ratio", "ci_low", "ci_high"]].round(3).tolist()
    [1.335, 1.113, 1.6]

    The same tests as t-tests with between-within df (SAS GLIMMIX ``ddfm=bw``; no R
    equivalent): the intercept varies between the 10 organisations (10 - 1 = 9 df), wave
    within the teams (240 rows - 40 teams - 1 = 199 df):

    >>> m.with_ddf("between-within").fixed[["df", "t", "p"]].round(4)
                  df       t       p
    term
    Intercept    9.0 -2.9110  0.0173
    wave       199.0  3.1185  0.0021
    """
    if engine not in ("nested", "statsmodels"):
        raise SpecificationError(f"engine must be 'nested' or 'statsmodels', got {engine!r}.")
    context = capture_context(1)
    options = dict(reml=reml, engine=engine, conf_level=conf_level, ddf=ddf, family=family, nagq=nagq,
                   transform_rows=transform_rows)
    if isinstance(data, (list, tuple)) or hasattr(data, "datasets"):
        return _fit_imputed(formula, data, context, options)
    return _fit_one(formula, data, context, **options)


def fit_imputed(formula: str, imputed, context, *, reml: bool = True, engine: str = "nested",
                conf_level: float = 0.95, ddf: str | None = None, family: str | None = None, nagq: int = 1,
                transform_rows: str = "all"):
    """:func:`fit` on the data sets of an :class:`~.imputation.Imputed` (its ``.fit``), pooled.

    ``context``: the formula namespace of the caller (``frame.capture_context``).
    """
    if engine not in ("nested", "statsmodels"):
        raise SpecificationError(f"engine must be 'nested' or 'statsmodels', got {engine!r}.")
    options = dict(reml=reml, engine=engine, conf_level=conf_level, ddf=ddf, family=family, nagq=nagq,
                   transform_rows=transform_rows)
    return _fit_imputed(formula, imputed, context, options)


def _fit_one(formula: str, data: pd.DataFrame, context, *, reml, engine, conf_level, ddf, family, nagq,
             transform_rows):
    """:func:`fit` on one data frame, with the caller's formula namespace ``context``."""
    if family is not None:
        if engine != "nested":
            raise SpecificationError("family= (a GLMM) needs engine='nested'.")
        return fit_glmm(formula, data, family, nagq, conf_level, context=context, ddf="Wald" if ddf is None else ddf,
                        transform_rows=transform_rows)
    if nagq != 1:
        raise SpecificationError(f"nagq={nagq!r} applies to GLMMs only; give family='binomial' or 'poisson'.")
    ddf = "Satterthwaite" if ddf is None else ddf
    _check_ddf(ddf, reml)
    if engine == "statsmodels":
        return _fit_statsmodels(formula, data, reml, conf_level, context, transform_rows)
    frame = build_frame(formula, data, context=context, transform_rows=transform_rows)
    _check_varies(frame, formula)
    warn_family(frame.y, frame.y_name)
    eng = NestedEngine(frame.y, frame.X, frame.levels, reml=reml)
    return MultilevelResult(frame, eng, eng.optimize(), conf_level, data, ddf=ddf)


def _fit_imputed(formula: str, datasets, context, options: dict):
    """:func:`fit` on every imputed data set, pooled by Rubin's rules (:func:`.pooling.pool`).

    Linear models pool with Barnard-Rubin df from each fit's own complete-data df (its
    Satterthwaite or Kenward-Roger df, as ``mitml::testEstimates`` with a vector ``df.com``);
    GLMMs with Wald z tests use Rubin's (1987) large-sample df.
    """
    imputed = datasets if hasattr(datasets, "datasets") else None
    datasets = list(imputed.datasets) if imputed is not None else datasets
    if len(datasets) < 2:
        raise SpecificationError(
            f"A list of data sets means multiply imputed data, which needs at least 2 data sets; got "
            f"{len(datasets)}. Pass a single DataFrame to fit one data set."
        )
    wrong = [i + 1 for i, d in enumerate(datasets) if not isinstance(d, pd.DataFrame)]
    if wrong:
        raise SpecificationError(f"Imputed data sets must be pandas DataFrames; number(s) {wrong} are not.")
    if options["engine"] != "nested":
        raise SpecificationError("Pooling over imputed data sets needs engine='nested'.")
    fits = [_fit_one(formula, d, context, **options) for d in datasets]
    wald = options["family"] is not None and options["ddf"] in (None, "Wald")
    pooled = pool(fits, df_complete=None if wald else "fits", conf_level=options["conf_level"])
    if imputed is not None:  # an Imputed (duck-typed: this module does not import imputation)
        pooled.notes.append(imputed.notes[0])
        pooled.imputation = {**imputed.settings, "rhat": imputed.rhat_max}
    return pooled


def _fit_statsmodels(formula: str, data: pd.DataFrame, reml: bool, conf_level: float = 0.95, context=None,
                     transform_rows: str = "all") -> StatsmodelsResult:
    """Random-intercept models with crossed or nested factors through MixedLM.

    The model frame (designs, row accounting, notes) is the nested engine's; the grouping
    factors need not be nested. Each random intercept is a variance component of one group
    that holds all rows (statsmodels' way to fit crossed factors).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    spec = parse_formula(formula)
    slopes = [t for t in spec.random if t.expr.replace(" ", "") not in ("1", "1+0")]
    if slopes:
        raise SpecificationError(
            "engine='statsmodels' supports random intercepts only; "
            f"{[f'({t.expr} | {t.name})' for t in slopes]} have slopes."
        )
    warnings.warn(
        "Fitted with statsmodels MixedLM (crossed factors as variance components in one "
        "group): z-tests without degrees of freedom, slow on large data, and a variance at "
        "the boundary can distort the fixed effects (statsmodels issue 10239). Treat the "
        "p-values as approximate.",
        EngineFallbackWarning,
        stacklevel=3,
    )
    frame = build_frame(formula, data, context={} if context is None else context, transform_rows=transform_rows,
                        nested=False)
    _check_varies(frame, formula)
    n = len(frame.y)
    names, cols, mats = [], [], []
    for lev in frame.levels:
        names.append(lev.name)
        cols.append([list(lev.labels)])
        mats.append([(lev.codes[:, None] == np.arange(lev.n_units)).astype(float)])
    model = MixedLM(frame.y, frame.X, groups=np.ones(n), exog_re=np.zeros((n, 0)),
                    exog_vc=VCSpec(names, cols, mats))
    return StatsmodelsResult(frame, model.fit(reml=reml), reml, conf_level, data)


class StatsmodelsResult(NestedFit):
    """A mixed model fitted by statsmodels MixedLM (``fit(..., engine="statsmodels")``).

    The core interface of :class:`~lerendtransformeren.multilevel.results.MultilevelResult`
    on the same model frame: ``fixed`` (the same columns, Wald z-tests: ``df`` is infinite
    and ``t`` holds z), ``variance``, ``loglik``, ``aic``, ``bic``, ``n``, ``notes``,
    ``ranef``, ``predict`` and ``summary``. statsmodels' own result is ``statsmodels``.

    Attributes
    ----------
    formula : str
    reml : bool
    frame : ModelFrame
    statsmodels : statsmodels MixedLMResults
    """

    def __init__(self, frame, result, reml: bool, conf_level: float, data: pd.DataFrame):
        self.frame, self.statsmodels, self.reml, self.conf_level = frame, result, reml, conf_level
        self.formula = frame.spec.formula
        self._data = data
        self.beta = np.asarray(result.fe_params, dtype=float)
        variances = dict(zip(result.model.exog_vc.names, np.asarray(result.vcomp, dtype=float)))
        self._variances = [max(variances[lev.name], 0.0) for lev in frame.levels]
        self.sigma = float(np.sqrt(result.scale))
        self.converged = bool(result.converged)

    @property
    def n_parameters(self) -> int:
        """Fixed effects + variance components + residual variance (as lme4's logLik df)."""
        return len(self.beta) + len(self.frame.levels) + 1

    @property
    def loglik(self) -> float:
        """REML or ML log-likelihood (statsmodels' ``llf``; on lme4's scale)."""
        return float(self.statsmodels.llf)

    @property
    def notes(self) -> list[str]:
        return list(self.frame.notes)

    @cached_property
    def fixed(self) -> pd.DataFrame:
        """Fixed effects with Wald z-tests (``t`` holds z, ``df`` is infinite)."""
        se = np.asarray(self.statsmodels.bse_fe, dtype=float)
        z = self.beta / se
        q = stats.norm.ppf(0.5 + self.conf_level / 2)
        return pd.DataFrame(
            {"estimate": self.beta, "se": se, "df": np.inf, "t": z, "p": 2 * stats.norm.sf(np.abs(z)),
             "ci_low": self.beta - q * se, "ci_high": self.beta + q * se},
            index=pd.Index(self.frame.x_names, name="term"),
        )

    @cached_property
    def variance(self) -> pd.DataFrame:
        """Variance components (one random intercept per grouping) and the residual."""
        records = [{"group": lev.name, "term": "Intercept", "variance": v, "sd": np.sqrt(v)}
                   for lev, v in zip(self.frame.levels, self._variances)]
        records.append({"group": "residual", "term": "", "variance": self.sigma**2, "sd": self.sigma})
        return pd.DataFrame(records).set_index(["group", "term"])

    @cached_property
    def _modes(self) -> list[np.ndarray]:
        """Conditional modes (BLUPs) per grouping: ``Lambda (Lambda Z'Z Lambda + I)^-1 Lambda Z'r``."""
        Z = np.hstack([(lev.codes[:, None] == np.arange(lev.n_units)).astype(float) for lev in self.frame.levels])
        lam = np.concatenate([np.full(lev.n_units, np.sqrt(v) / self.sigma)
                              for lev, v in zip(self.frame.levels, self._variances)])
        resid = self.frame.y - self.frame.X @ self.beta
        A = (Z * lam).T @ (Z * lam) + np.eye(len(lam))
        b = lam * np.linalg.solve(A, lam * (Z.T @ resid))
        bounds = np.cumsum([0] + [lev.n_units for lev in self.frame.levels])
        return [b[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]

    def ranef(self, level: str) -> pd.DataFrame:
        """Conditional modes of one grouping's random intercepts, indexed by unit label."""
        i = self._level_index(level)
        lev = self.frame.levels[i]
        return pd.DataFrame({"Intercept": self._modes[i]}, index=pd.Index(lev.labels, name=lev.name)).sort_index()

    def predict(self, newdata: pd.DataFrame | None = None, level: str | None = None) -> pd.Series:
        """Fixed part plus the random intercepts (all groupings, ``"population"``: none, or one).

        Units not seen in the fit get 0 (lme4's ``allow.new.levels = TRUE``).
        """
        levels = self.frame.levels
        use = (range(len(levels)) if level is None else range(0) if level == "population"
               else [level_index(levels, level)])
        pred = (self.frame.X if newdata is None else self.frame.fixed_matrix(newdata)) @ self.beta
        data = None if newdata is None else newdata.reset_index(drop=True)
        for i in use:
            lev = levels[i]
            if data is None:
                pred = pred + self._modes[i][lev.codes]
            else:
                keys = data[list(lev.factors)].astype(str).agg(":".join, axis=1).to_numpy()
                modes = pd.Series(self._modes[i], index=lev.labels)
                pred = pred + modes.reindex(keys).fillna(0.0).to_numpy()
        index = self.frame.row_index if newdata is None else newdata.index
        return pd.Series(pred, index=index, name="predicted")

    def summary(self) -> str:
        """Plain-text summary: fit statistics, variance components, fixed effects (z-tests), rows."""
        lines = [
            f"Linear mixed model fitted by {'REML' if self.reml else 'ML'} (statsmodels MixedLM); "
            "z-tests without degrees of freedom",
            f"Formula: {self.formula}",
            f"logLik: {self.loglik:.4f}   AIC: {self.aic:.4f}   BIC: {self.bic:.4f}",
            *summary_body(self.variance, self.fixed, self.frame),
            *self.notes,
        ]
        if not self.converged:
            lines.append("statsmodels reports that the optimiser did not converge.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<StatsmodelsResult {self.formula!r} {'REML' if self.reml else 'ML'}, n={len(self.frame.y)}>"


def _check_varies(frame, formula: str) -> None:
    """A constant outcome is a data problem (a wrong column or recode), not a numerical one."""
    y = frame.y
    if len(y) and np.ptp(y) == 0:
        raise DataError(
            f"The outcome {frame.y_name!r} of {formula!r} has the same value ({y[0]:g}) on all "
            f"{len(y)} rows used: there is no variation to model.\nFix: check that the right column "
            "is the outcome (a mapping or recode may have turned it into a constant)."
        )
