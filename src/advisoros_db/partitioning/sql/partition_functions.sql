-- Partition maintenance functions, usable from psql or any scheduler. Installed by 0004.

CREATE SCHEMA IF NOT EXISTS archive;

-- Create one range partition without a long lock on the busy parent: build it standalone with a
-- CHECK matching its bounds, move the default partition's rows of that range into it, then ATTACH.
-- Idempotent: returns false when the partition already exists.
CREATE OR REPLACE FUNCTION partition_create(parent regclass, part_name text, lower_bound text,
                                            upper_bound text)
RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
    nsp text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.oid = parent);
    key text := (SELECT a.attname FROM pg_partitioned_table p
                 JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                 WHERE p.partrelid = parent);
    dflt regclass := (SELECT i.inhrelid::regclass FROM pg_inherits i
                      JOIN pg_class c ON c.oid = i.inhrelid
                      WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT');
    part regclass;
    moved bigint := 0;
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION '% is not a range-partitioned table', parent
            USING HINT = 'run the conversion first: advisoros-db partitions convert';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = parent AND c.relname = part_name) THEN
        RETURN false;
    END IF;
    -- Fixed lock order (parent, then default) so two maintainers cannot deadlock each other.
    EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
    IF dflt IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', dflt);
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                   'INCLUDING GENERATED INCLUDING STORAGE)', nsp, part_name, parent);
    part := format('%I.%I', nsp, part_name)::regclass;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I IS NOT NULL AND %I >= %L AND %I < %L)',
                   part, part_name || '_bounds', key, key, lower_bound, key, upper_bound);
    IF dflt IS NOT NULL THEN
        EXECUTE format('WITH gone AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) '
                       'INSERT INTO %s SELECT * FROM gone', dflt, key, lower_bound, key,
                       upper_bound, part);
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF moved > 0 THEN
            RAISE NOTICE 'moved % rows from % into %', moved, dflt, part;
        END IF;
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                   parent, part, lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', part, part_name || '_bounds');
    PERFORM partition_secure(part, parent);
    RETURN true;
END
$fn$;

-- A partition is reachable directly too: give it its parent's row-level security, forced.
CREATE OR REPLACE FUNCTION partition_secure(part regclass, parent regclass)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    pol record;
BEGIN
    IF (SELECT relrowsecurity FROM pg_class WHERE oid = parent) THEN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', part);
        FOR pol IN SELECT p.polname, p.polpermissive, p.polcmd,
                          pg_get_expr(p.polqual, p.polrelid) AS qual,
                          pg_get_expr(p.polwithcheck, p.polrelid) AS wcheck,
                          ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(r::regrole::text) END
                                FROM unnest(p.polroles) r) AS roles
                   FROM pg_policy p WHERE p.polrelid = parent
                   AND NOT EXISTS (SELECT 1 FROM pg_policy q WHERE q.polrelid = part
                                   AND q.polname = p.polname)
        LOOP
            EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', pol.polname, part,
                           CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                           CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                           array_to_string(pol.roles, ', '),
                           CASE WHEN pol.qual IS NULL THEN '' ELSE ' USING (' || pol.qual || ')' END,
                           CASE WHEN pol.wcheck IS NULL THEN ''
                                ELSE ' WITH CHECK (' || pol.wcheck || ')' END);
        END LOOP;
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION create_next_audit_logs_partition()
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    next_month date;
    part_name text;
BEGIN
    -- The month after the newest existing partition, or the current (UTC) month if there is none.
    SELECT coalesce((max(to_date(substring(c.relname from '(\d{4}_\d{2})$'), 'YYYY_MM'))
                     + interval '1 month')::date,
                    date_trunc('month', now() AT TIME ZONE 'UTC')::date)
      INTO next_month
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_logs'::regclass AND c.relname ~ '^audit_logs_\d{4}_\d{2}$';
    part_name := 'audit_logs_' || to_char(next_month, 'YYYY_MM');
    PERFORM partition_create('audit_logs'::regclass, part_name,
                             to_char(next_month, 'YYYY-MM-DD') || ' 00:00:00+00',
                             to_char(next_month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
    RETURN part_name;
END
$fn$;

CREATE OR REPLACE FUNCTION create_next_documents_partition()
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    next_year int;
    part_name text;
BEGIN
    SELECT coalesce(max(substring(c.relname from '(\d{4})$')::int) + 1,
                    extract(year FROM now())::int)
      INTO next_year
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'documents'::regclass AND c.relname ~ '^documents_\d{4}$';
    part_name := 'documents_' || next_year;
    PERFORM partition_create('documents'::regclass, part_name, next_year::text,
                             (next_year + 1)::text);
    RETURN part_name;
END
$fn$;

-- Detach the month partitions wholly older than months_to_keep and keep them, queryable, in the
-- archive schema. A plain DETACH: DETACH CONCURRENTLY is refused while a default partition exists.
CREATE OR REPLACE FUNCTION archive_old_audit_logs_partition(months_to_keep int)
RETURNS SETOF text LANGUAGE plpgsql AS $fn$
DECLARE
    cutoff date;
    part record;
BEGIN
    IF months_to_keep IS NULL OR months_to_keep < 0 THEN
        RAISE EXCEPTION 'months_to_keep must be 0 or more, got %', months_to_keep;
    END IF;
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC')
               - make_interval(months => months_to_keep))::date;
    FOR part IN SELECT c.oid::regclass AS rel, c.relname
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'audit_logs'::regclass AND c.relname ~ '^audit_logs_\d{4}_\d{2}$'
                   AND to_date(substring(c.relname from '(\d{4}_\d{2})$'), 'YYYY_MM')
                       + interval '1 month' <= cutoff
                 ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE audit_logs DETACH PARTITION %s', part.rel);
        EXECUTE format('ALTER TABLE %s SET SCHEMA archive', part.rel);
        RETURN NEXT 'archive.' || part.relname;
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION get_partition_stats(table_pattern text DEFAULT '%')
RETURNS TABLE (parent_table text, partition_name text, row_estimate bigint, total_bytes bigint,
               total_size text, bounds text, last_analyze timestamptz, last_autoanalyze timestamptz)
LANGUAGE sql STABLE AS $fn$
    SELECT ip.relname::text, c.relname::text,
           greatest(c.reltuples, 0)::bigint,
           pg_total_relation_size(c.oid),
           pg_size_pretty(pg_total_relation_size(c.oid)),
           pg_get_expr(c.relpartbound, c.oid),
           s.last_analyze, s.last_autoanalyze
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class ip ON ip.oid = i.inhparent
      LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE ip.relkind = 'p' AND ip.relname LIKE table_pattern
     ORDER BY ip.relname, c.relname
$fn$;
