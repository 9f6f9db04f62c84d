"""Reports: APA tables, figures, sentences and documents in Dutch and English.

The building blocks of a goal report, each usable on its own in a notebook:

- :mod:`~lerendtransformeren.report.format`: numbers, p values and intervals per language;
- :mod:`~lerendtransformeren.report.suppress`: small-cell suppression (primary and
  secondary), the identifier guard and neutral labels for organisations and teams;
- :mod:`~lerendtransformeren.report.tables`: APA tables as numbers plus formatting;
- :mod:`~lerendtransformeren.report.figures`: figures with alt text, black-and-white safe;
- :mod:`~lerendtransformeren.report.text`: result sentences and a methods paragraph;
- :mod:`~lerendtransformeren.report.render`: a :class:`Document` to HTML, Word, Markdown;
- :mod:`~lerendtransformeren.report.provenance`: how a report was made.

The report layer is generic: it knows nothing of the programme Lerend Transformeren. The
goal reports that use it live in :mod:`lerendtransformeren.goalreport`.
"""

from __future__ import annotations

from lerendtransformeren.report.figures import (
    Figure,
    plot_caterpillar,
    plot_diagnostics,
    plot_fixed,
    plot_forest,
    plot_gas,
    plot_marginal_means,
    plot_organisation_trajectories,
    plot_power_curve,
    plot_reliability,
    plot_reliable_change,
    plot_trajectories,
)
from lerendtransformeren.report.format import (
    fmt_bounded,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
)
from lerendtransformeren.report.modeltable import model_table
from lerendtransformeren.report.provenance import Provenance, collect_provenance, sha256_file
from lerendtransformeren.report.render import (
    Conclusions,
    Document,
    Section,
    deterministic_docx,
    render_docx,
    render_html,
    render_markdown,
    write_document,
)
from lerendtransformeren.report.suppress import (
    Suppression,
    assert_no_identifiers,
    pseudonymise,
    suppress_small_cells,
)
from lerendtransformeren.report.tables import (
    Column,
    Table,
    descriptives_table,
    fixed_effects_table,
    model_comparison_table,
    power_table,
    reliability_table,
    sample_table,
    variance_table,
)
from lerendtransformeren.report.text import (
    effect_sentence,
    fixed_effects_text,
    methods_paragraph,
    power_sentence,
    variance_sentence,
)

__all__ = [
    "fmt_num",
    "fmt_int",
    "fmt_bounded",
    "fmt_pct",
    "fmt_p",
    "fmt_ci",
    "Suppression",
    "suppress_small_cells",
    "assert_no_identifiers",
    "pseudonymise",
    "Column",
    "Table",
    "sample_table",
    "descriptives_table",
    "reliability_table",
    "fixed_effects_table",
    "variance_table",
    "model_comparison_table",
    "power_table",
    "model_table",
    "Figure",
    "plot_trajectories",
    "plot_organisation_trajectories",
    "plot_caterpillar",
    "plot_reliability",
    "plot_reliable_change",
    "plot_gas",
    "plot_power_curve",
    "plot_forest",
    "plot_fixed",
    "plot_diagnostics",
    "plot_marginal_means",
    "effect_sentence",
    "fixed_effects_text",
    "variance_sentence",
    "methods_paragraph",
    "power_sentence",
    "Provenance",
    "collect_provenance",
    "sha256_file",
    "Conclusions",
    "Section",
    "Document",
    "render_html",
    "render_markdown",
    "render_docx",
    "write_document",
    "deterministic_docx",
]
