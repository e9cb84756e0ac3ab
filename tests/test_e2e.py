"""The README's walk-through in Chromium, without JavaScript: the whole complaint procedure, 退单, who handles
a case when people are away or named, and the daily sweep."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask

from forms_api import create_app
from forms_api.admin import sweep
from tests.conftest import ROOT
from tests.factories import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists() and os.environ.get("PORTAL_REQUIRE_BROWSER") != "1":
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
from playwright.sync_api import Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def backend(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    """`portal serve` as `make run` starts it: site and backend on one origin (waitress); its address and app."""
    from waitress.server import create_server

    root = tmp_path_factory.mktemp("run")
    shutil.copytree(built_site, root / "site")
    app = create_app({"DATABASE_URL": f"sqlite:///{root / 'portal.db'}", "PORTAL_INSTANCE": str(root / "i"),
                      "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
                      "PORTAL_SITE_DIR": str(root / "site")})  # fmt: skip
    for name, role, windows in (("clerk", "intake", []), ("boss", "supervisor", []), ("deputy", "supervisor", []),
                                ("lead", "window-lead", ["county-hall:1"]),
                                ("lead5", "window-lead", ["county-hall:5"])):  # fmt: skip
        make_user(app.extensions["sessions"], name, role, windows)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}/", app
    server.close()


@pytest.fixture(scope="module")
def base_url(backend: tuple[str, Flask]) -> str:
    return backend[0]


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        args = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context(java_script_enabled=False)  # the forms must work without it
        yield context.new_page()
        browser.close()


def _login(page: Page, base: str, name: str) -> None:
    page.goto(base + "staff/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def _act(page: Page, legend: str, fields: dict[str, str] | None = None) -> None:
    form = page.locator("form.action", has=page.locator(f"legend:text-is('{legend}')"))
    for name, value in (fields or {}).items():
        target = form.locator(f"[name={name}]")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    form.locator("button[type=submit]").click()


def _open(page: Page, base: str, user: str, receipt: str) -> None:
    _login(page, base, user)
    page.click(f"text={receipt}")


def _complain(page: Page, base: str, target: str = "window:county-hall:1") -> tuple[str, str]:
    """A citizen follows 我要投诉 from a service page and files a complaint; the receipt's two numbers."""
    page.goto(base + "services/JY-001/")
    page.click("text=我要投诉 >> nth=0")
    page.select_option("#target", target)
    page.fill("#matter", "11月20日上午在1号窗口排队两小时，工作人员长时间离岗")
    page.fill("#demand", "希望核实并改进")
    page.fill("#name", "张三")
    page.fill("#phone", "13812345678")
    page.check("#consent")
    page.click("button[type=submit]")
    text = page.inner_text("main")
    assert "已提交，等待受理" in text and "2个工作日内" in text
    receipt = re.search(r"TS\d{14}", text).group(0)  # type: ignore[union-attr]
    code = re.search(r"查询码\s*([A-Z2-9]{8})", text).group(1)  # type: ignore[union-attr]
    return receipt, code


def _track(page: Page, base: str, receipt: str, code: str) -> str:
    page.goto(base + "forms/track/")
    page.fill("#receipt_no", receipt)
    page.fill("#query_code", code)
    page.click("main button[type=submit]")
    return page.inner_text("main")


def test_walkthrough(page: Page, base_url: str) -> None:
    receipt, code = _complain(page, base_url)
    # Intake classifies it; a supervisor issues the 督办单; the window asks for more time and gets it.
    _open(page, base_url, "clerk", receipt)
    _act(page, "立案处理")
    _open(page, base_url, "boss", receipt)
    _act(page, "签发督办单", {"opinion": "请核实离岗情况并整改", "window": "county-hall:1"})
    assert "督办中" in page.inner_text("main") and "陈晓燕（QX0101，就业登记岗A角）" in page.inner_text("main")
    _open(page, base_url, "lead", receipt)
    _act(page, "申请延期", {"reason": "需调取监控录像核实"})
    _open(page, base_url, "boss", receipt)
    _act(page, "批准延期")
    assert "答复期限延至" in page.inner_text("main")
    tracked = _track(page, base_url, receipt, code)
    assert "已批准延期：答复期限延至" in tracked and "需调取监控录像核实" in tracked  # the new deadline and why
    assert "11月20日上午在1号窗口排队两小时" in tracked and "希望核实并改进" in tracked  # what they wrote
    # The window handles it; the supervisor replies.
    _open(page, base_url, "lead", receipt)
    _act(page, "登记处理结果", {"handling": "情况属实，已批评教育", "rectification": "离岗须挂暂停服务牌"})
    _open(page, base_url, "boss", receipt)
    _act(page, "答复投诉人", {"reply": "经核实情况属实，已整改"})
    assert "已答复" in page.inner_text("main")
    # The complainant is not satisfied; a reason is required.
    text = _track(page, base_url, receipt, code)
    assert "经核实情况属实，已整改" in text and "您对答复是否满意？" in text
    page.click("text=不满意，申请复督")
    assert "请写明不满意的理由" in page.inner_text("main")
    page.fill("textarea[name=reason]", "仍有离岗，未说明如何避免")
    page.click("text=不满意，申请复督")
    assert "复督中" in page.inner_text("main")
    # 复督: the first supervisor may not issue it; another does.
    _open(page, base_url, "boss", receipt)
    _act(page, "签发督办单", {"opinion": "复督：请说明整改措施", "window": "county-hall:1"})
    assert "复督须由签发原督办单（或作出原答复）以外的督办员另行签发" in page.inner_text("main")
    _open(page, base_url, "deputy", receipt)
    _act(page, "签发督办单", {"opinion": "复督：请说明整改措施", "window": "county-hall:1"})
    _open(page, base_url, "lead", receipt)
    _act(page, "登记处理结果", {"handling": "已制定离岗登记制度"})
    _open(page, base_url, "deputy", receipt)
    _act(page, "答复投诉人", {"reply": "复督答复：已制定离岗登记制度"})
    # 回访 recorded: the case closes.
    _open(page, base_url, "clerk", receipt)
    _act(page, "登记回访", {"method": "电话", "result": "满意"})
    assert "已办结" in page.inner_text("main")
    text = _track(page, base_url, receipt, code)
    assert "已办结" in text and "复督答复：已制定离岗登记制度" in text and "您对答复是否满意？" not in text


def test_return_routing_and_sweep(page: Page, backend: tuple[str, Flask]) -> None:
    base_url, app = backend
    # 退单: window 1 returns a 督办单 that belongs to window 5; the supervisor sends it there.
    receipt, _ = _complain(page, base_url)
    _open(page, base_url, "clerk", receipt)
    _act(page, "立案处理")
    _open(page, base_url, "boss", receipt)
    _act(page, "签发督办单", {"opinion": "请核实", "window": "county-hall:1"})
    _open(page, base_url, "lead", receipt)
    _act(page, "退单", {"reason": "养老待遇问题由5号窗口办理"})
    _open(page, base_url, "boss", receipt)
    assert "督办单被退回" in page.inner_text("main") and "养老待遇问题由5号窗口办理" in page.inner_text("main")
    _act(page, "重新签发督办单", {"opinion": "请5号窗口核实", "window": "county-hall:5"})
    assert "何文杰（QX0109，社保待遇岗A角）" in page.inner_text("main")
    # Both A and B of 就业登记岗 away: the 单位负责人; a complaint naming 陈晓燕 never goes to her.
    _login(page, base_url, "boss")
    page.goto(base_url + "staff/posts")
    row = page.locator("tr", has=page.locator("td:text-is('就业登记岗')"))
    row.locator("button", has_text="标记不在岗").first.click()
    row = page.locator("tr", has=page.locator("td:text-is('就业登记岗')"))
    row.locator("button", has_text="标记不在岗").first.click()
    receipt, _ = _complain(page, base_url)
    _open(page, base_url, "clerk", receipt)
    _act(page, "立案处理")
    _open(page, base_url, "boss", receipt)
    _act(page, "签发督办单", {"opinion": "请核实", "window": "county-hall:1"})
    assert "林国平（QX0100，单位负责人）" in page.inner_text("main")
    page.goto(base_url + "staff/posts")
    row = page.locator("tr", has=page.locator("td:text-is('就业登记岗')"))
    row.locator("button", has_text="已返岗").first.click()  # the A is back, the B still away
    receipt, _ = _complain(page, base_url, target="staff:QX0101")
    _open(page, base_url, "clerk", receipt)
    _act(page, "立案处理")
    _open(page, base_url, "boss", receipt)
    _act(page, "签发督办单", {"opinion": "请核实", "window": "county-hall:1"})
    handler = page.locator("tr", has=page.locator("th:text-is('办理人')")).inner_text()
    assert "（lead，窗口负责人）" in handler, handler  # not 陈晓燕 herself, and her B is away
    # The daily sweep: a reply nobody answered within the 复督 window closes the case, once.
    receipt, code = _complain(page, base_url, target="window:county-hall:5")
    _open(page, base_url, "clerk", receipt)
    _act(page, "现场协调办结", {"reply": "已当场为您办理"})
    assert receipt not in sweep(app, date.today())[0]
    later = date.today() + timedelta(days=30)
    assert receipt in sweep(app, later)[0] and receipt not in sweep(app, later)[0]
    text = _track(page, base_url, receipt, code)
    assert "已办结" in text and "未在期限内申请复督，已结案" in text


def test_search_works_under_the_sites_content_security_policy(base_url: str) -> None:
    with sync_playwright() as p:
        args = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(base_url + "search/?q=失业登记")
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)
        assert any("失业登记" in t for t in page.locator(".pagefind-ui__result-link").all_inner_texts())
        page.goto(base_url + "services/JY-001/")
        assert violations == []
        browser.close()
