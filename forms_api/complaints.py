"""我要投诉 and 意见建议: citizens' forms that give a receipt only after the record is committed."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from forms_api import catalogue, workflow
from forms_api.errors import ReusedToken
from forms_api.forms import Honeypot, form_token, id_number, phone, refill
from forms_api.security import exempt, limiter, public_limit
from forms_api.submissions import OTHER, complaint_submission, slip, suggestion_submission, target_choices
from forms_api.views import db_session, engine_context, vault, write

bp = Blueprint("complaints", __name__, url_prefix="/forms")


class ComplaintForm(Honeypot):
    """投诉: names its target and its matter; personal data only as much as a reply needs."""

    target = SelectField("投诉对象", validators=[DataRequired("请选择投诉对象")])
    target_text = StringField("其他投诉对象", validators=[Length(max=100, message="最多 100 个字")])
    matter = TextAreaField(
        "投诉事项",
        validators=[DataRequired("请填写投诉事项"), Length(max=2000, message="投诉事项最多 2000 个字")],
    )
    demand = TextAreaField("诉求", validators=[Optional(), Length(max=1000, message="诉求最多 1000 个字")])
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=40, message="姓名最多 40 个字")])
    phone = StringField(
        "联系电话",
        validators=[DataRequired("请填写联系电话"), phone()],
        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"},
    )
    id_number = StringField("身份证号（选填）", validators=[Optional(), id_number()])
    consent = BooleanField(
        "我已阅读并同意上述个人信息收集说明", validators=[DataRequired("请阅读并同意个人信息收集说明")]
    )
    token = HiddenField()

    def validate_target_text(self, field: StringField) -> None:
        """Free text is required exactly when the citizen picked 其他."""
        if self.target.data == OTHER and not field.data:
            raise ValidationError("请写明投诉对象（窗口、人员或事项）")


def complaint_choices() -> list[SelectChoice]:
    """Targets of a complaint, and 其他 for anything else."""
    return target_choices(other="其他（请在下方写明）")


def _prefill(form: ComplaintForm) -> None:
    """A link from a service or window page preselects its target."""
    for arg, prefix in (("service", "service:"), ("window", "window:"), ("post", "post:"), ("staff", "staff:")):
        key = prefix + request.args.get(arg, "")
        if request.args.get(arg) and catalogue.target(key):
            form.target.data = key


@bp.route("/complaint/", methods=["GET", "POST"])
@limiter.limit(public_limit, methods=["POST"], exempt_when=exempt)
def complaint() -> ResponseReturnValue:
    """Show the form; on a valid POST save first, then redirect to the receipt."""
    form = ComplaintForm()
    form.target.choices = complaint_choices()
    if request.method == "GET":
        form.token.data = uuid.uuid4().hex
        _prefill(form)
    if not form.validate_on_submit():
        return render_template("forms_api/complaint.html", form=form), 400 if request.method == "POST" else 200
    if form.website.data:  # a bot: say nothing useful, store nothing
        abort(400)
    item = complaint_submission(form, "online", token=form_token(form.token.data))
    draft = workflow.prepare(vault(), item, engine_context(db_session()))  # before the write lock
    try:
        with write() as s:
            receipt = workflow.register(s, vault(), draft, workflow.CITIZEN)
    except ReusedToken as exc:
        return refill(form, exc, "forms_api/complaint.html")
    # Shown once on the next page, never in a URL (URLs end up in logs and Referer headers).
    session["receipt"] = vault().seal(json.dumps(slip(receipt)))
    return redirect(url_for("complaints.done"), code=303)


@bp.get("/complaint/done")
def done() -> ResponseReturnValue:
    """The receipt number and query code, once."""
    sealed = session.pop("receipt", None)
    opened = vault().open(sealed) if isinstance(sealed, str) else None  # the cookie is signed, not secret
    if opened is None:
        return redirect(url_for("tracking.track"))
    receipt = json.loads(opened)
    return render_template("forms_api/receipt.html", receipt=receipt)


class SuggestionForm(Honeypot):
    """意见建议: the content is required; contact details only if a reply is wanted."""

    target = SelectField("涉及的窗口或事项（选填）")
    content = TextAreaField(
        "意见建议", validators=[DataRequired("请填写意见建议"), Length(max=2000, message="最多 2000 个字")]
    )
    name = StringField("姓名（选填）", validators=[Optional(), Length(max=40, message="姓名最多 40 个字")])
    phone = StringField(
        "联系电话（选填）", validators=[Optional(), phone()], render_kw={"type": "tel", "autocomplete": "tel"}
    )
    consent = BooleanField("我已阅读并同意上述个人信息收集说明")
    token = HiddenField()

    def validate_consent(self, field: BooleanField) -> None:
        """Consent is needed exactly when personal data is given."""
        if (self.name.data or self.phone.data) and not field.data:
            raise ValidationError("留下姓名或电话时，请阅读并同意个人信息收集说明")


@bp.route("/suggestion/", methods=["GET", "POST"])
@limiter.limit(public_limit, methods=["POST"], exempt_when=exempt)
def suggestion() -> ResponseReturnValue:
    """An opinion or suggestion (意见反映类), answered by a supervisor."""
    form = SuggestionForm()
    form.target.choices = target_choices("不涉及具体窗口或事项")
    if request.method == "GET":
        form.token.data = uuid.uuid4().hex
    if not form.validate_on_submit():
        return render_template("forms_api/suggestion.html", form=form), 400 if request.method == "POST" else 200
    if form.website.data:
        abort(400)
    item = suggestion_submission(form, form_token(form.token.data))
    draft = workflow.prepare(vault(), item, engine_context(db_session()))
    try:
        with write() as s:
            receipt = workflow.register(s, vault(), draft, workflow.CITIZEN)
    except ReusedToken as exc:
        return refill(form, exc, "forms_api/suggestion.html")
    session["receipt"] = vault().seal(json.dumps(slip(receipt)))
    return redirect(url_for("complaints.done"), code=303)
