"""A region of a photo (a face or a line of text) in the photo's own pixels, upright."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """Left, top, width and height in pixels of the photo as it is shown (orientation applied)."""

    x: int
    y: int
    w: int
    h: int

    def scaled(self, factor: float) -> Box:
        return Box(round(self.x * factor), round(self.y * factor), max(1, round(self.w * factor)), max(1, round(self.h * factor)))

    def padded(self, margin: int, width: int, height: int) -> Box:
        """The box with `margin` pixels on every side (hair and chin around a face), kept inside the photo."""
        left, top = max(0, self.x - margin), max(0, self.y - margin)
        right, bottom = min(width, self.x + self.w + margin), min(height, self.y + self.h + margin)
        return Box(left, top, max(1, right - left), max(1, bottom - top))

    def corners(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.w, self.y + self.h

    def overlap(self, other: Box) -> float:
        """The share of the smaller box that the two have in common (0 to 1)."""
        left, top = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.x + self.w, other.x + other.w), min(self.y + self.h, other.y + other.h)
        if right <= left or bottom <= top:
            return 0.0
        return (right - left) * (bottom - top) / min(self.w * self.h, other.w * other.h)

    def place(self, width: int, height: int) -> str:
        """Where the box is in a photo of this size, as a person says it: "bottom left", "the middle"."""
        across = ("left", "", "right")[min(2, 3 * (self.x + self.w // 2) // max(1, width))]
        down = ("top", "", "bottom")[min(2, 3 * (self.y + self.h // 2) // max(1, height))]
        return f"{down} {across}".strip() or "the middle"
