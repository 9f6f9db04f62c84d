"""A report as data: a :class:`Document` of :class:`Section`\\ s with paragraphs, tables,
figures and a space for the researchers' :class:`Conclusions`.

The renderers (:mod:`~lerendtransformeren.report.render` for HTML and Markdown,
:mod:`~lerendtransformeren.report.word` for Word) read a document through
:func:`document_items`, which numbers its tables and figures in reading order (APA:
"Tabel 1", "Figuur 1" above the title), and :func:`check_identifiers`, which refuses a
document that would show an identifier of the study.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.lang import check_lang
from lerendtransformeren.report.display import document_view
from lerendtransformeren.report.figures import Figure
from lerendtransformeren.report.provenance import Provenance
from lerendtransformeren.report.tables import Table
from lerendtransformeren.vocabulary import DOCUMENT_WORDS

__all__ = ["md_escape", "Block", "Conclusions", "Section", "Document", "document_items", "table_item", "words", "check_identifiers"]

#: Column headers that are statistical symbols, set in italics (APA 7, 6.45).
_SYMBOLS = frozenset({"n", "N", "M", "SD", "SE", "t", "p", "b", "df", "F", "r", "z"})


_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def words(lang: str) -> dict[str, str]:
    """The document's own words (table, figure, note, ...) in ``lang``, for the templates."""
    return {key: label.pick(lang) for key, label in DOCUMENT_WORDS.items()}


@dataclass(frozen=True)
class Conclusions:
    """A clearly marked, empty space where the researchers write their conclusions.

    Parameters
    ----------
    prompt : str, optional
        Text shown in the space; default: "[Conclusies: deze ruimte is voor de
        onderzoekers. Nog in te vullen.]" (or the English equivalent).
    """

    prompt: str | None = None

    def text(self, lang: str) -> str:
        """The prompt in ``lang``."""
        return self.prompt or DOCUMENT_WORDS["prompt"].pick(lang)


Block = str | Table | Figure | Conclusions


@dataclass
class Section:
    """A section: a heading, blocks (paragraphs, tables, figures, conclusions), subsections."""

    heading: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class Document:
    """A report in one language.

    Parameters
    ----------
    title : str
    lang : {"nl", "en"}
        Language of the headings and paragraphs; tables and figures render in it.
    sections : list of Section
    provenance : Provenance
        Shown at the end of every output.
    subtitle : str, default ""
    """

    title: str
    lang: str
    sections: list[Section]
    provenance: Provenance
    subtitle: str = ""

    def __post_init__(self) -> None:
        check_lang(self.lang)

    def __repr__(self) -> str:
        return document_view(self, table_type=Table, figure_type=Figure).text()

    def _repr_html_(self) -> str:
        return document_view(self, table_type=Table, figure_type=Figure).html()


def document_items(doc: Document) -> list[dict]:
    """Flatten the document into numbered items, in reading order."""
    items: list[dict] = []
    counters = {"table": 0, "figure": 0}

    def walk(section: Section, level: int) -> None:
        items.append({"kind": "heading", "level": level, "text": section.heading})
        for block in section.blocks:
            if isinstance(block, str):
                items.append({"kind": "paragraph", "text": block})
            elif isinstance(block, Table):
                counters["table"] += 1
                items.append({"kind": "table", "number": counters["table"], "table": block})
            elif isinstance(block, Figure):
                counters["figure"] += 1
                items.append({"kind": "figure", "number": counters["figure"], "figure": block})
            elif isinstance(block, Conclusions):
                items.append({"kind": "conclusions", "text": block.text(doc.lang)})
            else:
                raise SpecificationError(
                    f"A section block must be str, Table, Figure or Conclusions, not {type(block).__name__}."
                )
        for sub in section.subsections:
            walk(sub, min(level + 1, 6))

    for section in doc.sections:
        walk(section, 2)
    return items


def table_item(item: dict, lang: str) -> dict:
    table: Table = item["table"]
    headers = table.headers(lang)
    spanners = table.spanners(lang)
    tops = [text for text, span in spanners for _ in range(span)] if spanners else [""] * len(headers)
    rows = table.rows(lang)
    headings = table.headings()
    md_rows = [[_md_cell(c) for c in row] for row in rows]
    for row, heading in zip(md_rows, headings):
        if heading and row[0]:
            row[0] = f"*{row[0]}*"
    return {
        **item,
        "title": table.title(lang),
        "note": table.note(lang),
        "headers": headers,
        "spanners": spanners,
        "rows": rows,
        "n_stub": table.frame.index.nlevels,
        "numeric": [False] * table.frame.index.nlevels + [c.kind != "text" for c in table.columns],
        "italic": [h in _SYMBOLS for h in headers],
        "md_headers": [_md_header(top, h) for top, h in zip(tops, headers)],
        "md_rows": md_rows,
        "headings": headings,
        "grouped": any(headings),
    }


def _md_header(spanner: str, header: str) -> str:
    shown = f"*{header}*" if header in _SYMBOLS else header
    return _md_cell(f"{spanner}: {shown}" if spanner else shown)


def md_escape(text: str) -> str:
    """Text for Markdown: no raw HTML (``<script>``, ``<img onerror=...>``) and no link syntax.

    Markdown passes HTML through, so a ``<`` that could open a tag (before a letter, ``/``,
    ``!`` or ``?``) becomes ``&lt;`` (a viewer shows ``<``), and ``](`` cannot start a link
    target. A ``<`` before a space or digit, as in ``p < ,001``, stays as it is.

    >>> print(md_escape('<img src=x onerror=alert(1)> [a](javascript:x) p < ,001 </script>'))
    &lt;img src=x onerror=alert(1)> [a]\\(javascript:x) p < ,001 &lt;/script>
    """
    return _TAG_OPEN.sub("&lt;", str(text)).replace("](", "]\\(")


def _md_cell(text: str) -> str:
    return md_escape(text).replace("|", "\\|").replace("\n", " ")


def _texts(doc: Document) -> Iterable[str]:
    yield doc.title
    yield doc.subtitle
    for item in document_items(doc):
        if item["kind"] == "table":
            table: Table = item["table"]
            yield table.title(doc.lang)
            yield table.note(doc.lang)
            yield from table.headers(doc.lang)
            for row in table.rows(doc.lang):
                yield from row
        elif item["kind"] == "figure":
            figure: Figure = item["figure"]
            yield figure.caption(doc.lang)
            yield figure.alt(doc.lang)
        else:
            yield item["text"]


def check_identifiers(doc: Document, identifiers: Iterable[str]) -> None:
    """Raise if any of ``identifiers`` appears as a word in the document's text.

    Text is split into tokens of letters, digits, ``-`` and ``_``, so ``"O01-T1-P01"``
    matches itself but not ``"O01-T1"``. Tick labels inside figure images are not text;
    figure functions pseudonymise units themselves.

    Parameters
    ----------
    doc : Document
    identifiers : iterable of str
        Identifier values of the study (all values of its id columns). Ids that are
        plain numbers cannot be told apart from the numbers of the report; pseudonymise
        such ids before analysis instead.

    Raises
    ------
    DataError
        Naming the identifier found.
    """
    forbidden = {str(v) for v in identifiers}
    if not forbidden:
        return
    for text in _texts(doc):
        found = forbidden.intersection(re.findall(r"[\w-]+", text))
        if found:
            raise DataError(
                f"The report would show the identifier {sorted(found)[0]!r} in: {text[:80]!r}. "
                "Reports never show ids; use report.pseudonymise() for organisations and teams."
            )

