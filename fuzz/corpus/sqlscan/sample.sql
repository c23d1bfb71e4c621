 -- Sample data for the sandbox: a small law firm's application database.
CREATE TYPE case_status AS ENUM ('ouvert', 'en_cours', 'clos');
CREATE TABLE clients (
    id serial PRIMARY KEY,
    nom text NOT NULL,
    email text UNIQUE,
    cree_le timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE dossiers (
    id serial PRIMARY KEY,
    client_id integer NOT NULL REFERENCES clients (id),
    titre text NOT NULL,
    statut case_status NOT NULL DEFAULT 'ouvert',
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE documents (
    id serial PRIMARY KEY,
    dossier_id integer NOT NULL REFERENCES dossiers (id),
    cle_minio text NOT NULL,
    ajoute_le timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossiers_client_idx ON dossiers (client_id);
INSERT INTO clients (nom, email)
SELECT 'Client ' || i, 'client' || i || '@exemple.tn' FROM generate_series(1, 200) i;
INSERT INTO dossiers (client_id, titre, statut, details)
SELECT 1 + i % 200, 'Dossier n° ' || i, (ARRAY['ouvert','en_cours','clos'])[1 + i % 3]::case_status,
       jsonb_build_object('tribunal', 'Tunis', 'audience', now() + i * interval '1 day')
FROM generate_series(1, 1000) i;
INSERT INTO documents (dossier_id, cle_minio)
SELECT 1 + i % 1000, 'client' || (1 + i % 200) || '/piece-' || i || '.pdf' FROM generate_series(1, 3000) i;
