"""Issue 12 item 3 as claims of a run: allocations near the pair bound, balanced at every T.

An allocation (circuits.allocation) gives each circuit S of the N = D/d neuron positions, any two
circuits sharing at most one: pair counting bounds how many, T ≤ N(N − 1)/(S(S − 1)). Measured per
(N, S) cell: the 'affine' scheme's size against that bound, and whether the T circuits a network
takes (`family`) use each neuron at most 1.05× the mean at every T up to that size (max − ⌈mean⌉
≤ 1 where the mean is below 20, as `allowed_max`). The null: the published prime-step scheme at
the same cells (18.8–37.5 % of the bound over the full grid, its first T rows used as they are).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base.config import FrozenConfig
from ..circuits.allocation import families_balanced, make_allocation, pair_bound
from ..sweep import map_grid
from .base import Claim, RunContext, with_null

NULL = "the published prime-step allocation (allocation: prime) at the same cells"
Cells = dict[tuple[int, int], dict[str, Any]]


class AllocationTargets(FrozenConfig):
    named: list[tuple[int, int]] = Field(
        [(250, 6), (500, 5), (250, 5), (250, 4), (1000, 6), (500, 8)],
        description="(D/d, S) points issue 12 names, each to hold `named_fraction` of the bound",
    )
    named_fraction: float = Field(0.9, gt=0, le=1, description="issue 12: 90 % at named points")
    widths: list[int] = Field(
        [100, 150, 250], min_length=1, description="D/d of the cells that must hold `fraction`"
    )
    sizes: list[int] = Field(
        [3, 4, 5, 6, 7, 8], min_length=1, description="S of the cells that must hold `fraction`"
    )
    fraction: float = Field(0.85, gt=0, le=1, description="issue 12: 85 % in every cell")
    balanced_widths: list[int] = Field(
        [100, 150, 250],
        description="D/d whose cells (and every named point) are also checked for balance at "
        "every T (its cost: the families of the T whose first rows are not balanced)",
    )


def allocation_cell(point: dict[str, Any]) -> dict[str, Any]:
    """One cell: the allocation's size, the pair bound and (if asked) how many T ≤ its size leave
    the circuits a network takes unbalanced."""
    alloc = make_allocation(point["scheme"], point["n"], point["size"])
    out: dict[str, Any] = {"T": alloc.capacity, "bound": pair_bound(point["n"], point["size"])}
    if point["balance"]:
        out["unbalanced T"] = int((~families_balanced(alloc)).sum())
    return out


def _fraction(r: dict[str, Any]) -> float:
    return r["T"] / r["bound"]


def _name(cell: tuple[int, int]) -> str:
    return f"({cell[0]},{cell[1]})"


def named_claim(cells: Cells, named: list[tuple[int, int]], target: float) -> Claim:
    got = {_name(c): round(_fraction(cells[c]), 4) for c in named}
    return Claim(
        id="allocation-named-points",
        statement=f"At the (D/d, S) points issue 12 names, the allocation holds ≥ {target:.0%} "
        "of the pair bound T ≤ N(N − 1)/(S(S − 1)).",
        measured={"fraction of the pair bound": got},
        expected=f"≥ {target:.0%} at every named point",
        passed=min(got.values()) >= target,
    )


def every_cell_claim(cells: Cells, grid: list[tuple[int, int]], target: float) -> Claim:
    frac = {c: _fraction(cells[c]) for c in grid}
    low = min(frac, key=frac.__getitem__)
    below = [f"{_name(c)} {f:.1%}" for c, f in frac.items() if f < target]
    widths = sorted({n for n, _ in grid})
    return Claim(
        id="allocation-every-cell",
        statement=f"At every S from {min(s for _, s in grid)} to {max(s for _, s in grid)} and "
        f"D/d from {widths[0]} to {widths[-1]} ({len(widths)} values), the allocation holds "
        f"≥ {target:.0%} of the pair bound.",
        measured={
            "cells": len(grid),
            "lowest": f"{_name(low)} {frac[low]:.1%}",
            "cells below the target": len(below),
            "below the target (first 12)": below[:12],
        },
        expected=f"≥ {target:.0%} in every cell",
        passed=not below,
    )


def balance_claim(cells: Cells, where: list[tuple[int, int]]) -> Claim:
    bad = {_name(c): cells[c]["unbalanced T"] for c in where if cells[c]["unbalanced T"]}
    return Claim(
        id="allocation-balanced-every-T",
        statement="In every cell checked, the circuits a network of any T up to the allocation's "
        "size takes use each neuron at most 1.05× the mean (max − ⌈mean⌉ ≤ 1 below mean 20).",
        measured={
            "cells": len(where),
            "T checked": sum(cells[c]["T"] for c in where),
            "unbalanced T per cell": bad,
        },
        expected="no T unbalanced in any cell",
        passed=not bad,
    )


def allocation_claims(cfg: AllocationTargets, ctx: RunContext) -> list[Claim]:
    """The three claims, each with the prime-step scheme on the same cells as its null."""
    grid = [(n, s) for n in cfg.widths for s in cfg.sizes if s * (s - 1) < n]
    every = list(dict.fromkeys([*cfg.named, *grid]))
    where = [c for c in every if c in cfg.named or c[0] in cfg.balanced_widths]
    results = {}
    for scheme in ("affine", "prime"):
        points = [
            {"scheme": scheme, "n": n, "size": s, "balance": (n, s) in where} for n, s in every
        ]
        rows = map_grid(  # cells are independent: the experiment's worker processes share them
            allocation_cell,
            points,
            progress=ctx.progress,
            description=f"allocation: {scheme}",
            workers=ctx.workers,
        )
        results[scheme] = dict(zip(every, rows, strict=True))
    ours, null = results["affine"], results["prime"]
    return [
        with_null(named_claim, ours, null, NULL, cfg.named, cfg.named_fraction),
        with_null(every_cell_claim, ours, null, NULL, grid, cfg.fraction),
        with_null(balance_claim, ours, null, NULL, where),
    ]
