"""cis2-capacity (REFERENCE §2, issue 12): the frontier — the largest T at which CiS2's laws hold.

For each width D, number of active circuits z and embedding, the largest T whose network passes the
strict verification (decoded R² ≥ 0.9 at every layer, mean α ≥ 0.9, indicators on/off, inactive error
flat, for every z' ≤ z), found by bisection (circuits.cis2_regime.frontier). The capacity law says
T* ∝ D²/(d²z): slope 2 of log T* against log D.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base.config import FrozenConfig
from ..base.fitting import fit_loglog
from ..circuits.cis2 import CiS2Config
from ..circuits.cis2_regime import frontier
from ..plots import circuits as cplots
from ..sweep import map_grid
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext

NULL_SLOPE = 1.0  # storage-like capacity, T ∝ D: the slope the capacity law must be told from


class Cis2CapacityConfig(FrozenConfig):
    net: CiS2Config = Field(
        CiS2Config(
            width=1000,
            circuits=557,
            layers=5,
            max_active=1,
            embedding="linked",
            value_margin=1 / 3,
        ),
        description="the network; width, circuits, max_active and embedding are scanned",
    )
    widths: list[int] = Field([1000, 2000, 4000], min_length=2, description="widths D")
    active: list[int] = Field([1], min_length=1, description="active circuits z")
    embeddings: list[str] = Field(
        ["linked"], min_length=1, description="embeddings compared (linear, linked)"
    )
    tolerance: float = Field(
        0.2, gt=0, le=0.5, description="allowed relative deviation of the slope from 2"
    )


def frontier_point(point: dict[str, Any]) -> dict[str, Any]:
    """Largest T passing the strict verification at one (D, z, embedding)."""
    cfg = CiS2Config.model_validate(point["net"]).replace(
        width=point["width"], max_active=point["active"], embedding=point["embedding"]
    )
    return frontier(cfg)


def slope_claim(embedding: str, z: int, widths: list[int], ts: list[float], tol: float) -> Claim:
    """log T* against log D has slope 2 (capacity law) and not 1 (the storage-like null)."""
    keep = [k for k, t in enumerate(ts) if t > 0]
    slope = fit_loglog([widths[k] for k in keep], [ts[k] for k in keep])[0] if len(keep) > 1 else 0
    ok = abs(slope - 2) <= 2 * tol and abs(slope - NULL_SLOPE) > 2 * tol
    return Claim(
        id=f"frontier-slope-{embedding}-z{z}",
        statement=f"With the {embedding} embedding at z={z}, the largest T at which the laws hold "
        "grows as D² (T ≲ D²/(d²z)).",
        measured={"slope": slope, "widths": widths, "largest T": ts},
        expected=f"slope within {tol:.0%} of 2 and more than {2 * tol:g} from {NULL_SLOPE:g} "
        "(the null: storage-like T ∝ D)",
        passed=bool(ok),
    )


def pooled_claim(embedding: str, rows: list[dict[str, Any]], d: int, tol: float) -> Claim:
    """All frontiers against D²/(d²z) on one log-log line of slope 1 (the capacity law's form)."""
    pts = [(r["width"] ** 2 / (d * d * r["active"]), r["T"]) for r in rows if r["T"] > 0]
    slope = fit_loglog([p[0] for p in pts], [p[1] for p in pts])[0] if len(pts) > 1 else 0.0
    return Claim(
        id=f"frontier-vs-capacity-law-{embedding}",
        statement=f"Pooled over D and z, the largest T at which the {embedding} embedding's laws "
        "hold is proportional to D²/(d²z).",
        measured={"slope of log T* vs log D²/(d²z)": slope, "points": pts},
        expected=f"slope within {tol:.0%} of 1",
        passed=bool(abs(slope - 1) <= tol),
    )


def embedding_claim(found: dict[tuple[str, int], list[float]], widths: list[int]) -> Claim:
    """The post's linked embedding holds its laws at larger T than the linear sum at z = 1."""
    lin, lnk = found.get(("linear", 1)), found.get(("linked", 1))
    ok = lin is not None and lnk is not None and all(b > a for a, b in zip(lin, lnk, strict=True))
    return Claim(
        id="linked-beats-linear-z1",
        statement="At z=1 the post's linked embedding (shared weights through the capped link "
        "matrix) keeps its laws to a larger T than counting every linking circuit once.",
        measured={"widths": widths, "linear": lin, "linked": lnk},
        expected="linked T* > linear T* at every width (the null: equal or smaller)",
        passed=bool(ok),
    )


def run_capacity(cfg: Cis2CapacityConfig, ctx: RunContext) -> ExperimentResult:
    net = cfg.net.to_dict()
    points = [
        {"net": net, "width": D, "active": z, "embedding": e}
        for e in cfg.embeddings
        for z in cfg.active
        for D in cfg.widths
    ]
    res = map_grid(frontier_point, points, progress=ctx.progress, description="cis2-capacity")
    rows = [
        {**{k: p[k] for k in ("width", "active", "embedding")}, **r}
        for p, r in zip(points, res, strict=True)
    ]
    found: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        found.setdefault((r["embedding"], r["active"]), []).append(r["T"])
    d = cfg.net.circuit_width
    claims = [slope_claim(e, z, cfg.widths, ts, cfg.tolerance) for (e, z), ts in found.items()]
    if len(cfg.active) > 1:
        for e in cfg.embeddings:
            mine = [r for r in rows if r["embedding"] == e]
            claims.append(pooled_claim(e, mine, d, cfg.tolerance))
    if {"linear", "linked"} <= set(cfg.embeddings) and 1 in cfg.active:
        claims.append(embedding_claim(found, cfg.widths))
    first = next(iter(found.values()))
    z0 = next(iter(found))[1]
    law = [D * D / (d * d * z0) for D in cfg.widths]
    scale = first[0] / law[0] if first[0] else 1.0
    fig = cplots.capacity(
        cfg.widths,
        {f"{e}, z={z}": ts for (e, z), ts in found.items()},
        [t * scale for t in law],
        ctx.figure_path("frontier"),
        f"CiS2 frontier: largest T with the laws held (S={cfg.net.redundancy}, L={cfg.net.layers})",
    )
    return ExperimentResult(
        claims=claims,
        figures=[fig],
        data={"frontier": rows, "widths": cfg.widths},
        notes=[
            "T* is the largest T passing the strict verification (bisection on a log scale to 4 %, "
            "between T = N/S, where no neuron is shared, and the allocation's capacity); the "
            "first failing T and the failed check are kept in data.",
            f"Network: {cfg.net.allocation} allocation, {cfg.net.positions} positions, "
            f"{cfg.net.unembedding} readout, β = {cfg.net.indicator_threshold:g}, "
            f"δ = {cfg.net.value_margin:.3g}.",
        ],
    )


register(
    Experiment(
        name="cis2-capacity",
        title="CiS2 frontier: the largest T at which the laws hold, vs D (capacity T ≲ D²/(d²z))",
        description="For each D, z and embedding, bisect T for the largest network passing the strict "
        "verification; fit log T* against log D (slope 2) and against D²/(d²z).",
        config_cls=Cis2CapacityConfig,
        quick=Cis2CapacityConfig(),
        full=Cis2CapacityConfig(active=[1, 2, 3], embeddings=["linear", "linked"]),
        runner=run_capacity,
        quick_seconds=60,
        full_seconds=900,
        paper="CiS2 (seed 001), capacity T ≲ D²/(d²z); issue 12",
    )
)
