"""The shared exception family and the problem records an editor reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about the content, located at a file and line."""

    path: Path
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def format(self, base: Path | None = None) -> str:
        """Render as `path:line: message`, the form editors and editors' tools read."""
        shown = self.path
        if base is not None and self.path.resolve().is_relative_to(base.resolve()):
            shown = self.path.resolve().relative_to(base.resolve())
        prefix = "警告：" if self.severity == "warning" else ""
        return f"{shown}:{self.line}: {prefix}{self.message}"


class PortalError(Exception):
    """Base of every error shown to an editor or operator as one Chinese line (never a traceback)."""


class ContentError(PortalError):
    """The content has errors; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        # The message itself lists the first problems: a server log (gunicorn) shows it without our CLI.
        shown = "\n".join(p.format() for p in problems[:20])
        more = f"\n……另有 {len(problems) - 20} 处" if len(problems) > 20 else ""
        super().__init__(f"内容有 {len(problems)} 处错误：\n{shown}{more}")
        self.problems = problems
