/*
 * excludes.c - CODE_EXCLUDE: which entries the code archive leaves out.
 *
 * Names (or shell globs) compared with one path component, the way the old
 * script's `tar --exclude=node_modules` matched: node_modules is left out
 * at every depth.  A '/' in an exclude would suggest a path match we do
 * not do, so it is refused rather than silently never matching.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_int.h"
#include "qb/buf.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int arc_excludes_parse(struct arc_excludes *ex, const char *list, struct qb_err *err)
{
	const char *p = list ? list : QB_CODE_DEFAULT_EXCLUDES;

	ex->pat = NULL;
	ex->n = 0;
	while (*p) {
		const char *end = p + strcspn(p, ",");
		const char *a = p, *b = end;
		char **grown;

		while (a < b && is_space(*a))
			a++;
		while (b > a && is_space(b[-1]))
			b--;
		p = *end ? end + 1 : end;
		if (a == b)
			continue;
		if (memchr(a, '/', (size_t)(b - a))) {
			qb_err_set(err, QB_ECONFIG, "exclude '%.*s' must be a name, not a path",
				   (int)(b - a), a);
			arc_excludes_release(ex);
			return QB_ECONFIG;
		}
		grown = realloc(ex->pat, (ex->n + 1) * sizeof(*grown));
		if (!grown || !(grown[ex->n] = qb_strndup(a, (size_t)(b - a)))) {
			if (grown)
				ex->pat = grown;
			arc_excludes_release(ex);
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		}
		ex->pat = grown;
		ex->n++;
	}
	return QB_OK;
}

bool arc_excluded(const struct arc_excludes *ex, const char *name)
{
	for (size_t i = 0; i < ex->n; i++) {
		if (!strcmp(ex->pat[i], name) || fnmatch(ex->pat[i], name, FNM_PERIOD) == 0)
			return true;
	}
	return false;
}

void arc_excludes_release(struct arc_excludes *ex)
{
	for (size_t i = 0; i < ex->n; i++)
		free(ex->pat[i]);
	free(ex->pat);
	ex->pat = NULL;
	ex->n = 0;
}
