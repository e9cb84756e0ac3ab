"""The case state machine in storage: audit rows, refusals, idempotency, concurrency, re-supervision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forms_api import db, states, workflow
from forms_api.models import Case, CaseEvent, SupervisionOrder
from forms_api.privacy import Vault
from generator.workdays import WorkCalendar

TODAY = date(2026, 9, 30)  # the day before the National Day holiday
CAL = WorkCalendar()
INTAKE = workflow.Actor("clerk", "intake")
SUPERVISOR = workflow.Actor("boss", "supervisor")
LEAD = workflow.Actor("lead", "window-lead")


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(database_url)
    db.create_schema(engine)
    yield db.make_sessions(engine)
    engine.dispose()


@pytest.fixture
def vault() -> Vault:
    return Vault(Fernet.generate_key(), b"secret")


def _submit(sessions: sessionmaker[Session], vault: Vault, token: str | None = "t1") -> workflow.Receipt:
    item = workflow.Submission(
        kind="complaint", channel="online", target_type="window", target_ref="county-hall:1",
        target_label="1 号就业登记窗口", matter="排队两小时无人办理", name="张三",
        phone="13812345678", token=token,
    )  # fmt: skip
    with db.transaction(sessions) as session:
        return workflow.submit(session, vault, item, workflow.Actor("投诉人", "citizen"), TODAY)


def _act(sessions: sessionmaker[Session], case_id: int, name: str, actor: workflow.Actor, **fields: object) -> Case:
    with db.transaction(sessions) as session:
        case = session.get_one(Case, case_id)
        return workflow.apply(session, case, name, actor, calendar=CAL, today=TODAY, **fields)


def test_submit_commits_case_and_audit_row(sessions: sessionmaker[Session], vault: Vault) -> None:
    receipt = _submit(sessions, vault)
    assert receipt.created and receipt.case.receipt_no.startswith("TS20260930")
    with sessions() as session:
        case = session.get_one(Case, receipt.case.id)
        assert case.state == "received"
        assert "13812345678" not in (case.phone_enc or "") and vault.open(case.phone_enc) == "13812345678"
        events = session.scalars(select(CaseEvent)).all()
        assert [(e.action, e.from_state, e.to_state) for e in events] == [("submit", None, "received")]


def test_same_form_twice_is_one_case(sessions: sessionmaker[Session], vault: Vault) -> None:
    first, again = _submit(sessions, vault, "tok"), _submit(sessions, vault, "tok")
    assert not again.created and again.case.id == first.case.id and again.query_code == first.query_code
    with sessions() as session:
        assert len(session.scalars(select(Case)).all()) == 1


def test_query_code_is_required_to_find_a_case(sessions: sessionmaker[Session], vault: Vault) -> None:
    receipt = _submit(sessions, vault)
    with sessions() as session:
        assert workflow.find(session, vault, receipt.case.receipt_no, receipt.query_code) is not None
        assert workflow.find(session, vault, receipt.case.receipt_no, "WRONG123") is None
        assert workflow.find(session, vault, "TS000", receipt.query_code) is None


def test_full_supervision_with_resupervision_limit(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    _act(sessions, case_id, "file", INTAKE)
    order = {"opinion": "请核实并整改", "days": 3, "office": "county-hall", "window": "1"}
    case = _act(sessions, case_id, "issue_order", SUPERVISOR, **order)
    assert case.deadline == date(2026, 10, 10)  # 8 and 9 October, then Saturday 10 October (adjusted workday)
    assert case.deadline == CAL.add(TODAY, 3)
    _act(sessions, case_id, "record_handling", LEAD, handling="已约谈窗口人员", rectification="增设叫号提醒")
    _act(sessions, case_id, "reply", SUPERVISOR, reply="经核实，已整改")
    case = _act(sessions, case_id, "unsatisfied", workflow.CITIZEN)
    assert case.state == "reopened"
    _act(sessions, case_id, "issue_order", SUPERVISOR, **order)
    _act(sessions, case_id, "record_handling", LEAD, handling="再次核实")
    _act(sessions, case_id, "reply", SUPERVISOR, reply="第二次答复")
    case = _act(sessions, case_id, "unsatisfied", workflow.CITIZEN)
    assert case.state == "closed" and case.round == 2  # limit reached: closed, not reopened
    with sessions() as session:
        case = session.get_one(Case, case_id)
        assert [o.round for o in case.orders] == [1, 2]
        round_trip = ["issue_order", "record_handling", "reply", "unsatisfied"]
        assert [e.action for e in case.events] == ["submit", "file", *round_trip, *round_trip]
        assert "再次督办上限" in (case.events[-1].note or "")


REFUSED = [
    ("file", "received", "supervisor", "您的角色不能执行「立案处理」"),
    ("issue_order", "received", "supervisor", "案件当前状态为「已受理」，不能执行「签发督办单」"),
    ("withdraw", "supervising", "citizen", "案件当前状态为「督办中」，不能执行「自愿撤销」"),
    ("record_handling", "supervising", "auditor", "您的角色不能执行「登记处理结果」"),
    ("reply", "closed", "supervisor", "案件当前状态为「已办结」，不能执行「答复投诉人」"),
    ("satisfied", "handled", "citizen", "案件当前状态为「窗口已处理」，不能执行「满意」"),
]


@pytest.mark.parametrize(("name", "state", "role", "message"), REFUSED)
def test_refused_transitions_say_why(name: str, state: str, role: str, message: str) -> None:
    with pytest.raises(states.TransitionRefused, match=message):
        states.check(name, state, role)


def test_every_transition_is_reachable_and_targets_a_state() -> None:
    for transition in states.TRANSITIONS.values():
        assert transition.target in states.STATES and transition.sources <= set(states.STATES)


def test_two_staff_at_once_cannot_both_win(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    first, second = sessions(), sessions()
    case_a, case_b = first.get_one(Case, case_id), second.get_one(Case, case_id)
    first.close(), second.close()
    with db.transaction(sessions) as session:
        session.add(case_a)
        workflow.apply(session, case_a, "file", INTAKE, calendar=CAL, today=TODAY)
    with pytest.raises(workflow.Conflict), db.transaction(sessions) as session:
        session.add(case_b)
        workflow.apply(session, case_b, "refuse", INTAKE, calendar=CAL, today=TODAY, reason="x", referral="y")
    with sessions() as session:
        case = session.get_one(Case, case_id)
        assert case.state == "filed" and [e.action for e in case.events] == ["submit", "file"]


def test_withdraw_before_handling(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    case = _act(sessions, case_id, "withdraw", workflow.CITIZEN)
    assert case.state == "withdrawn" and case.closed_at is not None


def test_purge_anonymises_only_old_finished_cases(sessions: sessionmaker[Session], vault: Vault) -> None:
    from datetime import UTC, datetime, timedelta

    from forms_api import retention

    old = _submit(sessions, vault, "old").case.id
    recent = _submit(sessions, vault, "recent").case.id
    open_case = _submit(sessions, vault, "open").case.id
    for case_id in (old, recent):
        _act(sessions, case_id, "withdraw", workflow.CITIZEN)
    with db.transaction(sessions) as session:
        session.get_one(Case, old).closed_at = datetime.now(UTC) - timedelta(days=400)
    with db.transaction(sessions) as session:
        assert retention.purge(session, 365) == 1
    with sessions() as session:
        purged = session.get_one(Case, old)
        assert purged.anonymised and purged.phone_enc is None and purged.name_enc is None
        assert purged.matter == retention.REDACTED and purged.events[-1].action == "purge"
        assert all(e.note in (None, retention.REDACTED) or e.action in ("submit", "purge") for e in purged.events)
        assert session.get_one(Case, recent).phone_enc is not None
        assert session.get_one(Case, open_case).phone_enc is not None
    with db.transaction(sessions) as session:
        assert retention.purge(session, 365) == 0  # idempotent


FIELDS = {
    "refuse": {"reason": "不属于本局职责", "referral": "县市场监督管理局"},
    "settle": {"reply": "现场协调，当场办结"},
    "issue_order": {"opinion": "请核实", "days": 3, "office": "county-hall", "window": "1"},
    "record_handling": {"handling": "已处理"},
    "reply": {"reply": "已答复"},
}
ALLOWED = [(t.name, state, sorted(t.roles)[0]) for t in states.TRANSITIONS.values() for state in sorted(t.sources)]
REFUSED_STATES = [(t.name, state, sorted(t.roles)[0]) for t in states.TRANSITIONS.values()
                  for state in sorted(set(states.STATES) - t.sources)]  # fmt: skip


def _case_in(sessions: sessionmaker[Session], vault: Vault, state: str) -> int:
    """A case put straight into `state` (with a 督办单 where the state implies one)."""
    case_id = _submit(sessions, vault, f"tok-{state}").case.id
    with db.transaction(sessions) as session:
        case = session.get_one(Case, case_id)
        case.state = state
        if state in ("supervising", "handled", "replied", "reopened"):
            case.round = 1
            order = SupervisionOrder(case_id=case_id, round=1, opinion="x", deadline_days=3, deadline=TODAY,
                                     office="county-hall", window="1", issued_by="boss")  # fmt: skip
            session.add(order)
    return case_id


@pytest.mark.parametrize(("name", "state", "role"), ALLOWED, ids=[f"{n}-{s}" for n, s, _ in ALLOWED])
def test_every_allowed_transition(
    sessions: sessionmaker[Session], vault: Vault, name: str, state: str, role: str
) -> None:
    case_id = _case_in(sessions, vault, state)
    case = _act(sessions, case_id, name, workflow.Actor("someone", role), **FIELDS.get(name, {}))
    assert case.state == states.TRANSITIONS[name].target
    with sessions() as session:
        event = session.get_one(Case, case_id).events[-1]
        assert (event.action, event.from_state, event.to_state, event.role) == (name, state, case.state, role)
        assert event.at is not None


@pytest.mark.parametrize(("name", "state", "role"), REFUSED_STATES, ids=[f"{n}-{s}" for n, s, _ in REFUSED_STATES])
def test_every_refused_transition(
    sessions: sessionmaker[Session], vault: Vault, name: str, state: str, role: str
) -> None:
    case_id = _case_in(sessions, vault, state)
    with pytest.raises(states.TransitionRefused, match=f"案件当前状态为「{states.STATES[state]}」"):
        _act(sessions, case_id, name, workflow.Actor("someone", role), **FIELDS.get(name, {}))
    with sessions() as session:
        case = session.get_one(Case, case_id)
        assert case.state == state and [e.action for e in case.events] == ["submit"]
