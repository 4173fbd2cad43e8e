"""Repeatable options that also take several values after one flag: `--only a b` = `--only a --only b`.

click (and so typer) has no options with a variable number of values; people type `--only a b`
anyway, and the README writes `[--only NAME…]`. `ListCommand` rewrites the command line before
click parses it: the values after a repeatable option run to the next option (a token starting
with `-`) or to `--`; put positional arguments before such an option.
"""

from __future__ import annotations

from typer.core import TyperCommand


def repeatable_flags(params) -> set[str]:
    """The flags (`--only`, `-o`) of the options that may be given more than once."""
    return {
        flag
        for p in params
        if getattr(p, "param_type_name", "") == "option" and getattr(p, "multiple", False)
        for flag in p.opts
    }


def spread(args: list[str], flags: set[str]) -> list[str]:
    """`--only a b --out x` → `--only a --only b --out x` for each flag in `flags`."""
    out: list[str] = []
    flag: str | None = None  # the repeatable option whose values are being read
    given = False  # whether it has its first value already
    for i, tok in enumerate(args):
        if tok == "--":  # everything after is positional
            return out + args[i:]
        if tok.startswith("-") and tok != "-":
            name, eq, _ = tok.partition("=")
            flag, given = (name, bool(eq)) if name in flags else (None, False)
        elif flag is not None:
            if given:
                out.append(flag)
            given = True
        out.append(tok)
    return out


class ListCommand(TyperCommand):
    """A typer command whose repeatable options accept `--opt a b` as well as `--opt a --opt b`."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread(list(args), repeatable_flags(self.params)))
