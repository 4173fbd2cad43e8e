"""How library objects show themselves in a notebook: short text reprs and small HTML tables."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any


def fmt(value: Any, limit: int = 8) -> str:
    """A value in a few characters: floats to 4 significant digits, long lists cut."""
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        shown = ", ".join(fmt(v, limit) for v in value[:limit])
        return f"[{shown}{', …' if len(value) > limit else ''}]"
    if isinstance(value, dict):
        items = list(value.items())
        shown = ", ".join(f"{k}: {fmt(v, limit)}" for k, v in items[:limit])
        return "{" + shown + (", …" if len(items) > limit else "") + "}"
    return str(value)


def html_table(
    header: Iterable[str], rows: Iterable[Iterable[Any]], caption: str = "", classes=None
) -> str:
    """An HTML table of formatted cells; `classes` gives a CSS colour per row (or None)."""
    rows = [list(r) for r in rows]
    colours = list(classes) if classes is not None else [None] * len(rows)
    style = "border-collapse:collapse;font-size:.9em"
    cell = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"
    out = [f"<table style='{style}'>"]
    if caption:
        out.append(f"<caption style='text-align:left'><b>{html.escape(caption)}</b></caption>")
    out.append("<tr>" + "".join(f"<th style='{cell}'>{html.escape(h)}</th>" for h in header))
    for r, colour in zip(rows, colours, strict=True):
        tint = f";color:{colour}" if colour else ""
        out.append(
            "<tr>" + "".join(f"<td style='{cell}{tint}'>{html.escape(fmt(v))}</td>" for v in r)
        )
    out.append("</table>")
    return "".join(out)


PASS, FAIL = "#1a7f37", "#c0392b"


def claims_html(claims: Iterable[Any], caption: str = "") -> str:
    """The claims table of the report, for a notebook: statement, measured, expected, verdict."""
    claims = list(claims)
    held = sum(bool(c.passed) for c in claims)
    rows = [
        (c.id, c.statement, c.measured, c.expected, "holds" if c.passed else "does not hold")
        for c in claims
    ]
    return html_table(
        ("claim", "statement", "measured", "expected", "verdict"),
        rows,
        f"{caption}{held} of {len(claims)} claims hold",
        [PASS if c.passed else FAIL for c in claims],
    )
