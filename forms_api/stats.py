"""Monthly figures for publication: counts and rates only, never a name, number or text of a case."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from core.catalogue import Catalogue
from core.stats import Stats
from core.vocab import CASE_KINDS, CATEGORIES, LEVELS, OUTCOMES, SATISFIED_FROM
from forms_api import dao, states
from forms_api.models import to_local


def _month(moment: datetime, zone: str) -> str:
    return to_local(moment, zone).strftime("%Y-%m")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def export(session: Session, catalogue: Catalogue, today: date) -> Stats:
    """Every month with activity, newest first, validated against the statistics contract (core.stats)."""
    zone = catalogue.config.timezone
    labels = {f"{o.id}:{w.number}": f"{o.name} {w.number} 号{w.name}" for o in catalogue.offices for w in o.windows}
    months: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "cases": Counter(), "categories": Counter(), "outcomes": Counter(), "levels": Counter(),
        "windows": defaultdict(Counter), "due": 0, "on_time": 0, "overdue": 0, "rect_opened": 0, "rect_closed": 0,
    })  # fmt: skip
    for case in dao.all_cases(session):
        m = months[_month(case.created_at, zone)]
        m["cases"][case.kind] += 1
        if case.category:
            m["categories"][case.category] += 1
        m["outcomes"][case.state if case.state in states.FINAL else "open"] += 1
        m["overdue"] += case.state not in states.NOT_OVERDUE and case.deadline is not None and case.deadline < today
        if case.kind == "rectification":
            m["rect_opened"] += 1
            m["rect_closed"] += case.state == "closed"
    for order in dao.all_orders(session):
        m = months[_month(order.issued_at, zone)]
        if order.handled_at is not None or order.deadline < today:
            m["due"] += 1
            m["on_time"] += order.handled_at is not None and to_local(order.handled_at, zone).date() <= order.deadline
    for rating in dao.all_evaluations(session):
        m = months[_month(rating.created_at, zone)]
        m["levels"][str(rating.level)] += 1
        if rating.office and rating.window:
            window = m["windows"][f"{rating.office}:{rating.window}"]
            window["total"] += 1
            window["satisfied"] += rating.level >= SATISFIED_FROM
    return Stats.model_validate({
        "generated": today.isoformat(),
        "months": [_month_figures(name, m, labels) for name, m in sorted(months.items(), reverse=True)],
    })  # fmt: skip


def _month_figures(name: str, m: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    levels = {str(k): m["levels"].get(str(k), 0) for k in LEVELS}
    windows = [
        {"window": key, "label": labels.get(key, key), "total": c["total"], "satisfied": c["satisfied"],
         "rate": _rate(c["satisfied"], c["total"])}
        for key, c in sorted(m["windows"].items())
    ]  # fmt: skip
    return {
        "month": name,
        "cases": {k: m["cases"].get(k, 0) for k in CASE_KINDS},
        "categories": {k: m["categories"].get(k, 0) for k in CATEGORIES},
        "outcomes": {k: m["outcomes"].get(k, 0) for k in OUTCOMES},
        "on_time": {
            "due": m["due"],
            "on_time": m["on_time"],
            "rate": _rate(m["on_time"], m["due"]),
            "overdue": m["overdue"],
        },
        "evaluations": {"total": sum(levels.values()), "levels": levels},
        "windows": windows,
        "rectification": {
            "opened": m["rect_opened"],
            "closed": m["rect_closed"],
            "rate": _rate(m["rect_closed"], m["rect_opened"]),
        },
    }
