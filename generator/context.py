"""Stage 3 — context: the one function that builds everything templates see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from core import model as m
from core.catalogue import Catalogue

# 八公开: what every service guide must disclose, and the field that carries it.
DISCLOSURE_ITEMS: tuple[tuple[str, str], ...] = (
    ("服务对象", "audience"),
    ("受理条件", "conditions"),
    ("申请材料", "materials"),
    ("办理流程", "steps"),
    ("办理时限", "time_limit"),
    ("收费标准", "fee"),
    ("政策依据", "basis"),
    ("监督渠道", "complaint"),
)
# Beyond the eight: what makes a guide more useful, shown in the same matrix.
EXTRA_ITEMS: tuple[tuple[str, str], ...] = (("网上办理", "online"), ("常见问题", "faq"))


@dataclass(frozen=True)
class Place:
    """An office with the windows of it that handle something."""

    office: m.Office
    windows: tuple[m.Window, ...]


@dataclass(frozen=True)
class PostView:
    """A post with its A and B staff resolved."""

    post: m.Post
    office: m.Office
    a: m.Staff
    b: m.Staff


@dataclass(frozen=True)
class ServiceView:
    """A service and what its page needs beyond the service itself."""

    service: m.Service
    category: m.Category
    places: tuple[Place, ...]
    complaint_phone: str
    url: str


def page_path(service: m.Service) -> str:
    """Site-relative directory URL of a service page (mkdocs use_directory_urls)."""
    return f"services/{service.code}/"


def _places(catalogue: Catalogue, handling: list[m.Handling]) -> tuple[Place, ...]:
    """Resolve office ids and window numbers."""
    places = []
    for item in handling:
        office = catalogue.office(item.office)
        windows = tuple(w for w in office.windows if w.number in item.windows)
        places.append(Place(office, windows))
    return tuple(places)


def _disclosed(service: m.Service, complaint_phone: str) -> tuple[bool, ...]:
    """Which 八公开 items the service actually publishes."""
    flags = []
    for _, attr in DISCLOSURE_ITEMS + EXTRA_ITEMS:
        value: Any = complaint_phone if attr == "complaint" else getattr(service, attr)
        flags.append(bool(value))
    return tuple(flags)


def service_view(catalogue: Catalogue, service: m.Service) -> ServiceView:
    """Everything one service page shows."""
    category = next(c for c in catalogue.config.categories if c.id == service.category)
    phone = service.complaint_phone or catalogue.agency.complaint_phone
    url = catalogue.config.site_url.rstrip("/") + "/" + page_path(service)
    return ServiceView(
        service=service,
        category=category,
        places=_places(catalogue, service.handling),
        complaint_phone=phone,
        url=url,
    )


def json_ld(catalogue: Catalogue, view: ServiceView) -> str:
    """schema.org GovernmentService for one service, safe to embed in a script element."""
    service = view.service
    data = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "identifier": service.code,
        "name": service.name,
        "serviceType": view.category.name,
        "description": service.summary or service.audience,
        "audience": {"@type": "Audience", "audienceType": service.audience},
        "url": view.url,
        "provider": {
            "@type": "GovernmentOrganization",
            "name": catalogue.agency.name,
            "telephone": catalogue.agency.consultation_phone,
            "address": catalogue.agency.address,
        },
        "availableChannel": [
            {
                "@type": "ServiceChannel",
                "name": place.office.name,
                "servicePhone": {"@type": "ContactPoint", "telephone": service.phone},
                "serviceLocation": {
                    "@type": "Place",
                    "name": place.office.name,
                    "address": place.office.address,
                },
                "hoursAvailable": place.office.hours,
            }
            for place in view.places
        ],
        "dateModified": service.updated.isoformat(),
        # Not a schema.org term (it has none for statutory and promised limits); open data readers get each stage
        # with its units, as catalogue.json carries them.
        "timeLimit": service.time_limit.model_dump(mode="json", exclude={"explanation"}, exclude_none=True),
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # "</script>" inside the data must not close the element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _post_views(catalogue: Catalogue) -> list[PostView]:
    """Posts with their A and B staff."""
    return [
        PostView(
            post,
            catalogue.office(post.office),
            catalogue.staff_member(post.a),
            catalogue.staff_member(post.b),
        )
        for post in catalogue.posts
    ]


def _window_services(catalogue: Catalogue) -> dict[tuple[str, str], list[m.Service]]:
    """(office id, window number) → services handled there."""
    table: dict[tuple[str, str], list[m.Service]] = {}
    for service in catalogue.services:
        for item in service.handling:
            for number in item.windows:
                table.setdefault((item.office, number), []).append(service)
    return table


def build_context(catalogue: Catalogue, today: date) -> dict[str, Any]:
    """The site-wide context every template receives."""
    by_category: dict[str, list[m.Service]] = {c.id: [] for c in catalogue.config.categories}
    for service in catalogue.services:
        by_category[service.category].append(service)
    by_code = {s.code: s for s in catalogue.services}
    current = [n for n in catalogue.notices if n.valid_from <= today and not (n.valid_until and n.valid_until < today)]
    upcoming = [n for n in catalogue.notices if n.valid_from > today]
    archived = [n for n in catalogue.notices if n.valid_until and n.valid_until < today]
    return {
        "config": catalogue.config,
        "agency": catalogue.agency,
        "offices": catalogue.offices,
        "categories": catalogue.config.categories,
        "by_category": by_category,
        "services": catalogue.services,
        "popular": [by_code[c] for c in catalogue.config.popular if c in by_code],
        "posts": _post_views(catalogue),
        "window_services": _window_services(catalogue),
        "promises": catalogue.promises,
        "rules": catalogue.rules,
        "complaints": catalogue.complaints,
        "procedure_steps": [
            (type(catalogue.procedure).model_fields[name].title, limit.text())
            for name, limit in catalogue.procedure.limits().items()
        ],
        "procedure": catalogue.procedure,
        "notices_current": current + upcoming,
        "notices_archived": archived,
        "disclosure_items": [label for label, _ in DISCLOSURE_ITEMS + EXTRA_ITEMS],
        "matrix": [
            (s, _disclosed(s, s.complaint_phone or catalogue.agency.complaint_phone)) for s in catalogue.services
        ],
        "forms": catalogue.config.forms,
        "today": today,
    }


def catalogue_json(catalogue: Catalogue, today: date) -> str:
    """Open data: every service and the places that handle them, as JSON."""
    data = {
        "generated": today.isoformat(),
        "agency": catalogue.agency.model_dump(mode="json"),
        "offices": [o.model_dump(mode="json") for o in catalogue.offices],
        "services": [s.model_dump(mode="json") for s in catalogue.services],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
