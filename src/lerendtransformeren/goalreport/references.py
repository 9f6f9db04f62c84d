"""The reference list of a report: exactly the works its text cites.

A report cites as APA does, "(Jacobson & Truax, 1991)" or "Satterthwaite (1946)".
:func:`citations` finds every citation in a text as (first author, year);
:func:`reference_list` returns the entries of the bibliography that are cited, so a
reference list never names a work the text does not cite, and :func:`uncited` and
:func:`unlisted` let a test check both directions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lerendtransformeren.report.text import REFERENCES

__all__ = ["BIBLIOGRAPHY", "citations", "entry_key", "reference_list", "uncited", "unlisted"]

#: Every work a goal report or the overview may cite, in APA form.
BIBLIOGRAPHY: tuple[str, ...] = tuple(REFERENCES.values()) + (
    "Hussey, M. A., & Hughes, J. P. (2007). Design and analysis of stepped wedge cluster "
    "randomized trials. Contemporary Clinical Trials, 28(2), 182-191. "
    "https://doi.org/10.1016/j.cct.2006.05.007",
    "Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to "
    "defining meaningful change in psychotherapy research. Journal of Consulting and "
    "Clinical Psychology, 59(1), 12-19. https://doi.org/10.1037/0022-006X.59.1.12",
    "Kiresuk, T. J., & Sherman, R. E. (1968). Goal attainment scaling: A general method for "
    "evaluating comprehensive community mental health programs. Community Mental Health "
    "Journal, 4(6), 443-453. https://doi.org/10.1007/BF01530764",
    "Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear "
    "models. Biometrika, 73(1), 13-22. https://doi.org/10.1093/biomet/73.1.13",
    "Mancl, L. A., & DeRouen, T. A. (2001). A covariance estimator for GEE with improved "
    "small-sample properties. Biometrics, 57(1), 126-134. "
    "https://doi.org/10.1111/j.0006-341X.2001.00126.x",
)

_NAME = r"[A-Z][A-Za-z\u00C0-\u017F']+"
_CITATION = re.compile(
    rf"(?P<first>{_NAME})(?: et al\.| (?:&|en|and) {_NAME}|-{_NAME})?,? \(?(?P<year>(?:19|20)\d\d)\b"
)
_ENTRY = re.compile(r"^(?P<first>[^,]+),.*?\((?P<year>\d{4})\)")


def citations(text: str) -> set[tuple[str, str]]:
    """(first author, year) of every citation in ``text``.

    >>> sorted(citations("as in Satterthwaite (1946) and (Jacobson & Truax, 1991); "
    ...                  "Mancl en DeRouen (2001), Bates et al., 2015"))
    [('Bates', '2015'), ('Jacobson', '1991'), ('Mancl', '2001'), ('Satterthwaite', '1946')]
    """
    return {(m["first"], m["year"]) for m in _CITATION.finditer(text)}


def entry_key(entry: str) -> tuple[str, str]:
    """(first author, year) of a reference entry."""
    m = _ENTRY.match(entry)
    if m is None:
        raise ValueError(f"Not an APA reference entry: {entry[:60]!r}")
    return m["first"], m["year"]


def reference_list(texts: Iterable[str], bibliography: Iterable[str] = BIBLIOGRAPHY) -> list[str]:
    """The entries of ``bibliography`` cited in ``texts``, sorted as APA sorts them."""
    cited: set[tuple[str, str]] = set()
    for text in texts:
        cited |= citations(text)
    return sorted(e for e in bibliography if entry_key(e) in cited)


def uncited(texts: Iterable[str], references: Iterable[str]) -> list[str]:
    """Entries of a reference list that no text cites."""
    cited = set().union(*(citations(t) for t in texts))
    return [e for e in references if entry_key(e) not in cited]


def unlisted(texts: Iterable[str], references: Iterable[str]) -> list[tuple[str, str]]:
    """Citations in the texts that the reference list does not hold."""
    listed = {entry_key(e) for e in references}
    cited = set().union(*(citations(t) for t in texts))
    return sorted(cited - listed)
