"""Every change to a case: one transaction, one audit row, and a refusal for anything not allowed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms_api import states
from forms_api.models import Case, CaseEvent, SupervisionOrder, to_local, utcnow
from forms_api.privacy import Vault
from generator.workdays import WorkCalendar

PREFIX = {"complaint": "TS", "suggestion": "JY", "rectification": "ZG"}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class Conflict(states.TransitionRefused):
    """Someone else changed the case first; the page must be reloaded."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff username and role, or the complainant."""

    name: str
    role: str


CITIZEN = Actor("投诉人", "citizen")


@dataclass(frozen=True)
class Submission:
    """What a citizen or an intake clerk hands in."""

    kind: str
    channel: str
    target_type: str
    target_ref: str | None
    target_label: str
    matter: str
    demand: str | None = None
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    office: str | None = None
    window: str | None = None
    first_receiver: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the citizen is shown once the record is committed."""

    case: Case
    query_code: str
    created: bool


def _receipt_no(kind: str, today: date) -> str:
    return f"{PREFIX[kind]}{today:%Y%m%d}{secrets.randbelow(10**6):06d}"


def _query_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _by_token(session: Session, token: str) -> Case | None:
    return session.scalar(select(Case).where(Case.submission_token == token))


def submit(session: Session, vault: Vault, item: Submission, actor: Actor, today: date) -> Receipt:
    """Register a case; a repeated form token returns the first case instead of a second one."""
    if item.token and (existing := _by_token(session, item.token)) is not None:
        return Receipt(existing, vault.open(existing.query_code_enc) or "", created=False)
    code = _query_code()
    for _attempt in range(5):
        case = Case(
            receipt_no=_receipt_no(item.kind, today), query_hash=vault.digest(code),
            query_code_enc=vault.seal(code), submission_token=item.token, kind=item.kind, channel=item.channel,
            state="received", target_type=item.target_type, target_ref=item.target_ref,
            target_label=item.target_label, office=item.office, window=item.window, matter=item.matter,
            demand=item.demand, name_enc=vault.seal(item.name), phone_enc=vault.seal(item.phone),
            id_number_enc=vault.seal(item.id_number), first_receiver=item.first_receiver,
        )  # fmt: skip
        try:
            with session.begin_nested():  # a savepoint: a lost race undoes only this insert
                session.add(case)
                session.flush()
        except IntegrityError:
            # Either a twin of this form committed first (PostgreSQL lets both start), or the random
            # receipt number is taken: return the twin, or try another number.
            if item.token and (existing := _by_token(session, item.token)) is not None:
                return Receipt(existing, vault.open(existing.query_code_enc) or "", created=False)
            continue
        channel = states.CHANNELS.get(item.channel, item.channel)
        session.add(CaseEvent(case_id=case.id, action="submit", from_state=None, to_state="received",
                              actor=actor.name, role=actor.role, note=f"渠道：{channel}"))  # fmt: skip
        return Receipt(case, code, created=True)
    raise RuntimeError("could not allocate a receipt number")


def open_rectification(session: Session, case: Case, deadline: date) -> None:
    """A 差评整改 case skips classification: it is filed at once, with its own deadline."""
    _move(session, case, "filed", {"category": "立案处理类", "deadline": deadline})
    session.add(CaseEvent(case_id=case.id, action="file", from_state="received", to_state="filed",
                          actor="系统", role="system", note="差评自动立案整改"))  # fmt: skip


def find(session: Session, vault: Vault, receipt_no: str, query_code: str) -> Case | None:
    """The case with this receipt number, only if the query code matches."""
    case = session.scalar(select(Case).where(Case.receipt_no == receipt_no.strip().upper()))
    if case is None or not vault.matches(query_code.strip().upper(), case.query_hash):
        return None
    return case


def _move(session: Session, case: Case, target: str, fields: dict[str, Any]) -> None:
    """Compare-and-set on (state, version): of two staff acting at once, the second is refused."""
    values = {"state": target, "version": case.version + 1, **fields}
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == case.version, Case.state == case.state)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("该案件刚被其他人处理过，请刷新页面后再操作")
    for key, value in values.items():
        setattr(case, key, value)


def apply(
    session: Session,
    case: Case,
    name: str,
    actor: Actor,
    *,
    calendar: WorkCalendar,
    today: date,
    resupervision_limit: int = 1,
    note: str | None = None,
    **fields: Any,
) -> Case:
    """Make transition `name` on `case` with its fields, and write its audit row.

    The compare-and-set on the case comes before any other write, so of two people acting at once the
    second stops there with a clear message and leaves nothing behind."""
    transition = states.check(name, case.state, actor.role)
    before, target = case.state, transition.target
    changes: dict[str, Any] = {}
    if name == "issue_order":
        changes.update(round=case.round + 1, deadline=calendar.add(today, int(fields["days"])),
                       office=fields["office"], window=fields["window"])  # fmt: skip
    elif name in ("reply", "settle"):
        changes["resolution"] = fields["reply"]
        note = fields["reply"] if not note else f"{fields['reply']}（{note}）"  # every reply stays in the record
        if name == "settle":
            changes["category"] = "现场协调类"
    elif name == "refuse":
        changes.update(resolution=fields["reason"], referral=fields["referral"])
    elif name == "file":
        changes["category"] = "立案处理类"
    elif name == "opinion":
        changes["category"] = "意见反映类"
    elif name == "unsatisfied" and reopened(case) >= resupervision_limit:
        target = "closed"  # the limit of 再次督办 is reached: closed, and the record says why
        note = f"{note or ''}（已达再次督办上限 {resupervision_limit} 次，结案）".strip()
    if target in states.FINAL:
        changes["closed_at"] = utcnow()
    _move(session, case, target, changes)
    if name == "issue_order":
        _issue_order(session, case, actor, fields)
    elif name == "record_handling":
        _record_handling(case, actor, fields)
    elif name == "reply" and case.orders:
        case.orders[-1].reply, case.orders[-1].replied_at = fields["reply"], utcnow()
    session.add(CaseEvent(case_id=case.id, action=name, from_state=before, to_state=target,
                          actor=actor.name, role=actor.role, note=note))  # fmt: skip
    return case


def reopened(case: Case) -> int:
    """How many times the complainant has asked for 再次督办."""
    return sum(1 for event in case.events if event.action == "unsatisfied")


def replies(case: Case) -> list[str]:
    """Every reply the complainant was given, oldest first (each kept in its audit row)."""
    return [e.note or "" for e in case.events if e.action in ("reply", "settle")]


def _issue_order(session: Session, case: Case, actor: Actor, fields: dict[str, Any]) -> None:
    """The 督办单 for the round the case has just entered, with the case's new deadline."""
    order = SupervisionOrder(
        case_id=case.id, round=case.round, opinion=fields["opinion"], deadline_days=int(fields["days"]),
        deadline=case.deadline, office=fields["office"], window=fields["window"],
        assignee=fields.get("assignee"), issued_by=actor.name,
    )  # fmt: skip
    session.add(order)
    case.orders.append(order)


def _record_handling(case: Case, actor: Actor, fields: dict[str, Any]) -> None:
    """The window lead's result and rectification on the current 督办单."""
    order = case.orders[-1]
    order.handling, order.rectification = fields["handling"], fields.get("rectification")
    order.handled_by, order.handled_at = actor.name, utcnow()


def local_time(moment: datetime, zone: str = "Asia/Shanghai") -> str:
    """A stored UTC time as the hall reads it, with its offset: 2026-11-23 14:05 +08:00."""
    shown = to_local(moment, zone)
    offset = shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"
