/*
 * printable.c - text from outside made safe to show (see log.h).
 *
 * A file, a server or an S3 key can put any byte into a message: ESC starts
 * the sequences that clear a terminal or set its title, and the C1 controls
 * (U+0080..U+009F, or a lone byte 0x9b that a terminal not in UTF-8 mode
 * takes as CSI) do the same.  Each such byte is shown as "\xHH" instead.
 * A backslash is left alone: escaping it too would make the output
 * unambiguous but double every "\connect" in the script policy's messages,
 * and cleaning twice would no longer be harmless.
 */
#include <stdio.h>
#include <string.h>

#include "qb/log.h"

size_t qb_printable_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp, min;
	size_t n;

	if (s[0] < 0x20 || s[0] == 0x7f)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, min = 0x80, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, min = 0x800, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, min = 0x10000, cp = s[0] & 0x07u;
	else
		return 0;
	/* A '\0' fails the continuation test: never read past the end. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
		return 0;
	return n;
}

size_t qb_printable(char *out, size_t cap, const char *in)
{
	size_t len = 0;

	if (!cap)
		return 0;
	while (*in) {
		size_t n = qb_printable_len(in);

		if (n) {
			if (len + n >= cap)
				break;
			memcpy(out + len, in, n);
			in += n;
		} else {
			if (len + 4 >= cap)
				break;
			snprintf(out + len, 5, "\\x%02x", (unsigned char)*in);
			n = 4;
			in++;
		}
		len += n;
	}
	out[len] = '\0';
	return len;
}
