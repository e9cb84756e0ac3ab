"""What every view shares: times shown in the site's time zone on staff pages, print-outs and tracking."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms_api import dao, db, views
from forms_api.models import Case, User
from tests.conftest import form_fields, login, submit_form
from tests.factories import complaint_data, make_case, make_user


def _act(staff: FlaskClient, name: str, data: dict[str, str]) -> None:
    page = staff.get("/staff/case/1").get_data(as_text=True)
    assert staff.post(f"/staff/case/1/{name}", data={**form_fields(page), **data}).status_code == 303


def test_times_follow_site_config_timezone(project: Path, tmp_path: Path, database_url: str) -> None:
    from forms_api import create_app

    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("Asia/Shanghai", "Asia/Kathmandu"), encoding="utf-8")
    app = create_app({"DATABASE_URL": database_url, "PORTAL_INSTANCE": str(tmp_path / "i"),
                      "PORTAL_CONTENT": str(project / "content"), "PORTAL_SITE_CONFIG": str(config),
                      "RATELIMIT_STORAGE_URI": "memory://"})  # fmt: skip
    app.config["TESTING"] = True
    citizen: FlaskClient = app.test_client()
    assert submit_form(citizen, "/forms/complaint/", complaint_data()).status_code == 303
    receipt = citizen.get("/forms/complaint/done").get_data(as_text=True)
    numbers = dict(zip(("receipt_no", "query_code"), re.findall(r"<dd>([A-Z0-9]{8,})</dd>", receipt), strict=True))
    for name, role in (("clerk", "intake"), ("boss", "supervisor")):
        make_user(app.extensions["sessions"], name, role)
    staff = app.test_client()
    login(staff, "clerk")
    _act(staff, "file", {})
    login(staff, "boss")
    _act(staff, "issue_order", {"opinion": "请核实", "window": "county-hall:1"})
    pages = [staff.get("/staff/case/1").get_data(as_text=True),
             staff.get("/staff/case/1/print/register").get_data(as_text=True),
             staff.get("/staff/case/1/print/order/1").get_data(as_text=True),
             submit_form(citizen, "/forms/track/", numbers).get_data(as_text=True)]  # fmt: skip
    for html in pages:
        assert "+05:45" in html and "+08:00" not in html
    app.extensions["engine"].dispose()


# Who handles a case at county-hall:1 (就业登记岗: A 陈晓燕 QX0101, B 周志强 QX0102; 单位负责人 林国平 QX0100),
# by what the case names and who is away.
ROUTES = [
    ("window:county-hall:1", [], None, "陈晓燕（QX0101，就业登记岗A角）"),
    ("window:county-hall:1", ["a"], None, "周志强（QX0102，就业登记岗B角）"),
    ("window:county-hall:1", ["a", "b"], None, "林国平（QX0100，单位负责人）"),
    ("staff:QX0101", [], None, "周志强（QX0102，就业登记岗B角）"),  # never the person complained about
    ("staff:QX0102", [], None, "陈晓燕（QX0101，就业登记岗A角）"),
    ("staff:QX0101", ["b"], ("吴主任", "QX0199"), "吴主任（QX0199，窗口负责人）"),
    ("staff:QX0101", ["b"], ("陈晓燕", "QX0101"), "林国平（QX0100，单位负责人）"),  # the lead is the one named
    ("staff:QX0101", ["b"], None, "林国平（QX0100，单位负责人）"),
]


@pytest.mark.parametrize(("target", "away", "lead", "expected"), ROUTES)
def test_who_handles_a_case(app: Flask, target: str, away: list[str], lead: tuple[str, str] | None,
                            expected: str) -> None:  # fmt: skip
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    if lead:
        make_user(sessions, "lead1", "window-lead", ["county-hall:1"])
        with db.transaction(sessions) as session:
            user = session.scalars(select(User).where(User.username == "lead1")).one()
            user.real_name, user.badge = lead
    case_id = make_case(sessions, vault, "filed", target_ref=target, target_type=target.split(":")[0]).case.id
    with app.app_context(), db.transaction(sessions) as session:
        for role in away:
            dao.mark_absent(session, "jiuye-dengji", role, "boss")
    with app.app_context(), db.transaction(sessions) as session:
        case = session.get_one(Case, case_id)
        assert views.assignee(session, case) == expected


def test_a_named_person_away_from_another_post_leaves_its_routing_alone(app: Flask) -> None:
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    make_user(sessions, "lead5", "window-lead", ["county-hall:5"])
    case_id = make_case(
        sessions, vault, "filed", "county-hall:5", target_ref="staff:QX0101", target_type="staff"
    ).case.id
    with app.app_context(), db.transaction(sessions) as session:
        for role in ("a", "b"):
            dao.mark_absent(session, "shebao-daiyu", role, "boss")
    with app.app_context(), db.transaction(sessions) as session:
        assert views.assignee(session, session.get_one(Case, case_id)) == "林国平（QX0100，单位负责人）"
