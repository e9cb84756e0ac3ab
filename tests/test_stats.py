"""Statistics: monthly figures without personal data, and the 服务评价公示 page built from them."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from forms_api import stats
from generator import pipeline, render
from tests.conftest import ROOT, TODAY, submit_form
from tests.test_complaints import GOOD


def _activity(client: FlaskClient) -> None:
    submit_form(client, "/forms/complaint/", GOOD)
    for level, reason in (("5", ""), ("4", ""), ("1", "态度差")):
        submit_form(client, "/forms/evaluation/", {"target": "window:county-hall:1", "level": level, "reason": reason})


def test_export_counts_without_personal_data(client: FlaskClient, app: Flask) -> None:
    _activity(client)
    with app.extensions["sessions"]() as session:
        data = stats.export(session, app.extensions["catalogue"], date.today())
    month = data["months"][0]
    assert month["cases"] == {"complaint": 1, "suggestion": 0, "rectification": 1}
    assert month["evaluations"]["levels"] == {"5": 1, "4": 1, "3": 0, "2": 0, "1": 1}
    assert month["windows"][0]["window"] == "county-hall:1" and month["windows"][0]["rate"] == round(2 / 3, 4)
    text = stats.dumps(data)
    for personal in ("张三", "13812345678", "110105", "态度差", "排队", "TS", "ZG"):
        assert personal not in text


def test_export_command_then_build_publishes_charts(
    runner: CliRunner, project: Path, tmp_path: Path, monkeypatch: object
) -> None:
    from generator.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")  # type: ignore[attr-defined]
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "i"))  # type: ignore[attr-defined]
    out = project / "content/stats.json"
    args = ["--content", str(project / "content"), "--config", str(project / "site_config.yml")]
    result = runner.invoke(main, ["stats", "export", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["months"] == []
    sample = json.loads((ROOT / "tests/data/stats.json").read_text(encoding="utf-8"))
    out.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    pipeline.build(project / "content", project / "site_config.yml", project / "site", TODAY)
    html = (project / "site/ratings/index.html").read_text(encoding="utf-8")
    assert (
        html.count("<svg") >= 4
        and "各窗口满意率" in html
        and "<script" not in html.split("<article")[1].split("</article>")[0]
    )
    assert "2026-10" in html and "66.7%" in html


def test_broken_stats_file_is_named(project: Path) -> None:
    (project / "content/stats.json").write_text('{"generated": "2026-11-01",\n "months": [}', encoding="utf-8")
    result = pipeline.check(project / "content", project / "site_config.yml", TODAY, project / "site")
    assert any(p.path.name == "stats.json" and p.line == 2 and "统计文件格式错误" in p.message for p in result.errors)


def test_chart_labels_are_escaped() -> None:
    sample = json.loads((ROOT / "tests/data/stats.json").read_text(encoding="utf-8"))
    sample["months"][0]["windows"][0]["label"] = "<script>x</script>"
    from generator.stats_model import Stats

    charts = render.ratings_charts(Stats.model_validate(sample))
    assert "<script>" not in charts["windows"] and "&lt;script&gt;" in charts["windows"]
    assert re.search(r"<svg[^>]*role=\"img\"", charts["levels"])
