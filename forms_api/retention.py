"""Retention: closed cases older than the retention period lose every personal detail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from forms_api import dao
from forms_api.models import CaseEvent, utcnow

REDACTED = "（已按保存期限删除）"


def purge(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Anonymise cases finished (or answered and left unanswered) more than `retention_days` ago.

    Everything a person wrote or that could identify them goes: contact details, the matter and demand,
    replies and notes in the history, the 督办单's texts, the rating's reason and a free-text target."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    count = 0
    for case in dao.cases_past_retention(session, cutoff):
        case.name_enc = case.phone_enc = case.id_number_enc = case.query_code_enc = None
        case.matter, case.demand, case.submission_token = REDACTED, None, None
        case.submission_digest = None  # a keyed hash of everything submitted: a guess could be confirmed
        case.resolution = REDACTED if case.resolution else None
        case.referral = REDACTED if case.referral else None
        if case.target_type == "other":
            case.target_label = REDACTED
        for event in case.events:
            event.note = REDACTED if event.note and event.action != "submit" else event.note
        for order in case.orders:
            order.opinion, order.handling = REDACTED, REDACTED if order.handling else None
            order.rectification = REDACTED if order.rectification else None
            order.reply = REDACTED if order.reply else None
        for rating in dao.evaluations_of_case(session, case.id):
            rating.reason = REDACTED if rating.reason else None
            rating.submission_token = rating.submission_digest = None
        case.anonymised = True
        note = f"超过保存期限 {retention_days} 天"
        event = CaseEvent(case_id=case.id, action="purge", from_state=case.state, to_state=case.state,
                          actor="portal purge", role="system", note=note)  # fmt: skip
        session.add(event)
        count += 1
    return count
