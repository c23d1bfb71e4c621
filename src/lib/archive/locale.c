/*
 * locale.c - libarchive converts names between the locale's charset and
 * the UTF-8 of pax headers.  The servers' file names are UTF-8 (a law
 * firm's documents are full of accents), but cron runs us in the C locale,
 * where every accented name would be stored as "binary" and GNU tar warns
 * on each.  Switching the calling thread alone keeps the rest of the
 * process (and other threads) as they were.
 */
#include "archive/archive_int.h"

void arc_locale_begin(struct arc_locale *l)
{
	l->old = (locale_t)0;
	l->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (l->utf8)
		l->old = uselocale(l->utf8);
}

void arc_locale_end(struct arc_locale *l)
{
	if (!l->utf8)
		return;
	uselocale(l->old);
	freelocale(l->utf8);
	l->utf8 = (locale_t)0;
}
