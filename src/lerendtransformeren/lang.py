"""Languages and bilingual labels: the bottom of the package, used by every layer.

Every word a reader sees exists in Dutch (``"nl"``) and English (``"en"``). A
:class:`Label` holds both and gives the one asked for with :meth:`Label.pick`;
:func:`check_lang` is the one check of a language argument in the package.

A :class:`Label` is a named tuple ``(nl, en)``, so it also unpacks as a pair.

Examples
--------
>>> from lerendtransformeren.lang import Label
>>> wave = Label("meetmoment", "wave")
>>> wave.pick("nl"), wave.pick("en")
('meetmoment', 'wave')
>>> wave.cap().pick("nl")
'Meetmoment'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from lerendtransformeren.exceptions import SpecificationError

__all__ = ["LANGS", "Label", "check_lang", "cap", "join_words"]

#: Languages every report function speaks.
LANGS: tuple[str, ...] = ("nl", "en")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported report language, else raise.

    Parameters
    ----------
    lang : str
        ``"nl"`` (Dutch) or ``"en"`` (English).

    Returns
    -------
    str
        The language code, unchanged.

    Raises
    ------
    SpecificationError
        If ``lang`` is not one of :data:`LANGS`.

    Examples
    --------
    >>> check_lang("nl")
    'nl'
    """
    if lang not in LANGS:
        raise SpecificationError(
            f"lang={lang!r} is not a report language; use 'nl' (Dutch) or 'en' (English)."
        )
    return lang


def cap(text: str) -> str:
    """First letter upper case, the rest as it is (``str.capitalize`` lowercases 'Pearlin').

    >>> cap("sociale steun (Pearlin)")
    'Sociale steun (Pearlin)'
    """
    return text[:1].upper() + text[1:]


class Label(NamedTuple):
    """A word or phrase in Dutch and English.

    Attributes
    ----------
    nl, en : str
    """

    nl: str
    en: str

    @classmethod
    def same(cls, text: str) -> Label:
        """A label that reads the same in both languages (a symbol, a name)."""
        return cls(text, text)

    @classmethod
    def of(cls, value: Label | tuple[str, str] | str) -> Label:
        """A label from a label, a ``(nl, en)`` pair or one string for both languages."""
        if isinstance(value, Label):
            return value
        if isinstance(value, str):
            return cls(value, value)
        nl, en = value
        return cls(str(nl), str(en))

    def pick(self, lang: str) -> str:
        """The text in ``lang`` (``"nl"`` or ``"en"``)."""
        return self.nl if check_lang(lang) == "nl" else self.en

    def map(self, func: Callable[[str], str]) -> Label:
        """The label with ``func`` applied to both texts."""
        return Label(func(self.nl), func(self.en))

    def cap(self) -> Label:
        """The label with its first letter upper case in both languages."""
        return self.map(cap)

    def __add__(self, other):  # type: ignore[override]
        """Concatenate texts: ``Label + Label`` or ``Label + str`` (a tuple would append)."""
        if isinstance(other, Label):
            return Label(self.nl + other.nl, self.en + other.en)
        if isinstance(other, str):
            return Label(self.nl + other, self.en + other)
        return NotImplemented

    def format(self, *args, **kwargs) -> Label:
        """``str.format`` on both texts."""
        return Label(self.nl.format(*args, **kwargs), self.en.format(*args, **kwargs))


def join_words(items: Iterable[str], lang: str) -> str:
    """A list in running text: 'a, b en c' (Dutch) or 'a, b and c' (English).

    No serial comma in either language (the house style of the reports).

    >>> join_words(["1", "2", "3", "4"], "nl")
    '1, 2, 3 en 4'
    >>> join_words(["mastery", "support"], "en")
    'mastery and support'
    >>> join_words(["SDQ"], "en")
    'SDQ'
    """
    items = [str(i) for i in items]
    word = " en " if check_lang(lang) == "nl" else " and "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + word + items[-1]
