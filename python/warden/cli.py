"""The ``warden`` command line.

``warden compile DIR`` loads a policy directory the way the engine does and
prints every problem as ``file:line:col: message`` (exit status 1), or a
one-line summary when the policies compile (exit status 0).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warden", description="warden policy tools")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    compile_cmd = commands.add_parser("compile", help="load and compile a policy directory, report every error")
    compile_cmd.add_argument("directory", metavar="DIR", help="policy directory (loaded like Cerbos's disk store)")
    return parser


def _path(directory: str, file: str) -> str:
    """The error's file as a path from the current directory, when it is one inside ``directory``."""
    joined = os.path.join(directory, file)
    return joined if not os.path.isabs(file) and os.path.isfile(joined) else file


def _compile(directory: str) -> int:
    from warden._core import Engine, PolicyError

    try:
        Engine.from_directory(directory)
    except PolicyError as exc:
        errors = getattr(exc, "errors", None) or []
        if not errors:
            print(str(exc), file=sys.stderr)
        for err in errors:
            print(f"{_path(directory, err['file'])}:{err['line']}:{err['column']}: {err['message']}", file=sys.stderr)
        count = max(len(errors), 1)
        print(f"{directory}: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{directory}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"{directory}: ok")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "compile":
        return _compile(args.directory)
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
