"""What every view shares: times shown in the site's time zone on staff pages, print-outs and tracking."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import form_fields, login, submit_form
from tests.factories import complaint_data, make_user


def _act(staff: FlaskClient, name: str, data: dict[str, str]) -> None:
    page = staff.get("/staff/case/1").get_data(as_text=True)
    assert staff.post(f"/staff/case/1/{name}", data={**form_fields(page), **data}).status_code == 303


def test_times_follow_site_config_timezone(project: Path, tmp_path: Path, database_url: str) -> None:
    from forms_api import create_app

    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("Asia/Shanghai", "Asia/Kathmandu"), encoding="utf-8")
    app = create_app({"DATABASE_URL": database_url, "PORTAL_INSTANCE": str(tmp_path / "i"),
                      "PORTAL_CONTENT": str(project / "content"), "PORTAL_SITE_CONFIG": str(config),
                      "RATELIMIT_STORAGE_URI": "memory://"})  # fmt: skip
    app.config["TESTING"] = True
    citizen: FlaskClient = app.test_client()
    assert submit_form(citizen, "/forms/complaint/", complaint_data()).status_code == 303
    receipt = citizen.get("/forms/complaint/done").get_data(as_text=True)
    numbers = dict(zip(("receipt_no", "query_code"), re.findall(r"<dd>([A-Z0-9]{8,})</dd>", receipt), strict=True))
    for name, role in (("clerk", "intake"), ("boss", "supervisor")):
        make_user(app.extensions["sessions"], name, role)
    staff = app.test_client()
    login(staff, "clerk")
    _act(staff, "file", {})
    login(staff, "boss")
    _act(staff, "issue_order", {"opinion": "请核实", "days": "3", "window": "county-hall:1"})
    pages = [staff.get("/staff/case/1").get_data(as_text=True),
             staff.get("/staff/case/1/print/register").get_data(as_text=True),
             staff.get("/staff/case/1/print/order/1").get_data(as_text=True),
             submit_form(citizen, "/forms/track/", numbers).get_data(as_text=True)]  # fmt: skip
    for html in pages:
        assert "+05:45" in html and "+08:00" not in html
    app.extensions["engine"].dispose()
