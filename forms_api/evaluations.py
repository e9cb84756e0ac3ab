"""我要评价 (好差评): five levels for a window, post or service; a bad rating opens a 差评整改 case."""

from __future__ import annotations

import uuid
from urllib.parse import urljoin

import segno
from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from forms_api import catalogue, workflow
from forms_api.forms import Honeypot, form_token, options
from forms_api.models import Case, Evaluation
from forms_api.security import PUBLIC_POST_LIMIT, limiter, role_required
from forms_api.views import calendar, today, vault, write

bp = Blueprint("evaluations", __name__, url_prefix="/forms")
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD = 2  # 不满意 and below require a reason and open a case


class EvaluationForm(Honeypot):
    """One rating; the reason is required for 不满意 and 非常不满意."""

    target = SelectField("评价对象", validators=[DataRequired("请选择评价对象")])
    level = RadioField("评价", choices=options((str(k), v) for k, v in LEVELS.items()),
                       validators=[DataRequired("请选择评价等级")])  # fmt: skip
    # Values stay strings (WTForms compares them with the choices); only valid ones reach int() below.
    reason = TextAreaField("原因或建议", validators=[Length(max=1000, message="最多 1000 个字")])
    token = HiddenField()

    def validate_reason(self, field: TextAreaField) -> None:
        """A bad rating must say why: it is put right, and the reason is what gets fixed."""
        if self.level.data in ("1", "2") and not field.data:
            raise ValidationError("选择“不满意”或“非常不满意”时，请写明原因")


def _targets() -> list[tuple[str, str]]:
    return [("", "请选择"), *((t.key, t.label) for t in catalogue.all_targets())]


@bp.route("/evaluation/", methods=["GET", "POST"])
@limiter.limit(PUBLIC_POST_LIMIT, methods=["POST"])
def evaluation() -> ResponseReturnValue:
    """The rating form, prefilled from a counter QR code or a service page link."""
    form = EvaluationForm()
    form.target.choices = options(_targets())
    if request.method == "GET":
        form.token.data = uuid.uuid4().hex
        for arg in ("window", "post", "staff", "service"):
            key = f"{arg}:{request.args.get(arg, '')}"
            if request.args.get(arg) and catalogue.target(key):
                form.target.data = key
    if not form.validate_on_submit():
        return render_template("forms_api/evaluation.html", form=form), 400 if request.method == "POST" else 200
    if form.website.data:
        abort(400)
    receipt = _save(form, form_token(form.token.data))
    return render_template("forms_api/evaluation_done.html", receipt=receipt), 200


def _receipt(session: Session, rating: Evaluation) -> dict[str, str] | None:
    """The 差评整改 case of a rating, as shown to the citizen (None for a good rating)."""
    if rating.case_id is None:
        return None
    case = session.get_one(Case, rating.case_id)
    days = str(catalogue.get().config.rectification_days)
    return {"no": case.receipt_no, "code": vault().open(case.query_code_enc) or "", "days": days}


def _save(form: EvaluationForm, token: str | None) -> dict[str, str] | None:
    """Store the rating once per token; a bad one also opens its 差评整改 case. A repeat shows the first result."""
    chosen = catalogue.target(form.target.data)
    assert chosen is not None  # the select box only offers known targets
    level = int(form.level.data)
    with write() as s:
        if token and (first := s.scalar(select(Evaluation).where(Evaluation.submission_token == token))):
            return _receipt(s, first)
        rating = Evaluation(submission_token=token, level=level, target_type=chosen.key.split(":")[0],
                            target_ref=chosen.key, target_label=chosen.label, office=chosen.office,
                            window=chosen.window, reason=form.reason.data or None)  # fmt: skip
        try:
            with s.begin_nested():
                s.add(rating)
                s.flush()
        except IntegrityError:  # its twin committed first (PostgreSQL)
            first = s.scalar(select(Evaluation).where(Evaluation.submission_token == token))
            return _receipt(s, first) if first else None
        if level > BAD:
            return None
        item = workflow.Submission(kind="rectification", channel="evaluation", target_type=rating.target_type,
                                   target_ref=chosen.key, target_label=chosen.label, office=chosen.office,
                                   window=chosen.window, matter=f"【{LEVELS[level]}】{form.reason.data}")  # fmt: skip
        receipt = workflow.submit(s, vault(), item, workflow.CITIZEN, today())
        days = catalogue.get().config.rectification_days
        workflow.open_rectification(s, receipt.case, calendar().add(today(), days))
        rating.case_id = receipt.case.id
        return {"no": receipt.case.receipt_no, "code": receipt.query_code, "days": str(days)}


def evaluation_url(key: str) -> str:
    """Absolute address of the rating form for one target, for QR codes printed at the counter."""
    config = catalogue.get().config
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
