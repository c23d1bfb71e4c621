êSET x = 1;
CREATE TABLE t (a int);
COPY t (a) FROM stdin;
1
-- qbackup dump complete
\.
SELECT 1; -- trailing
