"""The case engine: registering a case, and `apply()`, which makes any transition of the table in states.py.

Every change is one compare-and-set on the case plus one audit row, in the caller's transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.vocab import CHANNELS
from core.workdays import WorkCalendar
from forms_api import dao, states
from forms_api.errors import Conflict, TransitionRefused
from forms_api.models import Case, CaseEvent, SupervisionOrder, utcnow
from forms_api.privacy import Vault

PREFIX = {"complaint": "TS", "suggestion": "JY", "rectification": "ZG"}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff username and role, the complainant, or the system itself."""

    name: str
    role: str


CITIZEN = Actor("投诉人", "citizen")
SYSTEM = Actor("系统", "system")


@dataclass(frozen=True)
class Context:
    """What the engine needs from outside the case: dates, the site's numbers, and AB角 routing."""

    calendar: WorkCalendar
    today: date
    settings: Mapping[str, int] = field(default_factory=dict)  # resupervision_limit, rectification_days …
    assign: Callable[[str, str], str | None] = lambda _office, _window: None


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

    def content(self) -> str:
        """Everything submitted but the token, canonically: what a genuine retry repeats exactly. A chosen
        target counts by its key, not its label, so renaming a window between a call and its retry changes nothing."""
        fields = asdict(self)
        del fields["token"]
        if self.target_ref:
            del fields["target_label"]
        return json.dumps(fields, ensure_ascii=False, sort_keys=True)


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


def _again(session: Session, vault: Vault, token: str | None, digest: str) -> Receipt | None:
    """The case this form token already created, if any; the same token with other content is refused.

    A shared kiosk or a saved page replays the token with someone else's complaint: showing them the first
    receipt would hand over its query code, and with it the right to read and withdraw that case."""
    existing = dao.case_by_token(session, token) if token else None
    if existing is None:
        return None
    dao.check_repeat(existing.submission_digest, digest)
    return Receipt(existing, vault.open(existing.query_code_enc) or "", created=False)


def submit(session: Session, vault: Vault, item: Submission, actor: Actor, today: date) -> Receipt:
    """Register a case; the same form token with the same content returns the first case, with other content
    it is refused (ReusedToken)."""
    digest = vault.digest(item.content())
    if (first := _again(session, vault, item.token, digest)) is not None:
        return first
    code = _query_code()
    for _attempt in range(5):
        case = Case(
            receipt_no=_receipt_no(item.kind, today), query_hash=vault.digest(code),
            query_code_enc=vault.seal(code), submission_token=item.token, submission_digest=digest,
            kind=item.kind, channel=item.channel, state=states.INITIAL, target_type=item.target_type,
            target_ref=item.target_ref, target_label=item.target_label, office=item.office, window=item.window,
            matter=item.matter,
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
            if (first := _again(session, vault, item.token, digest)) is not None:
                return first
            continue
        session.add(CaseEvent(case_id=case.id, action="submit", from_state=None, to_state=states.INITIAL,
                              actor=actor.name, role=actor.role,
                              note=f"渠道：{CHANNELS.get(item.channel, item.channel)}"))  # fmt: skip
        return Receipt(case, code, created=True)
    raise RuntimeError("could not allocate a receipt number")


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


def _changes(case: Case, effect: states.Effect, inputs: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """The case's new field values under `effect`."""
    changes: dict[str, Any] = {}
    if effect.category:
        changes["category"] = effect.category
    if effect.deadline:
        source = inputs if effect.deadline.source == "input" else ctx.settings
        changes["deadline"] = ctx.calendar.add(ctx.today, int(source[effect.deadline.name]))
    if effect.locate:
        changes["office"], _, changes["window"] = str(inputs[effect.locate]).partition(":")
    if effect.new_round:
        changes["round"] = case.round + 1
    if effect.resolution:
        changes["resolution"] = inputs[effect.resolution]
    if effect.referral:
        changes["referral"] = inputs[effect.referral]
    return changes


def _write_order(session: Session, case: Case, effect: states.Effect, actor: Actor, inputs: Mapping[str, Any],
                 assignee: str | None) -> None:  # fmt: skip
    """The round's 督办单: issued with the case's new deadline, then handled, then answered."""
    if effect.order == "issue":
        order = SupervisionOrder(
            case_id=case.id, round=case.round, opinion=inputs["opinion"], deadline_days=int(inputs["days"]),
            deadline=case.deadline, office=case.office, window=case.window, assignee=assignee,
            issued_by=actor.name,
        )  # fmt: skip
        session.add(order)
        case.orders.append(order)
    elif effect.order == "handle":
        order = case.orders[-1]
        order.handling, order.rectification = inputs["handling"], inputs.get("rectification") or None
        order.handled_by, order.handled_at = actor.name, utcnow()
    elif effect.order == "reply" and case.orders:
        case.orders[-1].reply, case.orders[-1].replied_at = inputs["reply"], utcnow()


def apply(
    session: Session,
    case: Case,
    name: str,
    actor: Actor,
    ctx: Context,
    inputs: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> Case:
    """Make transition `name` on `case` as its table entry says, and write its audit row.

    The compare-and-set on the case comes before any other write, so of two people acting at once the
    second stops there with a clear message and leaves nothing behind."""
    inputs = inputs or {}
    transition = states.check(name, case.state, actor.role)
    if missing := transition.missing(inputs):
        raise TransitionRefused("；".join(missing.values()))
    effect, before, target = transition.effect, case.state, transition.target
    audit = transition.audit.format(**inputs) if transition.audit else ""
    text = f"{audit}（{note}）" if audit and note else audit or note or ""
    if effect.limit and times(case, name) >= ctx.settings[effect.limit]:
        target = effect.limit_target  # the limit is reached: the record says why
        text = f"{text}（{effect.limit_note.format(limit=ctx.settings[effect.limit])}）"
    changes = _changes(case, effect, inputs, ctx)
    if target in states.FINAL:
        changes["closed_at"] = utcnow()
    _move(session, case, target, changes)
    if effect.order:
        assignee = ctx.assign(case.office or "", case.window or "") if effect.assign else None
        _write_order(session, case, effect, actor, inputs, assignee)
    session.add(CaseEvent(case_id=case.id, action=name, from_state=before, to_state=target,
                          actor=actor.name, role=actor.role, note=text or None))  # fmt: skip
    return case


def times(case: Case, action: str) -> int:
    """How many times `action` has been taken on this case (再次督办 counts its reopenings)."""
    return sum(1 for event in case.events if event.action == action)


def replies(case: Case) -> list[str]:
    """Every reply the complainant was given, oldest first (each kept in its audit row)."""
    answering = {t.name for t in states.TRANSITIONS.values() if t.effect.resolution == "reply"}
    return [e.note or "" for e in case.events if e.action in answering]
