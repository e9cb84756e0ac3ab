"""The staff console: login and logout, the role × endpoint × ownership grid, masking, the whole flow."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms_api import admin, db
from forms_api.models import Case, User
from tests.conftest import form_fields, login, session_payload, submit_form
from tests.factories import complaint_data


@pytest.fixture
def staff(make_user: Callable[..., str]) -> None:
    make_user("clerk", "intake")
    make_user("boss", "supervisor")
    make_user("lead1", "window-lead", ["county-hall:1"])
    make_user("lead5", "window-lead", ["county-hall:5"])
    make_user("audit", "auditor")


def _case_id(app: Flask) -> int:
    with app.extensions["sessions"]() as session:
        return session.scalars(select(Case)).one().id


def _citizen_files(app: Flask) -> int:
    citizen = app.test_client()
    assert submit_form(citizen, "/forms/complaint/", complaint_data()).status_code == 303
    return _case_id(app)


def _posts_csrf(client: FlaskClient) -> str:
    """The CSRF token of the 岗位与AB角 page's forms."""
    html = client.get("/staff/posts").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _act(client: FlaskClient, case_id: int, name: str, data: dict[str, str] | None = None) -> str:
    page = client.get(f"/staff/case/{case_id}")
    response = client.post(
        f"/staff/case/{case_id}/{name}", data={**form_fields(page.get_data(as_text=True)), **(data or {})}
    )
    return (
        client.get(f"/staff/case/{case_id}").get_data(as_text=True)
        if response.status_code == 303
        else response.get_data(as_text=True)
    )


def test_there_is_no_default_account(client: FlaskClient) -> None:
    for name, password in (("admin", "admin"), ("admin", "correct-horse-1")):
        assert login(client, name, password).status_code == 401


def test_wrong_password_gives_one_message(client: FlaskClient, staff: None) -> None:
    response = login(client, "clerk", "wrong-password")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)


def test_login_cookie_flags(client: FlaskClient, staff: None) -> None:
    response = login(client, "clerk")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_refuses_a_replayed_cookie(client: FlaskClient, app: Flask, staff: None) -> None:
    login(client, "boss")
    stolen = client.get_cookie("session")
    assert stolen is not None
    html = client.get("/staff/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    client.post("/staff/logout", data={"csrf_token": csrf})
    replay = app.test_client()
    replay.set_cookie("session", stolen.value)
    assert replay.get("/staff/").status_code == 302  # back to the login page


GRID = [  # (role user, method, path template, expected status)
    (None, "get", "/staff/", 302),
    ("audit", "get", "/staff/", 200),
    ("audit", "get", "/staff/case/{id}", 200),
    ("audit", "get", "/staff/register", 403),
    ("lead1", "get", "/staff/case/{id}", 200),
    ("lead5", "get", "/staff/case/{id}", 403),
    ("clerk", "get", "/staff/register", 200),
    ("boss", "get", "/staff/register", 403),
]


@pytest.mark.parametrize(("user", "method", "path", "status"), GRID)
def test_role_endpoint_ownership_grid(
    client: FlaskClient, app: Flask, staff: None, user: str | None, method: str, path: str, status: int
) -> None:
    case_id = _citizen_files(app)
    if user:
        login(client, user)
    assert getattr(client, method)(path.format(id=case_id)).status_code == status


@pytest.mark.parametrize(
    ("user", "action"), [("audit", "file"), ("lead1", "file"), ("lead1", "refuse"), ("clerk", "reply")]
)
def test_actions_outside_the_role_are_refused(
    client: FlaskClient, app: Flask, staff: None, user: str, action: str
) -> None:
    case_id = _citizen_files(app)
    login(client, user)
    html = _act(client, case_id, action, {"reply": "x"})
    assert "您的角色不能执行" in html or "不能执行" in html
    with app.extensions["sessions"]() as session:
        assert session.get_one(Case, case_id).state == "received"


@pytest.mark.parametrize(("user", "shown", "hidden"), [
    ("clerk", "13812345678", "138****5678"), ("boss", "11010519491231002X", "110***********002X"),
    ("audit", "138****5678", "13812345678"), ("audit", "110***********002X", "11010519491231002X"),
    ("lead1", "投诉人信息不向窗口显示", "张"), ("lead1", "投诉人信息不向窗口显示", "138****5678"),
])  # fmt: skip
def test_personal_data_masked_except_for_roles_that_call_back(
    client: FlaskClient, app: Flask, staff: None, user: str, shown: str, hidden: str
) -> None:
    case_id = _citizen_files(app)
    login(client, user)
    html = client.get(f"/staff/case/{case_id}").get_data(as_text=True)
    assert shown in html and hidden not in html


def test_queue_shows_only_own_windows_to_a_window_lead(client: FlaskClient, app: Flask, staff: None) -> None:
    _citizen_files(app)
    login(client, "lead5")
    assert "TS" not in client.get("/staff/").get_data(as_text=True).split("<tbody>")[1]
    login(client, "lead1")
    html = client.get("/staff/").get_data(as_text=True)
    assert re.search(r">TS\d{14}<", html) and "1号窗口排队两小时" in html  # the matter's first words are listed


def test_whole_flow_with_resupervision(
    client: FlaskClient, app: Flask, staff: None, make_user: Callable[..., str]
) -> None:
    make_user("deputy", "supervisor")
    case_id = _citizen_files(app)
    login(client, "clerk")
    assert "已立案" in _act(client, case_id, "file")
    login(client, "boss")
    missing = _act(client, case_id, "issue_order", {"opinion": "", "window": ""})
    assert "请填写督办意见" in missing and "请选择责任窗口" in missing
    html = _act(client, case_id, "issue_order", {"opinion": "请核实离岗情况", "window": "county-hall:1"})
    assert "督办中" in html and "第 1 号督办单" in html and "陈晓燕（QX0101，就业登记岗A角）" in html
    login(client, "lead1")
    assert "延期待审批" in _act(client, case_id, "ask_extension", {"reason": "需调取监控"})
    login(client, "boss")
    assert "答复期限延至" in _act(client, case_id, "approve_extension")
    login(client, "lead1")
    assert "窗口已处理" in _act(
        client, case_id, "record_handling", {"handling": "已核实并批评教育", "rectification": "落实离岗告示"}
    )
    login(client, "boss")
    assert "已答复" in _act(client, case_id, "reply", {"reply": "经核实情况属实，已整改"})
    with app.extensions["sessions"]() as session:
        case = session.get_one(Case, case_id)
        receipt = case.receipt_no
    citizen = app.test_client()
    # The complainant is not satisfied: 复督 (the query code is theirs; read it back here).
    code = app.extensions["vault"].open(case.query_code_enc)
    data = {"receipt_no": receipt, "query_code": code, "action": "unsatisfied", "reason": ""}
    refused = submit_form(citizen, "/forms/track/act", data, page="/forms/track/")
    assert refused.status_code == 400 and "请写明不满意的理由" in refused.get_data(as_text=True)
    html = submit_form(citizen, "/forms/track/act", {**data, "reason": "仍有离岗"}, page="/forms/track/").get_data(
        as_text=True
    )
    assert "复督中" in html and "经核实情况属实，已整改" in html and "需调取监控" in html  # the extension's reason
    html = _act(client, case_id, "issue_order", {"opinion": "再次核实", "window": "county-hall:1"})
    assert "复督须由签发原督办单（或作出原答复）以外的督办员另行签发" in html
    login(client, "deputy")
    html = _act(client, case_id, "issue_order", {"opinion": "再次核实", "window": "county-hall:1"})
    assert "第 2 号督办单" in html
    assert html.count("→") >= 9  # every step is in the history


def test_stale_page_loses_to_the_first_action(client: FlaskClient, app: Flask, staff: None) -> None:
    case_id = _citizen_files(app)
    login(client, "clerk")
    stale = form_fields(client.get(f"/staff/case/{case_id}").get_data(as_text=True))
    _act(client, case_id, "file")
    client.post(
        f"/staff/case/{case_id}/refuse",
        data={**stale, "reason": "不属于受理范围", "referral": "县市场监管局"},
    )
    html = client.get(f"/staff/case/{case_id}").get_data(as_text=True)
    assert "不能执行「不予受理并告知去向」" in html  # the stale page lost; the message says why
    with app.extensions["sessions"]() as session:
        assert session.get_one(Case, case_id).state == "filed"


def test_intake_registers_a_phone_complaint(client: FlaskClient, app: Flask, staff: None) -> None:
    login(client, "clerk")
    data = {"channel": "phone", "target": "post:jiuye-dengji", "matter": "电话反映：窗口态度生硬", "name": "李四",
            "phone": "0575-86123456", "first_receiver": "QX0103"}  # fmt: skip
    response = submit_form(client, "/staff/register", data)
    receipt = response.get_data(as_text=True)
    assert response.status_code == 200 and re.search(r"<dd>TS\d{14}</dd>", receipt)
    assert re.search(r'href="/staff/case/\d+"', receipt)  # the clerk goes on to the case
    code = re.search(r"<dd>([A-Z2-9]{8})</dd>", receipt).group(1)  # type: ignore[union-attr]
    assert code not in session_payload(response)
    case_id = _case_id(app)
    html = client.get(f"/staff/case/{case_id}").get_data(as_text=True)
    assert "<td>电话，首问负责人 王丽娟（QX0103）</td>" in html


def test_absent_a_sends_new_orders_to_the_b(client: FlaskClient, app: Flask, staff: None) -> None:
    case_id = _citizen_files(app)
    login(client, "clerk")
    _act(client, case_id, "file")
    login(client, "boss")
    csrf = _posts_csrf(client)
    client.post("/staff/posts/jiuye-dengji/a/absent", data={"csrf_token": csrf})
    assert "不在岗" in client.get("/staff/posts").get_data(as_text=True)
    html = _act(client, case_id, "issue_order", {"opinion": "请核实", "window": "county-hall:1"})
    assert "周志强（QX0102，就业登记岗B角）" in html
    client.post("/staff/posts/jiuye-dengji/a/back", data={"csrf_token": csrf})
    assert "<strong>不在岗</strong>" not in client.get("/staff/posts").get_data(as_text=True)


def test_both_absent_go_to_the_head(client: FlaskClient, app: Flask, staff: None) -> None:
    case_id = _citizen_files(app)
    login(client, "clerk")
    _act(client, case_id, "file")
    login(client, "boss")
    csrf = _posts_csrf(client)
    for role in ("a", "b"):
        client.post(f"/staff/posts/jiuye-dengji/{role}/absent", data={"csrf_token": csrf})
    assert "单位负责人安排" in client.get("/staff/posts").get_data(as_text=True)
    html = _act(client, case_id, "issue_order", {"opinion": "请核实", "window": "county-hall:1"})
    assert "林国平（QX0100，单位负责人）" in html


def test_only_supervisors_mark_absence(client: FlaskClient, staff: None) -> None:
    login(client, "clerk")
    csrf = _posts_csrf(client)
    assert client.post("/staff/posts/jiuye-dengji/a/absent", data={"csrf_token": csrf}).status_code == 403
    login(client, "boss")
    csrf = _posts_csrf(client)
    assert client.post("/staff/posts/jiuye-dengji/c/absent", data={"csrf_token": csrf}).status_code == 404


def test_printable_register_and_order(client: FlaskClient, app: Flask, staff: None) -> None:
    case_id = _citizen_files(app)
    login(client, "clerk")
    _act(client, case_id, "file")
    login(client, "boss")
    _act(client, case_id, "issue_order", {"opinion": "请核实离岗情况", "window": "county-hall:1"})
    register = client.get(f"/staff/case/{case_id}/print/register").get_data(as_text=True)
    assert "投诉登记表" in register and "13812345678" in register and "立案处理类" in register
    order = client.get(f"/staff/case/{case_id}/print/order/1").get_data(as_text=True)
    assert "投诉督办单" in order and "请核实离岗情况" in order and "13812345678" not in order
    assert client.get(f"/staff/case/{case_id}/print/order/2").status_code == 404
    login(client, "lead5")
    assert client.get(f"/staff/case/{case_id}/print/register").status_code == 403


def test_idle_session_expires(client: FlaskClient, staff: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from itsdangerous import timed

    login(client, "boss")
    assert client.get("/staff/").status_code == 200
    later = time.time() + 31 * 60  # the idle timeout is 30 minutes
    monkeypatch.setattr(timed.TimestampSigner, "get_timestamp", lambda self: int(later))
    monkeypatch.setattr(timed.time, "time", lambda: later)
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize("app_overrides", [{"PORTAL_SESSION_IDLE": "1000", "PORTAL_SESSION_MAX_AGE": "1"}])
def test_a_session_ends_after_its_absolute_lifetime(
    client: FlaskClient, staff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from forms_api import security

    login(client, "boss")
    start = time.time()
    for minutes in (20, 40, 59):  # busy all along: the idle timeout never runs out
        monkeypatch.setattr(security.time, "time", lambda m=minutes: start + m * 60)
        assert client.get("/staff/").status_code == 200
    monkeypatch.setattr(security.time, "time", lambda: start + 61 * 60)
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    ("change", "again"),
    [
        (lambda app: admin.set_active(app, "boss", active=False), 401),  # disabled: cannot log in either
        (lambda app: admin.reset_password(app, "boss", "a-new-password-1"), 401),  # the old password is gone
    ],
    ids=["disable", "reset-password"],
)
def test_disabling_or_resetting_ends_every_session(
    app: Flask, staff: None, change: Callable[[Flask], object], again: int
) -> None:
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        login(browser, "boss")
        assert browser.get("/staff/").status_code == 200
    change(app)
    assert all(browser.get("/staff/").status_code == 302 for browser in browsers)
    assert login(app.test_client(), "boss").status_code == again


MORE_GRID = [  # (user, path template, expected) for pages beyond the queue and the case
    ("lead1", "/staff/posts", 200),
    ("audit", "/forms/evaluation/qr/", 200),
    ("lead5", "/staff/case/{id}/print/register", 403),
    ("lead1", "/staff/case/{id}/print/register", 200),
    (None, "/staff/case/{id}", 302),
    (None, "/staff/posts", 302),
    ("audit", "/staff/case/999", 404),
]


@pytest.mark.parametrize(("user", "path", "status"), MORE_GRID)
def test_more_of_the_grid(
    client: FlaskClient, app: Flask, staff: None, user: str | None, path: str, status: int
) -> None:
    case_id = _citizen_files(app)
    if user:
        login(client, user)
    assert client.get(path.format(id=case_id)).status_code == status


def test_history_reads_in_chinese(client: FlaskClient, app: Flask, staff: None) -> None:
    case_id = _citizen_files(app)
    login(client, "clerk")
    html = _act(client, case_id, "file")
    assert "<td>登记</td>" in html and "<td>立案处理</td>" in html and "渠道：网上" in html
    assert ">submit<" not in html and "online" not in html


def test_a_window_lead_never_sees_a_complaint_about_themselves(client: FlaskClient, app: Flask, staff: None) -> None:
    with db.transaction(app.extensions["sessions"]) as session:  # lead1 is 陈晓燕, QX0101, at window 1
        session.scalars(select(User).where(User.username == "lead1")).one().badge = "QX0101"
    citizen = app.test_client()
    assert submit_form(citizen, "/forms/complaint/", complaint_data(target="staff:QX0101")).status_code == 303
    about_her = _case_id(app)
    login(client, "clerk")
    _act(client, about_her, "file")
    login(client, "boss")
    _act(client, about_her, "issue_order", {"opinion": "请核实", "window": "county-hall:1"})
    login(client, "lead1")
    assert client.get(f"/staff/case/{about_her}").status_code == 403
    assert client.get(f"/staff/case/{about_her}/print/order/1").status_code == 403
    with app.extensions["sessions"]() as session:
        receipt = session.get_one(Case, about_her).receipt_no
    assert receipt not in client.get("/staff/?all=1").get_data(as_text=True)
