"""The one place an exception becomes the one line (and exit code) the command line shows.

Usage errors are recognised by shape (`exit_code` + `format_message`), not by class: typer may
ship its own copy of click, so `isinstance(err, click.ClickException)` is not reliable.
"""

from __future__ import annotations

import sqlite3

from .errors import SuperposeError

TRACEBACK_ENV = "SUPERPOSE_TRACEBACK"  # set to 1 to see the traceback of an unexpected error


def _flat(text: str) -> str:
    """One line: newlines folded, surrounding space trimmed."""
    return " ".join(part.strip() for part in str(text).strip().splitlines() if part.strip())


def _out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text or "not enough memory" in text
    )


def one_line(err: BaseException) -> tuple[str | None, int]:
    """(message, exit code) for `err`; message None means exit quietly with that code."""
    if isinstance(err, SuperposeError):
        return _flat(err), 2
    code = getattr(err, "exit_code", None)
    if isinstance(code, int) and callable(getattr(err, "format_message", None)):  # click usage
        ctx = getattr(err, "ctx", None)
        where = getattr(ctx, "command_path", None) or "superpose"
        text = _flat(err.format_message())
        if not text:  # a group called bare: its help was printed instead
            return None, code
        return f"{text} (see '{where} --help')", code
    if isinstance(code, int):  # typer.Exit / click.exceptions.Exit
        return None, code
    if type(err).__name__ == "Abort":
        return "aborted", 1
    if _out_of_memory(err):
        return (
            f"out of memory ({_flat(err)[:120]}); choose smaller sizes in the config",
            1,
        )
    if isinstance(err, OSError):
        name = err.filename or "file"
        return f"{name}: {err.strerror or _flat(err)}", 1
    if isinstance(err, sqlite3.DatabaseError):
        return f"run store unreadable ({_flat(err)})", 1
    text = _flat(err)
    return (
        f"internal error: {type(err).__name__}: {text[:200]} "
        f"(please report it; {TRACEBACK_ENV}=1 shows the traceback)",
        1,
    )
