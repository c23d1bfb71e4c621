/*
 * dbcopy.h - the old target's settings and privileges onto the new
 * database (see dbcopy.c).
 */
#ifndef QB_PG_DBCOPY_H
#define QB_PG_DBCOPY_H

#include "pg_intern.h"

/* Copy onto database scratch, through the maintenance connection c, what the
 * database of oid has beyond its contents: its settings (ALTER DATABASE ...
 * SET, list settings such as search_path element by element), its roles'
 * settings in it (ALTER ROLE ... IN DATABASE; one the restoring user may not
 * make is logged as a warning) and its privileges when it has its own. */
int dbcopy_properties(PGconn *c, unsigned oid, const char *scratch, struct qb_err *err);

#endif
