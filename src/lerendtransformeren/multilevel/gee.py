"""Population-averaged models (GEE) for binary and count outcomes with few clusters.

Referral to specialised care (0/1) and the number of contacts (a count) are analysed with
generalised estimating equations (Liang & Zeger 1986): a marginal regression model with a
working correlation inside clusters and a cluster-robust ("sandwich") covariance of the
coefficients. Clusters are the top level, usually the organisations (``cluster=
"organisation"``): all lower levels (teams, professionals, families, waves) are then inside
a cluster and the sandwich is robust to any correlation among them.

With only 15 organisations the plain sandwich is biased downward and Wald z-tests reject
too often. :func:`fit_gee` therefore offers

* the bias-reduced sandwich of Mancl & DeRouen (2001), ``small_sample="md"`` (default):
  cluster residuals are replaced by ``(I - H_ii)^{-1} r_i``;
* the sandwich of Kauermann & Carroll (2001), ``small_sample="kc"``: residuals
  ``(I - H_ii)^{-1/2} r_i`` (principal square root);
* the uncorrected sandwich of Liang & Zeger, ``small_sample="none"``;

with ``H_ii = D_i (sum_j D_j' V_j^{-1} D_j)^{-1} D_i' V_i^{-1}`` the cluster's leverage
block, and t-based tests and intervals. The degrees of freedom follow ``df``:

* ``"clusters"`` (default): ``m - p``, the number of clusters minus the number of
  fixed-effect parameters (intercept included), as in the simulation studies of MD and KC
  with few clusters (Li & Redden 2015); the more conservative choice;
* ``"between"``: ``m - p_between``, clusters minus the cluster-level parameters (the
  intercept and every column of the design matrix that is constant within each cluster).
  This is the between part of SAS's between-within rule; its within part (rows minus
  clusters) is not used, because a sandwich variance rests on ``m`` cluster sums whatever
  the covariate, so its degrees of freedom cannot exceed ``m - 1``;
* ``"normal"``: no t reference distribution (Wald z, as geepack and statsmodels report);
* an integer: degrees of freedom given by the user.

MD over-corrects somewhat when the clusters are of similar size (intervals a little too
wide), KC under-corrects somewhat when they vary a lot; Li & Redden (2015) recommend KC for
a coefficient of variation of cluster sizes below about 0.6 and MD above it. An
exchangeable working correlation at the organisation level treats all pairs of rows in an
organisation alike, although teams, families and waves are nested inside it; that costs
efficiency only, the sandwich stays valid.

The coefficients are those of statsmodels' ``GEE``; the three sandwich covariances are
computed here from the fitted GEE pieces (the MD covariance equals statsmodels'
``cov_type="bias_reduced"``; statsmodels has no KC). Both were checked against a direct
computation in R on geepack::geeglm fits and against clubSandwich (CR3 = MD on a glm
with independence working correlation); see ``tests/reference/gee/``.

R equivalents: ``geepack::geeglm(y ~ x, id = cluster, family = binomial, corstr =
"exchangeable")`` for the fit; ``geesmv::GEE.var.md`` for the MD covariance; for
independence working correlation ``clubSandwich::vcovCR(glm_fit, cluster, type = "CR3")``
(= MD) and ``type = "CR2"``, the Bell-McCaffrey adjustment, which is built on the glm's
working-weight scale and is close to, not identical with, KC (0.1% apart on the reference
cases). ``geesmv::GEE.var.kc`` takes the inverse square root of the non-symmetric
``I - H_ii`` with a routine meant for symmetric matrices and can therefore differ from KC
as defined here (the principal root).

References
----------
Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
regression with multi-stage samples. *Survey Methodology*, 28(2), 169-181.

Cameron, A. C., & Trivedi, P. K. (2013). *Regression Analysis of Count Data* (2nd ed.).
Cambridge University Press.

Kauermann, G., & Carroll, R. J. (2001). A note on the efficiency of sandwich covariance
matrix estimation. *Journal of the American Statistical Association*, 96(456), 1387-1396.

Li, P., & Redden, D. T. (2015). Small sample performance of bias-corrected sandwich
estimators for cluster-randomized trials with binary outcomes. *Statistics in Medicine*,
34(2), 281-296.

Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear
models. *Biometrika*, 73(1), 13-22.

Mancl, L. A., & DeRouen, T. A. (2001). A covariance estimator for GEE with improved
small-sample properties. *Biometrics*, 57(1), 126-134.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
from scipy import stats
from statsmodels.genmod import cov_struct as sm_cov_struct
from statsmodels.genmod import families as sm_families
from statsmodels.genmod.generalized_estimating_equations import GEE
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from statsmodels.tools.sm_exceptions import IterationLimitWarning

from lerendtransformeren.display import SummaryText
from lerendtransformeren.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    SpecificationError,
)
from lerendtransformeren.multilevel.display import gee_view
from lerendtransformeren.multilevel.frame import Design, build_design, capture_context
from lerendtransformeren.presenters import present

__all__ = ["GEEResult", "fit_gee"]

#: Below this number of clusters a warning says that inference rests on the correction.
FEW_CLUSTERS = 10
#: Convergence tolerance on the norm of the estimating equations (statsmodels ``ctol``).
CTOL = 1e-10
#: Converged when one more Newton step would move every estimate by less than this many SEs.
STEP_TOL = 1e-6

_FAMILIES = ("binomial", "poisson", "negativebinomial", "gaussian")
_COV_STRUCTS = ("exchangeable", "independence")
_SMALL_SAMPLE = {"md": -1.0, "kc": -0.5, "none": 0.0}  # power of (I - P_ii) on residuals
_DF_RULES = ("clusters", "between", "normal")

# The correction as the plain-text summary names it (the report sentences are written by
# the presentation layer: lerendtransformeren.report.text.gee_sentence).
_CORRECTION_NAME = {
    "md": "Mancl-DeRouen correction",
    "kc": "Kauermann-Carroll correction",
    "none": "small-sample correction",
}


@dataclass(frozen=True, eq=False, repr=False)
class GEEResult:
    """Result of :func:`fit_gee`.

    Attributes
    ----------
    formula : str
        The model formula.
    family : str
        ``"binomial"``, ``"poisson"``, ``"negativebinomial"`` or ``"gaussian"``.
    link : str
        ``"logit"``, ``"log"`` or ``"identity"``.
    cov_struct : str
        Working correlation structure, ``"exchangeable"`` or ``"independence"``.
    cluster : str
        Name of the cluster column.
    small_sample : str
        Sandwich correction: ``"md"``, ``"kc"`` or ``"none"``.
    df_rule : str
        How the degrees of freedom were set (``"clusters"``, ``"between"``, ``"normal"``
        or ``"user"``).
    conf_level : float
        Confidence level of the intervals.
    fixed : pandas.DataFrame
        One row per coefficient (index: design column names such as ``"Intercept"``,
        ``"offer"``, ``"C(ses)[T.laag]"``), on the link scale: ``estimate, se, df, t, p,
        ci_low, ci_high``; and ``exp_estimate, exp_ci_low, exp_ci_high``, the odds ratio
        (binomial) or rate ratio (poisson, negative binomial) with its interval, NaN for the
        gaussian family. With ``df_rule == "normal"`` the ``t`` column holds Wald z and
        ``df`` is infinite.
    cov : pandas.DataFrame
        The (corrected) sandwich covariance of the coefficients used for ``fixed``.
    n : dict
        ``clusters``, ``rows_used``, ``rows_left_out`` and the rows left out by reason:
        ``missing_outcome``, ``missing_covariate``, ``missing_cluster``.
    left_out : pandas.Series
        Reason (``"missing outcome"``, ``"missing covariate"``, ``"missing cluster"``)
        for every row left out, indexed by the row labels of the input data. A row is
        counted under the first reason that applies, in this order.
    working_correlation : float
        Estimated exchangeable correlation within clusters (0 for independence).
    scale : float
        Dispersion (1 for binomial, poisson and negative binomial).
    nb_alpha : float or None
        Negative binomial dispersion ``alpha`` (variance ``mu + alpha mu^2``).
    converged : bool
        Whether statsmodels solved the estimating equations to ``CTOL`` and one more Newton
        step, at the final estimates and working correlation, would move every estimate
        by less than ``STEP_TOL`` standard errors.
    design : Design
        The fixed design of the fit, to code new data (:meth:`predict`).
    """

    formula: str
    family: str
    link: str
    cov_struct: str
    cluster: str
    small_sample: str
    df_rule: str
    conf_level: float
    fixed: pd.DataFrame
    cov: pd.DataFrame
    n: dict
    left_out: pd.Series
    working_correlation: float
    scale: float
    nb_alpha: float | None
    converged: bool
    design: Design | None = None

    def predict(self, newdata: pd.DataFrame, scale: str = "response") -> pd.Series:
        """Population-averaged predictions for ``newdata``, with the fit's codings.

        Parameters
        ----------
        newdata : DataFrame
            Rows with the columns of the formula's right-hand side; a row with a missing
            value predicts NaN.
        scale : {"response", "link"}
            The mean (probability, rate) or the linear predictor. R: ``predict(fit,
            newdata, type = "response")`` of ``geepack::geeglm``.
        """
        if scale not in ("response", "link"):
            raise SpecificationError(f"scale must be 'response' or 'link', got {scale!r}.")
        if self.design is None:
            raise SpecificationError("This result keeps no design to code new data.")
        eta = self.design.matrix(newdata) @ self.fixed["estimate"].to_numpy()
        if scale == "response":
            eta = {"logit": lambda v: 1.0 / (1.0 + np.exp(-v)), "log": np.exp}.get(self.link, lambda v: v)(eta)
        return pd.Series(eta, index=newdata.index, name="predicted")

    def summary(self) -> SummaryText:
        """Plain-text summary: model, correction, degrees of freedom, rows and the table.

        Returns
        -------
        SummaryText
            A ``str`` that a notebook cell shows as text.

        Examples
        --------
        >>> result = fit_gee("y ~ x", _example_data(), cluster="org")
        >>> print(result.summary())  # doctest: +ELLIPSIS
        GEE (population-averaged), family binomial, link logit
        ...
        Covariance: sandwich with Mancl-DeRouen correction; t tests with df = clusters -
        parameters = 10
        ...
        """
        n = self.n
        correction = (
            "sandwich without small-sample correction (Liang-Zeger)"
            if self.small_sample == "none"
            else f"sandwich with {_CORRECTION_NAME[self.small_sample]}"
        )
        df = self.fixed["df"].iloc[0]
        df_text = {
            "clusters": f"t tests with df = clusters - parameters = {df:g}",
            "between": f"t tests with df = clusters - cluster-level parameters = {df:g}",
            "normal": "Wald z tests (no small-sample degrees of freedom)",
            "user": f"t tests with df = {df:g} (given)",
        }[self.df_rule]
        nb_text = "" if self.nb_alpha is None else f"; negative binomial alpha: {self.nb_alpha:.4g}"
        working = f"{self.cov_struct}"
        if self.cov_struct == "exchangeable":
            working += f" (correlation {self.working_correlation:.4f})"
        lines = [
            f"GEE (population-averaged), family {self.family}, link {self.link}",
            f"Formula: {self.formula}",
            f"Clusters: {n['clusters']} ({self.cluster}); rows used: {n['rows_used']}; "
            f"rows left out: {n['rows_left_out']} (missing outcome {n['missing_outcome']}, "
            f"missing covariate {n['missing_covariate']}, "
            f"missing cluster {n['missing_cluster']})",
            f"Working correlation: {working}; scale: {self.scale:.4g}" + nb_text,
            f"Covariance: {correction}; {df_text}",
            f"Converged: {'yes' if self.converged else 'NO'}",
            "",
            self.fixed.to_string(float_format=lambda v: f"{v:.4g}"),
        ]
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return gee_view(self).text()

    def _repr_html_(self) -> str:
        return gee_view(self).html()

    def report(
        self,
        term: str | None = None,
        lang: str = "nl",
        *,
        term_label: str | None = None,
        outcome_label: str | None = None,
        alpha: float = 0.05,
    ) -> str:
        """One APA-style sentence on one coefficient, in Dutch or English.

        The sentence describes an association ("ging samen met een lagere kans op",
        "was associated with lower odds of") when ``p < alpha``, and otherwise says that no
        association was shown. Whether it may be read as an effect depends on the design
        (for the offer in a stepped-wedge roll-out, often yes; for SES or migration
        background, no); say so in the surrounding text. The first letter is capitalised. Numbers: two decimals,
        p in APA style (no leading zero, ``p < .001``), Dutch decimal commas for ``"nl"``.

        Parameters
        ----------
        term : str, optional
            Row of ``fixed``; default the first coefficient that is not the intercept.
        lang : {"nl", "en"}
        term_label, outcome_label : str, optional
            Words for the term and the outcome (default: their names).
        alpha : float
            Significance level for the choice of verb.

        Returns
        -------
        str
            Written by the presentation layer (``present("gee.report", ...)``:
            :func:`lerendtransformeren.report.text.gee_sentence`).

        Examples
        --------
        >>> result = fit_gee("y ~ x", _example_data(), cluster="org")
        >>> print(result.report(term_label="Het aanbod", outcome_label="verwijzing"))
        Het aanbod ging samen met een hogere kans op verwijzing (OR = 2,08, 95%-BI [1,17; 3,72],
        t(10) = 2,82, p = ,018; GEE met Mancl-DeRouen-correctie, 12 clusters).
        >>> print(result.report(lang="en"))
        X was associated with higher odds of y (OR = 2.08, 95% CI [1.17, 3.72], t(10) = 2.82, p = .018;
        GEE with Mancl-DeRouen correction, 12 clusters).
        """
        return present(
            "gee.report", self, term, lang, term_label=term_label, outcome_label=outcome_label, alpha=alpha
        )


def fit_gee(
    formula: str,
    data: pd.DataFrame,
    *,
    cluster: str,
    family: str = "binomial",
    cov_struct: str = "exchangeable",
    small_sample: str = "md",
    df: str | int = "clusters",
    nb_alpha: float | None = None,
    conf_level: float = 0.95,
    maxiter: int = 100,
    transform_rows: str = "all",
) -> GEEResult:
    """Fit a population-averaged model by GEE with small-sample inference for few clusters.

    Parameters
    ----------
    formula : str
        Formula as for :func:`~lerendtransformeren.multilevel.fit` without random terms,
        e.g. ``"referral ~ offer + wave + C(ses)"``. The outcome must be one
        numeric column: 0/1 for ``binomial``, non-negative for ``poisson`` and
        ``negativebinomial`` (non-integer values are allowed: quasi-likelihood).
    data : pandas.DataFrame
        Long data, one row per observation.
    cluster : str
        Column with the cluster identifiers: the top level, e.g. ``"organisation"``.
    family : {"binomial", "poisson", "negativebinomial", "gaussian"}
        Logit, log, log and identity link.
    cov_struct : {"exchangeable", "independence"}
        Working correlation within clusters.
    small_sample : {"md", "kc", "none"}
        Mancl-DeRouen (default), Kauermann-Carroll or no correction of the sandwich.
    df : {"clusters", "between", "normal"} or int
        Degrees of freedom of the t tests: clusters minus parameters (default), clusters
        minus cluster-level parameters, none (z tests) or a given number (see the module
        documentation).
    nb_alpha : float, optional
        Negative binomial dispersion (variance ``mu + alpha mu^2``). By default it is
        estimated once by the method of moments from a Poisson fit,
        ``sum((y - mu)^2 - mu) / sum(mu^2)`` (Cameron & Trivedi 2013, sec. 3.2), floored
        at 0. It only sets the working variance: the sandwich inference stays valid
        whatever its value.
    conf_level : float
        Confidence level of the intervals.
    maxiter : int
        Maximum number of GEE iterations.
    transform_rows : {"all", "used"}
        Rows that ``center(x)``, ``scale(x)`` and ``poly(x, 2)`` are computed on: every row
        where ``x`` is observed (default, as R's ``model.frame`` in ``geepack::geeglm``) or
        the rows used only (see :func:`~lerendtransformeren.multilevel.fit`).

    Returns
    -------
    GEEResult

    Raises
    ------
    SpecificationError
        Unknown option, cluster column or formula variable; outcome that is not one numeric
        column; collinear predictors; degrees of freedom below 1.
    DataError
        Fewer than 2 clusters; constant outcome; outcome not 0/1 (binomial) or negative
        (counts); a cluster with leverage 1 (the corrections are undefined).
    ConvergenceError
        statsmodels could not solve the estimating equations.

    Warns
    -----
    DataWarning
        Rows were left out (with the count per reason), or fewer than ``FEW_CLUSTERS``
        clusters.
    ConvergenceWarning
        The iteration limit was reached.

    Notes
    -----
    R equivalent: ``geepack::geeglm(referral ~ offer + wave, id = organisation, family =
    binomial, corstr = "exchangeable")`` with ``geesmv::GEE.var.md`` (``small_sample=
    "md"``) and t tests on ``m - p`` df; with independence working correlation also
    ``clubSandwich::coef_test(glm_fit, vcov = "CR3", cluster = organisation)`` for MD
    (CR2 is close to, not equal to, KC; see the module documentation). geepack estimates
    the exchangeable correlation and the scale with the moment estimators used here:
    sums of Pearson residual products divided by the number of pairs and of rows,
    without subtracting p (statsmodels ``ddof_scale=0``).

    Examples
    --------
    >>> data = _example_data()          # 12 organisations, binary y, covariate x
    >>> result = fit_gee("y ~ x", data, cluster="org", family="binomial")
    >>> result.n["clusters"], result.n["rows_used"]
    (12, 240)
    >>> result.fixed.loc["x", ["estimate", "se", "df", "p", "exp_estimate"]].round(3).tolist()
    [0.734, 0.26, 10.0, 0.018, 2.083]

    The same in R, with the MD covariance by hand or from geesmv::GEE.var.md:
    ``fit <- geepack::geeglm(y ~ x, id = org, family = binomial, corstr =
    "exchangeable", data = data)``.
    """
    context = capture_context(1)
    _check_options(family, cov_struct, small_sample, df, conf_level, nb_alpha)
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
    if cluster not in data.columns:
        raise SpecificationError(
            f"The cluster column {cluster!r} is not in the data. Columns: "
            f"{_some(list(data.columns), 12)}. Pass cluster= the column with the top-level "
            "units, e.g. cluster='organisation'."
        )

    frame = data.reset_index(drop=True)
    y, x, groups, left_out, design = _design(formula, frame, cluster, context, transform_rows)
    left_out.index = data.index[left_out.index]
    _check_outcome(y, family, data.index[y.index])

    cluster_ids, group_codes = np.unique(groups.to_numpy(), return_inverse=True)
    m = len(cluster_ids)
    if m < 2:
        raise DataError(
            f"Only {m} cluster ({cluster!r} = {cluster_ids[0]!r}) after leaving out "
            f"{len(left_out)} rows: a cluster-robust covariance needs at least 2 clusters, "
            "and in practice many more. Use a lower level as cluster or a model-based analysis."
        )
    _check_rank(x)
    df_value, df_rule = _degrees_of_freedom(df, x, group_codes, m)

    counts = left_out.value_counts()
    n = {
        "clusters": m,
        "rows_used": len(y),
        "rows_left_out": len(left_out),
        "missing_outcome": int(counts.get("missing outcome", 0)),
        "missing_covariate": int(counts.get("missing covariate", 0)),
        "missing_cluster": int(counts.get("missing cluster", 0)),
    }
    if n["rows_left_out"]:
        warnings.warn(
            f"{n['rows_left_out']} of {len(data)} rows left out: {n['missing_outcome']} with a "
            f"missing outcome, {n['missing_covariate']} with a missing covariate, "
            f"{n['missing_cluster']} with a missing {cluster!r} (first rows: "
            f"{_some(list(left_out.index), 5)}). Unweighted GEE stays unbiased only if "
            "missingness does not depend on the outcome given the covariates; see "
            "result.left_out.",
            DataWarning,
            stacklevel=2,
        )
    if m < FEW_CLUSTERS:
        advice = (
            "the uncorrected sandwich is biased downward here; use small_sample='md' or 'kc'"
            if small_sample == "none"
            else "inference rests on the small-sample correction and the t reference"
        )
        warnings.warn(
            f"Only {m} clusters ({cluster!r}): {advice}. Intervals and p-values are "
            "approximate; report the number of clusters.",
            DataWarning,
            stacklevel=2,
        )

    endog = y.to_numpy(dtype=float)
    exog = x.to_numpy(dtype=float)
    if family == "negativebinomial" and nb_alpha is None:
        nb_alpha = _moment_nb_alpha(endog, exog)
    fam = _family(family, nb_alpha)
    fit = _fit(endog, exog, group_codes, fam, cov_struct, maxiter)

    params = np.asarray(fit.params)
    alpha = float(np.asarray(fit.cov_struct.dep_params)) if cov_struct == "exchangeable" else 0.0
    cov, step = _sandwich(
        endog, exog, group_codes, cluster_ids, fam, params, alpha, _SMALL_SAMPLE[small_sample]
    )
    step_in_se = float(np.max(np.abs(step) / np.sqrt(np.diag(cov))))
    converged = bool(fit.converged) and step_in_se < STEP_TOL
    if not converged:
        warnings.warn(
            f"GEE did not converge in {maxiter} iterations: one more step would move an "
            f"estimate by {step_in_se:.2g} standard errors. Estimates and standard errors "
            "may be off; raise maxiter or simplify the model.",
            ConvergenceWarning,
            stacklevel=2,
        )
    names = list(x.columns)
    return GEEResult(
        formula=formula,
        family=family,
        link={"binomial": "logit", "gaussian": "identity"}.get(family, "log"),
        cov_struct=cov_struct,
        cluster=cluster,
        small_sample=small_sample,
        df_rule=df_rule,
        conf_level=conf_level,
        fixed=_fixed_table(params, cov, df_value, conf_level, names, family != "gaussian"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        n=n,
        left_out=left_out,
        working_correlation=alpha,
        scale=float(fit.scale),
        nb_alpha=nb_alpha,
        converged=converged,
        design=design,
    )


# ----------------------------------------------------------------------------- checks


def _check_options(family, cov_struct, small_sample, df, conf_level, nb_alpha) -> None:
    for name, value, allowed in (
        ("family", family, _FAMILIES),
        ("cov_struct", cov_struct, _COV_STRUCTS),
        ("small_sample", small_sample, tuple(_SMALL_SAMPLE)),
    ):
        if value not in allowed:
            raise SpecificationError(f"{name}={value!r} is not supported; use one of {allowed}.")
    if isinstance(df, str):
        if df not in _DF_RULES:
            raise SpecificationError(
                f"df={df!r} is not supported; use one of {_DF_RULES} or an integer."
            )
    elif isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise SpecificationError(
            f"df must be one of {_DF_RULES} or a positive integer, not {df!r}."
        )
    if not 0 < conf_level < 1:
        raise SpecificationError(f"conf_level must lie between 0 and 1, not {conf_level!r}.")
    if nb_alpha is not None and (family != "negativebinomial" or not nb_alpha >= 0):
        raise SpecificationError(
            "nb_alpha is the dispersion of family='negativebinomial' and must be >= 0; "
            f"got nb_alpha={nb_alpha!r} with family={family!r}."
        )


def _design(formula, frame, cluster, context, transform_rows):
    """Outcome, design matrix and clusters of the complete rows; reasons for the others.

    Built by the multilevel model frame's formula backend (:func:`.frame.build_design`), so
    that codings, ``center``/``scale`` and row accounting are those of ``fit``.
    """
    has_cluster = frame[cluster].notna().to_numpy()
    y, x, design, reason, notes = build_design(formula, frame, context, transform_rows,
                                               required={"missing cluster": has_cluster})
    if y.shape[1] != 1:
        raise SpecificationError(
            f"The outcome of {formula!r} gives {y.shape[1]} columns {list(y.columns)}: "
            "it must be one numeric column. Recode text or True/False outcomes to 0/1 first, "
            "e.g. data['referral'] = data['referral'].astype(int)."
        )
    used = reason == ""
    left_out = pd.Series(reason[~used], index=frame.index[~used], name="reason", dtype=object)
    if not used.any():
        raise DataError(
            f"No complete rows for {formula!r} with cluster {cluster!r}: "
            f"{left_out.value_counts().to_dict()}."
        )
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=3)
    return y.iloc[:, 0], x, frame.loc[used, cluster], left_out, design


def _check_outcome(y: pd.Series, family: str, labels: pd.Index) -> None:
    values = y.to_numpy()
    if np.all(values == values[0]):
        raise DataError(
            f"The outcome {y.name!r} is {values[0]:g} in all {len(values)} rows used: there is "
            "nothing to model. Check the coding and the selection of rows."
        )
    if family == "binomial":
        bad = ~np.isin(values, (0.0, 1.0))
        what = "must be 0 or 1 for family='binomial'"
        fix = "Recode it to 0/1 (e.g. 1 = referred)."
    elif family in ("poisson", "negativebinomial"):
        bad = values < 0
        what = f"is a count and cannot be negative for family={family!r}"
        fix = "Check the data entry or the missing-value codes (e.g. -9)."
    else:
        return
    if bad.any():
        distinct = sorted(set(values[bad].tolist()))
        shown = ", ".join(f"{v:g}" for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
        raise DataError(
            f"The outcome {y.name!r} {what}, but has the values [{shown}] in "
            f"{int(bad.sum())} rows (rows {_some(list(labels[bad]), 5)}). {fix}"
        )


def _check_rank(x: pd.DataFrame) -> None:
    values = x.to_numpy(dtype=float)
    _, r, pivot = scipy.linalg.qr(values, mode="economic", pivoting=True)
    tol = np.abs(r[0, 0]) * max(values.shape) * np.finfo(float).eps
    rank = int(np.sum(np.abs(np.diag(r)) > tol))
    if rank < values.shape[1]:
        dropped = [x.columns[j] for j in pivot[rank:]]
        raise SpecificationError(
            f"The predictors are collinear: {dropped} can be written as a combination of the "
            "other columns in the rows used. Remove them from the formula."
        )


def _degrees_of_freedom(df, x: pd.DataFrame, codes: np.ndarray, m: int) -> tuple[float, str]:
    p = x.shape[1]
    if df == "normal":
        return np.inf, "normal"
    if df == "clusters":
        value, rule = m - p, f"clusters - parameters = {m} - {p}"
    elif df == "between":
        constant = (x.groupby(codes).nunique() == 1).all()
        p_between = int(constant.sum())
        value, rule = m - p_between, f"clusters - cluster-level parameters = {m} - {p_between}"
    else:
        return float(df), "user"
    if value < 1:
        raise SpecificationError(
            f"The t degrees of freedom are {rule} = {value} < 1: {m} clusters cannot support "
            "this many parameters. Use fewer predictors, more clusters, or df='normal' "
            "(z tests, anti-conservative with few clusters)."
        )
    return float(value), df


# ----------------------------------------------------------------------------- fitting


def _family(family: str, nb_alpha: float | None):
    if family == "binomial":
        return sm_families.Binomial()
    if family == "poisson":
        return sm_families.Poisson()
    if family == "negativebinomial":
        return sm_families.NegativeBinomial(alpha=nb_alpha)
    return sm_families.Gaussian()


def _moment_nb_alpha(endog: np.ndarray, exog: np.ndarray) -> float:
    """Method-of-moments NB dispersion from a Poisson GLM fit (independence)."""
    mu = GLM(endog, exog, family=sm_families.Poisson()).fit().fittedvalues
    return float(max(0.0, np.sum((endog - mu) ** 2 - mu) / np.sum(mu**2)))


def _fit(endog, exog, codes, fam, cov_struct, maxiter):
    working = {
        "exchangeable": sm_cov_struct.Exchangeable,
        "independence": sm_cov_struct.Independence,
    }[cov_struct]()
    model = GEE(endog, exog, groups=codes, family=fam, cov_struct=working)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(maxiter=maxiter, ctol=CTOL, ddof_scale=0)
    if fit is None or not np.all(np.isfinite(fit.params)):
        raise ConvergenceError(
            "statsmodels GEE could not solve the estimating equations (singular matrix). "
            "Check for a predictor that separates the outcome perfectly."
        )
    for w in caught:  # convergence is judged by fit_gee; pass on the rest (e.g. separation)
        if not issubclass(w.category, (SMConvergenceWarning, IterationLimitWarning)):
            warnings.warn(w.message, w.category, stacklevel=3)
    return fit


def _sandwich(endog, exog, codes, labels, fam, params, alpha, power):
    """Sandwich covariance with residuals ``(I - H_ii)^power r_i`` (power 0, -1/2 or -1).

    Returns the covariance and the Newton step ``(sum_i Z_i' Z_i)^{-1} sum_i Z_i' e_i``
    that the estimating equations still ask for at ``params`` (zero at the solution).

    With ``G_i`` any square root of the working inverse, ``G_i' G_i = V_i^{-1}`` (here
    ``R_i^{-1/2} A_i^{-1/2}``, the dispersion cancels), ``Z_i = G_i D_i`` and
    ``e_i = G_i r_i``, one has ``I - H_ii = G_i^{-1} (I - P_ii) G_i`` with the symmetric
    ``P_ii = Z_i (sum_j Z_j' Z_j)^{-1} Z_i'``, so that ``D_i' V_i^{-1} (I - H_ii)^power r_i
    = Z_i' (I - P_ii)^power e_i`` for the principal power, whatever the square root.
    ``P_ii`` has rank at most p: its thin eigendecomposition avoids n_i x n_i matrices.
    """
    eta = exog @ params
    mu = fam.link.inverse(eta)
    scale_rows = fam.link.inverse_deriv(eta) / np.sqrt(fam.variance(mu))
    z_all = exog * scale_rows[:, None]
    e_all = (endog - mu) / np.sqrt(fam.variance(mu))
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    blocks = [
        (_exchangeable_inv_sqrt(z_all[i], alpha), _exchangeable_inv_sqrt(e_all[i], alpha))
        for i in np.split(order, bounds)
    ]
    bread = sum(z.T @ z for z, _ in blocks)
    sigma = np.linalg.inv(bread)
    chol = np.linalg.cholesky(sigma)
    scores = np.empty((len(blocks), exog.shape[1]))
    score = np.zeros(exog.shape[1])
    for k, (z, e) in enumerate(blocks):
        score += z.T @ e
        if power != 0:
            u, s, _ = np.linalg.svd(z @ chol, full_matrices=False)
            leverage = s**2
            if leverage.max() > 1 - 1e-8:
                raise DataError(
                    f"Cluster {labels[k]!r} has leverage 1: it alone determines a coefficient "
                    "(e.g. a covariate that is non-zero in that cluster only), so the "
                    "small-sample corrections are undefined. Remove or merge that predictor."
                )
            e = e + u @ (((1 - leverage) ** power - 1) * (u.T @ e))
        scores[k] = z.T @ e
    return sigma @ (scores.T @ scores) @ sigma, sigma @ score


def _exchangeable_inv_sqrt(block: np.ndarray, alpha: float) -> np.ndarray:
    """``R^{-1/2} block`` for the exchangeable correlation ``R = (1 - a) I + a 11'``."""
    if alpha == 0:
        return block
    n = block.shape[0]
    lam_other, lam_one = 1 - alpha, 1 + (n - 1) * alpha
    if lam_other <= 0 or lam_one <= 0:
        raise ConvergenceError(
            f"The estimated exchangeable working correlation {alpha:.3g} is not a valid "
            f"correlation for a cluster of {n} rows. Use cov_struct='independence'."
        )
    mean = block.mean(axis=0, keepdims=True)
    return (block - mean) / np.sqrt(lam_other) + mean / np.sqrt(lam_one)


def _fixed_table(params, cov, df, conf_level, names, exponentiate) -> pd.DataFrame:
    se = np.sqrt(np.diag(cov))
    t = params / se
    if np.isinf(df):
        q, p = stats.norm.ppf(0.5 + conf_level / 2), 2 * stats.norm.sf(np.abs(t))
    else:
        q, p = stats.t.ppf(0.5 + conf_level / 2, df), 2 * stats.t.sf(np.abs(t), df)
    table = pd.DataFrame(
        {
            "estimate": params,
            "se": se,
            "df": df,
            "t": t,
            "p": p,
            "ci_low": params - q * se,
            "ci_high": params + q * se,
        },
        index=pd.Index(names, name="term"),
    )
    for col in ("estimate", "ci_low", "ci_high"):
        table[f"exp_{col}"] = np.exp(table[col]) if exponentiate else np.nan
    return table


# ----------------------------------------------------------------------------- text


def _some(items: list, k: int) -> str:
    shown = ", ".join(repr(i) for i in items[:k])
    return f"[{shown}{', ...' if len(items) > k else ''}]"


def _example_data(seed: int = 1) -> pd.DataFrame:
    """Small binary example for the doctests: 12 clusters of 20 rows."""
    rng = np.random.default_rng(seed)
    org = np.repeat(np.arange(12), 20)
    x = rng.integers(0, 2, size=org.size)
    u = rng.normal(0, 0.5, 12)[org]
    y = rng.random(org.size) < 1 / (1 + np.exp(-(-0.5 + 1.2 * x + u)))
    return pd.DataFrame({"org": org, "x": x, "y": y.astype(int)})
