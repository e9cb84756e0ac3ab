"""The build cache: results kept beside the site between builds, each under a hash of everything it came from.

A key is a SHA-256 of the kind of result, every input it is made from (callers pass the parameters and the
libraries' versions that shape it) and `SCHEMA` (bump it when the way a result is made changes), so a stale entry
is never found rather than needing to be invalidated. A build reads what it
needs, writes what it made, and at the end drops every entry it did not use, so the folder holds one build's
worth. Losing the folder only makes the next build slower."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = "1"


def key(kind: str, *inputs: str) -> str:
    """The hash naming one result of `kind` made from `inputs`."""
    digest = hashlib.sha256(SCHEMA.encode())
    for part in (kind, *inputs):
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


class Cache:
    """One folder of results by key; thread- and crash-safe (each entry is written aside, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.used: set[str] = set()
        self.hits = self.misses = 0

    def _path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def get(self, name: str) -> bytes | None:
        """The result stored under `name`, or None."""
        self.used.add(name)
        try:
            data = self._path(name).read_bytes()
        except OSError:
            self.misses += 1
            return None
        self.hits += 1
        return data

    def keep(self, name: str) -> None:
        """Keep an entry this build did not need to read."""
        self.used.add(name)

    def put(self, name: str, data: bytes) -> None:
        """Store a result; a failure to write only costs the next build the work."""
        self.used.add(name)
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            return

    def prune(self) -> int:
        """Delete every entry this build did not use; how many."""
        dropped = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            if not folder.is_dir() or len(folder.name) != 2:  # the Markdown folder and the records live here too
                continue
            for entry in folder.iterdir():
                if entry.name not in self.used:
                    entry.unlink(missing_ok=True)
                    dropped += 1
        return dropped


def beside(out: Path) -> Path:
    """Where the cache of the site published at `out` lives: a hidden folder next to it."""
    return out.parent / f".{out.name}-cache"


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """One build at a time per cache (a preview and a `portal build` of the same site wait for each other)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
