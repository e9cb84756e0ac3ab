"""The content catalogue the site is built from, read once at start-up for choices and routing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from core.catalogue import Catalogue
from core.validate import load_catalogue
from core.workdays import WorkCalendar


@dataclass(frozen=True)
class Target:
    """Something a complaint or an evaluation can name: a window, a post or a service."""

    key: str  # "window:county-hall:1", "post:jiuye-dengji", "staff:QX0101", "service:JY-001"
    label: str
    office: str | None
    window: str | None


def targets(catalogue: Catalogue) -> list[Target]:
    """Every window, post and service, labelled as citizens know them."""
    found = []
    for office in catalogue.offices:
        for w in office.windows:
            found.append(
                Target(
                    f"window:{office.id}:{w.number}",
                    f"{office.name} {w.number} 号{w.name}",
                    office.id,
                    w.number,
                )
            )
    for post in catalogue.posts:
        office = catalogue.office(post.office)
        found.append(Target(f"post:{post.id}", f"{office.name} {post.name}", office.id, post.windows[0]))
    for member in catalogue.staff:
        badge = next((p for p in catalogue.posts if member.number in (p.a, p.b)), None)
        if badge is not None:  # 挂牌上岗: rated by the name and number on their badge
            label = f"工作人员 {member.name}（工号 {member.number}，{badge.name}）"
            found.append(Target(f"staff:{member.number}", label, badge.office, badge.windows[0]))
    for service in catalogue.services:
        place = service.handling[0]
        found.append(Target(f"service:{service.code}", f"办事事项：{service.name}", place.office, place.windows[0]))
    return found


def _load(content: Path, config: Path) -> Catalogue:
    """Validate the content (cached per process while the files are unchanged: workers start fast)."""
    stamp = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in [config, *content.rglob("*.yml")] if p.exists()))
    cached = _CACHE.get((content, config))
    if cached and cached[0] == stamp:
        return cached[1]
    catalogue = load_catalogue(content, config)
    _CACHE[(content, config)] = (stamp, catalogue)
    return catalogue


_CACHE: dict[tuple[Path, Path], tuple[tuple[tuple[str, int], ...], Catalogue]] = {}


def init_app(app: Flask) -> None:
    """Load and validate the content; invalid content stops start-up with ContentError naming every problem."""
    catalogue = _load(Path(app.config["PORTAL_CONTENT"]), Path(app.config["PORTAL_SITE_CONFIG"]))
    app.extensions["catalogue"] = catalogue
    app.extensions["calendar"] = WorkCalendar(catalogue.holidays)
    app.extensions["targets"] = {t.key: t for t in targets(catalogue)}
    app.jinja_env.globals["hall"] = catalogue


def target(key: str) -> Target | None:
    """A target by its key, or None."""
    return current_app.extensions["targets"].get(key)


def all_targets() -> list[Target]:
    """Every target, for select boxes."""
    return list(current_app.extensions["targets"].values())
