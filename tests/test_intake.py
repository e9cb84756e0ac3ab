"""登记: the intake clerk registers complaints from every channel but the web form, with a 首问负责人 by 工号."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from forms_api.models import Case, User
from forms_api.workflow import no_reply_owed
from tests.conftest import login, submit_form

URL = "/staff/register"
SLIP = {"target": "window:county-hall:1", "matter": "窗口人员午休提前离岗", "name": "李四", "phone": "13900001111",
        "first_receiver": "QX0117"}  # fmt: skip


@pytest.fixture
def clerk(client: FlaskClient, make_user: Callable[..., str]) -> FlaskClient:
    """The intake clerk, logged in."""
    make_user("clerk", "intake")
    login(client, "clerk")
    return client


def _case(app: Flask) -> Case:
    with app.extensions["sessions"]() as session:
        return session.scalars(select(Case)).one()


def _count(app: Flask) -> int:
    with app.extensions["sessions"]() as session:
        return len(session.scalars(select(Case.id)).all())


def _register(clerk: FlaskClient, **data: str) -> tuple[int, str]:
    response = submit_form(clerk, URL, {**SLIP, **data})
    return response.status_code, response.get_data(as_text=True)


def test_the_form_lists_the_channels_and_the_staff(clerk: FlaskClient, app: Flask) -> None:
    html = clerk.get(URL).get_data(as_text=True)
    channel = re.search(r'<select[^>]*name="channel".*?</select>', html, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(r"<option[^>]*>([^<]+)</option>", channel) == ["现场", "电话", "信函", "12345转办", "意见箱"]
    assert "网上" not in channel  # the citizens' own form
    assert re.search(r'<option value="QX0117">QX0117 俞倩</option>', html)
    assert "首问负责人（工号）" in html and "12345工单号（选填）" in html and "<script" not in html
    with app.test_request_context():
        from flask import url_for

        assert url_for("intake.register") == URL


@pytest.mark.parametrize("channel", ["onsite", "phone", "letter", "hotline", "box"])
def test_every_channel_registers(clerk: FlaskClient, app: Flask, channel: str) -> None:
    status, receipt = _register(clerk, channel=channel)
    assert status == 200 and re.search(r"<dd>TS\d{14}</dd>", receipt) and re.search(r'href="/staff/case/\d+"', receipt)
    case = _case(app)
    assert case.channel == channel and case.first_receiver == "俞倩（QX0117）"
    assert case.business_no is None and not no_reply_owed(case)


def test_an_unsigned_box_slip_is_anonymous(clerk: FlaskClient, app: Flask) -> None:
    status, _ = _register(clerk, channel="box", name="", phone="")
    assert status == 200
    case = _case(app)
    assert case.name_enc is None and case.phone_enc is None and no_reply_owed(case)
    html = clerk.get(f"/staff/case/{case.id}").get_data(as_text=True)
    assert "意见箱" in html and "窗口人员午休提前离岗" in html


def test_a_box_slip_may_give_a_phone_only(clerk: FlaskClient, app: Flask) -> None:
    assert _register(clerk, channel="box", name="", phone="１３９ 0000 1111")[0] == 200
    case = _case(app)
    assert case.name_enc is None and case.phone_enc is not None and not no_reply_owed(case)


def test_the_12345_number_is_kept(clerk: FlaskClient, app: Flask) -> None:
    assert _register(clerk, channel="hotline", hotline_no=" 12345-20261123-0042 ")[0] == 200
    case = _case(app)
    assert case.channel == "hotline" and case.business_no == "12345-20261123-0042"
    assert "12345-20261123-0042" in clerk.get(f"/staff/case/{case.id}").get_data(as_text=True)


def test_the_clerks_own_badge_is_preselected(clerk: FlaskClient, app: Flask) -> None:
    with app.extensions["sessions"].begin() as session:
        session.execute(update(User).where(User.username == "clerk").values(badge="QX0109"))
    html = clerk.get(URL).get_data(as_text=True)
    assert re.search(r'<option selected value="QX0109">QX0109 何文杰</option>', html)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"channel": "phone", "name": ""}, "name", "请填写姓名"),
        ({"channel": "onsite", "phone": ""}, "phone", "请填写联系电话"),
        ({"channel": "hotline", "name": "", "phone": ""}, "name", "请填写姓名"),
        ({"channel": "box", "name": "", "phone": "12"}, "phone", "请输入11位手机号码"),
        ({"channel": "online"}, "channel", "不是有效的选择"),
        ({"channel": "evaluation"}, "channel", "不是有效的选择"),
        ({"channel": "phone", "first_receiver": ""}, "first_receiver", "请选择首问负责人"),
        ({"channel": "phone", "first_receiver": "王五"}, "first_receiver", "不是有效的选择"),
        ({"channel": "phone", "first_receiver": "QX9999"}, "first_receiver", "不是有效的选择"),
        ({"channel": "phone", "hotline_no": "20261123"}, "hotline_no", "只有来源为“12345转办”时才填写工单号"),
        ({"channel": "hotline", "hotline_no": "12345 号"}, "hotline_no", "工单号只能包含字母、数字和连字符"),
        ({"channel": "hotline", "hotline_no": "A" * 41}, "hotline_no", "工单号最多 40 个字符"),
        ({"channel": "letter", "target": ""}, "target", "请选择投诉对象"),
        ({"channel": "letter", "matter": ""}, "matter", "请填写投诉事项"),
    ],
)
def test_bad_input_is_explained(clerk: FlaskClient, app: Flask, data: dict[str, str], field: str, message: str) -> None:
    status, html = _register(clerk, **data)
    assert status == 400
    shown = re.search(rf'<div id="{field}-error">(.*?)</div>', html, re.S)
    assert shown and message in shown.group(1), (field, message)
    assert _count(app) == 0


@pytest.mark.parametrize(("user", "status"), [("boss", 403), ("audit", 403), (None, 302)])
def test_only_the_intake_clerk_registers(
    client: FlaskClient, make_user: Callable[..., str], user: str | None, status: int
) -> None:
    make_user("boss", "supervisor")
    make_user("audit", "auditor")
    if user:
        login(client, user)
    assert client.get(URL).status_code == status
