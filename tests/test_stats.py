"""Statistics: monthly figures without personal data, and the 服务评价公示 page built from them."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from core.stats import Stats
from forms_api import stats
from generator import pipeline, render
from tests.conftest import ROOT, TODAY, submit_form
from tests.factories import complaint_data


def _activity(client: FlaskClient) -> None:
    submit_form(client, "/forms/complaint/", complaint_data())
    for level, reason in (("5", ""), ("4", ""), ("1", "态度差")):
        submit_form(client, "/forms/evaluation/", {"target": "window:county-hall:1", "level": level, "reason": reason})


def test_export_counts_without_personal_data(client: FlaskClient, app: Flask) -> None:
    _activity(client)
    with app.extensions["sessions"]() as session:
        data = stats.export(session, app.extensions["catalogue"], date.today())
    month = data.months[0]
    assert month.cases == {"complaint": 1, "suggestion": 0, "rectification": 1}
    assert month.evaluations.levels == {"5": 1, "4": 1, "3": 0, "2": 0, "1": 1}
    assert month.windows[0].window == "county-hall:1" and month.windows[0].rate == round(2 / 3, 4)
    assert month.on_time.overdue == 0
    with app.extensions["sessions"]() as session:  # a month later both cases are past their deadlines
        later = stats.export(session, app.extensions["catalogue"], date.today() + timedelta(days=31))
    assert later.months[0].on_time.overdue == 2
    text = data.model_dump_json()
    for personal in ("张三", "13812345678", "110105", "态度差", "排队", "TS", "ZG"):
        assert personal not in text


def test_the_exported_file_is_what_the_build_reads(
    runner: CliRunner, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract: `portal stats export` writes what core.stats describes and `portal build` publishes it."""
    from forms_api import create_app
    from portal.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "i"))
    content, config = project / "content", project / "site_config.yml"
    app = create_app({"PORTAL_CONTENT": str(content), "PORTAL_SITE_CONFIG": str(config)})
    _activity(app.test_client())
    app.extensions["engine"].dispose()
    out = content / "stats.json"
    result = runner.invoke(main, ["stats", "export", "--out", str(out), "--content", str(content), "--config",
                                  str(config)])  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = Stats.model_validate_json(out.read_text(encoding="utf-8"))
    month = exported.months[0]
    assert month.cases["complaint"] == 1 and month.evaluations.total == 3
    checked = pipeline.check(content, config, TODAY, project / "site")
    assert checked.errors == [] and checked.catalogue is not None and checked.catalogue.stats == exported
    pipeline.build(content, config, project / "site", TODAY)
    html = (project / "site/ratings/index.html").read_text(encoding="utf-8")
    article = html.split("<article")[1].split("</article>")[0]
    assert html.count("<svg") >= 4 and "各窗口满意率" in html and "<script" not in article
    assert month.month in html and "66.7%" in html  # window 1: two of three ratings satisfied


def test_broken_stats_file_is_named(project: Path) -> None:
    (project / "content/stats.json").write_text('{"generated": "2026-11-01",\n "months": [}', encoding="utf-8")
    result = pipeline.check(project / "content", project / "site_config.yml", TODAY, project / "site")
    assert any(p.path.name == "stats.json" and p.line == 2 and "统计文件格式错误" in p.message for p in result.errors)


def test_chart_labels_are_escaped() -> None:
    sample = json.loads((ROOT / "tests/data/stats.json").read_text(encoding="utf-8"))
    sample["months"][0]["windows"][0]["label"] = "<script>x</script>"
    charts = render.ratings_charts(Stats.model_validate(sample))
    assert "<script>" not in charts["windows"] and "&lt;script&gt;" in charts["windows"]
    assert re.search(r"<svg[^>]*role=\"img\"", charts["levels"])
