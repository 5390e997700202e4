"""Questions per day as stacked bars (answer / related / none), drawn here as SVG: no script, no service."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from bot.console.qstats import Day

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 40, 40, 16
COLOURS = {"answer": "#3a8d4a", "related": "#d99a26", "none": "#9aa3ad"}
NAMES = {"answer": "回答", "related": "相关", "none": "未能回答"}


def day_chart(days: list[Day]) -> Markup:
    """An SVG of the days given (oldest first), with a legend and the shares over the whole period."""
    peak = max((d.total for d in days), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.7, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 20}" width="{WIDTH}" '
        f'height="{HEIGHT + 20}" role="img" aria-label="每日提问数量与回答比例">',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 10}" y2="{TOP + plot_h}" stroke="#666"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" font-size="11" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    label_every = max(1, len(days) // 8)
    for n, d in enumerate(days):
        x, y = LEFT + n * step + (step - bar) / 2, TOP + plot_h
        for key in ("answer", "related", "none"):
            h = getattr(d, key) / peak * plot_h
            if h:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[key]}">'
                    f"<title>{escape(d.day)} {NAMES[key]} {getattr(d, key)}</title></rect>"
                )
        if n % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" font-size="10" text-anchor="middle">'
                f"{escape(d.day[5:])}</text>"
            )
    total = sum(d.total for d in days) or 1
    for n, key in enumerate(("answer", "related", "none")):
        share = sum(getattr(d, key) for d in days) / total
        x = LEFT + n * 150
        parts.append(f'<rect x="{x}" y="{HEIGHT + 2}" width="12" height="12" fill="{COLOURS[key]}"/>')
        parts.append(f'<text x="{x + 16}" y="{HEIGHT + 12}" font-size="12">{NAMES[key]} {share:.0%}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
