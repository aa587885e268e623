"""Long messages are cut only between elements, and never inside a tag or an entity (issue 12, point 12)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from emulator import parse_html
from handlers.common import h
from handlers.paging import clip_html, clip_text, split_html, utf16_len

_PIECES = st.sampled_from(["Amelia", " ", "🦊", "<&>", "é", "\n", "x" * 30, "Ø"])
_TEXT = st.lists(_PIECES, max_size=60).map("".join)


@st.composite
def html_line(draw: st.DrawFn) -> str:
    """A line as the bot renders one: escaped text inside a few nested tags."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        text = h(draw(_TEXT))
        tags = draw(st.lists(st.sampled_from(["b", "i", "code", "blockquote"]), max_size=2, unique=True))
        for tag in tags:
            text = f"<{tag}>{text}</{tag}>"
        parts.append(text)
    return "".join(parts)


@given(html_line(), st.integers(2, 400))
def test_a_clipped_line_is_valid_html_within_the_limit(line: str, limit: int) -> None:
    clipped = clip_html(line, limit)
    assert utf16_len(clipped) <= max(limit, 1) or clipped == line
    plain, _ = parse_html(clipped)  # raises on a tag or an entity cut in half
    if clipped != line:
        assert plain.endswith("…")


@given(st.lists(html_line(), max_size=80), st.integers(50, 4096))
def test_split_messages_are_whole_lines_each_within_the_limit(lines: list[str], limit: int) -> None:
    parts = split_html(lines, limit)
    for part in parts:
        assert utf16_len(part) <= limit
        parse_html(part)
    if all(utf16_len(line) <= limit for line in lines):
        assert "\n".join(parts) == "\n".join(lines), "nothing lost when every line fits"


def test_plain_text_is_clipped_by_what_telegram_counts() -> None:
    assert clip_text("🦊" * 10, 7) == "🦊🦊🦊…"
    assert utf16_len(clip_text("🦊" * 10, 7)) <= 7
    assert clip_text("short", 10) == "short"
