"""A preview's pieces of the summary pages (generator/fragments.py): kept by guide object, never stale."""

from __future__ import annotations

from generator.fragments import Fragments, piece


class Guide:
    """Stands for a guide object: only its identity matters here."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_a_piece_is_kept_for_the_same_object_only() -> None:
    store, guide = Fragments(), Guide("失业登记")
    assert store.get("row", guide, lambda: guide.name) == "失业登记"
    assert store.get("row", guide, lambda: "made again") == "失业登记"
    edited = Guide("失业登记（新）")  # an edited guide is a new object
    assert store.get("row", edited, lambda: edited.name) == "失业登记（新）"
    assert store.get("json", guide, lambda: "{}") == "{}"  # another kind of piece of the same guide
    assert store.made == 3


def test_pieces_a_build_did_not_use_are_dropped() -> None:
    store, kept, gone = Fragments(), Guide("a"), Guide("b")
    store.get("row", kept, lambda: "a")
    store.get("row", gone, lambda: "b")
    store.end_build()
    assert store.last == 2
    store.get("row", kept, lambda: "a again")
    store.end_build()
    assert store.last == 0  # nothing made: a's piece was kept
    assert store.get("row", gone, lambda: "b again") == "b again"  # b was not used in the last build


def test_a_new_generator_keeps_nothing() -> None:
    store, guide = Fragments(), Guide("a")
    store.begin_build("v1")
    store.get("row", guide, lambda: "old template")
    store.end_build()
    store.begin_build("v1")
    assert store.get("row", guide, lambda: "new") == "old template"
    store.end_build()
    store.begin_build("v2")
    assert store.get("row", guide, lambda: "new template") == "new template"


def test_without_a_store_every_piece_is_made() -> None:
    guide = Guide("a")
    assert piece(None, "row", guide, lambda: 1) == 1
    assert piece(None, "row", guide, lambda: 2) == 2
