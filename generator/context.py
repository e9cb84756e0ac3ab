"""Stage 3 — context: the one function that builds everything templates see."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from core import model as m
from core.catalogue import Catalogue
from generator import disclosure
from generator.fragments import Fragments, piece


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
    posts: tuple[PostView, ...]
    expired: bool  # past its valid_until: the page stays, marked 已停止办理, out of every list


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


def in_force(service: m.Service, today: date) -> bool:
    """Not past its end date (a guide without one is in force)."""
    return not (service.valid_until and service.valid_until < today)


def file_href(value: str, prefix: str = "../") -> str:
    """A link to a download: files under content/ relative to the page (`prefix` climbs to the site root)."""
    return value if value.startswith(("http://", "https://")) else prefix + value


def service_url(catalogue: Catalogue, service: m.Service) -> str:
    """A service page's full address (its QR code and JSON-LD carry it)."""
    return catalogue.config.site_url.rstrip("/") + "/" + page_path(service)


def service_view(catalogue: Catalogue, service: m.Service, today: date) -> ServiceView:
    """Everything one service page shows."""
    category = next(c for c in catalogue.config.categories if c.id == service.category)
    phone = service.complaint_phone or catalogue.agency.complaint_phone
    url = service_url(catalogue, service)
    return ServiceView(
        service=service,
        category=category,
        places=_places(catalogue, service.handling),
        complaint_phone=phone,
        url=url,
        posts=tuple(_post_view(catalogue, p) for p in catalogue.posts if p.id in service.posts),
        expired=not in_force(service, today),
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
        "category": service.type,
        "serviceOperator": {
            "@type": "GovernmentOrganization",
            "name": service.implementer.name,
            "description": service.implementer.nature,
        },
        "serviceOutput": {"@type": "Thing", "name": service.result.name},
        "dateModified": service.updated.isoformat(),
        # Not a schema.org term (it has none for statutory and promised limits); open data readers get each stage
        # with its units, as catalogue.json carries them.
        "timeLimit": service.time_limit.model_dump(mode="json", exclude={"explanation"}, exclude_none=True),
        "remedies": [r.model_dump(mode="json", exclude_none=True) for r in service.remedies],
    }
    if service.valid_until:
        data["validUntil"] = service.valid_until.isoformat()
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # "</script>" inside the data must not close the element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _post_view(catalogue: Catalogue, post: m.Post) -> PostView:
    """A post with its office and its A and B staff."""
    return PostView(post, catalogue.office(post.office), catalogue.staff_member(post.a), catalogue.staff_member(post.b))


def _window_services(services: list[m.Service]) -> dict[tuple[str, str], list[m.Service]]:
    """(office id, window number) → services handled there."""
    table: dict[tuple[str, str], list[m.Service]] = {}
    for service in services:
        for item in service.handling:
            for number in item.windows:
                table.setdefault((item.office, number), []).append(service)
    return table


def _downloads(services: list[m.Service]) -> list[m.Service]:
    """表格下载: each guide in force with a material that has a blank form or a sample (rows/downloads.md.j2)."""
    return [s for s in services if any(x.blank_form or x.sample for x in s.materials)]


def build_context(catalogue: Catalogue, today: date, fragments: Fragments | None = None) -> dict[str, Any]:
    """The site-wide context every template receives (`fragments`: pieces kept by a preview)."""
    services = [s for s in catalogue.services if in_force(s, today)]
    by_category: dict[str, list[m.Service]] = {c.id: [] for c in catalogue.config.categories}
    for service in services:
        by_category[service.category].append(service)
    by_code = {s.code: s for s in services}
    current = [n for n in catalogue.notices if n.valid_from <= today and not (n.valid_until and n.valid_until < today)]
    upcoming = [n for n in catalogue.notices if n.valid_from > today]
    archived = [n for n in catalogue.notices if n.valid_until and n.valid_until < today]
    return {
        "config": catalogue.config,
        "agency": catalogue.agency,
        "offices": catalogue.offices,
        "categories": catalogue.config.categories,
        "by_category": by_category,
        "services": services,
        "services_expired": [s for s in catalogue.services if not in_force(s, today)],
        "downloads": _downloads(services),
        "popular": [by_code[c] for c in catalogue.config.popular if c in by_code],
        "posts": [_post_view(catalogue, p) for p in catalogue.posts],
        "window_services": _window_services(services),
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
        "matrices": disclosure.matrices(services, fragments),
        "forms": catalogue.config.forms,
        "today": today,
    }


def _json(value: Any) -> str:
    """JSON as catalogue.json writes it: compact, Chinese as it is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _entry(service: m.Service) -> str:
    """One guide's entry in catalogue.json."""
    return _json(service.model_dump(mode="json"))


def catalogue_json(catalogue: Catalogue, today: date, fragments: Fragments | None = None) -> str:
    """Open data: every service and the places that handle them, as JSON (`fragments` keeps each guide's entry
    in a preview; the text is what one json.dumps of the whole would write)."""
    head = {
        "generated": today.isoformat(),
        "agency": catalogue.agency.model_dump(mode="json"),
        "offices": [o.model_dump(mode="json") for o in catalogue.offices],
    }
    entries = (piece(fragments, "json", s, functools.partial(_entry, s)) for s in catalogue.services)
    return f'{_json(head)[:-1]},"services":[{",".join(entries)}]}}'
