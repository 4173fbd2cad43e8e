"""HTML report of a `reproduce` run: a claims table and every figure inline, read from disk."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from . import __version__

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em;width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3} .pass{color:#1a7f37;font-weight:600} .fail{color:#c0392b;font-weight:600}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} code{background:#f6f6f6;padding:1px 3px}
.err{background:#fdecea;padding:.5em;white-space:pre-wrap;font-family:monospace;font-size:.8em}
.meta{color:#666;font-size:.85em}
"""


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


def load_records(out_dir: Path) -> list[dict[str, Any]]:
    """Every experiment's result.json below `out_dir`, in name order."""
    records = []
    for path in sorted(out_dir.glob("*/result.json")):
        try:
            records.append(json.loads(path.read_text()))
        except json.JSONDecodeError:
            continue
    return records


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


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
            "<th>verdict</th></tr>"
        )
        for c in r["claims"]:
            verdict = "holds" if c["passed"] else "does not hold"
            parts.append(
                f"<tr><td>{html.escape(c['id'])}</td><td>{html.escape(c['statement'])}</td>"
                f"<td>{html.escape(_fmt(c['measured']))}</td><td>{html.escape(c['expected'])}</td>"
                f"<td class='{'pass' if c['passed'] else 'fail'}'>{verdict}</td></tr>"
            )
        parts.append("</table>")
        for note in r.get("notes", []):
            parts.append(f"<p>{html.escape(note)}</p>")
        for fig in r.get("figures", []):
            path = out_dir / r["name"] / fig
            if path.is_file():
                parts.append(_image(path))
    parts.append("</body></html>")
    index = out_dir / "index.html"
    index.write_text("\n".join(parts))
    return index
