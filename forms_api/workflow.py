"""The case engine: registering a case, and `apply()`, which makes any transition of the table in states.py.

Every change is one compare-and-set on the case plus one audit row, in the caller's transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.procedure import Limit, Procedure
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
    """What the engine needs from outside the case: dates, the procedure's numbers, and who handles a case."""

    calendar: WorkCalendar
    today: date
    procedure: Procedure
    assign: Callable[[Case], str | None] = lambda _case: None

    def due(self, limit: Limit, start: date | None = None) -> date:
        """The last day of `limit` counted from `start` (today): working days skip holidays, 0 is that day."""
        start = start or self.today
        return self.calendar.add(start, limit.days) if limit.unit == "工作日" else start + timedelta(limit.days)


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
    business_no: str | None = None
    office: str | None = None
    window: str | None = None
    first_receiver: str | None = None
    token: str | None = None

    def content(self) -> str:
        """Everything submitted but the token, canonically: what a genuine retry repeats exactly. A chosen
        target counts by its key, not its label, so renaming a window between a call and its retry changes nothing."""
        fields = dict(vars(self))  # every field is a str or None: no deep copy (asdict) needed
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
    """8 characters of CODE_ALPHABET from one draw of 40 random bits (32 characters: 5 bits each, all equally
    likely); a draw per character cost a system call each."""
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    return "".join(CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))


def _again(session: Session, vault: Vault, token: str | None, digest: str) -> Receipt | None:
    """The case this form token already created, if any; the same token with other content is refused.

    A shared kiosk or a saved page replays the token with someone else's complaint: showing them the first
    receipt would hand over its query code, and with it the right to read and withdraw that case."""
    existing = dao.case_by_token(session, token) if token else None
    if existing is None:
        return None
    dao.check_repeat(existing.submission_digest, digest)
    return Receipt(existing, vault.open(existing.query_code_enc) or "", created=False)


@dataclass(frozen=True)
class Draft:
    """A submission sealed, digested and dated, ready to store: made before the write transaction because
    none of it needs the database, and SQLite takes one writer at a time (forms_api/db.py)."""

    item: Submission
    today: date  # in the hall's time zone: the receipt number's date
    code: str  # the query code, shown once on the receipt
    digest: str  # keyed hash of the content: a retry must repeat it
    values: dict[str, Any]  # every column of the case but its receipt number


def prepare(vault: Vault, item: Submission, ctx: Context) -> Draft:
    """The case `item` asks for, due for intake within procedure.yml's limit, with its personal data sealed."""
    digest, code = vault.digest(item.content()), _query_code()
    values: dict[str, Any] = {
        "deadline": ctx.due(ctx.procedure.intake), "business_no": item.business_no, "query_hash": vault.digest(code),
        "query_code_enc": vault.seal(code), "submission_token": item.token, "submission_digest": digest,
        "kind": item.kind, "channel": item.channel, "state": states.INITIAL, "category": None,
        "target_type": item.target_type, "target_ref": item.target_ref, "target_label": item.target_label,
        "office": item.office, "window": item.window, "matter": item.matter, "demand": item.demand,
        "name_enc": vault.seal(item.name), "phone_enc": vault.seal(item.phone),
        "id_number_enc": vault.seal(item.id_number), "first_receiver": item.first_receiver, "assignee": None,
        "appeal_until": None, "resolution": None, "referral": None, "round": 0, "version": 0,
        "anonymised": False, "created_at": utcnow(), "closed_at": None,
    }  # fmt: skip
    return Draft(item, ctx.today, code, digest, values)


def submit(session: Session, vault: Vault, item: Submission, actor: Actor, ctx: Context) -> Receipt:
    """Register a case (prepare, then register, in the caller's transaction)."""
    return register(session, vault, prepare(vault, item, ctx), actor)


def register(session: Session, vault: Vault, draft: Draft, actor: Actor) -> Receipt:
    """Store a prepared case and its audit row; the same form token with the same content returns the first
    case, with other content it is refused (ReusedToken)."""
    item = draft.item
    for _attempt in range(5):
        case = dao.insert_case(session, {**draft.values, "receipt_no": _receipt_no(item.kind, draft.today)})
        if case is None:
            # Either this form was sent before (a retry, or its twin committed first on PostgreSQL), or the
            # random receipt number is taken: return the first case, or try another number.
            if (first := _again(session, vault, item.token, draft.digest)) is not None:
                return first
            continue
        channel = CHANNELS.get(item.channel, item.channel)
        dao.add_event(session, case_id=case.id, action="submit", from_state=None, to_state=states.INITIAL,
                      actor=actor.name, role=actor.role, at=utcnow(), note=f"渠道：{channel}", detail=None)  # fmt: skip
        return Receipt(case, draft.code, created=True)
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


def _changes(case: Case, effect: states.Effect, inputs: Mapping[str, Any], ctx: Context, target: str) -> dict[str, Any]:
    """The case's new field values under `effect`, going to `target`."""
    changes: dict[str, Any] = {}
    if effect.category:
        changes["category"] = effect.category
    if target in states.FINAL:
        changes["deadline"] = None  # nobody owes anything on a finished case
    elif effect.deadline:
        changes["deadline"] = ctx.due(getattr(ctx.procedure, effect.deadline))
    elif effect.extend and case.deadline:
        changes["deadline"] = ctx.due(ctx.procedure.extension, case.deadline)
    if effect.appeal:
        changes["appeal_until"] = ctx.due(ctx.procedure.appeal)
    if effect.locate:
        changes["office"], _, changes["window"] = str(inputs[effect.locate]).partition(":")
    if effect.new_round:
        changes["round"] = case.round + 1
    if effect.resolution:
        changes["resolution"] = inputs[effect.resolution]
    if effect.referral and inputs.get(effect.referral):
        changes["referral"] = inputs[effect.referral]
    return changes


def _write_order(case: Case, order_step: str, actor: Actor, inputs: Mapping[str, Any], ctx: Context) -> None:
    """The current 督办单: issued with the case's deadline, extended, handled or returned, then answered."""
    if order_step == "issue":
        deadline = case.deadline or ctx.due(ctx.procedure.reply)
        order = SupervisionOrder(
            case_id=case.id, round=case.round, opinion=inputs["opinion"],
            deadline_days=ctx.calendar.between(ctx.today, deadline), deadline=deadline, office=case.office,
            window=case.window, assignee=case.assignee, issued_by=actor.name,
        )  # fmt: skip
        case.orders.append(order)  # saved with the case (adding it first would list it twice)
        return
    if not case.orders:
        return
    order = case.orders[-1]
    if order_step == "extend" and case.deadline:
        order.deadline = case.deadline
    elif order_step == "handle":
        order.handling, order.rectification = inputs["handling"], inputs.get("rectification") or None
        order.handled_by, order.handled_at = actor.name, utcnow()
    elif order_step == "return":
        order.returned_reason, order.returned_by, order.returned_at = inputs["reason"], actor.name, utcnow()
    elif order_step == "reply":
        order.reply, order.replied_at = inputs["reply"], utcnow()


def _previous_issuer(case: Case) -> str | None:
    """In a 复督 round, who issued the 督办单 (or, without one, gave the reply) the complainant was unhappy
    with: the rules say another supervisor reviews it. None outside a 复督 round."""
    reopened = [i for i, event in enumerate(case.events) if event.to_state == "reopened"]
    if not reopened:
        return None
    before = case.events[: reopened[-1]]
    answering = {t.name for t in states.TRANSITIONS.values() if t.effect.appeal}
    issuing = {t.name for t in states.TRANSITIONS.values() if t.effect.order == "issue"}
    issued = [e.actor for e in before if e.action in issuing]
    replied = [e.actor for e in before if e.action in answering]
    return issued[-1] if issued else replied[-1] if replied else None


def _guard(name: str, case: Case, actor: Actor, ctx: Context, inputs: Mapping[str, Any]) -> str | None:
    """The refusal of one named guard of the table, or None when it holds."""
    if name == "before_deadline" and case.deadline and ctx.today > case.deadline:
        return f"答复期限（{case.deadline:%Y-%m-%d}）已过，不能再申请延期"
    if name == "extensions_left" and times(case, "approve_extension") >= ctx.procedure.extensions:
        return f"延期以 {ctx.procedure.extensions} 次为限，已经延期过"
    if name == "other_supervisor" and actor.name == _previous_issuer(case):
        return "复督须由签发原督办单（或作出原答复）以外的督办员另行签发"
    if name == "other_window" and case.orders and inputs.get("window") == f"{case.office}:{case.window}":
        return "该窗口刚退回了督办单，请另行指定责任窗口"
    if name == "within_appeal" and case.appeal_until and ctx.today > case.appeal_until:
        return f"复督申请期限已于 {case.appeal_until:%Y-%m-%d} 届满"
    if name == "appeal_over" and not (case.appeal_until and ctx.today > case.appeal_until):
        return "复督申请期限尚未届满"
    return None


def _target(transition: states.Transition, case: Case, inputs: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    """Where the case goes, and why if not where the table's entry usually sends it."""
    target = transition.target
    if transition.branch:
        name, routes = transition.branch
        target = routes.get(str(inputs.get(name)), target)
    if transition.anonymous and no_reply_owed(case):
        return transition.anonymous, "意见箱匿名意见，无法答复，结案"
    limit = transition.effect.limit
    if limit and target not in states.FINAL and reopenings(case) >= getattr(ctx.procedure, limit):
        return transition.effect.limit_target, transition.effect.limit_note.format(limit=getattr(ctx.procedure, limit))
    return target, ""


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
    for guard in transition.guards:
        if refusal := _guard(guard, case, actor, ctx, inputs):
            raise TransitionRefused(refusal)
    effect, before = transition.effect, case.state
    target, why = _target(transition, case, inputs, ctx)
    changes = _changes(case, effect, inputs, ctx, target)
    if target in states.FINAL:
        changes["closed_at"] = utcnow()
    if effect.order == "return":
        changes["assignee"] = None
    _move(session, case, target, changes)
    if effect.assign:
        case.assignee = ctx.assign(case)
    if step := effect.order or ("extend" if effect.extend else None):
        _write_order(case, step, actor, inputs, ctx)
    detail = "；".join(part for part in (_audit(transition, inputs, case), why) if part)
    text = "；".join(part for part in (detail, note) if part)
    session.add(CaseEvent(case_id=case.id, action=name, from_state=before, to_state=target,
                          actor=actor.name, role=actor.role, note=text or None, detail=detail or None))  # fmt: skip
    return case


def _audit(transition: states.Transition, inputs: Mapping[str, Any], case: Case) -> str:
    """The audit row's own words: the table's text with the inputs, and a moved deadline with the reason the
    window gave (its input, never its 备注)."""
    values = {name: inputs.get(name) or "" for name in transition.fields()}
    text = transition.audit.format(**values) if transition.audit else ""
    if transition.effect.extend and case.deadline:
        asked = next((e.detail for e in reversed(case.events) if e.action == "ask_extension"), "")
        text = f"答复期限延至 {case.deadline:%Y-%m-%d}" + (f"，理由：{asked}" if asked else "")
    return text


def no_reply_owed(case: Case) -> bool:
    """An 意见箱 slip that left no phone number: nobody can be answered, so the answer closes the case."""
    return case.channel == "box" and case.phone_enc is None


def reopenings(case: Case) -> int:
    """How many times the complainant's 不满意 (their own or at a 回访) has reopened the case for 复督."""
    return sum(1 for event in case.events if event.to_state == "reopened")


def times(case: Case, action: str) -> int:
    """How many times `action` has been taken on this case (延期 counts its approvals)."""
    return sum(1 for event in case.events if event.action == action)


def replies(case: Case) -> list[str]:
    """Every reply the complainant was given, oldest first (each kept in its audit row)."""
    answering = {t.name for t in states.TRANSITIONS.values() if t.effect.resolution == "reply"}
    return [e.detail or "" for e in case.events if e.action in answering]


def public_events(case: Case) -> list[tuple[CaseEvent, str, str]]:
    """The complainant's view of the history: each step as they read it, with the note when it is theirs."""
    shown = []
    for event in case.events:
        transition = states.TRANSITIONS.get(event.action)
        if event.action == "submit":
            shown.append((event, "已提交，等待受理", ""))
        elif transition is not None:
            shown.append((event, transition.citizen, (event.detail or "") if transition.public else ""))
    return shown
