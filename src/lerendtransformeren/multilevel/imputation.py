"""Multilevel multiple imputation by a joint model: :func:`impute` and :class:`Imputed`.

Method
------
A joint multivariate normal model (JM) for the incomplete variables, as R's ``jomo`` and
``pan`` (Schafer & Yucel, 2002; Carpenter & Kenward, 2013, ch. 9; Quartagno & Carpenter,
2019, jomo), generalised to any number of nested levels. For long data (one row per
respondent x wave) and the incomplete variables ``Y`` (a row vector)::

    Y_i = X_i B + sum over levels l of u_{l, c_l(i)} + e_i,
    u_{l,c} ~ N(0, Sigma_l) per cluster c of level l,   e_i ~ N(0, Sigma_e)

``X`` holds the complete predictors (a formula right-hand side such as
``"C(wave) + offer + C(wave):offer"``); the levels are nested grouping columns, outermost
first, e.g. ``("organisation", "team", "professional", "family")``. The respondent level
carries the correlation of a person's waves, so a later wave is imputed from that
person's other waves. The posterior is sampled by Gibbs
(:mod:`~lerendtransformeren.multilevel.imputation_sampler`); an imputation is the
completed data at one iteration, taken after ``burn`` iterations and then every
``between`` iterations of independent chains.

Why a joint model and not chained equations (FCS, mice): the JM is one proper Bayesian
model, congenial with the random-intercept analysis models this package fits (the same
fixed part, a random intercept at every nesting level); it gives random intercepts at
every level (mice's ``2l`` methods handle one cluster level); and it is one sampler,
whose convergence is checked with R-hat over chains (:attr:`Imputed.diagnostics`).
Interactions among complete predictors go into ``predictors`` so that the imputation
model holds the analysis model's effects (e.g. offer x wave). Interactions involving
incomplete variables, and random slopes, are not in the model: impute within groups or
analyse without them.

Priors: flat for ``B``; inverse Wishart ``IW(q, s I)`` with ``q`` degrees of freedom (the
number of modelled columns) for every ``Sigma_l`` and ``Sigma_e``, on the standardised
scale (continuous variables are centred and scaled by their observed mean and SD before
sampling and transformed back), with ``s = 0.1`` by default (``prior=``). The prior adds
about ``s / (J - 1)`` of a variable's variance to the posterior mean of a level with ``J``
units: jomo's identity scale (``s = 1``; jomo applies it on the data's own scale) adds 0.07
with 15 organisations, more than the variance of a typical organisation level; 0.1 adds at
most 1% from 11 units on, while keeping every direction of a level's covariance at a small
positive variance (a scale near zero or half-t priors, Gelman 2006 and Huang & Wand 2013,
let the nearly empty directions of item covariances drift towards zero, which the sampler
follows very slowly; see :mod:`~lerendtransformeren.multilevel.imputation_sampler`).

Variable types
--------------
- Continuous variables are imputed on their scale.
- Items (integer responses such as 0-2 or 1-5) are imputed on the continuous scale and
  rounded to the nearest allowed value, clipped to the item's range: the range of the
  instrument definition (:mod:`lerendtransformeren.scales`) when the column is an item of
  a shipped instrument, else ``ranges={col: (lo, hi)}``, else (a whole-number variable
  with at most 11 distinct values) the observed minimum and maximum, which is noted.
  ``ranges={col: None}`` keeps a column continuous. Rounding a normal draw is simple and
  slightly distorts an item's own distribution, but the analyses use scale scores (sums or
  means of many items), where rounding errors average out.
- Categorical variables (a text, bool or pandas Categorical column, or a column named in
  ``categorical=``) are modelled by K - 1 latent normals (the first category is the
  reference; category k is observed when latent k is the largest and positive), as jomo.

Not applicable is not missing: a variable that does not apply to some rows (an instrument
for ages 8-17 only) must not be imputed there. Give ``where=`` (the rows that take part)
or impute a subset of the rows; rows outside ``where`` are returned unchanged.

References
----------
Andridge RR (2011). Quantifying the impact of fixed effects modeling of clusters in multiple
imputation for cluster randomized trials. Biometrical Journal 53, 57-74.
Carpenter JR, Kenward MG (2013). Multiple Imputation and its Application. Wiley.
Gelman A (2006). Prior distributions for variance parameters in hierarchical models.
Bayesian Analysis 1, 515-534.
Huang A, Wand MP (2013). Simple marginally noninformative prior distributions for
covariance matrices. Bayesian Analysis 8, 439-452.
Imai K, van Dyk DA (2005). A Bayesian analysis of the multinomial probit model using
marginal data augmentation. Journal of Econometrics 124, 311-334.
Luedtke O, Robitzsch A, Grund S (2017). Multiple imputation of missing data in multilevel
designs: a comparison of different strategies. Psychological Methods 22, 141-165.
McCulloch R, Rossi PE (1994). An exact likelihood analysis of the multinomial probit
model. Journal of Econometrics 64, 207-240.
Quartagno M, Carpenter JR (2019). jomo: a flexible package for two-level joint modelling
multiple imputation. R Journal 11(2), 205-228.
Speidel M, Drechsler J, Sakshaug JW (2018). Biases in multilevel analyses caused by
cluster-specific fixed-effects imputation. Behavior Research Methods 50, 1824-1840.
Schafer JL, Yucel RM (2002). Computational strategies for multivariate linear
mixed-effects models with missing values. JCGS 11, 437-457.
Vehtari A, Gelman A, Simpson D, Carpenter B, Buerkner PC (2021). Rank-normalization,
folding, and localization: an improved R-hat. Bayesian Analysis 16, 667-718.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lerendtransformeren.display import View, frame_grid
from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel.imputation_data import assemble, check_settings, prepare
from lerendtransformeren.multilevel.imputation_diagnostics import diagnostics_table
from lerendtransformeren.multilevel.imputation_sampler import (
    PRIOR_SCALE,
    SamplerSetup,
    advance,
    chain_iterations,
    parameter_names,
    start_chains,
)
from lerendtransformeren.multilevel.replicates import (
    check_n_jobs,
    children,
    progress_bar,
    run_chunks,
    seed_sequence,
    single_thread,
)
from lerendtransformeren.presenters import present

__all__ = ["impute", "Imputed"]


@dataclass
class Imputed:
    """Multiply imputed data sets from :func:`impute`, with the sampler's traces and diagnostics.

    Use it as a list of data sets: ``len(imp)``, ``imp[i]``, ``for d in imp``, and
    ``lt.fit(formula, imp)`` (or :meth:`fit`) fits every data set and pools the fits by
    Rubin's rules.

    Attributes
    ----------
    datasets : list of DataFrame
        The ``m`` completed data sets: the columns, column order and index of ``data``
        (rows in its order), rows added by ``complete=`` appended at the end with a
        boolean column ``_added``; dtypes kept where the imputed values fit them.
    added : ndarray of bool
        Per row of the data sets, whether ``complete=`` added it.
    notes : list of str
        Method, m, burn-in, between, chains, seed, added rows, ranges taken from the data.
    missing : DataFrame
        Per variable the rows, the missing values and (with ``complete=``) the missing values
        per wave, counted on the rows that take part (added rows included).
    traces : dict
        ``{"names": parameter names, "draws": array (chains, draws, parameters)}``: ``B``,
        every ``Sigma_l`` and ``Sigma_e`` at every iteration after burn-in, on the data's scale.
    seed : int or SeedSequence
        Enough to reproduce the data sets.
    """

    datasets: list
    added: np.ndarray
    notes: list
    missing: pd.DataFrame
    traces: dict
    seed: Any
    method: str
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.datasets)

    def __iter__(self):
        return iter(self.datasets)

    def __getitem__(self, i):
        return self.datasets[i]

    @property
    def rhat_max(self) -> float:
        """The largest R-hat over the sampler's parameters; NaN when it cannot be computed for
        every parameter (too few draws per chain after burn-in, e.g. a small ``m``)."""
        rhat = self.diagnostics["rhat"].to_numpy(dtype=float)
        return float(rhat.max()) if np.isfinite(rhat).all() else float("nan")

    @cached_property
    def diagnostics(self) -> pd.DataFrame:
        """Per parameter: posterior mean and SD, rank-normalised split R-hat, bulk and tail ESS, MC SE.

        Over the draws after burn-in of all chains (Vehtari et al., 2021). R-hat above about
        1.01-1.05 or a small ESS for the variance components asks for a longer burn-in.
        """
        return diagnostics_table(self.traces["draws"], self.traces["names"])

    def fit(self, formula: str, **kwargs):
        """:func:`~lerendtransformeren.multilevel.fit` on every data set, pooled (a :class:`~.pooling.PooledResult`).

        The same as ``lt.fit(formula, imp, **kwargs)``; the pooled notes say how the data
        were imputed.
        """
        from lerendtransformeren.multilevel.fitting import fit_imputed
        from lerendtransformeren.multilevel.frame import capture_context

        return fit_imputed(formula, self, capture_context(1), **kwargs)

    def plot_trace(self, params=None, lang: str = "nl", **kwargs):
        """Trace plots of the sampler's parameters per chain (drawn by the report layer).

        ``params``: names from ``imp.traces["names"]`` (or a substring such as ``"Sigma"``);
        None: the variance parameters with the highest R-hat (at most 9).
        """
        return present("imputation.plot_trace", self, params=params, lang=lang, **kwargs)

    def __repr__(self) -> str:
        return _view(self).text()

    def _repr_html_(self) -> str:
        return _view(self).html()


def _view(imp: Imputed) -> View:
    worst = imp.diagnostics.sort_values("rhat", ascending=False).head(5)
    shown = worst[["mean", "rhat", "ess_bulk"]].round(3)
    return View(
        f"Imputed: {len(imp)} data sets by {imp.method}",
        facts=[("Rows", f"{len(imp.datasets[0])} ({int(imp.added.sum())} added)"),
               ("Chains", f"{imp.settings['chains']}, burn-in {imp.settings['burn']}, "
                          f"between {imp.settings['between']}"),
               ("Largest R-hat", f"{imp.rhat_max:.3f}")],
        grids=[frame_grid(imp.missing, "Missing values"), frame_grid(shown, "Highest R-hat")],
        notes=list(imp.notes),
        hint="More: .datasets, .fit(formula), .diagnostics, .traces, .plot_trace(), .missing",
    )


def impute(data: pd.DataFrame, variables, levels, predictors: str = "1", *, m: int = 20, seed=None,
           burn: int = 500, between: int = 100, chains: int = 2, n_jobs: int = 1, progress: bool | None = None,
           complete: tuple | None = None, categorical=None, ranges: dict | None = None, where=None,
           fixed_levels=None, prior: float = PRIOR_SCALE) -> Imputed:
    """Multilevel multiple imputation by a joint model (jomo's, with random intercepts at every level).

    Parameters
    ----------
    data : DataFrame
        Long data, one row per respondent x wave.
    variables : str or list of str
        The incomplete variables, imputed jointly (continuous, items or categorical).
    levels : str or sequence of str
        Nested grouping columns, outermost first, e.g. ``("organisation", "team", "family")``;
        a random intercept per variable at every level.
    predictors : str
        Right-hand side of a formula of complete columns (``"C(wave) + offer +
        C(wave):offer"``); put the analysis model's fixed effects here. Default: intercept only.
    m : int
        Number of imputed data sets.
    seed : int, SeedSequence, Generator or None
        Chain ``c`` runs on child ``c`` of ``SeedSequence(seed)``; the same seed gives the
        same data sets for every ``n_jobs``.
    burn, between : int
        Iterations before the first imputation of a chain, and between imputations.
    chains : int
        Independent chains; chain ``c`` gives ``m // chains`` imputations (the first
        ``m % chains`` chains one more). Two or more for R-hat.
    n_jobs : int
        Worker processes for the chains (1 serial, -1 all cores).
    progress : bool or None
        A progress bar over the iterations of all chains, moved after every round of
        iterations (None: in a notebook or terminal). It does not change the numbers.
    complete : (unit, wave) or None
        Add the waves a unit missed as rows before imputing (dropout): a unit's constant
        columns are copied, other predictor columns taken from the top-level cluster x wave
        when constant there; the rows are marked in ``_added`` and ``imp.added``.
    categorical : list of str, optional
        Numeric variables to model as categorical (e.g. a 0/1 variable); text, bool and
        Categorical columns always are.
    ranges : dict, optional
        ``{col: (lo, hi)}`` allowed whole values of an item (rounded and clipped), or
        ``{col: None}`` to leave a whole-number column unrounded.
    where : str, array of bool or None
        Rows that take part (a boolean mask aligned with ``data`` or a ``DataFrame.eval``
        expression); other rows are neither used nor imputed and come back unchanged.
    fixed_levels : str or sequence of str, optional
        The outermost level(s) of ``levels`` to model by fixed effects (a dummy per unit in
        the imputation model) instead of a random intercept: recommended when a level has
        few units, above all fewer than the modelled variables (see Notes). Predictors
        constant within these units (e.g. ``C(goal)`` when organisations are fixed) are
        then implied by the dummies and left out, with a note.
    prior : float
        Scale ``s`` of the inverse Wishart prior ``IW(q, s I)`` of every covariance matrix on
        the standardised scale (default 0.1); ``prior=1`` is jomo's form (identity scale),
        which inflates the variance of a level with few units. See the module notes.

    Returns
    -------
    Imputed

    Raises
    ------
    SpecificationError
        Unknown columns, bad settings, collinear predictors.
    DataError
        A level or predictor column with missing values, non-nested levels, a variable
        without observed values, predictors of added rows that cannot be filled.

    Notes
    -----
    Few units at a level. With ``J`` units a random intercept's ``q x q`` covariance
    rests on ``J`` effects; with ``J <= q`` (15 organisations, 16 items) the data cannot
    determine it and the prior does. Such a level is better modelled by fixed effects
    (``fixed_levels=``): the dummies take each unit's mean of every variable without
    shrinkage. Their known drawback, overstating the between-unit variance of the imputed
    data (Andridge, 2011; Luedtke, Robitzsch & Grund, 2017; Speidel, Drechsler & Sakshaug,
    2018), shrinks with the number of rows per unit and is negligible with hundreds of rows
    per organisation.

    Convergence. Check :attr:`Imputed.diagnostics`. On the benchmark model
    (``benchmarks/bench_impute.py``: 16 items, 4 levels, organisations fixed, the default
    burn-in 500 and 100 between) ``B`` reaches R-hat <= 1.01, but the family and
    professional covariance matrices of 16 items sharing one factor mix slowly (largest
    element R-hat about 1.4, variance of the item sum per level up to about 1.15): raise
    ``burn``/``between`` for analyses of separate items' variance components there.
    """
    settings = check_settings(m=m, burn=burn, between=between, chains=chains)
    check_n_jobs(n_jobs)
    if isinstance(prior, bool) or not isinstance(prior, (int, float, np.number)) or not 0 < prior < np.inf:
        raise SpecificationError(f"prior must be a positive number (the scale s of the IW(q, s I) prior), got {prior!r}.")
    prep = prepare(data, variables, levels, predictors, complete=complete, categorical=categorical,
                   ranges=ranges, where=where, fixed_levels=fixed_levels)
    root, shown_seed = seed_sequence(seed)
    per_chain = [m // chains + (c < m % chains) for c in range(chains)]
    setup = SamplerSetup(prep.Y, prep.X, prep.codes, prep.n_units, prep.cats, burn=burn, between=between,
                         prior=prior)
    runs = _sample(setup, per_chain, children(root, chains), n_jobs, progress)
    datasets = assemble(prep, [v for r in runs for v in zip(r["values"], r["categories"])])
    names = parameter_names(prep.x_names, prep.y_names, list(prep.level_names))
    # a chain with one imputation fewer (m not a multiple of chains) has a shorter trace: keep
    # the common first draws of every chain, so that R-hat compares chains of equal length
    n_draws = min(len(r["trace"]) for r in runs)
    draws = np.stack([prep.raw_trace(r["trace"][:n_draws]) for r in runs])
    method = ("joint-model multilevel imputation (jomo-type Gibbs sampler; random intercepts for "
              + ", ".join(prep.level_names)
              + (f"; fixed effects for {', '.join(prep.fixed_levels)}" if prep.fixed_levels else "") + ")")
    notes = [f"Imputed by {method}: m = {m} data sets from {chains} chain(s), burn-in {burn}, "
             f"{between} iterations between imputations, inverse Wishart(q, {prior:g} I) priors on the standardised scale, seed {shown_seed}.", *prep.notes]
    settings.update(chains=chains, variables=list(prep.variables), levels=list(prep.level_names),
                    fixed_levels=list(prep.fixed_levels), predictors=predictors, prior=prior)
    return Imputed(datasets, prep.added, notes, prep.missing, {"names": names, "draws": draws}, shown_seed,
                   method, settings)


def _segment(total: int, between: int) -> int:
    """Iterations per round of the chains: the progress bar moves after every round.

    About 40 rounds per chain, at least ``min(between, 50)`` iterations each: in parallel
    every round sends the chains' states to the workers and back (a few MB).
    """
    return max(1, min(total, max(min(between, 50), -(-total // 40))))


def _sample(setup: SamplerSetup, per_chain: list, seqs: list, n_jobs: int, progress) -> list:
    """Run the chains in rounds (serially or one process per chain); per chain its draws and trace."""
    totals = [chain_iterations(setup.burn, setup.between, mc) for mc in per_chain]
    step = _segment(max(totals), setup.between)
    pbar = progress_bar(progress, sum(totals), "imputation", unit="it")
    with single_thread():
        chains = start_chains(setup, per_chain, seqs)
    parts: list = [[] for _ in chains]
    try:
        for stop in range(step, max(totals) + step, step):
            if n_jobs == 1:
                with single_thread():
                    outs = [advance(setup, ch, stop) for ch in chains]
            else:
                outs = run_chunks(_advance_chains, (setup, stop), chains, n_jobs, None, None)
            for c, out in enumerate(outs):
                chains[c] = out.pop("chain")
                parts[c].append(out)
            if pbar is not None:
                pbar.update(sum(out["done"] for out in outs))
    finally:
        if pbar is not None:
            pbar.close()
    return [{"values": [v for o in p for v in o["values"]], "categories": [x for o in p for x in o["categories"]],
             "trace": np.concatenate([o["trace"] for o in p])} for p in parts]


def _advance_chains(setup_and_stop, indices, chains) -> list:
    """Advance the chains ``indices`` to the round's last iteration (module level: pickled for the workers)."""
    setup, stop = setup_and_stop
    with single_thread():
        return [advance(setup, ch, stop) for ch in chains]
