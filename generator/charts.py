"""Static SVG bar charts: readable without any script, escaped like every other text."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW, LABEL_W, BAR_W, PAD = 26, 220, 320, 8


def bars(title: str, rows: list[tuple[str, float, str]], maximum: float | None = None) -> Markup:
    """Horizontal bars: (label, value, text shown at the bar's end); `maximum` fixes the scale (1.0 for rates)."""
    top = maximum or max((v for _, v, _ in rows), default=0) or 1
    height = PAD * 2 + ROW * max(len(rows), 1) + 20
    width = LABEL_W + BAR_W + 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="rs-chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}"><title>{escape(title)}</title>']  # fmt: skip
    for i, (label, value, shown) in enumerate(rows):
        y = PAD + 20 + i * ROW
        length = round(BAR_W * (value / top)) if value > 0 else 0
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" font-size="13">{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{length}" height="16" fill="#c62828"/>'
            f'<text x="{LABEL_W + length + 6}" y="{y + 15}" font-size="13">{escape(shown)}</text>'
        )
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{PAD + 35}" font-size="13">暂无数据</text>')
    parts.append(f'<text x="0" y="14" font-size="14" font-weight="bold">{escape(title)}</text></svg>')
    return Markup("".join(parts))


def percent(rate: float | None) -> str:
    """0.9234 → 92.3%; None → —."""
    return "—" if rate is None else f"{rate * 100:.1f}%"
