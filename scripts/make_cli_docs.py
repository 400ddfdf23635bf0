"""Regenerate the `--help` blocks of docs/cli.md from the real parser (``make docs``).

docs/cli.md is written by hand, except for the blocks between

    <!-- BEGIN help: gradflow inspect -->
    ...
    <!-- END help -->

which hold the exact ``gradflow inspect --help`` text. This script rewrites
those blocks and nothing else. The text is what ``gradflow CMD --help`` prints
in a terminal 80 columns wide (argparse wraps to ``COLUMNS``), so the output does
not depend on the terminal it runs in; argparse's layout does change between
Python versions, so the Python version is recorded too (``tests/test_docs.py``
compares exactly only under the same version).

    python scripts/make_cli_docs.py           # rewrite docs/cli.md
    python scripts/make_cli_docs.py --check   # exit 1 when docs/cli.md is out of date

No TensorFlow: ``--help`` never imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLI_MD = REPO / "docs" / "cli.md"
COLUMNS = 80

BLOCK = re.compile(r"<!-- BEGIN help: (?P<command>gradflow(?: [a-z-]+)?) -->\n(?P<body>.*?)<!-- END help -->",
                   re.DOTALL)
VERSION_LINE = re.compile(r"<!-- generated with Python (?P<version>\d+\.\d+)[^>]*-->")


def _parser() -> argparse.ArgumentParser:
    src = str(REPO / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from gradflow.cli import build_parser

    return build_parser()


def commands(parser: argparse.ArgumentParser | None = None) -> list[str]:
    """``gradflow`` and ``gradflow CMD`` for every subcommand, in the parser's order."""
    parser = parser or _parser()
    names = ["gradflow"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names += [f"gradflow {name}" for name in action.choices]
    return names


def help_text(command: str) -> str:
    """What ``COMMAND --help`` prints on stdout in an 80-column terminal."""
    argv = command.split()[1:] + ["--help"]
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(COLUMNS)  # argparse wraps to shutil.get_terminal_size()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            try:
                _parser().parse_args(argv)
            except SystemExit:
                pass
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return out.getvalue()


def fenced(text: str) -> str:
    return "```text\n" + text.rstrip("\n") + "\n```\n"


def version_line() -> str:
    v = sys.version_info
    return (f"<!-- generated with Python {v.major}.{v.minor}, COLUMNS={COLUMNS}, "
            "by scripts/make_cli_docs.py (make docs); do not edit the help blocks by hand -->")


def regenerate(doc: str) -> str:
    """``doc`` with every help block (and the version line) rewritten from the parser."""
    known = commands()
    found = [m.group("command") for m in BLOCK.finditer(doc)]
    missing = [c for c in known if c not in found]
    unknown = [c for c in found if c not in known]
    if missing or unknown:
        raise SystemExit(
            "docs/cli.md: "
            + (f"no help block for {', '.join(missing)} (add a section with "
               "'<!-- BEGIN help: gradflow CMD -->' ... '<!-- END help -->')" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"help blocks for commands the parser does not have: {', '.join(unknown)}" if unknown else "")
        )
    doc = BLOCK.sub(lambda m: (f"<!-- BEGIN help: {m.group('command')} -->\n"
                               f"{fenced(help_text(m.group('command')))}<!-- END help -->"), doc)
    if not VERSION_LINE.search(doc):
        raise SystemExit("docs/cli.md: no '<!-- generated with Python X.Y ... -->' line")
    return VERSION_LINE.sub(lambda m: version_line(), doc, count=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/cli.md is out of date; write nothing")
    args = ap.parse_args(argv)
    old = CLI_MD.read_text(encoding="utf-8")
    new = regenerate(old)
    if args.check:
        if new != old:
            print("docs/cli.md is out of date: run `python scripts/make_cli_docs.py` (or `make docs`)",
                  file=sys.stderr)
            return 1
        return 0
    if new != old:
        CLI_MD.write_text(new, encoding="utf-8")
        print(f"docs/cli.md: {len(commands())} help blocks regenerated")
    else:
        print("docs/cli.md: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
