"""我要投诉: good and bad input, the receipt after commit, idempotency, CSRF, honeypot, size cap."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from forms_api.models import Case, CaseEvent
from tests.conftest import form_fields, submit_form
from tests.factories import complaint_data

URL = "/forms/complaint/"
GOOD = complaint_data()


def _count(app: Flask, model: type = Case) -> int:
    with app.extensions["sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_form_works_without_javascript_and_shows_privacy_notice(client: FlaskClient) -> None:
    html = client.get(URL).get_data(as_text=True)
    assert "<script" not in html
    assert "个人信息收集说明" in html and "保存期限" in html and "青溪县人力资源和社会保障局" in html
    assert 'name="csrf_token"' in html and 'name="token"' in html


def test_prefilled_from_a_service_link(client: FlaskClient) -> None:
    html = client.get(URL + "?service=JY-001").get_data(as_text=True)
    assert re.search(r'<option selected value="service:JY-001">|<option value="service:JY-001" selected', html)


def test_good_complaint_gives_receipt_after_commit(client: FlaskClient, app: Flask) -> None:
    response = submit_form(client, URL, GOOD)
    assert response.status_code == 303 and response.headers["Location"].endswith("/forms/complaint/done")
    assert _count(app) == 1 and _count(app, CaseEvent) == 1
    page = client.get("/forms/complaint/done").get_data(as_text=True)
    receipt = re.search(r"<dt>受理编号</dt><dd>(TS\d{14})</dd><dt>查询码</dt><dd>([A-Z2-9]{8})</dd>", page)
    assert receipt, page
    assert client.get("/forms/complaint/done").status_code == 302  # shown once
    with app.extensions["sessions"]() as session:
        case = session.scalars(select(Case)).one()
        assert case.receipt_no == receipt.group(1)
        assert case.target_label.endswith("1 号就业登记窗口") and case.office == "county-hall"
        assert "13812345678" not in str(case.phone_enc) and "1101051949" not in str(case.id_number_enc)


def test_double_submit_creates_one_complaint(client: FlaskClient, app: Flask) -> None:
    html = client.get(URL).get_data(as_text=True)
    data = {**form_fields(html), **GOOD}
    first, second = client.post(URL, data=data), client.post(URL, data=data)
    assert first.status_code == second.status_code == 303
    assert _count(app) == 1


BAD = [
    ({"target": ""}, "请选择投诉对象"),
    ({"matter": ""}, "请填写投诉事项"),
    ({"matter": "很" * 2001}, "投诉事项最多 2000 个字"),
    ({"name": "   "}, "请填写姓名"),
    ({"phone": ""}, "请填写联系电话"),
    ({"phone": "12345"}, "请输入11位手机号码"),
    ({"phone": "1381234567"}, "请输入11位手机号码"),
    ({"id_number": "110105194912310021"}, "身份证号码有误"),
    ({"consent": ""}, "请阅读并同意个人信息收集说明"),
    ({"target": "other", "target_text": ""}, "请写明投诉对象"),
    ({"target": "window:nowhere:9"}, "不是有效的选择"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input_returns_form_with_message(client: FlaskClient, app: Flask, change: dict, message: str) -> None:
    response = submit_form(client, URL, {**GOOD, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "提交未成功" in html and _count(app) == 0


def test_landline_and_other_target_are_accepted(client: FlaskClient, app: Flask) -> None:
    data = {**GOOD, "phone": "0575-86123400", "target": "other", "target_text": "门口保安", "id_number": ""}
    assert submit_form(client, URL, data).status_code == 303
    with app.extensions["sessions"]() as session:
        assert session.scalars(select(Case)).one().target_label == "门口保安"


def test_missing_csrf_token_is_refused(client: FlaskClient, app: Flask) -> None:
    response = client.post(URL, data=GOOD)
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_honeypot_stores_nothing(client: FlaskClient, app: Flask) -> None:
    assert submit_form(client, URL, {**GOOD, "website": "http://spam.example"}).status_code == 400
    assert _count(app) == 0


def test_body_over_the_cap_is_413(client: FlaskClient) -> None:
    html = client.get(URL).get_data(as_text=True)
    response = client.post(URL, data={**form_fields(html), **GOOD, "matter": "x" * 70_000})
    assert response.status_code == 413 and "提交的内容太大" in response.get_data(as_text=True)


def test_user_cannot_set_state_or_assignee(client: FlaskClient, app: Flask) -> None:
    assert submit_form(client, URL, {**GOOD, "state": "closed", "window": "9", "category": "x"}).status_code == 303
    with app.extensions["sessions"]() as session:
        case = session.scalars(select(Case)).one()
        assert case.state == "received" and case.window == "1" and case.category is None


def test_suggestion_without_contact_details(client: FlaskClient, app: Flask) -> None:
    response = submit_form(client, "/forms/suggestion/", {"target": "", "content": "建议增加周六上午服务"})
    assert response.status_code == 303
    with app.extensions["sessions"]() as session:
        case = session.scalars(select(Case)).one()
        assert case.kind == "suggestion" and case.receipt_no.startswith("JY") and case.phone_enc is None
    receipt = client.get("/forms/complaint/done").get_data(as_text=True)
    assert "您的意见建议已保存" in receipt and "15个工作日内向您说明采纳情况" in receipt and "督办单" not in receipt


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"content": ""}, "请填写意见建议"),
        ({"content": "好", "phone": "123"}, "请输入11位手机号码"),
        ({"content": "好", "name": "王五"}, "留下姓名或电话时，请阅读并同意"),
    ],
)
def test_suggestion_bad_input(client: FlaskClient, app: Flask, data: dict[str, str], message: str) -> None:
    response = submit_form(client, "/forms/suggestion/", {"target": "", **data})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(app) == 0


# Every citizen's form, as it is first filled in and as the next person at a shared kiosk changes it.
REUSED_TOKEN = [
    ("/forms/complaint/", GOOD, {"matter": "另一位群众：窗口人员态度生硬", "name": "李四"}),
    ("/forms/suggestion/",
     {"target": "", "content": "建议增加等候座椅", "name": "王五", "phone": "13700001111", "consent": "y"},
     {"content": "建议午间不停办", "name": "赵六"}),
    ("/forms/evaluation/", {"target": "window:county-hall:1", "level": "1", "reason": "态度冷淡"},
     {"reason": "等了两个小时"}),
]  # fmt: skip


def _receipt_shown(client: FlaskClient, response: TestResponse) -> str:
    """The page that shows the receipt after a submission (the complaint forms redirect to it)."""
    if response.status_code == 303:
        return client.get(response.headers["Location"]).get_data(as_text=True)
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("url", "first", "change"), REUSED_TOKEN)
def test_a_reused_token_with_other_content_never_shows_the_first_receipt(
    client: FlaskClient, app: Flask, url: str, first: dict[str, str], change: dict[str, str]
) -> None:
    hidden = form_fields(client.get(url).get_data(as_text=True))
    shown = _receipt_shown(client, client.post(url, data={**hidden, **first}))
    numbers = re.findall(r"<dd>([A-Z0-9]{8,16})</dd>", shown)
    assert numbers, shown  # the first citizen's 受理编号 and 查询码
    cases = _count(app)
    second = client.post(url, data={**hidden, **first, **change})  # the saved page, someone else's content
    page = second.get_data(as_text=True)
    assert second.status_code == 409 and "这张表单已经提交过" in page
    assert not any(number in page for number in numbers)
    assert client.get("/forms/complaint/done").status_code == 302  # no receipt waits in the session either
    assert _count(app) == cases
    assert all(value in page for value in change.values())  # what the second citizen wrote is kept
    fresh = form_fields(page)
    assert fresh["token"] != hidden["token"]
    again = client.post(url, data={**fresh, **first, **change})
    assert again.status_code in (200, 303) and not any(n in _receipt_shown(client, again) for n in numbers)
