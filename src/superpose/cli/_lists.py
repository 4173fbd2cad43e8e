"""Repeatable options that also take several values after one flag: `--only a b` = `--only a --only b`.

click (and so typer) has no options with a variable number of values; people type `--only a b`
anyway, and the README writes `[--only NAME…]`. `ListCommand` rewrites the command line before
click parses it: the values after a repeatable option run to the next option (a token starting
with `-`) or to `--`. A positional argument typed after them (`runs ls --metric loss runs.db`) is
the last of those values when the command would otherwise lack it.
"""

from __future__ import annotations

from typer.core import TyperCommand


def spread(
    args: list[str], lists: set[str], valued: set[str] = frozenset(), positional: int = 0
) -> list[str]:
    """`--only a b --out x` → `--only a --only b --out x` for each flag in `lists`.

    `valued`: the other options' flags that take a value; `positional`: how many positional
    arguments the command requires (both only to tell positional arguments from list values).
    """
    # each token with the list flag to repeat before it, or None
    marked: list[tuple[str, str | None]] = []
    flag: str | None = None  # the repeatable option whose values are being read
    given = False  # whether it has its first value already
    skip = False  # the token is the value of a `valued` option
    for i, tok in enumerate(args):
        if tok == "--":  # everything after is positional
            marked += [(t, None) for t in args[i:]]
            break
        if skip:
            skip = False
        elif tok.startswith("-") and tok != "-":
            name, eq, _ = tok.partition("=")
            flag, given = (name, bool(eq)) if name in lists else (None, False)
            skip = name in valued and not eq
        elif flag is not None:
            if given:
                marked.append((tok, flag))
                continue
            given = True
        else:
            positional -= 1
        marked.append((tok, None))
    for i in reversed(range(len(marked))):  # missing positional arguments: the last list values
        if positional > 0 and marked[i][1] is not None:
            marked[i] = (marked[i][0], None)
            positional -= 1
    return [t for tok, flag in marked for t in ((flag, tok) if flag else (tok,))]


class ListCommand(TyperCommand):
    """A typer command whose repeatable options accept `--opt a b` as well as `--opt a --opt b`."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        lists, valued, positional = set(), set(), 0
        for p in self.params:
            if getattr(p, "param_type_name", "") != "option":
                positional += p.nargs if p.required and p.nargs > 0 else 0
            elif getattr(p, "multiple", False):
                lists.update(p.opts)
            elif not getattr(p, "is_flag", False) and not getattr(p, "count", False):
                valued.update(p.opts)
        return super().parse_args(ctx, spread(list(args), lists, valued, positional))
