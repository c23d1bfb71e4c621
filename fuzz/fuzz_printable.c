/*
 * fuzz_printable.c - qb_printable() on any text and any buffer size: the
 * result is terminated, as long as it says, made only of characters
 * qb_printable_len() accepts, and cleaning it again changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, n, again;
	char *in, *out, *out2;

	if (size < 1)
		return 0;
	cap = data[0];              /* 0 to 255: short buffers cut the result */
	in = malloc(size);
	out = malloc(cap ? cap : 1);
	out2 = malloc(4 * size + 1);
	if (!in || !out || !out2)
		abort();
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	n = qb_printable(out, cap, in);
	if (cap) {
		if (n >= cap || strlen(out) != n)
			abort();
		for (size_t i = 0; i < n;) {
			size_t l = qb_printable_len(out + i);
			if (!l)
				abort();
			i += l;
		}
		again = qb_printable(out2, 4 * size + 1, out);
		if (again != n || strcmp(out, out2))
			abort();
	} else if (n != 0) {
		abort();
	}
	free(in);
	free(out);
	free(out2);
	return 0;
}
