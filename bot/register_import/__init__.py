"""Reading the consent register from the school's CSV export (reading), previewing what it changes (preview),
and the history of each pupil's consent record it adds to (history)."""

from bot.register_import.history import event_what, event_when, event_who, import_events
from bot.register_import.preview import (
    ImportPreview,
    Narrowed,
    Section,
    describe_change,
    narrowed_line,
    preview_import,
    preview_sections,
)
from bot.register_import.reading import ParsedRegister, RejectedRow, parse_register, read_date

__all__ = [
    "ImportPreview",
    "Narrowed",
    "ParsedRegister",
    "RejectedRow",
    "Section",
    "describe_change",
    "event_what",
    "event_when",
    "event_who",
    "import_events",
    "narrowed_line",
    "parse_register",
    "preview_import",
    "preview_sections",
    "read_date",
]
