1= current_user) WITH CHECK (tenant = current_user);
CREATE POLICY audit_read ON app.audit AS RESTRICTIVE FOR SELECT TO PUBLIC USING (true);
CREATE RULE audit_no_delete AS ON DELETE TO app.audit DO INSTEAD NOTHING;
INSERT INTO app.audit (tbl, tenant) VALUES ('clients', 'qb_reader');


CREATE VIEW app.open_clients WITH (security_barrier = true) AS
    SELECT id, name, app.add_one(score) AS next_score FROM app.clients WHERE status = 'open'
    WITH CASCADED CHECK OPTION;
CREATE VIEW app.client_docs AS
    SELECT c.name, count(d.id) AS docs FROM app.open_clients c LEFT JOIN app.documents d ON d.client_id = c.id
    GROUP BY c.name;
CREATE MATERIALIZED VIEW app.doc_counts AS SELECT client_id, count(*) AS n FROM app.documents GROUP BY client_id;
CREATE UNIQUE INDEX doc_counts_client ON app.doc_counts (client_id);
CREATE MATERIALIZED VIEW app.doc_totals WITH (toast.autovacuum_enabled = false) AS SELECT sum(n) AS total FROM app.doc_counts;
CREATE MATERIALIZED VIEW app.never_filled AS SELECT 1 AS one WITH NO DATA;
ALTER MATERIALIZED VIEW app.doc_totals ALTER COLUMN total SET STATISTICS 50;
ALTER MATERIALIZED VIEW app.doc_totals ALTER COLUMN total SET (n_distinct = 1);
GRANT SELECT ON app.open_clients TO qb_reader;
-- A view's column default: what an INSERT through it puts in a column it leaves out.
ALTER VIEW app.open_clients ALTER COLUMN name SET DEFAULT 'anonymous';
COMMENT ON VIEW app.client_docs IS 'documents per client';
COMMENT ON MATERIALIZED VIEW app.doc_counts IS 'refreshed nightly';

CREATE STATISTICS app.clients_stats (ndistinct, dependencies) ON status, score FROM app.clients;
ALTER STATISTICS app.clients_stats SET STATISTICS 200;

CREATE TABLE "Weird ""Schema"""."Table; DROP TABLE x; --" ("col ""q""" text, "Upper" int);
INSERT INTO "Weird ""Schema"""."Table; DROP TABLE x; --" VALUES (E'\\. not the end', 1), (E'\\.', 2);

ALTER DEFAULT PRIVILEGES FOR ROLE qb_owner IN SCHEMA app GRANT SELECT ON TABLES TO qb_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE qb_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- Identity sequences too: their grants and comments are theirs.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO qb_writer;
COMMENT ON SEQUENCE app.clients_id_seq IS 'the clients'' ids';

SELECT lo_from_bytea(424242, '\x0001020304ff'::bytea);
SELECT lo_from_bytea(424243, convert_to(repeat('large object ', 30000), 'UTF8'));
ALTER LARGE OBJECT 424242 OWNER TO qb_owner;
COMMENT ON LARGE OBJECT 424242 IS 'a scanned document';
GRANT SELECT ON LARGE OBJECT 424242 TO qb_reader;
UPDATE app.documents SET file_oid = 424242 WHERE title = 'Contrat';

REFRESH MATERIALIZED VIEW app.doc_counts;
REFRESH MATERIALIZED VIEW app.doc_totals;
SELECT nextval('app.unused_seq');

-- A name that tries to end the dump's "--" heading and run its own SQL.
CREATE TABLE app."evil
DROP SCHEMA app CASCADE; --" (id int, "x
y" text);
INSERT INTO app."evil
DROP SCHEMA app CASCADE; --" VALUES (1, E'a\nb');
COMMENT ON TABLE app."evil
DROP SCHEMA app CASCADE; --" IS E'multi\nline; comment';
