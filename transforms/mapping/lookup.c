/* lookup.c - see lookup.h. */
#include "lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/suggest.h"
#include "transforms/formats/csv_reader.h"

#define LOOKUP_MAX_BYTES (64u << 20) /* a reference table, not a data feed */

struct lookup {
	char *name;
	char *path;
	char sha[SHA256_HEX_LEN];
	struct buf text;        /* key NUL value NUL ... */
	size_t *keys;           /* offsets of keys in text */
	size_t n, cap;
	size_t *slots;          /* hash index: entry + 1, 0 = empty */
	size_t nslots;
	int ignore_case;
	enum lookup_missing missing;
	char *def;
};

static unsigned char fold(unsigned char c, int ic)
{
	return ic && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static size_t hash(const char *s, size_t n, int ic)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= fold((unsigned char)s[i], ic);
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static int key_eq(const struct lookup *l, size_t e, const char *k, size_t n)
{
	const char *s = l->text.ptr + l->keys[e];
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (fold((unsigned char)s[i], l->ignore_case) !=
		    fold((unsigned char)k[i], l->ignore_case))
			return 0;
	return 1;
}

static size_t find_slot(const struct lookup *l, const char *k, size_t n)
{
	size_t i = hash(k, n, l->ignore_case) & (l->nslots - 1);

	while (l->slots[i] && !key_eq(l, l->slots[i] - 1, k, n))
		i = (i + 1) & (l->nslots - 1);
	return i;
}

const char *lookup_get(const struct lookup *l, const char *key, size_t n)
{
	size_t s, e;

	if (!l->nslots)
		return NULL;
	s = find_slot(l, key, n);
	if (!l->slots[s])
		return NULL;
	e = l->keys[l->slots[s] - 1];
	return l->text.ptr + e + strlen(l->text.ptr + e) + 1;
}

/* "lookup 'stores': column 'store_cod' is not in stores.csv (columns:
 * store_code, location_id, region; did you mean store_code?)", with
 * err->field "key" or "value" (see lookup.h). */
static void missing_column(const struct csv_reader *r, const char *path,
			   const char *name, const struct lookup_opts *o,
			   int is_key, struct err *err)
{
	const struct csv_row *h = csv_reader_header(r);
	const char *want = is_key ? o->key : o->value;
	const char *const *cols = h ? h->f : NULL, *near = NULL;
	char list[300] = "", hint[160] = "";
	size_t n = h ? h->n : 0, room;

	if (n) {
		near = suggest_nearest(want, cols, n, suggest_max_edits(want));
		if (near)
			snprintf(hint, sizeof(hint), "; did you mean %s?", near);
		/* the list gets what the reason has left (cut with "... and
		 * N more"), so the hint after it is never cut */
		room = strlen(name) + strlen(want) + strlen(hint) +
		       strlen(o->shown ? o->shown : path) + 80;
		room = room + 64 >= sizeof(err->reason)
			       ? 64 : sizeof(err->reason) - room;
		suggest_list(list, room < sizeof(list) ? room : sizeof(list),
			     cols, n, ", ");
	}
	err_at(err, E_CONFIG, path, 1, 0,
	       "lookup '%s': column '%s' is not in %s (columns: %s%s)", name,
	       want, o->shown ? o->shown : path, list, hint);
	snprintf(err->field, sizeof(err->field), "%s",
		 is_key ? "key" : "value");
}

int lookup_load(const char *path, const char *name,
		const struct lookup_opts *o, struct lookup **out,
		struct err *err)
{
	struct lookup *l = calloc(1, sizeof(*l));
	struct csv_reader *r = NULL;
	struct csv_reader_opts ro;
	const struct csv_row *row;
	int kc, vc, rc = -1, n;
	size_t i;

	*out = NULL;
	if (!l)
		return err_set(err, E_NOMEM, "out of memory");
	l->name = strdup(name);
	l->path = strdup(path);
	l->ignore_case = o->ignore_case;
	buf_init(&l->text, LOOKUP_MAX_BYTES);
	if (!l->name || !l->path) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (sha256_file(path, l->sha, NULL, err))
		goto cleanup;
	csv_reader_opts_init(&ro);
	ro.delimiter = o->delimiter ? o->delimiter : ',';
	ro.encoding = o->encoding;
	ro.trim = 1;
	ro.comment = '#';
	if (csv_reader_open(&r, path, path, &ro, err))
		goto cleanup;
	kc = csv_reader_column(r, o->key);
	vc = csv_reader_column(r, o->value);
	if (kc < 0 || vc < 0) {
		missing_column(r, path, name, o, kc < 0, err);
		goto cleanup;
	}
	while ((n = csv_reader_next(r, &row, err)) == 1) {
		if (row->bad || row->n <= (size_t)kc || row->n <= (size_t)vc) {
			err_at(err, E_CONFIG, path, row->line, 0,
			       "lookup '%s': %s", name,
			       row->bad ? row->bad : "row has too few columns");
			goto cleanup;
		}
		if (ALLOC_GROW(l->keys, l->n + 1, l->cap)) {
			err_set(err, E_NOMEM, "out of memory");
			goto cleanup;
		}
		l->keys[l->n++] = l->text.len;
		buf_add(&l->text, row->f[kc], row->len[kc] + 1);
		buf_add(&l->text, row->f[vc], row->len[vc] + 1);
		if (l->text.err) {
			err_at(err, l->text.err, path, row->line, 0,
			       "lookup '%s' is too large", name);
			goto cleanup;
		}
	}
	if (n < 0)
		goto cleanup;
	for (l->nslots = 16; l->nslots < l->n * 2; l->nslots *= 2)
		;
	l->slots = calloc(l->nslots, sizeof(*l->slots));
	if (!l->slots) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < l->n; i++) {
		const char *k = l->text.ptr + l->keys[i];
		size_t s = find_slot(l, k, strlen(k));

		if (l->slots[s]) {
			/* Two values for one key: which one wins would be an
			 * accident of file order, so refuse. */
			err_at(err, E_CONFIG, path, 0, 0,
			       "lookup '%s': key '%s' appears twice", name, k);
			goto cleanup;
		}
		l->slots[s] = i + 1;
	}
	*out = l;
	l = NULL;
	rc = 0;
cleanup:
	csv_reader_free(r);
	lookup_free(l);
	return rc;
}

void lookup_free(struct lookup *l)
{
	if (!l)
		return;
	free(l->name);
	free(l->path);
	free(l->keys);
	free(l->slots);
	free(l->def);
	buf_release(&l->text);
	free(l);
}

const char *lookup_name(const struct lookup *l)
{
	return l->name;
}

const char *lookup_path(const struct lookup *l)
{
	return l->path;
}

const char *lookup_sha256(const struct lookup *l)
{
	return l->sha;
}

size_t lookup_count(const struct lookup *l)
{
	return l->n;
}

int lookup_set_missing(struct lookup *l, enum lookup_missing m,
		       const char *def)
{
	free(l->def);
	l->def = NULL;
	l->missing = m;
	if (def && !(l->def = strdup(def)))
		return -1;
	return 0;
}

enum lookup_missing lookup_missing_policy(const struct lookup *l,
					  const char **def)
{
	if (def)
		*def = l->def;
	return l->missing;
}
