"""Synthetic content for scale tests and benchmarks: N more services cloned from a shipped one."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "content/services/jy-shiye-dengji.yml"
CATEGORIES = ("jiuye", "shebao", "laodong")
WORDS = ("登记", "认定", "申领", "补贴", "备案", "核定", "变更", "注销", "查询", "转移")


def make_project(target: Path, extra: int) -> Path:
    """Copy the shipped content and config to `target`, adding `extra` synthetic services."""
    shutil.copytree(ROOT / "content", target / "content")
    shutil.copy(ROOT / "site_config.yml", target / "site_config.yml")
    text = TEMPLATE.read_text(encoding="utf-8")
    folder = target / "content/services"
    for i in range(extra):
        name = f"第{i + 1}号试点事项{WORDS[i % len(WORDS)]}"
        body = (
            text.replace("code: JY-001", f"code: ZZ-{i:05d}")
            .replace("name: 失业登记", f"name: {name}")
            .replace("category: jiuye", f"category: {CATEGORIES[i % len(CATEGORIES)]}")
        )
        (folder / f"zz-{i:05d}.yml").write_text(body, encoding="utf-8")
    return target
