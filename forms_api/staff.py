"""The staff console: login, the queue ordered by deadline, the case page and every transition."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.vocab import CASE_KINDS, STAFF_ROLES
from forms_api import catalogue, dao, identity, states, workflow
from forms_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from forms_api.forms import BaseForm, options
from forms_api.models import Case, User
from forms_api.passwords import verify_password
from forms_api.privacy import mask_id_number, mask_name, mask_phone
from forms_api.queue import QueueFilters, count_states, list_page
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
from forms_api.views import calendar, content, db_session, engine_context, today, vault, write

bp = Blueprint("staff", __name__, url_prefix="/staff")


class LoginForm(BaseForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码"), Length(max=200)])


class ActionForm(BaseForm):
    """Every input a transition may take; which ones each requires is in its table entry (states.py), and the
    engine checks the choices (a select's own check would answer in English)."""

    version = HiddenField()
    reason = TextAreaField("理由", validators=[Optional(), Length(max=1000)])
    referral = TextAreaField("告知去向或转交的职能部门", validators=[Optional(), Length(max=1000)])
    reply = TextAreaField("答复或处理情况", validators=[Optional(), Length(max=4000)])
    verification = TextAreaField("回访核实情况", validators=[Optional(), Length(max=2000)])
    opinion = TextAreaField("督办意见", validators=[Optional(), Length(max=2000)])
    window = SelectField("责任窗口", validators=[Optional()], validate_choice=False)
    handling = TextAreaField("处理结果", validators=[Optional(), Length(max=4000)])
    rectification = TextAreaField("整改情况", validators=[Optional(), Length(max=4000)])
    disposition = SelectField("处理方式", choices=options([("", "请选择"), *((d, d) for d in states.DISPOSITIONS)]),
                              validate_choice=False)  # fmt: skip
    method = SelectField("回访方式", choices=options([("", "请选择"), *((m, m) for m in states.FOLLOW_UP_METHODS)]),
                         validate_choice=False)  # fmt: skip
    result = SelectField("回访结果", choices=options([("", "请选择"), *((r, r) for r in states.FOLLOW_UP_RESULTS)]),
                         validate_choice=False)  # fmt: skip
    note = StringField("备注", validators=[Optional(), Length(max=500)])


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
    if not dao.can_see(user, case.office, case.window) or dao.is_about(user, case):
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


def _page_number(raw: str) -> int:
    """?page=N: anything but digits is page 1; a number past the end gives the last page (list_page)."""
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return int(raw) if len(raw) <= 9 else 10**9


def _window_name(places: dict[str, str], office: str | None, window: str | None) -> str:
    """Where a queued case sits, by its Chinese name; a window since removed from the content by office and number."""
    if not office:
        return "未指定窗口"
    if name := places.get(f"{office}:{window}"):
        return name
    offices = {o.id: o.name for o in content().offices}
    return f"{offices.get(office, '其他场所')} {window} 号窗口"


@bp.get("/")
@role_required(*STAFF_ROLES)
def queue() -> ResponseReturnValue:
    """Cases by deadline, a page at a time, with counts per state; filters and a lead's windows applied in SQL."""
    user, day = _user(), today()
    soon = calendar().add(day, 1)  # due soon: within one working day
    filters = QueueFilters.from_args(request.args.to_dict())
    page = list_page(db_session(), filters, user, day, soon, _page_number(request.args.get("page", "")))
    places = dict(_windows())
    rows = [(c, _window_name(places, c.office, c.window), c.urgency(day, soon)) for c in page.rows]
    windows = [(key, label) for key, label in places.items() if dao.can_see(user, *key.split(":", 1))]
    return render_template(
        "forms_api/staff/queue.html", page=page, rows=rows, counts=count_states(db_session(), user),
        filters=filters, windows=windows, kinds=CASE_KINDS, user=user,
    )  # fmt: skip


@bp.get("/case/<int:case_id>")
@role_required(*STAFF_ROLES)
def case_page(case_id: int, form: ActionForm | None = None) -> ResponseReturnValue:
    """Everything about one case, its 督办单 rounds and its full history."""
    user, case = _load(case_id)
    if form is None:
        form = ActionForm(version=str(case.version))
        form.window.choices = options([("", "请选择"), *_windows()])
        form.window.data = f"{case.office}:{case.window}" if case.office else None
    orders = [o for o in case.orders if dao.can_see(user, o.office, o.window)]
    return render_template(
        "forms_api/staff/case.html", case=case, orders=orders, user=user, person=_person(case, user.role), form=form,
        actions=states.available(case.state, user.role), today=today(), due_soon=calendar().add(today(), 1),
        step=states.OWED.get(case.state, ""), anonymous=workflow.no_reply_owed(case),
    )  # fmt: skip


def _inputs(transition: states.Transition, form: ActionForm) -> dict[str, Any] | None:
    """The transition's inputs from the form, or None after putting a message on each missing one."""
    inputs = {name: form[name].data for name in transition.fields()}
    missing = transition.missing(inputs)
    if inputs.get("window") and inputs["window"] not in dict(_windows()):
        missing["window"] = "请选择责任窗口"
    for name, message in missing.items():
        form[name].errors = [message]
    return None if missing else inputs


@bp.post("/case/<int:case_id>/<name>")
@role_required(*STAFF_ROLES)
def act(case_id: int, name: str) -> ResponseReturnValue:
    """One transition from the case page; a stale page or a disallowed move gets a clear refusal."""
    user, case = _load(case_id)
    states.check(name, case.state, user.role)  # a move not theirs is refused before its inputs are asked for
    form = ActionForm()
    form.window.choices = options([("", "请选择"), *_windows()])
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


@bp.get("/posts")
@role_required(*STAFF_ROLES)
def posts() -> ResponseReturnValue:
    """Posts with their A and B; a supervisor marks either away, and new 督办单 go to whoever is there."""
    hall, absent = content(), dao.absent_roles(db_session())
    rows = []
    for post in hall.posts:
        office = hall.office(post.office)
        names = "、".join(f"{w.number} 号{w.name}" for w in office.windows if w.number in post.windows)
        a, b = hall.staff_member(post.a), hall.staff_member(post.b)
        handler = a if (post.id, "a") not in absent else b if (post.id, "b") not in absent else None
        rows.append({"post": post, "place": f"{office.name} {names}", "a": a, "b": b,
                     "handler": f"{handler.name}（{handler.number}）" if handler else "单位负责人安排"})  # fmt: skip
    head = hall.staff_member(hall.head)
    return render_template("forms_api/staff/posts.html", rows=rows, absent=absent, head=head, user=_user())


@bp.post("/posts/<post_id>/<role>/<change>")
@role_required("supervisor")
def mark(post_id: str, role: str, change: str) -> ResponseReturnValue:
    """Mark the A or the B of a post away, or back at work."""
    if post_id not in {p.id for p in content().posts} or role not in ("a", "b") or change not in ("absent", "back"):
        raise NotFound()
    if not BaseForm().validate_on_submit():
        raise InvalidInput("页面已过期，请刷新后重试")
    by = _user().username
    with write() as s:
        if change == "absent":
            dao.mark_absent(s, post_id, role, by)
        else:
            dao.mark_back(s, post_id, role)
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
