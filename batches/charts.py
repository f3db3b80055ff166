"""Bar charts drawn on the server as SVG geometry (the analytics page): no script, no library,
readable without JavaScript; every bar carries its number as a title and in a table beside."""

from __future__ import annotations

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 36, 22, 8


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × 10ⁿ)."""
    if value <= 0:
        return 1
    step = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def bar_chart(points: list[tuple[str, float]], *, every: int = 1) -> dict:
    """`{width, height, bars: [{x, y, w, h, label, value, tick}], max, axis_y}` for points
    `(label, value)`; a label is shown under one bar in `every`."""
    top = _nice_max(max((v for _, v in points), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        bars.append(
            {
                "x": round(PAD_LEFT + i * slot + slot * 0.1, 2),
                "y": round(PAD_TOP + plot_h - h, 2),
                "w": round(max(slot * 0.8, 1), 2),
                "h": round(h, 2),
                "label": label,
                "value": value,
                "tick": i % every == 0,
                "tick_x": round(PAD_LEFT + i * slot + slot / 2, 2),
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "max": top,
        "axis_y": PAD_TOP + plot_h,
        "axis_x": PAD_LEFT,
        "top_y": PAD_TOP,
        "label_y": HEIGHT - 6,
    }
