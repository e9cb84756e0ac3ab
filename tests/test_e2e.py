"""The README's walk-through in Chromium, without JavaScript: complain, supervise, reply, re-open."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from forms_api import create_app
from tests.conftest import ROOT
from tests.factories import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists() and os.environ.get("PORTAL_REQUIRE_BROWSER") != "1":
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
from playwright.sync_api import Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def base_url(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`portal serve` as `make run` starts it: site and backend on one origin (waitress)."""
    from waitress.server import create_server

    root = tmp_path_factory.mktemp("run")
    shutil.copytree(built_site, root / "site")
    app = create_app({"DATABASE_URL": f"sqlite:///{root / 'portal.db'}", "PORTAL_INSTANCE": str(root / "i"),
                      "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
                      "PORTAL_SITE_DIR": str(root / "site")})  # fmt: skip
    for name, role, windows in (("clerk", "intake", []), ("boss", "supervisor", []),
                                ("lead", "window-lead", ["county-hall:1"])):  # fmt: skip
        make_user(app.extensions["sessions"], name, role, windows)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}/"
    server.close()


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


def test_walkthrough(page: Page, base_url: str) -> None:
    # 1. A citizen follows 我要投诉 from a service page and files a complaint.
    page.goto(base_url + "services/JY-001/")
    page.click("text=我要投诉 >> nth=0")
    page.select_option("#target", "window:county-hall:1")
    page.fill("#matter", "11月20日上午在1号窗口排队两小时，工作人员长时间离岗")
    page.fill("#name", "张三")
    page.fill("#phone", "13812345678")
    page.check("#consent")
    page.click("button[type=submit]")
    text = page.inner_text("main")
    receipt = re.search(r"TS\d{14}", text).group(0)  # type: ignore[union-attr]
    code = re.search(r"查询码\s*([A-Z2-9]{8})", text).group(1)  # type: ignore[union-attr]
    # 2. Staff: classify, issue a 督办单, record the handling, reply.
    _login(page, base_url, "clerk")
    page.click(f"text={receipt}")
    _act(page, "立案处理")
    _login(page, base_url, "boss")
    page.click(f"text={receipt}")
    _act(page, "签发督办单", {"opinion": "请核实离岗情况并整改", "days": "5", "window": "county-hall:1"})
    assert "督办中" in page.inner_text("main")
    _login(page, base_url, "lead")
    page.click(f"text={receipt}")
    _act(page, "登记处理结果", {"handling": "情况属实，已批评教育", "rectification": "离岗须挂暂停服务牌"})
    _login(page, base_url, "boss")
    page.click(f"text={receipt}")
    _act(page, "答复投诉人", {"reply": "经核实情况属实，已整改"})
    assert "已答复" in page.inner_text("main")
    # 3. The citizen reads the reply and is not satisfied: supervision re-opens.
    page.goto(base_url + "forms/track/")
    page.fill("#receipt_no", receipt)
    page.fill("#query_code", code)
    page.click("button[type=submit]")
    assert "经核实情况属实，已整改" in page.inner_text("main")
    page.fill("input[name=note]", "仍有离岗")
    page.click("text=不满意，申请再次督办")
    assert "再次督办" in page.inner_text("main")


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
