"""Interactive report figures: plotly.js specs built from the numbers experiments save.

Each builder reads one experiment's `result.json` record (its `data`) and returns `Figure`s: a set
of plotly.js figures ("variants") and the controls (sliders, selectors) that pick one. The report
writes them as JSON next to a small runtime (`interactive.js`) and plotly.min.js copied from the
plotly package into the report's `assets/` folder, so the page works offline, without a server.
Nothing here recomputes an experiment: every number shown is one the run saved.
"""

from __future__ import annotations

import html
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ASSETS = "assets"
RUNTIME = Path(__file__).with_name("interactive.js")
HOVER_FONT = {"font": {"family": "monospace", "size": 12}}


@dataclass
class Control:
    """A slider ("range") or drop-down ("select") over `options` (labels shown to the reader)."""

    label: str
    options: list[str]
    kind: str = "range"

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "options": self.options, "kind": self.kind}


@dataclass
class Figure:
    """Plotly figures keyed by the control indices joined with "|" ("" without controls)."""

    id: str
    title: str
    variants: dict[str, dict[str, Any]]
    controls: list[Control] = field(default_factory=list)
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "variants": self.variants,
            "controls": [c.to_dict() for c in self.controls],
        }


def plotly_js() -> Path:
    """plotly.min.js as shipped inside the plotly package (no download)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        from ..errors import SuperposeError

        raise SuperposeError(f"{path}: plotly.min.js missing from the plotly package; reinstall it")
    return path


def write_assets(out_dir: Path) -> str:
    """Copy plotly.min.js and the runtime into `out_dir/assets/` (once: skipped when the same size
    is there) and return the <script> tags that load them by relative path."""
    folder = out_dir / ASSETS
    folder.mkdir(parents=True, exist_ok=True)
    for src in (plotly_js(), RUNTIME):
        dst = folder / src.name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            tmp = dst.with_suffix(dst.suffix + ".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
    return "".join(
        f"<script src='{ASSETS}/{name}'></script>" for name in ("plotly.min.js", RUNTIME.name)
    )


def _json(value: Any) -> str:
    """JSON safe inside a <script> element (no NaN, no closing tags)."""
    text = json.dumps(_finite(value), separators=(",", ":"))
    return text.replace("</", "<\\/")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def figure_html(fig: Figure) -> str:
    """The figure's container: title, controls (drawn by the runtime), plot and spec."""
    caption = f"<p class='meta'>{html.escape(fig.caption)}</p>" if fig.caption else ""
    return (
        f"<div class='sp-figure' id='{html.escape(fig.id)}'>"
        f"<h3>{html.escape(fig.title)}</h3>{caption}<div class='sp-controls'></div>"
        "<div class='sp-plot'></div>"
        f"<script type='application/json' class='sp-spec'>{_json(fig.to_dict())}</script></div>"
    )


# --- the figures ----------------------------------------------------------------------------


def _wtw_metrics(W: list[list[float]]) -> dict[str, list[Any]]:
    """WᵀW, norms, D_i and interference of one W [hidden, features] (as the library defines them,
    `toy.metrics`), computed from the saved weights."""
    import torch

    from ..toy import metrics

    w = torch.tensor(W, dtype=torch.float64)[None]
    return {
        "gram": metrics.gram(w)[0].tolist(),
        "norm": metrics.feature_norms(w)[0].tolist(),
        "dim": metrics.feature_dimensionality(w)[0].tolist(),
        "interference": metrics.interference(w)[0].tolist(),
    }


def wtw_figure(fig_id: str, title: str, Ws: list[Any], labels: list[str]) -> Figure:
    """WᵀW heat-map and feature norms with a slider over instances (sparsities); hover gives each
    feature's norm, dimensionality D_i and interference Σ_j≠i (Ŵ_i·W_j)²."""
    variants = {}
    for k, W in enumerate(Ws):
        m = _wtw_metrics(W)
        n = len(m["norm"])
        feats = list(range(n))
        custom = [[m["norm"][i], m["dim"][i], m["interference"][i]] for i in feats]
        gram_hover = [[[i, j, m["norm"][i], m["dim"][i]] for j in feats] for i in feats]
        variants[str(k)] = {
            "data": [
                {
                    "type": "heatmap",
                    "z": m["gram"],
                    "x": feats,
                    "y": feats,
                    "zmin": -1,
                    "zmax": 1,
                    "colorscale": "RdBu",
                    "reversescale": True,
                    "customdata": gram_hover,
                    "hovertemplate": "WᵀW[%{customdata[0]}, %{customdata[1]}] = %{z:.3f}<br>"
                    "feature %{customdata[0]}: norm %{customdata[2]:.3f}, "
                    "D_i %{customdata[3]:.3f}<extra></extra>",
                    "colorbar": {"x": 0.46, "len": 0.9},
                },
                {
                    "type": "bar",
                    "x": feats,
                    "y": m["norm"],
                    "xaxis": "x2",
                    "yaxis": "y2",
                    "customdata": custom,
                    "marker": {"color": m["interference"], "colorscale": "Viridis", "cmin": 0},
                    "hovertemplate": "feature %{x}<br>norm ‖W_i‖ %{customdata[0]:.3f}<br>"
                    "D_i %{customdata[1]:.3f}<br>interference %{customdata[2]:.3f}"
                    "<extra></extra>",
                },
            ],
            "layout": {
                "height": 380,
                "margin": {"t": 30, "l": 50, "r": 20, "b": 40},
                "hoverlabel": HOVER_FONT,
                "xaxis": {"domain": [0, 0.44], "title": {"text": "feature j"}},
                "yaxis": {"autorange": "reversed", "title": {"text": "feature i"}},
                "xaxis2": {"domain": [0.56, 1], "anchor": "y2", "title": {"text": "feature"}},
                "yaxis2": {
                    "anchor": "x2",
                    "range": [0, 1.3],
                    "title": {"text": "‖W_i‖ (colour: interference)"},
                },
                "showlegend": False,
                "title": {"text": labels[k], "x": 0.02, "y": 0.98},
            },
        }
    return Figure(
        fig_id,
        title,
        variants,
        [Control("sparsity", labels)],
        "Hover a cell or a feature column for its norm, dimensionality D_i and interference.",
    )


def geometry_figure(
    fig_id: str, title: str, Ws: list[Any], labels: list[str], highlight: int | None = None
) -> Figure:
    """2-D feature geometry: each feature's column W_i [2] as a spoke from the origin, with a
    slider over the instances (sparsity settings)."""
    variants = {}
    for k, W in enumerate(Ws):
        xs, ys = W[0], W[1]
        n = len(xs)
        data = []
        for i in range(n):
            norm = math.hypot(xs[i], ys[i])
            angle = math.degrees(math.atan2(ys[i], xs[i]))
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [0, xs[i]],
                    "y": [0, ys[i]],
                    "name": f"feature {i}" + (" (varied)" if i == highlight else ""),
                    "line": {"width": 4 if i == highlight else 2},
                    "marker": {"size": [0, 10]},
                    "customdata": [[i, norm, angle]] * 2,
                    "hovertemplate": "feature %{customdata[0]}<br>norm %{customdata[1]:.3f}"
                    "<br>angle %{customdata[2]:.1f}°<extra></extra>",
                }
            )
        variants[str(k)] = {
            "data": data,
            "layout": {
                "height": 420,
                "width": 520,
                "margin": {"t": 30, "l": 40, "r": 10, "b": 30},
                "hoverlabel": HOVER_FONT,
                "xaxis": {"range": [-1.5, 1.5], "zeroline": True},
                "yaxis": {"range": [-1.5, 1.5], "scaleanchor": "x", "zeroline": True},
                "title": {"text": labels[k], "x": 0.02, "y": 0.98},
            },
        }
    return Figure(
        fig_id,
        title,
        variants,
        [Control("setting", labels)],
        "Move the slider: each spoke is a feature's direction W_i in the 2-D hidden space.",
    )


def phase_figure(fig_id: str, title: str, data: dict[str, Any]) -> Figure:
    """Empirical and theoretical phase diagrams side by side; hover shows both phases, the trained
    model's loss and every candidate's closed-form loss at that cell."""
    imp, dens = data["importance"], data["density"]
    names = data.get("candidates") or []
    cand = data.get("candidate_losses")  # [importance, density, candidates]
    phases = data.get("phase_names") or ["not learned", "superposition", "dedicated"]
    custom = []
    for r in range(len(imp)):
        row = []
        for d in range(len(dens)):
            losses = cand[r][d] if cand else []
            row.append(
                [
                    phases[data["empirical"][r][d]],
                    phases[data["theoretical"][r][d]],
                    data["best_loss"][r][d],
                    "<br>".join(
                        f"  {n}: {v:.4g}"
                        for n, v in zip(names, losses, strict=True)
                        if v is not None
                    ),
                ]
            )
        custom.append(row)
    hover = (
        "importance %{y:.3g}, density %{x:.3g}<br>empirical: %{customdata[0]}"
        " (loss %{customdata[2]:.4g})<br>theory: %{customdata[1]}<br>"
        "candidate losses (closed form):<br>%{customdata[3]}<extra></extra>"
    )
    common = {
        "type": "heatmap",
        "x": dens,
        "y": imp,
        "zmin": 0,
        "zmax": 2,
        "colorscale": [[0, "#f0f0f0"], [0.5, "#4c72b0"], [1, "#dd8452"]],
        "customdata": custom,
        "hovertemplate": hover,
        "showscale": False,
    }
    layout = {
        "height": 400,
        "margin": {"t": 40, "l": 60, "r": 20, "b": 50},
        "hoverlabel": HOVER_FONT,
        "xaxis": {"type": "log", "domain": [0, 0.47], "title": {"text": "density 1 − S"}},
        "yaxis": {"type": "log", "title": {"text": "relative importance"}},
        "xaxis2": {"type": "log", "domain": [0.53, 1], "title": {"text": "density 1 − S"}},
        "yaxis2": {"type": "log", "anchor": "x2", "matches": "y"},
        "annotations": [
            {"text": t, "x": x, "y": 1.06, "xref": "paper", "yref": "paper", "showarrow": False}
            for t, x in (("empirical", 0.2), ("theoretical", 0.78))
        ],
    }
    return Figure(
        fig_id,
        title,
        {
            "": {
                "data": [
                    {**common, "z": data["empirical"]},
                    {**common, "z": data["theoretical"], "xaxis": "x2", "yaxis": "y2"},
                ],
                "layout": layout,
            }
        },
        caption="Grey: extra feature not learned; blue: in superposition; orange: dedicated. "
        "Hover a cell for both phases and each candidate's loss.",
    )


def cis_profile_figure(fig_id: str, title: str, profiles: dict[str, Any]) -> Figure:
    """Error by layer (one line per width D) with selectors for z (active circuits) and the error
    part (active or inactive circuits; total, overlap, ReLU, propagation)."""
    widths = list(profiles)
    zs = list(profiles[widths[0]])
    parts = [
        (side, part)
        for side in ("active", "inactive")
        for part in profiles[widths[0]][zs[0]][side]
        if isinstance(profiles[widths[0]][zs[0]][side][part], list)
    ]
    variants = {}
    for a, z in enumerate(zs):
        for b, (side, part) in enumerate(parts):
            data = []
            for D in widths:
                p = profiles[D].get(z)
                if p is None:
                    continue
                y = p[side][part]
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines+markers",
                        "x": list(range(1, len(y) + 1)),
                        "y": y,
                        "name": f"D={D} (T={p.get('T')}, d={p.get('d')})",
                        "hovertemplate": f"D={D}, z={z}<br>layer %{{x}}<br>{side} {part} MSE "
                        "%{y:.4g}<extra></extra>",
                    }
                )
            variants[f"{a}|{b}"] = {
                "data": data,
                "layout": {
                    "height": 380,
                    "margin": {"t": 30, "l": 70, "r": 20, "b": 40},
                    "hoverlabel": HOVER_FONT,
                    "xaxis": {"title": {"text": "layer"}, "dtick": 1},
                    "yaxis": {"title": {"text": f"{side} circuits: {part} error (MSE)"}},
                    "title": {"text": f"z={z}: {side} {part}", "x": 0.02, "y": 0.98},
                },
            }
    return Figure(
        fig_id,
        title,
        variants,
        [
            Control("active circuits z", [str(z) for z in zs], "select"),
            Control("error part", [f"{s}: {p}" for s, p in parts], "select"),
        ],
        "Pick z and the error part; hover a point for its value.",
    )


def _tms_basic(record: dict[str, Any]) -> list[Figure]:
    data = record["data"]
    labels = [f"S={s:g}" for s in data["sparsities"]]
    figs = []
    for key, Ws in data.items():
        if key.startswith("W_") and isinstance(Ws, list):
            name = key[2:]
            figs.append(
                wtw_figure(f"{record['name']}-{name}", f"{name} model: WᵀW and ‖W_i‖", Ws, labels)
            )
    return figs


def _nonuniform(record: dict[str, Any]) -> list[Figure]:
    data = record["data"]
    if "W_best" not in data:
        return []
    labels = [f"density of feature 4: {d:.3g}" for d in data["density"]]
    fig = geometry_figure(
        f"{record['name']}-geometry",
        "Feature geometry across the varied feature's density (best model per density)",
        data["W_best"],
        labels,
        highlight=4,
    )
    return [fig]


def _phase(record: dict[str, Any]) -> list[Figure]:
    data = record["data"]
    needed = ("importance", "density", "empirical", "theoretical", "best_loss")
    if not all(k in data for k in needed):
        return []
    return [phase_figure(f"{record['name']}-phase", "Phase diagrams (hover a cell)", data)]


def _cis2_errors(record: dict[str, Any]) -> list[Figure]:
    profiles = record["data"].get("profiles")
    if not profiles:
        return []
    return [cis_profile_figure(f"{record['name']}-profiles", "Error profiles by layer", profiles)]


BUILDERS: dict[str, Callable[[dict[str, Any]], list[Figure]]] = {
    "tms-basic": _tms_basic,
    "nonuniform-pentagon": _nonuniform,
    "phase-2x1": _phase,
    "phase-3x2": _phase,
    "cis2-errors": _cis2_errors,
}


def figures_for(record: dict[str, Any]) -> tuple[list[Figure], str | None]:
    """The interactive figures of one experiment record (none when it saved no data for them),
    and why there are none when its data could not be read: a figure that cannot be built is
    named in the report, and never costs the rest of it."""
    build = BUILDERS.get(record.get("name", ""))
    if build is None or record.get("status") != "ok":
        return [], None
    try:
        return build(record), None
    except (KeyError, IndexError, TypeError, ValueError) as err:
        return (
            [],
            f"interactive figures not drawn: the saved data lacks {type(err).__name__}: {err}",
        )


# --- the run-store explorer ------------------------------------------------------------------


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def explorer_payload(
    runs: list[Any], axes: dict[str, list[Any]], artifact_href: Callable[[str], str | None]
) -> dict[str, Any]:
    """What the explorer page needs: the axes (value labels in grid order), the scalar metrics
    and every run with its key, point, status, metrics and artifacts link."""
    metrics: dict[str, None] = {}
    rows = []
    for r in runs:
        sc = r.scalars()
        metrics.update(dict.fromkeys(sc))
        rows.append(
            {
                "key": r.key,
                "idx": r.idx,
                "status": r.status,
                "point": {a: _label(r.point.get(a)) for a in axes},
                "metrics": sc,
                "artifact": artifact_href(r.artifact) if r.artifact else None,
            }
        )
    return {
        "axes": {a: [_label(v) for v in vals] for a, vals in axes.items()},
        "metrics": list(metrics),
        "runs": rows,
    }


def explorer_html(payload: dict[str, Any]) -> str:
    """The explorer section: pick two axes (or one, for lines) and a metric."""
    return (
        "<div class='sp-explorer' id='explorer'><h2>Explorer</h2><p class='meta'>Pick two axes "
        "for a heat-map (or one for lines) and a metric; a cell is the mean over the runs that "
        "fall in it (seeds and other axes). Hover for the runs' keys and metrics; click to list "
        "them here with links to their artifacts.</p><div class='sp-controls'></div>"
        "<div class='sp-plot'></div><div class='sp-detail'></div>"
        f"<script type='application/json' class='sp-spec'>{_json(payload)}</script></div>"
    )


STYLE = """
.sp-figure,.sp-explorer{margin:1em 0 2em}.sp-controls{margin:.3em 0;font-size:.9em}
.sp-controls label{margin-right:1.5em}.sp-controls input[type=range]{width:260px;vertical-align:middle}
.sp-value{font-family:monospace;margin-left:.5em}.sp-detail{font-size:.85em}
"""
