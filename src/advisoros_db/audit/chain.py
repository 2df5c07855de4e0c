"""How an audit_logs row is stamped and chained. Revision 0012_keys_audit_chain installs this SQL;
`verify.py` recomputes the same hash. Changing the payload changes every hash: that takes a new
revision that re-seals the trail, never an edit here."""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.partitioning import ddl, revision_steps
from advisoros_db.partitioning.layout import AUDIT_LOGS

# The acting user of a transaction, set like the tenant (transaction-local); the database copies it
# into audit_logs.user_id. Unset means a system action (user_id NULL).
USER_SETTING = "app.user_id"

# The chain heads live outside `public`: internal, no grants, not part of the models.
SCHEMA = "audit_chain"

TRIGGER = "audit_chain_stamp"
FUNCTION = "audit_chain_stamp"
SEAL_FUNCTION = "audit_chain_seal"

# What one row contributes to its hash, over a row reference `{r}` (NEW in the trigger, the table
# alias in verify). Time in UTC text: independent of the session's TimeZone.
_PAYLOAD: LiteralString = (
    "jsonb_build_object('seq', {r}.chain_seq, 'id', {r}.id, 'org', {r}.organization_id,"
    " 'user', {r}.user_id, 'entity_type', {r}.entity_type, 'entity_id', {r}.entity_id,"
    " 'action', {r}.action, 'old', {r}.old_values, 'new', {r}.new_values,"
    " 'meta', {r}.metadata, 'ip', {r}.ip_address::text, 'ua', {r}.user_agent,"
    " 'request', {r}.request_id,"
    " 'at', to_char({r}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::text"
)


def row_hash_sql(r: str, prev: str) -> str:
    """sha256(previous hash || payload of row `r`): one link of the chain."""
    return f"sha256({prev} || convert_to({_PAYLOAD.format(r=r)}, 'UTF8'))"


_STAMP: LiteralString = """
CREATE TABLE IF NOT EXISTS audit_chain.heads (
    organization_id uuid PRIMARY KEY REFERENCES public.organizations (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    hash bytea NOT NULL
);
REVOKE ALL ON audit_chain.heads FROM PUBLIC;

-- Append one row to its organization's chain. The head row, locked until the transaction ends,
-- serializes the organization's audit inserts; a rolled-back insert rolls the head back too.
CREATE OR REPLACE FUNCTION audit_chain_link(org uuid, INOUT seq bigint, INOUT prev bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    INSERT INTO audit_chain.heads (organization_id, seq, hash) VALUES (org, 0, '\\x'::bytea)
        ON CONFLICT (organization_id) DO NOTHING;
    SELECT h.seq + 1, h.hash INTO seq, prev FROM audit_chain.heads h
        WHERE h.organization_id = org FOR UPDATE;
END $fn$;
REVOKE ALL ON FUNCTION audit_chain_link(uuid, bigint, bytea) FROM PUBLIC;

{stamp}-- Chain the rows that have no link yet (written before the chain existed, or loaded with
-- triggers off), per organization in (created_at, id) order, after its head. Owner only.
CREATE OR REPLACE FUNCTION audit_chain_seal() RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
DECLARE
    r record;
    link record;
    sealed bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_logs WHERE chain_seq IS NULL
             ORDER BY organization_id, created_at, id LOOP
        SELECT * INTO link FROM audit_chain_link(r.organization_id, NULL, NULL);
        r.chain_seq := link.seq;
        r.prev_hash := link.prev;
        r.row_hash := {r_hash};
        UPDATE audit_logs SET chain_seq = r.chain_seq, prev_hash = r.prev_hash,
                              row_hash = r.row_hash
            WHERE id = r.id AND created_at = r.created_at;
        UPDATE audit_chain.heads SET seq = r.chain_seq, hash = r.row_hash
            WHERE organization_id = r.organization_id;
        sealed := sealed + 1;
    END LOOP;
    RETURN sealed;
END $fn$;
REVOKE ALL ON FUNCTION audit_chain_seal() FROM PUBLIC;
"""


_STAMP_FUNCTION: LiteralString = """CREATE OR REPLACE FUNCTION audit_chain_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
{declare}    -- The role the caller acts as (SET ROLE or its login), not this function's owner.
    caller text := CASE current_setting('role') WHEN 'none' THEN session_user::text
                   ELSE current_setting('role') END;
    acting uuid := nullif(current_setting('app.user_id', true), '')::uuid;
BEGIN
    -- The owner (migrations, imports of a historical trail) may set time and user; nobody else.
{owner_check}        -- Another tenant's row: row-level security refuses it after this trigger. Leave it to the
        -- policy, and lock nothing of that organization's chain.
        IF NEW.organization_id IS DISTINCT FROM
           nullif(current_setting('app.organization_id', true), '')::uuid THEN
            RETURN NEW;
        END IF;
        IF NEW.created_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'audit_logs.created_at is set by the database; leave it out'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.user_id IS DISTINCT FROM acting AND NEW.user_id IS NOT NULL THEN
            RAISE EXCEPTION 'audit_logs.user_id is the acting user of the transaction (%), not %',
                coalesce(acting::text, 'none set'), NEW.user_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'leave user_id out; set the acting user with set_config(''app.user_id'', ..., true)';
        END IF;
        NEW.user_id := acting;
    END IF;
{link}    RETURN NEW;
END $fn$;

"""

# Revision 0012's link: audit_chain_link() (insert-if-missing, lock, read), then an UPDATE of the
# head. Three statements on the head row per audit row, and the head's index lookup walks every
# version this transaction made of it: a statement of n rows for one organization costs O(n^2).
_LINK_0012: LiteralString = """    SELECT l.seq, l.prev INTO NEW.chain_seq, NEW.prev_hash
        FROM audit_chain_link(NEW.organization_id, NULL, NULL) l;
    NEW.row_hash := {new_hash};
    UPDATE audit_chain.heads SET seq = NEW.chain_seq, hash = NEW.row_hash
        WHERE organization_id = NEW.organization_id;
"""

# Revision 0019_write_cost_audit_chain's link: one UPDATE of the head computes the same hash and
# returns the previous one, found by the head version's ctid that the previous row of this
# transaction left in a transaction-local setting (O(1) instead of walking the versions). The
# setting is only a hint: anyone can set it, but a ctid that is not this organization's current
# head matches no row, and the head is then found by its key as before.
_LINK_0017: LiteralString = """    hint := current_setting(hint_name, true);
    IF hint ~ '^\\([0-9]+,[0-9]+\\)$' THEN
        UPDATE audit_chain.heads h SET seq = h.seq + 1, hash = {step_hash}
            WHERE h.ctid = hint::tid AND h.organization_id = NEW.organization_id
            RETURNING WITH (OLD AS prior) h.seq, prior.hash, h.hash, h.ctid
            INTO NEW.chain_seq, NEW.prev_hash, NEW.row_hash, head;
    END IF;
    IF head IS NULL THEN
        INSERT INTO audit_chain.heads (organization_id, seq, hash)
            VALUES (NEW.organization_id, 0, '\\x'::bytea) ON CONFLICT (organization_id) DO NOTHING;
        UPDATE audit_chain.heads h SET seq = h.seq + 1, hash = {step_hash}
            WHERE h.organization_id = NEW.organization_id
            RETURNING WITH (OLD AS prior) h.seq, prior.hash, h.hash, h.ctid
            INTO NEW.chain_seq, NEW.prev_hash, NEW.row_hash, head;
    END IF;
    PERFORM set_config(hint_name, head::text, true);
"""
_DECLARE_0017: LiteralString = """    hint_name text := 'audit_chain.head_' || replace(NEW.organization_id::text, '-', '');
    hint text;
    head tid;
"""


# Revisions 0012 and 0019: the caller's role checked against the table's owner on every row (a
# catalog query through SPI per row).
_OWNER_CHECK_0012: LiteralString = (
    "    IF NOT pg_has_role(caller, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')"
    " THEN\n"
)

# Revision 0020_writes_audit_stamp: the same check, made once per caller and partition in a
# transaction. A caller found NOT to act as the owner is remembered in a transaction-local setting;
# any later row of that caller and partition takes the restricted path without the catalog query.
# Anyone can write that setting, and all it can do is put a caller on the restricted path: an
# owner who forges it only refuses its own backdated rows; the application role is restricted
# anyway. A caller acting as the owner is never remembered, so it is checked on every row as before.
_OWNER_CHECK_0020: LiteralString = """    who := caller || '/' || TG_RELID::text;
    restricted := current_setting('audit_chain.restricted', true) IS NOT DISTINCT FROM who;
    IF NOT restricted THEN
        restricted := NOT pg_has_role(caller, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                                      'USAGE');
        IF restricted THEN
            who := set_config('audit_chain.restricted', who, true);
        END IF;
    END IF;
    IF restricted THEN
"""
_DECLARE_0020: LiteralString = """    restricted boolean;
    who text;
"""


def _stamp(link: str, declare: str, owner_check: str = _OWNER_CHECK_0012) -> str:
    return _STAMP_FUNCTION.format(link=link, declare=declare, owner_check=owner_check).replace(
        "{new_hash}", row_hash_sql("NEW", "NEW.prev_hash")
    )


def install_sql() -> str:
    """Revision 0012: the heads, audit_chain_link, the stamping function, audit_chain_seal."""
    return "CREATE SCHEMA IF NOT EXISTS audit_chain;\n" + _STAMP.replace(
        "{stamp}", _stamp(_LINK_0012, "")
    ).replace("{r_hash}", row_hash_sql("r", "r.prev_hash"))


def stamp_sql(one_update: bool, owner_once: bool = False) -> str:
    """The stamping function alone: of revision 0020 (`owner_once`, which implies one_update), of
    0019 (one_update) or of 0012. Same payload and hashes in all three."""
    if not one_update and not owner_once:
        return _stamp(_LINK_0012, "")
    # The payload's seq is the head's next one, read inside the same UPDATE.
    step = row_hash_sql("NEW", "h.hash").replace("NEW.chain_seq", "(h.seq + 1)")
    link = _LINK_0017.replace("{step_hash}", step)
    if not owner_once:
        return _stamp(link, _DECLARE_0017)
    # 0020 also keeps the hint with an assignment (a plain expression) instead of PERFORM (a
    # query through SPI).
    link = link.replace("    PERFORM set_config(hint_name", "    hint := set_config(hint_name")
    return _stamp(link, _DECLARE_0017 + _DECLARE_0020, _OWNER_CHECK_0020)


# What each revision installs, for the revisions and for measurements that swap them.
STAMP_0012 = {"one_update": False}
STAMP_0019 = {"one_update": True}
STAMP_0020 = {"one_update": True, "owner_once": True}


def act_as(conn: psycopg.Connection[Any], user_id: uuid.UUID | str | None) -> None:
    """Name the acting user for the rest of the current transaction (None: a system action)."""
    conn.execute(
        "SELECT set_config(%s, %s, true)", (USER_SETTING, "" if user_id is None else str(user_id))
    )


_COLUMNS = (("chain_seq", "bigint"), ("prev_hash", "bytea"), ("row_hash", "bytea"))


def _tables(conn: ddl.Conn) -> list[str]:
    """audit_logs and, during a conversion or its rollback window, its twin or plain copy: each may
    become the live table, so each carries the columns and the trigger."""
    names = (AUDIT_LOGS.table, AUDIT_LOGS.old_name, AUDIT_LOGS.partitioned_name)
    return [n for n in names if ddl.exists(conn, n)]


def install(conn: ddl.Conn) -> int:
    """Add the chain columns and the stamping trigger, and chain the rows already there; returns
    how many were chained."""
    conn.execute(sql.SQL(install_sql()))
    for table in _tables(conn):
        t = sql.Identifier(table)
        for name, type_ in _COLUMNS:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    t,
                    sql.Identifier(name),
                    sql.SQL(type_),
                )
            )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
            ).format(sql.Identifier(TRIGGER), t, sql.Identifier(FUNCTION))
        )
    revision_steps.refresh_mirror(conn, AUDIT_LOGS.table)
    row = conn.execute(sql.SQL("SELECT {}()").format(sql.Identifier(SEAL_FUNCTION))).fetchone()
    return int(row[0]) if row else 0


def uninstall(conn: ddl.Conn) -> None:
    for table in _tables(conn):
        t = sql.Identifier(table)
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(TRIGGER), t))
        for name, _ in _COLUMNS:
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(t, sql.Identifier(name))
            )
    revision_steps.refresh_mirror(conn, AUDIT_LOGS.table)
    for fn in (f"{FUNCTION}()", f"{SEAL_FUNCTION}()", "audit_chain_link(uuid, bigint, bytea)"):
        conn.execute(sql.SQL("DROP FUNCTION IF EXISTS " + fn))
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
