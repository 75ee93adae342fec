/* mapping.c - see mapping.h; the language is documented in docs/mapping.md.
 *
 * Compile once, stream many: mapping_load() turns the YAML into expression
 * trees (expr_*.c), loads lookup tables, and checks everything that can be
 * checked without data. mapping_run() then reads one document row by row;
 * all per-row values live in an arena that is reset for every row, so the
 * steady state allocates nothing.
 *
 * A row is all-or-nothing: when any record it produces fails (a field, the
 * canonical validation or a rule), the row is rejected once and none of
 * its records is emitted. A partner row is one fact; half of it loaded
 * would be harder to repair than none (replaying the fixed row then yields
 * the same txn_ids for every record).
 */
#include "mapping.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/io.h"
#include "lib/suggest.h"
#include "lib/ytree.h"
#include "expr.h"
#include "lookup.h"
#include "mapping_int.h"
#include "transforms/outbound/outbound.h"

/* ------------------------------------------------------------------ */
/* Compile-time scope hooks                                             */

static struct lookup *scope_lookup(void *ud, const char *name)
{
	struct mapping *m = ud;
	size_t i;

	for (i = 0; i < m->nlookups; i++)
		if (!strcmp(lookup_name(m->lookups[i]), name))
			return m->lookups[i];
	return NULL;
}

static size_t scope_lookup_names(void *ud, const char **names, size_t max)
{
	struct mapping *m = ud;
	size_t i;

	for (i = 0; i < m->nlookups && i < max; i++)
		names[i] = lookup_name(m->lookups[i]);
	return m->nlookups;
}

static int scope_field(void *ud, const char *name, int *id)
{
	struct mapping *m = ud;
	int i = canon_field_index(m->cur_kind, name);

	if (i < 0)
		return 0;
	*id = i;
	return 1;
}

unsigned map_text_col(const struct mapping *m, const char *s)
{
	const char *t = m->cur_text;

	if (t && s >= t && s <= t + strlen(t))
		return m->cur_tcol + (unsigned)(s - t);
	return m->cur_col;
}

/* expr_scope.path_dep: the driver's, outside context expressions
 * (those are made once per context already) and for its own paths
 * (pair.* changes with each exploded piece). */
static int scope_path_dep(void *ud, int id, uint64_t *dep)
{
	const struct mapping *m = ud;

	if (m->in_context || id >= MAP_PAIR_VALUE_ID || !m->drv_ops->path_dep)
		return 0;
	return m->drv_ops->path_dep(m, id, dep);
}

void map_scope_at(struct mapping *m, struct expr_scope *sc,
		  const struct ynode *n)
{
	memset(sc, 0, sizeof(*sc));
	sc->path = map_explode_path;    /* pair.*, then the driver's */
	sc->path_dep = scope_path_dep;
	sc->var = map_var_scope;
	sc->lookup = scope_lookup;
	sc->lookup_names = scope_lookup_names;
	sc->ud = m;
	sc->bare_const = 1;
	sc->file = m->path;
	sc->line = n->line;
	/* A quoted scalar's text starts after its quote. */
	sc->col = n->col + (n->quoted ? 1 : 0);
	m->cur_line = n->line;
	m->cur_col = n->col;
	m->cur_text = n->value;
	m->cur_tcol = sc->col;
}

/* ------------------------------------------------------------------ */
/* Compile                                                              */

/* allowed is ",a,b,": split into names for lib/ytree's check. */
static int check_keys(struct mapping *m, const struct ynode *map,
		      const char *allowed, const char *what, struct err *err)
{
	char copy[1024];
	const char *names[64];
	size_t n = 0;
	char *p, *save = NULL;

	if (str_copy(copy, sizeof(copy), allowed) < 0)
		return err_set(err, E_INTERNAL, "key list too long: %.40s...",
			       allowed);
	for (p = strtok_r(copy, ",", &save); p && n + 1 < 64;
	     p = strtok_r(NULL, ",", &save))
		names[n++] = p;
	names[n] = NULL;
	return ynode_check_keys(m->yt, map, names, what, 1, err);
}

static const char *scalar(struct mapping *m, const struct ynode *map,
			  const char *key, const char *def, struct err *err,
			  int *bad_out)
{
	const struct ynode *n = ynode_get(map, key);

	*bad_out = 0;
	if (!n)
		return def;
	if (n->type != Y_SCALAR) {
		*bad_out = 1;
		ynode_err(m->yt, n, err, E_CONFIG, "'%s' must be a single value",
			  key);
		return NULL;
	}
	return n->value;
}

static int parse_char(struct mapping *m, const struct ynode *in,
		      const char *key, char *out, struct err *err)
{
	const struct ynode *n = ynode_get(in, key);

	if (!n)
		return 0;
	if (n->type == Y_SCALAR && (!strcmp(n->value, "tab") ||
				    !strcmp(n->value, "\\t"))) {
		*out = '\t';
		return 0;
	}
	if (n->type != Y_SCALAR || n->len != 1)
		return ynode_err(m->yt, n, err, E_CONFIG,
				 "'%s' is one character (or \"tab\")", key);
	*out = n->value[0];
	return 0;
}

static int parse_uint(struct mapping *m, const struct ynode *in,
		      const char *key, unsigned long max, unsigned long *out,
		      struct err *err)
{
	const struct ynode *n = ynode_get(in, key);
	char *end;

	if (!n)
		return 0;
	if (n->type == Y_SCALAR) {
		unsigned long v = strtoul(n->value, &end, 10);

		if (*n->value && !*end && v <= max) {
			*out = v;
			return 0;
		}
	}
	return ynode_err(m->yt, n, err, E_CONFIG,
			 "'%s' is a whole number up to %lu", key, max);
}

static int parse_bool(struct mapping *m, const struct ynode *in,
		      const char *key, int *out, struct err *err)
{
	const struct ynode *n = ynode_get(in, key);

	if (!n)
		return 0;
	if (n->type == Y_SCALAR && (!strcmp(n->value, "true") ||
				    !strcmp(n->value, "yes"))) {
		*out = 1;
		return 0;
	}
	if (n->type == Y_SCALAR && (!strcmp(n->value, "false") ||
				    !strcmp(n->value, "no"))) {
		*out = 0;
		return 0;
	}
	return ynode_err(m->yt, n, err, E_CONFIG, "'%s' is true or false",
			 key);
}

/* The input drivers, by format name. */
static const struct map_driver *map_driver_find(const char *format)
{
	static const struct map_driver *const drivers[] = {
		&map_driver_csv, &map_driver_xml, &map_driver_x12,
		&map_driver_edifact, NULL};
	size_t i;

	for (i = 0; drivers[i]; i++)
		if (!strcmp(drivers[i]->format, format))
			return drivers[i];
	return NULL;
}

int map_check_keys(struct mapping *m, const struct ynode *map,
		   const char *allowed, const char *what, struct err *err)
{
	return check_keys(m, map, allowed, what, err);
}

int map_parse_uint(struct mapping *m, const struct ynode *in,
		   const char *key, unsigned long max, unsigned long *out,
		   struct err *err)
{
	return parse_uint(m, in, key, max, out, err);
}

int map_parse_bool(struct mapping *m, const struct ynode *in,
		   const char *key, int *out, struct err *err)
{
	return parse_bool(m, in, key, out, err);
}

int map_parse_char(struct mapping *m, const struct ynode *in,
		   const char *key, char *out, struct err *err)
{
	return parse_char(m, in, key, out, err);
}

const char *map_scalar(struct mapping *m, const struct ynode *map,
		       const char *key, const char *def, struct err *err,
		       int *bad_out)
{
	return scalar(m, map, key, def, err, bad_out);
}

static int compile_input(struct mapping *m, struct err *err)
{
	const struct ynode *in = ynode_get(m->yt->root, "input");
	const struct ynode *f;

	if (!in)
		return ynode_err(m->yt, m->yt->root, err, E_CONFIG,
				 "missing 'input:' (at least input: { format: csv })");
	if (in->type != Y_MAP)
		return ynode_err(m->yt, in, err, E_CONFIG, "'input' must be a map");
	f = ynode_get(in, "format");
	if (!f || f->type != Y_SCALAR)
		return ynode_err(m->yt, f ? f : in, err, E_CONFIG,
				 "input needs 'format: csv' (or x12, edifact, xml)");
	if (!(m->drv_ops = map_driver_find(f->value)))
		return ynode_err(m->yt, f, err, E_CONFIG,
				 "unknown format '%s' (csv, x12, edifact or xml)",
				 f->value);
	m->format = m->drv_ops->format;
	if (check_keys(m, in, m->drv_ops->input_keys, "input", err))
		return -1;
	return m->drv_ops->compile_input(m, in, err);
}

static char *join_dir(struct mapping *m, const char *rel)
{
	char *p;

	if (rel[0] == '/')
		return arena_strdup(&m->pool.arena, rel);
	p = arena_printf(&m->pool.arena, "%s/%s", m->dir, rel);
	return p;
}

/* A lookup's key: or value: column the file lacks is the mapping's
 * fault: the error moves from the lookup file's line 1 to the option's
 * line:col in the mapping (lookup.h sets err->field to the option). */
static int lookup_err_at_option(struct mapping *m, const struct ynode *d,
				struct err *err)
{
	const struct ynode *opt;
	char reason[sizeof(err->reason)];

	if (err->code != E_CONFIG ||
	    (strcmp(err->field, "key") && strcmp(err->field, "value")))
		return -1;
	opt = ynode_get(d, err->field);
	if (!opt)
		return -1;
	memcpy(reason, err->reason, sizeof(reason));
	err_clear(err);
	return ynode_err(m->yt, opt, err, E_CONFIG, "%s", reason);
}

static int compile_lookups(struct mapping *m, struct err *err)
{
	const struct ynode *ls = ynode_get(m->yt->root, "lookups");
	size_t i;

	if (!ls)
		return 0;
	if (ls->type != Y_MAP)
		return ynode_err(m->yt, ls, err, E_CONFIG,
				 "lookups: maps names to { file:, key:, value: }");
	for (i = 0; i < ls->n; i += 2) {
		const struct ynode *k = ls->items[i], *d = ls->items[i + 1];
		struct lookup_opts o = {0};
		const char *file, *miss;
		struct lookup *l;
		char *path;
		int b;

		if (m->nlookups == sizeof(m->lookups) / sizeof(m->lookups[0]))
			return ynode_err(m->yt, k, err, E_CONFIG,
					 "too many lookups (32)");
		if (d->type != Y_MAP)
			return ynode_err(m->yt, d, err, E_CONFIG,
					 "lookup '%s' needs { file:, key:, value: }",
					 k->value);
		if (check_keys(m, d,
			       ",file,key,value,missing,delimiter,encoding,ignore_case,",
			       "a lookup", err))
			return -1;
		file = scalar(m, d, "file", NULL, err, &b);
		if (b)
			return -1;
		o.key = scalar(m, d, "key", NULL, err, &b);
		if (b)
			return -1;
		o.value = scalar(m, d, "value", NULL, err, &b);
		if (b)
			return -1;
		o.encoding = scalar(m, d, "encoding", NULL, err, &b);
		if (b)
			return -1;
		if (!file || !o.key || !o.value)
			return ynode_err(m->yt, d, err, E_CONFIG,
					 "lookup '%s' needs file:, key: and value:",
					 k->value);
		if (parse_char(m, d, "delimiter", &o.delimiter, err) ||
		    parse_bool(m, d, "ignore_case", &o.ignore_case, err))
			return -1;
		if (!(path = join_dir(m, file)))
			return err_set(err, E_NOMEM, "out of memory");
		if (!io_exists(path))
			return ynode_err(m->yt, ynode_get(d, "file"), err,
					 E_CONFIG, "lookup file '%s' not found",
					 path);
		o.shown = file;
		if (lookup_load(path, k->value, &o, &l, err))
			return lookup_err_at_option(m, d, err);
		m->lookups[m->nlookups++] = l;
		miss = scalar(m, d, "missing", "reject", err, &b);
		if (b)
			return -1;
		if (!strcmp(miss, "reject")) {
			lookup_set_missing(l, LOOKUP_REJECT, NULL);
		} else if (!strcmp(miss, "keep")) {
			lookup_set_missing(l, LOOKUP_KEEP, NULL);
		} else if (!strncmp(miss, "default(", 8) &&
			   miss[strlen(miss) - 1] == ')') {
			char v[256];
			size_t n = strlen(miss) - 9;

			if (n >= sizeof(v))
				n = sizeof(v) - 1;
			memcpy(v, miss + 8, n);
			v[n] = '\0';
			if (n >= 2 && (v[0] == '"' || v[0] == '\'') &&
			    v[n - 1] == v[0]) {
				memmove(v, v + 1, n - 2);
				v[n - 2] = '\0';
			}
			if (lookup_set_missing(l, LOOKUP_DEFAULT, v))
				return err_set(err, E_NOMEM, "out of memory");
		} else {
			return ynode_err(m->yt, ynode_get(d, "missing"), err,
					 E_CONFIG,
					 "missing: is reject, keep or default(\"value\")");
		}
	}
	return 0;
}

struct enum_check {
	struct mapping *m;
	const struct canon_field *f;
	const struct ynode *n;
	struct err *err;
};

static int enum_cb(void *ud, const char *v, unsigned col)
{
	struct enum_check *ec = ud;
	const char *p = ec->f->enum_values;
	size_t n = strlen(v);

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && !memcmp(p, v, n))
			return 0;
		p = bar ? bar + 1 : NULL;
	}
	err_at(ec->err, E_CONFIG, ec->m->path, ec->n->line, col,
	       "'%s' is not a valid %s (one of %s)", v, ec->f->name,
	       ec->f->enum_values);
	return 1;
}

static int compile_cond(struct mapping *m, const struct ynode *n,
			struct expr_cond **out, struct err *err)
{
	struct expr_scope sc;
	char what[64];

	if (n->type != Y_SCALAR)
		return ynode_err(m->yt, n, err, E_CONFIG,
				 "a condition is one line of text");
	map_scope_at(m, &sc, n);
	sc.bare = scope_field;
	sc.bare_const = 0;
	snprintf(what, sizeof(what), "field of kind %s",
		 canon_kind_name(m->cur_kind));
	sc.bare_what = what;
	return expr_cond_compile(&m->pool, &sc, n->value, n->len, out, err);
}

/* "kind 'stock' has no field 'qty' (fields: sku, ..., uom; did you mean
 * ...?)": every field of the kind, or "... and N more" when the list
 * does not fit, never a silent cut. */
static int unknown_field(struct mapping *m, const struct ynode *k,
			 enum canon_kind kind, struct err *err)
{
	const struct canon_field *cf;
	const char *names[CANON_MAX_FIELDS], *near;
	char list[400], hint[160] = "";
	size_t nf, j;

	cf = canon_fields(kind, &nf);
	for (j = 0; j < nf && j < CANON_MAX_FIELDS; j++)
		names[j] = cf[j].name;
	suggest_list(list, sizeof(list), names, j, ", ");
	near = suggest_nearest(k->value, names, j,
			       suggest_max_edits(k->value));
	if (near)
		snprintf(hint, sizeof(hint), "; did you mean %s?", near);
	return ynode_err(m->yt, k, err, E_CONFIG,
			 "kind '%s' has no field '%s' (fields: %s%s)",
			 canon_kind_name(kind), k->value, list, hint);
}

/* fields: one expression per canonical field of the record's kind. */
static int compile_fields(struct mapping *m, const struct ynode *fn,
			  struct map_record *r, struct err *err)
{
	size_t i;

	for (i = 0; i < fn->n; i += 2) {
		const struct ynode *k = fn->items[i], *v = fn->items[i + 1];
		int idx = canon_field_index(r->kind, k->value);
		struct expr_scope sc;

		if (idx < 0)
			return unknown_field(m, k, r->kind, err);
		if (r->fields[idx])
			return ynode_err(m->yt, k, err, E_CONFIG,
					 "field '%s' is mapped twice", k->value);
		if (v->type != Y_SCALAR)
			return ynode_err(m->yt, v, err, E_CONFIG,
					 "field '%s' takes one expression",
					 k->value);
		map_scope_at(m, &sc, v);
		if (expr_compile(&m->pool, &sc, v->value, v->len, 0,
				 &r->fields[idx], err))
			return -1;
		/* Rows of a CSV or XML file repeat values (a store code,
		 * a status); an EDI line's repeated values are its header's,
		 * kept per context already (expr_mark_memo), and keeping
		 * the last value of the rest cost more than it saved
		 * (docs/performance.md, w-edimap2). */
		if (!m->drv_ops->path_dep)
			expr_mark_last(&m->pool, r->fields[idx]);
		r->fcol[idx] = v->col;
		r->fline[idx] = v->line;
		r->ftext[idx] = v->value;
	}
	return 0;
}

/* What can be checked about the compiled fields before data: closed enum
 * values and the required fields (after when:, which the enum check
 * reads). */
static int check_fields(struct mapping *m, const struct ynode *rn,
			const struct ynode *fn, const struct map_record *r,
			struct err *err)
{
	const struct canon_field *cf;
	size_t nf, i;

	cf = canon_fields(r->kind, &nf);
	/* Enum fields with a closed set of values (constants, map results)
	 * are checked now, unless when: looks at the field: then a value
	 * outside the enum is how the analyst marks rows to filter out
	 * (map(QP: on_order_ignored) + when: state != "on_order_ignored"). */
	for (i = 0; i < fn->n; i += 2) {
		const struct ynode *v = fn->items[i + 1];
		int idx = canon_field_index(r->kind, fn->items[i]->value);
		struct enum_check ec = {m, &cf[idx], v, err};

		if (cf[idx].type != CT_ENUM ||
		    (r->when && expr_cond_uses_bare(r->when, idx)))
			continue;
		if (expr_each_output(r->fields[idx], enum_cb, &ec) && err->code)
			return -1;
	}
	for (i = 0; i < nf; i++)
		if ((cf[i].flags & CF_REQUIRED) && !cf[i].def && !r->fields[i])
			return ynode_err(m->yt, ynode_key(rn, "fields"), err,
					 E_CONFIG,
					 "kind '%s' needs field '%s' (map it, or set a constant)",
					 canon_kind_name(r->kind), cf[i].name);
	return 0;
}

/* rules: a list of conditions, each a bare text or { check:, message: }. */
static int compile_rules(struct mapping *m, const struct ynode *rl,
			 struct map_record *r, struct err *err)
{
	size_t i;

	if (rl->type != Y_SEQ)
		return ynode_err(m->yt, rl, err, E_CONFIG,
				 "rules: is a list of { check:, message: }");
	for (i = 0; i < rl->n; i++) {
		const struct ynode *it = rl->items[i], *ck = it;
		struct map_rule *ru;

		if (r->nrules == MAP_MAX_RULES)
			return ynode_err(m->yt, it, err, E_CONFIG,
					 "too many rules");
		ru = &r->rules[r->nrules];
		if (it->type == Y_MAP) {
			int b;

			if (check_keys(m, it, ",check,message,", "a rule", err))
				return -1;
			ck = ynode_get(it, "check");
			if (!ck)
				return ynode_err(m->yt, it, err, E_CONFIG,
						 "a rule needs check:");
			ru->message = scalar(m, it, "message", NULL, err, &b);
			if (b)
				return -1;
		}
		if (compile_cond(m, ck, &ru->cond, err))
			return -1;
		ru->text = ck->value;
		r->nrules++;
	}
	return 0;
}

static int compile_record(struct mapping *m, const struct ynode *rn,
			  struct map_record *r, struct err *err)
{
	const struct ynode *kn, *fn, *en, *wn, *rl;
	int kind;

	if (rn->type != Y_MAP)
		return ynode_err(m->yt, rn, err, E_CONFIG,
				 "a record is a map with kind: and fields:");
	{
		const char *extra = map_driver_record_keys(m->drv_ops);
		char keys[160];

		snprintf(keys, sizeof(keys), ",kind,each,when,fields,rules%s",
			 extra ? extra : ",");
		if (check_keys(m, rn, keys, "a record", err))
			return -1;
	}
	m->cur_record = rn;
	kn = ynode_get(rn, "kind");
	if (!kn || kn->type != Y_SCALAR)
		return ynode_err(m->yt, kn ? kn : rn, err, E_CONFIG,
				 "record needs kind: item, location, price or stock");
	kind = canon_kind_from_name(kn->value);
	if (kind < 0)
		return ynode_err(m->yt, kn, err, E_CONFIG,
				 "unknown kind '%s' (item, location, price or stock)",
				 kn->value);
	r->kind = (enum canon_kind)kind;
	r->txn = canon_txn_field(r->kind);
	m->cur_kind = r->kind;
	en = ynode_get(rn, "each");
	if (m->drv_ops->compile_each(m, en, &r->anchor, err))
		return -1;
	if (map_explode_compile(m, rn, r, err))
		return -1;
	fn = ynode_get(rn, "fields");
	if (!fn || fn->type != Y_MAP)
		return ynode_err(m->yt, fn ? fn : rn, err, E_CONFIG,
				 "record needs fields: (canonical field: expression)");
	if (compile_fields(m, fn, r, err))
		return -1;
	wn = ynode_get(rn, "when");
	if (wn && compile_cond(m, wn, &r->when, err))
		return -1;
	if (check_fields(m, rn, fn, r, err))
		return -1;
	rl = ynode_get(rn, "rules");
	if (rl && compile_rules(m, rl, r, err))
		return -1;
	return 0;
}

static int compile_tests(struct mapping *m, struct err *err)
{
	const struct ynode *t = ynode_get(m->yt->root, "tests");
	size_t i;

	if (!t)
		return 0;
	if (t->type != Y_SEQ)
		return ynode_err(m->yt, t, err, E_CONFIG,
				 "tests: is a list of { input:, expect: }");
	m->tests = arena_alloc(&m->pool.arena, (t->n + 1) * sizeof(*m->tests));
	if (!m->tests)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < t->n; i++) {
		const struct ynode *it = t->items[i];
		const char *in, *ex, *src, *pat;
		struct err pe = ERR_INIT;
		int b1, b2, b3, b4;

		if (it->type != Y_MAP)
			return ynode_err(m->yt, it, err, E_CONFIG,
					 "a test is { input: FILE, expect: FILE }");
		if (check_keys(m, it, ",input,expect,source,pattern,", "a test",
			       err))
			return -1;
		in = scalar(m, it, "input", NULL, err, &b1);
		ex = scalar(m, it, "expect", NULL, err, &b2);
		src = scalar(m, it, "source", "", err, &b3);
		pat = scalar(m, it, "pattern", NULL, err, &b4);
		if (b1 || b2 || b3 || b4)
			return -1;
		if (pat && filepat_check(pat, &pe) < 0)
			return ynode_err(m->yt, ynode_get(it, "pattern"), err,
					 E_CONFIG, "pattern '%s': %s", pat,
					 pe.reason);
		if (!in || !ex)
			return ynode_err(m->yt, it, err, E_CONFIG,
					 "a test needs input: and expect:");
		m->tests[i].input = join_dir(m, in);
		m->tests[i].expect = join_dir(m, ex);
		m->tests[i].source = src;
		m->tests[i].pattern = pat;
		m->tests[i].line = it->line;
		if (!m->tests[i].input || !m->tests[i].expect)
			return err_set(err, E_NOMEM, "out of memory");
	}
	m->ntests = t->n;
	return 0;
}

static void add_hint(struct err *err)
{
	/* libyaml's message for `decimal(comma: true)` in a plain value. */
	if (strstr(err->reason, "mapping values are not allowed")) {
		size_t n = strlen(err->reason);

		snprintf(err->reason + n, sizeof(err->reason) - n, "%s",
			 " (inside an expression write name:value without a space, e.g. decimal(comma:true), or quote the whole expression with '...')");
	}
}

int mapping_load(const char *path, struct mapping **out, struct err *err)
{
	struct mapping *m = calloc(1, sizeof(*m));
	const struct ynode *root, *recs, *nm;
	char *tmp;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!m)
		return err_set(err, E_NOMEM, "out of memory");
	expr_pool_init(&m->pool);
	m->path = strdup(path);
	tmp = strdup(path);
	if (!m->path || !tmp) {
		free(tmp);
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	m->dir = strdup(dirname(tmp));
	free(tmp);
	if (!m->dir) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (sha256_file(path, m->sha, NULL, err))
		goto cleanup;
	if (ytree_load_file(path, &m->yt, err)) {
		add_hint(err);
		goto cleanup;
	}
	root = m->yt->root;
	if (!root || root->type != Y_MAP) {
		err_at(err, E_CONFIG, path, 1, 1,
		       "a mapping file is a map (mapping:, input:, records:)");
		goto cleanup;
	}
	if (ynode_get(root, "outbound")) {
		ynode_err(m->yt, ynode_key(root, "outbound"), err, E_CONFIG,
			  "this is an outbound mapping, not an inbound one");
		goto cleanup;
	}
	if (check_keys(m, root,
		       ",mapping,description,input,lookups,units,context,"
		       "records,tests,",
		       "the mapping", err))
		goto cleanup;
	nm = ynode_get(root, "mapping");
	if (nm && nm->type == Y_SCALAR) {
		m->name = strdup(nm->value);
	} else {
		const char *b = strrchr(path, '/');

		m->name = strdup(b ? b + 1 : path);
		if (m->name && strrchr(m->name, '.'))
			*strrchr(m->name, '.') = '\0';
	}
	if (!m->name) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (compile_input(m, err) || compile_lookups(m, err) ||
	    map_units_compile(m, err) || map_var_compile_context(m, err))
		goto cleanup;
	recs = ynode_get(root, "records");
	if (!recs || recs->type != Y_SEQ || !recs->n) {
		ynode_err(m->yt, recs ? recs : root, err, E_CONFIG,
			  "records: is a list with at least one record");
		goto cleanup;
	}
	if (recs->n > MAP_MAX_RECORDS) {
		ynode_err(m->yt, recs, err, E_CONFIG,
			  "at most %d records per mapping", MAP_MAX_RECORDS);
		goto cleanup;
	}
	for (i = 0; i < recs->n; i++)
		if (compile_record(m, recs->items[i], &m->recs[i], err))
			goto cleanup;
	m->nrecs = recs->n;
	if (m->drv_ops->finish && m->drv_ops->finish(m, err))
		goto cleanup;
	if (compile_tests(m, err))
		goto cleanup;
	*out = m;
	m = NULL;
	rc = 0;
cleanup:
	mapping_free(m);
	return rc;
}

void mapping_free(struct mapping *m)
{
	size_t i;

	if (!m)
		return;
	if (m->drv_ops && m->drv_ops->free)
		m->drv_ops->free(m);
	for (i = 0; i < m->nlookups; i++)
		lookup_free(m->lookups[i]);
	uom_table_free(m->units_table);
	expr_pool_release(&m->pool);
	ytree_free(m->yt);
	free(m->path);
	free(m->dir);
	free(m->name);
	free(m);
}

const char *mapping_name(const struct mapping *m)
{
	return m->name;
}

const char *mapping_format(const struct mapping *m)
{
	return m->format;
}

void mapping_each_dep(const struct mapping *m,
		      void (*cb)(void *ud, const char *path,
				 const char *sha256_hex),
		      void *ud)
{
	size_t i;

	cb(ud, m->path, m->sha);
	for (i = 0; i < m->nlookups; i++)
		cb(ud, lookup_path(m->lookups[i]),
		   lookup_sha256(m->lookups[i]));
	if (m->units_path)
		cb(ud, m->units_path, m->units_sha);
}

size_t mapping_ntests(const struct mapping *m)
{
	return m->ntests;
}

const struct mapping_test *mapping_get_test(const struct mapping *m,
					    size_t i)
{
	return i < m->ntests ? &m->tests[i] : NULL;
}

int mapping_check(const char *path, struct err *err)
{
	struct ytree *t = NULL;
	int outbound;

	if (ytree_load_file(path, &t, err)) {
		add_hint(err);
		return -1;
	}
	outbound = t->root && ynode_get(t->root, "outbound") != NULL;
	ytree_free(t);
	if (outbound) {
		struct outbound *o;

		if (outbound_load(path, &o, err))
			return -1;
		outbound_free(o);
	} else {
		struct mapping *m;

		if (mapping_load(path, &m, err))
			return -1;
		mapping_free(m);
	}
	return 0;
}

int mapping_reject_to_jsonl(const struct mapping_reject *rj, struct buf *out)
{
	buf_adds(out, "{\"kind\":\"reject\",\"_file\":");
	buf_add_json_str(out, rj->file ? rj->file : "",
			 rj->file ? strlen(rj->file) : 0);
	buf_addf(out, ",\"_line\":%lu", rj->line);
	if (rj->col)
		buf_addf(out, ",\"_col\":%u", rj->col);
	if (rj->seg)
		buf_addf(out, ",\"_seg\":%lu,\"_offset\":%llu", rj->seg,
			 rj->offset);
	if (rj->field && *rj->field) {
		buf_adds(out, ",\"field\":");
		buf_add_json_str(out, rj->field, strlen(rj->field));
	}
	buf_adds(out, ",\"reason\":");
	buf_add_json_str(out, rj->reason ? rj->reason : "",
			 rj->reason ? strlen(rj->reason) : 0);
	buf_adds(out, ",\"raw\":");
	buf_add_json_str(out, rj->raw ? rj->raw : "", rj->raw ? rj->raw_len : 0);
	return buf_adds(out, "}\n");
}

/* ------------------------------------------------------------------ */
/* Run: the format-independent core                                     */

static int rt_path(void *ud, int id, struct expr_val *out, unsigned *col,
		   struct err *err)
{
	struct map_run *run = ud;

	if (id >= MAP_PAIR_VALUE_ID)
		return map_explode_rt(run, id, out);
	return run->path(run, id, out, col, err);
}

static int eval_field(struct map_run *run, int idx, struct err *err);

static int rt_field(void *ud, int id, struct expr_val *out, struct err *err)
{
	struct map_run *run = ud;

	if (run->validated) {
		const char *v = run->validated->v[id];

		out->s = v;
		out->n = v ? canon_vlen(run->validated, (size_t)id) : 0;
		return 0;
	}
	if (eval_field(run, id, err))
		return -1;
	*out = run->fv[id];
	return 0;
}

int map_memo_on = 1;

/* expr_rt.memo_get: a hit restores the driver's note of the last path
 * read too, so that an error later in the record points where it would
 * have without the memo. */
static int rt_memo_get(void *ud, unsigned slot, uint64_t dep,
		       struct expr_val *out, unsigned *col)
{
	struct map_run *run = ud;
	const struct map_memo *mm = &run->memo[slot];

	if (dep & run->memo_vary)
		return -1;
	if (mm->gen != run->memo_gen)
		return 0;
	*out = mm->val;
	*col = mm->col;
	run->path_loc = mm->loc;
	return 1;
}

static int rt_memo_put(void *ud, unsigned slot, const struct expr_val *v,
		       unsigned col, struct err *err)
{
	struct map_run *run = ud;
	struct map_memo *mm = &run->memo[slot];

	mm->val.s = NULL;
	mm->val.n = v->n;
	if (v->s && !(mm->val.s = arena_strndup(&run->ctx_arena, v->s, v->n)))
		return err_set(err, E_NOMEM, "out of memory");
	mm->col = col;
	mm->loc = run->path_loc;
	mm->gen = run->memo_gen;
	return 0;
}

void map_rt_init(struct map_run *run, struct expr_rt *rt, struct arena *a)
{
	memset(rt, 0, sizeof(*rt));
	rt->path = rt_path;
	rt->var = map_var_rt;
	rt->bare = rt_field;
	rt->ud = run;
	rt->a = a;
	rt->first_bare = -1;
	if (run->memo) {
		rt->memo_get = rt_memo_get;
		rt->memo_put = rt_memo_put;
		rt->memo_vary = &run->memo_vary;
	}
	rt->last = run->last;
}

static int eval_field(struct map_run *run, int idx, struct err *err)
{
	struct expr_rt rt;

	if (run->fstate[idx] == 2)
		return 0;
	run->fstate[idx] = 1;
	run->fv[idx].s = NULL;
	run->fv[idx].n = 0;
	if (run->rec->fields[idx]) {
		map_rt_init(run, &rt, &run->row_arena);
		memset(&run->path_loc, 0, sizeof(run->path_loc));
		if (expr_eval(run->rec->fields[idx], &rt, &run->fv[idx],
			      err)) {
			if (run->fail_field < 0) {
				run->fail_field = idx;
				run->fail_col = rt.col;
				run->fail_loc = run->path_loc;
			}
			return -1;
		}
		run->fcol[idx] = rt.col;
		run->floc[idx] = run->path_loc;
	}
	run->fstate[idx] = 2;
	return 0;
}

int map_reject(struct map_run *run, unsigned col, const char *field,
	       const char *reason, struct err *err)
{
	struct mapping_reject rj;

	rj.file = run->doc->name;
	rj.line = run->have_scope ? run->scope.line : 0;
	rj.col = col;
	rj.field = field ? field : "";
	rj.reason = reason;
	rj.code = run->rej_code ? run->rej_code : E_MAP;
	run->rej_code = 0;
	rj.raw = "";
	rj.raw_len = 0;
	rj.seg = 0;
	rj.offset = 0;
	if (run->locate && run->have_scope)
		run->locate(run, &run->rej_loc, col, &rj);
	memset(&run->rej_loc, 0, sizeof(run->rej_loc));
	if (run->have_scope && run->scope.raw) {
		rj.raw = run->scope.raw;
		rj.raw_len = run->scope.raw_len;
	} else if (run->have_scope && run->scope.raw_fn) {
		rj.raw = run->scope.raw_fn(run, &rj.raw_len);
		if (!rj.raw) {
			rj.raw = "";
			rj.raw_len = 0;
		}
	}
	run->st.rejects++;
	return run->sink->reject(run->sink->ud, &rj, err);
}

_Static_assert(CANON_MAX_FIELDS == 16, "clear_values clears 16 values");

/* r's values and lengths, cleared by single stores: GCC makes a loop or
 * a memset of them a rep stos (tens of cycles to start, per record),
 * single stores a dozen vector stores. */
static inline void clear_values(struct canon_record *r)
{
	const char **v = r->v;
	unsigned *l = r->len;

	v[0] = v[1] = v[2] = v[3] = v[4] = v[5] = v[6] = v[7] = NULL;
	v[8] = v[9] = v[10] = v[11] = v[12] = v[13] = v[14] = v[15] = NULL;
	l[0] = l[1] = l[2] = l[3] = l[4] = l[5] = l[6] = l[7] = 0;
	l[8] = l[9] = l[10] = l[11] = l[12] = l[13] = l[14] = l[15] = 0;
}

/* Maps one record entry for the current scope. Returns 1 emitted into
 * *out, 0 filtered, -1 rejected (e describes why; fail_field names the
 * field). */
static int map_one(struct map_run *run, size_t ri, struct canon_record *out,
		   struct err *e)
{
	const struct map_record *rec = &run->m->recs[ri];
	struct expr_rt rt;
	size_t nf, i;
	int yes, txn;

	run->rec = rec;
	run->validated = NULL;
	run->fail_field = -1;
	run->fail_col = 0;
	memset(&run->fail_loc, 0, sizeof(run->fail_loc));
	memset(run->fstate, 0, sizeof(run->fstate));
	canon_fields(rec->kind, &nf);
	if (rec->when) {
		map_rt_init(run, &rt, &run->row_arena);
		if (expr_cond_eval(rec->when, &rt, &yes, e))
			return -1;
		if (!yes)
			return 0;
	}
	/* Every member is set below (lineage after the fields): a memset
	 * of the whole record was a rep stos per record, and so was a loop
	 * clearing the fields past nf (a count known only at run time). */
	out->kind = rec->kind;
	clear_values(out);
	for (i = 0; i < nf; i++) {
		if (eval_field(run, (int)i, e))
			return -1;
		if (run->fv[i].s) {
			/* Values are views into NUL-terminated storage that
			 * lives through the scope (expr.h); copy only those
			 * that end before their terminator. */
			out->v[i] = run->fv[i].s[run->fv[i].n] == '\0'
					    ? run->fv[i].s
					    : arena_strndup(&run->row_arena,
							    run->fv[i].s,
							    run->fv[i].n);
			if (!out->v[i])
				return err_set(e, E_NOMEM, "out of memory");
			if (run->nul_free && run->fv[i].n < CANON_LEN_MAX)
				out->len[i] = (unsigned)run->fv[i].n + 1;
		}
	}
	txn = rec->txn;
	if (txn >= 0 && !rec->fields[txn]) {
		/* "%.16s:%lu:%zu" of (document sha, scope seq, record
		 * entry), built by hand: arena_printf formats twice (size,
		 * then text) and was 12% of the CSV map stage. */
		char *t = arena_alloc(&run->row_arena, 16 + 1 + 20 + 1 + 20 + 1);
		size_t k;

		if (!t)
			return err_set(e, E_NOMEM, "out of memory");
		if (!run->doc_sha) {
			if (sha256_file(run->doc->path, run->doc_sha_buf, NULL, e))
				return -1;
			run->doc_sha = run->doc_sha_buf;
		}
		k = strnlen(run->doc_sha, 16);
		memcpy(t, run->doc_sha, k);
		t[k++] = ':';
		str_ulong_memo(&run->seq_memo, run->scope.seq);
		memcpy(t + k, run->seq_memo.s, run->seq_memo.n);
		k += run->seq_memo.n;
		t[k++] = ':';
		if (ri < 10) {
			t[k++] = (char)('0' + ri);
			t[k] = '\0';
		} else {
			k += str_ulong(t + k, (unsigned long)ri);
		}
		out->v[txn] = t;
		out->len[txn] = (unsigned)k + 1;
	}
	out->lin.source = run->doc->source ? run->doc->source : "";
	out->lin.file = run->doc->name;
	out->lin.line = run->scope.line;
	out->lin.where = run->scope.where;
	out->lin_len[CANON_LIN_SOURCE] = run->lin_len[CANON_LIN_SOURCE];
	out->lin_len[CANON_LIN_FILE] = run->lin_len[CANON_LIN_FILE];
	out->lin_len[CANON_LIN_WHERE] =
		run->scope.where ? run->scope.where_len : 0;
	if (canon_validate_memo(out, &run->row_arena, e, &run->cmemo)) {
		int fi = canon_field_index(rec->kind, e->field);

		if (fi >= 0) {
			run->fail_field = fi;
			run->fail_col = run->fcol[fi];
			run->fail_loc = run->floc[fi];
		}
		return -1;
	}
	run->validated = out;
	for (i = 0; i < rec->nrules; i++) {
		map_rt_init(run, &rt, &run->row_arena);
		if (expr_cond_eval(rec->rules[i].cond, &rt, &yes, e)) {
			if (rt.first_bare >= 0)
				run->fail_field = rt.first_bare;
			return -1;
		}
		if (!yes) {
			if (rt.first_bare >= 0) {
				run->fail_field = rt.first_bare;
				run->fail_col = run->fcol[rt.first_bare];
				run->fail_loc = run->floc[rt.first_bare];
			}
			if (rec->rules[i].message)
				return err_set(e, E_VALIDATE, "%s (rule: %s)",
					       rec->rules[i].message,
					       rec->rules[i].text);
			return err_set(e, E_VALIDATE, "rule failed: %s",
				       rec->rules[i].text);
		}
	}
	return 1;
}

/* A required field that came out empty, said with the expression that
 * made it (mapping file:line:col and text) and, from the driver, what
 * the input held where it read: "field 'quantity' (m.yaml:14:15
 * `QTY[01=145].02`) is empty: QTY segments in this message have
 * qualifiers 1, 12; none has 145". Returns 0 for other failures (then
 * the plain "field 'x': reason" stands). */
static int empty_why(struct map_run *run, const struct map_record *rec,
		     const char *field, const struct err *e, char *why,
		     size_t n)
{
	int fi = run->fail_field;
	char found[400] = "";
	const char *base;

	/* The two ways an empty value fails: canon validation of a field
	 * that must be there, and `| required` in the expression. */
	if (!((e->code == E_VALIDATE &&
	       !strcmp(e->reason, "required field is missing")) ||
	      (e->code == E_MAP &&
	       !strcmp(e->reason, "required value is empty"))))
		return 0;
	/* Drivers say what they found (EDI: the segments and qualifiers;
	 * CSV and XML: map_explain_paths() over the field's paths). */
	if (fi < 0 || !rec->fields[fi] || !rec->ftext[fi] || !run->explain)
		return 0;
	if (!run->explain(run, &run->fail_loc, found, sizeof(found)))
		snprintf(found, sizeof(found), "%.200s", e->reason);
	/* The mapping by its file name: reject files and the goldens of
	 * `map test` stay the same wherever the mapping is loaded from. */
	base = strrchr(run->m->path, '/');
	snprintf(why, n, "field '%s' (%s:%lu:%u `%.120s`) is empty: %s", field,
		 base ? base + 1 : run->m->path, rec->fline[fi], rec->fcol[fi],
		 rec->ftext[fi], found);
	return 1;
}

struct explain_acc {
	struct map_run *run;
	map_describe_fn *describe;
	char *out;
	size_t n, o, more;
	int seen[8];
	size_t nseen;
};

static int explain_path(void *ud, int id, const char *src, size_t srcn,
			unsigned col)
{
	struct explain_acc *a = ud;
	char one[300];
	size_t i, len;

	(void)col;
	if (id >= MAP_PAIR_VALUE_ID) /* pair.value: the piece, not input */
		return 0;
	for (i = 0; i < a->nseen; i++)
		if (a->seen[i] == id)
			return 0;
	if (a->nseen == sizeof(a->seen) / sizeof(a->seen[0])) {
		a->more++;
		return 0;
	}
	a->seen[a->nseen++] = id;
	one[0] = '\0';
	if (!a->describe(a->run, id, src, srcn, one, sizeof(one)) || !one[0])
		return 0;
	len = strlen(one);
	/* room for this one and a closing "; ... and N more" */
	if (a->o + 2 + len + 32 >= a->n) {
		a->more++;
		return 0;
	}
	a->o += (size_t)snprintf(a->out + a->o, a->n - a->o, "%s%s",
				 a->o ? "; " : "", one);
	return 0;
}

int map_explain_paths(struct map_run *run, map_describe_fn *describe,
		      char *out, size_t n)
{
	const struct map_record *rec = run->rec;
	struct explain_acc a;

	if (!rec || run->fail_field < 0 || !rec->fields[run->fail_field] || !n)
		return 0;
	memset(&a, 0, sizeof(a));
	a.run = run;
	a.describe = describe;
	a.out = out;
	a.n = n;
	out[0] = '\0';
	expr_each_path(rec->fields[run->fail_field], explain_path, &a);
	if (a.o && a.more)
		snprintf(out + a.o, n - a.o, "; \xe2\x80\xa6 and %zu more",
			 a.more);
	return a.o > 0;
}

void map_explain_value(const char *s, size_t len, char *out, size_t n)
{
	/* a long value is cut and says so (the ellipsis) */
	size_t k = 40;

	if (len > k) {
		while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--; /* not inside a UTF-8 character */
		snprintf(out, n, "'%.*s\xe2\x80\xa6' (%zu bytes)", (int)k, s,
			 len);
		return;
	}
	snprintf(out, n, "'%.*s'", (int)len, s);
}

int map_scope(struct map_run *run, int anchor, int ctx, struct err *err)
{
	if (run->m->has_explode)
		return map_explode_scope(run, anchor, ctx, err);
	return map_scope_group(run, anchor, 0, ctx, err);
}

int map_scope_group(struct map_run *run, int anchor, int xgroup, int ctx,
		    struct err *err)
{
	const struct mapping *m = run->m;
	struct canon_record outs[MAP_MAX_RECORDS];
	size_t ri, nout = 0;
	int failed = 0;
	struct err *e = &run->serr;

	/* A fresh error per scope without clearing 1.2 KB each time: only
	 * a used one is cleared. */
	if (e->code || e->field[0])
		err_clear(e);
	arena_reset(&run->row_arena);
	run->have_scope = 1;
	run->st.input_records++;
	/* $line and $row are formatted when an expression reads them
	 * (map_var_rt): two snprintf per scope were ~11% of the EDI map stage
	 * and most mappings read neither. */
	run->vars[VAR_LINE].s = NULL;
	run->vars[VAR_ROW].s = NULL;
	run->ctx_fail = -1;
	if (ctx)
		map_var_new_context(run);
	for (ri = 0; ri < m->nrecs; ri++) {
		int r;

		if (m->recs[ri].anchor != anchor ||
		    m->recs[ri].xgroup != xgroup)
			continue;
		r = map_one(run, ri, &outs[nout], e);
		if (r < 0) {
			failed = 1;
			break;
		}
		nout += (size_t)r;
	}
	/* Filtered: an input record that no entry produced a record for
	 * (each entry's when: said no), counted once however many entries
	 * there are. */
	if (!failed && !nout)
		run->st.filtered++;
	if (failed) {
		char why[700];
		const char *field = "";
		size_t nf;

		if (e->code == E_NOMEM || e->code == E_INTERNAL ||
		    e->code == E_IO) {
			*err = *e;
			return -1;
		}
		if (run->ctx_fail >= 0)
			/* A context value that cannot be made rejects the
			 * records that read it, not the document: in a file
			 * of several sets only some may lack it. */
			return map_reject(run, 0, m->vars[run->ctx_fail],
					  run->vfail[run->ctx_fail], err);
		if (run->fail_field >= 0)
			field = canon_fields(m->recs[ri].kind, &nf)[run->fail_field].name;
		if (*field && empty_why(run, &m->recs[ri], field, e, why,
					sizeof(why)))
			;
		else if (*field)
			snprintf(why, sizeof(why), "field '%s': %s", field,
				 e->reason);
		else
			snprintf(why, sizeof(why), "%s", e->reason);
		run->rej_code = e->code;
		run->rej_loc = run->fail_loc;
		return map_reject(run, run->fail_col, field, why, err);
	}
	for (ri = 0; ri < nout; ri++) {
		if (run->sink->record(run->sink->ud, &outs[ri], err))
			return -1;
		run->st.records_out++;
	}
	return 0;
}

int mapping_run(const struct mapping *m, const struct mapping_doc *doc,
		const struct mapping_sink *sink, struct mapping_stats *stats,
		struct err *err)
{
	return mapping_run_verdicts(m, doc, sink, NULL, NULL, stats, err);
}

int mapping_run_verdicts(const struct mapping *m, const struct mapping_doc *doc,
			 const struct mapping_sink *sink,
			 int (*verdict)(void *vud,
					const struct mapping_verdict *v,
					struct err *err),
			 void *vud, struct mapping_stats *stats,
			 struct err *err)
{
	struct map_run run;
	struct mapping_doc d = *doc;
	int rc = -1;

	memset(&run, 0, sizeof(run));
	run.m = m;
	run.doc = &d;
	run.sink = sink;
	run.verdict = verdict;
	run.verdict_ud = vud;
	arena_init(&run.doc_arena, 4096, 0);
	arena_init(&run.row_arena, 16384, 0);
	arena_init(&run.ctx_arena, 4096, 0);
	if (!d.name)
		d.name = d.path;
	if (d.source)
		run.lin_len[CANON_LIN_SOURCE] =
			canon_text_len(d.source, strlen(d.source));
	if (d.name)
		run.lin_len[CANON_LIN_FILE] =
			canon_text_len(d.name, strlen(d.name));
	if (d.sha256 && strlen(d.sha256) >= 16) {
		run.doc_sha = d.sha256;
	} else {
		/* Hashed when a default txn_id first needs it (map_one): a
		 * mapping that names its txn_ids never reads the file twice.
		 * Opening and reading a byte here keeps the errors of a
		 * missing or unreadable file (a directory) what they were. */
		int fd = open(d.path, O_RDONLY | O_CLOEXEC);
		char byte;

		if (fd < 0) {
			err_sys(err, "cannot open '%s'", d.path);
			goto cleanup;
		}
		if (pread(fd, &byte, 1, 0) < 0) {
			err_sys(err, "cannot read '%s'", d.path);
			close(fd);
			goto cleanup;
		}
		close(fd);
	}
	if (m->pool.nmemo && map_memo_on &&
	    !(run.memo = calloc(m->pool.nmemo, sizeof(*run.memo)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (m->pool.nlast && map_memo_on &&
	    !(run.last = calloc(m->pool.nlast, sizeof(*run.last)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	run.memo_gen = 1;
	map_var_doc_init(&run);
	if (m->drv_ops->run(&run, err))
		goto cleanup;
	rc = 0;
cleanup:
	if (rc && !err->file[0])
		err_locate(err, d.name, run.have_scope ? run.scope.line : 0, 0,
			   NULL);
	if (stats)
		*stats = run.st;
	arena_release(&run.doc_arena);
	arena_release(&run.row_arena);
	arena_release(&run.ctx_arena);
	free(run.xcopy);
	free(run.memo);
	expr_last_release(run.last, m->pool.nlast);
	free(run.last);
	return rc;
}
