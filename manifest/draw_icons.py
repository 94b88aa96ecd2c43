"""Draw the Teams app icons: a membership card with a verified badge.

Run ``.venv/bin/python manifest/draw_icons.py`` to redraw ``color.png`` (192x192, full color)
and ``outline.png`` (32x32, white on transparent) next to this script. The drawing is plain
shapes, so the same Pillow draws the same pixels every time.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

ACCENT = (30, 90, 168)  # the manifest's accentColor, #1E5AA8
CARD = (255, 255, 255)
INK = (30, 90, 168)
LINES = (163, 184, 214)
BADGE = (16, 124, 16)  # the green of a confirmed step
WHITE = (255, 255, 255, 255)

_SCALE = 4  # the color icon is drawn four times larger, then reduced: smooth edges


def draw_color(size: int = 192) -> Image.Image:
    """The full-color icon: a white membership card on the accent color."""
    s = _SCALE

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (round(x0 * s), round(y0 * s), round(x1 * s), round(y1 * s))

    image = Image.new("RGB", (size * s, size * s), ACCENT)
    draw = ImageDraw.Draw(image)
    # The card: 128 x 88, centered, a little above the middle to leave room for the badge.
    draw.rounded_rectangle(box(32, 48, 160, 136), radius=12 * s, fill=CARD)
    # The member: head and shoulders in a rounded photo frame.
    draw.ellipse(box(50, 66, 76, 92), fill=INK)
    draw.pieslice(box(42, 96, 84, 138), start=180, end=360, fill=INK)
    draw.rectangle(box(42, 116, 84, 120), fill=CARD)  # trim the shoulders at the frame
    # The member's details: three lines of text.
    for top, right in ((72, 142), (88, 142), (104, 124)):
        draw.rounded_rectangle(box(94, top, right, top + 8), radius=4 * s, fill=LINES)
    # The verified badge on the card's corner: a green disc with a white check.
    draw.ellipse(box(124, 110, 168, 154), fill=CARD)
    draw.ellipse(box(128, 114, 164, 150), fill=BADGE)
    draw.line(
        [(round(137 * s), round(132 * s)), (round(144 * s), round(139 * s))],
        fill=CARD,
        width=5 * s,
    )
    draw.line(
        [(round(143 * s), round(139 * s)), (round(156 * s), round(124 * s))],
        fill=CARD,
        width=5 * s,
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_outline(size: int = 32) -> Image.Image:
    """The outline icon: the same card, white on transparent (only the alpha channel varies)."""
    s = 8  # drawn eight times larger, then reduced: soft edges, still pure white

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (round(x0 * s), round(y0 * s), round(x1 * s), round(y1 * s))

    mask = Image.new("L", (size * s, size * s), 0)
    draw = ImageDraw.Draw(mask)
    draw.rounded_rectangle(box(2, 7, 30, 25), radius=3 * s, outline=255, width=2 * s)
    draw.ellipse(box(7, 10.5, 12, 15.5), fill=255)  # head
    draw.pieslice(box(5, 16.5, 14, 26), start=180, end=360, fill=255)  # shoulders
    draw.rounded_rectangle(box(16, 11, 26, 13), radius=1 * s, fill=255)  # details
    draw.rounded_rectangle(box(16, 16, 23, 18), radius=1 * s, fill=255)
    image = Image.new("RGBA", (size, size), WHITE)
    image.putalpha(mask.resize((size, size), Image.Resampling.LANCZOS))
    return image


def main() -> None:
    """Draw both icons next to this script."""
    draw_color().save(HERE / "color.png", optimize=True)
    draw_outline().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
