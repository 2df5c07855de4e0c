"""Prove an organization's audit chain: every row's hash recomputes from its content and the
previous row's hash, the sequence has no gap, and the last row matches the chain head."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.audit.chain import row_hash_sql

# Per row: what its hash should be, and what the previous row of its organization says. Window
# functions keep it one pass over the table (a month partition at a time, in chain order).
_ROWS: LiteralString = """
SELECT organization_id, chain_seq, id, created_at,
       row_hash IS NOT DISTINCT FROM {expected} AS hash_ok,
       prev_hash IS NOT DISTINCT FROM lag(row_hash) OVER w AS prev_ok,
       lag(chain_seq) OVER w AS prev_seq,
       row_number() OVER w AS n
FROM audit_logs a
WHERE {where}
WINDOW w AS (PARTITION BY organization_id ORDER BY chain_seq)
"""

_FIRST_BAD: LiteralString = """
SELECT DISTINCT ON (organization_id) organization_id, chain_seq, id, created_at,
       CASE WHEN chain_seq IS NULL THEN 'not chained (written with triggers off, e.g. by the data'
                || ' loader; the owner chains such rows with SELECT audit_chain_seal())'
            WHEN NOT hash_ok THEN 'content does not match its hash (edited)'
            WHEN n > 1 AND chain_seq <> prev_seq + 1 THEN 'entries missing before it (deleted)'
            WHEN n > 1 AND NOT prev_ok THEN 'does not link to the previous entry'
       END AS problem
FROM rows
WHERE chain_seq IS NULL OR NOT hash_ok OR (n > 1 AND (chain_seq <> prev_seq + 1 OR NOT prev_ok))
ORDER BY organization_id, chain_seq NULLS FIRST
"""

_TAILS: LiteralString = """
WITH last AS (
    SELECT DISTINCT ON (organization_id) organization_id, chain_seq, row_hash FROM audit_logs
    WHERE chain_seq IS NOT NULL AND {where} ORDER BY organization_id, chain_seq DESC
)
SELECT h.organization_id, h.seq, l.chain_seq
FROM audit_chain.heads h LEFT JOIN last l USING (organization_id)
WHERE {head_where} AND (l.chain_seq IS DISTINCT FROM h.seq OR l.row_hash IS DISTINCT FROM h.hash)
"""


@dataclass(frozen=True)
class Break:
    """The first row of an organization's chain that does not verify."""

    organization_id: str
    problem: str
    chain_seq: int | None = None
    id: str | None = None
    created_at: str | None = None

    def describe(self) -> str:
        where = f"row {self.id} (seq {self.chain_seq}, {self.created_at})" if self.id else "tail"
        return f"organization {self.organization_id}: {where}: {self.problem}"


@dataclass
class ChainReport:
    organizations: int = 0
    rows: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "organizations": self.organizations,
            "rows": self.rows,
            "breaks": [asdict(b) for b in self.breaks],
        }


def verify(conn: psycopg.Connection[Any], org: uuid.UUID | str | None = None) -> ChainReport:
    """Check every organization's chain (or one); run as the owner, who sees every row. Rows
    archived or purged before the first remaining one are not an error: a chain may start late."""
    where = (
        sql.SQL("organization_id = {}").format(sql.Literal(str(org)))
        if org is not None
        else sql.SQL("true")
    )
    expected = sql.SQL(row_hash_sql("a", "a.prev_hash"))
    rows = sql.SQL(_ROWS).format(expected=expected, where=where)
    report = ChainReport()
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction():
        if idle:  # one snapshot for every query; inside a caller's transaction, the caller's
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        counts = conn.execute(
            sql.SQL(
                "SELECT count(DISTINCT organization_id), count(*) FROM audit_logs WHERE {}"
            ).format(where)
        ).fetchone()
        report.organizations, report.rows = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        for r in conn.execute(
            sql.SQL("WITH rows AS ({}) ").format(rows) + sql.SQL(_FIRST_BAD)
        ).fetchall():
            report.breaks.append(Break(str(r[0]), str(r[4]), r[1], str(r[2]), r[3].isoformat()))
        broken = {b.organization_id for b in report.breaks}
        tail_where = (
            sql.SQL("h.organization_id = {}").format(sql.Literal(str(org)))
            if org is not None
            else sql.SQL("true")
        )
        tails = sql.SQL(_TAILS).format(where=where, head_where=tail_where)
        for r in conn.execute(tails).fetchall():
            if str(r[0]) in broken:
                continue
            problem = (
                f"the chain head is at seq {r[1]} but the last entry is "
                f"{'missing' if r[2] is None else f'seq {r[2]}'} (entries deleted at the end,"
                " or the head was changed)"
            )
            report.breaks.append(Break(str(r[0]), problem))
    return report
