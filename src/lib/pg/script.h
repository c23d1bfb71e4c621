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
	char tail[64];              /* the last bytes of the stream (63 used) */
	uint64_t raw;
	struct qb_db_script_info info;
};

enum script_meta { SCRIPT_META_NONE, SCRIPT_META_CONNECT, SCRIPT_META_IGNORE };

int script_open(struct script *s, const char *path, struct qb_err *err);
/* What the first bytes say (format, source database's encoding and locale). */
int script_head(const char *path, struct qb_db_script_info *info, struct qb_err *err);
/* After the last item: was the end marker seen (qbackup's dumps only). */
bool script_complete(const struct script *s);
void script_close(struct script *s);
/* QB_EREFUSED for what a script may not do; *meta says how to treat a meta-command. */
int script_policy(const struct qb_sql_item *it, enum script_meta *meta, struct qb_err *err);

#endif
