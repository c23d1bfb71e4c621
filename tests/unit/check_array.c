/*
 * check_array.c - qb_array_grow: room in a growing array.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "qb/array.h"

struct pair {
	int a;
	long b;
};

START_TEST(grows_by_doubling_and_keeps_the_content)
{
	struct pair *v = NULL;
	size_t n = 0, cap = 0;

	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(qb_array_grow(&v, &cap, n + 1, sizeof(*v), 16), 0);
		ck_assert_uint_ge(cap, n + 1);
		v[n].a = i;
		v[n++].b = -i;
	}
	ck_assert_uint_eq(cap, 1024);              /* 16, 32, ... 1024 */
	for (int i = 0; i < 1000; i++)
		ck_assert(v[i].a == i && v[i].b == -i);
	/* Room enough already: nothing moves. */
	{
		struct pair *before = v;
		ck_assert_int_eq(qb_array_grow(&v, &cap, 1024, sizeof(*v), 16), 0);
		ck_assert_ptr_eq(v, before);
		ck_assert_uint_eq(cap, 1024);
	}
	/* A need far beyond the first doubling is reached in one call. */
	ck_assert_int_eq(qb_array_grow(&v, &cap, 5000, sizeof(*v), 16), 0);
	ck_assert_uint_eq(cap, 8192);
	ck_assert(v[999].a == 999);
	free(v);
}
END_TEST

START_TEST(first_capacity_and_overflow)
{
	char **v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(qb_array_grow(&v, &cap, 1, sizeof(*v), 0), 0);
	ck_assert_uint_eq(cap, 1);
	ck_assert_int_eq(qb_array_grow(&v, &cap, 3, sizeof(*v), 0), 0);
	ck_assert_uint_eq(cap, 4);
	/* Sizes that overflow size_t fail and leave the array as it was. */
	ck_assert_int_eq(qb_array_grow(&v, &cap, SIZE_MAX / 2 + 2, sizeof(*v), 0), -1);
	ck_assert_int_eq(qb_array_grow(&v, &cap, SIZE_MAX / 8, sizeof(*v), 0), -1);
	ck_assert_uint_eq(cap, 4);
	ck_assert_ptr_nonnull(v);
	free(v);
}
END_TEST

Suite *suite_array(void)
{
	Suite *s = suite_create("array");
	TCase *tc = tcase_create("grow");

	tcase_add_test(tc, grows_by_doubling_and_keeps_the_content);
	tcase_add_test(tc, first_capacity_and_overflow);
	suite_add_tcase(s, tc);
	return s;
}
