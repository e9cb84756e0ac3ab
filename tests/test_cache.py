"""The build cache (generator/cache.py): keys, storage, pruning, and a warm build identical to a cold one."""

from __future__ import annotations

from pathlib import Path

from core.validate import load_catalogue
from generator import cache, pipeline
from generator.cache import Cache
from tests.conftest import ROOT, TODAY


def test_a_key_names_the_kind_and_every_input() -> None:
    assert cache.key("qr", "https://a/") == cache.key("qr", "https://a/")
    assert len({cache.key("qr", "https://a/"), cache.key("qr", "https://b/"), cache.key("page", "https://a/"),
                cache.key("qr", "https://a/", "segno 1.6")}) == 4  # fmt: skip
    assert cache.key("qr", "ab", "c") != cache.key("qr", "a", "bc")  # inputs are separated, not concatenated


def test_entries_are_kept_and_unused_ones_pruned(tmp_path: Path) -> None:
    first = Cache(tmp_path / "c")
    first.put("aa11", b"one")
    first.put("bb22", b"two")
    second = Cache(tmp_path / "c")
    assert second.get("aa11") == b"one" and second.get("cc33") is None
    assert (second.hits, second.misses) == (1, 1)
    assert second.prune() == 1  # bb22 was not used by this build
    assert Cache(tmp_path / "c").get("bb22") is None and Cache(tmp_path / "c").get("aa11") == b"one"


def _entries(store: Path) -> list[Path]:
    """The cache's results (beside them: the Markdown folder and the record of the published site)."""
    return [p for p in store.glob("??/*") if p.is_file()]


def _pages(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in site.rglob("*.html")}


def test_a_warm_build_is_the_cold_build_byte_for_byte(tmp_path: Path) -> None:
    catalogue = load_catalogue(ROOT / "content", ROOT / "site_config.yml")
    pipeline.build_site(catalogue, tmp_path / "cold", TODAY)
    cold = _pages(tmp_path / "cold")
    store = cache.beside(tmp_path / "cold")
    qr_codes = len(_entries(store))
    assert qr_codes == len(catalogue.services)  # one per 一次性告知单
    pipeline.build_site(catalogue, tmp_path / "cold", TODAY)  # the same site, rebuilt from the cache
    assert _pages(tmp_path / "cold") == cold


def test_the_cache_keeps_one_builds_worth(tmp_path: Path, project: Path) -> None:
    out = project / "site"
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    (project / "content/services/jy-renli-ziyuan-diaocha.yml").unlink()  # JY-004, named nowhere else
    pipeline.build(project / "content", project / "site_config.yml", out, TODAY)
    assert len(_entries(cache.beside(out))) == len(
        load_catalogue(project / "content", project / "site_config.yml").services
    )
