"""Errors and warnings of lerendtransformeren.

Every error a user can trigger with their data or their model specification is a
subclass of :class:`ValueError`, so ``except ValueError`` keeps working in user code.
Messages name the file, the column, example rows and the fix. Warnings state the
statistical consequence, not only the symptom.
"""

from __future__ import annotations

__all__ = [
    "LerendTransformerenError",
    "DataError",
    "SpecificationError",
    "ConvergenceError",
    "LerendTransformerenWarning",
    "DataWarning",
    "SingularFitWarning",
    "ConvergenceWarning",
    "EngineFallbackWarning",
    "MissingItemRuleWarning",
    "FamilyWarning",
]


class LerendTransformerenError(ValueError):
    """Base class of every error this package raises on user input."""


class DataError(LerendTransformerenError):
    """The data cannot be used as they are: unreadable file, broken nesting, bad codes.

    The message names the file and column, shows example rows and says how to fix it.
    """


class SpecificationError(LerendTransformerenError):
    """A model, design or instrument specification is invalid or not supported."""


class ConvergenceError(LerendTransformerenError):
    """The optimiser did not reach a trustworthy optimum; results would be misleading."""


class LerendTransformerenWarning(UserWarning):
    """Base class of every warning this package issues."""


class DataWarning(LerendTransformerenWarning):
    """Something in the data deserves attention but does not stop the analysis."""


class SingularFitWarning(LerendTransformerenWarning):
    """A variance component is estimated at (or next to) zero: a singular fit.

    The fit is legal, but the level adds nothing the data can distinguish from zero;
    the fixed effects remain valid, tests of that level's variance are on the boundary.
    """


class ConvergenceWarning(LerendTransformerenWarning):
    """The optimiser stopped with a gradient or Hessian that is not fully satisfactory."""


class EngineFallbackWarning(LerendTransformerenWarning):
    """A model was fitted by a fallback engine (statsmodels MixedLM) with weaker inference."""


class MissingItemRuleWarning(LerendTransformerenWarning):
    """A score was computed with a missing-item rule other than the instrument definition's.

    Scores from fewer items are less reliable, and taking the mean of the answered items
    (or prorating a sum) assumes the unanswered items would have been answered like the
    answered ones. Report the rule used; scores are not comparable with published norms
    computed under the definition's rule.
    """


class FamilyWarning(LerendTransformerenWarning):
    """A linear mixed model was fitted to an outcome that looks binary (0/1) or like counts.

    A linear model for such an outcome has residuals that cannot be normal and predictions
    outside the possible values; a GLMM (``fit(..., family="binomial" | "poisson")``) or a
    population-averaged GEE (:mod:`lerendtransformeren.multilevel.gee`) fits the outcome.
    """
