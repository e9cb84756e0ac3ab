"""From a valid form to a stored record: shared by the citizens' forms, the intake clerk's form and the API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session
from wtforms import Field, Form
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from core.vocab import BAD_UP_TO, CHANNELS, LEVELS
from forms_api import catalogue, dao, workflow
from forms_api.forms import options
from forms_api.models import Evaluation, utcnow
from forms_api.privacy import normalise_id_number, normalise_phone
from forms_api.views import content, engine_context, local_time, vault

OTHER = "other"
REFERENCE = re.compile(r"[A-Za-z0-9-]+")  # a 办件编号 or a 12345 工单号: what the hall's systems print


def reference_number(message: str) -> Any:
    """A number printed by another system (办件编号, 12345 工单号): ASCII letters, digits and hyphens only."""

    def check(_form: Form, field: Field) -> None:
        if field.data and not REFERENCE.fullmatch(field.data):
            raise ValidationError(message)

    return check


def target_choices(first: str = "请选择", other: str | None = None) -> list[SelectChoice]:
    """Every window, post, staff member and service, for a select box (made once per app: the targets are the
    content the app started with, and every citizen's form needs them). Callers must not change the list."""
    made: dict[tuple[str, str | None], list[SelectChoice]] = current_app.extensions.setdefault("target_choices", {})
    if (first, other) not in made:
        extra = [(OTHER, other)] if other else []
        made[first, other] = options([("", first), *((t.key, t.label) for t in catalogue.all_targets()), *extra])
    return made[first, other]


def complaint_submission(form: Any, channel: str, token: str | None = None, receiver: str | None = None) -> Any:
    """The case a complaint form describes, from the web form, the API or the intake clerk's form."""
    chosen = catalogue.target(form.target.data or "")
    free_text = getattr(form, "target_text", None)
    label = chosen.label if chosen else (free_text.data if free_text is not None else "")
    return workflow.Submission(
        kind="complaint", channel=channel, target_type=chosen.key.split(":", 1)[0] if chosen else OTHER,
        target_ref=chosen.key if chosen else None, target_label=label,
        office=chosen.office if chosen else None, window=chosen.window if chosen else None,
        matter=form.matter.data, demand=form.demand.data or None, name=form.name.data or None,
        phone=normalise_phone(form.phone.data) or None,
        id_number=normalise_id_number(form.id_number.data or "") or None,
        first_receiver=receiver, token=token,
    )  # fmt: skip


def suggestion_submission(form: Any, token: str | None) -> workflow.Submission:
    """The 意见建议 case a suggestion form describes."""
    chosen = catalogue.target(form.target.data or "")
    return workflow.Submission(
        kind="suggestion", channel="online", target_type=chosen.key.split(":", 1)[0] if chosen else OTHER,
        target_ref=chosen.key if chosen else None, target_label=chosen.label if chosen else "综合",
        office=chosen.office if chosen else None, window=chosen.window if chosen else None,
        matter=form.content.data, name=form.name.data or None,
        phone=normalise_phone(form.phone.data) if form.phone.data else None, token=token,
    )  # fmt: skip


def service_places(target_key: str) -> list[tuple[str, str]] | None:
    """The (office, window) pairs that handle a service target, in content order; None for any other target."""
    if not target_key.startswith("service:"):
        return None
    places: dict[str, list[tuple[str, str]]] | None = current_app.extensions.get("service_places")
    if places is None:  # built whole, then published: a rating never scans every service, nor sees half a table
        places = {s.code: [(h.office, w) for h in s.handling for w in h.windows] for s in content().services}
        current_app.extensions["service_places"] = places
    return places.get(target_key.removeprefix("service:"))


def credited_place(chosen: catalogue.Target, *windows: str | None) -> tuple[str | None, str | None]:
    """Where a rating counts. A window, post or staff member is their own place; a service counts at its only
    window, else at the first of `windows` ("office:number": the citizen's choice, the counter's QR card) that
    handles it, else at its office alone when there is one office, never at a guess."""
    places = service_places(chosen.key)
    if places is None:
        return chosen.office, chosen.window
    if len(places) == 1:
        return places[0]
    for key in windows:
        office, _, number = (key or "").partition(":")
        if (office, number) in places:
            return office, number
    offices = {office for office, _ in places}
    return (offices.pop() if len(offices) == 1 else None), None


def _promise() -> dict[str, str]:
    """What the hall promises about a 差评, in procedure.yml's numbers."""
    procedure = content().procedure
    promise = f"{procedure.verify.text()}内回访核实，核实后{procedure.rectify.text()}内整改"
    return {"days": str(procedure.rectify.days), "promise": promise}


def _rectification(session: Session, rating: Evaluation) -> dict[str, str] | None:
    """The 差评整改 case of a rating, as shown to the citizen (None for a good rating)."""
    case = dao.get_case(session, rating.case_id) if rating.case_id else None
    if case is None:
        return None
    return {"no": case.receipt_no, "code": vault().open(case.query_code_enc) or "", **_promise()}


def save_evaluation(
    session: Session, target_key: str, level: int, reason: str | None, token: str | None,
    business_no: str | None = None, windows: Sequence[str | None] = (),
) -> Any:  # fmt: skip
    """Store a rating once per token; a bad one also opens its 差评整改 case through the engine (a system move).
    It counts where credited_place says, `windows` being what the citizen chose and the counter card they used.

    Returns the 差评整改 case's numbers for the citizen, or None for a good rating."""
    chosen = catalogue.target(target_key)
    if chosen is None:
        raise ValueError(target_key)  # the forms offer known targets only
    office, window = credited_place(chosen, *windows)
    business_no = business_no or None
    fingerprint = f"{chosen.key}\n{level}\n{reason or ''}\n{business_no or ''}\n{office or ''}:{window or ''}"
    rating, created = dao.add_evaluation(session, {
        "submission_token": token, "submission_digest": vault().digest(fingerprint), "level": level,
        "target_type": chosen.key.split(":")[0], "target_ref": chosen.key, "target_label": chosen.label,
        "office": office, "window": window, "reason": reason or None, "business_no": business_no, "case_id": None,
        "created_at": utcnow(),
    })  # fmt: skip
    if not created or level > BAD_UP_TO:
        return _rectification(session, rating)
    item = workflow.Submission(kind="rectification", channel="evaluation", target_type=rating.target_type,
                               target_ref=chosen.key, target_label=chosen.label, office=office,
                               window=window, matter=f"【{LEVELS[level]}】{reason}")  # fmt: skip
    receipt = workflow.submit(session, vault(), item, workflow.CITIZEN, engine_context(session))
    receipt.case.business_no = business_no  # set here, not through Submission: the engine is being reworked
    workflow.apply(session, receipt.case, "open_rectification", workflow.SYSTEM, engine_context(session))
    rating.case_id = receipt.case.id
    return {"no": receipt.case.receipt_no, "code": receipt.query_code, **_promise()}


def slip(receipt: workflow.Receipt) -> dict[str, str]:
    """What the 受理回执 prints: both numbers, the intake deadline and the procedure's next steps."""
    case, procedure = receipt.case, content().procedure
    return {
        "no": case.receipt_no, "code": receipt.query_code, "kind": case.kind,
        "channel": CHANNELS.get(case.channel, case.channel), "deadline": f"{case.deadline or ''}",
        "submitted": local_time(case.created_at), **{name: limit.text() for name, limit in procedure.limits().items()},
    }  # fmt: skip
