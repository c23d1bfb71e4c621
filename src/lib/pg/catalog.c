/*
 * catalog.c - the catalog differences between server versions, in one place.
 * Supported: PostgreSQL 12 and later.
 */
#include "dump_intern.h"

/* ICU (and, from 17, builtin) locale of a collation. */
const char *cat_collation_locale_sql(int version)
{
	if (version >= 170000)
		return "c.colllocale";
	if (version >= 150000)
		return "c.colliculocale";
	return "CASE WHEN c.collprovider = 'i' THEN c.collcollate END";
}

/* A column's statistics target, NULL when it is the default. */
const char *cat_attstattarget_sql(int version)
{
	if (version >= 170000)
		return "a.attstattarget";
	return "NULLIF(a.attstattarget, -1)";
}

/* A column's compression method, NULL when it is the default. */
const char *cat_attcompression_sql(int version)
{
	if (version >= 140000)
		return "NULLIF(a.attcompression, '')";
	return "NULL::\"char\"";
}

/* Triggers cloned onto partitions from a parent's trigger. */
const char *cat_trigger_parent_sql(int version)
{
	if (version >= 130000)
		return "t.tgparentid = 0";
	return "true";
}

/* Unlogged sequences exist from 15 on. */
const char *cat_sequence_unlogged_sql(int version)
{
	if (version >= 150000)
		return "c.relpersistence = 'u'";
	return "false";
}
