"""MultilevelResult: the fitted nested model as tidy tables.

The object keeps the model frame (``frame``), the engine (``engine``, whose
``evaluate``/``varpar_deviance`` give the criterion anywhere), the estimates and the
Satterthwaite pieces (``satterthwaite``); the Kenward-Roger pieces (``kenward_roger``) and
effect sizes (:mod:`.effects`) are computed from them on request. Report sentences are the
presentation layer's (:func:`lerendtransformeren.report.text.model_report`), reached through
:func:`lerendtransformeren.presenters.present` without importing it here.

The tests of the fixed effects (``fixed``, ``contrast``, ``ftest``, ``anova``) use the
result's ``ddf`` method: ``"Satterthwaite"`` (default) or ``"Kenward-Roger"`` (REML fits
only). ``fit(..., ddf=...)`` chooses it; ``result.with_ddf(...)`` gives the same fit with the
other method, without refitting.
"""

from __future__ import annotations

import copy
import warnings
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.display import SummaryText
from lerendtransformeren.exceptions import ConvergenceWarning, SingularFitWarning, SpecificationError
from lerendtransformeren.multilevel import components as effects
from lerendtransformeren.multilevel import inference
from lerendtransformeren.multilevel import kenward_roger as kr
from lerendtransformeren.multilevel.display import lmm_view
from lerendtransformeren.multilevel import marginal
from lerendtransformeren.multilevel.engine import SINGULAR_TOL, NestedEngine
from lerendtransformeren.multilevel.fit_base import NestedFit
from lerendtransformeren.multilevel.frame import ModelFrame
from lerendtransformeren.multilevel.influence import influence
from lerendtransformeren.multilevel.residuals import model_fitted, model_residuals, ranef_intervals
from lerendtransformeren.presenters import present

__all__ = ["MultilevelResult", "DDF_METHODS"]

#: Methods for the denominator df of the fixed-effect tests (lmerTest's ``ddf`` spelling).
DDF_METHODS = ("Satterthwaite", "Kenward-Roger")

_LOG2PI = np.log(2 * np.pi)


class MultilevelResult(NestedFit):
    """A nested linear mixed model fitted by REML or ML (see :func:`fit`).

    Attributes
    ----------
    formula : str
    reml : bool
    theta : ndarray
        lme4's relative Cholesky factors (column-wise lower triangles, finest level first).
    sigma : float
        Residual standard deviation.
    converged : bool
        The optimiser's gradient and Hessian checks passed.
    singular : bool
        A variance component (a diagonal element of theta) is at or next to 0.
    ddf : {"Satterthwaite", "Kenward-Roger"}
        Small-sample method of ``fixed``, ``contrast``, ``ftest`` and ``anova``.
    """

    def __init__(self, frame: ModelFrame, engine: NestedEngine, opt, conf_level: float, data: pd.DataFrame,
                 ddf: str = "Satterthwaite"):
        self.ddf = _check_ddf(ddf, engine.reml)
        self.frame, self.engine, self.optimization = frame, engine, opt
        self.formula = frame.spec.formula
        self.reml = engine.reml
        self.conf_level = conf_level
        self._data = data
        self.theta = opt.theta
        ev = engine.evaluate(self.theta)
        self._eval = ev
        self.beta = ev.beta
        self.sigma = engine.sigma(ev)
        self.converged = bool(opt.converged)
        diag = np.isfinite(engine.lower)
        self.singular = bool(np.any(self.theta[diag] < SINGULAR_TOL))
        self.satterthwaite = inference.satterthwaite(engine, self.theta, self.sigma, self.beta)
        self._X = frame.X
        self._n_used = engine.n
        if self.singular:
            warnings.warn(
                "Singular fit: " + "; ".join(self._singular_parts()) + ". The data cannot tell "
                "this apart from a smaller random part; the fixed effects remain valid, tests of "
                "these variances are on the boundary. Consider simplifying the random part.",
                SingularFitWarning,
                stacklevel=3,
            )
        if not self.converged:
            warnings.warn(
                f"The optimiser did not pass its convergence checks ({opt.message}); estimates may "
                "be inaccurate. Rescale covariates or simplify the random part.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # -- parameters ----------------------------------------------------------------------
    def _singular_parts(self) -> list[str]:
        """Which random terms make the fit singular, in words."""
        parts = []
        for lev, sl in zip(self.frame.levels, self.engine.theta_slices):
            for blk, (s, rows, cols) in zip(lev.blocks, sl):
                diag = self.theta[s][rows == cols]
                if not np.any(diag < SINGULAR_TOL):
                    continue
                if blk.q == 1:
                    parts.append(f"the variance of {blk.names[0]} at level {blk.group!r} is estimated at 0")
                else:
                    parts.append(
                        f"the covariance matrix of ({', '.join(blk.names)}) at level {blk.group!r} is "
                        "singular (a variance at 0 or a correlation of +-1)"
                    )
        return parts

    @property
    def n_parameters(self) -> int:
        """Fixed effects + theta + residual sigma (the df of lme4's logLik)."""
        return self.engine.p + self.engine.n_theta + 1

    # -- fit statistics ------------------------------------------------------------------
    @property
    def reml_criterion(self) -> float:
        """-2 REML log-likelihood at the estimates (lme4's ``REMLcrit``); NaN for ML fits."""
        if not self.reml:
            return np.nan
        return float(self.optimization.criterion)

    @property
    def deviance(self) -> float:
        """-2 ML log-likelihood with beta and sigma profiled at theta-hat.

        For ML fits lme4's ``deviance(m)``; for REML fits ``deviance(m, REML = FALSE)``.
        """
        n = self.engine.n
        return float(self._eval.ldL2 + n * (1.0 + _LOG2PI + np.log(self._eval.pwrss / n)))

    @property
    def loglik(self) -> float:
        """Log-likelihood of the fitting criterion (REML or ML), as lme4's ``logLik``."""
        return -0.5 * (self.reml_criterion if self.reml else self.deviance)

    # -- small-sample method ---------------------------------------------------------------
    @cached_property
    def kenward_roger(self) -> kr.KenwardRoger:
        """Kenward-Roger pieces: adjusted covariance of beta and what its df need.

        See :func:`.kenward_roger.kenward_roger` (R: ``pbkrtest::vcovAdj``). REML fits only.
        """
        _check_ddf("Kenward-Roger", self.reml)
        return kr.kenward_roger(self.engine, self.frame.X, self.theta, self.sigma, self.beta)

    def _tests(self):
        """The contrast functions of the result's ddf method and the pieces they take."""
        if self.ddf == "Kenward-Roger":
            return kr, self.kenward_roger
        return inference, self.satterthwaite

    def with_ddf(self, ddf: str) -> MultilevelResult:
        """The same fit with its fixed-effect tests by another df method (no refit).

        Parameters
        ----------
        ddf : {"Satterthwaite", "Kenward-Roger"}
            ``"Kenward-Roger"``: standard errors from the Kenward-Roger adjusted covariance of
            the fixed effects and Kenward-Roger df (Kenward & Roger, 1997, as pbkrtest);
            REML fits only.

        Raises
        ------
        SpecificationError
            An unknown method, or Kenward-Roger for an ML fit.

        Examples
        --------
        R: ``summary(m, ddf = "Kenward-Roger")`` for ``m <- lmerTest::lmer(y ~ wave + (1 |
        org/team), data = d)`` (se 0.1916016, 0.0349743; df 14.31221, 199; p 0.0843131, 1.0e-07).

        >>> from lerendtransformeren.multilevel import fit
        >>> from lerendtransformeren.synthetic import nested_example
        >>> res = fit("y ~ wave + (1 | org/team)", nested_example())
        >>> res.with_ddf("Kenward-Roger").fixed[["se", "df", "p"]].round(4)
                       se        df       p
        term
        Intercept  0.1916   14.3122  0.0843
        wave       0.0350  199.0000  0.0000
        """
        other = copy.copy(self)
        other.ddf = _check_ddf(ddf, self.reml)
        other.__dict__.pop("fixed", None)  # the only cached table that depends on the method
        return other

    # -- tables --------------------------------------------------------------------------
    @cached_property
    def fixed(self) -> pd.DataFrame:
        """Fixed effects with the result's df method (lmerTest's ``summary(m, ddf = ...)$coefficients``)."""
        module, pieces = self._tests()
        rows = [module.contrast_1d(pieces, l, self.conf_level) for l in np.eye(self.engine.p)]
        out = pd.DataFrame(rows, index=pd.Index(self.frame.x_names, name="term"))
        return out[["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]]

    @cached_property
    def variance(self) -> pd.DataFrame:
        """Variance components, finest level first, then the residual (lme4's ``VarCorr``).

        Index (group, term); columns ``variance``, ``sd`` and, for correlated random
        effects, ``corr <term>`` (the correlation with that other term of the block).
        """
        s2 = self.sigma**2
        records = self._random_variance(s2)
        records.append({"group": "residual", "term": "", "variance": s2, "sd": self.sigma})
        return pd.DataFrame(records).set_index(["group", "term"])

    def _sd_parameters(self, varpar: np.ndarray) -> tuple[list[tuple[str, str, str]], np.ndarray]:
        """Random-effect SDs and correlations (lme4's ``sdcor``) and sigma at ``(theta, sigma)``."""
        theta, sigma = varpar[:-1], varpar[-1]
        keys, vals = [], []
        for lev, Lam in zip(self.frame.levels, self.engine.lambdas(theta)):
            off = 0
            for b in lev.blocks:
                Lb = Lam[off:off + b.q, off:off + b.q]
                cov = sigma**2 * Lb @ Lb.T
                sd = np.sqrt(np.diag(cov))
                for i, name in enumerate(b.names):
                    keys.append((b.group, name, "sd"))
                    vals.append(sd[i])
                for j in range(b.q):
                    for i in range(j + 1, b.q):
                        keys.append((b.group, b.names[i], f"corr {b.names[j]}"))
                        vals.append(cov[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan)
                off += b.q
        keys.append(("residual", "", "sd"))
        vals.append(sigma)
        return keys, np.array(vals)

    def variance_ci(self, method: str = "wald", conf_level: float | None = None) -> pd.DataFrame:
        """Confidence intervals for the random-effect SDs, correlations and the residual SD.

        ``method="wald"``: the delta method on the asymptotic covariance ``2 H^-1`` of
        ``(theta, sigma)`` (the Hessian of the deviance that Satterthwaite's df use,
        ``satterthwaite.vcov_varpar``), on the SD / correlation scale, ``estimate +- z se``;
        bounds are clipped to ``[0, inf)`` for SDs and ``[-1, 1]`` for correlations. At a
        singular fit the SE of a variance at 0 is not defined (NaN). Wald intervals for SDs
        are symmetric and too narrow with few units at a level (e.g. 15 organisations);
        ``method="profile"`` gives lme4's profile intervals (``confint(m, method =
        "profile")``) for models whose random terms are all scalar (random intercepts).

        Returns
        -------
        DataFrame indexed by (group, term, parameter) with columns estimate, se, ci_low,
        ci_high (se only for Wald).
        """
        level = self.conf_level if conf_level is None else conf_level
        varpar = np.r_[self.theta, self.sigma]
        keys, est = self._sd_parameters(varpar)
        if method == "profile":
            lo, hi = inference.profile_sd(self, level)
            se = np.full(len(est), np.nan)
        elif method == "wald":
            m = len(varpar)
            J = np.empty((len(est), m))
            for i in range(m):
                h = 1e-6 * max(1.0, abs(varpar[i]))
                e = np.zeros(m)
                e[i] = h
                up, down = self._sd_parameters(varpar + e)[1], self._sd_parameters(varpar - e)[1]
                if varpar[i] <= 0.0 and np.isfinite(self.engine.lower[i] if i < m - 1 else 0.0):
                    J[:, i] = (up - est) / h  # one-sided at the bound
                else:
                    J[:, i] = (up - down) / (2 * h)
            cov = J @ self.satterthwaite.vcov_varpar @ J.T
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
            at_zero = np.array([k[2] == "sd" and v < 1e-8 for k, v in zip(keys, est)])
            se[at_zero] = np.nan
            q = float(stats.norm.ppf(0.5 + level / 2))
            lo, hi = est - q * se, est + q * se
            is_corr = np.array([k[2] != "sd" for k in keys])
            lo = np.where(is_corr, np.clip(lo, -1, 1), np.clip(lo, 0, None))
            hi = np.where(is_corr, np.clip(hi, -1, 1), hi)
        else:
            raise SpecificationError(f"method must be 'wald' or 'profile', got {method!r}.")
        index = pd.MultiIndex.from_tuples(keys, names=["group", "term", "parameter"])
        return pd.DataFrame({"estimate": est, "se": se, "ci_low": lo, "ci_high": hi}, index=index)

    # -- random effects ------------------------------------------------------------------
    @cached_property
    def _modes(self):
        return self.engine.conditional_modes(self.theta, self.beta, self.sigma)

    def ranef(self, level: str, condsd: bool = False) -> pd.DataFrame:
        """Conditional modes (BLUPs) of one level's random effects.

        Parameters
        ----------
        level : str
            Grouping name (``"org:team"``) or its last factor (``"team"``).
        condsd : bool
            Add columns ``sd <term>``: conditional standard deviations
            (lme4's ``ranef(m, condVar = TRUE)``).

        Returns
        -------
        DataFrame indexed by unit label (``"O01:T1"`` for ``org:team``), sorted.
        """
        i = self._level_index(level)
        b, cov = self._modes[i]
        return self._modes_frame(i, b, cov if condsd else None, self.engine.unit_codes[i])

    def ranef_intervals(self, level: str, term: str = "Intercept", conf_level: float = 0.95) -> pd.DataFrame:
        """Conditional modes of one random-effect term with normal intervals per unit.

        ``mode +/- z * conditional SD``: the intervals lme4 draws with
        ``dotplot(ranef(m, condVar = TRUE))``. They describe the units of these data; they
        are not tests of a difference between units.

        Parameters
        ----------
        level : str
            Grouping name or its last factor, as in :meth:`ranef`.
        term : str, default "Intercept"
            A random-effect column of that level.
        conf_level : float, default 0.95

        Returns
        -------
        DataFrame indexed by unit label: ``estimate``, ``ci_low``, ``ci_high``.

        Examples
        --------
        >>> from lerendtransformeren.multilevel import fit
        >>> from lerendtransformeren.synthetic import nested_example
        >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
        >>> list(m.ranef_intervals("org").columns)
        ['estimate', 'ci_low', 'ci_high']
        """
        return ranef_intervals(self, level, term, conf_level)

    def predict(self, newdata: pd.DataFrame | None = None, level: str | None = None) -> pd.Series:
        """Predictions: fixed part plus the conditional modes down to ``level``.

        Parameters
        ----------
        newdata : DataFrame, optional
            Rows to predict; default the rows used in the fit. Units not seen in the fit
            get random effects 0 (lme4's ``allow.new.levels = TRUE``).
        level : str, optional
            ``None``: all levels (lme4's ``predict(m)``); ``"population"``: fixed part only
            (``re.form = NA``); a level name: that level and the coarser ones.
        """
        levels = self.frame.levels
        if level is None:
            use = range(len(levels))
        elif level == "population":
            use = range(0)
        else:
            use = range(self._level_index(level), len(levels))
        pred = (self.frame.X if newdata is None else self.frame.fixed_matrix(newdata)) @ self.beta
        data = None if newdata is None else newdata.reset_index(drop=True)
        for i in use:
            lev = levels[i]
            modes = self.ranef(lev.name)
            if data is None:
                keys = lev.labels[lev.codes]
            else:
                keys = data[list(lev.factors)].astype(str).agg(":".join, axis=1).to_numpy()
            bmat = modes.reindex(keys).fillna(0.0).to_numpy()
            col = 0
            for blk in lev.blocks:
                Z = (blk.Z if newdata is None else blk.matrix(newdata))
                pred += np.einsum("ij,ij->i", Z, bmat[:, col:col + blk.q])
                col += blk.q
        index = self.frame.row_index if newdata is None else newdata.index
        return pd.Series(pred, index=index, name="predicted")

    def fitted(self) -> pd.Series:
        """Conditional fitted values of the rows used (lme4's ``fitted(m)``); see :mod:`.residuals`."""
        return model_fitted(self)

    def residuals(self, type: str = "response") -> pd.Series:
        """Conditional residuals of the rows used: ``"response"`` (lme4's ``residuals(m)``) or
        ``"pearson"`` (divided by sigma: ``residuals(m, type = "pearson", scaled = TRUE)``); see
        :mod:`.residuals`."""
        return model_residuals(self, type)

    def _used_data(self) -> pd.DataFrame:
        return self._data.iloc[np.flatnonzero(self.frame.keep)].reset_index(drop=True)

    # -- model checks --------------------------------------------------------------------
    def influence(self, level: str | None = None):
        """Refit without each unit of ``level`` (default the top level): DFBETAS, Cook's distance
        and changed signs or significance (R: influence.ME); see :func:`.influence.influence`."""
        return influence(self, level)

    def plot_diagnostics(self, lang: str = "nl", **kwargs):
        """The diagnostic panel (residuals, QQ plots, influence); drawn by the presentation layer
        (``present("multilevel.plot_diagnostics", ...)``: ``lerendtransformeren.report.plot_diagnostics``)."""
        return present("multilevel.plot_diagnostics", self, lang=lang, **kwargs)

    def plot_caterpillar(self, level: str, term: str = "Intercept", lang: str = "nl", **kwargs):
        """Caterpillar plot of one level's conditional modes (``lerendtransformeren.report.plot_caterpillar``)."""
        return present("multilevel.plot_caterpillar", self, level, term=term, lang=lang, **kwargs)

    def plot_fixed(self, terms=None, labels=None, lang: str = "nl", **kwargs):
        """Forest plot of the fixed effects with their intervals (``lerendtransformeren.report.plot_fixed``)."""
        return present("multilevel.plot_fixed", self, terms=terms, labels=labels, lang=lang, **kwargs)

    # -- tests ---------------------------------------------------------------------------
    def contrast(self, L, names=None) -> pd.DataFrame:
        """t-test of each row of ``L beta`` with the result's df method (lmerTest's ``contest1D``).

        ``L`` is a vector, a matrix with one column per fixed effect, or a dict
        {term name: weight}; :meth:`ftest` tests the rows jointly. With Kenward-Roger the
        standard error is from the adjusted covariance (``pbkrtest::vcovAdj``).
        """
        L = self._as_matrix(L)
        module, pieces = self._tests()
        rows = [module.contrast_1d(pieces, l, self.conf_level) for l in L]
        return pd.DataFrame(rows, index=names)

    def ftest(self, L) -> dict:
        """Joint F-test of ``L beta = 0`` with the result's df method (lmerTest's ``contestMD``).

        With Kenward-Roger: pbkrtest's scaled F statistic and df (``KRmodcomp``).
        """
        module, pieces = self._tests()
        return module.contrast_md(pieces, self._as_matrix(L))

    def _as_matrix(self, L) -> np.ndarray:
        if isinstance(L, dict):
            unknown = set(L) - set(self.frame.x_names)
            if unknown:
                raise SpecificationError(f"Unknown fixed effects {sorted(unknown)}; they are {self.frame.x_names}.")
            return np.array([[L.get(n, 0.0) for n in self.frame.x_names]])
        L = np.atleast_2d(np.asarray(L, float))
        if L.shape[1] != self.engine.p:
            raise SpecificationError(f"A contrast needs {self.engine.p} columns (one per fixed effect), got {L.shape[1]}.")
        return L

    def marginal_means(self, specs, by=None, ddf=None, at=None, conf_level=None) -> marginal.MarginalMeans:
        """Estimated marginal means per condition, as R's ``emmeans(m, specs, by = , at = )``.

        Every factor level and each numeric covariate at its mean over the rows used (or
        at ``at``), averaged with equal weights over the factors not in ``specs``/``by``;
        SE and df by the result's method or ``ddf``. See :mod:`.marginal`.

        Examples
        --------
        >>> from lerendtransformeren.multilevel import fit
        >>> from lerendtransformeren.synthetic import nested_example
        >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
        >>> m.marginal_means("wave", at={"wave": [0, 5]}).table.columns.tolist()
        ['wave', 'estimate', 'se', 'df', 'ci_low', 'ci_high']
        """
        return marginal.marginal_means(self, specs, by=by, ddf=ddf, at=at, conf_level=conf_level)

    def marginal_contrasts(self, specs, by=None, method="pairwise", adjust="tukey", ddf=None, at=None,
                           conf_level=None) -> marginal.MarginalContrasts:
        """Contrasts of estimated marginal means, as R's ``contrast(emmeans(...), method, adjust = )``.

        ``method``: "pairwise", "revpairwise", "trt.vs.ctrl" (against the first level) or
        "consec"; ``adjust``: "tukey" (studentized range), "sidak", "bonferroni", "holm" or
        "none", within each ``by`` group. See :func:`.marginal.marginal_contrasts`.
        """
        return marginal.marginal_contrasts(self, specs, by=by, method=method, adjust=adjust, ddf=ddf, at=at,
                                           conf_level=conf_level)

    def anova(self) -> pd.DataFrame:
        """Type III F-tests with the result's df method (``lmerTest::anova(m, type = 3, ddf = ...)``).

        The same for every full-rank coding of the factors (``C(x)``, ``C(x, Sum)``,
        ``C(x, Helmert)``, ...), as lmerTest: the hypotheses are built from treatment coding
        and carried over to the model's coding.
        """
        contrasts = inference.type3_contrasts(self.frame.type3_design(), self.frame.X)
        module, pieces = self._tests()
        rows = {t: module.contrast_md(pieces, L) for t, L in contrasts.items()}
        out = pd.DataFrame(rows).T
        out.index.name = "term"
        return out.astype({"F": float, "numdf": int, "dendf": float, "p": float})

    def robust(self, cluster: str | None = None, conf_level: float | None = None):
        """CR2 (Bell-McCaffrey) cluster-robust tests of the fixed effects, Satterthwaite df.

        A sensitivity analysis: the fitted model is the working model, the covariance of the
        fixed effects is estimated from the residuals per cluster (default: the top level).
        R: ``clubSandwich::coef_test(fit, vcov = "CR2", test = "Satterthwaite")``. See
        :func:`lerendtransformeren.multilevel.robust.cr2`.
        """
        from lerendtransformeren.multilevel.robust import cr2

        return cr2(self, cluster=cluster, conf_level=conf_level)

    def refit(self, reml: bool) -> MultilevelResult:
        """The same model fitted by REML (``reml=True``) or ML.

        A REML refit keeps the df method; an ML refit uses Satterthwaite's (Kenward-Roger is
        defined for REML fits only).
        """
        engine = NestedEngine(self.frame.y, self.frame.X, self.frame.levels, reml=reml)
        ddf = self.ddf if reml else "Satterthwaite"
        return MultilevelResult(self.frame, engine, engine.optimize(start=self.theta), self.conf_level, self._data,
                                ddf=ddf)

    def lrt(self, other: MultilevelResult) -> pd.DataFrame:
        """Likelihood-ratio test against a nested model (see :func:`inference.lrt`)."""
        return inference.lrt(other, self)

    # -- effect sizes ----------------------------------------------------------------------
    @cached_property
    def icc(self) -> pd.DataFrame:
        """Variance partition per level with cumulative ICC and design effect.

        See :func:`.effects.icc` (R: ``performance::icc``).
        """
        return effects.icc(self)

    @cached_property
    def r2(self) -> pd.Series:
        """Marginal and conditional R2 (Nakagawa; Johnson for slopes); see :func:`.effects.r2`."""
        return effects.r2(self)

    def icc_r2_ci(self, n_boot: int = 1000, *, seed=None, n_jobs: int = 1, conf_level: float | None = None,
                  progress: bool | None = None, client=None):
        """Parametric-bootstrap percentile intervals of ``icc["icc"]`` per level and of ``r2``.

        See :func:`.bootstrap.bootstrap_icc_r2` (R: ``lme4::bootMer`` with ``type =
        "parametric"``; ``performance::icc(m, ci = 0.95)``). Returns an
        :class:`~.bootstrap.IccR2Bootstrap` (``.icc``, ``.r2``, ``.table``, ``.notes``).
        """
        from lerendtransformeren.multilevel.bootstrap import bootstrap_icc_r2

        return bootstrap_icc_r2(self, n_boot, seed=seed, n_jobs=n_jobs, conf_level=conf_level, progress=progress,
                                client=client)

    def standardized_effect(self, term, *, sd: str = "total", baseline_sd: float | None = None) -> pd.DataFrame:
        """Standardised effect size d with CI for fixed effects; see :func:`.effects.standardized_effect`."""
        return effects.standardized_effect(self, term, sd=sd, baseline_sd=baseline_sd)

    # -- text ----------------------------------------------------------------------------
    def report(self, lang: str = "nl", *, labels=None) -> str:
        """APA-style sentences on the fixed effects and the variance partition.

        Written by the presentation layer (``present("multilevel.report", ...)``:
        :func:`lerendtransformeren.report.text.model_report`), which loads on first use.
        Factor terms name their reference category; levels are named by their units.

        Parameters
        ----------
        lang : {"nl", "en"}
        labels : mapping, optional
            Words per term, ``{"offer": ("het aanbod", "the offer")}``.

        Examples
        --------
        >>> from lerendtransformeren.multilevel import fit
        >>> from lerendtransformeren.synthetic import nested_example
        >>> d = nested_example()  # 10 organisations x 4 teams x 6 waves
        >>> print(fit("y ~ wave + (1 | org/team)", d).report(lang="en"))  # doctest: +ELLIPSIS
        The effect of time (per wave) was b = 0.19, 95% CI [0.12, 0.26], t(199) = 5.53, p < .001. ...
        """
        return present("multilevel.report", self, lang=lang, labels=labels)

    def summary(self) -> SummaryText:
        """Plain-text summary in the layout of lme4's ``summary`` with lmerTest's df.

        A ``str`` that a notebook cell shows as text (:class:`~lerendtransformeren.display.SummaryText`).
        """
        crit = f"REML criterion: {self.reml_criterion:.4f}" if self.reml else f"Deviance: {self.deviance:.4f}"
        tests = ("t-tests use Satterthwaite's df" if self.ddf == "Satterthwaite" else
                 "t-tests use Kenward-Roger's adjusted standard errors and df")
        lines = [
            f"Linear mixed model fitted by {'REML' if self.reml else 'ML'} (nested engine); {tests}",
            f"Formula: {self.formula}",
            f"{crit}   logLik: {self.loglik:.4f}   AIC: {self.aic:.4f}   BIC: {self.bic:.4f}",
            *summary_body(self.variance, self.fixed, self.frame),
        ]
        lines.extend(self.notes)
        if self.singular:
            lines.append("Singular fit: a variance component is estimated at 0.")
        if not self.converged:
            lines.append(f"Convergence check failed: {self.optimization.message}")
        return SummaryText("\n".join(lines))

    @property
    def notes(self) -> list[str]:
        """What the model frame changed or left out and why (e.g. unused factor categories)."""
        return list(self.frame.notes)

    def __repr__(self) -> str:
        return lmm_view(self).text()

    def _repr_html_(self) -> str:
        return lmm_view(self).html()


def summary_body(variance: pd.DataFrame, fixed: pd.DataFrame, frame: ModelFrame) -> list[str]:
    """The lines of a linear mixed model's summary below its head (lme4's layout): random
    effects, fixed effects and the rows and units used."""
    n = len(frame.y)
    return [
        "",
        "Random effects:",
        variance.to_string(float_format=lambda v: f"{v:.5g}"),
        "",
        "Fixed effects:",
        fixed.to_string(float_format=lambda v: f"{v:.5g}"),
        "",
        "Number of observations: "
        + f"{n} used, {frame.n_total - n} left out; "
        + ", ".join(f"{lev.name}: {lev.n_units}" for lev in frame.levels),
    ]


def _check_ddf(ddf: str, reml: bool) -> str:
    """``ddf`` if it names a method that applies to the fit; else a SpecificationError."""
    if ddf not in DDF_METHODS:
        raise SpecificationError(f"ddf must be one of {list(DDF_METHODS)}, got {ddf!r}.")
    if ddf == "Kenward-Roger" and not reml:
        raise SpecificationError(
            "Kenward-Roger's method is defined for REML fits only; this model was fitted by ML. "
            "Refit it with REML (fit(..., reml=True) or result.refit(reml=True)), or use "
            "ddf='Satterthwaite'."
        )
    return ddf
