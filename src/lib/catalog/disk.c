/*
 * disk.c - how full the backup filesystem is, the way `df -h` says it.
 *
 * The admin page shows df's figures ("45%", "55G"), so Use% follows df:
 * used = blocks - free, and the percentage is of used + available to
 * unprivileged users (root's reserve excluded), rounded up.  Available
 * space is printed as df -h prints it: 1024 base, rounded up, one decimal
 * under 10 ("9.5G"), a bare number of bytes under 1 KiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "qb/catalog.h"

int qb_disk_usage(const char *path, struct qb_disk *d, struct qb_err *err)
{
	struct statvfs sv;
	uint64_t used, nonroot;

	if (statvfs(path, &sv) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to read disk usage of '%s'", path);
	used = (uint64_t)sv.f_blocks - (uint64_t)sv.f_bfree;
	nonroot = used + (uint64_t)sv.f_bavail;
	d->total = (uint64_t)sv.f_blocks * sv.f_frsize;
	d->used = used * sv.f_frsize;
	d->avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (nonroot == 0)
		d->used_percent = -1;
	else
		d->used_percent = (int)(used * 100 / nonroot + (used * 100 % nonroot != 0));
	return QB_OK;
}

void qb_format_df_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	const unsigned last = sizeof(units) - 2;
	unsigned e = 0;
	uint64_t unit = 1024, q, r;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64, bytes);
		return;
	}
	while (e < last && bytes / unit >= 1024) {
		unit *= 1024;
		e++;
	}
	q = bytes / unit;
	r = bytes % unit;
	if (q < 10) {
		/* r * 10 < 10 * 2^60 fits in 64 bits. */
		uint64_t tenths = q * 10 + (r * 10 + unit - 1) / unit;
		if (tenths < 100) {
			snprintf(buf, len, "%" PRIu64 ".%u%c", tenths / 10, (unsigned)(tenths % 10),
				 units[e]);
			return;
		}
		q = 10;
		r = 0;
	}
	q += r != 0;
	if (q == 1024 && e < last)
		snprintf(buf, len, "1.0%c", units[e + 1]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", q, units[e]);
}

int qb_disk_check(const char *path, long alert_percent, struct qb_disk *d, bool *over,
		  struct qb_err *err)
{
	int rc = qb_disk_usage(path, d, err);

	if (rc)
		return rc;
	*over = d->used_percent > alert_percent;
	return QB_OK;
}
