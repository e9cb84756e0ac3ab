"""Data access: every query the backend makes, as verb-first functions. Views call these, never the ORM."""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Insert, Table, and_, false, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from core.fields import CODE_PATTERN
from core.vocab import STAFF_ROLES
from forms_api import identity, states
from forms_api.errors import InvalidInput, ReusedToken
from forms_api.models import Absence, Case, CaseEvent, Evaluation, SupervisionOrder, User, utcnow
from forms_api.passwords import hash_password
from forms_api.privacy import Vault

Row = TypeVar("Row", Case, Evaluation)
MAX_ID = 2**63 - 1  # larger ids in a URL are not cases (and overflow the database's integer)


# ------------------------------------------------------------------- cases
def get_case(session: Session, case_id: int) -> Case | None:
    """The case with this id, or None."""
    return session.get(Case, case_id) if 0 < case_id <= MAX_ID else None


@cache
def _insert_new(dialect: str, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id (both engines have it): a taken receipt number or form token
    writes nothing and raises nothing, so no savepoint is needed to go on in the same transaction."""
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return build(table).on_conflict_do_nothing().returning(table.c.id)


def _insert_new_row(session: Session, model: type[Row], values: dict[str, Any]) -> Row | None:
    """A new row with every column in `values`, in the session as if loaded; None if a unique column is taken.
    One statement, not the ORM's unit of work and a savepoint: this is every citizen's POST."""
    statement = _insert_new(session.get_bind().dialect.name, model.__table__)
    row_id = session.execute(statement, values).scalar()
    if row_id is None:
        return None
    row = model(id=row_id, **values)
    make_transient_to_detached(row)  # persistent and clean once added: later changes are flushed as updates
    session.add(row)
    return row


def insert_case(session: Session, values: dict[str, Any]) -> Case | None:
    """A new case, or None if its receipt number or form token is taken."""
    return _insert_new_row(session, Case, values)


def add_event(session: Session, **values: Any) -> None:
    """One audit row, written at once (nothing reads it back in the same request)."""
    session.execute(insert(CaseEvent.__table__), values)  # type: ignore[arg-type]


def case_by_token(session: Session, token: str) -> Case | None:
    """The case a form token (or API idempotency key) created, if any."""
    return session.scalar(select(Case).where(Case.submission_token == token))


def find_case(session: Session, vault: Vault, receipt_no: str, query_code: str) -> Case | None:
    """The case with this receipt number, only if the query code matches."""
    case = session.scalar(select(Case).where(Case.receipt_no == receipt_no.strip().upper()))
    if case is None or not vault.matches(query_code.strip().upper(), case.query_hash):
        return None
    return case


def _window(key: str) -> tuple[str, str] | None:
    """("office", "window") from "office:window"; None for anything else."""
    office, _, window = key.partition(":")
    return (office, window) if office and window else None


def _at_windows(windows: Iterable[str]) -> ColumnElement[bool]:
    """SQL condition: the case sits at one of these "office:window" pairs (nothing if none)."""
    pairs = [pair for key in windows if (pair := _window(key))]
    conditions = [and_(Case.office == office, Case.window == window) for office, window in pairs]
    return or_(*conditions) if conditions else false()


def can_see(user: User, office: str | None, window: str | None) -> bool:
    """A window lead sees only what sits at their own windows; other staff see everything."""
    if user.role != "window-lead":
        return True
    return office is not None and window is not None and (office, window) in {_window(w) for w in user.windows or []}


def is_about(user: User, case: Case) -> bool:
    """A window lead whose 工号 the complaint or rating names: they may not see or handle it (conflict of
    interest); the post's other role or the 单位负责人 does."""
    return user.role == "window-lead" and bool(user.badge) and case.target_ref == f"staff:{user.badge}"


def cases_past_appeal(session: Session, today: date) -> list[int]:
    """Replied cases whose 复督 window ended before `today`: `portal cases sweep` closes them."""
    query = select(Case.id).where(Case.state == "replied", Case.appeal_until < today).order_by(Case.id)
    return list(session.scalars(query))


def cases_without_dates(session: Session) -> list[Case]:
    """Open cases with no deadline, or replied ones with no 复督 window: stored before every step had one."""
    undated = Case.deadline.is_(None) | ((Case.state == "replied") & Case.appeal_until.is_(None))
    return list(session.scalars(select(Case).where(Case.state.not_in(states.FINAL), undated).order_by(Case.id)))


def all_cases(session: Session) -> Iterable[Case]:
    """Every case, for the monthly statistics."""
    return session.scalars(select(Case))


def all_orders(session: Session) -> Iterable[SupervisionOrder]:
    """Every 督办单, for the on-time rate."""
    return session.scalars(select(SupervisionOrder))


def cases_past_retention(session: Session, cutoff: datetime) -> list[Case]:
    """Cases not yet anonymised that finished before `cutoff`, or were answered before it and never taken up."""
    finished = Case.state.in_(states.FINAL) & Case.closed_at.is_not(None) & (Case.closed_at < cutoff)
    abandoned = (Case.state == "replied") & (Case.created_at < cutoff)
    return list(session.scalars(select(Case).where(Case.anonymised.is_(False), finished | abandoned)))


# ------------------------------------------------------------- evaluations
def all_evaluations(session: Session) -> Iterable[Evaluation]:
    """Every rating, for the monthly statistics."""
    return session.scalars(select(Evaluation))


def evaluation_by_token(session: Session, token: str) -> Evaluation | None:
    """The rating a form token (or API idempotency key) already stored, if any."""
    return session.scalar(select(Evaluation).where(Evaluation.submission_token == token))


def add_evaluation(session: Session, values: dict[str, Any]) -> tuple[Evaluation, bool]:
    """Store a rating (every column in `values`) once per token: (the stored rating, whether it is new). The
    token reused for another rating (other digest) is refused with ReusedToken."""
    rating = _insert_new_row(session, Evaluation, values)
    if rating is not None:
        return rating, True
    # Its token is taken: a retry, or its twin committed first (PostgreSQL), or the token reused.
    first = evaluation_by_token(session, values["submission_token"] or "")
    if first is None:
        raise RuntimeError("a rating without a token conflicted")  # only the token is unique
    check_repeat(first.submission_digest, values["submission_digest"] or "")
    return first, False


def check_repeat(stored: str | None, digest: str) -> None:
    """A token seen before is a retry only with the same content digest; else ReusedToken (rows from before
    digests were kept count as different: a receipt is never shown on a guess)."""
    if stored is None or not hmac.compare_digest(stored, digest):
        raise ReusedToken()


def evaluations_of_case(session: Session, case_id: int) -> list[Evaluation]:
    """The ratings that opened this 差评整改 case."""
    return list(session.scalars(select(Evaluation).where(Evaluation.case_id == case_id)))


# ---------------------------------------------------------------- absences
def absent_roles(session: Session) -> set[tuple[str, str]]:
    """(post, "a" or "b") for every role marked away now."""
    rows = session.execute(select(Absence.post_id, Absence.role).where(Absence.ended_at.is_(None)))
    return {(post, role) for post, role in rows}


def mark_absent(session: Session, post_id: str, role: str, by: str) -> None:
    """The post's A or B is away from now on (nothing changes if already marked)."""
    if (post_id, role) not in absent_roles(session):
        session.add(Absence(post_id=post_id, role=role, marked_by=by))


def mark_back(session: Session, post_id: str, role: str) -> None:
    """The post's A or B is back at work."""
    query = select(Absence).where(Absence.post_id == post_id, Absence.role == role, Absence.ended_at.is_(None))
    for absence in session.scalars(query):
        absence.ended_at = utcnow()


def window_lead(session: Session, window: str, exclude_badge: str | None = None) -> User | None:
    """An active window lead account for this "office:window", other than the staff member `exclude_badge`."""
    leads = session.scalars(select(User).where(User.role == "window-lead", User.active.is_(True)).order_by(User.id))
    return next((u for u in leads if window in (u.windows or []) and (not exclude_badge or u.badge != exclude_badge)),
                None)  # fmt: skip


# ------------------------------------------------------------------- users
def get_user(session: Session, user_id: int) -> User | None:
    """The account with this id, or None."""
    return session.get(User, user_id)


def active_user(session: Session, username: str) -> User | None:
    """The active account with this user name (in any spelling of it), or None."""
    return session.scalar(select(User).where(User.username == identity.username(username), User.active.is_(True)))


def list_users(session: Session) -> list[User]:
    """Every account, active or not, by user name (`portal user list`)."""
    return list(session.scalars(select(User).order_by(User.username)))


def add_user(
    session: Session,
    name: str,
    role: str,
    windows: list[str],
    password: str | None,
    *,
    real_name: str | None = None,
    badge: str | None = None,
    directory: dict[str, str] | None = None,
) -> str:
    """Create an account and return its password (generated when none is given); the name is stored canonical.

    `directory` is the content's staff list (工号 → 姓名): given, the 工号 is required and a listed one brings its
    name; without it (accounts made in code) the real name and 工号 are optional."""
    name = identity.username(name)
    if not name:
        raise InvalidInput("用户名不能为空")
    if len(name) > 64:  # NFKC can lengthen a name ("㍿" is four characters)
        raise InvalidInput("用户名最长 64 个字符")
    if role not in STAFF_ROLES:
        raise InvalidInput(f"角色须为 {'、'.join(STAFF_ROLES)} 之一")
    if role == "window-lead" and not windows:
        raise InvalidInput("窗口负责人须用 --window 指定负责的窗口，如 county-hall:1")
    if session.scalar(select(User).where(User.username == name)) is not None:
        raise InvalidInput(f"用户 {name} 已存在")
    real_name, badge = _identity(session, real_name, badge, directory)
    password = _new_password(password)
    session.add(User(username=name, password_hash=hash_password(password), role=role, windows=windows,
                     real_name=real_name, badge=badge))  # fmt: skip
    return password


def _identity(
    session: Session, real_name: str | None, badge: str | None, directory: dict[str, str] | None, owner: str = ""
) -> tuple[str | None, str | None]:
    """The real name and 工号 to store, checked against the content's staff list and the other accounts (the
    account `owner` may keep its own 工号)."""
    real_name = unicodedata.normalize("NFKC", real_name or "").strip() or None
    badge = unicodedata.normalize("NFKC", badge or "").strip().upper() or None
    if directory is not None and badge is None:
        raise InvalidInput("请用 --badge 填写工号（如 QX0117）")
    if badge is not None:
        if len(badge) > 20 or not re.fullmatch(CODE_PATTERN, badge):
            raise InvalidInput(f"工号「{badge}」无效：只能由字母、数字、- 和 _ 组成，最长 20 个字符")
        taken = session.scalar(select(User.username).where(User.badge == badge, User.username != owner))
        if taken is not None:
            raise InvalidInput(f"工号 {badge} 已属于账号 {taken}")
    listed = (directory or {}).get(badge or "")
    if listed is not None and real_name is not None and real_name != listed:
        raise InvalidInput(f"工号 {badge} 在岗位名单中的姓名是「{listed}」，与 --real-name 填写的「{real_name}」不一致")
    real_name = real_name or listed
    if real_name is not None and len(real_name) > 40:
        raise InvalidInput("姓名最长 40 个字符")
    if directory is not None and real_name is None:
        raise InvalidInput(f"工号 {badge} 不在岗位名单（content/posts.yml）中，请用 --real-name 填写姓名")
    return real_name, badge


def set_identity(
    session: Session, name: str, real_name: str | None, badge: str | None, directory: dict[str, str]
) -> User:
    """Give an existing account its real name and 工号 (accounts made before they were required have none)."""
    user = _account(session, name)
    badge = badge or user.badge
    kept = None if (badge or "").upper() in directory else user.real_name  # a listed 工号 brings its own name
    user.real_name, user.badge = _identity(session, real_name or kept, badge, directory, owner=user.username)
    return user


def _new_password(given: str | None) -> str:
    """The password given (at least 10 characters), or a generated one."""
    if given is not None and len(given) < 10:
        raise InvalidInput("密码至少 10 位")
    return given or secrets.token_urlsafe(12)


def find_user(session: Session, name: str) -> User | None:
    """The account with this user name in any spelling, active or not, or None."""
    return session.scalar(select(User).where(User.username == identity.username(name)))


def _account(session: Session, name: str) -> User:
    """The account with this user name in any spelling, active or not."""
    user = find_user(session, name)
    if user is None:
        raise InvalidInput(f"没有用户 {name}")
    return user


def set_active(session: Session, name: str, active: bool) -> User:
    """Disable an account (its sessions end at once) or enable it again."""
    user = _account(session, name)
    user.active = active
    user.session_version += 1
    return user


def reset_password(session: Session, name: str, password: str | None) -> str:
    """A new password (generated when none is given); every session of the account ends."""
    user = _account(session, name)
    password = _new_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    return password


def end_sessions(session: Session, user_id: int) -> None:
    """Every cookie issued to this account so far stops working (logout)."""
    session.get_one(User, user_id).session_version += 1
