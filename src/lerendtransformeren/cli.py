"""The ``lerendtransformeren`` command.

Subcommands:

- ``generate``: write the synthetic study (seeded) into a directory (an existing one only
  with ``--force``);
- ``init FOLDER``: write a commented starter study definition (``study.yaml``) for the
  data files in a folder;
- ``validate PATH`` or ``validate --study FILE``: read a data file, or every file of a
  study through the gate (read -> map -> validate), and print what was found;
- ``report``: reports per transformation goal and a cross-goal overview, as HTML, Word
  and/or Markdown (default: the bundled synthetic study, all goals, Dutch, html+docx,
  into ``reports/``).

Exit codes: 0 success, 1 the data or the run failed (the message says why and how to
fix it), 2 wrong use of the command (argparse's usage errors).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lerendtransformeren import __version__
from lerendtransformeren.exceptions import PYTHON, DataError, LerendTransformerenError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: How messages name the options of ``validate PATH``: as command-line options.
CLI_OPTIONS = PYTHON.renamed(
    {"sheet": "--sheet", "header_row": "--header-row", "sep": "--sep", "decimal": "--decimal",
     "encoding": "--encoding", "ids": "--ids", "respondent": "--respondent", "codebook": "--codebook"},
    assign="{name} {value}", language="cli",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lerendtransformeren",
        description="Action-research toolkit for Dutch youth care (Lerend Transformeren).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gen = sub.add_parser(
        "generate",
        help="write the synthetic study (known truth) into a directory",
        description="Generate the fictitious Lerend Transformeren study and write its files "
        "(organisations, professionals, families, activities, codebook, truth, README).",
    )
    gen.add_argument("--seed", type=int, default=None, help="seed (default: the seed of the bundled study)")
    gen.add_argument("--out", type=Path, default=Path("data/synthetic"), help="directory to write (default: %(default)s)")
    gen.add_argument("--force", action="store_true", help="overwrite the files of an existing directory")

    ini = sub.add_parser(
        "init",
        help="write a starter study definition (study.yaml) for the data files in a folder",
        description="Read the .csv, .xlsx and .sav files of a folder, guess which file and which "
        "columns are which part of the data contract, and write a commented study.yaml to check "
        "and complete. Then: validate --study FOLDER/study.yaml.",
    )
    ini.add_argument("folder", type=Path, help="folder with your exported data files")
    ini.add_argument("--force", action="store_true", help="overwrite an existing study.yaml")

    val = sub.add_parser(
        "validate",
        help="check a data file: nesting, one row per respondent per wave, codes",
        description="Read a data file (.csv, .xlsx, .sav), check it against the study design "
        "and print the structure found: units per level and wave, dropout, missingness.",
    )
    val.add_argument("path", type=Path, nargs="?", default=None, help="data file (.csv, .xlsx or .sav)")
    val.add_argument("--study", type=Path, default=None,
                     help="study definition (study.yaml) or study folder: check every file through the gate")
    val.add_argument("--respondent", default=None, help="respondent id column (default: inferred)")
    val.add_argument(
        "--codebook",
        type=Path,
        default=None,
        help="codebook.csv with allowed values (default: codebook.csv beside the file, if any)",
    )
    val.add_argument("--sheet", default=None, help="sheet of an .xlsx file (name or number)")
    val.add_argument("--header-row", type=int, default=None, help="row of the header as Excel numbers it (default: found)")
    val.add_argument("--sep", default=None, help="field separator of a csv file (default: detected)")
    val.add_argument("--decimal", choices=(".", ",", "both"), default=None, help="decimal mark of a csv file (default: detected)")
    val.add_argument("--encoding", default=None, help="text encoding of a csv or sav file (default: detected; 'mixed' per line)")
    val.add_argument("--ids", choices=("strict", "strip"), default="strict",
                     help="ids with surrounding spaces: an error (strict, default) or stripped and reported")

    rep = sub.add_parser(
        "report",
        help="write reports per transformation goal (HTML, Word, Markdown)",
        description="Write a report per transformation goal and a cross-goal overview, from "
        "the bundled synthetic study or a study folder: design, sample, reliability, change, "
        "the effect of the support offer (stepped-wedge multilevel model), subgroups and "
        "reliable change. Small cells are suppressed; no identifier is ever shown.",
    )
    rep.add_argument("--goal", default="all", help="goal 1..5, a list such as 1,3, or all (default)")
    rep.add_argument(
        "--study", type=Path, default=None,
        help="study definition (study.yaml) or study folder (default: the bundled synthetic study)",
    )
    rep.add_argument("--data", type=Path, default=None, help="same as --study (a study folder)")
    rep.add_argument("--lang", choices=("nl", "en"), default="nl", help="report language (default: nl)")
    rep.add_argument("--format", default="html,docx", help="comma-separated: html, docx, md (default: %(default)s)")
    rep.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: %(default)s)")
    rep.add_argument("--k", type=int, default=5, help="minimum respondents per shown statistic (default: 5)")
    rep.add_argument("--seed", type=int, default=None, help="seed of the bootstrap intervals (default: 20261123)")
    rep.add_argument("--date", default=None, help="date in the provenance block, YYYY-MM-DD (default: today)")
    rep.add_argument("--jobs", type=int, default=2, help="processes that fit the models (default: 2)")
    rep.add_argument("--impute", type=int, default=None, metavar="M",
                     help="add a sensitivity analysis of each goal's primary outcome after multiple "
                     "imputation of its missing scale scores, with M imputed data sets (M >= 2; default: off)")
    return parser


def _generate(args: argparse.Namespace) -> int:
    from lerendtransformeren import synthetic

    seed = synthetic.DEFAULT_SEED if args.seed is None else args.seed
    if args.out.exists() and any(args.out.iterdir()) and not args.force:
        raise DataError(f"{args.out}: the folder exists and is not empty; generate would overwrite its "
                        "files.\nFix: give another folder with --out, or add --force to overwrite.")
    study = synthetic.generate(seed=seed)
    sums = study.write(args.out)
    print(f"Synthetic study (seed {seed}) written to {args.out}:")
    for name, digest in sums.items():
        print(f"  {name:<20} sha256 {digest[:16]}")
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from lerendtransformeren.study.starter import starter_definition

    target = args.folder / "study.yaml"
    if target.exists() and not args.force:
        raise DataError(f"{target}: a study definition exists already.\nFix: edit it, or add --force "
                        "to replace it with a new starter file.")
    text, said = starter_definition(args.folder)
    target.write_text(text, encoding="utf-8")
    print(f"Wrote {target}:")
    for line in said:
        print(f"  {line}")
    print(f"Check the lines marked 'guessed' and fill in each 'TODO'; then run:\n"
          f"  lerendtransformeren validate --study {target}")
    return EXIT_OK


def _validate_study(path: Path) -> int:
    from lerendtransformeren.study.definition import definition_for_folder, read_definition
    from lerendtransformeren.study.gate import read_study_files

    definition = read_definition(path) if path.is_file() else definition_for_folder(path)
    for role, read in read_study_files(definition).items():
        print(f"== {role}: {read.path}")
        print(read.read.summary())
        mapped = [n for n in read.notes if n not in read.read.notes and n not in read.report.notes]
        if mapped:
            print("mapped by the study definition:")
            print("\n".join(f"- {note}" for note in mapped))
        print()
        print(read.report.summary())
        print()
    print(f"Study {definition.name!r}: every file passed. Next: lerendtransformeren report --study {path}")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from lerendtransformeren import design, io

    if args.study is not None:
        return _validate_study(args.study)
    if args.path is None:
        raise DataError("validate needs a data file or --study FILE.\nFix: lerendtransformeren validate "
                        "families.xlsx, or lerendtransformeren validate --study study.yaml")

    sheet = int(args.sheet) if args.sheet is not None and args.sheet.isdigit() else args.sheet
    read = {"sheet": sheet, "header_row": args.header_row, "sep": args.sep, "decimal": args.decimal,
            "encoding": args.encoding}
    table = io.read_table(args.path, options=CLI_OPTIONS, **{k: v for k, v in read.items() if v is not None})
    codebook_path = args.codebook or (args.path.parent / "codebook.csv")
    codebook = None
    if args.codebook is not None or (codebook_path.exists() and codebook_path.name != args.path.name):
        codebook = io.read_codebook(codebook_path, options=CLI_OPTIONS)
    checked = design.validate(table.data, respondent=args.respondent, codebook=codebook, source=str(args.path),
                              ids=args.ids, first_row=table.source.get("first_row"), options=CLI_OPTIONS)
    print(table.summary())
    print()
    if codebook is not None:
        print(f"Codebook: {codebook_path}")
    print(checked.summary())
    return EXIT_OK


def _report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import datetime as dt

    from lerendtransformeren.goalreport.analyse import DEFAULT_SEED
    from lerendtransformeren.goalreport.run import FORMATS, run_reports

    goal = args.goal.strip().lower()
    if goal != "all":
        parts = [p.strip() for p in goal.split(",")]
        if not all(p.isdigit() and 1 <= int(p) <= 5 for p in parts):
            parser.error(f"argument --goal: {args.goal!r} is not a goal 1..5, a list such as 1,3, or all")
        goal = [int(p) for p in parts]
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    if not formats or any(f not in FORMATS for f in formats):
        parser.error(f"argument --format: {args.format!r}; choose from {', '.join(FORMATS)}")
    if args.k < 1:
        parser.error("argument --k: must be 1 or more")
    if args.impute is not None and args.impute < 2:
        parser.error(f"argument --impute: {args.impute} imputed data sets; give 2 or more (e.g. --impute 20)")
    date = None
    if args.date is not None:
        try:
            date = dt.date.fromisoformat(args.date)
        except ValueError:
            parser.error(f"argument --date: {args.date!r} is not a date YYYY-MM-DD")
    run_reports(
        goal,
        args.study or args.data,
        lang=args.lang,
        formats=formats,
        out=args.out,
        date=date,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        k=args.k,
        jobs=max(1, args.jobs),
        impute=args.impute,
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 failed, 2 wrong use).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     main(["generate", "--seed", "7", "--out", out])  # doctest: +ELLIPSIS
    Synthetic study (seed 7) written to ...
    0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    handlers = {"generate": _generate, "init": _init, "validate": _validate,
                "report": lambda a: _report(a, parser)}
    try:
        return handlers[args.command](args)
    except LerendTransformerenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"error: {exc.strerror or exc} ({exc.filename})" if exc.filename else f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # no traceback for a command-line user; the message says where to go
        print(f"error: an internal error stopped the run ({type(exc).__name__}: {exc}).\n"
              "This is a bug in lerendtransformeren, not in your data as far as we can tell; please "
              "report it with the command you ran.", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
