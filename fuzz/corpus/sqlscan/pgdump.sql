--
-- PostgreSQL database dump
--

\restrict abcDEF123

SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
/* a /* nested */ comment; */
CREATE FUNCTION public.f(a int) RETURNS int
    LANGUAGE sql
    BEGIN ATOMIC
 SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;
 SELECT 3;
END;
CREATE FUNCTION public.g() RETURNS text LANGUAGE plpgsql AS $_$
BEGIN RETURN 'x;' || $1; END;
$_$;
SELECT E'a\';b' -- c
  'd\\', $$x$$, "q;""x", $1;
COPY public.t (a, b) FROM stdin;
1	x\.y
2	\N
\.
COPY public.u (a) FROM stdin WITH (FORMAT text); -- c
\.x
\.
SELECT 1 \; SELECT 2;
\connect - postgres
SELECT (1;
2);
--
-- PostgreSQL database dump complete
--

\unrestrict abcDEF123

