"""The case engine in storage: audit rows, refusals, idempotency, concurrency, effects from the table."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.workdays import WorkCalendar
from forms_api import dao, db, states, workflow
from forms_api.errors import Conflict, ReusedToken, TransitionRefused
from forms_api.models import Case, CaseEvent
from forms_api.privacy import Vault
from tests.factories import REGISTERED, make_case, submission

TODAY = REGISTERED  # the day before the National Day holiday
CAL = WorkCalendar()
ASSIGNED = "李四（QX0102，就业登记岗B角）"
CTX = workflow.Context(CAL, TODAY, {"resupervision_limit": 1, "rectification_days": 3}, lambda o, w: ASSIGNED)
INTAKE = workflow.Actor("clerk", "intake")
SUPERVISOR = workflow.Actor("boss", "supervisor")
LEAD = workflow.Actor("lead", "window-lead")
ORDER = {"opinion": "请核实并整改", "days": 3, "window": "county-hall:1"}


def _submit(sessions: sessionmaker[Session], vault: Vault, token: str | None = "t1") -> workflow.Receipt:
    with db.transaction(sessions) as session:
        return workflow.submit(session, vault, submission(token=token), workflow.CITIZEN, TODAY)


def _act(sessions: sessionmaker[Session], case_id: int, name: str, actor: workflow.Actor, **inputs: Any) -> Case:
    with db.transaction(sessions) as session:
        case = session.get_one(Case, case_id)
        return workflow.apply(session, case, name, actor, CTX, inputs)


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


def test_same_token_with_other_content_is_refused(sessions: sessionmaker[Session], vault: Vault) -> None:
    _submit(sessions, vault, "tok")
    with pytest.raises(ReusedToken), db.transaction(sessions) as session:
        workflow.submit(session, vault, submission(token="tok", matter="另一件事"), workflow.CITIZEN, TODAY)
    with sessions() as session:
        assert len(session.scalars(select(Case)).all()) == 1


def test_query_code_is_required_to_find_a_case(sessions: sessionmaker[Session], vault: Vault) -> None:
    receipt = _submit(sessions, vault)
    with sessions() as session:
        assert dao.find_case(session, vault, receipt.case.receipt_no, receipt.query_code) is not None
        assert dao.find_case(session, vault, receipt.case.receipt_no, "WRONG123") is None
        assert dao.find_case(session, vault, "TS000", receipt.query_code) is None


def test_full_supervision_with_resupervision_limit(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    _act(sessions, case_id, "file", INTAKE)
    case = _act(sessions, case_id, "issue_order", SUPERVISOR, **ORDER)
    assert case.deadline == date(2026, 10, 10)  # 8 and 9 October, then Saturday 10 October (adjusted workday)
    assert case.deadline == CAL.add(TODAY, 3)
    _act(sessions, case_id, "record_handling", LEAD, handling="已约谈窗口人员", rectification="增设叫号提醒")
    _act(sessions, case_id, "reply", SUPERVISOR, reply="经核实，已整改")
    case = _act(sessions, case_id, "unsatisfied", workflow.CITIZEN)
    assert case.state == "reopened"
    _act(sessions, case_id, "issue_order", SUPERVISOR, **ORDER)
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


def test_two_staff_at_once_cannot_both_win(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    first, second = sessions(), sessions()
    case_a, case_b = first.get_one(Case, case_id), second.get_one(Case, case_id)
    first.close(), second.close()
    with db.transaction(sessions) as session:
        session.add(case_a)
        workflow.apply(session, case_a, "file", INTAKE, CTX)
    with pytest.raises(Conflict), db.transaction(sessions) as session:
        session.add(case_b)
        workflow.apply(session, case_b, "refuse", INTAKE, CTX, {"reason": "x", "referral": "y"})
    with sessions() as session:
        case = session.get_one(Case, case_id)
        assert case.state == "filed" and [e.action for e in case.events] == ["submit", "file"]


def test_withdraw_before_handling(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    case = _act(sessions, case_id, "withdraw", workflow.CITIZEN)
    assert case.state == "withdrawn" and case.closed_at is not None


# A sample value for every input any transition asks for; each test takes what its entry requires.
SAMPLE: dict[str, Any] = {
    "reason": "不属于本局职责", "referral": "县市场监督管理局", "reply": "已答复", "opinion": "请核实", "days": 3,
    "window": "county-hall:1", "handling": "已处理", "rectification": "已整改",
}  # fmt: skip


def _inputs(name: str) -> dict[str, Any]:
    transition = states.TRANSITIONS[name]
    return {key: SAMPLE[key] for key in [i.name for i in transition.inputs] + list(transition.optional)}


ALLOWED = [(t.name, state, sorted(t.roles)[0]) for t in states.TRANSITIONS.values() for state in sorted(t.sources)]
REFUSED_STATES = [(t.name, state, sorted(t.roles)[0]) for t in states.TRANSITIONS.values()
                  for state in sorted(set(states.STATES) - t.sources)]  # fmt: skip


@pytest.mark.parametrize(("name", "state", "role"), ALLOWED, ids=[f"{n}-{s}" for n, s, _ in ALLOWED])
def test_every_allowed_transition(
    sessions: sessionmaker[Session], vault: Vault, name: str, state: str, role: str
) -> None:
    case_id = make_case(sessions, vault, state).case.id
    transition, effect = states.TRANSITIONS[name], states.TRANSITIONS[name].effect
    case = _act(sessions, case_id, name, workflow.Actor("someone", role), **_inputs(name))
    assert case.state == transition.target
    assert case.category == (effect.category or None)  # the factory's cases start unclassified
    if effect.deadline:
        days = SAMPLE["days"] if effect.deadline.source == "input" else CTX.settings[effect.deadline.name]
        assert case.deadline == CAL.add(TODAY, days)
    if effect.resolution:
        assert case.resolution == SAMPLE[effect.resolution]
    assert (case.closed_at is not None) == (case.state in states.FINAL)
    with sessions() as session:
        stored = session.get_one(Case, case_id)
        event = stored.events[-1]
        assert (event.action, event.from_state, event.to_state, event.role) == (name, state, case.state, role)
        assert event.at is not None and (event.note or "") == transition.audit.format(**_inputs(name))
        if effect.order == "issue":
            assert stored.orders[-1].round == stored.round and stored.orders[-1].assignee == ASSIGNED
            assert (stored.office, stored.window, stored.orders[-1].deadline) == ("county-hall", "1", stored.deadline)
        if effect.order == "handle":
            assert stored.orders[-1].handling == SAMPLE["handling"] and stored.orders[-1].handled_by == "someone"


@pytest.mark.parametrize(("name", "state", "role"), REFUSED_STATES, ids=[f"{n}-{s}" for n, s, _ in REFUSED_STATES])
def test_every_refused_transition(
    sessions: sessionmaker[Session], vault: Vault, name: str, state: str, role: str
) -> None:
    case_id = make_case(sessions, vault, state).case.id
    with pytest.raises(TransitionRefused, match=f"案件当前状态为「{states.STATES[state]}」"):
        _act(sessions, case_id, name, workflow.Actor("someone", role), **_inputs(name))
    with sessions() as session:
        case = session.get_one(Case, case_id)
        assert case.state == state and [e.action for e in case.events] == ["submit"]


@pytest.mark.parametrize("name", [t.name for t in states.TRANSITIONS.values() if t.inputs])
def test_apply_refuses_missing_inputs_with_the_tables_messages(
    sessions: sessionmaker[Session], vault: Vault, name: str
) -> None:
    transition = states.TRANSITIONS[name]
    case_id = make_case(sessions, vault, sorted(transition.sources)[0]).case.id
    with pytest.raises(TransitionRefused, match=transition.inputs[0].message):
        _act(sessions, case_id, name, workflow.Actor("someone", sorted(transition.roles)[0]))


def test_a_bad_rating_is_filed_by_the_system_through_the_table(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = make_case(sessions, vault, kind="rectification", channel="evaluation").case.id
    case = _act(sessions, case_id, "open_rectification", workflow.SYSTEM)
    assert (case.state, case.category, case.deadline) == ("filed", "立案处理类", CAL.add(TODAY, 3))
    with sessions() as session:
        event = session.get_one(Case, case_id).events[-1]
        assert (event.action, event.actor, event.role, event.note) == ("open_rectification", "系统", "system",
                                                                        "差评自动立案整改")  # fmt: skip
    with pytest.raises(TransitionRefused, match="您的角色不能执行"):
        _act(sessions, make_case(sessions, vault).case.id, "open_rectification", INTAKE)
