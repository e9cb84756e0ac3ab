"""portal purge: finished cases past the retention period lose every personal detail, with an audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from forms_api import db, retention, workflow
from forms_api.models import Case
from forms_api.privacy import Vault
from tests.factories import CONTEXT, make_case


def _withdraw(sessions: sessionmaker[Session], case_id: int) -> None:
    with db.transaction(sessions) as session:
        case = session.get_one(Case, case_id)
        workflow.apply(session, case, "withdraw", workflow.CITIZEN, CONTEXT)


def test_purge_anonymises_only_old_finished_cases(sessions: sessionmaker[Session], vault: Vault) -> None:
    old, recent, open_case = (make_case(sessions, vault).case.id for _ in range(3))
    for case_id in (old, recent):
        _withdraw(sessions, case_id)
    with db.transaction(sessions) as session:
        session.get_one(Case, old).closed_at = datetime.now(UTC) - timedelta(days=400)
    with db.transaction(sessions) as session:
        assert retention.purge(session, 365) == 1
    with sessions() as session:
        purged = session.get_one(Case, old)
        assert purged.anonymised and purged.phone_enc is None and purged.name_enc is None
        assert purged.submission_token is None and purged.submission_digest is None  # a guess cannot be confirmed
        assert session.get_one(Case, recent).submission_digest is not None
        assert purged.matter == retention.REDACTED and purged.events[-1].action == "purge"
        assert all(e.note in (None, retention.REDACTED) or e.action in ("submit", "purge") for e in purged.events)
        assert session.get_one(Case, recent).phone_enc is not None
        assert session.get_one(Case, open_case).phone_enc is not None
    with db.transaction(sessions) as session:
        assert retention.purge(session, 365) == 0  # idempotent
