/*
 * verify.c - qb_verify_backup() and qb_restore_test() (see verify.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb/archive.h"
#include "qb/catalog.h"
#include "qb/fsutil.h"
#include "qb/hash.h"
#include "qb/log.h"
#include "qb/manifest.h"
#include "qb/mirror.h"
#include "qb/pgdump.h"
#include "qb/verify.h"

/* The manifest's SHA-256 for name, "" when there is none (old backups);
 * *listed whether the manifest of its stamp lists it at all. */
static int manifest_says(const char *dir, const char *name, char *sha, bool *listed,
			 struct qb_err *err)
{
	struct qb_manifest_entry e;
	int rc = qb_manifest_lookup(dir, name, &e, err);

	sha[0] = '\0';
	*listed = false;
	if (rc == QB_ENOTFOUND) {
		qb_err_clear(err);
		return QB_OK;
	}
	if (rc)
		return rc;
	*listed = true;
	snprintf(sha, QB_HASH_HEX_MAX, "%s", e.sha256);
	qb_manifest_entry_release(&e);
	return QB_OK;
}

static bool has_escaped(const char *snapshot)
{
	char *p = qb_path_join(snapshot, QB_MINIO_ESCAPED);
	struct stat st;
	bool yes = p && lstat(p, &st) == 0;

	free(p);
	return yes;
}

int qb_verify_backup(const char *dir, const char *name, char *detail, size_t len, struct qb_err *err)
{
	char sha[QB_HASH_HEX_MAX], stamp[QB_STAMP_LEN + 1];
	bool listed;
	enum qb_kind kind;
	char *path;
	int rc;

	if (!qb_backup_parse_name(name, &kind, stamp))
		return qb_err_set(err, QB_EARG, "'%s' is not a backup name", name);
	path = qb_path_join(dir, name);
	if (!path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = manifest_says(dir, name, sha, &listed, err);
	if (!rc && kind == QB_KIND_DB) {
		struct qb_db_script_info info;
		rc = qb_db_check_script(path, sha[0] ? sha : NULL, &info, err);
		if (!rc)
			snprintf(detail, len, "%" PRIu64 " statements, %" PRIu64 " tables of data, %s", info.statements,
				 info.copy_blocks, sha[0] ? "SHA-256 matches the manifest" : "no manifest");
	} else if (!rc && kind == QB_KIND_CODE) {
		struct qb_code_check st;
		char got[QB_HASH_HEX_MAX];
		rc = sha[0] ? qb_sha256_file(path, got, NULL, err) : QB_OK;
		if (!rc && sha[0] && strcmp(got, sha))
			rc = qb_err_set(err, QB_ECORRUPT, "'%s' does not match its manifest: SHA-256 is %s, expected %s",
					name, got, sha);
		if (!rc)
			rc = qb_code_verify(path, &st, err);
		if (!rc)
			snprintf(detail, len, "%" PRIu64 " files, %s", st.files,
				 sha[0] ? "SHA-256 matches the manifest" : "no manifest");
	} else if (!rc) {
		struct qb_minio_check chk;
		rc = qb_minio_snapshot_check(path, &chk, err);
		/* Without an index a snapshot reads as an `mc mirror` folder, its file
		 * names taken for keys; one that a manifest lists, or that has escaped
		 * names, was made by qbackup and has lost its index. */
		if (!rc && !chk.indexed && (listed || has_escaped(path)))
			rc = qb_err_set(err, QB_ECORRUPT, "snapshot '%s' has lost its object index "
					"(%s): the keys of escaped names, the sizes and the MD5s "
					"it recorded are gone, and a restore would take file names "
					"for keys", name, QB_MINIO_INDEX);
		if (!rc && !chk.indexed)
			snprintf(detail, len, "%" PRIu64 " objects, %" PRIu64 " bytes, no index "
				 "(an mc mirror folder): files counted, no checksums to compare",
				 chk.objects, chk.bytes);
		else if (!rc && chk.size_only)
			snprintf(detail, len, "%" PRIu64 " objects, %" PRIu64 " bytes match the index: "
				 "%" PRIu64 " by size and MD5, %" PRIu64 " by size only (multipart ETag, "
				 "no MD5 recorded)", chk.objects, chk.bytes, chk.md5_checked,
				 chk.size_only);
		else if (!rc)
			snprintf(detail, len, "%" PRIu64 " objects, %" PRIu64 " bytes, sizes and MD5s "
				 "match the index", chk.objects, chk.bytes);
	}
	free(path);
	return rc;
}

int qb_restore_test(const struct qb_config *cfg, const char *dir, const char *name, char *detail,
		    size_t len, struct qb_err *err)
{
	struct qb_manifest_entry e;
	struct qb_db_restore_opts o = { 0 };
	struct qb_db_restore_result r;
	char *path = qb_path_join(dir, name);
	int rc, mismatches = 0;

	if (!path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = qb_manifest_lookup(dir, name, &e, err);
	if (rc == QB_ENOTFOUND) {
		memset(&e, 0, sizeof(e));
		qb_err_clear(err);
		rc = QB_OK;
	}
	if (rc) {
		free(path);
		return rc;
	}
	o.path = path;
	o.target_db = "qbackup_restore_test";
	o.expected_sha256 = e.sha256[0] ? e.sha256 : NULL;
	o.drop_after = true;
	rc = qb_db_restore(cfg, &o, &r, err);
	if (!rc) {
		for (size_t i = 0; i < e.ntables; i++) {
			bool found = false;
			for (size_t j = 0; j < r.ntables; j++) {
				if (strcmp(e.tables[i].name, r.tables[j].name))
					continue;
				found = true;
				if (e.tables[i].rows != r.tables[j].rows) {
					qb_log(QB_LOG_ERROR, "restore test: %s has %" PRId64 " rows, the manifest says %" PRId64,
					       e.tables[i].name, r.tables[j].rows, e.tables[i].rows);
					mismatches++;
				}
			}
			if (!found) {
				qb_log(QB_LOG_ERROR, "restore test: table %s was not restored", e.tables[i].name);
				mismatches++;
			}
		}
		if (mismatches)
			rc = qb_err_set(err, QB_ECORRUPT, "restore test of %s: %d table(s) differ from the manifest",
					name, mismatches);
		else
			snprintf(detail, len, "restored %zu tables (%" PRIu64 " rows) in %.1f s, %s", r.ntables,
				 r.copy_rows, r.seconds,
				 e.ntables ? "row counts match the manifest" : "no manifest to compare with");
		qb_db_restore_result_release(&r);
	}
	qb_manifest_entry_release(&e);
	free(path);
	return rc;
}
