"""From a valid form to a stored record: shared by the citizens' forms, the intake clerk's form and the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from core.vocab import BAD_UP_TO, LEVELS
from forms_api import catalogue, dao, workflow
from forms_api.forms import options
from forms_api.models import Evaluation
from forms_api.privacy import normalise_id_number, normalise_phone
from forms_api.views import content, engine_context, today, vault

OTHER = "other"


def target_choices(first: str = "请选择", other: str | None = None) -> list[SelectChoice]:
    """Every window, post, staff member and service, for a select box."""
    extra = [(OTHER, other)] if other else []
    return options([("", first), *((t.key, t.label) for t in catalogue.all_targets()), *extra])


def complaint_submission(form: Any, channel: str, token: str | None = None, receiver: str | None = None) -> Any:
    """The case a complaint form describes, from the web form, the API or the intake clerk's form."""
    chosen = catalogue.target(form.target.data or "")
    free_text = getattr(form, "target_text", None)
    label = chosen.label if chosen else (free_text.data if free_text is not None else "")
    return workflow.Submission(
        kind="complaint", channel=channel, target_type=chosen.key.split(":", 1)[0] if chosen else OTHER,
        target_ref=chosen.key if chosen else None, target_label=label,
        office=chosen.office if chosen else None, window=chosen.window if chosen else None,
        matter=form.matter.data, demand=form.demand.data or None, name=form.name.data,
        phone=normalise_phone(form.phone.data), id_number=normalise_id_number(form.id_number.data or "") or None,
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


def _rectification(session: Session, rating: Evaluation) -> dict[str, str] | None:
    """The 差评整改 case of a rating, as shown to the citizen (None for a good rating)."""
    case = dao.get_case(session, rating.case_id) if rating.case_id else None
    if case is None:
        return None
    days = str(content().config.rectification_days)
    return {"no": case.receipt_no, "code": vault().open(case.query_code_enc) or "", "days": days}


def save_evaluation(session: Session, target_key: str, level: int, reason: str | None, token: str | None) -> Any:
    """Store a rating once per token; a bad one also opens its 差评整改 case through the engine (a system move).

    Returns the 差评整改 case's numbers for the citizen, or None for a good rating."""
    chosen = catalogue.target(target_key)
    if chosen is None:
        raise ValueError(target_key)  # the forms offer known targets only
    fingerprint = f"{chosen.key}\n{level}\n{reason or ''}"
    rating, created = dao.add_evaluation(session, Evaluation(
        submission_token=token, submission_digest=vault().digest(fingerprint), level=level,
        target_type=chosen.key.split(":")[0], target_ref=chosen.key, target_label=chosen.label,
        office=chosen.office, window=chosen.window, reason=reason or None,
    ))  # fmt: skip
    if not created or level > BAD_UP_TO:
        return _rectification(session, rating)
    item = workflow.Submission(kind="rectification", channel="evaluation", target_type=rating.target_type,
                               target_ref=chosen.key, target_label=chosen.label, office=chosen.office,
                               window=chosen.window, matter=f"【{LEVELS[level]}】{reason}")  # fmt: skip
    receipt = workflow.submit(session, vault(), item, workflow.CITIZEN, today())
    workflow.apply(session, receipt.case, "open_rectification", workflow.SYSTEM, engine_context(session))
    rating.case_id = receipt.case.id
    return {"no": receipt.case.receipt_no, "code": receipt.query_code,
            "days": str(content().config.rectification_days)}  # fmt: skip
