"""Scale: a service page stays the same size whatever the number of services."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bench.synth import make_project
from generator import pipeline
from tests.conftest import TODAY

EXTRA = 2000
PAGE_BUDGET_GZIP = 15 * 1024


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("scale"), EXTRA)
    out = project / "site"
    report = pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    assert report.services == 27 + EXTRA
    return out


def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


@pytest.mark.parametrize("code", ["JY-001", "SB-007", "LD-001"])
def test_service_page_size_does_not_grow_with_the_catalogue(built_site: Path, big_site: Path, code: str) -> None:
    small = (built_site / f"services/{code}/index.html").stat().st_size
    big = (big_site / f"services/{code}/index.html").stat().st_size
    assert big == small  # no list of other services anywhere on a service page


def test_service_pages_fit_the_page_budget(big_site: Path) -> None:
    pages = sorted((big_site / "services").glob("*/index.html"))
    assert len(pages) == 27 + EXTRA
    largest = max(pages, key=_gzip_size)
    assert _gzip_size(largest) <= PAGE_BUDGET_GZIP, largest


def test_synthetic_services_are_searchable_and_listed(big_site: Path) -> None:
    assert (big_site / "services/ZZ-01999/index.html").is_file()
    listing = (big_site / "categories/jiuye/index.html").read_text(encoding="utf-8")
    assert "ZZ-01998" in listing  # 1998 % 3 == 0 → 就业创业
