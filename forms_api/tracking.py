"""办件查询: the receipt number and query code show one case's status, deadlines and reply; nothing else."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from forms_api import dao, states, workflow
from forms_api.errors import TransitionRefused
from forms_api.forms import BaseForm
from forms_api.models import Case
from forms_api.security import exempt, limiter, public_limit
from forms_api.views import db_session, engine_context, vault, write

bp = Blueprint("tracking", __name__, url_prefix="/forms")
CITIZEN_ACTIONS = tuple(t.name for t in states.TRANSITIONS.values() if "citizen" in t.roles)
NOT_FOUND = "受理编号或查询码不正确，请核对回执"


class TrackForm(BaseForm):
    """Both numbers from the receipt."""

    receipt_no = StringField("受理编号", validators=[DataRequired("请填写受理编号"), Length(max=32)])
    query_code = StringField("查询码", validators=[DataRequired("请填写查询码"), Length(max=16)])


class ActForm(TrackForm):
    """A complainant's own action on their case."""

    action = HiddenField(validators=[AnyOf(CITIZEN_ACTIONS, message="没有这个操作")])
    note = StringField("说明（选填）", validators=[Length(max=500, message="最多 500 个字")])


def _show(case: Case, form: TrackForm, message: str | None = None) -> ResponseReturnValue:
    """The status page; the complainant sees their case and its replies, never staff or other cases."""
    return render_template(
        "forms_api/status.html", case=case, form=form, actions=states.available(case.state, "citizen"),
        message=message, events=list(case.events), replies=workflow.replies(case),
    )  # fmt: skip


def _not_found(form: TrackForm) -> ResponseReturnValue:
    form.query_code.errors = [NOT_FOUND]
    return render_template("forms_api/track.html", form=form), 404


@bp.route("/track/", methods=["GET", "POST"])
@limiter.limit(public_limit, methods=["POST"], exempt_when=exempt)
def track() -> ResponseReturnValue:
    """Ask for both numbers; show the case when they match."""
    form = TrackForm()
    if not form.validate_on_submit():
        return render_template("forms_api/track.html", form=form), 400 if request.method == "POST" else 200
    case = dao.find_case(db_session(), vault(), form.receipt_no.data, form.query_code.data)
    return _not_found(form) if case is None else _show(case, form)


@bp.post("/track/act")
@limiter.limit(public_limit, exempt_when=exempt)
def act() -> ResponseReturnValue:
    """Withdraw, or say whether the reply satisfied: each is one audited transition."""
    form = ActForm()
    if not form.validate_on_submit():
        return render_template("forms_api/track.html", form=form), 400
    with write() as s:
        case = dao.find_case(s, vault(), form.receipt_no.data, form.query_code.data)
        if case is None:
            return _not_found(form)
        try:
            workflow.apply(s, case, form.action.data, workflow.CITIZEN, engine_context(s), note=form.note.data or None)
            message = states.TRANSITIONS[form.action.data].done
        except TransitionRefused as exc:
            message = str(exc)
    case = dao.find_case(db_session(), vault(), form.receipt_no.data, form.query_code.data)
    return _show(case, form, message) if case else _not_found(form)
