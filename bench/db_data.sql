-- The benchmark database: prose-like French and English legal text, jsonb,
-- numbers, dates. psql -v rows=N -f bench/db_data.sql
CREATE TABLE words (i int PRIMARY KEY, w text NOT NULL);
INSERT INTO words SELECT i, w FROM unnest(string_to_array(
 'le la les de des du un une et en à au aux pour par sur dans avec sans contrat bail tribunal audience '
 'jugement avocat client dossier pièce procédure appel cassation délai article code civil pénal commercial '
 'société gérant associé loyer résiliation préjudice dommages intérêts expertise témoin plainte décision '
 'ordonnance référé greffe huissier signification notification mise en demeure paiement facture honoraires '
 'convention clause litige médiation arbitrage sentence exécution saisie créance débiteur créancier garantie '
 'hypothèque succession héritier testament donation divorce garde pension alimentaire propriété servitude '
 'the of and to in for with court case law party claim evidence hearing judge counsel motion filed order', ' '))
 WITH ORDINALITY AS t(w, i);
CREATE TABLE clients (id int PRIMARY KEY, name text, email text, city text, created timestamptz, meta jsonb);
INSERT INTO clients SELECT i, 'Client ' || md5(i::text), 'c' || i || '@example.tn',
  (ARRAY['Tunis','Sfax','Sousse','Nabeul','Bizerte'])[1 + i % 5], now() - i * interval '37 minutes',
  jsonb_build_object('vip', i % 7 = 0, 'score', i % 100, 'tags', jsonb_build_array('a' || i % 13, 'b' || i % 17))
FROM generate_series(1, 20000) i;
CREATE TABLE documents (id bigint PRIMARY KEY, client_id int REFERENCES clients, title text, body text,
  amount numeric(12,2), pages int, filed date, updated timestamptz, meta jsonb);
CREATE TABLE vocab AS SELECT array_agg(w ORDER BY i) AS a, count(*)::int AS n FROM words;
-- Words drawn by a hash of (row, position): prose-like text that compresses
-- like real text (about 3:1), not like a repeated template.
INSERT INTO documents
SELECT i, 1 + i % 20000,
  (SELECT string_agg(v.a[1 + abs(hashint4(i * 7 + k)) % v.n], ' ') FROM generate_series(1, 6) k),
  (SELECT string_agg(v.a[1 + abs(hashint4(i * 1009 + k)) % v.n], ' ') FROM generate_series(1, 30 + i % 120) k),
  round((random() * 100000)::numeric, 2), 1 + (i % 80), date '2015-01-01' + (i % 4000),
  now() - (i % 100000) * interval '1 minute',
  jsonb_build_object('court', (ARRAY['Tunis','Sfax','Sousse'])[1 + i % 3], 'ref', 'RG-' || i, 'urgent', i % 11 = 0)
FROM generate_series(1, :rows) i, vocab v;
DROP TABLE vocab;
CREATE INDEX documents_client ON documents (client_id);
CREATE INDEX documents_filed ON documents (filed);
ANALYZE;
