"""The views of the report layer's objects: what ``repr`` and Jupyter show.

A :class:`~.table.Table`, a :class:`~.provenance.Provenance` block and a
:class:`~.suppress.Suppression` hold their words in Dutch and English; their views show the
session's display language (:func:`lerendtransformeren.display.set_display`, default Dutch,
as the reports). A :class:`~.document.Document` is written in one language and shows that
one. Table cells are formatted by the table itself (:meth:`~.table.Table.rows`), so a view
shows exactly what the report will print. The words around the content (the hints naming
attributes) are the API's, English.
"""

from __future__ import annotations

from typing import Any

from lerendtransformeren.display import Grid, View, count, display_lang, frame_grid
from lerendtransformeren.vocabulary import DOCUMENT_WORDS

__all__ = ["table_view", "document_view", "provenance_view", "suppression_view"]

#: Rows of a report table shown in a view (APA tables are short; longer ones say how many follow).
REPORT_TABLE_ROWS = 25


def _words(lang: str) -> tuple[str, str]:
    return DOCUMENT_WORDS["table"].pick(lang), DOCUMENT_WORDS["note"].pick(lang)


def table_view(table: Any, lang: str | None = None) -> View:
    """An APA :class:`~.table.Table` in ``lang`` (default: the display language): title, cells, note."""
    lang = lang or display_lang()
    word, note = _words(lang)
    rows = table.rows(lang)
    shown = rows[:REPORT_TABLE_ROWS]
    more = f"... {count(len(rows) - len(shown))} more rows: .formatted(lang)" if len(rows) > len(shown) else ""
    grid = Grid(table.headers(lang), shown, n_stub=table.frame.index.nlevels, more=more,
                spanners=table.spanners(lang))
    return View(f"{word}: {table.title(lang)}", grids=[grid],
                notes=[table.note(lang)] if table.note(lang) else [], note_word=note,
                hint="More: .frame (the numbers), .formatted(lang); lt.set_display(lang=...) for the other language")


def _outline(section: Any, depth: int, rows: list[list[str]], kinds: dict[str, type]) -> None:
    blocks = section.blocks
    n = {k: sum(isinstance(b, t) for b in blocks) for k, t in kinds.items()}
    rows.append(["  " * depth + section.heading, count(n["text"]), count(n["table"]), count(n["figure"])])
    for sub in section.subsections:
        _outline(sub, depth + 1, rows, kinds)


def document_view(doc: Any, *, table_type: type, figure_type: type) -> View:
    """A :class:`~.document.Document`: title, language, its sections with their paragraphs, tables, figures."""
    rows: list[list[str]] = []
    for section in doc.sections:
        _outline(section, 0, rows, {"text": str, "table": table_type, "figure": figure_type})
    shown = rows[:REPORT_TABLE_ROWS]
    p = doc.provenance
    made = f"lerendtransformeren {p.package_version}, {p.date.isoformat()}" + (
        f", seed {p.seed}" if p.seed is not None else "")
    facts = [("Language", doc.lang), ("Made with", made)]
    if doc.subtitle:
        facts.insert(0, ("Subtitle", doc.subtitle))
    return View(
        f"Document: {doc.title}",
        facts=facts,
        grids=[Grid(["Section", "Paragraphs", "Tables", "Figures"], shown, caption="Sections",
                    more=f"... {count(len(rows) - len(shown))} more sections" if len(rows) > len(shown) else "")],
        hint="Write it with report.write_document(doc, folder, stem, formats=('html', 'docx', 'md'))",
    )


def provenance_view(prov: Any, lang: str | None = None) -> View:
    """A :class:`~.provenance.Provenance` block in ``lang`` (default: the display language)."""
    lang = lang or display_lang()
    rows = [[label, value] for label, value in prov.items(lang)]
    return View(DOCUMENT_WORDS["provenance"].pick(lang), grids=[Grid(["", ""], rows)],
                hint="More: .items(lang), .inputs, .libraries")


def suppression_view(sup: Any, lang: str | None = None) -> View:
    """A :class:`~.suppress.Suppression`: how many cells were hidden and why, the table, the footnote."""
    lang = lang or display_lang()
    n_primary = len(sup.primary)
    n_secondary = len(sup.cells) - n_primary
    footnote = sup.footnote(lang)
    return View(
        f"Suppression: cells resting on fewer than {sup.k} respondents hidden",
        facts=[("Suppressed", f"{count(len(sup.cells))} cells ({count(n_primary)} primary, "
                              f"{count(n_secondary)} secondary)")],
        grids=[frame_grid(sup.table, "Table", rows=REPORT_TABLE_ROWS, columns=10)],
        notes=[footnote] if footnote else [],
        note_word=_words(lang)[1],
        hint="More: .table, .mask, .cells, .footnote(lang)",
    )
