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

__all__ = ["REFERENCES", "BIBLIOGRAPHY", "citations", "entry_key", "reference_list", "uncited", "unlisted"]

#: Every work a report of this package may cite, in APA form, by key.
REFERENCES: dict[str, str] = {
    "bates2015": (
        "Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects "
        "models using lme4. Journal of Statistical Software, 67(1), 1-48. "
        "https://doi.org/10.18637/jss.v067.i01"
    ),
    "harris2020": (
        "Harris, C. R., Millman, K. J., van der Walt, S. J., et al. (2020). Array programming "
        "with NumPy. Nature, 585, 357-362. https://doi.org/10.1038/s41586-020-2649-2"
    ),
    "hunter2007": (
        "Hunter, J. D. (2007). Matplotlib: A 2D graphics environment. Computing in Science & "
        "Engineering, 9(3), 90-95. https://doi.org/10.1109/MCSE.2007.55"
    ),
    "kuznetsova2017": (
        "Kuznetsova, A., Brockhoff, P. B., & Christensen, R. H. B. (2017). lmerTest package: "
        "Tests in linear mixed effects models. Journal of Statistical Software, 82(13), 1-26. "
        "https://doi.org/10.18637/jss.v082.i13"
    ),
    "mckinney2010": (
        "McKinney, W. (2010). Data structures for statistical computing in Python. In S. van "
        "der Walt & J. Millman (Eds.), Proceedings of the 9th Python in Science Conference "
        "(pp. 56-61). https://doi.org/10.25080/Majora-92bf1922-00a"
    ),
    "seabold2010": (
        "Seabold, S., & Perktold, J. (2010). Statsmodels: Econometric and statistical modeling "
        "with Python. In S. van der Walt & J. Millman (Eds.), Proceedings of the 9th Python in "
        "Science Conference (pp. 92-96). https://doi.org/10.25080/Majora-92bf1922-011"
    ),
    "halekoh2014": (
        "Halekoh, U., & Højsgaard, S. (2014). A Kenward-Roger approximation and parametric "
        "bootstrap methods for tests in linear mixed models - the R package pbkrtest. Journal "
        "of Statistical Software, 59(9), 1-30. https://doi.org/10.18637/jss.v059.i09"
    ),
    "kenward1997": (
        "Kenward, M. G., & Roger, J. H. (1997). Small sample inference for fixed effects from "
        "restricted maximum likelihood. Biometrics, 53(3), 983-997. "
        "https://doi.org/10.2307/2533558"
    ),
    "satterthwaite1946": (
        "Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance "
        "components. Biometrics Bulletin, 2(6), 110-114. https://doi.org/10.2307/3002019"
    ),
    "virtanen2020": (
        "Virtanen, P., Gommers, R., Oliphant, T. E., et al. (2020). SciPy 1.0: Fundamental "
        "algorithms for scientific computing in Python. Nature Methods, 17, 261-272. "
        "https://doi.org/10.1038/s41592-019-0686-2"
    ),
    "waskom2021": (
        "Waskom, M. L. (2021). seaborn: Statistical data visualization. Journal of Open "
        "Source Software, 6(60), 3021. https://doi.org/10.21105/joss.03021"
    ),
    "hussey2007": (
        "Hussey, M. A., & Hughes, J. P. (2007). Design and analysis of stepped wedge cluster "
        "randomized trials. Contemporary Clinical Trials, 28(2), 182-191. "
        "https://doi.org/10.1016/j.cct.2006.05.007"
    ),
    "jacobson1991": (
        "Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to "
        "defining meaningful change in psychotherapy research. Journal of Consulting and "
        "Clinical Psychology, 59(1), 12-19. https://doi.org/10.1037/0022-006X.59.1.12"
    ),
    "kiresuk1968": (
        "Kiresuk, T. J., & Sherman, R. E. (1968). Goal attainment scaling: A general method for "
        "evaluating comprehensive community mental health programs. Community Mental Health "
        "Journal, 4(6), 443-453. https://doi.org/10.1007/BF01530764"
    ),
    "liang1986": (
        "Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear "
        "models. Biometrika, 73(1), 13-22. https://doi.org/10.1093/biomet/73.1.13"
    ),
    "barnard1999": (
        "Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple "
        "imputation. Biometrika, 86(4), 948-955. https://doi.org/10.1093/biomet/86.4.948"
    ),
    "quartagno2019": (
        "Quartagno, M., Grund, S., & Carpenter, J. (2019). jomo: A flexible package for two-level "
        "joint modelling multiple imputation. The R Journal, 11(2), 205-228. "
        "https://doi.org/10.32614/RJ-2019-028"
    ),
    "rubin1987": (
        "Rubin, D. B. (1987). Multiple imputation for nonresponse in surveys. Wiley. "
        "https://doi.org/10.1002/9780470316696"
    ),
    "vehtari2021": (
        "Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., & Bürkner, P.-C. (2021). "
        "Rank-normalization, folding, and localization: An improved R-hat for assessing "
        "convergence of MCMC. Bayesian Analysis, 16(2), 667-718. https://doi.org/10.1214/20-BA1221"
    ),
    "mancl2001": (
        "Mancl, L. A., & DeRouen, T. A. (2001). A covariance estimator for GEE with improved "
        "small-sample properties. Biometrics, 57(1), 126-134. "
        "https://doi.org/10.1111/j.0006-341X.2001.00126.x"
    ),
}

#: The entries of :data:`REFERENCES`, as a reference list is built from.
BIBLIOGRAPHY: tuple[str, ...] = tuple(REFERENCES.values())

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
