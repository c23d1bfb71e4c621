/*
 * format.c - sizes for people.
 *
 * qb_format_size() is the admin page's format ("15.2 MB", "250 MB"): the old
 * API printed at most one decimal and dropped a trailing ".0".  Integer
 * arithmetic only, so the output never depends on the locale or on double
 * rounding, and 1023.96 KB reads "1 MB", not "1024 KB".
 */
#include <inttypes.h>
#include <stdio.h>

#include "qb/catalog.h"

void qb_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
	const unsigned last = sizeof(units) / sizeof(units[0]) - 1;
	unsigned e = 0;
	uint64_t unit = 1, tenths;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return;
	}
	while (e < last && bytes / unit >= 1024) {
		unit *= 1024;
		e++;
	}
	for (;;) {
		/* r * 10 cannot overflow: r < unit <= 2^40. */
		uint64_t q = bytes / unit, r = bytes % unit;
		tenths = q * 10 + (r * 10 + unit / 2) / unit;
		if (tenths < 10240 || e == last)
			break;
		unit *= 1024;
		e++;
	}
	if (tenths % 10 == 0)
		snprintf(buf, len, "%" PRIu64 " %s", tenths / 10, units[e]);
	else
		snprintf(buf, len, "%" PRIu64 ".%u %s", tenths / 10, (unsigned)(tenths % 10),
			 units[e]);
}
