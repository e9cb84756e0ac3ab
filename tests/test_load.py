"""Loading: encodings, tabs, anchors and alias bombs, size, syntax, file names."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.load import MAX_BYTES, load_content, load_file

SVC = "content/services/jy-shiye-dengji.yml"


def _problems(path: Path) -> list[str]:
    """Messages with their line, as `line: message`."""
    _, problems = load_file(path)
    return [f"{p.line}: {p.message}" for p in problems]


def test_lines_of_keys_and_items_are_kept(project: Path) -> None:
    doc, problems = load_file(project / SVC)
    assert problems == [] and doc is not None
    assert doc.line_of(("code",)) == 2
    lines = (project / SVC).read_text(encoding="utf-8").splitlines()
    assert "居住证" in lines[doc.line_of(("materials", 2)) - 1]
    assert lines[doc.line_of(("materials", 2, "nonexistent")) - 1].strip().startswith("- name: 居住证")


@pytest.mark.parametrize(
    ("text", "encoding", "named"),
    [
        ("# 单位信息\nname: 青溪县人力资源和社会保障局\naddress: 府前路十八号\n", "gb18030", "GB18030"),
        (
            "# 單位資訊\nname: 青溪縣人力資源和社會保障局\naddress: 府前路十八號，服務大廳一樓\n",
            "big5",
            "BIG5",
        ),
        ("# 单位信息\nname: 青溪县人力资源和社会保障局\n", "utf-16", "UTF-16"),
    ],
)
def test_non_utf8_file_names_the_likely_encoding(tmp_path: Path, text: str, encoding: str, named: str) -> None:
    path = tmp_path / "agency.yml"
    path.write_bytes(text.encode(encoding))
    (message,) = _problems(path)
    assert "文件不是 UTF-8 编码" in message
    assert named in message


def test_gbk_error_points_at_first_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "agency.yml"
    path.write_bytes(b"code: JY-001\nversion: 1\n" + "name: 失业登记\n".encode("gbk"))
    assert _problems(path)[0].startswith("3: ")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_bytes("\ufeffname: 失业登记\n".encode())
    doc, problems = load_file(path)
    assert problems == [] and doc is not None and doc.data == {"name": "失业登记"}


def test_every_tab_indented_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("fee:\n\tstandard: 不收费\n\tbasis: 无\nname: x\n", encoding="utf-8")
    assert _problems(path) == [f"{n}: 缩进中有制表符（Tab），请全部改用空格缩进" for n in (2, 3)]


def test_anchor_and_alias_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("fee: &free\n  standard: 不收费\nother: *free\n", encoding="utf-8")
    assert _problems(path) == [
        "1: 不允许使用 YAML 锚点（&free），请直接写出内容",
        "3: 不允许使用 YAML 别名（*free），请直接写出内容",
    ]


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]")
    path = tmp_path / "bomb.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    doc, problems = load_file(path)
    assert doc is None and problems
    assert time.perf_counter() - started < 5  # a bound against hanging, not a benchmark


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text("name: x\n" + "# " + "很" * MAX_BYTES + "\n", encoding="utf-8")
    (message,) = _problems(path)
    assert message.startswith("1: 文件过大") and "上限 256 KB" in message


@pytest.mark.parametrize(
    ("text", "line", "part"),
    [
        ("name: x\n  bad: indent\n", 2, "YAML 格式错误"),
        ('name: "unclosed\nx: 1\n', 3, "YAML 格式错误"),
        ("name: x\nlist:\n- a\n b: c\n", 4, "YAML 格式错误"),
        ("", 1, "文件是空的"),
        ("x: !!python/object:os.system 1\n", 1, "YAML 格式错误"),
    ],
)
def test_syntax_errors_are_located(tmp_path: Path, text: str, line: int, part: str) -> None:
    path = tmp_path / "a.yml"
    path.write_text(text, encoding="utf-8")
    (message,) = _problems(path)
    assert message.startswith(f"{line}: {part}")


def test_duplicate_keys_at_any_depth(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("fee:\n  standard: a\n  standard: b\nname: x\nname: y\n", encoding="utf-8")
    assert _problems(path) == [
        "3: 键「standard」重复（第 2 行已经写过），请删除或合并其中一处",
        "5: 键「name」重复（第 4 行已经写过），请删除或合并其中一处",
    ]


def test_unknown_and_missing_files(project: Path, edit: Callable[..., Path]) -> None:
    (project / "content/office.yml").write_text("x: 1\n", encoding="utf-8")
    (project / "content/services/new.yaml").write_text("x: 1\n", encoding="utf-8")
    (project / "content/promises.yml").unlink()
    messages = {p.path.name: p.message for p in load_content(project / "content").problems}
    assert messages["office.yml"] == "不认识的内容文件 office.yml，是不是想写 offices.yml？"
    assert "请改用 .yml 扩展名" in messages["new.yaml"]
    assert messages["promises.yml"] == "缺少必需的内容文件 promises.yml"
