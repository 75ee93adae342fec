/* lookup.h - lookup tables: CSV files of key -> value, loaded once, hashed.
 *
 * Mappings declare them under `lookups:` (file, key column, value column,
 * missing policy) and use them with `| lookup(name)`. A table is read whole
 * at mapping_load time (tables are reference data: store codes, unit
 * factors, item cross references), kept in one allocation of strings plus
 * an open-addressing hash index, and never changes while documents stream.
 */
#ifndef STOCKPIPE_LOOKUP_H
#define STOCKPIPE_LOOKUP_H

#include <stddef.h>

#include "lib/err.h"
#include "lib/io.h"

enum lookup_missing {
	LOOKUP_REJECT,   /* the record is rejected (default) */
	LOOKUP_KEEP,     /* the input value is kept as it is */
	LOOKUP_DEFAULT   /* a declared default value is used */
};

struct lookup;

struct lookup_opts {
	const char *key;        /* key column name (header) */
	const char *value;      /* value column name */
	char delimiter;         /* ',' when 0 */
	const char *encoding;   /* NULL = UTF-8 */
	int ignore_case;        /* keys compared ASCII case-insensitively */
	const char *shown;      /* the file as the mapping names it, for
				 * messages (NULL: path) */
};

/* Loads the CSV file at path (with a header row). A duplicate key, a
 * missing column or a bad row is an error at path:line (E_CONFIG). A
 * missing key or value column is the mapping's fault: its message lists
 * the header and the nearest name, and err->field says which option
 * named it ("key" or "value") so the caller can point at that line.
 * name is copied. Returns 0 or -1. */
int lookup_load(const char *path, const char *name,
		const struct lookup_opts *o, struct lookup **out,
		struct err *err);
void lookup_free(struct lookup *l);

/* The value for key (n bytes), or NULL when the table has no such key. */
const char *lookup_get(const struct lookup *l, const char *key, size_t n);

const char *lookup_name(const struct lookup *l);
const char *lookup_path(const struct lookup *l);
const char *lookup_sha256(const struct lookup *l);
size_t lookup_count(const struct lookup *l);

/* The policy for keys that are not in the table; def is copied. */
int lookup_set_missing(struct lookup *l, enum lookup_missing m,
		       const char *def);
enum lookup_missing lookup_missing_policy(const struct lookup *l,
					  const char **def);

#endif
