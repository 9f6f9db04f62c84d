"""A stepped-wedge study with dropout that is missing at random, for checking missing-data methods.

:func:`dropout_study` simulates one study with the design of the programme's synthetic
study (15 organisations, three per transformation goal, the support offer starting at
wave 1, 2 or 3; teams within organisations; families within teams; four waves) and then
lets families drop out, monotonically, with a chance that depends on their score at the
previous wave and on their socio-economic status (SES). Because low-SES families both
gain less from the offer and drop out more often, analyses of the observed data alone are
biased: the completers over-represent the families that gain most. The dropout depends
only on observed values (the previous score, SES), so it is missing at random, and a
multiple imputation whose model includes SES and its interaction with the offer recovers
the effect. The simulation study in ``benchmarks/sim_imputation.py`` and notebook
``07_ontbrekende_gegevens`` use it; ``truth`` holds every generating value.

Model, for family ``f`` of team ``t`` in organisation ``o`` at wave ``w``::

    y = 50 + w + ses_effect[ses] + offer * offer_effect[ses] + u_o + u_t + u_f + e

with ``u_o ~ N(0, 2^2)``, ``u_t ~ N(0, 1.5^2)``, ``u_f ~ N(0, 5^2)``, ``e ~ N(0, 5^2)``;
SES low, middle, high with chances .3, .4, .3, SES effects -3, 0, 2 and offer effects 0.5, 3,
4.5, so that the offer effect averaged over the population is 2.7. A family present at wave
``w - 1`` drops out before wave ``w`` with chance
``logistic(a + b * (50 - y[w-1]) / 5 + c * [ses == low])``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DropoutStudy", "dropout_study"]

_SES = np.array(["laag", "midden", "hoog"])
_SES_P = np.array([0.3, 0.4, 0.3])
_SES_EFFECT = np.array([-3.0, 0.0, 2.0])
_OFFER_EFFECT = np.array([0.5, 3.0, 4.5])


@dataclass(frozen=True)
class DropoutStudy:
    """One simulated study before and after dropout.

    Attributes
    ----------
    complete : pandas.DataFrame
        Every family at every wave: ``organisation, team, family, goal, wave, offer, ses, y``.
    observed : pandas.DataFrame
        The rows of ``complete`` that were observed (families that had not dropped out).
    truth : dict
        The generating values; ``truth["offer_effect"]`` is the population-average offer
        effect (2.7).
    """

    complete: pd.DataFrame
    observed: pd.DataFrame
    truth: dict


def dropout_study(seed, teams: int = 3, families: int = 12, dropout: tuple[float, float, float] = (-2.2, 0.8, 1.0)
                  ) -> DropoutStudy:
    """Simulate one stepped-wedge study with MAR dropout (see the module docstring).

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
    teams : int, default 3
        Teams per organisation.
    families : int, default 12
        Families per team.
    dropout : (a, b, c), default (-2.2, 0.8, 1.0)
        Intercept, weight of the previous score (per 5 points below 50) and of low SES in
        the logit of dropping out before the next wave.

    Returns
    -------
    DropoutStudy

    Examples
    --------
    >>> s = dropout_study(1)
    >>> s.complete.shape, round(len(s.observed) / len(s.complete), 2)
    ((2160, 8), 0.79)
    >>> s.observed.groupby("wave")["family"].count().tolist()
    [540, 445, 374, 342]
    """
    rng = np.random.default_rng(seed)
    n_org, n_team = 15, 15 * teams
    n_fam = n_team * families
    team_org = np.repeat(np.arange(n_org), teams)
    fam_team = np.repeat(np.arange(n_team), families)
    fam_org = team_org[fam_team]
    start = 1 + np.arange(n_org) % 3  # within each goal: starts at wave 1, 2 and 3
    ses = rng.choice(3, size=n_fam, p=_SES_P)
    u = rng.normal(0, 2.0, n_org)[fam_org] + rng.normal(0, 1.5, n_team)[fam_team] + rng.normal(0, 5.0, n_fam)
    waves = np.arange(4)
    offer = (waves[None, :] >= start[fam_org][:, None]).astype(int)
    y = (50 + waves[None, :] + _SES_EFFECT[ses][:, None] + offer * _OFFER_EFFECT[ses][:, None] + u[:, None]
         + rng.normal(0, 5.0, (n_fam, 4)))
    a, b, c = dropout
    present = np.ones((n_fam, 4), dtype=bool)
    for w in range(1, 4):
        logit = a + b * (50 - y[:, w - 1]) / 5 + c * (ses == 0)
        drop = rng.random(n_fam) < 1 / (1 + np.exp(-logit))
        present[:, w] = present[:, w - 1] & ~drop
    complete = pd.DataFrame({
        "organisation": np.repeat([f"O{o + 1:02d}" for o in fam_org], 4),
        "team": np.repeat([f"O{o + 1:02d}-T{t % teams + 1}" for o, t in zip(fam_org, fam_team)], 4),
        "family": np.repeat([f"F{f + 1:04d}" for f in range(n_fam)], 4),
        "goal": np.repeat(fam_org // 3 + 1, 4),
        "wave": np.tile(waves, n_fam),
        "offer": offer.ravel(),
        "ses": pd.Categorical(np.repeat(_SES[ses], 4), categories=list(_SES)),
        "y": y.ravel(),
    })
    observed = complete[present.ravel()].reset_index(drop=True)
    truth = {
        "offer_effect": float(_SES_P @ _OFFER_EFFECT),
        "offer_effect_by_ses": dict(zip(_SES.tolist(), _OFFER_EFFECT.tolist())),
        "ses_effect": dict(zip(_SES.tolist(), _SES_EFFECT.tolist())),
        "ses_share": dict(zip(_SES.tolist(), _SES_P.tolist())),
        "sd": {"organisation": 2.0, "team": 1.5, "family": 5.0, "residual": 5.0},
        "dropout_logit": {"intercept": a, "per_5_points_below_50": b, "low_ses": c},
        "teams_per_organisation": teams,
        "families_per_team": families,
    }
    return DropoutStudy(complete, observed, truth)
