/*
 * script.h - a dump script being read (see script.c).
 */
#ifndef QB_PG_SCRIPT_H
#define QB_PG_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "qb/pgdump.h"
#include "qb/sqlscan.h"

struct qb_gzr;

struct script {
	int fd;
	struct qb_gzr *gz;
	struct qb_sqlscan *scan;
	char *head;                 /* the first bytes, replayed to the scanner */
	size_t head_len, head_pos;
	char tail[512];             /* the last bytes of the stream (511 used): room for
				     * pg_dump's closing lines and a long \unrestrict key */
	uint64_t raw;
	struct qb_db_script_info info;
};

enum script_meta { SCRIPT_META_NONE, SCRIPT_META_CONNECT, SCRIPT_META_IGNORE };

int script_open(struct script *s, const char *path, struct qb_err *err);
/* What the first bytes say (format, source database's encoding and locale). */
int script_head(const char *path, struct qb_db_script_info *info, struct qb_err *err);
/* After the last item, statements being how many the script held:
 * QB_ECORRUPT for a script without a statement, for one of qbackup's
 * without its end marker and for any other (pg_dump's) without pg_dump's
 * closing line: a line of its own near the end, which only blank, "--" and
 * \unrestrict lines may follow. */
int script_finish(const struct script *s, uint64_t statements, const char *path,
		  struct qb_err *err);
void script_close(struct script *s);
/* QB_EREFUSED for what a script may not do; *meta says how to treat a meta-command. */
int script_policy(const struct qb_sql_item *it, enum script_meta *meta, struct qb_err *err);

#endif
