-- A database holding one of everything a real application database may
-- hold; the round-trip tests dump it, restore it and compare pg_dump's view
-- of both.  Roles are cluster-wide: the test creates them first.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public;

-- public comes with a comment; this database has none.
COMMENT ON SCHEMA public IS NULL;
CREATE SCHEMA app AUTHORIZATION qb_owner;
CREATE SCHEMA "Weird ""Schema""";
COMMENT ON SCHEMA app IS 'the application''s schema';
GRANT USAGE ON SCHEMA app TO qb_reader;

CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION app.c_coll (lc_collate = 'C', lc_ctype = 'C');

CREATE TYPE app.status AS ENUM ('draft', 'open', 'closed', 'it''s');
CREATE TYPE app.address AS (street text, city text COLLATE "C", zip varchar(10));
COMMENT ON COLUMN app.address.zip IS 'postal code, "quoted" and it''s';
CREATE DOMAIN app.positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0) NOT NULL DEFAULT 1;
CREATE DOMAIN app.email AS text COLLATE "C" CHECK (VALUE ~ '@');
COMMENT ON DOMAIN app.email IS 'an email address';
CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE app.empty_enum AS ENUM ();
-- A domain constraint added NOT VALID over rows that break it (products below).
CREATE DOMAIN app.sku AS text;

CREATE FUNCTION app.add_one(i integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT i + 1 $$;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW.updated_at := now(); -- a comment; with a semicolon
  RETURN NEW;
END
$body$;
CREATE FUNCTION app.atomic_double(x integer) RETURNS integer LANGUAGE sql
BEGIN ATOMIC
  SELECT x * 2;
END;
CREATE PROCEDURE app.reset_counter(INOUT n integer) LANGUAGE plpgsql AS $$ BEGIN n := 0; END $$;
CREATE FUNCTION app.secret() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT ''s''';
REVOKE ALL ON FUNCTION app.secret() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.secret() TO qb_reader;
COMMENT ON FUNCTION app.add_one(integer) IS 'adds one';
ALTER FUNCTION app.add_one(integer) OWNER TO qb_owner;

CREATE FUNCTION app.sum_state(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE AGGREGATE app.my_sum(integer) (SFUNC = app.sum_state, STYPE = integer, INITCOND = '0', PARALLEL = SAFE);
CREATE AGGREGATE app.my_max(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);

CREATE TEXT SEARCH DICTIONARY app.simple_fr (TEMPLATE = pg_catalog.simple, STOPWORDS = french);
CREATE TEXT SEARCH CONFIGURATION app.docs (PARSER = pg_catalog."default");
ALTER TEXT SEARCH CONFIGURATION app.docs ADD MAPPING FOR asciiword, word WITH app.simple_fr, simple;
ALTER TEXT SEARCH CONFIGURATION app.docs ADD MAPPING FOR int WITH simple;

CREATE SEQUENCE app.invoice_no AS integer START WITH 10