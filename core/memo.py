"""What a long-running process (the editors' `portal preview`) keeps between two checks of one content folder.

A guide is checked against its own file and a context: site_config.yml, the single files (offices, posts,
holidays …) and the names of the files under content/ it may link. A guide whose file and context are both
unchanged since it last passed is not read, parsed or cross-checked again; everything that spans guides
(duplicate codes, 常用事项) is still checked every time. At 10,000 guides that is the difference between seconds
and a tenth of one.

A guide's file counts as unchanged while its `file_stat` is. The context is hashed from its
bytes every time. `portal build` has no memo and hashes every file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.guide import Service
from core.load import SINGLE_FILES, Document, Stat, digest, file_stat, settled


@dataclass(frozen=True)
class Checked:
    """A guide that passed: its model and its slimmed document (the lines warnings need)."""

    file: Stat  # the file's, when it was read
    context: str
    service: Service
    doc: Document


class Memo:
    """Guides that passed, by path, with the digests they passed under."""

    def __init__(self) -> None:
        self.context = ""
        self._passed: dict[Path, Checked] = {}
        self._seen: set[Path] = set()
        self._stats: dict[Path, Stat] = {}  # taken before the file is read: an edit after it is seen next time
        self.reused = 0

    def begin(self, content: Path, config: Path) -> None:
        """Hash the context every guide is checked against, and forget guides whose files were gone last time;
        call before loading."""
        for path in set(self._passed) - self._seen if self._seen else ():
            del self._passed[path]
        parts = [_read(config)] + [_read(content / f"{name}.yml") for name in SINGLE_FILES]
        parts.append("\n".join(_listing(content)).encode("utf-8"))
        self.context = hashlib.sha256(b"\0".join(digest(p).encode() for p in parts)).hexdigest()
        self._seen, self._stats = set(), {}
        self.reused = 0

    def document(self, path: Path) -> Document | None:
        """The document a guide passed with, if its file and the context are unchanged."""
        self._seen.add(path)
        try:
            stat = file_stat(path)
        except OSError:
            return None  # the loader reports it
        self._stats[path] = stat
        found = self._passed.get(path)
        if found is None or found.context != self.context or found.file != stat:
            return None
        self.reused += 1
        return found.doc

    def recall(self, doc: Document) -> Checked | None:
        """The result for a document `document()` returned."""
        found = self._passed.get(doc.path)
        return found if found is not None and found.doc is doc else None

    def keep(self, doc: Document, service: Service) -> None:
        """Remember a guide that passed with no problem."""
        stat = self._stats.get(doc.path)
        if stat is not None and settled(stat):  # else it is read again next time
            self._passed[doc.path] = Checked(stat, self.context, service, doc)


def _listing(content: Path) -> list[str]:
    """Every path under content/ but the guides themselves: the files a guide may link."""
    tops = [p for p in content.iterdir() if p.name != "services"] if content.is_dir() else []
    found = [*tops, *(p for top in tops if top.is_dir() for p in top.rglob("*"))]
    return sorted(p.relative_to(content).as_posix() for p in found)


def _read(path: Path) -> bytes:
    """A file's bytes; a missing one counts as empty (the checker reports it)."""
    try:
        return path.read_bytes()
    except OSError:
        return b""
