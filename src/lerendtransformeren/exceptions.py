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
    "OptionNames",
    "PYTHON",
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


class OptionNames(dict):
    """How error messages and notes name the options a user can set.

    A message that tells the user how to fix something names the option to change. From
    Python that is a keyword argument (``sheet='Data'``); from the command line an option
    (``--sheet Data``); from a study file a key (``sheet: Data``). Functions that write
    such messages take an ``options`` mapping from the option's key (the Python argument
    name, e.g. ``"sheet"``) to its name in the caller's world, and ``assign``, the pattern
    of an option set to a value.

    Parameters
    ----------
    names : mapping of str to str
        Key -> the option's name as the user writes it.
    assign : str
        Format of an option with a value, with fields ``name`` and ``value``; the default
        writes a Python keyword argument (``sheet='Data'``).
    language : str
        ``"python"`` when the user calls functions (messages may then show Python code),
        anything else (e.g. ``"cli"``) when they do not.

    Examples
    --------
    >>> PYTHON.of("sheet"), PYTHON.of("sheet", "Data")
    ('sheet=', "sheet='Data'")
    >>> cli = PYTHON.renamed({"sheet": "--sheet"}, assign="{name} {value}", language="cli")
    >>> cli.of("sheet", "Data"), cli.of("sep")
    ('--sheet Data', 'sep=')
    """

    def __init__(
        self, names=(), *, assign: str = "{name}{value!r}", language: str = "python"
    ) -> None:
        super().__init__(names)
        self.assign = assign
        self.language = language

    def of(self, key: str, *value: object) -> str:
        """The option's name, or with one ``value`` the option set to it.

        A key without an entry is named as a Python keyword argument (``key=``).
        """
        name = self.get(key, f"{key}=")
        if not value:
            return name
        return self.assign.format(name=name, value=value[0])

    def renamed(
        self, names=(), *, assign: str | None = None, language: str | None = None
    ) -> OptionNames:
        """A copy with some names replaced (and optionally another ``assign``/``language``)."""
        return OptionNames(
            {**self, **dict(names)},
            assign=self.assign if assign is None else assign,
            language=self.language if language is None else language,
        )

    def __repr__(self) -> str:
        return f"OptionNames({dict(self)!r}, assign={self.assign!r}, language={self.language!r})"

    def __reduce__(self):
        return (_option_names, (dict(self), self.assign, self.language))


def _option_names(names: dict, assign: str, language: str) -> OptionNames:
    return OptionNames(names, assign=assign, language=language)


#: Keys of the options that messages of ``io.read_table``, ``io.write_table`` and
#: ``design.validate`` name, with their Python names (keyword arguments).
PYTHON = OptionNames(
    {
        key: f"{key}="
        for key in (
            "sheet",
            "header_row",
            "sep",
            "decimal",
            "encoding",
            "id_columns",
            "value_labels",
            "ids",
            "respondent",
            "levels",
            "wave",
            "source",
            "first_row",
            "codebook",
            "require_codebook_columns",
        )
    }
)
