"""进度查询: both numbers show one case and nothing else; withdraw; satisfied or not."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from forms_api import db, views, workflow
from forms_api.models import Case, CaseEvent
from tests.conftest import submit_form
from tests.factories import complaint_data, make_case


def engine_context_for(app: Flask, session: Session) -> workflow.Context:
    with app.test_request_context():
        return views.engine_context(session)


TRACK = "/forms/track/"


def _file(client: FlaskClient) -> tuple[str, str]:
    submit_form(client, "/forms/complaint/", complaint_data())
    page = client.get("/forms/complaint/done").get_data(as_text=True)
    found = re.search(r"<dd>(TS\d{14})</dd><dt>查询码</dt><dd>([A-Z2-9]{8})</dd>", page)
    assert found
    return found.group(1), found.group(2)


def test_status_needs_both_numbers(client: FlaskClient) -> None:
    receipt, code = _file(client)
    wrong = submit_form(client, TRACK, {"receipt_no": receipt, "query_code": "AAAAAAAA"})
    assert wrong.status_code == 404 and "受理编号或查询码不正确" in wrong.get_data(as_text=True)
    page = submit_form(client, TRACK, {"receipt_no": receipt.lower(), "query_code": code.lower()})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "待受理" in html and receipt in html
    assert "11月20日上午在1号窗口排队两小时" in html and "希望核实并改进" in html  # what they wrote
    assert "张三" not in html and "13812345678" not in html  # nothing personal echoed back


def test_missing_fields_are_named(client: FlaskClient) -> None:
    html = submit_form(client, TRACK, {"receipt_no": "", "query_code": ""}).get_data(as_text=True)
    assert "请填写受理编号" in html and "请填写查询码" in html


def test_withdraw_asks_for_confirmation_first(client: FlaskClient) -> None:
    receipt, code = _file(client)
    numbers = {"receipt_no": receipt, "query_code": code, "action": "withdraw"}
    asked = submit_form(client, "/forms/track/act", numbers, page=TRACK).get_data(as_text=True)
    assert "确定要撤销这件投诉吗？" in asked and "待受理" in asked  # nothing happened yet
    page = submit_form(client, "/forms/track/act", {**numbers, "confirm": "yes"}, page=TRACK)
    html = page.get_data(as_text=True)
    assert "已撤销投诉" in html and "已撤销" in html
    again = submit_form(client, "/forms/track/act", {**numbers, "confirm": "yes"}, page=TRACK)
    assert "不能执行「自愿撤销」" in again.get_data(as_text=True)


def test_the_receipt_says_what_happens_next(client: FlaskClient) -> None:
    submit_form(client, "/forms/complaint/", complaint_data())
    page = client.get("/forms/complaint/done").get_data(as_text=True)
    assert "已提交，等待受理" in page and "已受理" not in page
    assert re.search(r"将在 <strong>\d{4}-\d{2}-\d{2}</strong> 前受理", page) and "2个工作日内" in page
    assert "受理回执" in page and "5个工作日内答复您" in page and "10个工作日内申请复督" in page


def test_unknown_action_is_refused(client: FlaskClient, app: Flask) -> None:
    receipt, code = _file(client)
    page = submit_form(client, "/forms/track/act", {"receipt_no": receipt, "query_code": code, "action": "close"},
                       page=TRACK)  # fmt: skip
    assert page.status_code == 400


def _status(client: FlaskClient, receipt: workflow.Receipt) -> str:
    numbers = {"receipt_no": receipt.case.receipt_no, "query_code": receipt.query_code}
    return submit_form(client, TRACK, numbers).get_data(as_text=True)


def test_staff_notes_never_reach_the_complainant(client: FlaskClient, app: Flask) -> None:
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    receipt = make_case(sessions, vault, "supervising")
    with db.transaction(sessions) as session:  # due in the future by the clock, so the window may ask in time
        session.get_one(Case, receipt.case.id).deadline = date.today() + timedelta(days=3)
    moves = [("ask_extension", "window-lead", {"reason": "需调取监控"}, "窗口内部：投诉人较难沟通"),
             ("approve_extension", "supervisor", {}, "督办员内部：同意"),
             ("record_handling", "window-lead", {"handling": "已整改"}, None),
             ("reply", "supervisor", {"reply": "经核实已整改"}, "内部：已电话沟通两次")]  # fmt: skip
    for name, role, inputs, note in moves:
        with db.transaction(sessions) as session:
            case = session.get_one(Case, receipt.case.id)
            workflow.apply(session, case, name, workflow.Actor("staff", role), engine_context_for(app, session),
                           inputs, note=note)  # fmt: skip
    html = _status(client, receipt)
    assert "经核实已整改" in html and "理由：需调取监控" in html
    assert "内部" not in html and "较难沟通" not in html


def test_the_last_round_says_the_conclusion_is_final(client: FlaskClient, app: Flask) -> None:
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    receipt = make_case(sessions, vault, "replied")
    with db.transaction(sessions) as session:  # one 复督 round already taken
        session.add(CaseEvent(case_id=receipt.case.id, action="unsatisfied", from_state="replied",
                              to_state="reopened", actor="投诉人", role="citizen"))  # fmt: skip
    html = _status(client, receipt)
    assert "本次答复是复督结论，为最终处理意见" in html and "不满意，申请复督</button>" not in html
    numbers = {"receipt_no": receipt.case.receipt_no, "query_code": receipt.query_code}
    page = submit_form(
        client, "/forms/track/act", {**numbers, "action": "unsatisfied", "reason": "仍不满意"}, page=TRACK
    )
    done = page.get_data(as_text=True)
    assert "复督结论为最终处理意见，本案已办结" in done and "已办结" in done
