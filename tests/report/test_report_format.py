"""Number formats in Dutch and English, APA style."""

from __future__ import annotations

import math

import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.report.format import (
    MISSING,
    check_lang,
    fmt_bounded,
    fmt_ci,
    fmt_df,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
)


@pytest.mark.parametrize(
    ("x", "digits", "nl", "en"),
    [
        (0.45, 2, "0,45", "0.45"),
        (0.455, 1, "0,5", "0.5"),
        (1234.5, 1, "1.234,5", "1,234.5"),
        (1234567, 0, "1.234.567", "1,234,567"),
        (-3.14159, 3, "-3,142", "-3.142"),
        (-0.004, 2, "0,00", "0.00"),
        (12, 0, "12", "12"),
        (5.1, 2, "5,10", "5.10"),
    ],
)
def test_fmt_num_per_language(x, digits, nl, en):
    assert fmt_num(x, digits, "nl") == nl
    assert fmt_num(x, digits, "en") == en


def test_fmt_num_options_and_missing():
    assert fmt_num(0.45, 2, "en", leading_zero=False) == ".45"
    assert fmt_num(-0.45, 2, "nl", leading_zero=False) == "-,45"
    assert fmt_num(1234.5, 1, "nl", thousands=False) == "1234,5"
    assert fmt_num(float("nan")) == MISSING
    assert fmt_num(None) == MISSING
    assert fmt_num(math.inf, 2, "en") == "\u221e"
    assert fmt_int(2859, "nl") == "2.859"
    assert fmt_int(2859, "en") == "2,859"


@pytest.mark.parametrize("bad", [True, "0.5", [1]])
def test_fmt_num_refuses_non_numbers(bad):
    with pytest.raises(TypeError):
        fmt_num(bad)


def test_fmt_num_refuses_negative_digits():
    with pytest.raises(SpecificationError):
        fmt_num(1.0, -1)


@pytest.mark.parametrize(
    ("p", "nl", "en"),
    [
        (0.0004, "< ,001", "< .001"),
        (0.0, "< ,001", "< .001"),
        (0.0009996, "< ,001", "< .001"),  # rounds to .001 but lies below it
        (0.001, ",001", ".001"),
        (0.0321, ",032", ".032"),
        (0.05, ",050", ".050"),
        (0.5, ",500", ".500"),
        (0.9994, ",999", ".999"),
        (0.9996, "> ,999", "> .999"),
        (1.0, "> ,999", "> .999"),
    ],
)
def test_fmt_p_apa(p, nl, en):
    assert fmt_p(p, "nl") == nl
    assert fmt_p(p, "en") == en


def test_fmt_p_prefix_and_missing():
    assert fmt_p(0.001, "nl", prefix=True) == "p = ,001"
    assert fmt_p(0.00001, "en", prefix=True) == "p < .001"
    assert fmt_p(1.0, "en", prefix=True) == "p > .999"
    assert fmt_p(float("nan"), "en") == MISSING
    assert fmt_p(float("nan"), "en", prefix=True) == MISSING


@pytest.mark.parametrize("bad", [-0.01, 1.01])
def test_fmt_p_refuses_impossible_values(bad):
    with pytest.raises(SpecificationError, match="not a probability"):
        fmt_p(bad)


def test_fmt_ci_and_bounded():
    assert fmt_ci(0.11, 0.25, 2, "nl") == "[0,11; 0,25]"
    assert fmt_ci(0.11, 0.25, 2, "en") == "[0.11, 0.25]"
    assert fmt_ci(-1234.5, 2.0, 1, "nl") == "[-1.234,5; 2,0]"
    assert fmt_ci(0.78, 0.84, 2, "en", leading_zero=False) == "[.78, .84]"
    assert fmt_ci(float("nan"), 0.3) == MISSING
    assert fmt_bounded(0.847, 2, "nl") == ",85"
    assert fmt_bounded(-1.0, 2, "en") == "-1.00"
    assert fmt_bounded(float("nan")) == MISSING
    with pytest.raises(SpecificationError, match="exceeds 1"):
        fmt_bounded(1.2)


def test_fmt_pct():
    assert fmt_pct(0.8834, 1, "nl") == "88,3%"
    assert fmt_pct(0.8834, 1, "en") == "88.3%"
    assert fmt_pct(None) == MISSING


def test_unknown_language_is_refused():
    assert check_lang("en") == "en"
    for call in (lambda: check_lang("de"), lambda: fmt_num(1.0, 2, "fr"), lambda: fmt_p(0.5, "NL")):
        with pytest.raises(SpecificationError, match="'nl'"):
            call()


@pytest.mark.parametrize(
    ("df", "nl", "en"),
    [
        (5744.71, "5744,7", "5744.7"),  # APA: no thousands separator in df
        (12345.0, "12345", "12345"),
        (12.4, "12,4", "12.4"),
        (12, "12", "12"),
        (199.00000057, "199", "199"),  # a Satterthwaite df that is whole up to numerical noise
        (199.04, "199,0", "199.0"),  # fractional: one decimal, rounded as fmt_num rounds
        (0.455, "0,5", "0.5"),
    ],
)
def test_fmt_df_has_no_thousands_separator_and_decimals_only_when_fractional(df, nl, en):
    assert fmt_df(df, "nl") == nl
    assert fmt_df(df, "en") == en


def test_fmt_df_missing_infinite_and_forced_decimals():
    assert fmt_df(None, "en") == MISSING and fmt_df(float("nan"), "nl") == MISSING
    assert fmt_df(math.inf, "en") == "\u221e"
    assert fmt_df(10, "nl", fractional=True) == "10,0"
    assert fmt_df(10.26, "en", digits=2) == "10.26"
    assert fmt_df(10.26, "en", fractional=False) == "10"
    with pytest.raises(SpecificationError):
        fmt_df(10, "de")
