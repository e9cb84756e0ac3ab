"""Retention: closed cases older than the retention period lose every personal detail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_api import states
from forms_api.models import Case, CaseEvent, utcnow

REDACTED = "（已按保存期限删除）"


def purge(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Anonymise finished cases closed more than `retention_days` ago; return how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    query = select(Case).where(
        Case.state.in_(states.FINAL), Case.anonymised.is_(False), Case.closed_at.is_not(None), Case.closed_at < cutoff
    )
    count = 0
    for case in session.scalars(query):
        case.name_enc = case.phone_enc = case.id_number_enc = case.query_code_enc = None
        case.matter, case.demand, case.submission_token = REDACTED, None, None
        case.anonymised = True
        note = f"超过保存期限 {retention_days} 天"
        event = CaseEvent(case_id=case.id, action="purge", from_state=case.state, to_state=case.state,
                          actor="portal purge", role="system", note=note)  # fmt: skip
        session.add(event)
        count += 1
    return count
