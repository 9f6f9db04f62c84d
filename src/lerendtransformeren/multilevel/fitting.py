"""Fitting a mixed model: :func:`fit` (the nested engine, or statsmodels MixedLM; GLMMs with ``family``).

:func:`fit` builds the model frame (:mod:`~lerendtransformeren.multilevel.frame`), fits it
with :class:`~lerendtransformeren.multilevel.engine.NestedEngine` and returns a
:class:`~lerendtransformeren.multilevel.results.MultilevelResult`. It is re-exported as
``lerendtransformeren.multilevel.fit`` and ``lerendtransformeren.fit``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import patsy

from lerendtransformeren.exceptions import DataError, EngineFallbackWarning, SpecificationError
from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.formula import parse_formula
from lerendtransformeren.multilevel.frame import build_frame
from lerendtransformeren.multilevel.glmm_results import fit_glmm, warn_family
from lerendtransformeren.multilevel.results import MultilevelResult, _check_ddf

__all__ = ["fit"]


def fit(formula: str, data: pd.DataFrame, reml: bool = True, engine: str = "nested", conf_level: float = 0.95,
        ddf: str | None = None, family: str | None = None, nagq: int = 1):
    """Fit a linear (or, with ``family``, a generalised linear) mixed model with nested random effects.

    Parameters
    ----------
    formula : str
        lme4-style formula: a patsy fixed part plus random terms, e.g.
        ``"y ~ wave * offer + ses + (1 | organisation/team/respondent)"`` or
        ``"y ~ wave + (1 + wave | respondent) + (1 | organisation)"``.
    data : DataFrame
        Long data, one row per observation. Rows with a missing value in a variable of the
        model are left out and counted (``result.n``).
    reml : bool
        REML (default) or maximum likelihood (use ML to compare fixed parts by LRT).
    engine : {"nested", "statsmodels"}
        ``"nested"``: the exact nested engine (grouping factors must be nested).
        ``"statsmodels"``: statsmodels MixedLM, for crossed factors; it gives z-tests only
        and returns statsmodels' own result, with an
        :class:`~lerendtransformeren.exceptions.EngineFallbackWarning`.
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
    env = patsy.EvalEnvironment.capture(1)
    if family is not None:
        if engine != "nested":
            raise SpecificationError("family= (a GLMM) needs engine='nested'.")
        return fit_glmm(formula, data, family, nagq, conf_level, eval_env=env, ddf="Wald" if ddf is None else ddf)
    if nagq != 1:
        raise SpecificationError(f"nagq={nagq!r} applies to GLMMs only; give family='binomial' or 'poisson'.")
    ddf = "Satterthwaite" if ddf is None else ddf
    _check_ddf(ddf, reml)
    if engine == "statsmodels":
        return _fit_statsmodels(formula, data, reml)
    frame = build_frame(formula, data, eval_env=env)
    _check_varies(frame, formula)
    warn_family(frame.y, frame.y_name)
    eng = NestedEngine(frame.y, frame.X, frame.levels, reml=reml)
    return MultilevelResult(frame, eng, eng.optimize(), conf_level, data, ddf=ddf)


def _fit_statsmodels(formula: str, data: pd.DataFrame, reml: bool):
    """Random-intercept models with crossed or nested factors through MixedLM."""
    from statsmodels.regression.mixed_linear_model import MixedLM

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
    cols = spec.grouping_columns
    d = data.dropna(subset=cols).copy()
    vc = {}
    for t in spec.random:
        key = "__" + "_".join(t.factors)
        d[key] = d[list(t.factors)].astype(str).agg(":".join, axis=1)
        vc[t.name] = f"0 + C({key})"
    d["__all"] = 1
    model = MixedLM.from_formula(spec.fixed, d, groups="__all", re_formula="0", vc_formula=vc)
    return model.fit(reml=reml)


def _check_varies(frame, formula: str) -> None:
    """A constant outcome is a data problem (a wrong column or recode), not a numerical one."""
    y = frame.y
    if len(y) and np.ptp(y) == 0:
        raise DataError(
            f"The outcome {frame.y_name!r} of {formula!r} has the same value ({y[0]:g}) on all "
            f"{len(y)} rows used: there is no variation to model.\nFix: check that the right column "
            "is the outcome (a mapping or recode may have turned it into a constant)."
        )
