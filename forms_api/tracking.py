"""办件查询: the receipt number and query code show one case's status, deadlines and reply; nothing else."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from forms_api import catalogue, states, workflow
from forms_api.forms import BaseForm
from forms_api.models import Case
from forms_api.security import PUBLIC_POST_LIMIT, limiter
from forms_api.views import calendar, db_session, today, vault, write

bp = Blueprint("tracking", __name__, url_prefix="/forms")
CITIZEN_ACTIONS = ("withdraw", "satisfied", "unsatisfied")


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
    actions = [t for t in states.available(case.state, "citizen")]
    return render_template(
        "forms_api/status.html", case=case, form=form, actions=actions, states=states.STATES,
        message=message, events=list(case.events), local_time=workflow.local_time, replies=workflow.replies(case),
    )  # fmt: skip


@bp.route("/track/", methods=["GET", "POST"])
@limiter.limit(PUBLIC_POST_LIMIT, methods=["POST"])
def track() -> ResponseReturnValue:
    """Ask for both numbers; show the case when they match."""
    form = TrackForm()
    if not form.validate_on_submit():
        return render_template("forms_api/track.html", form=form), 400 if request.method == "POST" else 200
    case = workflow.find(db_session(), vault(), form.receipt_no.data, form.query_code.data)
    if case is None:
        form.query_code.errors = ["受理编号或查询码不正确，请核对回执"]
        return render_template("forms_api/track.html", form=form), 404
    return _show(case, form)


@bp.post("/track/act")
@limiter.limit(PUBLIC_POST_LIMIT)
def act() -> ResponseReturnValue:
    """Withdraw, or say whether the reply satisfied: each is one audited transition."""
    form = ActForm()
    if not form.validate_on_submit():
        return render_template("forms_api/track.html", form=form), 400
    limit = catalogue.get().config.resupervision_limit
    with write() as s:
        case = workflow.find(s, vault(), form.receipt_no.data, form.query_code.data)
        if case is None:
            form.query_code.errors = ["受理编号或查询码不正确，请核对回执"]
            return render_template("forms_api/track.html", form=form), 404
        try:
            workflow.apply(s, case, form.action.data, workflow.CITIZEN, calendar=calendar(), today=today(),
                           resupervision_limit=limit, note=form.note.data or None)  # fmt: skip
            message = {"withdraw": "已撤销投诉", "satisfied": "感谢您的评价，本案已办结",
                       "unsatisfied": "已收到您的意见"}[form.action.data]  # fmt: skip
        except states.TransitionRefused as exc:
            message = str(exc)
    case = workflow.find(db_session(), vault(), form.receipt_no.data, form.query_code.data)
    return _show(case, form, message)  # type: ignore[arg-type]
