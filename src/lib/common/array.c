/* array.c - room in a growing array. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb/array.h"

int qb_array_grow(void *pv, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t c = *cap ? *cap : (first ? first : 1);
	void *p, *q;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -1;
		c *= 2;
	}
	if (size && c > SIZE_MAX / size)
		return -1;
	/* pv points at a T *: read and write it as bytes, not through a void ** lvalue. */
	memcpy(&p, pv, sizeof(p));
	q = realloc(p, c * size);
	if (!q)
		return -1;
	memcpy(pv, &q, sizeof(q));
	*cap = c;
	return 0;
}
