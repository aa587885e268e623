"""A pupil as the consent register records them: one row of the school's MIS export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType


@dataclass(frozen=True)
class Pupil:
    """One row of the consent register, as the school's MIS export describes the pupil."""

    pupil_id: str
    first_name: str
    last_name: str
    preferred_name: str = ""
    class_name: str = ""
    # Hashing skips the mapping; equality still compares it (re-imports diff on it).
    consents: Mapping[str, bool] = field(default_factory=dict, hash=False)
    form_date: date | None = None
    expires: date | None = None
    withdrawn: date | None = None
    left: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "consents", MappingProxyType(dict(self.consents)))

    @property
    def full_name(self) -> str:
        """The name staff know the pupil by: preferred name if any, then surname."""
        return f"{self.preferred_name or self.first_name} {self.last_name}"
