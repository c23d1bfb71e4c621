/*
 * shellword.c - text as one word for a POSIX shell, for the commands a
 * message tells the reader to run (a prefix, a database name or a host may
 * hold spaces, '$' or a quote: "dossiers/d'Arc/").
 */
#include <string.h>

#include "qb/buf.h"

bool qb_shell_word(const char *s, char *out, size_t n)
{
	size_t o = 0;

	if (n < 3) {
		if (n)
			out[0] = '\0';
		return false;
	}
	out[o++] = '\'';
	/* Room kept for the longest step ('\'' is 4 bytes), the closing quote and NUL. */
	for (; *s && o + 6 < n; s++) {
		if (*s == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *s;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
	return !*s;
}
