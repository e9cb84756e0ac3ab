"""Staff as people read them (「王丽娟（工号 QX0103）」), places by their Chinese names, and the accounts behind."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.catalogue import Catalogue
from forms_api import dao, db, people, workflow
from forms_api.errors import InvalidInput
from forms_api.models import Case, SupervisionOrder, User
from tests.conftest import login
from tests.factories import CONTEXT, PASSWORD, make_case, submission

DIRECTORY = {"QX0103": "王丽娟", "QX0117": "俞倩"}


def add_staff(sessions: sessionmaker[Session], name: str, role: str, real_name: str | None = None,
              badge: str | None = None, windows: list[str] | None = None) -> str:  # fmt: skip
    """An account with a real name and 工号 (tests.factories.make_user makes them without)."""
    with db.transaction(sessions) as session:
        return dao.add_user(session, name, role, windows or [], PASSWORD, real_name=real_name, badge=badge)


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize(
    ("real_name", "badge", "shown"),
    [
        ("王丽娟", "QX0103", "王丽娟（工号 QX0103）"),
        ("王丽娟", None, "王丽娟"),
        (None, None, "wang"),
        (None, "QX0103", "wang"),
    ],
)
def test_user_label(real_name: str | None, badge: str | None, shown: str) -> None:
    assert people.user_label(User(username="wang", real_name=real_name, badge=badge)) == shown


def test_staff_label_finds_the_account_in_any_spelling(sessions: sessionmaker[Session]) -> None:
    add_staff(sessions, "Wang", "intake", "王丽娟", "QX0103")
    add_staff(sessions, "old", "auditor")  # made before accounts carried a real name
    with sessions() as session:
        assert people.staff_label(session, "ＷＡＮＧ") == "王丽娟（工号 QX0103）"
        assert people.staff_label(session, "old") == "old"
        assert people.staff_label(session, None) == ""


@pytest.mark.parametrize("stored", ["系统", "投诉人", "接口:12345", "portal purge", "俞倩（QX0117）"])
def test_staff_label_keeps_what_is_not_an_account(sessions: sessionmaker[Session], stored: str) -> None:
    add_staff(sessions, "系统", "intake", "冒名者", "X1")  # an account must not pass itself off as the system
    with sessions() as session:
        assert people.staff_label(session, stored) == stored


@pytest.mark.parametrize(
    ("office", "window", "shown"),
    [
        ("county-hall", "1", "青溪县人力资源和社会保障服务大厅 1 号就业登记窗口"),
        ("county-hall", None, "青溪县人力资源和社会保障服务大厅"),
        ("county-hall", "99", "青溪县人力资源和社会保障服务大厅 99 号"),  # a window since removed from the content
        ("closed-office", "2", "closed-office 2 号"),
        (None, None, "—"),
    ],
)
def test_window_label(catalogue: Catalogue, office: str | None, window: str | None, shown: str) -> None:
    assert people.window_label(catalogue, office, window) == shown


def test_filters_are_registered(app: Flask) -> None:
    with app.test_request_context():
        render = app.jinja_env.from_string(
            "{{ 'county-hall'|place('1') }}|{{ place('county-hall', '9') }}|{{ '系统'|staff_label }}"
        )
        assert render.render().split("|") == [
            "青溪县人力资源和社会保障服务大厅 1 号就业登记窗口",
            "青溪县人力资源和社会保障服务大厅 9 号综合咨询（首问）窗口",
            "系统",
        ]


# ---------------------------------------------------------------- accounts
def test_a_badge_in_the_content_brings_its_name(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session:
        dao.add_user(session, "yu", "intake", [], PASSWORD, badge=" ｑｘ０１１７ ", directory=DIRECTORY)
    with sessions() as session:
        user = dao.find_user(session, "yu")
        assert user is not None and (user.real_name, user.badge) == ("俞倩", "QX0117")


def test_old_callers_need_neither_name_nor_badge(sessions: sessionmaker[Session]) -> None:
    add_staff(sessions, "old", "intake")
    with sessions() as session:
        user = dao.find_user(session, "old")
        assert user is not None and (user.real_name, user.badge) == (None, None)


@pytest.mark.parametrize(
    ("real_name", "badge", "message"),
    [
        ("王丽娟", None, "请用 --badge 填写工号（如 QX0117）"),
        ("张三", "QX0103", "工号 QX0103 在岗位名单中的姓名是「王丽娟」，与 --real-name 填写的「张三」不一致"),
        (None, "QX9001", "工号 QX9001 不在岗位名单（content/posts.yml）中，请用 --real-name 填写姓名"),
        ("李督办", "QX 9001", "工号「QX 9001」无效：只能由字母、数字、- 和 _ 组成，最长 20 个字符"),
        ("李督办", "Q" * 21, "最长 20 个字符"),
        ("李" * 41, "QX9001", "姓名最长 40 个字符"),
        ("俞倩", "qx0117", "工号 QX0117 已属于账号 taken"),
    ],
)
def test_add_user_refusals(sessions: sessionmaker[Session], real_name: str | None, badge: str | None,
                           message: str) -> None:  # fmt: skip
    add_staff(sessions, "taken", "intake", "俞倩", "QX0117")
    with db.transaction(sessions) as session, pytest.raises(InvalidInput, match=re.escape(message)):
        dao.add_user(session, "new", "intake", [], PASSWORD, real_name=real_name, badge=badge, directory=DIRECTORY)


def test_list_users_includes_disabled_accounts_by_name(sessions: sessionmaker[Session]) -> None:
    for name in ("zhou", "an", "ma"):
        add_staff(sessions, name, "intake")
    with db.transaction(sessions) as session:
        dao.set_active(session, "ma", False)
    with sessions() as session:
        assert [(u.username, u.active) for u in dao.list_users(session)] == [
            ("an", True),
            ("ma", False),
            ("zhou", True),
        ]


# -------------------------------------------------------------- print-outs
@pytest.fixture
def signed(app: Flask) -> int:
    """A 督办单 signed by a supervisor with a real name, handled by a window lead, for a case an intake
    clerk registered at the counter."""
    sessions = app.extensions["sessions"]
    add_staff(sessions, "boss", "supervisor", "李督办", "QX9001")
    add_staff(sessions, "lead", "window-lead", "俞倩", "QX0117", ["county-hall:1"])
    add_staff(sessions, "clerk", "intake", "王丽娟", "QX0103")
    receipt = make_case(sessions, app.extensions["vault"], "supervising")
    with db.transaction(sessions) as session:
        order = session.query(SupervisionOrder).filter_by(case_id=receipt.case.id).one()
        order.handled_by, order.handling = "lead", "已核实并整改"
        case = session.get_one(Case, receipt.case.id)
        case.events[0].actor, case.events[0].role = "clerk", "intake"
        case.first_receiver = "王丽娟（QX0103）"
    return receipt.case.id


def test_the_order_names_people_and_the_window(client: FlaskClient, signed: int) -> None:
    login(client, "boss")
    html = client.get(f"/staff/case/{signed}/print/order/1").get_data(as_text=True)
    assert "<td>青溪县人力资源和社会保障服务大厅 1 号就业登记窗口</td>" in html
    assert "county-hall" not in html and "<td>boss " not in html  # make_case's order is signed by "boss"
    assert "<td>李督办（工号 QX9001） " in html and "<td>俞倩（工号 QX0117）</td>" in html


def test_the_register_names_the_clerk(client: FlaskClient, signed: int) -> None:
    login(client, "boss")
    html = client.get(f"/staff/case/{signed}/print/register").get_data(as_text=True)
    assert "<td>王丽娟（QX0103）</td>" in html  # the 首问负责人 as recorded
    assert "登记人：王丽娟（工号 QX0103）　签名：" in html


def test_an_online_complaint_leaves_the_clerk_to_sign(app: Flask, client: FlaskClient) -> None:
    add_staff(app.extensions["sessions"], "boss", "supervisor", "李督办", "QX9001")
    with db.transaction(app.extensions["sessions"]) as session:
        case_id = workflow.submit(session, app.extensions["vault"], submission(), workflow.CITIZEN, CONTEXT).case.id
    login(client, "boss")
    html = client.get(f"/staff/case/{case_id}/print/register").get_data(as_text=True)
    assert "登记人：__________" in html and "投诉人　签名" not in html


def test_the_bar_shows_who_is_logged_in(client: FlaskClient, signed: int) -> None:
    login(client, "boss")
    html = client.get("/staff/").get_data(as_text=True)
    assert "李督办（工号 QX9001），督办员" in html
