/* mapping_explode.c - explode: for CSV and XML records (docs/mapping.md
 * section 4, "Explode in CSV and XML"). The EDI drivers explode segments
 * themselves (mapping_edi_set.c); here one input scope (a CSV row, an XML
 * record element) becomes one scope per piece:
 *
 *   explode: col(Filialen) | split("|")   each piece of a value
 *   explode: Stores/Store                 each element (XML, the driver's
 *                                         explode_path hooks)
 *
 * Records of one anchor with the same explode: text form a group that is
 * mapped per piece, all or nothing, like an EDI explode item; the
 * anchor's other records are mapped once per scope as before. A scope
 * with more pieces than explode_max: is one reject and makes no record,
 * so a hostile value cannot multiply the output without bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_int.h"

/* The mapping file's base name: a reject names where the limit is set
 * without depending on the directory a run starts in (goldens). */
static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static const char split_kw[] = "split(";

/* The quoted separator of the trailing '| split("SEP")' of s (n bytes):
 * *cut is where the pipe starts, *sep (NUL-terminated in the pool) the
 * separator. 0 when s does not end so, -1 with msg for a bad separator. */
static int split_tail(struct mapping *m, const char *s, size_t n,
		      size_t *cut, const char **sep, char *msg, size_t msgn)
{
	size_t e = n, q, k;
	char quote;
	char *copy;

	while (e && s[e - 1] == ' ')
		e--;
	if (!e || s[e - 1] != ')')
		return 0;
	q = e - 1;
	while (q && s[q - 1] == ' ')
		q--;
	if (!q || (s[q - 1] != '"' && s[q - 1] != '\''))
		return 0;
	quote = s[q - 1];
	for (k = q - 1; k-- > 0;)
		if (s[k] == quote)
			break;
	if (k == (size_t)-1 || k < sizeof(split_kw) - 1)
		return 0;
	{
		size_t b = k;

		while (b && s[b - 1] == ' ')
			b--;
		if (b < sizeof(split_kw) - 1 ||
		    memcmp(s + b - (sizeof(split_kw) - 1), split_kw,
			   sizeof(split_kw) - 1))
			return 0;
		b -= sizeof(split_kw) - 1;
		while (b && s[b - 1] == ' ')
			b--;
		if (!b || s[b - 1] != '|')
			return 0;
		*cut = b - 1;
	}
	if (q - 1 - (k + 1) == 0 || q - 1 - (k + 1) > 8) {
		snprintf(msg, msgn,
			 "explode: split() needs a separator of 1 to 8 characters: col(Stores) | split(\"|\")");
		return -1;
	}
	if (!(copy = arena_strndup(&m->pool.arena, s + k + 1, q - 1 - (k + 1)))) {
		snprintf(msg, msgn, "out of memory");
		return -1;
	}
	*sep = copy;
	return 1;
}

/* A record's explode: key: the group its records share. */
static void assign_group(struct mapping *m, struct map_record *r)
{
	size_t i, me = (size_t)(r - m->recs);
	int top = 0;

	/* records are compiled in order; m->nrecs is set after them all */
	for (i = 0; i < me; i++) {
		const struct map_record *o = &m->recs[i];

		if (!o->xgroup)
			continue;
		if (o->anchor == r->anchor && !strcmp(o->xtext, r->xtext)) {
			r->xgroup = o->xgroup;
			return;
		}
		if (o->xgroup > top)
			top = o->xgroup;
	}
	r->xgroup = top + 1;
}

int map_explode_compile(struct mapping *m, const struct ynode *rn,
			struct map_record *r, struct err *err)
{
	const struct ynode *xn = ynode_get(rn, "explode");
	const struct ynode *mx = ynode_get(rn, "explode_max");
	struct expr_scope sc;
	char msg[300];
	size_t cut = 0;
	int k;

	r->xgroup = 0;
	r->xpath = -1;
	if (!xn) {
		if (mx)
			return ynode_err(m->yt, mx, err, E_CONFIG,
					 "explode_max: needs explode: in the record");
		return 0;
	}
	if (!strcmp(m->format, "x12") || !strcmp(m->format, "edifact"))
		return 0;       /* the EDI drivers read it (edi_each) */
	if (xn->type != Y_SCALAR || !xn->len)
		return ynode_err(m->yt, xn, err, E_CONFIG,
				 "explode: is a value and a split, col(Stores) | split(\"|\")%s",
				 m->drv_ops->explode_path ? ", or the path of a repeated element below the record (Stores/Store)" : "");
	r->xmax = MAP_EXPLODE_MAX_DEFAULT;
	if (mx && map_parse_uint(m, rn, "explode_max", MAP_EXPLODE_MAX_LIMIT,
				 &r->xmax, err))
		return -1;
	if (mx && !r->xmax)
		return ynode_err(m->yt, mx, err, E_CONFIG,
				 "explode_max: is 1 to %d", MAP_EXPLODE_MAX_LIMIT);
	r->xtext = xn->value;
	r->xline = xn->line;
	r->xcol = xn->col + (xn->quoted ? 1 : 0);
	k = split_tail(m, xn->value, xn->len, &cut, &r->xsep, msg, sizeof(msg));
	if (k < 0)
		return ynode_err(m->yt, xn, err, E_CONFIG, "%s", msg);
	if (k > 0) {
		map_scope_at(m, &sc, xn);
		/* The value is read as a field is, but pair.* is not there
		 * yet: it is what the explode makes. */
		m->in_context = 0;
		if (expr_compile(&m->pool, &sc, xn->value, cut, 0, &r->xexpr,
				 err))
			return -1;
	} else if (m->drv_ops->explode_path) {
		int used = m->drv_ops->explode_path(m, xn->value, xn->len,
						    &r->xpath, msg, sizeof(msg));

		if (used < 0)
			return ynode_err(m->yt, xn, err, E_CONFIG, "%s", msg);
		if ((size_t)used != xn->len)
			return ynode_err(m->yt, xn, err, E_CONFIG,
					 "explode: is the path of a repeated element below the record (Stores/Store) or a value and a split (./Stores | split(\",\"))");
	} else {
		return ynode_err(m->yt, xn, err, E_CONFIG,
				 "explode: for %s input is a value and a split: col(Stores) | split(\"|\") (one record per piece)",
				 m->format);
	}
	assign_group(m, r);
	m->has_explode = 1;
	return 0;
}

int map_explode_path(void *ud, const char *s, size_t n, int *id, char *msg,
		     size_t msgn)
{
	struct mapping *m = ud;
	static const char *const names[] = {"pair.value", "pair.index"};
	size_t j, l;

	if (strcmp(m->format, "csv") && strcmp(m->format, "xml"))
		return m->drv_ops->path(ud, s, n, id, msg, msgn);
	for (j = 0; j < 2; j++) {
		l = strlen(names[j]);
		if (n < l || memcmp(s, names[j], l) ||
		    (n > l && (s[l] == '_' || s[l] == '-' || s[l] == '/' ||
			       (s[l] >= 'a' && s[l] <= 'z') ||
			       (s[l] >= 'A' && s[l] <= 'Z') ||
			       (s[l] >= '0' && s[l] <= '9'))))
			continue;
		if (m->in_context || !m->cur_record ||
		    !ynode_get(m->cur_record, "explode")) {
			snprintf(msg, msgn, "%s needs explode: in the record",
				 names[j]);
			return -1;
		}
		*id = j ? MAP_PAIR_INDEX_ID : MAP_PAIR_VALUE_ID;
		return (int)l;
	}
	return m->drv_ops->path(ud, s, n, id, msg, msgn);
}

int map_explode_rt(struct map_run *run, int id, struct expr_val *out)
{
	if (id == MAP_PAIR_VALUE_ID) {
		out->s = run->xval;
		out->n = run->xval ? run->xlen : 0;
		return 0;
	}
	snprintf(run->xindex_buf, sizeof(run->xindex_buf), "%lu",
		 run->xindex);
	out->s = run->xindex_buf;
	out->n = strlen(out->s);
	return 0;
}

/* The pieces of group g's value: evaluated once per scope into
 * run->xcopy (the scopes that follow reset the row arena). Returns the
 * number of non-empty pieces, or -1 with a reason in e (a failed
 * expression rejects the scope). */
static long value_pieces(struct map_run *run, const struct map_record *r,
			 struct err *e)
{
	struct expr_rt rt;
	struct expr_val v;
	size_t sl = strlen(r->xsep), i, start = 0;
	long n = 0;

	map_rt_init(run, &rt, &run->row_arena);
	if (expr_eval(r->xexpr, &rt, &v, e))
		return -1;
	if (!v.s)
		v.n = 0;
	if (v.n + 1 > run->xcap) {
		char *p = realloc(run->xcopy, v.n + 1);

		if (!p) {
			err_set(e, E_NOMEM, "out of memory");
			return -1;
		}
		run->xcopy = p;
		run->xcap = v.n + 1;
	}
	if (v.n)
		memcpy(run->xcopy, v.s, v.n);
	run->xcopy[v.n] = '\0';
	run->xlen = v.n;
	for (i = 0; i <= v.n; i++)
		if (i == v.n || (i + sl <= v.n && !memcmp(run->xcopy + i, r->xsep, sl))) {
			if (i > start)
				n++;
			start = i + sl;
			i += sl - 1;
		}
	return n;
}

/* Maps every piece of group g (its first record r): pieces of a value
 * are cut at the separator (empty ones skipped), elements come from the
 * driver. */
static int map_pieces(struct map_run *run, int anchor,
		      const struct map_record *r, int ctx, struct err *err)
{
	unsigned long base = run->scope.seq, k = 0;
	size_t total = run->xlen, sl, i, start = 0;
	int rc = 0;

	if (!r->xexpr) {
		size_t j, n = run->m->drv_ops->explode_count(run, r->xpath);
		struct expr_val t;

		for (j = 1; j <= n && !rc; j++) {
			if ((rc = run->m->drv_ops->explode_select(run, r->xpath, j, &t, err)))
				break;
			run->xval = t.s;
			run->xlen = t.n;
			run->xindex = j;
			run->scope.seq = base * 100000 + j;
			rc = map_scope_group(run, anchor, r->xgroup, ctx && j == 1, err);
		}
		if (run->m->drv_ops->explode_select(run, r->xpath, 0, &t, err))
			rc = -1;
		goto done;
	}
	sl = strlen(r->xsep);
	for (i = 0; i <= total && !rc; i++) {
		if (i < total && (i + sl > total || memcmp(run->xcopy + i, r->xsep, sl)))
			continue;
		if (i > start) {
			/* the piece is NUL-terminated for expr values (a
			 * view must end at its terminator or be copied) */
			run->xcopy[i] = '\0';
			run->xval = run->xcopy + start;
			run->xlen = i - start;
			run->xindex = ++k;
			run->scope.seq = base * 100000 + k;
			rc = map_scope_group(run, anchor, r->xgroup, ctx && k == 1, err);
		}
		start = i + sl;
		i += sl - 1;
	}
done:
	run->scope.seq = base;
	run->xval = NULL;
	run->xlen = 0;
	return rc;
}

/* Rejects the whole scope once (nothing of it is mapped). */
static int reject_scope(struct map_run *run, const char *why,
			struct err *err)
{
	arena_reset(&run->row_arena);
	run->have_scope = 1;
	run->st.input_records++;
	return map_reject(run, 0, "", why, err);
}

/* The number of pieces of group r in the current scope (a value's are
 * left in run->xcopy); -1 with err when the document must stop; -2 when
 * the value could not be made and the scope was rejected for it. */
static long count_pieces(struct map_run *run, const struct map_record *r,
			 struct err *err)
{
	const struct mapping *m = run->m;
	struct err *e = &run->serr;
	char why[700];
	long n;

	if (!r->xexpr)
		return (long)m->drv_ops->explode_count(run, r->xpath);
	if (e->code || e->field[0])
		err_clear(e);
	arena_reset(&run->row_arena);
	/* $line and $row are formatted in the row arena when read: made
	 * again for this scope (as map_scope_group() does) */
	run->vars[VAR_LINE].s = NULL;
	run->vars[VAR_ROW].s = NULL;
	run->have_scope = 1;
	if ((n = value_pieces(run, r, e)) >= 0)
		return n;
	if (e->code == E_NOMEM || e->code == E_INTERNAL || e->code == E_IO) {
		*err = *e;
		return -1;
	}
	snprintf(why, sizeof(why), "explode: %s: %s", r->xtext, e->reason);
	if (reject_scope(run, why, err))
		return -1;
	return -2;
}

int map_explode_scope(struct map_run *run, int anchor, int ctx,
		      struct err *err)
{
	const struct mapping *m = run->m;
	const struct map_record *first[MAP_MAX_RECORDS + 1] = {0};
	long total = 0, n;
	int plain = 0, g, ng = 0;
	size_t ri;

	/* A new context before the explode value is read (it may read a
	 * context variable); the scopes below keep it. */
	if (ctx)
		map_var_new_context(run);
	ctx = 0;

	for (ri = 0; ri < m->nrecs; ri++) {
		const struct map_record *r = &m->recs[ri];

		if (r->anchor != anchor)
			continue;
		if (!r->xgroup)
			plain = 1;
		else if (!first[r->xgroup])
			first[r->xgroup] = r;
		if (r->xgroup > ng)
			ng = r->xgroup;
	}
	/* Counted first: a scope over a limit makes no record at all. */
	for (g = 1; g <= ng; g++) {
		const struct map_record *r = first[g];
		char why[700];

		if (!r)
			continue;
		if ((n = count_pieces(run, r, err)) < 0)
			return n == -2 ? 0 : -1;
		if ((unsigned long)n > r->xmax) {
			snprintf(why, sizeof(why),
				 "explode: %s gives %ld %s, more than explode_max (%lu) (%s:%lu)",
				 r->xtext, n, r->xexpr ? "pieces" : "elements",
				 r->xmax, base_name(m->path), r->xline);
			return reject_scope(run, why, err);
		}
		total += n;
	}
	if (plain && map_scope_group(run, anchor, 0, ctx, err))
		return -1;
	if (!plain && !total) {
		/* nothing to explode and nothing else: a filtered scope */
		run->have_scope = 1;
		run->st.input_records++;
		run->st.filtered++;
		return 0;
	}
	for (g = 1; g <= ng; g++) {
		const struct map_record *r = first[g];

		if (!r)
			continue;
		if (r->xexpr && (n = count_pieces(run, r, err)) < 0)
			return n == -2 ? 0 : -1;
		if (map_pieces(run, anchor, r, ctx, err))
			return -1;
	}
	return 0;
}
