"""我要评价: five levels, a reason for bad ratings, a 差评整改 case with its own deadline, counter QR codes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

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
        ({"target": "window:county-hall:1", "level": "4", "business_no": "QX 2026"}, "只能包含字母、数字和连字符"),
        ({"target": "window:county-hall:1", "level": "4", "business_no": "办件0001"}, "办件编号只能包含字母"),
        ({"target": "window:county-hall:1", "level": "4", "business_no": "A" * 41}, "办件编号最多 40 个字符"),
        ({"target": "service:JY-003", "level": "4", "window": "county-hall:1"}, "该事项不在所选窗口办理"),
        ({"target": "service:JY-001", "level": "4", "window": "county-hall:5"}, "该事项不在所选窗口办理"),
    ],
)
def test_bad_input_is_explained(client: FlaskClient, app: Flask, data: dict[str, str], message: str) -> None:
    response = submit_form(client, URL, data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(app, Evaluation) == 0


def test_bad_rating_opens_a_rectification_case(client: FlaskClient, app: Flask, make_user: Callable[..., str]) -> None:
    response = submit_form(client, URL, {"target": "window:county-hall:1", "level": "1", "reason": "态度冷淡"})
    html = response.get_data(as_text=True)
    assert "差评已立案" in html and "1个工作日内回访核实，核实后3个工作日内整改" in html
    assert re.search(r"<dd>ZG\d{14}</dd>", html)
    with app.extensions["sessions"]() as session:
        case = session.scalars(select(Case)).one()
        rating = session.scalars(select(Evaluation)).one()
        assert case.kind == "rectification" and case.state == "verifying" and case.deadline is not None
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


# ------------------------------------------------------------------ 一事一评: the 办件编号
def _stored(app: Flask) -> tuple[Evaluation, Case | None]:
    with app.extensions["sessions"]() as session:
        return session.scalars(select(Evaluation)).one(), session.scalars(select(Case)).one_or_none()


def test_a_rating_names_one_piece_of_business(client: FlaskClient, app: Flask) -> None:
    html = client.get(URL).get_data(as_text=True)
    assert 'name="business_no"' in html and "办件编号（选填）" in html
    data = {"target": "window:county-hall:1", "level": "1", "reason": "材料被退回", "business_no": " QX-2026-000123 "}
    assert submit_form(client, URL, data).status_code == 200
    rating, case = _stored(app)
    assert rating.business_no == "QX-2026-000123" and case is not None and case.business_no == "QX-2026-000123"


def test_without_a_business_number_nothing_is_stored(client: FlaskClient, app: Flask) -> None:
    assert submit_form(client, URL, {"target": "window:county-hall:1", "level": "1", "reason": "慢"}).status_code == 200
    rating, case = _stored(app)
    assert rating.business_no is None and case is not None and case.business_no is None


def test_a_retry_must_repeat_the_business_number(client: FlaskClient, app: Flask) -> None:
    data = {**form_fields(client.get(URL).get_data(as_text=True)), "target": "window:county-hall:1", "level": "5",
            "business_no": "B-1"}  # fmt: skip
    assert client.post(URL, data=data).status_code == 200
    assert client.post(URL, data=data).status_code == 200  # the same rating again: recorded once
    other = client.post(URL, data={**data, "business_no": "B-2"})  # the token reused for another 办件
    assert other.status_code == 409 and _count(app, Evaluation) == 1


# ------------------------------------------------------------------ which window a service rating counts for
def _via(html: str) -> str:
    found = re.search(r'<input[^>]*name="via"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else ""


def _rate(client: FlaskClient, data: dict[str, str], page: str = URL) -> int:
    """Fill the form from `page` as a browser would (hidden fields included) and submit it."""
    html = client.get(page).get_data(as_text=True)
    return client.post(URL, data={**form_fields(html), "via": _via(html), **data}).status_code


@pytest.mark.parametrize(
    ("page", "data", "place"),
    [
        # handled at one window only: that window, whatever else is said
        (URL, {"target": "service:JY-003"}, ("county-hall", "2")),
        (URL + "?window=county-hall:5", {"target": "service:JY-003"}, ("county-hall", "2")),
        # several windows: the counter card the citizen scanned, if that window handles the service
        (URL + "?window=county-hall:2", {"target": "service:JY-001"}, ("county-hall", "2")),
        (URL + "?window=county-hall:2&service=JY-001", {"target": "service:JY-001"}, ("county-hall", "2")),
        # the citizen's own choice of 办理窗口, which wins over the card
        (URL, {"target": "service:JY-001", "window": "chengguan-suo:1"}, ("chengguan-suo", "1")),
        (URL + "?window=county-hall:2", {"target": "service:JY-001", "window": "county-hall:1"}, ("county-hall", "1")),
        # not known: two offices, so neither office nor window, and never the service's first window
        (URL, {"target": "service:JY-001"}, (None, None)),
        (URL + "?window=county-hall:5", {"target": "service:JY-001"}, (None, None)),
        # a window, post or staff member counts where it is; a window chosen for them is not used
        (URL, {"target": "window:county-hall:4", "window": "county-hall:1"}, ("county-hall", "4")),
        (URL + "?window=county-hall:2", {"target": "staff:QX0101"}, ("county-hall", "1")),
    ],
)
def test_a_service_rating_counts_for_the_window_that_handled_it(
    client: FlaskClient, app: Flask, page: str, data: dict[str, str], place: tuple[str | None, str | None]
) -> None:
    assert _rate(client, {"level": "1", "reason": "让我跑了两趟", **data}, page) == 200
    rating, case = _stored(app)
    assert (rating.office, rating.window) == place
    assert case is not None and (case.office, case.window) == place  # the 差评整改 case goes to the same place


def test_the_window_select_lists_only_windows_that_handle_services(client: FlaskClient) -> None:
    html = client.get(URL).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="window".*?</select>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "办理窗口（选填）" in html and "<script" not in html
    assert 'value="county-hall:1"' in select and 'value="chengguan-suo:2"' in select
    assert 'value="county-hall:9"' not in select  # 综合咨询 handles no service


def test_the_counter_card_window_is_carried_through_the_form(client: FlaskClient) -> None:
    assert _via(client.get(URL + "?window=county-hall:3").get_data(as_text=True)) == "county-hall:3"
    assert _via(client.get(URL + "?window=county-hall:99").get_data(as_text=True)) == ""  # no such window
    assert _via(client.get(URL + "?service=JY-001").get_data(as_text=True)) == ""


class TestOneOfficeSeveralWindows:
    """A service handled at two windows of one office: the office is known, the window only if chosen."""

    @pytest.fixture
    def app_overrides(self, edit: Callable[[str, str, str], Path]) -> dict[str, str]:
        path = edit("content/services/jy-qiye-yonggong-fuwu.yml", 'windows: ["2"]', 'windows: ["2", "3"]')
        return {"PORTAL_CONTENT": str(path.parent.parent)}

    def test_the_office_is_credited_without_a_window(self, client: FlaskClient, app: Flask) -> None:
        assert _rate(client, {"target": "service:JY-003", "level": "2", "reason": "等了很久"}) == 200
        rating, case = _stored(app)
        assert (rating.office, rating.window) == ("county-hall", None)
        assert case is not None and (case.office, case.window) == ("county-hall", None)

    def test_either_window_may_be_chosen(self, client: FlaskClient, app: Flask) -> None:
        assert _rate(client, {"target": "service:JY-003", "level": "5", "window": "county-hall:3"}) == 200
        assert _stored(app)[0].window == "3"


def test_a_case_with_no_known_window_is_still_supervised(
    client: FlaskClient, app: Flask, make_user: Callable[..., str]
) -> None:
    assert _rate(client, {"target": "service:JY-001", "level": "1", "reason": "让我跑了两趟"}) == 200
    case = _stored(app)[1]
    assert case is not None and case.office is None
    make_user("boss", "supervisor")
    login(client, "boss")
    assert client.get("/staff/").status_code == 200
    page = client.get(f"/staff/case/{case.id}")
    assert page.status_code == 200 and "让我跑了两趟" in page.get_data(as_text=True)


class TestCounterCardsUseThePublicAddress:
    """A counter card is printed from whatever address the staff member opened the backend at (an intranet name,
    127.0.0.1): its QR code and its printed URL must carry site_config's public site_url all the same."""

    PUBLIC = "https://rsj.qingxi.gov.cn/gongkai/"

    @pytest.fixture
    def app_overrides(self, edit: Callable[[str, str, str], Path]) -> dict[str, str]:
        path = edit("site_config.yml", "site_url: http://127.0.0.1:8000/", f"site_url: {self.PUBLIC}")
        return {"PORTAL_SITE_CONFIG": str(path)}

    def test_qr_and_url_text_carry_site_url(self, client: FlaskClient, make_user: Callable[..., str]) -> None:
        import segno

        client.environ_base["HTTP_HOST"] = "10.0.0.5:8000"  # the backend as opened on the hall's intranet
        make_user("boss", "supervisor")
        login(client, "boss")
        html = client.get(URL + "qr/").get_data(as_text=True)
        url = "https://rsj.qingxi.gov.cn/forms/evaluation/?window=county-hall:1"  # forms live at the host's root
        assert f"<small>{url}</small>" in html
        assert segno.make(url, error="m").svg_inline(scale=4, border=2) in html  # the code encodes the same
        assert "10.0.0.5" not in html and "127.0.0.1" not in html
