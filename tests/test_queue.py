"""The staff queue: counts per state, badges in working days, pages, filters applied by the database, a window
lead's own windows only, places by their Chinese names, and the indexes that keep it fast."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from forms_api import db, states
from forms_api.models import Case, User
from forms_api.queue import QueueFilters, _one_line, _page_query, _states_query, count_states, list_page
from tests.conftest import login

OPEN = [s for s in states.STATES if s not in states.FINAL]
FINISHED = sorted(states.FINAL)[0]
NEVER_LATE = sorted(states.NOT_OVERDUE)[0]  # a past deadline is not late in this state
HALL1 = "青溪县人力资源和社会保障服务大厅 1 号就业登记窗口"
HALL5 = "青溪县人力资源和社会保障服务大厅 5 号社保待遇窗口"
TOWN1 = "城关街道人力资源和社会保障所 1 号就业社保综合窗口"
FRIDAY = date(2026, 11, 27)


def add_cases(sessions: sessionmaker[Session], *cases: dict[str, Any]) -> list[int]:
    """Cases straight into the table, many at once (the engine's factory makes them one by one); each dict
    overrides the defaults, "at" is "office:window" (or None) and "no" the receipt number."""
    made = []
    with db.transaction(sessions) as session:
        for n, values in enumerate(cases):
            given = dict(values)
            office, _, window = (given.pop("at", "county-hall:1") or "").partition(":")
            row = {"receipt_no": given.pop("no", f"Q{uuid.uuid4().hex[:12]}"), "query_hash": "x", "kind": "complaint",
                   "channel": "online", "state": OPEN[0], "target_type": "window", "target_label": "1 号就业登记窗口",
                   "office": office or None, "window": window or None, "matter": f"第{n}件：排队两小时"}  # fmt: skip
            case = Case(**(row | given))
            session.add(case)
            made.append(case)
        session.flush()
        return [c.id for c in made]


@pytest.fixture
def staff(make_user: Callable[..., str]) -> None:
    make_user("boss", "supervisor")
    make_user("lead1", "window-lead", ["county-hall:1"])
    make_user("lead15", "window-lead", ["county-hall:1", "county-hall:5"])


@pytest.fixture
def on(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Make the queue's today a given day."""
    return lambda day: monkeypatch.setattr("forms_api.staff.today", lambda: day)


def _text(html: str) -> str:
    """What a reader sees: tags and attributes gone, whitespace folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _rows(html: str) -> dict[str, str]:
    """Each case's line of the queue as text, by receipt number, in the page's order."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    lines = [_text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S) if "/staff/case/" in row]
    return {line.split()[0]: line for line in lines}


def _counts(html: str) -> dict[str, int]:
    """The counts per state at the top of the page."""
    return {s: int(n) for s, n in re.findall(r'href="/staff/\?state=(\w+)"[^>]*>[^<]*<b>(\d+)</b>', html)}


def _options(html: str) -> list[str]:
    """The window filter's choices, as shown."""
    select = html.split('name="window">')[1].split("</select>")[0]
    return [_text(o) for o in re.findall(r'<option value="[^"]*"[^>]*>([^<]*)</option>', select)]


def _queue(client: FlaskClient, query: str = "") -> str:
    response = client.get(f"/staff/?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ------------------------------------------------------------------- counts
def test_counts_per_state_cover_what_the_user_may_see(app: Flask, client: FlaskClient, staff: None) -> None:
    add_cases(app.extensions["sessions"], *[{"state": OPEN[0]}] * 3, *[{"state": OPEN[1], "at": "county-hall:5"}] * 2,
              {"state": FINISHED, "at": "chengguan-suo:1"}, {"state": OPEN[1], "at": None})  # fmt: skip
    login(client, "boss")
    counts = _counts(_queue(client))
    assert set(counts) == set(states.STATES)  # every state is listed, with 0 where there is none
    assert {s: n for s, n in counts.items() if n} == {OPEN[0]: 3, OPEN[1]: 3, FINISHED: 1}
    assert _counts(_queue(client, "kind=suggestion"))[OPEN[0]] == 3  # the counts are the whole queue's
    login(client, "lead1")
    assert {s: n for s, n in _counts(_queue(client)).items() if n} == {OPEN[0]: 3}
    login(client, "lead15")
    assert {s: n for s, n in _counts(_queue(client)).items() if n} == {OPEN[0]: 3, OPEN[1]: 2}


def test_counts_of_a_lead_without_windows_are_empty(sessions: sessionmaker[Session]) -> None:
    add_cases(sessions, {}, {"at": "county-hall:5"})
    with sessions() as session:
        assert count_states(session, User(username="x", role="window-lead", windows=[])) == {}
        assert count_states(session, User(username="y", role="auditor", windows=[])) == {OPEN[0]: 2}


# ------------------------------------------------------------------- badges
@pytest.mark.parametrize(
    ("today", "next_workday", "after"),
    [
        (FRIDAY, date(2026, 11, 30), date(2026, 12, 1)),  # across a weekend
        (date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9)),  # across the National Day holiday
    ],
)
def test_badges_count_working_days(
    app: Flask, client: FlaskClient, staff: None, on: Callable[[date], None], today: date, next_workday: date,
    after: date,
) -> None:  # fmt: skip
    add_cases(app.extensions["sessions"],
              {"no": "LATE", "deadline": today - timedelta(days=1)}, {"no": "TODAY", "deadline": today},
              {"no": "HOLIDAY", "deadline": today + timedelta(days=2)}, {"no": "NEXT", "deadline": next_workday},
              {"no": "AFTER", "deadline": after}, {"no": "NONE", "deadline": None},
              {"no": "MET", "deadline": today - timedelta(days=1), "state": NEVER_LATE})  # fmt: skip
    on(today)
    login(client, "boss")
    rows = _rows(_queue(client, "all=1"))
    badges = {
        no: "已超期" if "已超期" in line else "即将到期" if "即将到期" in line else "" for no, line in rows.items()
    }
    assert badges == {"LATE": "已超期", "TODAY": "即将到期", "HOLIDAY": "即将到期", "NEXT": "即将到期",
                      "AFTER": "", "NONE": "", "MET": ""}  # fmt: skip
    # The filters of the same names pick exactly the cases with those badges, in the database.
    assert list(_rows(_queue(client, "all=1&overdue=1"))) == ["LATE"]
    assert set(_rows(_queue(client, "all=1&soon=1"))) == {"TODAY", "HOLIDAY", "NEXT"}
    assert set(_rows(_queue(client, "all=1&soon=1&overdue=1"))) == {"LATE", "TODAY", "HOLIDAY", "NEXT"}


# ---------------------------------------------------------------- the rows
def test_a_row_shows_kind_category_state_matter_place_handler_and_deadline(
    app: Flask, client: FlaskClient, staff: None, on: Callable[[date], None]
) -> None:
    matter = (
        "11月20日上午在1号窗口排队两小时，\n工作人员长时间离岗，电话也无人接听，希望核实并改进窗口管理，给群众一个说法"
    )
    add_cases(app.extensions["sessions"],
              {"no": "A1", "kind": "rectification", "category": "立案处理类", "matter": matter,
               "assignee": "陈晓燕（QX0101，就业登记岗A角）", "deadline": FRIDAY + timedelta(days=10)},
              {"no": "A2", "at": "chengguan-suo:1"}, {"no": "A3", "at": "county-hall:99"},
              {"no": "A4", "at": None})  # fmt: skip
    on(FRIDAY)
    login(client, "boss")
    html = _queue(client)
    rows = _rows(html)
    assert rows["A1"] == (f"A1 差评整改 立案处理类 {states.STATES[OPEN[0]]} 1 号就业登记窗口 "
                          f"{_one_line(matter)} {HALL1} 陈晓燕（QX0101，就业登记岗A角） 2026-12-07 "
                          f"{states.OWED[OPEN[0]]}")  # fmt: skip
    assert _one_line(matter).endswith("…") and "\n" not in _one_line(matter)
    assert "A2 投诉 未分类" in rows["A2"] and TOWN1 in rows["A2"] and "未指派" in rows["A2"]
    assert "青溪县人力资源和社会保障服务大厅 99 号窗口" in rows["A3"]  # a window since removed from the content
    assert "未指定窗口" in rows["A4"]
    assert re.search(r'<a href="/staff/case/\d+">A1</a>', html)
    # Places go by their Chinese names everywhere on the page, never by their keys.
    assert "county-hall" not in _text(html) and "chengguan-suo" not in _text(html)
    assert HALL1 in _options(html) and TOWN1 in _options(html)


@pytest.mark.parametrize(
    ("matter", "shown"),
    [
        ("排队两小时", "排队两小时"),
        ("字" * 40, "字" * 40),
        ("字" * 41, "字" * 40 + "…"),
        ("第一行\n\n  第二行\t第三行", "第一行 第二行 第三行"),
        ("字" * 10 + " " * 70, "字" * 10 + "…"),  # only the first 80 characters are read: there may be more
    ],
)
def test_the_matter_is_one_short_line(matter: str, shown: str) -> None:
    assert _one_line(matter) == shown


# ------------------------------------------------------------------- pages
def test_pages_of_fifty_with_links_that_keep_the_filters(app: Flask, client: FlaskClient, staff: None) -> None:
    base = date(2026, 12, 1)
    add_cases(app.extensions["sessions"],
              *[{"no": f"P{i:03d}", "deadline": base + timedelta(days=i)} for i in range(118)],
              {"no": "P118", "deadline": None}, {"no": "P119", "deadline": None})  # fmt: skip
    login(client, "boss")
    first = _queue(client, "kind=complaint")
    assert list(_rows(first)) == [f"P{i:03d}" for i in range(50)]
    assert "共 120 件 · 第 1 / 3 页" in _text(first) and "上一页" not in first
    assert 'href="/staff/?page=2&amp;kind=complaint" rel="next"' in first
    second = _queue(client, "kind=complaint&page=2")
    assert list(_rows(second)) == [f"P{i:03d}" for i in range(50, 100)]
    assert 'href="/staff/?page=1&amp;kind=complaint" rel="prev"' in second
    last = _queue(client, "kind=complaint&page=3")
    assert list(_rows(last))[-3:] == ["P117", "P118", "P119"]  # cases without a deadline come last
    assert len(_rows(last)) == 20 and "下一页" not in last


@pytest.mark.parametrize(
    ("page", "shown"),
    [("99", 3), ("1" * 40, 3), ("0", 1), ("-1", 1), ("abc", 1), ("²", 1), ("", 1), ("2.5", 1)],
)
def test_a_page_out_of_range_is_never_an_error(
    app: Flask, client: FlaskClient, staff: None, page: str, shown: int
) -> None:
    add_cases(app.extensions["sessions"], *[{}] * 101)
    login(client, "boss")
    assert f"第 {shown} / 3 页" in _text(_queue(client, f"page={page}"))


def test_an_empty_queue_is_one_empty_page(client: FlaskClient, staff: None) -> None:
    login(client, "boss")
    html = _queue(client, "page=7&overdue=1")
    assert "没有符合条件的案件" in html and "共 0 件 · 第 1 / 1 页" in _text(html)


# ----------------------------------------------------------------- filters
@pytest.fixture
def cases(sessions: sessionmaker[Session]) -> dict[str, int]:
    """One case per situation the filters tell apart (today is FRIDAY)."""
    names = ["hall1", "hall5", "town1", "finished", "soon"]
    ids = add_cases(sessions,
                    {"state": OPEN[0], "deadline": FRIDAY + timedelta(days=20)},
                    {"state": OPEN[1], "at": "county-hall:5", "deadline": FRIDAY - timedelta(days=3)},
                    {"state": OPEN[0], "at": "chengguan-suo:1", "kind": "suggestion"},
                    {"state": FINISHED, "deadline": FRIDAY - timedelta(days=30)},
                    {"state": OPEN[1], "at": "county-hall:5", "deadline": FRIDAY + timedelta(days=3)})  # fmt: skip
    return dict(zip(names, ids, strict=True))


def _found(sessions: sessionmaker[Session], user: User, **args: Any) -> set[int]:
    with sessions() as session:
        filters = QueueFilters.from_args({k: str(v) for k, v in args.items()})
        page = list_page(session, filters, user, FRIDAY, date(2026, 11, 30), 1)
    assert page.total == len(page.rows)
    return {row.id for row in page.rows}


def _user(role: str, windows: list[str] | None = None) -> User:
    return User(username="u", password_hash="x", role=role, windows=windows or [])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, {"hall1", "hall5", "town1", "soon"}),
        ({"all": 1}, {"hall1", "hall5", "town1", "soon", "finished"}),
        ({"state": FINISHED}, {"finished"}),
        ({"state": OPEN[1]}, {"hall5", "soon"}),
        ({"state": "nonsense"}, {"hall1", "hall5", "town1", "soon"}),
        ({"kind": "suggestion"}, {"town1"}),
        ({"kind": "nonsense"}, {"hall1", "hall5", "town1", "soon"}),
        ({"window": "county-hall:5"}, {"hall5", "soon"}),
        ({"window": "county-hall"}, {"hall1", "hall5", "town1", "soon"}),  # not a window: no filter
        ({"overdue": 1}, {"hall5"}),
        ({"overdue": 1, "all": 1}, {"hall5"}),  # a finished case is never overdue
        ({"soon": 1}, {"soon"}),
        ({"soon": 1, "overdue": 1, "window": "county-hall:5"}, {"hall5", "soon"}),
        ({"soon": 1, "kind": "suggestion"}, set()),
    ],
)
def test_filters(sessions: sessionmaker[Session], cases: dict[str, int], args: dict[str, Any], expected: set) -> None:
    assert _found(sessions, _user("supervisor"), **args) == {cases[name] for name in expected}


def test_a_window_lead_sees_only_their_windows(sessions: sessionmaker[Session], cases: dict[str, int]) -> None:
    assert _found(sessions, _user("window-lead", ["county-hall:1"])) == {cases["hall1"]}
    both = _user("window-lead", ["county-hall:1", "chengguan-suo:1"])
    assert _found(sessions, both) == {cases["hall1"], cases["town1"]}
    assert _found(sessions, _user("window-lead", [])) == set()
    # Asking for another window's cases does not widen what they see.
    assert _found(sessions, _user("window-lead", ["county-hall:1"]), window="county-hall:5") == set()


def test_filters_survive_a_round_trip_through_the_links() -> None:
    args = {"state": OPEN[0], "kind": "complaint", "window": "county-hall:1", "overdue": "1", "soon": "on", "all": "1"}
    filters = QueueFilters.from_args(args)
    assert QueueFilters.from_args(filters.to_args()) == filters
    assert QueueFilters.from_args({}).to_args() == {}


def test_a_window_lead_page_shows_only_their_windows(app: Flask, client: FlaskClient, staff: None) -> None:
    add_cases(app.extensions["sessions"], {"no": "MINE"}, {"no": "OTHER", "at": "county-hall:5"},
              {"no": "NOWHERE", "at": None})  # fmt: skip
    login(client, "lead1")
    html = _queue(client)
    assert list(_rows(html)) == ["MINE"]
    assert _options(html) == ["我负责的全部窗口", HALL1]
    assert HALL5 not in html
    assert _rows(_queue(client, "window=county-hall:5")) == {}
    login(client, "boss")
    assert set(_rows(_queue(client))) == {"MINE", "OTHER", "NOWHERE"}
    assert len(_options(_queue(client))) == 12  # 全部, and the 11 windows of the shipped content


# ----------------------------------------------------------------- indexes
@pytest.fixture
def sqlite_plan(tmp_path: Path) -> Iterator[Callable[[Any], str]]:
    """SQLite's EXPLAIN QUERY PLAN of a statement, on an empty migrated database."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    db.create_schema(engine)

    def plan(query: Any) -> str:
        # With bound parameters, as the app runs it: SQLite plans a literal LIMIT/OFFSET differently.
        compiled = query.compile(engine, compile_kwargs={"render_postcompile": True})
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            return " | ".join(str(row[-1]) for row in rows)

    yield plan
    engine.dispose()


@pytest.mark.parametrize(
    ("user", "args"),
    [
        (_user("supervisor"), {}),
        (_user("supervisor"), {"all": 1}),
        (_user("supervisor"), {"overdue": 1, "soon": 1}),
        (_user("window-lead", ["county-hall:1"]), {}),
        (_user("window-lead", ["county-hall:1", "chengguan-suo:2"]), {}),
    ],
)
def test_a_page_is_found_from_an_index_alone(
    sqlite_plan: Callable[[Any], str], user: User, args: dict[str, Any]
) -> None:
    """However deep the page, its cases are found without reading the table; one window's in order, unsorted."""
    filters = QueueFilters.from_args({k: str(v) for k, v in args.items()})
    plan = sqlite_plan(_page_query(filters, user, FRIDAY, date(2026, 11, 30), 50, 5000))
    inner = plan.split("SCAN anon_1")[0].split(" | ")  # the page's ids; then the 50 rows found are read and sorted
    reads = [step for step in inner if step.startswith(("SCAN cases", "SEARCH cases"))]
    assert reads and all("COVERING INDEX ix_cases_queue_order" in r or "COVERING INDEX ix_cases_window_queue" in r
                         for r in reads)  # fmt: skip
    if len(user.windows or []) <= 1:  # several windows' cases are merged by a sort of the index entries
        assert "TEMP B-TREE" not in " ".join(inner)


def test_a_leads_counts_come_from_the_window_index(sqlite_plan: Callable[[Any], str]) -> None:
    for windows in (["county-hall:1"], ["county-hall:1", "chengguan-suo:2"]):
        assert "COVERING INDEX ix_cases_window_queue" in sqlite_plan(_states_query(_user("window-lead", windows)))
