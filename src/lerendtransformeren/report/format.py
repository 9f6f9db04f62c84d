"""Number formats for reports in Dutch (``"nl"``) and English (``"en"``), APA style.

Dutch uses a decimal comma and a point for thousands (``1.234,5``), English the reverse
(``1,234.5``). Statistics that cannot exceed 1 in absolute value (p, alpha, omega,
correlations, ICCs, proportions) are written without a leading zero (APA 7, 6.36);
everything else keeps it. The negative sign is the ASCII hyphen-minus, which survives
every output format (HTML, Word, Markdown, copy and paste into SPSS syntax).

A missing value (``None`` or NaN) is written as :data:`MISSING`, an em dash, as APA
tables do for empty cells.

Rounding is to the nearest representable decimal (Python's ``format``), and a value that
rounds to zero is written without a sign (``-0.001`` at two digits gives ``0.00``).

Degrees of freedom are written by :func:`fmt_df`: never with a thousands separator (APA:
``t(5744.7)``, not ``t(5,744.7)``), one decimal when they are fractional and none when they
are whole.
"""

from __future__ import annotations

import math
from numbers import Real

from lerendtransformeren.display import MISSING, is_missing, num  # MISSING: an em dash (APA), as in a report
from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import LANGS, Label, check_lang
from lerendtransformeren.vocabulary import NUMBER_WORDS

__all__ = [
    "LANGS",
    "MISSING",
    "check_lang",
    "fmt_num",
    "fmt_int",
    "fmt_count",
    "fmt_k_of_n",
    "fmt_bounded",
    "fmt_pct",
    "fmt_p",
    "fmt_ci",
    "fmt_df",
    "is_whole_df",
]



def _localise(text: str, lang: str) -> str:
    """Swap separators of an English-formatted number into Dutch ones."""
    if lang == "nl":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_num(
    x: float | None,
    digits: int = 2,
    lang: str = "nl",
    *,
    leading_zero: bool = True,
    thousands: bool = True,
) -> str:
    """Format a number with a fixed number of decimals in the report language.

    Parameters
    ----------
    x : float or None
        The number; ``None`` or NaN gives :data:`MISSING`.
    digits : int, default 2
        Number of decimals.
    lang : {"nl", "en"}, default "nl"
        Decimal comma and thousands point (``"nl"``) or the reverse (``"en"``).
    leading_zero : bool, default True
        Write ``0.45`` (True) or ``.45`` (False; for statistics that cannot exceed 1,
        see :func:`fmt_bounded`).
    thousands : bool, default True
        Group thousands (``1.234`` in Dutch, ``1,234`` in English).

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_num(0.4512, 2, "nl"), fmt_num(0.4512, 2, "en")
    ('0,45', '0.45')
    >>> fmt_num(1234.5, 1, "nl"), fmt_num(1234.5, 1, "en")
    ('1.234,5', '1,234.5')
    >>> fmt_num(-0.004, 2, "en"), fmt_num(-1.5, 1, "nl")
    ('0.00', '-1,5')
    >>> fmt_num(float("nan"))
    '—'
    """
    check_lang(lang)
    if is_missing(x):
        return MISSING
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"fmt_num expects a real number, got {x!r} ({type(x).__name__}).")
    if digits < 0:
        raise SpecificationError(f"digits={digits} must be 0 or more.")
    return _localise(num(x, digits, leading_zero=leading_zero, thousands=thousands), lang)


def fmt_int(n: int | float | None, lang: str = "nl") -> str:
    """Format a count with thousands separators.

    Parameters
    ----------
    n : int, float or None
        The count; missing gives :data:`MISSING`.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_int(2859, "nl"), fmt_int(2859, "en"), fmt_int(12, "nl")
    ('2.859', '2,859', '12')
    """
    return fmt_num(n, 0, lang)


def fmt_count(n: int, lang: str = "nl") -> str:
    """A count in running text: in words below ten, in digits from ten on (APA 7, 6.32).

    Examples
    --------
    >>> fmt_count(3, "nl"), fmt_count(3, "en"), fmt_count(15, "nl"), fmt_count(1200, "nl")
    ('drie', 'three', '15', '1.200')
    """
    n = int(n)
    if 0 <= n < 10:
        return NUMBER_WORDS[n].pick(lang)
    return fmt_int(n, lang)


def fmt_k_of_n(k: int, n: int, lang: str = "nl") -> str:
    """'k of the n' before a plural noun, as a reader says it: none, one, all, both.

    Examples
    --------
    >>> [fmt_k_of_n(k, 3, "nl") for k in (0, 1, 2, 3)]
    ['geen van de drie', 'één van de drie', 'twee van de drie', 'alle drie']
    >>> fmt_k_of_n(2, 2, "en"), fmt_k_of_n(0, 15, "en"), fmt_k_of_n(4, 15, "en")
    ('both', 'none of the 15', 'four of the 15')
    """
    k, n = int(k), int(n)
    of = fmt_count(n, lang)
    if k == n:
        return Label("beide", "both").pick(lang) if n == 2 else Label("alle {}", "all {}").pick(lang).format(of)
    if k == 0:
        return Label("geen van de {}", "none of the {}").pick(lang).format(of)
    return Label("{} van de {}", "{} of the {}").pick(lang).format(fmt_count(k, lang), of)


def fmt_bounded(x: float | None, digits: int = 2, lang: str = "nl") -> str:
    """Format a statistic that cannot exceed 1 in absolute value, without leading zero.

    For alpha, omega, correlations, ICCs and proportions (APA 7, section 6.36).

    Parameters
    ----------
    x : float or None
    digits : int, default 2
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    str

    Raises
    ------
    SpecificationError
        If ``abs(x) > 1``: then the statistic is not of this kind, use :func:`fmt_num`.

    Examples
    --------
    >>> fmt_bounded(0.847, 2, "nl"), fmt_bounded(-0.3, 2, "en"), fmt_bounded(1.0, 2, "en")
    (',85', '-.30', '1.00')
    """
    if not is_missing(x) and abs(float(x)) > 1:
        raise SpecificationError(
            f"fmt_bounded got {x!r}, which exceeds 1 in absolute value; use fmt_num for "
            "statistics that can exceed 1."
        )
    return fmt_num(x, digits, lang, leading_zero=False)


def fmt_pct(x: float | None, digits: int = 0, lang: str = "nl") -> str:
    """Format a proportion (0..1) as a percentage.

    Parameters
    ----------
    x : float or None
        The proportion; 0.883 is shown as 88%.
    digits : int, default 0
        Decimals of the percentage.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_pct(0.8834, 1, "nl"), fmt_pct(0.8834, 1, "en"), fmt_pct(0.5)
    ('88,3%', '88.3%', '50%')
    """
    if is_missing(x):
        return MISSING
    return fmt_num(100 * float(x), digits, lang) + "%"


def fmt_p(p: float | None, lang: str = "nl", *, prefix: bool = False, digits: int = 3) -> str:
    """Format a p value in APA style: exact to three decimals, ``< .001`` below that.

    Parameters
    ----------
    p : float or None
        The p value, between 0 and 1; NaN gives :data:`MISSING`.
    lang : {"nl", "en"}, default "nl"
    prefix : bool, default False
        Start with ``"p "`` (for running text: ``p = .032``) instead of the bare table
        cell (``.032``, ``< .001``).
    digits : int, default 3
        Decimals; values below ``10**-digits`` are written as ``< .001`` (for 3).

    Returns
    -------
    str
        Without leading zero; a p value that would round to 1 is written ``> .999``.

    Raises
    ------
    SpecificationError
        If ``p`` lies outside [0, 1].

    Examples
    --------
    >>> fmt_p(0.0004, "nl"), fmt_p(0.0004, "en")
    ('< ,001', '< .001')
    >>> fmt_p(0.001, "en"), fmt_p(0.0321, "nl", prefix=True), fmt_p(0.0321, "en", prefix=True)
    ('.001', 'p = ,032', 'p = .032')
    >>> fmt_p(0.99995, "en", prefix=True)
    'p > .999'
    """
    check_lang(lang)
    if is_missing(p):
        return MISSING
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise SpecificationError(f"p = {p!r} is not a probability; a p value lies in [0, 1].")
    smallest = 10.0**-digits
    if p < smallest:
        body = "< " + fmt_num(smallest, digits, lang, leading_zero=False)
    elif round(p, digits) >= 1.0:
        body = "> " + fmt_num(1.0 - smallest, digits, lang, leading_zero=False)
    else:
        body = fmt_num(p, digits, lang, leading_zero=False)
    if not prefix:
        return body
    return "p " + (body if body[0] in "<>" else "= " + body)


def fmt_ci(
    low: float | None,
    high: float | None,
    digits: int = 2,
    lang: str = "nl",
    *,
    leading_zero: bool = True,
    percent: bool = False,
) -> str:
    """Format a confidence interval as ``[low, high]`` (English) or ``[low; high]`` (Dutch).

    Dutch separates the bounds with a semicolon because the comma is the decimal sign.

    Parameters
    ----------
    low, high : float or None
        Bounds; if either is missing the interval is :data:`MISSING`.
    digits : int, default 2
    lang : {"nl", "en"}, default "nl"
    leading_zero : bool, default True
        False for statistics bounded by 1 (alpha, omega, r, ICC).
    percent : bool, default False
        The bounds are proportions shown as percentages (as :func:`fmt_pct`).

    Examples
    --------
    >>> fmt_ci(0.11, 0.25, 2, "nl"), fmt_ci(0.11, 0.25, 2, "en")
    ('[0,11; 0,25]', '[0.11, 0.25]')
    >>> fmt_ci(0.781, 0.842, 2, "en", leading_zero=False)
    '[.78, .84]'
    >>> fmt_ci(0.591, 0.652, 0, "nl", percent=True)
    '[59%; 65%]'
    """
    check_lang(lang)
    if is_missing(low) or is_missing(high):
        return MISSING
    sep = "; " if lang == "nl" else ", "
    if percent:
        a, b = fmt_pct(low, digits, lang), fmt_pct(high, digits, lang)
    else:
        a = fmt_num(low, digits, lang, leading_zero=leading_zero)
        b = fmt_num(high, digits, lang, leading_zero=leading_zero)
    return f"[{a}{sep}{b}]"


#: Relative tolerance within which degrees of freedom count as a whole number: the
#: numerical noise of a Satterthwaite df computed from a numerical Hessian (``199.0000006``).
DF_WHOLE_RTOL = 1e-6


def is_whole_df(df: float | None) -> bool:
    """Whether degrees of freedom are a whole number (within :data:`DF_WHOLE_RTOL`).

    Missing and infinite df count as whole (they have no decimals to show).

    Examples
    --------
    >>> is_whole_df(12), is_whole_df(199.0000006), is_whole_df(12.4), is_whole_df(None)
    (True, True, False, True)
    """
    if is_missing(df):
        return True
    df = float(df)
    if math.isinf(df):
        return True
    return abs(df - round(df)) <= DF_WHOLE_RTOL * max(1.0, abs(df))


def fmt_df(df: float | None, lang: str = "nl", digits: int = 1, *, fractional: bool | None = None) -> str:
    """Format degrees of freedom in APA style: no thousands separator, decimals only when needed.

    Parameters
    ----------
    df : float or None
        Degrees of freedom; missing gives :data:`MISSING`, infinity ``∞``.
    lang : {"nl", "en"}, default "nl"
        Decimal comma (``"nl"``) or point (``"en"``).
    digits : int, default 1
        Decimals of fractional df (Satterthwaite, Kenward-Roger).
    fractional : bool, optional
        Whether to show ``digits`` decimals. Default: when ``df`` is not a whole number
        (:func:`is_whole_df`); a table column passes one choice for all its cells.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_df(5744.71, "nl"), fmt_df(5744.71, "en")
    ('5744,7', '5744.7')
    >>> fmt_df(12, "nl"), fmt_df(199.0000006, "en"), fmt_df(14.31, "en")
    ('12', '199', '14.3')
    >>> fmt_df(2900, "en", fractional=True)
    '2900.0'
    """
    check_lang(lang)
    if is_missing(df):
        return MISSING
    if fractional is None:
        fractional = not is_whole_df(df)
    return fmt_num(df, digits if fractional else 0, lang, thousands=False)
