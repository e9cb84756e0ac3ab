"""进度查询: both numbers show one case and nothing else; withdraw; satisfied or not."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import submit_form
from tests.factories import complaint_data

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
