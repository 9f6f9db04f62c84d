"""What the linear and the generalised mixed-model results share.

:class:`NestedFit` holds the pieces that depend only on the model frame, the engine's
theta parametrisation and the log-likelihood: information criteria, the row and unit
accounting, the variance components of the random terms and the frame of conditional
modes. :class:`~.results.MultilevelResult` and :class:`~.glmm_results.GLMMResult` add what
differs (the residual variance, how the modes are computed, the tests).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from lerendtransformeren.multilevel.frame import level_index

__all__ = ["NestedFit"]


class NestedFit:
    """Mixin for results with a model ``frame``, ``loglik`` and ``n_parameters``; the random
    variance and the modes frame also need ``engine.lambdas`` and ``theta``."""

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(len(self.frame.y)) * self.n_parameters

    @cached_property
    def n(self) -> pd.DataFrame:
        """Units per level and rows used / left out by reason."""
        rows = [("rows in data", self.frame.n_total), ("rows used", len(self.frame.y))]
        rows += [(f"rows left out: {k}", v) for k, v in self.frame.left_out.items()]
        rows += [(f"units: {lev.name}", lev.n_units) for lev in self.frame.levels]
        return pd.DataFrame(rows, columns=["item", "n"]).set_index("item")

    def _level_index(self, level: str) -> int:
        return level_index(self.frame.levels, level)

    def _random_variance(self, scale: float = 1.0) -> list[dict]:
        """One record per random term, finest level first: variance, SD and correlations of
        ``scale * Lambda Lambda'`` per block (lme4's ``VarCorr``)."""
        records = []
        for lev, Lam in zip(self.frame.levels, self.engine.lambdas(self.theta)):
            off = 0
            for b in lev.blocks:
                Lb = Lam[off:off + b.q, off:off + b.q]
                cov = scale * Lb @ Lb.T
                sd = np.sqrt(np.diag(cov))
                for i, name in enumerate(b.names):
                    rec = {"group": b.group, "term": name, "variance": cov[i, i], "sd": sd[i]}
                    for j in range(i):
                        rec[f"corr {b.names[j]}"] = cov[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan
                    records.append(rec)
                off += b.q
        return records

    def _modes_frame(self, i: int, modes: np.ndarray, cov: np.ndarray | None, unit_codes: np.ndarray) -> pd.DataFrame:
        """Level ``i``'s conditional modes indexed by unit label, sorted; with ``cov`` (the
        conditional covariances per unit) also the columns ``sd <term>``."""
        lev = self.frame.levels[i]
        names = [n for blk in lev.blocks for n in blk.names]
        out = pd.DataFrame(modes, columns=names, index=pd.Index(lev.labels[unit_codes], name=lev.name))
        if cov is not None:
            sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
            for j, n in enumerate(names):
                out[f"sd {n}"] = sd[:, j]
        return out.sort_index()
