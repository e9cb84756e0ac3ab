"""The staff console: login, the queue ordered by deadline, the case page and every transition."""

from __future__ import annotations

import uuid
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forms_api import catalogue, security, states, workflow
from forms_api.complaints import complaint_submission
from forms_api.forms import BaseForm, id_number, options, phone
from forms_api.models import Absence, Case, User, utcnow
from forms_api.privacy import mask_id_number, mask_name, mask_phone
from forms_api.security import LOGIN_LIMIT, ROLES, UNMASKED_ROLES, current_user, limiter, role_required
from forms_api.views import calendar, db_session, today, vault, write

bp = Blueprint("staff", __name__, url_prefix="/staff")
STAFF = tuple(ROLES)
CHANNELS = states.CHANNELS


class LoginForm(BaseForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码"), Length(max=200)])


class ActionForm(BaseForm):
    """Fields every transition may use; each action requires its own (see REQUIRED)."""

    version = HiddenField()
    reason = TextAreaField("不予受理的理由", validators=[Optional(), Length(max=1000)])
    referral = TextAreaField("告知去向（应向哪个部门反映）", validators=[Optional(), Length(max=1000)])
    reply = TextAreaField("答复或处理情况", validators=[Optional(), Length(max=4000)])
    opinion = TextAreaField("督办意见", validators=[Optional(), Length(max=2000)])
    days = IntegerField("答复期限（工作日）", validators=[Optional(), NumberRange(1, 60, "期限为 1 到 60 个工作日")])
    window = SelectField("责任窗口", validators=[Optional()])
    handling = TextAreaField("处理结果", validators=[Optional(), Length(max=4000)])
    rectification = TextAreaField("整改情况", validators=[Optional(), Length(max=4000)])
    note = StringField("备注", validators=[Optional(), Length(max=500)])


REQUIRED: dict[str, dict[str, str]] = {
    "refuse": {"reason": "请填写不予受理的理由", "referral": "请告知投诉人应向哪里反映"},
    "settle": {"reply": "请记录现场协调处理的情况"},
    "issue_order": {"opinion": "请填写督办意见", "days": "请填写答复期限", "window": "请选择责任窗口"},
    "record_handling": {"handling": "请填写处理结果"},
    "reply": {"reply": "请填写答复内容"},
}


class RegisterForm(BaseForm):
    """On-site, phone or letter complaints, registered by the intake clerk (首问负责)."""

    channel = SelectField("来源", choices=options([("onsite", "现场"), ("phone", "电话"), ("letter", "信函")]))
    target = SelectField("投诉对象", validators=[DataRequired("请选择投诉对象")])
    matter = TextAreaField("投诉事项", validators=[DataRequired("请填写投诉事项"), Length(max=2000)])
    demand = TextAreaField("诉求", validators=[Optional(), Length(max=1000)])
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=40)])
    phone = StringField(
        "联系电话",
        validators=[DataRequired("请填写联系电话"), phone()],
        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"},
    )
    id_number = StringField("身份证号（选填）", validators=[Optional(), id_number()])
    first_receiver = StringField("首问负责人", validators=[DataRequired("请填写首问负责人"), Length(max=64)])


def _windows() -> list[tuple[str, str]]:
    return [(f"{t.office}:{t.window}", t.label) for t in catalogue.all_targets() if t.key.startswith("window:")]


def _absent_posts() -> set[str]:
    """Posts whose A is marked absent now."""
    return set(db_session().scalars(select(Absence.post_id).where(Absence.ended_at.is_(None))))


def _assignee(office: str, window: str) -> str | None:
    """AB角: the post's A handles the 督办单, or its B while the A is marked absent."""
    absent = _absent_posts()
    for post in catalogue.get().posts:
        if post.office == office and window in post.windows:
            staff = catalogue.get().staff_member(post.b if post.id in absent else post.a)
            role = "B角" if post.id in absent else "A角"
            return f"{staff.name}（{staff.number}，{post.name}{role}）"
    return None


def _can_see(user: User, case: Case) -> bool:
    """A window lead sees only the cases of their own windows."""
    return user.role != "window-lead" or f"{case.office}:{case.window}" in (user.windows or [])


def _load(case_id: int) -> tuple[User, Case]:
    user = current_user()
    case = db_session().get(Case, case_id) if case_id < 2**63 else None
    if case is None or user is None:
        abort(404)
    if not _can_see(user, case):
        abort(403)
    return user, case


def _person(case: Case, role: str) -> dict[str, str]:
    """The complainant's details: in full for roles that call back, masked for auditors, and nothing at all
    for window leads, who may be the very person complained about."""
    if role == "window-lead":
        return {"name": "（投诉人信息不向窗口显示）", "phone": "", "id_number": ""}
    v = vault()
    name, tel, idn = v.open(case.name_enc), v.open(case.phone_enc), v.open(case.id_number_enc)
    if role in UNMASKED_ROLES:
        return {"name": name or "", "phone": tel or "", "id_number": idn or ""}
    return {"name": mask_name(name), "phone": mask_phone(tel), "id_number": mask_id_number(idn)}


_DUMMY: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash nobody's password matches, at the current hasher's cost; made once, not per login."""
    key = id(security.hasher)
    if key not in _DUMMY:
        _DUMMY[key] = security.hasher.hash(uuid.uuid4().hex)
    return _DUMMY[key]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"], key_func=lambda: "user:" + request.form.get("username", "")[:64])
def login() -> ResponseReturnValue:
    """用户名 and 密码; the same message whether the name or the password was wrong."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("forms_api/staff/login.html", form=form), 400 if request.method == "POST" else 200
    user = db_session().scalar(select(User).where(User.username == form.username.data, User.active.is_(True)))
    try:
        # An unknown name costs the same hash as a known one: timing does not tell which names exist.
        security.hasher.verify(user.password_hash if user else _dummy_hash(), form.password.data)
        if user is None:
            raise VerificationError
    except (VerificationError, InvalidHashError):
        form.password.errors = ["用户名或密码不正确"]
        return render_template("forms_api/staff/login.html", form=form), 401
    session.clear()
    session.update(uid=user.id, sv=user.session_version)
    session.permanent = True
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/staff/") and "//" not in target else url_for("staff.queue"))


@bp.post("/logout")
@role_required()
def logout() -> ResponseReturnValue:
    """End the session for good: the stored version moves on, so a replayed cookie is refused."""
    user = current_user()
    with write() as s:
        s.get_one(User, user.id).session_version += 1  # type: ignore[union-attr]
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/")
@role_required(*STAFF)
def queue() -> ResponseReturnValue:
    """Open cases first by deadline, with filters; overdue ones stand out."""
    user = current_user()
    query = select(Case).order_by(Case.deadline.is_(None), Case.deadline, Case.created_at)
    args = request.args
    if args.get("state") in states.STATES:
        query = query.where(Case.state == args["state"])
    elif not args.get("all"):
        query = query.where(Case.state.not_in(states.FINAL))
    if args.get("kind") in ("complaint", "suggestion", "rectification"):
        query = query.where(Case.kind == args["kind"])
    if args.get("overdue"):
        query = query.where(Case.deadline < today(), Case.state.not_in(states.NOT_OVERDUE))
    cases = [c for c in db_session().scalars(query).all() if _can_see(user, c)]  # type: ignore[arg-type]
    if args.get("window"):
        cases = [c for c in cases if f"{c.office}:{c.window}" == args["window"]]
    return render_template("forms_api/staff/queue.html", cases=cases, states=states.STATES, today=today(),
                           not_overdue=states.NOT_OVERDUE, local_time=workflow.local_time,
                           windows=_windows(), user=user, roles=ROLES)  # fmt: skip


@bp.get("/case/<int:case_id>")
@role_required(*STAFF)
def case_page(case_id: int, form: ActionForm | None = None) -> ResponseReturnValue:
    """Everything about one case, its 督办单 rounds and its full history."""
    user, case = _load(case_id)
    if form is None:
        form = ActionForm(version=str(case.version))
        form.window.choices = options(_windows())
        form.window.data = f"{case.office}:{case.window}" if case.office else None
    orders = [o for o in case.orders if user.role != "window-lead" or f"{o.office}:{o.window}" in user.windows]
    return render_template(
        "forms_api/staff/case.html", case=case, orders=orders, user=user, person=_person(case, user.role), form=form,
        actions=states.available(case.state, user.role), states=states.STATES, local_time=workflow.local_time,
        today=today(), required=REQUIRED, roles=ROLES, not_overdue=states.NOT_OVERDUE, channels=CHANNELS,
        actions_label=states.ACTIONS,
    )  # fmt: skip


def _fields(name: str, form: ActionForm) -> dict[str, Any] | None:
    """The action's fields, or None after putting a message on each missing one."""
    missing = False
    for field_name, message in REQUIRED.get(name, {}).items():
        if not getattr(form, field_name).data:
            getattr(form, field_name).errors = [message]
            missing = True
    if missing:
        return None
    fields: dict[str, Any] = {k: getattr(form, k).data for k in REQUIRED.get(name, {})}
    if name == "issue_order":
        office, _, window = form.window.data.partition(":")
        fields.update(office=office, window=window, assignee=_assignee(office, window))
    if name == "record_handling":
        fields["rectification"] = form.rectification.data or None
    return fields


@bp.post("/case/<int:case_id>/<name>")
@role_required(*STAFF)
def act(case_id: int, name: str) -> ResponseReturnValue:
    """One transition from the case page; a stale page or a disallowed move gets a clear refusal."""
    user, _ = _load(case_id)
    form = ActionForm()
    form.window.choices = options(_windows())
    fields = _fields(name, form) if form.validate_on_submit() else None
    if fields is None:
        flash("请按提示补充后再提交", "error")
        return case_page(case_id, form), 400  # type: ignore[return-value]
    limit = catalogue.get().config.resupervision_limit
    try:
        with write() as s:
            fresh = s.get_one(Case, case_id)
            states.check(name, fresh.state, user.role)  # a refusal names the real reason first
            if str(fresh.version) != form.version.data:
                raise workflow.Conflict("该案件刚被其他人处理过，请查看最新情况后再操作")
            actor = workflow.Actor(user.username, user.role)
            workflow.apply(s, fresh, name, actor, calendar=calendar(), today=today(), resupervision_limit=limit,
                           note=form.note.data or None, **fields)  # fmt: skip
        flash(f"已完成：{states.TRANSITIONS[name].label}", "ok")
    except states.TransitionRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.case_page", case_id=case_id), code=303)
    return redirect(url_for("staff.case_page", case_id=case_id), code=303)


@bp.route("/register", methods=["GET", "POST"])
@role_required("intake")
def register() -> ResponseReturnValue:
    """Register a complaint received on site, by phone or by letter."""
    form = RegisterForm()
    form.target.choices = options([("", "请选择"), *((t.key, t.label) for t in catalogue.all_targets())])
    if not form.validate_on_submit():
        return render_template("forms_api/staff/register.html", form=form), 400 if request.method == "POST" else 200
    chosen = catalogue.target(form.target.data)
    if chosen is None:
        form.target.errors = ["请选择投诉对象"]
        return render_template("forms_api/staff/register.html", form=form), 400
    item = complaint_submission(form, form.channel.data, receiver=form.first_receiver.data)
    user = current_user()
    with write() as s:
        receipt = workflow.submit(s, vault(), item, workflow.Actor(user.username, user.role), today())  # type: ignore[union-attr]
    # Shown on this response only: a flash would carry the query code in the (signed, readable) cookie.
    return render_template("forms_api/receipt.html", receipt={"no": receipt.case.receipt_no,
                           "code": receipt.query_code}, staff_case=receipt.case.id)  # fmt: skip


@bp.get("/posts")
@role_required(*STAFF)
def posts() -> ResponseReturnValue:
    """Posts with their A and B; a supervisor marks an absent A, and new 督办单 go to the B."""
    absent = _absent_posts()
    rows = [(p, catalogue.get().staff_member(p.a), catalogue.get().staff_member(p.b), p.id in absent)
            for p in catalogue.get().posts]  # fmt: skip
    return render_template("forms_api/staff/posts.html", rows=rows, user=current_user(), roles=ROLES)


@bp.post("/posts/<post_id>/<change>")
@role_required("supervisor")
def mark(post_id: str, change: str) -> ResponseReturnValue:
    """Mark the A of a post absent, or back at work."""
    if post_id not in {p.id for p in catalogue.get().posts} or change not in ("absent", "back"):
        abort(404)
    form = BaseForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user()
    with write() as s:
        open_absence = s.scalar(select(Absence).where(Absence.post_id == post_id, Absence.ended_at.is_(None)))
        if change == "absent" and open_absence is None:
            s.add(Absence(post_id=post_id, marked_by=user.username))  # type: ignore[union-attr]
        elif change == "back" and open_absence is not None:
            open_absence.ended_at = utcnow()
    flash("已更新岗位在岗情况", "ok")
    return redirect(url_for("staff.posts"), code=303)


@bp.get("/case/<int:case_id>/print/register")
@role_required(*STAFF)
def print_register(case_id: int) -> ResponseReturnValue:
    """投诉登记表, laid out for A4."""
    user, case = _load(case_id)
    return render_template("forms_api/staff/print_register.html", case=case, person=_person(case, user.role),
                           channels=CHANNELS,
                           agency=catalogue.get().agency, local_time=workflow.local_time)  # fmt: skip


@bp.get("/case/<int:case_id>/print/order/<int:round_no>")
@role_required(*STAFF)
def print_order(case_id: int, round_no: int) -> ResponseReturnValue:
    """投诉督办单 of one round, laid out for A4; the window gets no complainant details."""
    _user, case = _load(case_id)
    order = next((o for o in case.orders if o.round == round_no), None)
    user = current_user()
    if order is not None and user.role == "window-lead" and f"{order.office}:{order.window}" not in user.windows:  # type: ignore[union-attr]
        abort(403)
    if order is None:
        abort(404)
    return render_template("forms_api/staff/print_order.html", case=case, order=order,
                           agency=catalogue.get().agency, local_time=workflow.local_time)  # fmt: skip
