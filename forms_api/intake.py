"""登记: the intake clerk registers a complaint received on site, by phone or letter, from 12345 or the 意见箱."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.vocab import CHANNELS
from forms_api import catalogue, workflow
from forms_api.errors import Forbidden
from forms_api.forms import BaseForm, id_number, options, phone
from forms_api.security import current_user, role_required
from forms_api.submissions import complaint_submission, reference_number, slip, target_choices
from forms_api.views import content, engine_context, vault, write

bp = Blueprint("intake", __name__, url_prefix="/staff")
# What the clerk registers; 网上 is the citizens' own form, 差评 and 接口 come in by themselves.
INTAKE_CHANNELS = ("onsite", "phone", "letter", "hotline", "box")
ANONYMOUS_ALLOWED = frozenset({"box"})  # a slip in the 意见箱 may be unsigned: then no reply is owed
PERSON_HINT = "意见箱投诉单未署名的可不填；其他来源必填"


def _required_unless_box(message: str) -> Any:
    """Required for every channel but the 意见箱, whose slips may be anonymous."""

    def check(form: RegisterForm, field: StringField) -> None:
        if not field.data and form.channel.data not in ANONYMOUS_ALLOWED:
            raise ValidationError(message)

    return check


class RegisterForm(BaseForm):
    """A complaint the hall received other than through its web form (首问负责)."""

    channel = SelectField("来源", choices=options((c, CHANNELS[c]) for c in INTAKE_CHANNELS),
                          validators=[DataRequired("请选择来源")])  # fmt: skip
    hotline_no = StringField(
        "12345工单号（选填）",
        validators=[Optional(), Length(max=40, message="工单号最多 40 个字符"),
                    reference_number("工单号只能包含字母、数字和连字符")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )  # fmt: skip
    target = SelectField("投诉对象", validators=[DataRequired("请选择投诉对象")])
    matter = TextAreaField("投诉事项", validators=[DataRequired("请填写投诉事项"), Length(max=2000)])
    demand = TextAreaField("诉求", validators=[Optional(), Length(max=1000)])
    name = StringField("姓名", validators=[_required_unless_box("请填写姓名"), Length(max=40)])
    phone = StringField(
        "联系电话",
        validators=[_required_unless_box("请填写联系电话"), phone()],
        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"},
    )
    id_number = StringField("身份证号（选填）", validators=[Optional(), id_number()])
    # For 12345 and the 意见箱 nobody was asked first: then this is who registered it (登记人).
    first_receiver = SelectField("首问负责人（工号）", validators=[DataRequired("请选择首问负责人")])

    def validate_hotline_no(self, field: StringField) -> None:
        """Only a 12345 transfer has a 工单号; on another channel it would be a wrong channel."""
        if field.data and self.channel.data != "hotline":
            raise ValidationError("只有来源为“12345转办”时才填写工单号")


def staff_choices() -> list[SelectChoice]:
    """Every staff member, by 工号: 「QX0117 俞倩」."""
    return options([("", "请选择"), *((s.number, f"{s.number} {s.name}") for s in content().staff)])


def receiver_label(number: str) -> str:
    """How the case records its 首问负责人: 「俞倩（QX0117）」."""
    member = content().staff_member(number)
    return f"{member.name}（{member.number}）"


def _page(form: RegisterForm, status: int = 200) -> ResponseReturnValue:
    return render_template("forms_api/staff/register.html", form=form, person_hint=PERSON_HINT), status


@bp.route("/register", methods=["GET", "POST"])
@role_required("intake")
def register() -> ResponseReturnValue:
    """Register a complaint received on site, by phone, by letter, transferred from 12345 or from the 意见箱."""
    user = current_user()
    if user is None:
        raise Forbidden()
    form = RegisterForm()
    form.target.choices = target_choices()
    form.first_receiver.choices = staff_choices()
    if request.method == "GET" and user.badge in {s.number for s in content().staff}:
        form.first_receiver.data = user.badge  # usually the clerk at the desk
    if not form.validate_on_submit():
        return _page(form, 400 if request.method == "POST" else 200)
    if catalogue.target(form.target.data) is None:
        form.target.errors = ["请选择投诉对象"]
        return _page(form, 400)
    item = complaint_submission(form, form.channel.data, receiver=receiver_label(form.first_receiver.data))
    with write() as s:
        receipt = workflow.submit(s, vault(), item, workflow.Actor(user.username, user.role), engine_context(s))
        receipt.case.business_no = form.hotline_no.data or None  # the 12345 工单号, to answer the platform by
    # Shown on this response only: a flash would carry the query code in the (signed, readable) cookie.
    return render_template("forms_api/receipt.html", receipt=slip(receipt), staff_case=receipt.case.id)
