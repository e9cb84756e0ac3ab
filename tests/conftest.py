"""Shared fixtures: a private copy of the shipped content, helpers to break it, a CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import pipeline
from generator.load import load_content
from generator.validate import Catalogue, validate

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`pytest --update-goldens` rewrites tests/golden/ from the shipped content."""
    parser.addoption("--update-goldens", action="store_true", help="regenerate golden files")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of content/ and site_config.yml that a test may change freely."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copy(ROOT / "site_config.yml", tmp_path / "site_config.yml")
    return tmp_path


@pytest.fixture
def edit(project: Path) -> Callable[[str, str, str], Path]:
    """Replace text in a content file of the copy; fail loudly if the text is not there."""

    def _edit(rel: str, old: str, new: str) -> Path:
        path = project / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return _edit


@pytest.fixture
def check(project: Path) -> Callable[[], pipeline.CheckResult]:
    """Run the checker on the copy."""
    return lambda: pipeline.check(project / "content", project / "site_config.yml", TODAY, project / "site")


@pytest.fixture
def runner() -> CliRunner:
    """Click's runner for the `portal` command."""
    return CliRunner()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The shipped content, validated."""
    return validate(load_content(ROOT / "content"), ROOT / "site_config.yml")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped content built once for the whole session (read-only for tests)."""
    out = tmp_path_factory.mktemp("built") / "site"
    pipeline.build(ROOT / "content", ROOT / "site_config.yml", out, TODAY)
    return out


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `needle`."""
    found = [
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line
    ]
    assert len(found) >= nth, f"{needle!r} not {nth} times in {path}"
    return found[nth - 1]
