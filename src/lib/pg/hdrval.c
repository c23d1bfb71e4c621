/*
 * hdrval.c - a value of the dump's header line, percent-encoded.
 *
 * The header ("-- qbackup-database: key=value<TAB>key=value") is an SQL
 * comment: a value taken from the server (a role name may hold any byte
 * but NUL) must not end the line, or what follows would run as SQL, nor
 * hold the tab between fields.  Control bytes, space and '%' become %XX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_intern.h"
#include "qb/hash.h"

char *pgh_encode(const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += *p <= ' ' || *p == '%' || *p == 0x7f ? 3 : 1;
	if (!(out = malloc(n + 1)))
		return NULL;
	o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == '%' || *p == 0x7f) {
			snprintf(o, 4, "%%%02X", *p);
			o += 3;
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

bool pgh_decode(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			int h = qb_hex_digit(p[1]), l = h < 0 ? -1 : qb_hex_digit(p[2]);
			if (l < 0 || (h == 0 && l == 0))
				return false;
			*o++ = (char)(h << 4 | l);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return true;
}
