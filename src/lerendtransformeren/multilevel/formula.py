"""Parse lme4-style model formulas for nested multilevel models.

A formula has a fixed part, handed to the formula backend (formulaic, in
:mod:`~lerendtransformeren.multilevel.frame`) as it is (factors, interactions, ``C()``,
transformations such as ``np.log(x)``, ``center(x)``, ``poly(x, 2)``), and random terms in
parentheses::

    "y ~ wave * offer + ses + (1 | organisation/team/respondent)"
    "y ~ wave + (1 + wave | respondent) + (1 | organisation)"

``(expr | g)`` gives a random effect per unit of ``g`` for every column of the design
of ``expr`` (``1`` an intercept, ``1 + wave`` a correlated intercept and slope,
``0 + wave`` a slope only). ``(expr | a/b/c)`` expands as in lme4 into the three terms
``(expr | a) + (expr | a:b) + (expr | a:b:c)``; the unit of ``a:b`` is the combination of
``a`` and ``b``, so team codes that are reused across organisations ("T1" in every
organisation) still name different teams. The grouping factors of all terms must form one
nesting (each unit of a finer factor lies in exactly one unit of each coarser factor):
that is what the exact nested engine needs. Crossed factors raise
:class:`~lerendtransformeren.exceptions.SpecificationError` naming an example unit.

R equivalent: ``lme4::lFormula`` (``findbars``/``nobars``/``expandDoubleVerts``).

Examples
--------
>>> spec = parse_formula("y ~ wave * offer + (1 + wave | org/team)")
>>> spec.fixed
'y ~ wave * offer'
>>> [(t.expr, t.name) for t in spec.random]
[('1 + wave', 'org'), ('1 + wave', 'org:team')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lerendtransformeren.exceptions import SpecificationError

__all__ = ["RandomTerm", "FormulaSpec", "parse_formula"]

_NAME = re.compile(r"[^()\s+*~|`]+")


@dataclass(frozen=True)
class RandomTerm:
    """One random term ``(expr | g1:g2:...)``.

    Attributes
    ----------
    expr : str
        The left side of the bar, a formula right-hand side (``"1"``, ``"1 + wave"``).
    factors : tuple of str
        Columns whose combination defines the units, outermost first.
    """

    expr: str
    factors: tuple[str, ...]

    @property
    def name(self) -> str:
        """Name of the grouping, e.g. ``"org:team"`` (lme4 prints ``"team:org"``)."""
        return ":".join(self.factors)


@dataclass(frozen=True)
class FormulaSpec:
    """A parsed formula: the formula of the fixed part and the random terms."""

    formula: str
    fixed: str
    random: tuple[RandomTerm, ...]

    @property
    def grouping_columns(self) -> list[str]:
        """All data columns used as grouping factors, in order of first use."""
        seen: dict[str, None] = {}
        for term in self.random:
            for factor in term.factors:
                seen.setdefault(_strip_name(factor), None)
        return list(seen)


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` where it is outside parentheses and brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise SpecificationError(f"Unbalanced parentheses in formula {text!r}.")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise SpecificationError(f"Unbalanced parentheses in formula {text!r}.")
    parts.append(text[start:])
    return parts


def _strip_name(factor: str) -> str:
    factor = factor.strip()
    if factor.startswith("`") and factor.endswith("`"):
        return factor[1:-1]
    match = re.fullmatch(r"Q\(['\"]([^'\"]+)['\"]\)", factor)
    return match.group(1) if match else factor


def _is_random(chunk: str) -> bool:
    chunk = chunk.strip()
    if not (chunk.startswith("(") and chunk.endswith(")")):
        return False
    inner = chunk[1:-1]
    try:
        # the outer parentheses must enclose the whole chunk
        if len(_split_top(inner, "|")) < 2:
            return False
    except SpecificationError:
        return False
    return True


def _parse_grouping(text: str, formula: str) -> list[tuple[str, ...]]:
    text = text.strip()
    if "+" in text or "*" in text:
        raise SpecificationError(
            f"Grouping {text!r} in {formula!r} is not a factor: use '/' for nesting "
            "(a/b) or ':' for a combination (a:b), and a separate term per grouping."
        )
    steps = [s.strip() for s in text.split("/")]
    if any(not s for s in steps):
        raise SpecificationError(f"Empty grouping factor in {text!r} of {formula!r}.")
    terms, prefix = [], ()
    for step in steps:
        factors = tuple(_strip_name(f) for f in step.split(":"))
        for factor in factors:
            if not _NAME.fullmatch(factor):
                raise SpecificationError(f"Grouping factor {factor!r} in {formula!r} is not a column name.")
        prefix = prefix + factors
        terms.append(prefix)
    return terms


def parse_formula(formula: str) -> FormulaSpec:
    """Split an lme4-style formula into its fixed part and its random terms.

    Parameters
    ----------
    formula : str
        ``"outcome ~ fixed part + (expr | grouping) + ..."``.

    Returns
    -------
    FormulaSpec

    Raises
    ------
    SpecificationError
        No ``~``, no random term, ``||`` terms, or a grouping that is not a factor.

    Examples
    --------
    >>> parse_formula("y ~ x + (1 | a/b/c)").random[2].factors
    ('a', 'b', 'c')
    >>> parse_formula("y ~ (0 + x | g) + (1 | g)").fixed
    'y ~ 1'
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise SpecificationError(
            f"A model formula needs an outcome and '~', e.g. 'y ~ wave + (1 | team)'; got {formula!r}."
        )
    lhs, rhs = formula.split("~", 1)
    if not lhs.strip():
        raise SpecificationError(f"Formula {formula!r} has no outcome left of '~'.")
    fixed_chunks, random_terms = [], []
    for chunk in _split_top(rhs, "+"):
        if _is_random(chunk):
            inner = chunk.strip()[1:-1]
            if "||" in inner:
                raise SpecificationError(
                    f"'||' in {chunk.strip()!r} is not supported; write uncorrelated effects as "
                    "separate terms, e.g. (1 | g) + (0 + x | g)."
                )
            sides = _split_top(inner, "|")
            if len(sides) != 2:
                raise SpecificationError(f"Random term {chunk.strip()!r} has more than one '|'.")
            expr, grouping = sides
            expr = " ".join(expr.split()) or "1"
            for factors in _parse_grouping(grouping, formula):
                random_terms.append(RandomTerm(expr, factors))
        elif "|" in chunk:
            raise SpecificationError(
                f"The term {chunk.strip()!r} of {formula!r} combines a random term with '*' or ':'. "
                "Random terms are added with '+', and a random slope goes inside the parentheses: "
                "y ~ offer + (1 + offer | organisation)."
            )
        elif chunk.strip():
            fixed_chunks.append(chunk.strip())
        else:
            raise SpecificationError(f"Empty term ('+ +') in formula {formula!r}.")
    if not random_terms:
        raise SpecificationError(
            f"Formula {formula!r} has no random term such as (1 | team); "
            "for a model without random effects use statsmodels OLS."
        )
    fixed_rhs = " + ".join(fixed_chunks) if fixed_chunks else "1"
    return FormulaSpec(formula, f"{lhs.strip()} ~ {fixed_rhs}", tuple(random_terms))
