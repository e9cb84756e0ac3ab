"""The case engine in storage: audit rows, refusals, idempotency, concurrency, deadlines and routing from the table."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forms_api import dao, db, states, workflow
from forms_api.errors import Conflict, ReusedToken, TransitionRefused
from forms_api.models import Case, CaseEvent
from forms_api.privacy import Vault
from tests.factories import CONTEXT, PROCEDURE, REGISTERED, make_case, submission

TODAY = REGISTERED  # the day before the National Day holiday
CAL = CONTEXT.calendar
ASSIGNED = "李四（QX0102，就业登记岗B角）"
CTX = replace(CONTEXT, assign=lambda case: ASSIGNED)
INTAKE = workflow.Actor("clerk", "intake")
SUPERVISOR = workflow.Actor("boss", "supervisor")
OTHER_SUPERVISOR = workflow.Actor("deputy", "supervisor")
LEAD = workflow.Actor("lead", "window-lead")
ORDER = {"opinion": "请核实并整改", "window": "county-hall:1"}


def _submit(sessions: sessionmaker[Session], vault: Vault, token: str | None = "t1", **kw: Any) -> workflow.Receipt:
    with db.transaction(sessions) as session:
        return workflow.submit(session, vault, submission(token=token, **kw), workflow.CITIZEN, CTX)


def _act(sessions: sessionmaker[Session], case_id: int, name: str, actor: workflow.Actor,
         ctx: workflow.Context = CTX, **inputs: Any) -> Case:  # fmt: skip
    with db.transaction(sessions) as session:
        case = session.get_one(Case, case_id)
        return workflow.apply(session, case, name, actor, ctx, inputs)


def _last_note(sessions: sessionmaker[Session], case_id: int) -> str:
    with sessions() as session:
        return session.get_one(Case, case_id).events[-1].note or ""


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
        workflow.submit(session, vault, submission(token="tok", matter="另一件事"), workflow.CITIZEN, CTX)
    with sessions() as session:
        assert len(session.scalars(select(Case)).all()) == 1


def test_a_taken_receipt_number_is_drawn_again(sessions: sessionmaker[Session], vault: Vault,
                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    first = _submit(sessions, vault, "one")
    numbers = iter([first.case.receipt_no, "TS20260930000002"])
    monkeypatch.setattr(workflow, "_receipt_no", lambda kind, today: next(numbers))
    second = _submit(sessions, vault, "two", matter="另一件事")
    assert second.created and second.case.receipt_no == "TS20260930000002"
    with sessions() as session:
        rows = [(e.case_id, e.action) for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))]
    assert rows == [(first.case.id, "submit"), (second.case.id, "submit")]


def test_without_a_free_receipt_number_nothing_is_written(sessions: sessionmaker[Session], vault: Vault,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    taken = _submit(sessions, vault, "one").case.receipt_no
    monkeypatch.setattr(workflow, "_receipt_no", lambda kind, today: taken)
    with pytest.raises(RuntimeError, match="receipt number"):
        _submit(sessions, vault, "two", matter="另一件事")
    with sessions() as session:
        assert len(session.scalars(select(Case)).all()) == 1 and len(session.scalars(select(CaseEvent)).all()) == 1


def test_the_new_case_is_live_in_its_transaction(sessions: sessionmaker[Session], vault: Vault) -> None:
    """What intake and a bad rating do right after submit: change the case, read its trail, move it on."""
    with db.transaction(sessions) as session:
        case = workflow.submit(session, vault, submission(token="t"), workflow.CITIZEN, CTX).case
        case.business_no = "12345-0001"
        assert [e.action for e in case.events] == ["submit"]
    with sessions() as session:
        stored = session.get_one(Case, case.id)
        assert stored.business_no == "12345-0001" and stored.created_at is not None and stored.version == 0


def test_query_codes_are_eight_readable_characters_drawn_evenly() -> None:
    codes = [workflow._query_code() for _ in range(4000)]
    assert all(len(c) == 8 and set(c) <= set(workflow.CODE_ALPHABET) for c in codes) and len(set(codes)) == 4000
    counts = Counter("".join(codes))
    assert set(counts) == set(workflow.CODE_ALPHABET) and max(counts.values()) < 1.3 * min(counts.values())


def test_a_prepared_case_names_every_column() -> None:
    """The new case is put in the session as if loaded: a column left out would be read back with a query."""
    draft = workflow.prepare(Vault(Fernet.generate_key(), b"secret"), submission(token="t"), CTX)
    assert set(draft.values) | {"id", "receipt_no"} == set(Case.__table__.columns.keys())


def test_query_code_is_required_to_find_a_case(sessions: sessionmaker[Session], vault: Vault) -> None:
    receipt = _submit(sessions, vault)
    with sessions() as session:
        assert dao.find_case(session, vault, receipt.case.receipt_no, receipt.query_code) is not None
        assert dao.find_case(session, vault, receipt.case.receipt_no, "WRONG123") is None
        assert dao.find_case(session, vault, "TS000", receipt.query_code) is None


def test_a_new_case_is_due_for_intake_within_the_published_limit(sessions: sessionmaker[Session],
                                                                   vault: Vault) -> None:  # fmt: skip
    case = _submit(sessions, vault).case
    assert (case.state, case.deadline) == ("received", date(2026, 10, 9))  # 2 working days across National Day


def test_full_procedure_with_extension_and_final_resupervision(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = _submit(sessions, vault).case.id
    case = _act(sessions, case_id, "file", INTAKE)
    assert case.deadline == date(2026, 10, 13)  # 5 working days: 8, 9, 10 (adjusted Saturday), 12, 13 October
    case = _act(sessions, case_id, "issue_order", SUPERVISOR, **ORDER)
    assert (case.assignee, case.orders[-1].deadline) == (ASSIGNED, date(2026, 10, 13))
    _act(sessions, case_id, "ask_extension", LEAD, reason="需调取监控核实")
    case = _act(sessions, case_id, "approve_extension", SUPERVISOR)
    assert case.deadline == date(2026, 10, 20) and case.orders[-1].deadline == date(2026, 10, 20)
    with pytest.raises(TransitionRefused, match="延期以 1 次为限"):
        _act(sessions, case_id, "ask_extension", LEAD, reason="再延一次")
    _act(sessions, case_id, "record_handling", LEAD, handling="已约谈窗口人员", rectification="增设叫号提醒")
    case = _act(sessions, case_id, "reply", SUPERVISOR, reply="经核实，已整改")
    assert (case.state, case.deadline, case.appeal_until) == ("replied", CAL.add(TODAY, 3), CAL.add(TODAY, 10))
    with pytest.raises(TransitionRefused, match="请写明不满意的理由"):
        _act(sessions, case_id, "unsatisfied", workflow.CITIZEN, reason=" ")
    case = _act(sessions, case_id, "unsatisfied", workflow.CITIZEN, reason="没有说明如何避免再次发生")
    assert (case.state, case.deadline) == ("reopened", CAL.add(TODAY, 10))
    with pytest.raises(TransitionRefused, match="另行签发"):
        _act(sessions, case_id, "issue_order", SUPERVISOR, **ORDER)
    _act(sessions, case_id, "issue_order", OTHER_SUPERVISOR, **ORDER)
    _act(sessions, case_id, "record_handling", LEAD, handling="再次核实")
    _act(sessions, case_id, "reply", OTHER_SUPERVISOR, reply="复督答复")
    case = _act(sessions, case_id, "follow_up", INTAKE, method="电话", result="不满意")
    assert case.state == "closed" and case.round == 2 and case.deadline is None  # the 复督 result is final
    with sessions() as session:
        case = session.get_one(Case, case_id)
        assert [o.issued_by for o in case.orders] == ["boss", "deputy"]
        assert "复督以 1 次为限，复督结论为最终处理意见，结案" in (case.events[-1].note or "")
        assert "答复期限延至 2026-10-20，理由：需调取监控核实" in [e.note for e in case.events]


def test_a_follow_up_records_the_verdict(sessions: sessionmaker[Session], vault: Vault) -> None:
    satisfied = make_case(sessions, vault, "replied").case.id
    case = _act(sessions, satisfied, "follow_up", INTAKE, method="短信", result="基本满意")
    assert case.state == "closed" and _last_note(sessions, satisfied) == "短信回访：基本满意"
    unsatisfied = make_case(sessions, vault, "replied").case.id
    case = _act(sessions, unsatisfied, "follow_up", INTAKE, method="当面", result="不满意")
    assert (case.state, case.deadline) == ("reopened", CAL.add(TODAY, 10))
    with pytest.raises(TransitionRefused, match="请选择回访方式"):
        _act(sessions, make_case(sessions, vault, "replied").case.id, "follow_up", INTAKE, method="微信", result="满意")


def test_return_sends_the_order_back_to_the_supervisor(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = make_case(sessions, vault, "supervising").case.id
    case = _act(sessions, case_id, "return_order", LEAD, reason="该事项由5号窗口办理")
    assert (case.state, case.assignee) == ("returned", None)
    assert (case.orders[-1].returned_reason, case.orders[-1].returned_by) == ("该事项由5号窗口办理", "lead")
    with pytest.raises(TransitionRefused, match="该窗口刚退回了督办单"):
        _act(sessions, case_id, "reissue_order", SUPERVISOR, opinion="请再核实", window="county-hall:1")
    case = _act(sessions, case_id, "reissue_order", SUPERVISOR, opinion="请5号窗口核实", window="county-hall:5")
    assert (case.state, case.window, case.round, len(case.orders)) == ("supervising", "5", 2, 2)
    assert case.deadline == CAL.add(TODAY, 5)  # the new window gets the whole reply limit


def test_an_extension_must_be_asked_before_the_deadline(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = make_case(sessions, vault, "supervising").case.id
    late = replace(CTX, today=date(2026, 10, 20))
    with pytest.raises(TransitionRefused, match="已过，不能再申请延期"):
        _act(sessions, case_id, "ask_extension", LEAD, late, reason="来不及")


def test_the_complainant_may_ask_for_resupervision_only_within_the_window(sessions: sessionmaker[Session],
                                                                          vault: Vault) -> None:  # fmt: skip
    case_id = make_case(sessions, vault, "expired").case.id
    with pytest.raises(TransitionRefused, match="复督申请期限已于 2026-09-29 届满"):
        _act(sessions, case_id, "unsatisfied", workflow.CITIZEN, reason="不满意")
    case = _act(sessions, case_id, "expire", workflow.SYSTEM)
    assert case.state == "closed"
    with pytest.raises(TransitionRefused, match="尚未届满"):
        _act(sessions, make_case(sessions, vault, "replied").case.id, "expire", workflow.SYSTEM)


def test_an_anonymous_box_slip_is_closed_when_answered(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = make_case(sessions, vault, "opinion", name=None, phone=None, channel="box").case.id
    case = _act(sessions, case_id, "answer_opinion", SUPERVISOR, reply="已增设座椅", disposition="作为整改参考")
    assert case.state == "closed" and "意见箱匿名意见，无法答复" in _last_note(sessions, case_id)
    # A rating or a suggestion without contact details still gets its answer on the tracking page.
    for channel, kind in (("evaluation", "rectification"), ("online", "suggestion")):
        other = make_case(sessions, vault, "handled", name=None, phone=None, channel=channel, kind=kind).case.id
        assert _act(sessions, other, "reply", SUPERVISOR, reply="已整改").state == "replied"


def test_an_opinion_referral_must_name_the_body(sessions: sessionmaker[Session], vault: Vault) -> None:
    case_id = make_case(sessions, vault, "opinion").case.id
    with pytest.raises(TransitionRefused, match="请写明转交的职能部门"):
        _act(sessions, case_id, "answer_opinion", SUPERVISOR, reply="已转交", disposition="转有关职能部门")
    case = _act(sessions, case_id, "answer_opinion", SUPERVISOR, reply="已转交", disposition="转有关职能部门",
                referral="县医疗保障局")  # fmt: skip
    assert (case.state, case.referral) == ("replied", "县医疗保障局")
    assert _last_note(sessions, case_id) == "转有关职能部门：已转交"


# Working days after each start, from the State Council's notices (not from the calendar library):
# National Day 2026 (1–7 October off, Saturday 10 October worked), Spring Festival 2026 (15–23 February off,
# Saturdays 14 and 28 February worked), and the 2025/2026 year end (1–3 January off, Sunday 4 January worked).
WORKDAYS = {
    date(2026, 9, 30): ["10-08", "10-09", "10-10", "10-12", "10-13", "10-14", "10-15", "10-16", "10-19", "10-20",
                        "10-21", "10-22", "10-23", "10-26", "10-27"],
    date(2026, 2, 13): ["02-14", "02-24", "02-25", "02-26", "02-27", "02-28", "03-02", "03-03", "03-04", "03-05",
                        "03-06", "03-09", "03-10", "03-11", "03-12"],
    date(2025, 12, 31): ["01-04", "01-05", "01-06", "01-07", "01-08", "01-09", "01-12", "01-13", "01-14", "01-15",
                         "01-16", "01-19", "01-20", "01-21", "01-22"],
}  # fmt: skip
STEPS = sorted({(t.name, t.effect.deadline) for t in states.TRANSITIONS.values() if t.effect.deadline})


def _expected(start: date, step: str) -> date:
    days = getattr(PROCEDURE, step).days
    if days == 0:
        return start
    month, day = WORKDAYS[start][days - 1].split("-")
    return date(start.year + (int(month) < start.month), int(month), int(day))


@pytest.mark.parametrize("start", list(WORKDAYS), ids=["national-day", "spring-festival", "year-end"])
@pytest.mark.parametrize(("name", "step"), STEPS, ids=[n for n, _ in STEPS])
def test_each_steps_deadline_across_holidays(sessions: sessionmaker[Session], vault: Vault, name: str, step: str,
                                             start: date) -> None:  # fmt: skip
    transition = states.TRANSITIONS[name]
    source = "expired" if "appeal_over" in transition.guards else sorted(transition.sources)[0]
    case_id = make_case(sessions, vault, source).case.id
    reason = "不满意" if name == "unsatisfied" else "x"
    inputs = {**_inputs(name), "reason": reason}
    case = _act(sessions, case_id, name, workflow.Actor("someone", sorted(transition.roles)[0]),
                replace(CTX, today=start), **inputs)  # fmt: skip
    if case.state not in states.FINAL:
        assert case.deadline == _expected(start, step)


def test_submission_on_the_eve_of_a_holiday_is_due_after_it(sessions: sessionmaker[Session], vault: Vault) -> None:
    with db.transaction(sessions) as session:
        receipt = workflow.submit(
            session, vault, submission(), workflow.CITIZEN, replace(CTX, today=date(2025, 12, 31))
        )
    assert receipt.case.deadline == date(2026, 1, 5)


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
    "reason": "不属于本局职责", "referral": "县市场监督管理局", "reply": "已答复", "opinion": "请核实",
    "window": "county-hall:1", "handling": "已处理", "rectification": "已整改", "verification": "属实",
    "disposition": "作为整改参考", "method": "电话", "result": "满意",
}  # fmt: skip
# The state a case must really be in for a guarded transition to be allowed, and inputs its guards need.
PREPARED = {"expire": "expired"}
OVERRIDES = {"reissue_order": {"window": "county-hall:5"}}  # not the window that returned the order


def _inputs(name: str) -> dict[str, Any]:
    return {key: OVERRIDES.get(name, {}).get(key, SAMPLE[key]) for key in states.TRANSITIONS[name].fields()}


ALLOWED = [(t.name, state, sorted(t.roles)[0]) for t in states.TRANSITIONS.values() for state in sorted(t.sources)]
REFUSED_STATES = [(t.name, state, sorted(t.roles)[0]) for t in states.TRANSITIONS.values()
                  for state in sorted(set(states.STATES) - t.sources)]  # fmt: skip


@pytest.mark.parametrize(("name", "state", "role"), ALLOWED, ids=[f"{n}-{s}" for n, s, _ in ALLOWED])
def test_every_allowed_transition(
    sessions: sessionmaker[Session], vault: Vault, name: str, state: str, role: str
) -> None:
    case_id = make_case(sessions, vault, PREPARED.get(name, state)).case.id
    transition, effect = states.TRANSITIONS[name], states.TRANSITIONS[name].effect
    case = _act(sessions, case_id, name, workflow.Actor("someone", role), **_inputs(name))
    assert case.state == transition.target
    assert case.category == (effect.category or None)  # the factory's cases start unclassified
    if effect.deadline and case.state not in states.FINAL:
        assert case.deadline == CTX.due(getattr(PROCEDURE, effect.deadline))
    if case.state in states.FINAL:
        assert case.deadline is None and case.closed_at is not None
    if effect.resolution:
        assert case.resolution == SAMPLE[effect.resolution]
    with sessions() as session:
        stored = session.get_one(Case, case_id)
        event = stored.events[-1]
        assert (event.action, event.from_state, event.to_state, event.role) == (name, state, case.state, role)
        if effect.extend:
            assert (event.note or "").startswith(f"答复期限延至 {stored.deadline:%Y-%m-%d}")
        else:
            assert event.at is not None and (event.note or "") == transition.audit.format(**_inputs(name))
        if effect.order == "issue":
            assert stored.orders[-1].round == stored.round and stored.orders[-1].assignee == ASSIGNED
            place = f"{stored.office}:{stored.window}"
            assert (place, stored.orders[-1].deadline) == (_inputs(name)["window"], stored.deadline)
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
    assert (case.state, case.category, case.deadline) == ("verifying", "立案处理类", date(2026, 10, 8))  # 1 day
    case = _act(sessions, case_id, "verify", INTAKE, verification="电话回访，情况属实")
    assert (case.state, case.deadline) == ("filed", date(2026, 10, 10))  # then 3 working days to rectify
    with sessions() as session:
        event = session.get_one(Case, case_id).events[-2]
        assert (event.action, event.actor, event.role, event.note) == ("open_rectification", "系统", "system",
                                                                        "差评自动立案，待回访核实")  # fmt: skip
    with pytest.raises(TransitionRefused, match="您的角色不能执行"):
        _act(sessions, make_case(sessions, vault).case.id, "open_rectification", INTAKE)


def test_deadlines_in_calendar_days_count_every_day(sessions: sessionmaker[Session], vault: Vault) -> None:
    calendar_days = replace(CTX, procedure=PROCEDURE.model_copy(update={"reply": PROCEDURE.reply.model_copy(
        update={"unit": "日"})}))  # fmt: skip
    case = _act(sessions, _submit(sessions, vault).case.id, "file", INTAKE, calendar_days)
    assert case.deadline == TODAY + timedelta(days=5)


def test_a_return_in_the_resupervision_round_keeps_the_first_supervisor_out(sessions: sessionmaker[Session],
                                                                            vault: Vault) -> None:  # fmt: skip
    case_id = _submit(sessions, vault).case.id
    _act(sessions, case_id, "file", INTAKE)
    _act(sessions, case_id, "issue_order", SUPERVISOR, **ORDER)
    _act(sessions, case_id, "record_handling", LEAD, handling="已处理")
    _act(sessions, case_id, "reply", SUPERVISOR, reply="已答复")
    _act(sessions, case_id, "unsatisfied", workflow.CITIZEN, reason="不满意")
    _act(sessions, case_id, "issue_order", OTHER_SUPERVISOR, **ORDER)
    _act(sessions, case_id, "return_order", LEAD, reason="不属于本窗口")
    with pytest.raises(TransitionRefused, match="复督须由签发原督办单"):
        _act(sessions, case_id, "reissue_order", SUPERVISOR, opinion="请5号窗口核实", window="county-hall:5")
    case = _act(sessions, case_id, "reissue_order", OTHER_SUPERVISOR, opinion="请5号窗口核实", window="county-hall:5")
    assert case.state == "supervising"


def test_resupervision_after_a_reply_without_an_order_excludes_who_replied(sessions: sessionmaker[Session],
                                                                           vault: Vault) -> None:  # fmt: skip
    case_id = _submit(sessions, vault).case.id
    _act(sessions, case_id, "opinion", INTAKE)
    _act(sessions, case_id, "answer_opinion", SUPERVISOR, reply="已采纳", disposition="作为整改参考")
    _act(sessions, case_id, "unsatisfied", workflow.CITIZEN, reason="没有回应")
    with pytest.raises(TransitionRefused, match="复督须由"):
        _act(sessions, case_id, "issue_order", SUPERVISOR, **ORDER)
    assert _act(sessions, case_id, "issue_order", OTHER_SUPERVISOR, **ORDER).state == "supervising"
