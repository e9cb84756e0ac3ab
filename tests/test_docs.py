"""Every content field and site_config key is documented for editors (datasette-style)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from core import guide, procedure, timelimits
from core import model as m

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs/content.md"
ARCH = ROOT / "docs/architecture.md"
MODELS = [
    cls
    for module in (m, guide, procedure, timelimits)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not m.Model and cls.__module__ == module.__name__
]
FIELDS = [(cls.__name__, name) for cls in MODELS for name in cls.model_fields]


@pytest.mark.parametrize(("model", "field"), FIELDS, ids=[f"{c}.{f}" for c, f in FIELDS])
def test_field_is_documented(model: str, field: str) -> None:
    assert f"`{field}`" in DOC.read_text(encoding="utf-8"), f"{model}.{field} is not in docs/content.md"


def test_every_rule_id_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rule in m.RULE_IDS:
        assert f"`{rule}`" in text, rule


def test_every_backend_setting_is_documented() -> None:
    from forms_api.settings import SETTINGS

    text = (DOC.parent / "deployment.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in text, setting.env


PACKAGES = ("core", "generator", "forms_api", "portal")


def _section(text: str, package: str) -> str:
    """The part of architecture.md about one package: from its `## package/` heading to the next heading."""
    start = text.index(f"## {package}/")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.parametrize("package", PACKAGES)
def test_architecture_names_every_module_in_its_packages_section(package: str) -> None:
    section = _section(ARCH.read_text(encoding="utf-8"), package)
    modules = sorted((ROOT / package).glob("*.py"))
    assert modules, package
    missing = [m.name for m in modules if m.stem != "__init__" and f"`{m.name}`" not in section]
    assert missing == [], f"docs/architecture.md does not describe {package}/{', '.join(missing)}"


def test_architecture_opens_with_the_layer_map_and_the_contracts_exist() -> None:
    text = ARCH.read_text(encoding="utf-8")
    assert text.index("## The layer map") < text.index("## From a YAML file to a page")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["layers"] == ["portal", "generator | forms_api", "core"]


def test_no_module_is_longer_than_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
