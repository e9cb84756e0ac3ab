"""进度查询: the receipt number and query code show one case's status, deadlines and reply; nothing else."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from forms_api import dao, states, workflow
from forms_api.errors import TransitionRefused
from forms_api.forms import BaseForm
from forms_api.models import Case
from forms_api.security import exempt, limiter, public_limit
from forms_api.views import content, db_session, engine_context, vault, write

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
    reason = TextAreaField("不满意的理由", validators=[Length(max=500, message="最多 500 个字")])
    confirm = HiddenField()


def _show(case: Case, form: TrackForm, message: str | None = None, confirm: bool = False,
          status: int = 200) -> ResponseReturnValue:  # fmt: skip
    """The status page; the complainant sees what they wrote, each step, reply and extension, never staff names
    or other cases."""
    actions = {t.name: t for t in states.available(case.state, "citizen")}
    act_form = form if isinstance(form, ActForm) else ActForm(formdata=None)
    return render_template(
        "forms_api/status.html", case=case, form=form, act_form=act_form, actions=actions, message=message,
        events=workflow.public_events(case), replies=workflow.replies(case), confirm=confirm,
        step=states.OWED.get(case.state, ""), failed=status != 200,
        final=workflow.reopenings(case) >= content().procedure.resupervision_rounds,
    ), status  # fmt: skip


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
    if form.action.data == "withdraw" and form.confirm.data != "yes":  # ask once more before withdrawing
        case = dao.find_case(db_session(), vault(), form.receipt_no.data, form.query_code.data)
        return _show(case, form, confirm=True) if case else _not_found(form)
    status = 200
    with write() as s:
        case = dao.find_case(s, vault(), form.receipt_no.data, form.query_code.data)
        if case is None:
            return _not_found(form)
        try:
            inputs = {"reason": (form.reason.data or "").strip()}
            workflow.apply(s, case, form.action.data, workflow.CITIZEN, engine_context(s), inputs)
            message = states.TRANSITIONS[form.action.data].done
            if case.state != states.TRANSITIONS[form.action.data].target:  # the last round: recorded, closed
                message = "已记录您的意见。复督结论为最终处理意见，本案已办结"
        except TransitionRefused as exc:
            message, status = str(exc), 400
            form.reason.errors = [message] if form.action.data == "unsatisfied" else []
    case = dao.find_case(db_session(), vault(), form.receipt_no.data, form.query_code.data)
    return _show(case, form, message, status=status) if case else _not_found(form)
