/* outbound.c - see outbound.h; the YAML is documented in docs/mapping.md
 * ("Outbound mappings"). Columns are compiled with the same expression
 * compiler as inbound fields (expr.c); the "path" of an outbound
 * expression is a row field name, and constants must be quoted so that a
 * misspelt field name is an error at load time instead of a constant
 * column in every target file. */
#include "outbound.h"

#include <stdlib.h>
#include <string.h>

#include "../pipeline/fsutil.h"
#include "../pipeline/ytree.h"
#include "canon.h"
#include "dec.h"
#include "expr.h"

#define OB_MAX_COLS 128

static const char *const stock_fields[] = {
	"sku", "location", "available", "on_hand", "reserved", "in_transit",
	"as_of", "gtin", "description", "brand", "category", NULL};
static const char *const item_extra[] = {"price", "currency", NULL};

struct ob_col {
	const char *name;
	struct expr *e;
	int number;             /* type: number */
};

struct outbound {
	char *path;
	char sha[SHA256_HEX_LEN];
	struct ytree *yt;
	struct expr_pool pool;
	const char *kind;
	int jsonl;
	char delim, quote;
	int header;
	const char *eol;
	const char *names[32];  /* row fields of the kind */
	size_t nnames;
	struct ob_col cols[OB_MAX_COLS];
	size_t ncols;
};

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

struct ob_row {
	const struct outbound *o;
	const char *(*get)(void *ud, const char *name);
	void *ud;
};

static int ob_rt_bare(void *ud, int id, struct expr_val *out, struct err *err)
{
	struct ob_row *r = ud;
	const char *v = r->get(r->ud, r->o->names[id]);

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

static int ob_char(struct outbound *o, const struct ynode *root,
		   const char *key, char *out, struct err *err)
{
	const struct ynode *n = ynode_get(root, key);

	if (!n)
		return 0;
	if (n->type == Y_SCALAR && !strcmp(n->value, "tab")) {
		*out = '\t';
		return 0;
	}
	if (n->type != Y_SCALAR || n->len != 1)
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "'%s' is one character (or \"tab\")", key);
	*out = n->value[0];
	return 0;
}

int outbound_load(const char *path, struct outbound **out, struct err *err)
{
	struct outbound *o = calloc(1, sizeof(*o));
	const struct ynode *root, *n, *cols;
	size_t i, j;
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
	for (i = 0; i < root->n; i += 2) {
		const struct ynode *k = root->items[i];
		static const char *const known[] = {
			"outbound", "description", "kind", "format", "csv",
			"delimiter", "quote", "header", "line_end", "columns",
			NULL};

		for (j = 0; known[j] && strcmp(known[j], k->value); j++)
			;
		if (!known[j]) {
			ynode_err(o->yt, k, err, E_CONFIG,
				  "unknown key '%s' in the outbound mapping (known: outbound, description, kind, format, csv, columns)",
				  k->value);
			goto cleanup;
		}
	}
	n = ynode_get(root, "kind");
	if (!n || n->type != Y_SCALAR ||
	    (strcmp(n->value, "stock") && strcmp(n->value, "item"))) {
		ynode_err(o->yt, n ? n : root, err, E_CONFIG,
			  "kind: is stock or item");
		goto cleanup;
	}
	o->kind = n->value;
	if (!strcmp(o->kind, "stock")) {
		for (i = 0; stock_fields[i]; i++)
			o->names[o->nnames++] = stock_fields[i];
	} else {
		size_t nf;
		const struct canon_field *f = canon_fields(CANON_ITEM, &nf);

		for (i = 0; i < nf; i++)
			o->names[o->nnames++] = f[i].name;
		for (i = 0; item_extra[i]; i++)
			o->names[o->nnames++] = item_extra[i];
	}
	n = ynode_get(root, "format");
	if (n && (n->type != Y_SCALAR ||
		  (strcmp(n->value, "csv") && strcmp(n->value, "jsonl")))) {
		ynode_err(o->yt, n, err, E_CONFIG,
			  "format: is csv or jsonl (xml and EDI targets come later)");
		goto cleanup;
	}
	o->jsonl = n && !strcmp(n->value, "jsonl");
	/* CSV options live under csv: (top-level spellings are accepted
	 * too, for short files). */
	for (j = 0; j < 2; j++) {
		const struct ynode *opt = j ? ynode_get(root, "csv") : root;

		if (!opt)
			continue;
		if (opt->type != Y_MAP) {
			ynode_err(o->yt, opt, err, E_CONFIG,
				  "csv: is a map { delimiter:, quote:, header:, line_end: }");
			goto cleanup;
		}
		if (j) {
			for (i = 0; i < opt->n; i += 2) {
				const char *k = opt->items[i]->value;

				if (strcmp(k, "delimiter") && strcmp(k, "quote") &&
				    strcmp(k, "header") && strcmp(k, "line_end")) {
					ynode_err(o->yt, opt->items[i], err,
						  E_CONFIG,
						  "unknown key '%s' in csv: (delimiter, quote, header, line_end)",
						  k);
					goto cleanup;
				}
			}
		}
		if (ob_char(o, opt, "delimiter", &o->delim, err) ||
		    ob_char(o, opt, "quote", &o->quote, err))
			goto cleanup;
		n = ynode_get(opt, "header");
		if (n) {
			if (n->type == Y_SCALAR && !strcmp(n->value, "false"))
				o->header = 0;
			else if (n->type == Y_SCALAR && !strcmp(n->value, "true"))
				o->header = 1;
			else {
				ynode_err(o->yt, n, err, E_CONFIG,
					  "header: is true or false");
				goto cleanup;
			}
		}
		n = ynode_get(opt, "line_end");
		if (n) {
			if (n->type == Y_SCALAR && !strcmp(n->value, "lf"))
				o->eol = "\n";
			else if (n->type == Y_SCALAR && !strcmp(n->value, "crlf"))
				o->eol = "\r\n";
			else {
				ynode_err(o->yt, n, err, E_CONFIG,
					  "line_end: is crlf or lf");
				goto cleanup;
			}
		}
	}
	if (o->jsonl)
		o->eol = "\n";
	cols = ynode_get(root, "columns");
	if (!cols || cols->type != Y_SEQ || !cols->n) {
		ynode_err(o->yt, cols ? cols : root, err, E_CONFIG,
			  "columns: is a list of { name:, value: }");
		goto cleanup;
	}
	if (cols->n > OB_MAX_COLS) {
		ynode_err(o->yt, cols, err, E_CONFIG, "too many columns");
		goto cleanup;
	}
	for (i = 0; i < cols->n; i++) {
		const struct ynode *c = cols->items[i], *nm, *v, *ty;
		struct expr_scope sc;

		if (c->type != Y_MAP) {
			ynode_err(o->yt, c, err, E_CONFIG,
				  "a column is { name: ..., value: ... }");
			goto cleanup;
		}
		for (j = 0; j < c->n; j += 2) {
			const char *k = c->items[j]->value;

			if (strcmp(k, "name") && strcmp(k, "value") &&
			    strcmp(k, "type")) {
				ynode_err(o->yt, c->items[j], err, E_CONFIG,
					  "unknown key '%s' in a column (name, value, type)",
					  k);
				goto cleanup;
			}
		}
		nm = ynode_get(c, "name");
		v = ynode_get(c, "value");
		ty = ynode_get(c, "type");
		if (!nm || nm->type != Y_SCALAR || !v || v->type != Y_SCALAR) {
			ynode_err(o->yt, c, err, E_CONFIG,
				  "a column needs name: and value:");
			goto cleanup;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(o->cols[j].name, nm->value)) {
				ynode_err(o->yt, nm, err, E_CONFIG,
					  "column '%s' appears twice",
					  nm->value);
				goto cleanup;
			}
		if (ty && (ty->type != Y_SCALAR ||
			   (strcmp(ty->value, "number") &&
			    strcmp(ty->value, "string")))) {
			ynode_err(o->yt, ty, err, E_CONFIG,
				  "type: is string or number");
			goto cleanup;
		}
		o->cols[i].name = nm->value;
		o->cols[i].number = ty && !strcmp(ty->value, "number");
		memset(&sc, 0, sizeof(sc));
		sc.bare = ob_bare;
		sc.ud = o;
		sc.bare_const = 0;
		sc.bare_what = !strcmp(o->kind, "stock") ? "stock row field"
							: "item row field";
		sc.file = path;
		sc.line = v->line;
		sc.col = v->col + (v->quoted ? 1 : 0);
		if (expr_compile(&o->pool, &sc, v->value, v->len, 0,
				 &o->cols[i].e, err))
			goto cleanup;
		o->ncols++;
	}
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
	return o->jsonl ? "jsonl" : "csv";
}

const char *outbound_sha256(const struct outbound *o)
{
	return o->sha;
}

/* RFC 4180: a field is quoted when it holds the delimiter, the quote,
 * CR or LF; quotes inside are doubled. */
static void csv_cell(const struct outbound *o, struct buf *out,
		     const char *s, size_t n)
{
	size_t i;
	int q = 0;

	for (i = 0; i < n && !q; i++)
		q = s[i] == o->delim || s[i] == o->quote || s[i] == '\r' ||
		    s[i] == '\n';
	if (!q) {
		buf_add(out, s, n);
		return;
	}
	buf_addc(out, o->quote);
	for (i = 0; i < n; i++) {
		if (s[i] == o->quote)
			buf_addc(out, o->quote);
		buf_addc(out, s[i]);
	}
	buf_addc(out, o->quote);
}

const char *outbound_counter(const struct outbound *o)
{
	(void)o;
	return NULL; /* csv and jsonl carry no control numbers */
}

int outbound_footer(const struct outbound *o, const struct outbound_env *env,
		    struct buf *out, struct err *err)
{
	(void)o;
	(void)env;
	(void)out;
	(void)err;
	return 0;
}

int outbound_header(const struct outbound *o, const struct outbound_env *env,
		    struct buf *out, struct err *err)
{
	size_t i;

	(void)env;
	if (o->jsonl || !o->header)
		return 0;
	for (i = 0; i < o->ncols; i++) {
		if (i)
			buf_addc(out, o->delim);
		csv_cell(o, out, o->cols[i].name, strlen(o->cols[i].name));
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
	struct ob_row row = {o, get, ud};
	struct expr_rt rt;
	size_t i, start = out->len;

	memset(&rt, 0, sizeof(rt));
	rt.path = ob_rt_none;
	rt.bare = ob_rt_bare;
	rt.ud = &row;
	rt.a = a;
	rt.first_bare = -1;
	if (o->jsonl)
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
		if (o->jsonl) {
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
				csv_cell(o, out, v.s, v.n);
		}
	}
	if (o->jsonl)
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
