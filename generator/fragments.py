"""Pieces of the summary pages made from one guide alone, kept between the builds of one `portal preview`.

The summary pages (政务公开's tables, catalogue.json, the category lists) are made again every build, and each
holds a piece of every guide: at 10,000 guides, seconds. A piece here is kept by the guide object it was made
from. In `portal preview` a guide whose file and context are unchanged keeps its object from one build to the
next (core/memo.py), so its pieces are not made again; an edited guide is a new object and gets new pieces. A
build without the memo parses every guide into new objects, so it finds nothing kept: nothing stale can be used.
A piece's kind names everything else it is made from (which table, which date), and a change to the generator's
code or templates drops every piece."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Fragments:
    """Pieces by (kind, guide object); what one build did not use is dropped after it."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int], tuple[object, Any]] = {}
        self._used: set[tuple[str, int]] = set()
        self.made = 0  # pieces made in the build under way
        self.last = 0  # … and in the one before
        self.version = ""

    def begin_build(self, version: str) -> None:
        """Start a build by the generator of this `version` (its code and templates): a new one keeps nothing."""
        if version != self.version:
            self._kept, self.version = {}, version

    def get(self, kind: str, source: object, make: Callable[[], T]) -> T:
        """The piece of `kind` made from `source`, made now if it was not kept."""
        key = (kind, id(source))
        found = self._kept.get(key)
        if found is None or found[0] is not source:  # the object is held, so its id is not reused while kept
            found = (source, make())
            self._kept[key] = found
            self.made += 1
        self._used.add(key)
        value: T = found[1]
        return value

    def end_build(self) -> None:
        """Forget the pieces this build did not use (guides edited or deleted)."""
        self._kept = {key: value for key, value in self._kept.items() if key in self._used}
        self._used = set()
        self.last, self.made = self.made, 0


def piece(fragments: Fragments | None, kind: str, source: object, make: Callable[[], T]) -> T:
    """A kept piece when there is a store of them, else a new one."""
    return make() if fragments is None else fragments.get(kind, source, make)
