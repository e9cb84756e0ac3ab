"""Every content field and site_config key is documented for editors (datasette-style)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from core import model as m

DOC = Path(__file__).resolve().parent.parent / "docs/content.md"
ARCH = Path(__file__).resolve().parent.parent / "docs/architecture.md"
MODELS = [
    cls
    for cls in vars(m).values()
    if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not m.Model and cls.__module__ == m.__name__
]
FIELDS = [(cls.__name__, name) for cls in MODELS for name in cls.model_fields]


@pytest.mark.parametrize(("model", "field"), FIELDS, ids=[f"{c}.{f}" for c, f in FIELDS])
def test_field_is_documented(model: str, field: str) -> None:
    assert f"`{field}`" in DOC.read_text(encoding="utf-8"), f"{model}.{field} is not in docs/content.md"


def test_every_rule_id_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rule in m.RULE_IDS:
        assert f"`{rule}`" in text, rule


def test_architecture_names_every_generator_module() -> None:
    text = ARCH.read_text(encoding="utf-8")
    for module in sorted((Path(m.__file__).parent).glob("*.py")):
        if module.stem != "__init__":
            assert f"{module.stem}.py" in text, module.name


def test_every_backend_setting_is_documented() -> None:
    from forms_api.settings import SETTINGS

    text = (DOC.parent / "deployment.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in text, setting.env


def test_architecture_names_every_backend_module() -> None:
    import forms_api

    text = ARCH.read_text(encoding="utf-8")
    for module in sorted(Path(forms_api.__file__).parent.glob("*.py")):
        if module.stem != "__init__":
            assert f"`{module.name}`" in text or f"`{module.stem}.py`" in text, module.name
