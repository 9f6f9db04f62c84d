"""A report (:class:`~lerendtransformeren.report.document.Document`) rendered to HTML,
Word (.docx) and Markdown, and written by one writer.

A document has a title, sections with paragraphs, :class:`~lerendtransformeren.report.tables.Table`\\ s,
:class:`~lerendtransformeren.report.figures.Figure`\\ s and a marked space for the
researchers' conclusions (:class:`Conclusions`), and a provenance block. One document
renders to:

- **HTML** (:func:`render_html`): one self-contained file, CSS inline, figures embedded as
  base64 PNG with alt text, APA table rules, a print style;
- **Word** (:func:`render_docx`): real Word tables (header rows that repeat on a new page,
  APA rules, merged spanner cells, columns as wide as their numbers and words need) and
  headings, figures as pictures with alt text, the language declared (nl-NL, en-GB);
- **Markdown** (:func:`render_markdown`): pipe tables, figures as files or data URIs.

:func:`write_document` writes one document in any of these formats; the same document
gives byte-identical files (the .docx through :func:`deterministic_docx`).

Tables and figures are numbered in order of appearance (APA: "Tabel 1", "Figuur 1"
above the title). Every renderer can check that none of the study's identifiers appears
in the text (``identifiers=``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path

import jinja2

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.report.document import (
    Conclusions,
    Document,
    Section,
    check_identifiers,
    document_items,
    md_escape,
    table_item,
    words,
)
from lerendtransformeren.report.figures import Figure
from lerendtransformeren.report.word import deterministic_docx, render_docx

__all__ = [
    "Conclusions",
    "Section",
    "Document",
    "render_html",
    "render_markdown",
    "render_docx",
    "write_document",
    "deterministic_docx",
    "FORMATS",
    "check_identifiers",
]

#: Output formats of :func:`write_document`, in the order they are usually written.
FORMATS: tuple[str, ...] = ("html", "docx", "md")


def _environment(autoescape: bool) -> jinja2.Environment:
    env = _plain_environment(autoescape)
    env.filters["md"] = md_escape
    return env


def _plain_environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lerendtransformeren.report", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _context(doc: Document, figure_src) -> dict:
    items = []
    for item in document_items(doc):
        if item["kind"] == "table":
            item = table_item(item, doc.lang)
        elif item["kind"] == "figure":
            figure: Figure = item["figure"]
            png = figure.to_png()
            item = {
                **item,
                "alt": figure.alt(doc.lang),
                "caption": figure.caption(doc.lang),
                "md_alt": figure.alt(doc.lang).replace("[", "\\[").replace("]", "\\]"),
                "src": figure_src(item["number"], png),
            }
        items.append(item)
    return {
        "lang": doc.lang,
        "title": doc.title,
        "subtitle": doc.subtitle,
        "items": items,
        "words": words(doc.lang),
        "provenance": doc.provenance,
        "provenance_items": doc.provenance.items(doc.lang),
    }


def _data_uri(number: int, png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(doc: Document, *, identifiers: Iterable[str] = ()) -> str:
    """The document as one self-contained HTML page (CSS inline, figures embedded).

    Parameters
    ----------
    doc : Document
    identifiers : iterable of str, optional
        Identifier values of the study; rendering fails if one appears in the text.

    Returns
    -------
    str
        The same document gives the same page.
    """
    check_identifiers(doc, identifiers)
    return _environment(True).get_template("report.html.j2").render(_context(doc, _data_uri))


def render_markdown(
    doc: Document,
    *,
    figure_dir: str | Path | None = None,
    identifiers: Iterable[str] = (),
) -> str:
    """The document as Markdown with pipe tables.

    Parameters
    ----------
    doc : Document
    figure_dir : path, optional
        Write figures as ``figure-1.png``, ... into this folder and link them by a path
        relative to its parent (put the Markdown file in that parent). Without it,
        figures are embedded as data URIs.
    identifiers : iterable of str, optional
        As in :func:`render_html`.

    Returns
    -------
    str
    """
    check_identifiers(doc, identifiers)
    if figure_dir is None:
        source = _data_uri
    else:
        folder = Path(figure_dir)
        folder.mkdir(parents=True, exist_ok=True)

        def source(number: int, png: bytes) -> str:
            path = folder / f"figure-{number}.png"
            path.write_bytes(png)
            return f"{folder.name}/{path.name}"

    text = _environment(False).get_template("report.md.j2").render(_context(doc, source))
    return re.sub(r"\n{3,}", "\n\n", text)


def write_document(
    doc: Document,
    out_dir: str | Path,
    stem: str,
    formats: Iterable[str] = ("html", "docx"),
    *,
    identifiers: Iterable[str] = (),
) -> dict[str, Path]:
    """Write the document as ``<stem>.html``, ``<stem>.docx`` and/or ``<stem>.md``.

    The one way to write a report to files. The same document gives byte-identical
    files: HTML and Markdown are written as UTF-8 bytes (no newline translation), the
    .docx through :func:`deterministic_docx`, figures as PNG without time stamps.
    Markdown figures go into ``<stem>_figures/`` beside the Markdown file, as
    ``figure-1.png``, ...; figure files left there by an earlier, longer report are
    removed.

    Parameters
    ----------
    doc : Document
    out_dir : path
        Folder to write into (made if absent).
    stem : str
        File name without suffix.
    formats : iterable of {"html", "docx", "md"}, default ("html", "docx")
        Written in the order given.
    identifiers : iterable of str, optional
        As in :func:`render_html`.

    Returns
    -------
    dict
        Format -> file written, in the order of ``formats`` (``list(result.values())``
        lists the files; Markdown figure files are not included).

    Raises
    ------
    SpecificationError
        For an unknown format (before anything is written).
    """
    formats = [str(f) for f in formats]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise SpecificationError(f"Unknown report format {bad[0]!r}; use {', '.join(FORMATS)}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    identifiers = list(identifiers)
    written: dict[str, Path] = {}
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        if fmt == "html":
            path.write_bytes(render_html(doc, identifiers=identifiers).encode("utf-8"))
        elif fmt == "docx":
            path.write_bytes(render_docx(doc, identifiers=identifiers))
        else:
            folder = out / f"{stem}_figures"
            for old in folder.glob("figure-*.png") if folder.is_dir() else ():
                if re.fullmatch(r"figure-\d+\.png", old.name):
                    old.unlink()
            text = render_markdown(doc, figure_dir=folder, identifiers=identifiers)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
            path.write_bytes(text.encode("utf-8"))
        written[fmt] = path
    return written
