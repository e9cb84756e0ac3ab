"""The staff console: login, the queue ordered by deadline, the case page and every transition."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.vocab import STAFF_ROLES
from forms_api import catalogue, dao, identity, states, workflow
from forms_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from forms_api.forms import BaseForm, id_number, options, phone
from forms_api.models import Case, User
from forms_api.passwords import verify_password
from forms_api.privacy import mask_id_number, mask_name, mask_phone
from forms_api.security import (
    UNMASKED_ROLES,
    current_user,
    failed_login,
    known_browser,
    limiter,
    login_account_key,
    login_account_limit,
    login_limit,
    login_source_key,
    role_required,
    start_session,
)
from forms_api.submissions import complaint_submission, target_choices
from forms_api.views import content, db_session, engine_context, today, vault, write

bp = Blueprint("staff", __name__, url_prefix="/staff")


class LoginForm(BaseForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码"), Length(max=200)])


class ActionForm(BaseForm):
    """Every input a transition may take; which ones each requires is in its table entry (states.py)."""

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


def _user() -> User:
    """The logged-in staff member (role_required has made sure there is one)."""
    user = current_user()
    if user is None:
        raise Forbidden()
    return user


def _load(case_id: int) -> tuple[User, Case]:
    """The user and a case they may see: 404 for no such case, 403 for another window's."""
    user = _user()
    case = dao.get_case(db_session(), case_id)
    if case is None:
        raise NotFound()
    if not dao.can_see(user, case.office, case.window):
        raise Forbidden()
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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=failed_login, exempt_when=known_browser)
@limiter.limit(login_limit, methods=["POST"], deduct_when=failed_login, key_func=login_source_key)
@limiter.limit(login_account_limit, methods=["POST"], deduct_when=failed_login, key_func=login_account_key,
               exempt_when=known_browser)  # fmt: skip
def login() -> ResponseReturnValue:
    """用户名 and 密码; the same message whether the name or the password was wrong. Only wrong passwords
    count toward the limits (security.py), and a browser the account has used keeps its own allowance."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("forms_api/staff/login.html", form=form), 400 if request.method == "POST" else 200
    user = dao.active_user(db_session(), form.username.data)
    # An unknown name costs the same hash as a known one: timing does not tell which names exist.
    matches = verify_password(user.password_hash if user else None, form.password.data)
    if user is None or not matches:
        form.password.errors = ["用户名或密码不正确"]
        return render_template("forms_api/staff/login.html", form=form), 401
    start_session(user)
    target = request.args.get("next", "")
    response = redirect(target if target.startswith("/staff/") and "//" not in target else url_for("staff.queue"))
    identity.remember_device(response, user.username, user.password_hash)
    return response


@bp.post("/logout")
@role_required()
def logout() -> ResponseReturnValue:
    """End the session for good: the stored version moves on, so a replayed cookie is refused."""
    user_id = _user().id
    with write() as s:
        dao.end_sessions(s, user_id)
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/")
@role_required(*STAFF_ROLES)
def queue() -> ResponseReturnValue:
    """Open cases first by deadline, with filters applied in the database; overdue ones stand out."""
    user = _user()
    filters = dao.QueueFilters.from_args(request.args.to_dict())
    cases = dao.list_cases(db_session(), filters, user, today())
    windows = [(key, label) for key, label in _windows() if dao.can_see(user, *key.split(":", 1))]
    return render_template("forms_api/staff/queue.html", cases=cases, today=today(), windows=windows, user=user)


@bp.get("/case/<int:case_id>")
@role_required(*STAFF_ROLES)
def case_page(case_id: int, form: ActionForm | None = None) -> ResponseReturnValue:
    """Everything about one case, its 督办单 rounds and its full history."""
    user, case = _load(case_id)
    if form is None:
        form = ActionForm(version=str(case.version))
        form.window.choices = options(_windows())
        form.window.data = f"{case.office}:{case.window}" if case.office else None
    orders = [o for o in case.orders if dao.can_see(user, o.office, o.window)]
    return render_template(
        "forms_api/staff/case.html", case=case, orders=orders, user=user, person=_person(case, user.role), form=form,
        actions=states.available(case.state, user.role), today=today(),
    )  # fmt: skip


def _inputs(transition: states.Transition, form: ActionForm) -> dict[str, Any] | None:
    """The transition's inputs from the form, or None after putting a message on each missing one."""
    names = [i.name for i in transition.inputs] + list(transition.optional)
    inputs = {name: form[name].data for name in names}
    missing = transition.missing(inputs)
    for name, message in missing.items():
        form[name].errors = [message]
    return None if missing else inputs


@bp.post("/case/<int:case_id>/<name>")
@role_required(*STAFF_ROLES)
def act(case_id: int, name: str) -> ResponseReturnValue:
    """One transition from the case page; a stale page or a disallowed move gets a clear refusal."""
    user, _ = _load(case_id)
    form = ActionForm()
    form.window.choices = options(_windows())
    transition = states.TRANSITIONS.get(name)
    inputs = _inputs(transition, form) if transition and form.validate_on_submit() else None
    if transition is not None and inputs is None:
        flash("请按提示补充后再提交", "error")
        return case_page(case_id, form), 400  # type: ignore[return-value]
    with write() as s:  # a refusal rolls back and is shown on the case page (errors.py)
        fresh = dao.get_case(s, case_id)
        if fresh is None:
            raise NotFound()
        states.check(name, fresh.state, user.role)  # a refusal names the real reason first
        if str(fresh.version) != form.version.data:
            raise Conflict("该案件刚被其他人处理过，请查看最新情况后再操作")
        actor = workflow.Actor(user.username, user.role)
        workflow.apply(s, fresh, name, actor, engine_context(s), inputs, note=form.note.data or None)
    flash(f"已完成：{states.TRANSITIONS[name].label}", "ok")
    return redirect(url_for("staff.case_page", case_id=case_id), code=303)


@bp.route("/register", methods=["GET", "POST"])
@role_required("intake")
def register() -> ResponseReturnValue:
    """Register a complaint received on site, by phone or by letter."""
    form = RegisterForm()
    form.target.choices = target_choices()
    if not form.validate_on_submit():
        return render_template("forms_api/staff/register.html", form=form), 400 if request.method == "POST" else 200
    if catalogue.target(form.target.data) is None:
        form.target.errors = ["请选择投诉对象"]
        return render_template("forms_api/staff/register.html", form=form), 400
    item = complaint_submission(form, form.channel.data, receiver=form.first_receiver.data)
    user = _user()
    with write() as s:
        receipt = workflow.submit(s, vault(), item, workflow.Actor(user.username, user.role), today())
    # Shown on this response only: a flash would carry the query code in the (signed, readable) cookie.
    return render_template("forms_api/receipt.html", receipt={"no": receipt.case.receipt_no,
                           "code": receipt.query_code}, staff_case=receipt.case.id)  # fmt: skip


@bp.get("/posts")
@role_required(*STAFF_ROLES)
def posts() -> ResponseReturnValue:
    """Posts with their A and B; a supervisor marks an absent A, and new 督办单 go to the B."""
    hall, absent = content(), dao.absent_posts(db_session())
    rows = [(p, hall.staff_member(p.a), hall.staff_member(p.b), p.id in absent) for p in hall.posts]
    return render_template("forms_api/staff/posts.html", rows=rows, user=_user())


@bp.post("/posts/<post_id>/<change>")
@role_required("supervisor")
def mark(post_id: str, change: str) -> ResponseReturnValue:
    """Mark the A of a post absent, or back at work."""
    if post_id not in {p.id for p in content().posts} or change not in ("absent", "back"):
        raise NotFound()
    if not BaseForm().validate_on_submit():
        raise InvalidInput("页面已过期，请刷新后重试")
    by = _user().username
    with write() as s:
        if change == "absent":
            dao.mark_absent(s, post_id, by)
        else:
            dao.mark_back(s, post_id)
    flash("已更新岗位在岗情况", "ok")
    return redirect(url_for("staff.posts"), code=303)


@bp.get("/case/<int:case_id>/print/register")
@role_required(*STAFF_ROLES)
def print_register(case_id: int) -> ResponseReturnValue:
    """投诉登记表, laid out for A4."""
    user, case = _load(case_id)
    return render_template("forms_api/staff/print_register.html", case=case, person=_person(case, user.role))


@bp.get("/case/<int:case_id>/print/order/<int:round_no>")
@role_required(*STAFF_ROLES)
def print_order(case_id: int, round_no: int) -> ResponseReturnValue:
    """投诉督办单 of one round, laid out for A4; the window gets no complainant details."""
    user, case = _load(case_id)
    order = next((o for o in case.orders if o.round == round_no), None)
    if order is None:
        raise NotFound()
    if not dao.can_see(user, order.office, order.window):
        raise Forbidden()
    return render_template("forms_api/staff/print_order.html", case=case, order=order)
