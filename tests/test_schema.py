"""`portal schema`: JSON Schemas from the content model that accept every shipped file and name a wrong key."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from core.schema import KINDS
from portal.cli import main
from tests.conftest import ROOT

CJK = re.compile(r"[\u4e00-\u9fff]")
SHIPPED = sorted(
    (kind.name, path.relative_to(ROOT).as_posix()) for kind in KINDS for path in sorted(ROOT.glob(kind.glob))
)


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every schema as `portal schema --out` writes it, by kind."""
    out = tmp_path_factory.mktemp("schema")
    result = CliRunner().invoke(main, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"已写入 {len(KINDS)} 个 JSON Schema" in result.output
    return {kind.name: json.loads((out / kind.filename).read_text(encoding="utf-8")) for kind in KINDS}


def _plain(data: Any) -> Any:
    """YAML as an editor's language server sees it: dates stay the text they were written as."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data.isoformat() if isinstance(data, date) else data


def _errors(schema: dict[str, Any], text: str) -> list[jsonschema.ValidationError]:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return list(validator.iter_errors(_plain(yaml.safe_load(text))))


def test_every_content_file_has_a_schema() -> None:
    files = {path for _, path in SHIPPED}
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "content").rglob("*.yml")} | {"site_config.yml"}
    assert files == shipped
    assert {name for name, _ in SHIPPED} == {kind.name for kind in KINDS}


@pytest.mark.parametrize(("kind", "path"), SHIPPED, ids=[path for _, path in SHIPPED])
def test_shipped_file_is_valid(schemas: dict[str, dict[str, Any]], kind: str, path: str) -> None:
    jsonschema.Draft7Validator.check_schema(schemas[kind])
    errors = _errors(schemas[kind], (ROOT / path).read_text(encoding="utf-8"))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


SERVICE = (ROOT / "content/services/jy-shiye-dengji.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("kind", "text", "named"),
    [
        ("service", SERVICE.replace("kind: 即办件", "kind: 即办件\nkind2: 即办件"), "'kind2'"),
        ("service", re.sub(r"(?m)^change_note:.*$", "", SERVICE), "'change_note'"),
        ("service", SERVICE.replace("    form: ", "    from: ", 1), "'from'"),
        ("notice", "id: x\ntitle: 标题\npublished: 2026-01-31\nbody: 正文\n", "'valid_from'"),
        ("notice", "id: x\ntitle: 标题\npublished: 2026年1月31日\nvalid_from: 2026-01-01\nbody: 正文\n", "年1月"),
        ("site_config", "site_name: 网站\nsite_url: https://rsj.qingxi.gov.cn/\ncategories: []\n", "categories"),
    ],
)
def test_wrong_file_names_the_key(schemas: dict[str, dict[str, Any]], kind: str, text: str, named: str) -> None:
    messages = [f"{list(e.absolute_path)} {e.message}" for e in _errors(schemas[kind], text)]
    assert messages and any(named in message for message in messages), messages


def _texts(node: Any, key: str) -> list[str]:
    """Every value of `key` anywhere in a schema."""
    if isinstance(node, dict):  # a field named title or description is a schema (a dict), not a text
        own = [node[key]] if isinstance(node.get(key), str) else []
        return own + [t for value in node.values() for t in _texts(value, key)]
    if isinstance(node, list):
        return [t for value in node for t in _texts(value, key)]
    return []


@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
def test_editors_read_chinese(schemas: dict[str, dict[str, Any]], kind: str) -> None:
    schema = schemas[kind]
    english = [t for key in ("title", "description") for t in _texts(schema, key) if not CJK.search(t)]
    assert english == []
    assert schema["additionalProperties"] is False
    assert all(d["additionalProperties"] is False for d in schema.get("$defs", {}).values())


def test_docs_map_every_schema_to_its_files() -> None:
    text = (ROOT / "docs/content.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(\{\n  \"yaml\.schemas\".*?)```", text, re.S)
    assert block, "docs/content.md has no yaml.schemas example"
    mapping = json.loads(block.group(1))["yaml.schemas"]
    assert mapping == {f"./schema/{kind.filename}": kind.glob for kind in KINDS}
