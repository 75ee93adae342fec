/* outbound.c - see outbound.h; the YAML is documented in docs/mapping.md
 * ("Outbound mappings"). Columns are compiled with the same expression
 * compiler as inbound fields (expr.c); the "path" of an outbound
 * expression is a row field name, and constants must be quoted so that a
 * misspelt field name is an error at load time instead of a constant
 * column in every target file. */
#include "outbound_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/canon.h"
#include "transforms/model/dec.h"

static const char *const stock_fields[] = {
	"sku", "location", "available", "on_hand", "reserved", "in_transit",
	"as_of", "gtin", "description", "brand", "category", "uom", NULL};
static const char *const item_extra[] = {"price", "currency", NULL};

const char *const ob_var_names[OV_N + 1] = {
	"control", "date", "time", "now", "rows", "target", NULL};

static int ob_bare(void *ud, const char *name, int *id)
{
	struct outbound *o = ud;
	size_t i;

	for (i = 0; i < o->nnames; i++)
		if (!strcmp(o->names[i], name)) {
			*id = (int)i;
			return 1;
		}
	return 0;
}

static int ob_rt_bare(void *ud, int id, struct expr_val *out, struct err *err)
{
	struct ob_row *r = ud;
	const char *v = r->get ? r->get(r->ud, r->o->names[id]) : NULL;

	(void)err;
	out->s = v;
	out->n = v ? strlen(v) : 0;
	return 0;
}

static int ob_rt_none(void *ud, int id, struct expr_val *out, unsigned *col,
		      struct err *err)
{
	(void)ud;
	(void)id;
	(void)out;
	(void)col;
	return err_set(err, E_INTERNAL, "outbound expressions have no paths");
}

static int ob_rt_var(void *ud, int id, struct expr_val *out, struct err *err)
{
	struct ob_row *r = ud;

	if (!r->vars || id < 0 || id >= OV_N)
		return err_set(err, E_INTERNAL, "envelope variable in a row");
	out->s = r->vars[id];
	out->n = strlen(out->s);
	return 0;
}

static int ob_var(void *ud, const char *name, int *id)
{
	int i;

	(void)ud;
	for (i = 0; i < OV_N; i++)
		if (!strcmp(ob_var_names[i], name)) {
			*id = i;
			return 1;
		}
	return 0;
}

static void ob_scope(struct outbound *o, struct expr_scope *sc,
		     const struct ynode *n)
{
	memset(sc, 0, sizeof(*sc));
	sc->ud = o;
	sc->file = o->path;
	sc->line = n->line;
	sc->col = n->col + (n->quoted ? 1 : 0);
}

void ob_scope_rows(struct outbound *o, struct expr_scope *sc,
		   const struct ynode *n)
{
	ob_scope(o, sc, n);
	sc->bare = ob_bare;
	sc->bare_what = !strcmp(o->kind, "stock") ? "stock row field"
						 : "item row field";
}

void ob_scope_env(struct outbound *o, struct expr_scope *sc,
		  const struct ynode *n)
{
	ob_scope(o, sc, n);
	sc->var = ob_var;
	sc->bare_what = "envelope field";
}

void ob_rt_init(struct expr_rt *rt, struct ob_row *row, struct arena *a)
{
	memset(rt, 0, sizeof(*rt));
	rt->path = ob_rt_none;
	rt->bare = ob_rt_bare;
	rt->var = ob_rt_var;
	rt->ud = row;
	rt->a = a;
	rt->first_bare = -1;
}

void ob_envvals(const struct outbound_env *env, struct ob_envvals *ev)
{
	int64_t now = env ? env->now : 0;

	dt_format_iso(now, ev->now);
	/* "YYYY-MM-DDTHH:MM:SSZ" */
	memcpy(ev->date, ev->now, 4);
	memcpy(ev->date + 4, ev->now + 5, 2);
	memcpy(ev->date + 6, ev->now + 8, 2);
	ev->date[8] = '\0';
	memcpy(ev->time, ev->now + 11, 2);
	memcpy(ev->time + 2, ev->now + 14, 2);
	ev->time[4] = '\0';
	snprintf(ev->control, sizeof(ev->control), "%lld",
		 (long long)(env ? env->control : 0));
	snprintf(ev->rows, sizeof(ev->rows), "%lld",
		 (long long)(env ? env->rows : 0));
	ev->v[OV_CONTROL] = ev->control;
	ev->v[OV_DATE] = ev->date;
	ev->v[OV_TIME] = ev->time;
	ev->v[OV_NOW] = ev->now;
	ev->v[OV_ROWS] = ev->rows;
	ev->v[OV_TARGET] = env && env->target ? env->target : "";
}

void ob_row_name(const struct ob_row *r, char *out, size_t n)
{
	const char *sku = r->get ? r->get(r->ud, "sku") : NULL;
	const char *loc = r->get && !strcmp(r->o->kind, "stock")
				  ? r->get(r->ud, "location")
				  : NULL;

	if (!sku) {
		snprintf(out, n, "the envelope");
		return;
	}
	if (loc && *loc)
		snprintf(out, n, "row sku '%.100s', location '%.100s'", sku,
			 loc);
	else
		snprintf(out, n, "row sku '%.200s'", sku);
}

/* ---- loading ------------------------------------------------------------ */

/* delimiter/quote: one character, or "tab". */
static int ob_set_char(const struct ykey_ctx *c, const struct ykey *k,
		       const struct ynode *v, void *field)
{
	if (v->type == Y_SCALAR && !strcmp(v->value, "tab")) {
		*(char *)field = '\t';
		return 0;
	}
	if (v->type != Y_SCALAR || v->len != 1)
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "'%s' is one character (or \"tab\")", k->name);
	*(char *)field = v->value[0];
	return 0;
}

static int ob_set_header(const struct ykey_ctx *c, const struct ykey *k,
			 const struct ynode *v, void *field)
{
	(void)k;
	if (v->type == Y_SCALAR && !strcmp(v->value, "false"))
		*(int *)field = 0;
	else if (v->type == Y_SCALAR && !strcmp(v->value, "true"))
		*(int *)field = 1;
	else
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "header: is true or false");
	return 0;
}

static int ob_set_eol(const struct ykey_ctx *c, const struct ykey *k,
		      const struct ynode *v, void *field)
{
	(void)k;
	if (v->type == Y_SCALAR && !strcmp(v->value, "lf"))
		*(const char **)field = "\n";
	else if (v->type == Y_SCALAR && !strcmp(v->value, "crlf"))
		*(const char **)field = "\r\n";
	else
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "line_end: is crlf or lf");
	return 0;
}

/* The CSV options, under csv: or at the top level. */
static const struct ykey ob_csv_keys[] = {
	{"delimiter", ob_set_char, offsetof(struct outbound, delim), NULL},
	{"quote", ob_set_char, offsetof(struct outbound, quote), NULL},
	{"header", ob_set_header, offsetof(struct outbound, header), NULL},
	{"line_end", ob_set_eol, offsetof(struct outbound, eol), NULL},
	{NULL, NULL, 0, NULL}};

/* kind: stock | item, and the row fields it brings. */
static int ob_load_kind(struct outbound *o, const struct ynode *root,
			struct err *err)
{
	const struct ynode *n = ynode_get(root, "kind");
	size_t i;

	if (!n || n->type != Y_SCALAR ||
	    (strcmp(n->value, "stock") && strcmp(n->value, "item")))
		return ynode_err(o->yt, n ? n : root, err, E_CONFIG,
				 "kind: is stock or item");
	o->kind = n->value;
	if (!strcmp(o->kind, "stock")) {
		for (i = 0; stock_fields[i]; i++)
			o->names[o->nnames++] = stock_fields[i];
	} else {
		size_t nf;
		const struct canon_field *f = canon_fields(CANON_ITEM, &nf);

		/* The item table's columns (not pack_sizes: canon.h). */
		for (i = 0; i < nf && i < ITEM_NFIELDS; i++)
			o->names[o->nnames++] = f[i].name;
		for (i = 0; item_extra[i]; i++)
			o->names[o->nnames++] = item_extra[i];
	}
	return 0;
}

static int ob_load_format(struct outbound *o, const struct ynode *root,
			  struct err *err)
{
	static const char *const fmts[] = {"csv", "jsonl", "xml", "x12",
					   "edifact", NULL};
	const struct ynode *n = ynode_get(root, "format");
	size_t j;

	o->fmt = OB_CSV;
	if (!n)
		return 0;
	for (j = 0; n->type == Y_SCALAR && fmts[j] && strcmp(fmts[j], n->value);
	     j++)
		;
	if (n->type != Y_SCALAR || !fmts[j])
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "format: is csv, jsonl, xml, x12 or edifact");
	o->fmt = (enum ob_fmt)j;
	return 0;
}

/* Keys that belong to other formats are mistakes, not options. */
static int ob_check_format_keys(struct outbound *o, const struct ynode *root,
				struct err *err)
{
	size_t i;

	for (i = 0; i < root->n; i += 2) {
		const char *k = root->items[i]->value;
		int csvkey = !strcmp(k, "csv") || !strcmp(k, "delimiter") ||
			     !strcmp(k, "quote") || !strcmp(k, "line_end") ||
			     (!strcmp(k, "header") &&
			      root->items[i + 1]->type == Y_SCALAR);
		int edikey = !strcmp(k, "envelope") || !strcmp(k, "segments") ||
			     !strcmp(k, "trailer") ||
			     (!strcmp(k, "header") &&
			      root->items[i + 1]->type != Y_SCALAR);
		const char *bad = NULL;

		if (csvkey && o->fmt != OB_CSV && o->fmt != OB_JSONL)
			bad = "csv and jsonl";
		else if (edikey && o->fmt != OB_X12 && o->fmt != OB_EDIFACT)
			bad = "x12 and edifact";
		else if (!strcmp(k, "xml") && o->fmt != OB_XML)
			bad = "xml";
		else if (!strcmp(k, "columns") &&
			 (o->fmt == OB_X12 || o->fmt == OB_EDIFACT))
			bad = "csv, jsonl and xml (EDI rows are segments:)";
		if (bad)
			return ynode_err(o->yt, root->items[i], err, E_CONFIG,
					 "'%s' is for format %s, not %s", k,
					 bad, outbound_format(o));
	}
	return 0;
}

/* CSV options live under csv: (top-level spellings are accepted too,
 * for short files). */
static int ob_load_csv(struct outbound *o, const struct ynode *root,
		       struct err *err)
{
	static const char *const csv_known[] = {"delimiter", "quote", "header",
						"line_end", NULL};
	size_t j;

	for (j = 0; j < 2; j++) {
		const struct ynode *opt = j ? ynode_get(root, "csv") : root;
		struct ykey_ctx kc = {o->yt, opt, o, NULL, err};

		if (!opt)
			continue;
		if (opt->type != Y_MAP)
			return ynode_err(o->yt, opt, err, E_CONFIG,
					 "csv: is a map { delimiter:, quote:, header:, line_end: }");
		if (j && ynode_check_keys(o->yt, opt, csv_known,
					  "csv: (delimiter, quote, header, line_end)",
					  0, err))
			return -1;
		if (ykey_apply(&kc, ob_csv_keys))
			return -1;
	}
	if (o->fmt == OB_JSONL)
		o->eol = "\n";
	o->csv_special[(unsigned char)o->delim] = 1;
	o->csv_special[(unsigned char)o->quote] = 1;
	o->csv_special['\r'] = o->csv_special['\n'] = 1;
	return 0;
}

/* Column i: { name:, value:, type: string|number }. */
static int ob_load_column(struct outbound *o, const struct ynode *c,
			  size_t i, struct err *err)
{
	static const char *const col_known[] = {"name", "value", "type",
						NULL};
	const struct ynode *nm, *v, *ty;
	struct expr_scope sc;
	size_t j;

	if (c->type != Y_MAP)
		return ynode_err(o->yt, c, err, E_CONFIG,
				 "a column is { name: ..., value: ... }");
	if (ynode_check_keys(o->yt, c, col_known,
			     "a column (name, value, type)", 0, err))
		return -1;
	nm = ynode_get(c, "name");
	v = ynode_get(c, "value");
	ty = ynode_get(c, "type");
	if (!nm || nm->type != Y_SCALAR || !v || v->type != Y_SCALAR)
		return ynode_err(o->yt, c, err, E_CONFIG,
				 "a column needs name: and value:");
	for (j = 0; j < i; j++)
		if (!strcmp(o->cols[j].name, nm->value))
			return ynode_err(o->yt, nm, err, E_CONFIG,
					 "column '%s' appears twice",
					 nm->value);
	if (ty && (ty->type != Y_SCALAR || (strcmp(ty->value, "number") &&
					    strcmp(ty->value, "string"))))
		return ynode_err(o->yt, ty, err, E_CONFIG,
				 "type: is string or number");
	o->cols[i].name = nm->value;
	o->cols[i].number = ty && !strcmp(ty->value, "number");
	o->cols[i].attr = o->fmt == OB_XML && nm->value[0] == '@';
	o->cols[i].line = v->line;
	o->cols[i].col = v->col;
	ob_scope_rows(o, &sc, v);
	if (expr_compile(&o->pool, &sc, v->value, v->len, 0, &o->cols[i].e,
			 err))
		return -1;
	o->ncols++;
	return 0;
}

static int ob_load_columns(struct outbound *o, const struct ynode *root,
			   struct err *err)
{
	const struct ynode *cols = ynode_get(root, "columns");
	size_t i;

	if (!cols || cols->type != Y_SEQ || !cols->n)
		return ynode_err(o->yt, cols ? cols : root, err, E_CONFIG,
				 "columns: is a list of { name:, value: }");
	if (cols->n > OB_MAX_COLS)
		return ynode_err(o->yt, cols, err, E_CONFIG,
				 "too many columns");
	for (i = 0; i < cols->n; i++)
		if (ob_load_column(o, cols->items[i], i, err))
			return -1;
	return 0;
}

int outbound_load(const char *path, struct outbound **out, struct err *err)
{
	static const char *const known[] = {
		"outbound", "description", "kind", "format", "csv",
		"delimiter", "quote", "header", "line_end", "columns",
		"xml", "envelope", "segments", "trailer", NULL};
	struct outbound *o = calloc(1, sizeof(*o));
	const struct ynode *root;
	int rc = -1;

	*out = NULL;
	if (!o)
		return err_set(err, E_NOMEM, "out of memory");
	expr_pool_init(&o->pool);
	o->delim = ',';
	o->quote = '"';
	o->header = 1;
	o->eol = "\r\n";
	if (!(o->path = strdup(path))) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (sha256_file(path, o->sha, NULL, err) ||
	    ytree_load_file(path, &o->yt, err))
		goto cleanup;
	root = o->yt->root;
	if (!root || root->type != Y_MAP || !ynode_get(root, "outbound")) {
		err_at(err, E_CONFIG, path, 1, 1,
		       "an outbound mapping starts with 'outbound: NAME'");
		goto cleanup;
	}
	if (ynode_check_keys(o->yt, root, known,
			     "the outbound mapping (known: outbound, description, kind, format, csv, columns, xml, envelope, header, segments, trailer)",
			     0, err) ||
	    ob_load_kind(o, root, err) || ob_load_format(o, root, err) ||
	    ob_check_format_keys(o, root, err))
		goto cleanup;
	if (o->fmt == OB_X12 || o->fmt == OB_EDIFACT) {
		if (ob_edi_load(o, root, o->fmt == OB_EDIFACT, err))
			goto cleanup;
		*out = o;
		return 0;
	}
	if (ob_load_csv(o, root, err) || ob_load_columns(o, root, err) ||
	    (o->fmt == OB_XML && ob_xml_load(o, root, err)))
		goto cleanup;
	*out = o;
	o = NULL;
	rc = 0;
cleanup:
	outbound_free(o);
	return rc;
}

void outbound_free(struct outbound *o)
{
	if (!o)
		return;
	expr_pool_release(&o->pool);
	ytree_free(o->yt);
	free(o->path);
	free(o);
}

const char *outbound_kind(const struct outbound *o)
{
	return o->kind;
}

const char *outbound_format(const struct outbound *o)
{
	static const char *const names[] = {"csv", "jsonl", "xml", "x12",
					    "edifact"};

	return names[o->fmt];
}

const char *const *outbound_fields(const struct outbound *o, size_t *n)
{
	*n = o->nnames;
	return o->names;
}

const char *outbound_sha256(const struct outbound *o)
{
	return o->sha;
}

void outbound_set_formula_guard(struct outbound *o, int on)
{
	o->formula_guard = on;
}

/* RFC 4180: a field is quoted when it holds the delimiter, the quote,
 * CR or LF; quotes inside are doubled. With the formula guard (OWASP's
 * advice for CSV injection) a cell starting with = + - @ gets a ' in
 * front, so a spreadsheet shows it as text instead of running it. */
static void csv_cell(const struct outbound *o, struct buf *out,
		     const char *s, size_t n, int text)
{
	size_t i;
	/* Number columns are checked by dec_parse (a "-5" stays -5). */
	int guard = text && o->formula_guard && n &&
		    (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');

	/* One table lookup per byte: every cell of every row passes here. */
	for (i = 0; i < n && !o->csv_special[(unsigned char)s[i]]; i++)
		;
	if (i == n) {
		if (guard)
			buf_addc(out, '\'');
		buf_add(out, s, n);
		return;
	}
	buf_addc(out, o->quote);
	if (guard)
		buf_addc(out, '\'');
	for (i = 0; i < n; i++) {
		if (s[i] == o->quote)
			buf_addc(out, o->quote);
		buf_addc(out, s[i]);
	}
	buf_addc(out, o->quote);
}

const char *outbound_counter(const struct outbound *o)
{
	/* csv, jsonl and xml carry no control numbers */
	return o->fmt == OB_X12 || o->fmt == OB_EDIFACT ? o->edi.counter
							: NULL;
}

int outbound_footer(const struct outbound *o, const struct outbound_env *env,
		    struct buf *out, struct err *err)
{
	if (o->fmt == OB_X12 || o->fmt == OB_EDIFACT)
		return ob_edi_footer(o, env, out, err);
	if (o->fmt == OB_XML)
		return ob_xml_footer(o, out, err);
	return 0;
}

int outbound_header_fixed(const struct outbound *o)
{
	return o->fmt == OB_CSV || o->fmt == OB_JSONL;
}

int outbound_header(const struct outbound *o, const struct outbound_env *env,
		    struct buf *out, struct err *err)
{
	size_t i;

	if (o->fmt == OB_X12 || o->fmt == OB_EDIFACT)
		return ob_edi_header(o, env, out, err);
	if (o->fmt == OB_XML)
		return ob_xml_header(o, env, out, err);
	if (o->fmt == OB_JSONL || !o->header)
		return 0;
	for (i = 0; i < o->ncols; i++) {
		if (i)
			buf_addc(out, o->delim);
		csv_cell(o, out, o->cols[i].name, strlen(o->cols[i].name),
			 1);
	}
	buf_adds(out, o->eol);
	if (out->err)
		return err_set(err, out->err, "output line too long");
	return 0;
}

int outbound_row(const struct outbound *o,
		 const char *(*get)(void *ud, const char *name), void *ud,
		 struct arena *a, struct buf *out, struct err *err)
{
	struct ob_row row = {o, get, ud, NULL};
	struct expr_rt rt;
	struct expr_val vals[OB_MAX_COLS];
	size_t i, start = out->len;

	if (o->fmt == OB_X12 || o->fmt == OB_EDIFACT)
		return ob_edi_row(o, &row, a, out, err);
	ob_rt_init(&rt, &row, a);
	if (o->fmt == OB_JSONL)
		buf_addc(out, '{');
	for (i = 0; i < o->ncols; i++) {
		struct expr_val v;
		dec d;

		if (expr_eval(o->cols[i].e, &rt, &v, err)) {
			err_locate(err, o->path, 0, 0, o->cols[i].name);
			goto fail;
		}
		if (o->cols[i].number && v.s && v.n &&
		    dec_parse(v.s, v.n, '.', 0, &d)) {
			err_set(err, E_MAP, "not a number: '%.*s'",
				(int)(v.n > 60 ? 60 : v.n), v.s);
			err_locate(err, o->path, 0, 0, o->cols[i].name);
			goto fail;
		}
		if (o->fmt == OB_XML) {
			vals[i] = v;
		} else if (o->fmt == OB_JSONL) {
			if (i)
				buf_addc(out, ',');
			buf_add_json_str(out, o->cols[i].name,
					 strlen(o->cols[i].name));
			buf_addc(out, ':');
			if (!v.s || (o->cols[i].number && !v.n))
				buf_adds(out, "null");
			else if (o->cols[i].number)
				buf_add(out, v.s, v.n);
			else
				buf_add_json_str(out, v.s, v.n);
		} else {
			if (i)
				buf_addc(out, o->delim);
			if (v.s)
				csv_cell(o, out, v.s, v.n,
					 !o->cols[i].number);
		}
	}
	if (o->fmt == OB_XML) {
		if (ob_xml_row(o, &row, vals, out, err))
			goto fail;
		return 0;
	}
	if (o->fmt == OB_JSONL)
		buf_addc(out, '}');
	buf_adds(out, o->eol);
	if (out->err) {
		err_set(err, out->err, "output line too long");
		goto fail;
	}
	return 0;
fail:
	buf_setlen(out, start);
	return -1;
}
