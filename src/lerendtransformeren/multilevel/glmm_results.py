"""Fitting a nested GLMM (:func:`fit_glmm`) and its result, :class:`GLMMResult`.

``lerendtransformeren.multilevel.fit(formula, data, family="binomial" | "poisson")``
lands here: the model frame is built as for a linear model (row accounting included), the
outcome is checked against the family, and :class:`~.glmm.GLMMEngine` fits the model by
the Laplace approximation or adaptive Gauss-Hermite quadrature, as ``lme4::glmer``.

The result mirrors :class:`~lerendtransformeren.multilevel.results.MultilevelResult`:
``fixed`` (Wald z-tests and intervals, as ``summary(glmer)`` and ``confint(m, method =
"Wald")``; or with ``ddf="between-within"`` t-tests with SAS GLIMMIX's between-within df),
``variance``, ``n``, ``ranef``, ``predict``, ``loglik``/``aic``/``bic``, plus ``ratios()``
(odds or rate ratios), ``notes`` (which test to trust with few top-level units) and
likelihood-ratio tests between nested GLMMs (:func:`lrt`, ``anova(m0, m1)`` in R; with
``method="bootstrap"`` a parametric bootstrap as ``pbkrtest::PBmodcomp``).
"""

from __future__ import annotations

import re
import warnings
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.display import SummaryText
from lerendtransformeren.exceptions import (
    ConvergenceWarning,
    DataError,
    FamilyWarning,
    SingularFitWarning,
    SpecificationError,
)
from lerendtransformeren.multilevel.display import glmm_view
from lerendtransformeren.multilevel import marginal
from lerendtransformeren.multilevel.engine import SINGULAR_TOL
from lerendtransformeren.multilevel.fit_base import NestedFit
from lerendtransformeren.multilevel.frame import ModelFrame, build_frame, capture_context
from lerendtransformeren.multilevel.glmm import FAMILIES, GLMMEngine
from lerendtransformeren.multilevel.glmm_inference import (
    DDF_METHODS,
    FEW_UNITS,
    between_within_df,
    bootstrap_lrt,
    t_table,
    varying_level,
)
from lerendtransformeren.multilevel.influence import influence
from lerendtransformeren.multilevel.residuals import model_fitted, model_residuals, ranef_intervals
from lerendtransformeren.presenters import present

__all__ = ["GLMMResult", "fit_glmm", "lrt", "family_hint", "MAX_NAGQ"]

#: The largest number of quadrature nodes accepted (lme4 allows up to 25 too).
MAX_NAGQ = 25
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*~")


def fit_glmm(formula: str, data: pd.DataFrame, family: str, nagq: int = 1, conf_level: float = 0.95,
             context=None, ddf: str = "Wald", transform_rows: str = "all") -> GLMMResult:
    """Fit a GLMM with nested random effects (see :func:`lerendtransformeren.multilevel.fit`).

    Raises
    ------
    SpecificationError
        An unknown family, ``nagq`` outside 1..25, or ``nagq > 1`` with more than one random
        term or a term with more than one column; everything :func:`build_frame` raises.
    DataError
        A binomial outcome that is not 0/1 (or a two-level factor / bool), a Poisson outcome
        that is negative or not whole; the message names the column and example rows.
    """
    fam = _check_family(family)
    nagq = _check_nagq(nagq)
    ddf = _check_glmm_ddf(ddf)
    data, levels01 = _binary_outcome(formula, data) if fam.name == "binomial" else (data, None)
    context = capture_context(1) if context is None else context
    frame = build_frame(formula, data, context=context, one_row_units=True, transform_rows=transform_rows)
    _check_outcome(frame, data, fam.name)
    if nagq > 1 and (len(frame.levels) != 1 or frame.levels[0].q != 1):
        terms = [f"({b.expr} | {b.group})" for lev in frame.levels for b in lev.blocks]
        raise SpecificationError(
            f"nagq={nagq} (adaptive Gauss-Hermite quadrature) needs a single scalar random "
            f"intercept such as (1 | team); this model has {terms}. Use nagq=1 (the Laplace "
            "approximation), as lme4::glmer does."
        )
    engine = GLMMEngine(frame.y, frame.X, frame.levels, fam, nagq)
    return GLMMResult(frame, engine, engine.optimize(), conf_level, data, outcome_levels=levels01, ddf=ddf)


def _check_glmm_ddf(ddf) -> str:
    if ddf not in DDF_METHODS:
        raise SpecificationError(
            f"ddf={ddf!r}: a GLMM's fixed effects are tested by 'Wald' (z, as glmer) or 'between-within' "
            "(t with SAS GLIMMIX's between-within df); Satterthwaite and Kenward-Roger apply to linear "
            "mixed models only."
        )
    return ddf


def _check_family(family) -> object:
    if family not in FAMILIES:
        raise SpecificationError(
            f"family must be one of {sorted(FAMILIES)} (or None for a linear mixed model), got {family!r}. "
            "For overdispersed counts see lerendtransformeren.multilevel.gee (negative binomial)."
        )
    return FAMILIES[family]


def _check_nagq(nagq) -> int:
    if isinstance(nagq, bool) or not isinstance(nagq, (int, np.integer)) or not 1 <= nagq <= MAX_NAGQ:
        raise SpecificationError(
            f"nagq must be a whole number from 1 (Laplace) to {MAX_NAGQ}, got {nagq!r}."
        )
    return int(nagq)


def _binary_outcome(formula: str, data: pd.DataFrame):
    """Code a bool or two-level outcome column as 0/1 (the second level is 1, as R's glm).

    Returns the data (a copy when recoded) and the (failure, success) levels or None.
    """
    m = _NAME.match(formula) if isinstance(formula, str) else None
    if m is None or not isinstance(data, pd.DataFrame) or m.group(1) not in data.columns:
        return data, None
    col = m.group(1)
    values = data[col]
    if pd.api.types.is_bool_dtype(values):
        levels = (False, True)
    elif isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object or pd.api.types.is_string_dtype(values):
        present = values.dropna()
        levels = tuple(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else tuple(sorted(present.unique(), key=str))
        if len(levels) != 2:
            raise DataError(
                f"The binomial outcome {col!r} has {len(levels)} distinct values {list(levels)[:6]}; it needs "
                "two (or 0/1). Recode it, e.g. data[col] = (data[col] == 'ja').astype(int)."
            )
    else:
        return data, None
    out = data.copy()
    out[col] = values.map({levels[0]: 0.0, levels[1]: 1.0}).astype(float)
    return out, levels


def _bad_rows(frame: ModelFrame, mask: np.ndarray) -> str:
    rows = list(frame.row_index[mask][:5])
    more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
    return f"rows {rows}{more} (values {list(frame.y[mask][:5])})"


def _check_outcome(frame: ModelFrame, data: pd.DataFrame, family: str) -> None:
    y = frame.y
    if family == "binomial":
        bad = (y != 0) & (y != 1)
        if bad.any():
            raise DataError(
                f"family='binomial' needs an outcome coded 0/1, but {frame.y_name!r} has other values in "
                f"{_bad_rows(frame, bad)}. Recode it to 0/1 (1 = the event); for counts use family='poisson'."
            )
        if y.min() == y.max():
            raise DataError(f"The binomial outcome {frame.y_name!r} is {y[0]:g} in every row used; nothing to model.")
    else:
        bad = (y < 0) | (y != np.round(y))
        if bad.any():
            raise DataError(
                f"family='poisson' needs counts (whole numbers >= 0), but {frame.y_name!r} has "
                f"{_bad_rows(frame, bad)}. Check the coding (missing-value codes such as -9 must be NaN)."
            )


def family_hint(y: np.ndarray) -> str | None:
    """The family a linear model on outcome ``y`` probably should have used, or None.

    ``"binomial"`` when every value is 0 or 1; ``"poisson"`` when the values are whole
    numbers >= 0 with at most 30 distinct values and at least 30% zeros.
    """
    y = np.asarray(y, float)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        return None
    if np.all((y == 0) | (y == 1)) and len(np.unique(y)) == 2:
        return "binomial"
    if np.mean(y == 0) >= 0.3 and np.all(y >= 0) and np.all(y == np.round(y)) and len(np.unique(y)) <= 30:
        return "poisson"
    return None


def warn_family(y: np.ndarray, y_name: str, stacklevel: int = 3) -> None:
    """Warn (:class:`FamilyWarning`) when a linear model is fitted to a 0/1 or count outcome."""
    hint = family_hint(y)
    if hint is None:
        return
    what = "only the values 0 and 1" if hint == "binomial" else "counts (whole numbers >= 0) with many zeros"
    keep = "a linear probability model" if hint == "binomial" else "a linear model for the mean count"
    warnings.warn(
        f"The outcome {y_name!r} has {what}, but a linear mixed model was fitted: its residuals cannot be "
        f"normal and predictions can fall outside the possible values. Fit a GLMM with "
        f'fit(..., family="{hint}") (effects within units, as lme4::glmer), or population-averaged '
        f'effects with a GEE: lerendtransformeren.multilevel.gee.fit_gee(..., family="{hint}"). '
        f"Keep the linear model only as a deliberate approximation ({keep}).",
        FamilyWarning,
        stacklevel=stacklevel,
    )


_FEW_UNITS_NOTE = (
    "The top level {level!r} has {n} units (fewer than 40). Wald z-tests of terms that vary only between "
    "these units{which} are liberal (in a simulation of the study's design: 11% rejections at alpha 0.05): "
    "test those with ddf='between-within' (7.6%) and decide by lrt(m0, m1, method='bootstrap'). Terms that "
    "vary within the units, such as the offer of a stepped wedge, keep their level with the Wald test (5.6%)."
)


class GLMMResult(NestedFit):
    """A nested GLMM fitted by the Laplace approximation or adaptive quadrature (see :func:`fit_glmm`).

    Attributes
    ----------
    formula : str
    family : {"binomial", "poisson"}
    nagq : int
        1: Laplace; > 1: adaptive Gauss-Hermite quadrature with that many nodes.
    theta : ndarray
        lme4's relative Cholesky factors (column-wise lower triangles, finest level first).
    beta : ndarray
    vcov : ndarray
        Covariance of beta: the beta block of ``2 H^-1`` with ``H`` the Hessian of the
        deviance in (theta, beta) (lme4's ``vcov(m)``).
    converged, singular : bool
    outcome_levels : tuple or None
        For a bool or two-level outcome: (level coded 0, level coded 1).
    ddf : {"Wald", "between-within"}
        The tests of ``fixed``: Wald z (glmer's) or t with between-within df
        (:func:`~.glmm_inference.between_within_df`, SAS GLIMMIX ``ddfm=bw``).
    notes : list of str
        Advice on the tests, e.g. when the top level has fewer than 40 units (see below).

    Notes
    -----
    **Few top-level units.** glmer's Wald z-tests treat the standard errors as known. With
    fewer than about 40 units at the top level (the study: 15 organisations) that matters
    for terms that vary only *between* those units. A simulation of the study's design
    (``benchmarks/sim_glmm_type1.py``: 15 organisations x 3 teams x 4 professionals x 3
    families x 4 waves, stepped wedge with start waves 1-3, a binary outcome with
    intercept variances organisation 0.2, team 0.1, professional 0.2, family 1.0, all
    effects 0) gave these type-I errors at alpha = 0.05 (95% Monte Carlo intervals):

    ==========================================  =====  =====================
    test                                         reps  type-I error
    ==========================================  =====  =====================
    offer (varies within organisations):
    Wald z (glmer)                                500  0.056 [0.038, 0.080]
    t, between-within df (1616)                   500  0.056 [0.038, 0.080]
    LRT, chi-square(1)                            500  0.056 [0.038, 0.080]
    parametric bootstrap LRT (B = 99)             200  0.035 [0.014, 0.071]
    organisation-level covariate (15 units):
    Wald z (glmer)                                500  0.108 [0.082, 0.139]
    t, between-within df (13)                     500  0.076 [0.054, 0.103]
    the same, another run (``--seed 7``):
    Wald z (glmer)                                100  0.170 [0.102, 0.258]
    t, between-within df (13)                     100  0.140 [0.079, 0.224]
    parametric bootstrap LRT (B = 99)             100  0.080 [0.035, 0.152]
    ==========================================  =====  =====================

    Advice: for the offer of a stepped wedge (and the waves), which vary within the
    organisations, the Wald z-test keeps its level; between-within gives the same test
    (its df are the residual df). For a term that varies only between the top-level
    units (an organisation's characteristic, its goal) the Wald z-test rejects about
    twice as often as it should: report it with ``ddf="between-within"`` (closer to the
    level, still somewhat liberal) and base the decision on the parametric-bootstrap LRT
    (``lrt(m0, m1, method="bootstrap")``), which removed most of the excess on the same
    replicates (100 replicates only: its interval is wide). :attr:`notes` says so when it
    applies.
    """

    reml = False

    def __init__(self, frame: ModelFrame, engine: GLMMEngine, opt, conf_level: float, data: pd.DataFrame,
                 outcome_levels=None, ddf: str = "Wald"):
        self.ddf = _check_glmm_ddf(ddf)
        self.frame, self.engine, self.optimization = frame, engine, opt
        self.formula = frame.spec.formula
        self.family = engine.family.name
        self.nagq = engine.nagq
        self.conf_level = conf_level
        self.outcome_levels = outcome_levels
        self._data = data
        self.theta, self.beta = opt.theta, opt.beta
        self.converged = bool(opt.converged)
        self.singular = bool(np.any(np.abs(self.theta[engine._diag]) < SINGULAR_TOL))
        self._state = opt.state
        self.vcov = self._vcov()
        self._X = frame.X
        self._n_used = engine.n
        if self.singular:
            warnings.warn(
                f"Singular fit: a variance component of {self.formula!r} is estimated at 0 (or a correlation at "
                "+-1). The data cannot tell this apart from a smaller random part; the fixed effects remain "
                "valid, tests of these variances are on the boundary. Consider simplifying the random part.",
                SingularFitWarning, stacklevel=4,  # the caller of fit()
            )
        if not self.converged:
            warnings.warn(
                f"The optimiser did not pass its convergence checks ({opt.message}); estimates may be "
                "inaccurate. Rescale covariates, simplify the random part, or check for separation "
                "(an outcome that is constant within a combination of covariates).",
                ConvergenceWarning, stacklevel=4,  # the caller of fit()
            )

    def _vcov(self) -> np.ndarray:
        """``2 H^-1`` (beta block); lme4's fallback ``(R_X' R_X)^-1`` when H is not positive definite."""
        k = self.engine.n_theta
        H = self.optimization.hessian
        try:
            V = 2.0 * np.linalg.inv(H)[k:, k:]
            V = 0.5 * (V + V.T)
            if np.linalg.eigvalsh(V).min() > 0:
                return V
        except np.linalg.LinAlgError:
            pass
        warnings.warn(
            "The covariance of the fixed effects from the Hessian of the deviance is not positive definite; "
            "it is taken from the penalised least-squares fit at the estimates (lme4's fallback), which "
            "ignores the uncertainty of the variance components.",
            ConvergenceWarning, stacklevel=5,
        )
        eng, st = self.engine, self._state
        w = eng.family.weights(st.mu)
        fac = eng.solver.factor(eng.lambdas(self.theta), w, np.zeros(eng.n), True)
        p = eng.p
        return np.linalg.inv(fac.top[:p, :p])

    # -- fit statistics ------------------------------------------------------------------
    @property
    def n_parameters(self) -> int:
        """Fixed effects + theta (the df of lme4's ``logLik``)."""
        return self.engine.p + self.engine.n_theta

    @property
    def deviance(self) -> float:
        """-2 log-likelihood (Laplace or AGQ): the ``deviance`` of ``summary(m)$AICtab`` and ``anova()``.

        R's ``deviance(m)`` of a glmer fit is :attr:`conditional_deviance` instead.
        """
        return float(self.optimization.deviance)

    @property
    def conditional_deviance(self) -> float:
        """Sum of the squared deviance residuals at the conditional modes (R's ``deviance(m)``)."""
        return float(self.engine.family.dev_resid(self.engine.y, self._state.mu).sum())

    @property
    def loglik(self) -> float:
        """Log-likelihood as lme4's ``logLik``.

        For a Poisson model with ``nagq > 1`` lme4 (and this function) leaves out the
        saturated log-likelihood, so it is not comparable with the Laplace fit's.
        """
        return -0.5 * self.deviance

    # -- tables --------------------------------------------------------------------------
    @cached_property
    def fixed(self) -> pd.DataFrame:
        """Fixed effects with tests and intervals.

        ``ddf="Wald"``: z-tests and Wald intervals (``summary(m)$coefficients``,
        ``confint(m, method = "Wald")``); columns estimate, se, z, p, ci_low, ci_high.
        ``ddf="between-within"``: t-tests and t intervals with the between-within df
        (columns estimate, se, df, t, p, ci_low, ci_high); no R equivalent (SAS GLIMMIX
        ``ddfm=bw``).
        """
        se = np.sqrt(np.diag(self.vcov))
        if self.ddf == "between-within":
            return t_table(self.beta, se, self.df, self.conf_level, self.frame.x_names)
        z = self.beta / se
        q = float(stats.norm.ppf(0.5 + self.conf_level / 2))
        out = pd.DataFrame({"estimate": self.beta, "se": se, "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
                            "ci_low": self.beta - q * se, "ci_high": self.beta + q * se},
                           index=pd.Index(self.frame.x_names, name="term"))
        return out

    @cached_property
    def df(self) -> np.ndarray:
        """Between-within df of each fixed effect (:func:`~.glmm_inference.between_within_df`)."""
        return between_within_df(self.frame.X, self.frame.levels)

    def with_ddf(self, ddf: str) -> GLMMResult:
        """The same fit with its fixed-effect tests by another method (no refit)."""
        out = object.__new__(GLMMResult)
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("fixed",)})
        out.ddf = _check_glmm_ddf(ddf)
        return out

    @property
    def notes(self) -> list[str]:
        """What the model frame left out (unused factor categories), and advice on the fixed-effect
        tests: with fewer than 40 units at the top level, which test to use.

        See the class notes for the simulation it rests on.
        """
        top = self.frame.levels[-1]
        if top.n_units >= FEW_UNITS:
            return list(self.frame.notes)
        at_top = varying_level(self.frame.X, self.frame.levels) == len(self.frame.levels)
        terms = [n for n, t in zip(self.frame.x_names, at_top) if t and n != "Intercept"]
        which = f" ({', '.join(terms)})" if terms else " (none in this model besides the intercept)"
        return [*self.frame.notes, _FEW_UNITS_NOTE.format(n=top.n_units, level=top.name, which=which)]

    def ratios(self, conf_level: float | None = None) -> pd.DataFrame:
        """Odds ratios (binomial) or rate ratios (Poisson) with Wald intervals: exp of ``fixed``.

        The intercept row is the odds or rate at all covariates 0. Conditional on the random
        effects (a unit with random effects 0), not population-averaged: for those use
        :func:`lerendtransformeren.multilevel.gee.fit_gee`.

        Returns
        -------
        DataFrame indexed by term: ``ratio``, ``ci_low``, ``ci_high``, ``p``; its ``attrs["name"]``
        says "odds ratio" or "rate ratio".
        """
        level = self.conf_level if conf_level is None else conf_level
        if not 0 < level < 1:
            raise SpecificationError(f"conf_level must lie in (0, 1), got {level}.")
        se = np.sqrt(np.diag(self.vcov))
        q = stats.t.ppf(0.5 + level / 2, self.df) if self.ddf == "between-within" else stats.norm.ppf(0.5 + level / 2)
        out = pd.DataFrame({"ratio": np.exp(self.beta), "ci_low": np.exp(self.beta - q * se),
                            "ci_high": np.exp(self.beta + q * se), "p": self.fixed["p"].to_numpy()},
                           index=self.fixed.index)
        out.attrs["name"] = self.engine.family.ratio_name
        return out

    @cached_property
    def variance(self) -> pd.DataFrame:
        """Variance components, finest level first (lme4's ``VarCorr``; no residual row).

        Index (group, term); columns ``variance``, ``sd`` and, for correlated random
        effects, ``corr <term>``. On the link scale (log-odds or log-rate).
        """
        return pd.DataFrame(self._random_variance()).set_index(["group", "term"])

    # -- random effects ------------------------------------------------------------------
    @cached_property
    def _posterior(self):
        eng = self.engine
        return eng.solver.posterior(self._state.factor, eng.lambdas(self.theta))[0]

    def ranef(self, level: str, condsd: bool = False) -> pd.DataFrame:
        """Conditional modes of one level's random effects (link scale), as lme4's ``ranef``.

        Parameters
        ----------
        level : str
            Grouping name (``"organisation:team"``) or its last factor (``"team"``).
        condsd : bool
            Add columns ``sd <term>``: conditional SDs (``ranef(m, condVar = TRUE)``).

        Returns
        -------
        DataFrame indexed by unit label, sorted.
        """
        i = self._level_index(level)
        cov = self._posterior[i] if condsd else None
        return self._modes_frame(i, self._state.b[i], cov, self.engine.solver.unit_codes[i])

    def ranef_intervals(self, level: str, term: str = "Intercept", conf_level: float = 0.95) -> pd.DataFrame:
        """Conditional modes of one random-effect term (link scale) with normal intervals per unit,
        ``mode +/- z * conditional SD``; see :func:`.residuals.ranef_intervals`."""
        return ranef_intervals(self, level, term, conf_level)

    # -- predictions ---------------------------------------------------------------------
    def predict(self, newdata: pd.DataFrame | None = None, type: str = "link", re: bool = True) -> pd.Series:
        """Predictions on the link or the response scale (lme4's ``predict``).

        Parameters
        ----------
        newdata : DataFrame, optional
            Rows to predict; default the rows used in the fit. Units not seen in the fit get
            random effects 0 (``allow.new.levels = TRUE``).
        type : {"link", "response"}
            Log-odds / log-rate, or probability / expected count.
        re : bool
            Include the conditional modes (``re.form = NULL``); False: the fixed part only
            (``re.form = NA``).
        """
        if type not in ("link", "response"):
            raise SpecificationError(f"type must be 'link' or 'response', got {type!r}.")
        eta = (self.frame.X if newdata is None else self.frame.fixed_matrix(newdata)) @ self.beta
        if re:
            data = None if newdata is None else newdata.reset_index(drop=True)
            for i, lev in enumerate(self.frame.levels):
                keys = lev.labels[lev.codes] if data is None else \
                    data[list(lev.factors)].astype(str).agg(":".join, axis=1).to_numpy()
                bmat = self.ranef(lev.name).reindex(keys).fillna(0.0).to_numpy()
                col = 0
                for blk in lev.blocks:
                    Z = (blk.Z if newdata is None else blk.matrix(newdata))
                    eta = eta + np.einsum("ij,ij->i", Z, bmat[:, col:col + blk.q])
                    col += blk.q
        values = eta if type == "link" else self.engine.family.mu(eta)
        index = self.frame.row_index if newdata is None else newdata.index
        return pd.Series(values, index=index, name="predicted")

    def fitted(self) -> pd.Series:
        """Fitted probabilities / expected counts of the rows used (lme4's ``fitted``)."""
        return model_fitted(self)

    def residuals(self, type: str = "deviance") -> pd.Series:
        """Conditional residuals of the rows used: ``"deviance"``, ``"pearson"``, ``"response"`` or
        ``"working"`` (lme4's ``residuals(m, type = ...)``); see :mod:`.residuals`."""
        return model_residuals(self, type)

    # -- model checks --------------------------------------------------------------------
    def influence(self, level: str | None = None):
        """Refit without each unit of ``level`` (default the top level); see :func:`.influence.influence`."""
        return influence(self, level)

    def plot_diagnostics(self, lang: str = "nl", **kwargs):
        """The diagnostic panel, drawn by the presentation layer (``lerendtransformeren.report.plot_diagnostics``)."""
        return present("multilevel.plot_diagnostics", self, lang=lang, **kwargs)

    def plot_caterpillar(self, level: str, term: str = "Intercept", lang: str = "nl", **kwargs):
        """Caterpillar plot of one level's conditional modes (``lerendtransformeren.report.plot_caterpillar``)."""
        return present("multilevel.plot_caterpillar", self, level, term=term, lang=lang, **kwargs)

    def plot_fixed(self, terms=None, labels=None, lang: str = "nl", **kwargs):
        """Forest plot of the odds or rate ratios (``lerendtransformeren.report.plot_fixed``)."""
        return present("multilevel.plot_fixed", self, terms=terms, labels=labels, lang=lang, **kwargs)

    def _used_data(self) -> pd.DataFrame:
        return self._data.iloc[np.flatnonzero(self.frame.keep)].reset_index(drop=True)

    def marginal_means(self, specs, by=None, at=None, conf_level=None, type="link"):
        """Estimated marginal means, as R's ``emmeans(m, specs, by = , at = , type = )`` for glmer.

        On the link scale (log-odds, log-rate) with Wald z intervals (df infinite);
        ``type="response"``: probabilities or rates with back-transformed intervals and
        delta-method SE. The grid and averaging as for a linear model (on the link scale);
        see :mod:`.marginal`.
        """
        return marginal.marginal_means(self, specs, by=by, at=at, conf_level=conf_level, type=type)

    def marginal_contrasts(self, specs, by=None, method="pairwise", adjust="tukey", at=None, conf_level=None,
                           type="link"):
        """Contrasts of estimated marginal means (``contrast(emmeans(...), method, adjust = )``).

        Differences on the link scale with z-tests; ``type="response"``: odds or rate ratios
        (``a / b``) with back-transformed intervals. See :func:`.marginal.marginal_contrasts`.
        """
        return marginal.marginal_contrasts(self, specs, by=by, method=method, adjust=adjust, at=at,
                                           conf_level=conf_level, type=type)

    # -- tests ---------------------------------------------------------------------------
    def lrt(self, other: GLMMResult, method: str = "chisq", n_boot: int = 999, seed=None,
            n_jobs: int = 1) -> pd.DataFrame:
        """Likelihood-ratio test against a nested GLMM (see :func:`lrt`)."""
        return lrt(other, self, method=method, n_boot=n_boot, seed=seed, n_jobs=n_jobs)

    anova = lrt

    # -- text ----------------------------------------------------------------------------
    def summary(self) -> SummaryText:
        """Plain-text summary in the layout of lme4's ``summary(glmer)``.

        A ``str`` that a notebook cell shows as text (:class:`~lerendtransformeren.display.SummaryText`).
        """
        method = "Laplace approximation" if self.nagq == 1 else f"adaptive Gauss-Hermite quadrature (nAGQ = {self.nagq})"
        link = self.engine.family.link
        lines = [
            f"Generalised linear mixed model fitted by maximum likelihood ({method}) [nested engine]",
            f"Family: {self.family} ({link})",
            f"Formula: {self.formula}",
            f"AIC: {self.aic:.4f}   BIC: {self.bic:.4f}   logLik: {self.loglik:.4f}   deviance: {self.deviance:.4f}",
            "",
            "Random effects (link scale):",
            self.variance.to_string(float_format=lambda v: f"{v:.5g}"),
            "",
            f"Fixed effects ({'Wald z-tests' if self.ddf == 'Wald' else 't-tests, between-within df'}):",
            self.fixed.to_string(float_format=lambda v: f"{v:.5g}"),
            "",
            "Number of observations: "
            + f"{self.engine.n} used, {self.frame.n_total - self.engine.n} left out; "
            + ", ".join(f"{lev.name}: {lev.n_units}" for lev in self.frame.levels),
        ]
        lines.extend(self.notes)
        if self.outcome_levels is not None:
            lines.append(f"Outcome coded 0 = {self.outcome_levels[0]!r}, 1 = {self.outcome_levels[1]!r}.")
        if self.singular:
            lines.append("Singular fit: a variance component is estimated at 0.")
        if not self.converged:
            lines.append(f"Convergence check failed: {self.optimization.message}")
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return glmm_view(self).text()

    def _repr_html_(self) -> str:
        return glmm_view(self).html()


def lrt(m0: GLMMResult, m1: GLMMResult, method: str = "chisq", n_boot: int = 999, seed=None,
        n_jobs: int = 1) -> pd.DataFrame:
    """Likelihood-ratio test of two nested GLMMs (R: ``anova(m0, m1)``; ``pbkrtest::PBmodcomp``).

    Both must have the same family, the same ``nagq`` and the same rows; the model with
    fewer parameters comes first.

    Parameters
    ----------
    m0, m1 : GLMMResult
    method : {"chisq", "bootstrap"}
        ``"chisq"``: chi-square with the difference in parameters as df (``anova``).
        ``"bootstrap"``: parametric bootstrap (``PBmodcomp``): ``n_boot`` outcomes simulated
        from the fitted smaller model, both models refitted to each, ``p = (1 + #{LRT* >=
        LRT}) / (1 + n_boot*)``; with few top-level units it keeps its level where the
        chi-square does not (see ``GLMMResult.notes``).
    n_boot : int
        Bootstrap samples (``"bootstrap"`` only).
    seed : int or SeedSequence, optional
        Sample ``i`` uses child ``i`` of ``SeedSequence(seed).spawn(n_boot)``: the same seed
        gives the same p whatever ``n_jobs``.
    n_jobs : int
        Processes (joblib), -1 for all cores.

    Returns
    -------
    DataFrame indexed by formula: n_par, aic, bic, loglik, deviance (-2 loglik), chisq, df, p;
    with ``"bootstrap"`` also ``p_chisq`` (the chi-square p), ``n_boot`` (samples whose refits
    succeeded) and ``n_failed`` (left out); ``attrs["statistics"]`` holds the bootstrap LRTs.
    """
    for m in (m0, m1):
        if not isinstance(m, GLMMResult):
            raise SpecificationError(f"lrt compares two GLMM fits; got {type(m).__name__}.")
    if method not in ("chisq", "bootstrap"):
        raise SpecificationError(f"method must be 'chisq' or 'bootstrap', got {method!r}.")
    if m0.family != m1.family or m0.nagq != m1.nagq:
        raise SpecificationError(
            f"The models differ in family or quadrature ({m0.family}/nagq={m0.nagq} and {m1.family}/"
            f"nagq={m1.nagq}); their likelihoods cannot be compared."
        )
    if m0._n_used != m1._n_used or not np.array_equal(m0.frame.row_index, m1.frame.row_index):
        raise SpecificationError(
            f"The models use different rows ({m0._n_used} and {m1._n_used}); fit both on the same data."
        )
    if m0.n_parameters > m1.n_parameters:
        m0, m1 = m1, m0
    k0, k1 = m0.n_parameters, m1.n_parameters
    chisq = max(m0.deviance - m1.deviance, 0.0)
    df = k1 - k0
    p = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    out = pd.DataFrame(
        {"n_par": [k0, k1], "aic": [m0.aic, m1.aic], "bic": [m0.bic, m1.bic],
         "loglik": [m0.loglik, m1.loglik], "deviance": [m0.deviance, m1.deviance],
         "chisq": [np.nan, chisq], "df": [np.nan, df], "p": [np.nan, p]},
        index=pd.Index([m0.formula, m1.formula], name="model"),
    )
    if method == "bootstrap":
        boot = bootstrap_lrt(m0, m1, chisq, n_boot=n_boot, seed=seed, n_jobs=n_jobs)
        out["p_chisq"] = [np.nan, p]
        out["p"] = [np.nan, boot["p"]]
        out["n_boot"] = [np.nan, boot["n_boot"]]
        out["n_failed"] = [np.nan, boot["n_failed"]]
        out.attrs["statistics"] = boot["statistics"]
    return out
