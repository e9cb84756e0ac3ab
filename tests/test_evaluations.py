"""我要评价: five levels, a reason for bad ratings, a 差评整改 case with its own deadline, counter QR codes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forms_api.models import Case, Evaluation
from tests.conftest import form_fields, login, submit_form

URL = "/forms/evaluation/"


def _count(app: Flask, model: type) -> int:
    with app.extensions["sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_counter_link_prefills_the_window(client: FlaskClient) -> None:
    html = client.get(URL + "?window=county-hall:3").get_data(as_text=True)
    assert re.search(r'<option selected value="window:county-hall:3">', html)
    assert html.count('type="radio"') == 5 and "<script" not in html


def test_good_rating_is_recorded_once(client: FlaskClient, app: Flask) -> None:
    html = client.get(URL).get_data(as_text=True)
    data = {**form_fields(html), "target": "service:JY-001", "level": "5"}
    assert client.post(URL, data=data).status_code == 200
    assert client.post(URL, data=data).status_code == 200  # double click
    assert _count(app, Evaluation) == 1 and _count(app, Case) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "window:county-hall:1", "level": "2", "reason": ""}, "请写明原因"),
        ({"target": "window:county-hall:1", "level": ""}, "请选择评价等级"),
        ({"target": "", "level": "4"}, "请选择评价对象"),
        ({"target": "window:county-hall:1", "level": "7"}, "不是有效的选择"),
    ],
)
def test_bad_input_is_explained(client: FlaskClient, app: Flask, data: dict[str, str], message: str) -> None:
    response = submit_form(client, URL, data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(app, Evaluation) == 0


def test_bad_rating_opens_a_rectification_case(client: FlaskClient, app: Flask, make_user: Callable[..., str]) -> None:
    response = submit_form(client, URL, {"target": "window:county-hall:1", "level": "1", "reason": "态度冷淡"})
    html = response.get_data(as_text=True)
    assert "已立案整改" in html and re.search(r"<dd>ZG\d{14}</dd>", html)
    with app.extensions["sessions"]() as session:
        case = session.scalars(select(Case)).one()
        rating = session.scalars(select(Evaluation)).one()
        assert case.kind == "rectification" and case.state == "filed" and case.deadline is not None
        assert rating.case_id == case.id and case.window == "1"
        assert [e.action for e in case.events] == ["submit", "open_rectification"]
    make_user("boss", "supervisor")
    login(client, "boss")
    assert "态度冷淡" in client.get(f"/staff/case/{case.id}").get_data(as_text=True)


def test_counter_qr_cards_for_staff(client: FlaskClient, make_user: Callable[..., str]) -> None:
    assert client.get(URL + "qr/").status_code == 302
    make_user("boss", "supervisor")
    login(client, "boss")
    html = client.get(URL + "qr/").get_data(as_text=True)
    assert html.count("<svg") == 11
    assert "http://127.0.0.1:8000/forms/evaluation/?window=county-hall:1" in html


def test_a_staff_member_can_be_rated_by_badge_number(client: FlaskClient, app: Flask) -> None:
    html = client.get(URL + "?staff=QX0101").get_data(as_text=True)
    assert re.search(r'<option selected value="staff:QX0101">工作人员 陈晓燕（工号 QX0101，就业登记岗）', html)
    assert submit_form(client, URL, {"target": "staff:QX0101", "level": "5"}).status_code == 200
    with app.extensions["sessions"]() as session:
        rating = session.scalars(select(Evaluation)).one()
        assert rating.target_type == "staff" and rating.window == "1"


def test_invalid_level_is_a_message_not_a_500(client: FlaskClient, app: Flask) -> None:
    response = submit_form(client, URL, {"target": "window:county-hall:1", "level": "x", "reason": ""})
    assert response.status_code == 400 and "不是有效的选择" in response.get_data(as_text=True)


def test_repeated_bad_rating_shows_the_same_receipt(client: FlaskClient, app: Flask) -> None:
    html = client.get(URL).get_data(as_text=True)
    data = {**form_fields(html), "target": "window:county-hall:1", "level": "1", "reason": "态度冷淡"}
    first, again = (
        client.post(URL, data=data).get_data(as_text=True),
        client.post(URL, data=data).get_data(as_text=True),
    )
    receipt = re.search(r"<dd>(ZG\d{14})</dd>", first).group(1)  # type: ignore[union-attr]
    assert receipt in again and _count(app, Case) == 1
