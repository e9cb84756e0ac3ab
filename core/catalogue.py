"""The catalogue: validated content as both sides see it (built by core.validate.load_catalogue)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core import model as m
from core.procedure import Procedure
from core.stats import Stats

if TYPE_CHECKING:
    from core.load import Document


@dataclass(frozen=True)
class Catalogue:
    """The validated content: what templates and forms_api see. Never half-valid."""

    config: m.SiteConfig
    agency: m.Agency
    offices: tuple[m.Office, ...]
    staff: tuple[m.Staff, ...]
    posts: tuple[m.Post, ...]
    head: str
    services: tuple[m.Service, ...]
    promises: tuple[m.Promise, ...]
    rules: tuple[m.Rule, ...]
    complaints: m.Complaints
    notices: tuple[m.Notice, ...]
    holidays: tuple[m.HolidayYear, ...]
    procedure: Procedure
    stats: Stats | None = None
    files: dict[str, Path] = field(default_factory=dict)  # downloads/x.docx → the file under content/ to publish
    sources: dict[str, Document] = field(default_factory=dict, compare=False)

    def office(self, office_id: str) -> m.Office:
        """The office with this id."""
        return next(o for o in self.offices if o.id == office_id)

    def staff_member(self, number: str) -> m.Staff:
        """The staff member with this staff number."""
        return next(s for s in self.staff if s.number == number)
