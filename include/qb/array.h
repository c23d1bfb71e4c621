/*
 * array.h - room in a growing array: the capacity doubles as it fills.
 *
 *	struct thing *v = NULL;
 *	size_t n = 0, cap = 0;
 *	if (qb_array_grow(&v, &cap, n + 1, sizeof(*v), 16))
 *		... out of memory: v and cap are as they were ...
 *	v[n++] = thing;
 */
#ifndef QB_ARRAY_H
#define QB_ARRAY_H

#include <stddef.h>

/* Make *cap at least need, where pv is the address of the array's pointer (a T **) and
 * size is sizeof(T): the capacity starts at first (or 1) and doubles.  Returns 0, or -1
 * when memory or size_t runs out, with the array and *cap unchanged (the caller reports
 * it its own way). */
int qb_array_grow(void *pv, size_t *cap, size_t need, size_t size, size_t first);

#endif
