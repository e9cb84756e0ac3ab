"""Storage: SQLAlchemy 2 tables for cases, 督办单, the audit trail, evaluations and staff accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timestamps are stored in UTC and shown in the site's time zone."""
    return datetime.now(UTC)


def to_local(moment: datetime, zone: str) -> datetime:
    """A stored time in `zone`; SQLite hands timestamps back without their UTC offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone))


class Base(DeclarativeBase):
    """Declarative base; Alembic reads its metadata."""


class User(Base):
    """A staff account. There is no default account: `portal user add` creates them."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("badge", name="uq_users_badge"),)  # one account per 工号

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    real_name: Mapped[str | None] = mapped_column(String(40))  # shown on the case page and every print-out
    badge: Mapped[str | None] = mapped_column(String(20))  # 工号, as on the staff member's badge
    windows: Mapped[list[str]] = mapped_column(JSON, default=list)  # "office:window" for window leads
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=0)  # bumped at logout: old cookies die
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Case(Base):
    """A complaint, suggestion or 差评整改 case; its state changes only through workflow.py."""

    __tablename__ = "cases"
    __table_args__ = (
        # The queue filtered on one state, by deadline (migration 0002).
        Index("ix_cases_state_deadline", "state", "deadline"),
        # The queue's order, for everyone and per window, with what the filters read: a page from the index alone
        # (migration 0006).
        Index("ix_cases_queue_order", "deadline", "created_at", "id", "state", "office", "window"),
        Index("ix_cases_window_queue", "office", "window", "deadline", "created_at", "id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    query_hash: Mapped[str] = mapped_column(String(64))
    query_code_enc: Mapped[str | None] = mapped_column(Text)  # re-shown only to a retry of the same form
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hash of what was submitted with the token: a retry must match it to see the first receipt.
    submission_digest: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), index=True)  # complaint | suggestion | rectification
    channel: Mapped[str] = mapped_column(String(20))  # online | onsite | phone | letter | api
    state: Mapped[str] = mapped_column(String(20), default="received", index=True)
    category: Mapped[str | None] = mapped_column(String(20))
    target_type: Mapped[str] = mapped_column(String(20))  # window | post | service | other
    target_ref: Mapped[str | None] = mapped_column(String(80))
    target_label: Mapped[str] = mapped_column(String(200))
    office: Mapped[str | None] = mapped_column(String(64))
    window: Mapped[str | None] = mapped_column(String(32))
    matter: Mapped[str] = mapped_column(Text)
    demand: Mapped[str | None] = mapped_column(Text)
    name_enc: Mapped[str | None] = mapped_column(Text)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    first_receiver: Mapped[str | None] = mapped_column(String(64))
    # Who handles the case now ("陈晓燕（QX0101，就业登记岗A角）"): AB角, conflict of interest, 单位负责人.
    assignee: Mapped[str | None] = mapped_column(String(120))
    # The last day the complainant may still ask for 复督 after a reply; `portal cases sweep` closes it after.
    appeal_until: Mapped[date | None] = mapped_column(Date)
    business_no: Mapped[str | None] = mapped_column(String(40))  # the hall's 办件编号 a 差评 names
    resolution: Mapped[str | None] = mapped_column(Text)  # 现场协调 result, refusal reason, or reply
    referral: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    round: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    orders: Mapped[list[SupervisionOrder]] = relationship(back_populates="case", order_by="SupervisionOrder.round")


class SupervisionOrder(Base):
    """督办单: one per round of supervision of a 立案处理类 case."""

    __tablename__ = "supervision_orders"
    __table_args__ = (UniqueConstraint("case_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    round: Mapped[int] = mapped_column(Integer)
    opinion: Mapped[str] = mapped_column(Text)
    deadline_days: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    office: Mapped[str] = mapped_column(String(64))
    window: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(120))  # the post's A, or its B while the A is away
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handling: Mapped[str | None] = mapped_column(Text)
    rectification: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_reason: Mapped[str | None] = mapped_column(Text)  # 退单: the window says the order is not theirs
    returned_by: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    case: Mapped[Case] = relationship(back_populates="orders")


class CaseEvent(Base):
    """The audit trail: one row per state change, written in the same transaction."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)  # everything, the staff's own 备注 included: staff read it
    # The step's own words (its inputs, and why the case went where it did), without the 备注: what the
    # complainant may read, for the steps the table marks public.
    detail: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="events")


class Evaluation(Base):
    """A 好差评 rating; 不满意 and 非常不满意 open a 差评整改 case."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    submission_digest: Mapped[str | None] = mapped_column(String(64))  # as on Case
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    target_type: Mapped[str] = mapped_column(String(20))
    target_ref: Mapped[str] = mapped_column(String(80))
    target_label: Mapped[str] = mapped_column(String(200))
    office: Mapped[str | None] = mapped_column(String(64))
    window: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    business_no: Mapped[str | None] = mapped_column(String(40))  # 一事一评: the 办件编号 on the hall's receipt
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Absence(Base):
    """A post's A (or B) is away: new cases go to the other; with both away, to the 单位负责人."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(1), default="a")  # "a" or "b"
    marked_by: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
