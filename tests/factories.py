"""Factories for test data: form bodies, staff accounts and cases in any state, built through the real code."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from core.procedure import Procedure
from core.workdays import WorkCalendar
from forms_api import dao, db, workflow
from forms_api.models import Case, SupervisionOrder
from forms_api.privacy import Vault

PASSWORD = "correct-horse-1"
REGISTERED = date(2026, 9, 30)  # the day before the National Day holiday: deadlines cross it
# States a case can only be in once a 督办单 has been issued.
WITH_ORDER = ("supervising", "extension_asked", "returned", "handled", "replied", "reopened")
PROCEDURE = Procedure.model_validate(
    yaml.safe_load((Path(__file__).parent.parent / "content/procedure.yml").read_text(encoding="utf-8"))
)
CONTEXT = workflow.Context(WorkCalendar(), REGISTERED, PROCEDURE)


def complaint_data(**overrides: str) -> dict[str, str]:
    """A valid 我要投诉 web form, with `overrides` (the hidden tokens come from the page)."""
    data = {
        "target": "window:county-hall:1",
        "matter": "11月20日上午在1号窗口排队两小时，工作人员长时间离岗",
        "demand": "希望核实并改进",
        "name": "张三",
        "phone": "138 1234 5678",
        "id_number": "11010519491231002X",
        "consent": "y",
    }
    return {**data, **overrides}


def api_complaint(**overrides: Any) -> dict[str, Any]:
    """A valid JSON body for POST /api/v1/complaints, with `overrides`."""
    body = {"target": "service:JY-001", "matter": "电话反映：办理失业登记被要求提供户口簿", "name": "赵六",
            "phone": "13900001111", "consent": True}  # fmt: skip
    return {**body, **overrides}


def submission(**overrides: Any) -> workflow.Submission:
    """What a citizen hands in for a complaint about window 1 of the county hall."""
    values: dict[str, Any] = {
        "kind": "complaint", "channel": "online", "target_type": "window", "target_ref": "window:county-hall:1",
        "target_label": "1 号就业登记窗口", "matter": "排队两小时无人办理", "name": "张三", "phone": "13812345678",
        "office": "county-hall", "window": "1", "token": uuid.uuid4().hex,
    }  # fmt: skip
    return workflow.Submission(**{**values, **overrides})


def make_user(sessions: sessionmaker[Session], name: str, role: str, windows: list[str] | None = None) -> str:
    """A staff account with the test password; returns the password."""
    with db.transaction(sessions) as session:
        return dao.add_user(session, name, role, windows or [], PASSWORD)


def make_case(
    sessions: sessionmaker[Session],
    vault: Vault,
    state: str = "received",
    window: str = "county-hall:1",
    **overrides: Any,
) -> workflow.Receipt:
    """A case submitted through the engine, then put straight into `state` at `window` (with a 督办单
    where the state implies one), for tests of what comes next."""
    office, _, number = window.partition(":")
    with db.transaction(sessions) as session:
        receipt = workflow.submit(session, vault, submission(office=office, window=number, **overrides),
                                  workflow.CITIZEN, CONTEXT)  # fmt: skip
    if state != "received":
        with db.transaction(sessions) as session:
            case = session.get_one(Case, receipt.case.id)
            case.state = state
            if state == "replied":  # answered today (by the tests' date and the clock's): 复督 may still be asked
                case.appeal_until = CONTEXT.calendar.add(max(date.today(), REGISTERED), PROCEDURE.appeal.days)
            if state == "expired":  # answered long ago: the 复督 window is over
                case.state, case.appeal_until = "replied", REGISTERED - timedelta(days=1)
            if state in WITH_ORDER:
                case.round = 1
                session.add(SupervisionOrder(case_id=case.id, round=1, opinion="请核实", deadline_days=3,
                                             deadline=REGISTERED, office=office, window=number,
                                             issued_by="boss"))  # fmt: skip
    return receipt
