"""Acknowledged receipts checked against the database, its integrity, and the benchmarks' report tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.servers import Keys
from bench.traffic import Complaint

# ------------------------------------------------------------------ what the database holds


@dataclass
class Check:
    """Acknowledged receipts against the rows: what was lost, altered or stored twice, and the database's health."""

    acknowledged: int = 0
    lost: int = 0  # acknowledged, but no row
    altered: int = 0  # a row, but not the receipt number, query code or content the client was given
    duplicates: int = 0  # rows beyond one per complaint (per Idempotency-Key)
    rows: int = 0  # rows of these complaints
    unacknowledged_rows: int = 0  # committed, but the client never heard (it gave up); not a loss
    without_audit: int = 0  # cases without exactly one 'submit' audit row (same transaction as the case)
    integrity: str = "?"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, altered or doubled, every case audited, and the database sound."""
        bad = self.lost or self.altered or self.duplicates or self.without_audit
        return not bad and self.integrity == "ok"

    def note(self, problem: str) -> None:
        """Keep the first few details for the report."""
        if len(self.problems) < 10:
            self.problems.append(problem)


def check_receipts(database_url: str, keys: Keys, complaints: Sequence[Complaint]) -> Check:
    """Every acknowledged complaint must be stored once, with the receipt and content the client was given."""
    from sqlalchemy import create_engine, text

    vault = keys.vault()
    check = Check(acknowledged=sum(1 for c in complaints if c.acknowledged))
    by_matter = {c.body["matter"]: c for c in complaints}
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, receipt_no, matter, name_enc, phone_enc, query_hash FROM cases")).all()
            found = conn.execute(
                text("SELECT case_id, count(*) FROM case_events WHERE action = 'submit' GROUP BY case_id")
            ).all()
            audits: dict[int, int] = {row[0]: row[1] for row in found}
        check.integrity = integrity(engine)
    finally:
        engine.dispose()
    stored: dict[str, list[Any]] = {}
    for row in rows:
        if row.matter in by_matter:
            stored.setdefault(row.matter, []).append(row)
    check.rows = sum(len(found) for found in stored.values())
    for matter, found in stored.items():
        check.duplicates += len(found) - 1
        if len(found) > 1:
            check.note(f"{len(found)} rows for key {by_matter[matter].key}")
        for row in found:
            if audits.get(row.id, 0) != 1:
                check.without_audit += 1
                check.note(f"case {row.receipt_no}: {audits.get(row.id, 0)} submit audit rows")
    for c in complaints:
        found = stored.get(c.body["matter"], [])
        if not c.acknowledged:
            check.unacknowledged_rows += len(found[:1])
            continue
        if not found:
            check.lost += 1
            check.note(f"receipt {c.receipt_no} (key {c.key}) is not in the database")
            continue
        row = found[0]
        same = (
            row.receipt_no == c.receipt_no
            and vault.matches(c.query_code or "", row.query_hash)
            and vault.open(row.name_enc) == c.body["name"]
            and vault.open(row.phone_enc) == c.body["phone"]
        )
        if not same:
            check.altered += 1
            check.note(f"receipt {c.receipt_no} (key {c.key}): the row says {row.receipt_no}, or other content")
    return check


def integrity(engine: Any) -> str:
    """'ok', or what is wrong: SQLite's integrity and foreign-key checks; on PostgreSQL the unique columns, the
    audit rows' cases and (with amcheck) every B-tree index of the cases and their audit rows."""
    from sqlalchemy import text

    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.execute(text("PRAGMA integrity_check")).all()]
            if result != ["ok"]:
                problems.append("integrity_check: " + "; ".join(result[:3]))
            if conn.execute(text("PRAGMA foreign_key_check")).first() is not None:
                problems.append("foreign_key_check found rows without their parent")
            return "; ".join(problems) or "ok"
        for column in ("receipt_no", "submission_token"):
            twice = conn.execute(
                text(
                    f"SELECT count(*) FROM (SELECT {column} FROM cases WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} HAVING count(*) > 1) AS d"
                )
            ).scalar()
            if twice:
                problems.append(f"{twice} values of cases.{column} stored twice")
        orphans = conn.execute(
            text("SELECT count(*) FROM case_events e LEFT JOIN cases c ON c.id = e.case_id WHERE c.id IS NULL")
        ).scalar()
        if orphans:
            problems.append(f"{orphans} audit rows without their case")
        problems += _amcheck(conn)
        conn.commit()
    return "; ".join(problems) or "ok"


def _amcheck(conn: Any) -> list[str]:
    """bt_index_check on the cases' and audit rows' indexes, if PostgreSQL's amcheck extension is there."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    had = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).first() is not None
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    except DBAPIError:
        conn.rollback()
        return []  # not installed: the counts above are the check
    problems = []
    indexes = conn.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE t.relname IN ('cases', 'case_events') AND a.amname = 'btree'"
        )
    ).scalars()
    for name in indexes:
        try:
            conn.execute(text("SELECT bt_index_check(CAST(:name AS regclass), true)"), {"name": name})
        except DBAPIError as exc:
            problems.append(f"index {name}: {str(exc.orig).splitlines()[0]}")
            conn.rollback()
    if not had:
        conn.execute(text("DROP EXTENSION IF EXISTS amcheck"))
    return problems


# ------------------------------------------------------------------ reports


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
