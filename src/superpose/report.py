"""HTML report of a `reproduce` run: a claims table and every figure inline, read from disk."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any

from .base.files import atomic_write
from .base.version import __version__
from .plots import interactive

STYLE = (
    """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em;width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3} .pass{color:#1a7f37;font-weight:600} .fail{color:#c0392b;font-weight:600}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} code{background:#f6f6f6;padding:1px 3px}
.err{background:#fdecea;padding:.5em;white-space:pre-wrap;font-family:monospace;font-size:.8em}
.meta{color:#666;font-size:.85em}
"""
    + interactive.STYLE
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        if len(value) > 12:
            return "[" + ", ".join(_fmt(v) for v in value[:12]) + f", … ({len(value)} values)]"
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def read_record(path: Path) -> dict[str, Any] | None:
    """One experiment's result.json, or None when it is unreadable (truncated, binary, not a
    record): a kill at the wrong moment of an older version could leave such a file."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    ok = isinstance(rec, dict) and isinstance(rec.get("name"), str)
    ok = ok and isinstance(rec.get("status"), str) and isinstance(rec.get("claims", []), list)
    ok = ok and all(isinstance(c, dict) and "passed" in c for c in rec.get("claims", []))
    return rec if ok else None


def load_records(out_dir: Path) -> list[dict[str, Any]]:
    """Every readable experiment result.json below `out_dir`, in name order."""
    records = (read_record(path) for path in sorted(out_dir.glob("*/result.json")))
    return [r for r in records if r is not None]


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _null(claim: dict) -> str:
    """The 'on its null' cell: the claim's check on its null must not hold there."""
    null = claim.get("null")
    if not null:
        return "<td class='fail'>no null</td>"
    verdict = "holds (the check does not discriminate)" if null["passed"] else "fails, as it should"
    return (
        f"<td>{html.escape(null['kind'])}: {html.escape(_fmt(null['measured']))} — "
        f"<span class='{'fail' if null['passed'] else 'pass'}'>{verdict}</span></td>"
    )


def render(out_dir: str | Path, title: str = "superpose — reproduction report") -> Path:
    """Write `out_dir/index.html` from the experiment folders in it."""
    out_dir = Path(out_dir)
    records = load_records(out_dir)
    claims = [c for r in records for c in r.get("claims", [])]
    passed = sum(c["passed"] for c in claims)
    errors = [r for r in records if r.get("status") != "ok"]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p class='meta'>superpose {__version__}; {len(records)} experiments; "
        f"<b>{passed} of {len(claims)} claims hold</b>"
        + (f"; <span class='fail'>{len(errors)} experiments failed to run</span>" if errors else "")
        + ". Every number below was measured in this run.</p>",
        "<h2>Summary</h2><table><tr><th>experiment</th><th>mode</th><th>status</th>"
        "<th>claims held</th><th>seconds</th></tr>",
    ]
    for r in records:
        cs = r.get("claims", [])
        ok = sum(c["passed"] for c in cs)
        cls = "pass" if r.get("status") == "ok" and ok == len(cs) else "fail"
        parts.append(
            f"<tr><td><a href='#{html.escape(r['name'])}'>{html.escape(r['name'])}</a></td>"
            f"<td>{'quick' if r.get('quick') else 'full'}</td><td>{html.escape(r['status'])}</td>"
            f"<td class='{cls}'>{ok}/{len(cs)}</td><td>{r.get('seconds', 0):.1f}</td></tr>"
        )
    parts.append("</table>")
    interactive_count = 0
    for r in records:
        parts.append(
            f"<h2 id='{html.escape(r['name'])}'>{html.escape(r['name'])}: "
            f"{html.escape(r.get('title', ''))}</h2>"
            f"<p class='meta'>config hash {r.get('config_hash')}, device {r.get('device')}, "
            f"{r.get('seconds', 0):.1f} s — config in <code>{html.escape(r['name'])}/config.yaml"
            "</code></p>"
        )
        if r.get("status") != "ok":
            parts.append(f"<div class='err'>{html.escape(r.get('error', ''))}</div>")
            continue
        parts.append(
            "<table><tr><th>claim</th><th>statement</th><th>measured</th><th>expected</th>"
            "<th>verdict</th><th>on its null</th></tr>"
        )
        for c in r["claims"]:
            verdict = "holds" if c["passed"] else "does not hold"
            parts.append(
                f"<tr><td>{html.escape(c['id'])}</td><td>{html.escape(c['statement'])}</td>"
                f"<td>{html.escape(_fmt(c['measured']))}</td><td>{html.escape(c['expected'])}</td>"
                f"<td class='{'pass' if c['passed'] else 'fail'}'>{verdict}</td>{_null(c)}</tr>"
            )
        parts.append("</table>")
        for note in r.get("notes", []):
            parts.append(f"<p>{html.escape(note)}</p>")
        figs, problem = interactive.figures_for(r)
        interactive_count += len(figs)
        if problem:
            parts.append(f"<p class='meta'>{html.escape(problem)}</p>")
        parts.extend(interactive.figure_html(f) for f in figs)
        for fig in r.get("figures", []):
            path = out_dir / r["name"] / fig
            if path.is_file():
                parts.append(_image(path))
    if interactive_count:  # scripts last: the runtime draws the figures already in the page
        parts.append(interactive.write_assets(out_dir))
    parts.append("</body></html>")
    return atomic_write(out_dir / "index.html", "\n".join(parts))


def _axis_values(meta: dict[str, Any], runs: list[Any]) -> dict[str, list[Any]]:
    """The sweep's axes and their values, in grid order (from the store's meta, else the runs)."""
    if isinstance(meta.get("axis_values"), dict):
        return {k: list(v) for k, v in meta["axis_values"].items()}
    axes: dict[str, dict[str, Any]] = {}
    for r in runs:
        for k, v in r.point.items():
            axes.setdefault(k, {}).setdefault(json.dumps(v, sort_keys=True), v)
    return {k: list(v.values()) for k, v in axes.items()}


def render_sweep(
    store: str | Path, out_dir: str | Path, max_metrics: int = 12, title: str | None = None
) -> Path:
    """Write `out_dir/index.html` for the sweep in run store `store`: one heat-map per metric for
    two axes (mean over seeds and any further axes), lines for one axis, and a table of runs."""
    import numpy as np

    from .plots.sweep import heatmap, lines
    from .store import RunStore

    out_dir = Path(out_dir)
    with RunStore(store) as db:
        meta, runs, counts = db.meta(), db.runs(), db.counts()
    out_dir.mkdir(parents=True, exist_ok=True)
    name = meta.get("description", Path(store).stem)
    title = title or f"superpose — sweep {name}"
    axes = _axis_values(meta, runs)
    plot_axes = [a for a in axes if a != "seed"][:2]
    metrics: dict[str, None] = {}
    for r in runs:
        metrics.update(dict.fromkeys(r.scalars()))
    shown = list(metrics)[:max_metrics]
    ok_runs = [r for r in runs if r.status == "ok"]

    def index_of(axis: str, value: Any) -> int | None:
        key = json.dumps(value, sort_keys=True)
        for i, v in enumerate(axes[axis]):
            if json.dumps(v, sort_keys=True) == key:
                return i
        return None

    figures: list[Path] = []
    for m in shown:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in m)
        cells: dict[tuple[int, ...], list[float]] = {}
        for r in ok_runs:
            value = r.scalars().get(m)
            idx = tuple(index_of(a, r.point.get(a)) for a in plot_axes)
            if value is None or None in idx:
                continue
            cells.setdefault(idx, []).append(value)
        if not cells:
            continue
        if len(plot_axes) == 2:
            xa, ya = plot_axes
            z = np.full((len(axes[ya]), len(axes[xa])), np.nan)
            for (i, j), vals in cells.items():
                z[j, i] = float(np.mean(vals))
            figures.append(
                heatmap(
                    axes[xa],
                    axes[ya],
                    z,
                    out_dir / "figures" / f"{safe}.png",
                    title=f"{name}: {m}",
                    x_label=xa,
                    y_label=ya,
                    z_label=f"{m} (mean)",
                )
            )
        elif len(plot_axes) == 1:
            (xa,) = plot_axes
            mean = np.full(len(axes[xa]), np.nan)
            std = np.zeros(len(axes[xa]))
            for (i,), vals in cells.items():
                mean[i], std[i] = float(np.mean(vals)), float(np.std(vals))
            per = max(len(v) for v in cells.values())
            label = m if per == 1 else f"{m}: mean ± std over {per} runs per point"
            figures.append(
                lines(
                    axes[xa],
                    {label: (mean, std)},
                    out_dir / "figures" / f"{safe}.png",
                    title=f"{name}: {m}",
                    x_label=xa,
                    y_label=m,
                )
            )
    extra = [a for a in axes if a not in plot_axes]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p class='meta'>superpose {__version__}; store <code>{html.escape(str(store))}</code>; "
        f"{len(runs)} runs: {counts['ok']} ok, "
        f"<span class='{'fail' if counts['error'] else 'meta'}'>{counts['error']} failed</span>, "
        f"{counts['pending']} not run yet. Axes: "
        + html.escape(", ".join(f"{a} ({len(v)})" for a, v in axes.items()) or "none")
        + (f". Figures average over {html.escape(', '.join(extra))}." if extra else ".")
        + "</p>",
    ]
    if len(metrics) > len(shown):
        parts.append(
            f"<p class='meta'>Figures for the first {len(shown)} of {len(metrics)} "
            "metrics; all are in the table and in `superpose runs export`.</p>"
        )

    def href(artifact: str) -> str | None:
        path = Path(artifact)
        if not path.exists():
            return None
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix() + "/"

    if metrics:
        parts.append(interactive.explorer_html(interactive.explorer_payload(runs, axes, href)))
    parts.extend(_image(f) for f in figures)
    parts.append(
        "<h2>Runs</h2><table><tr><th>#</th><th>key</th><th>status</th>"
        + "".join(f"<th>{html.escape(a)}</th>" for a in axes)
        + "".join(f"<th>{html.escape(m)}</th>" for m in shown)
        + "<th>seconds</th><th>artifacts</th><th>error</th></tr>"
    )
    for r in runs:
        sc = r.scalars()
        err = (r.error or "").splitlines()[0] if r.error else ""
        cls = {"ok": "pass", "error": "fail"}.get(r.status, "meta")
        link = href(r.artifact) if r.artifact else None
        parts.append(
            f"<tr id='run-{html.escape(r.key)}'><td>{r.idx}</td><td><code>{html.escape(r.key[:12])}"
            f"</code></td><td class='{cls}'>{r.status}</td>"
            + "".join(f"<td>{html.escape(_fmt(r.point.get(a, '')))}</td>" for a in axes)
            + "".join(f"<td>{_fmt(sc[m]) if m in sc else ''}</td>" for m in shown)
            + f"<td>{'' if r.seconds is None else f'{r.seconds:.1f}'}</td>"
            + (f"<td><a href='{html.escape(link)}'>folder</a></td>" if link else "<td></td>")
            + f"<td>{html.escape(err)}</td></tr>"
        )
    parts.append("</table>")
    if metrics:
        parts.append(interactive.write_assets(out_dir))
    parts.append("</body></html>")
    return atomic_write(out_dir / "index.html", "\n".join(parts))
