"""我要评价 (好差评): five levels for a window, post or service, optionally for one 办件 (一事一评); a bad rating
opens a 差评整改 case."""

from __future__ import annotations

import uuid
from urllib.parse import urljoin

import segno
from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.vocab import BAD_UP_TO, LEVELS
from forms_api import catalogue
from forms_api.errors import ReusedToken
from forms_api.forms import Honeypot, form_token, options, refill
from forms_api.security import exempt, limiter, public_limit, role_required
from forms_api.submissions import reference_number, save_evaluation, service_places, target_choices
from forms_api.views import content, write

bp = Blueprint("evaluations", __name__, url_prefix="/forms")
BAD_LEVELS = frozenset(str(level) for level in LEVELS if level <= BAD_UP_TO)


class EvaluationForm(Honeypot):
    """One rating; the reason is required for 不满意 and 非常不满意."""

    target = SelectField("评价对象", validators=[DataRequired("请选择评价对象")])
    level = RadioField("评价", choices=options((str(k), v) for k, v in LEVELS.items()),
                       validators=[DataRequired("请选择评价等级")])  # fmt: skip
    # Values stay strings (WTForms compares them with the choices); only valid ones reach int() below.
    reason = TextAreaField("原因或建议", validators=[Length(max=1000, message="最多 1000 个字")])
    business_no = StringField(
        "办件编号（选填）",
        validators=[Optional(), Length(max=40, message="办件编号最多 40 个字符"),
                    reference_number("办件编号只能包含字母、数字和连字符")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )  # fmt: skip
    # Which window handled a rated service: asked only when the service is handled at more than one and the
    # counter card did not say. Checked against the service here, not with a select's own check (no JS).
    window = SelectField("办理窗口（选填）", validators=[Optional()], validate_choice=False)
    via = HiddenField()  # the window whose counter card (QR code) led here
    token = HiddenField()

    def validate_reason(self, field: TextAreaField) -> None:
        """A bad rating must say why: it is put right, and the reason is what gets fixed."""
        # Compared with the choices, never int(): "²" is a digit to isdigit() and a ValueError to int().
        if self.level.data in BAD_LEVELS and not field.data:
            raise ValidationError("选择“不满意”或“非常不满意”时，请写明原因")

    def validate_window(self, field: SelectField) -> None:
        """A window chosen for a service must be one that handles it; for any other target it is not used."""
        places = service_places(self.target.data or "")
        office, _, number = (field.data or "").partition(":")
        if field.data and places is not None and (office, number) not in places:
            raise ValidationError("该事项不在所选窗口办理")


def window_choices() -> list[SelectChoice]:
    """Every window that handles some service, for 「办理窗口」."""
    handling = {f"{h.office}:{w}" for s in content().services for h in s.handling for w in h.windows}
    windows = [(t.key.removeprefix("window:"), t.label) for t in catalogue.all_targets() if t.key.startswith("window:")]
    return options([("", "不清楚或不选"), *((key, label) for key, label in windows if key in handling)])


@bp.route("/evaluation/", methods=["GET", "POST"])
@limiter.limit(public_limit, methods=["POST"], exempt_when=exempt)
def evaluation() -> ResponseReturnValue:
    """The rating form, prefilled from a counter QR code or a service page link."""
    form = EvaluationForm()
    form.target.choices = target_choices()
    form.window.choices = window_choices()
    if request.method == "GET":
        form.token.data = uuid.uuid4().hex
        for arg in ("window", "post", "staff", "service"):
            key = f"{arg}:{request.args.get(arg, '')}"
            if request.args.get(arg) and catalogue.target(key):
                form.target.data = key
                if arg == "window":  # a service rated from here is credited to this window, if it handles it
                    form.via.data = request.args[arg]
    if not form.validate_on_submit():
        return render_template("forms_api/evaluation.html", form=form), 400 if request.method == "POST" else 200
    if form.website.data:
        abort(400)
    try:
        with write() as s:
            receipt = save_evaluation(
                s, form.target.data, int(form.level.data), form.reason.data, form_token(form.token.data),
                business_no=form.business_no.data, windows=(form.window.data, form.via.data),
            )  # fmt: skip
    except ReusedToken as exc:
        return refill(form, exc, "forms_api/evaluation.html")
    return render_template("forms_api/evaluation_done.html", receipt=receipt), 200


def evaluation_url(key: str) -> str:
    """Absolute address of the rating form for one target, for QR codes printed at the counter."""
    config = content().config
    kind, _, ref = key.partition(":")
    return urljoin(config.site_url, config.forms.evaluation) + f"?{kind}={ref}"


@bp.get("/evaluation/qr/")
@role_required()
def qr_cards() -> ResponseReturnValue:
    """A printable page of counter cards: one QR code per window, generated offline."""
    cards = []
    for t in catalogue.all_targets():
        if t.key.startswith("window:"):
            url = evaluation_url(t.key)
            svg = segno.make(url, error="m").svg_inline(scale=4, border=2)
            cards.append({"label": t.label, "url": url, "svg": Markup(svg)})
    return render_template("forms_api/qr_cards.html", cards=cards)
