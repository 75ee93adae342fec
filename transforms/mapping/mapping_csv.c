/* mapping_csv.c - the CSV input driver of the mapping engine (see
 * mapping_int.h for the driver interface, docs/mapping.md for the path
 * syntax): col("Name"), col(Name), col(3) and preamble(N) paths, one
 * scope per row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/suggest.h"
#include "transforms/formats/csv_reader.h"
#include "mapping_int.h"

enum path_kind { P_COL_INDEX, P_COL_NAME, P_PREAMBLE };

struct map_path {
	enum path_kind kind;
	int index;              /* 0-based column, or preamble line */
	const char *name;       /* P_COL_NAME */
	unsigned long line;     /* where it is used (for header errors) */
	unsigned col;
};

/* The compiled input: (m->drv). */
struct csv_map {
	struct csv_reader_opts ro;
	int ragged_allow;
	const char **columns;   /* headerless column names */
	size_t ncolumns;
	struct map_path *paths;
	size_t npaths, cappaths;
};

static int add_path(struct csv_map *cm, const struct map_path *p)
{
	size_t i;

	for (i = 0; i < cm->npaths; i++) {
		const struct map_path *q = &cm->paths[i];

		if (q->kind == p->kind && q->index == p->index &&
		    (!p->name || (q->name && !strcmp(q->name, p->name))))
			return (int)i;
	}
	if (ALLOC_GROW(cm->paths, cm->npaths + 1, cm->cappaths))
		return -1;
	cm->paths[cm->npaths] = *p;
	return (int)cm->npaths++;
}

/* A col(name) that input.columns does not declare (map check finds it):
 * the declared names, cut with "... and N more", and the nearest. */
static void no_declared_column(const struct csv_map *cm, const char *name,
			       char *msg, size_t msgn)
{
	char list[150], hint[100] = "";
	const char *near;

	if (!cm->ncolumns) {
		snprintf(msg, msgn, "col(\"%s\") needs a header row (input.header: true) or input.columns; or use col(N)",
			 name);
		return;
	}
	suggest_list(list, sizeof(list), cm->columns, cm->ncolumns, ", ");
	near = suggest_nearest(name, cm->columns, cm->ncolumns,
			       suggest_max_edits(name));
	if (near)
		snprintf(hint, sizeof(hint), "; did you mean %s?", near);
	snprintf(msg, msgn, "no column '%s' in input.columns (%s%s)", name,
		 list, hint);
}

/* CSV paths: col("Name"), col(Name), col(3), preamble(1). */
static int csv_path(void *ud, const char *s, size_t n, int *id, char *msg,
		    size_t msgn)
{
	struct mapping *m = ud;
	struct csv_map *cm = m->drv;
	struct map_path p = {P_COL_INDEX, 0, NULL, m->cur_line,
			     map_text_col(m, s)};
	size_t i, k, a, b;
	int pre = 0;

	if (n >= 4 && !memcmp(s, "col(", 4))
		k = 4;
	else if (n >= 9 && !memcmp(s, "preamble(", 9))
		k = 9, pre = 1;
	else
		return 0;
	for (i = k; i < n && s[i] != ')'; i++)
		if (s[i] == '"' || s[i] == '\'') {
			char q = s[i++];

			while (i < n && s[i] != q)
				i++;
		}
	if (i >= n) {
		snprintf(msg, msgn, "missing ')' after %s(", pre ? "preamble" : "col");
		return -1;
	}
	a = k;
	b = i;
	while (a < b && s[a] == ' ')
		a++;
	while (b > a && s[b - 1] == ' ')
		b--;
	if (a < b && (s[a] == '"' || s[a] == '\'') && s[b - 1] == s[a] &&
	    b - a >= 2) {
		a++;
		b--;
		p.kind = P_COL_NAME;
	} else if (a < b && s[a] >= '0' && s[a] <= '9') {
		size_t j;
		long v = 0;

		for (j = a; j < b; j++) {
			if (s[j] < '0' || s[j] > '9' || v > 100000) {
				snprintf(msg, msgn, "bad column number '%.*s'",
					 (int)(b - a), s + a);
				return -1;
			}
			v = v * 10 + (s[j] - '0');
		}
		if (v < 1) {
			snprintf(msg, msgn, "columns are counted from 1");
			return -1;
		}
		p.index = (int)v - 1;
	} else {
		p.kind = P_COL_NAME;
	}
	if (a == b) {
		snprintf(msg, msgn, "%s() needs a column name or number",
			 pre ? "preamble" : "col");
		return -1;
	}
	if (pre) {
		if (p.kind != P_COL_INDEX ||
		    (unsigned)p.index >= cm->ro.skip_lines) {
			snprintf(msg, msgn,
				 "preamble(N) reads one of the %u line(s) declared by input.skip_lines",
				 cm->ro.skip_lines);
			return -1;
		}
		p.kind = P_PREAMBLE;
	} else if (m->in_context) {
		snprintf(msg, msgn,
			 "col() cannot be used in context: context is evaluated once per document, before the first row (use it in fields)");
		return -1;
	}
	if (p.kind == P_COL_NAME) {
		char *name = arena_strndup(&m->pool.arena, s + a, b - a);

		if (!name) {
			snprintf(msg, msgn, "out of memory");
			return -1;
		}
		p.name = name;
		if (!cm->ro.header) {
			/* Headerless: names come from input.columns. */
			size_t j;

			for (j = 0; j < cm->ncolumns; j++)
				if (!strcmp(cm->columns[j], name))
					break;
			if (j == cm->ncolumns) {
				no_declared_column(cm, name, msg, msgn);
				return -1;
			}
			p.kind = P_COL_INDEX;
			p.index = (int)j;
			p.name = NULL;
		}
	}
	*id = add_path(cm, &p);
	if (*id < 0) {
		snprintf(msg, msgn, "out of memory");
		return -1;
	}
	return (int)i + 1;
}

static int csv_each(struct mapping *m, const struct ynode *en, int *anchor,
		    struct err *err)
{
	*anchor = 0;
	if (en && (en->type != Y_SCALAR || strcmp(en->value, "row")))
		return ynode_err(m->yt, en, err, E_CONFIG,
				 "for csv input each: is 'row' (one scope per row)");
	return 0;
}

/* input.columns: the names of a headerless file's columns. */
static int csv_columns(struct mapping *m, struct csv_map *cm,
		       const struct ynode *cols, struct err *err)
{
	size_t i;

	if (cols->type != Y_SEQ || !cols->n)
		return ynode_err(m->yt, cols, err, E_CONFIG,
				 "columns: is a list of column names");
	if (cm->ro.header)
		return ynode_err(m->yt, cols, err, E_CONFIG,
				 "columns: names a headerless file's columns; set header: false");
	cm->columns = arena_alloc(&m->pool.arena,
				  cols->n * sizeof(*cm->columns));
	if (!cm->columns)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < cols->n; i++) {
		if (cols->items[i]->type != Y_SCALAR)
			return ynode_err(m->yt, cols->items[i], err,
					 E_CONFIG, "column names are text");
		cm->columns[i] = cols->items[i]->value;
	}
	cm->ncolumns = cols->n;
	return 0;
}

static int csv_compile_input(struct mapping *m, const struct ynode *in,
			     struct err *err)
{
	struct csv_map *cm = calloc(1, sizeof(*cm));
	const struct ynode *cols;
	unsigned long v;
	int b;

	if (!cm)
		return err_set(err, E_NOMEM, "out of memory");
	m->drv = cm;
	csv_reader_opts_init(&cm->ro);
	cm->ro.max_record = 1u << 20;
	if (map_parse_bool(m, in, "header", &cm->ro.header, err) ||
	    map_parse_char(m, in, "delimiter", &cm->ro.delimiter, err) ||
	    map_parse_char(m, in, "quote", &cm->ro.quote, err) ||
	    map_parse_char(m, in, "comment", &cm->ro.comment, err) ||
	    map_parse_bool(m, in, "trim", &cm->ro.trim, err))
		return -1;
	cm->ro.encoding = map_scalar(m, in, "encoding", NULL, err, &b);
	if (b)
		return -1;
	if (cm->ro.encoding) {
		/* Fail at load, not on the first document. */
		struct csv_reader *r;
		struct err e2 = ERR_INIT;
		struct csv_reader_opts o = cm->ro;

		o.header = 0;
		if (csv_reader_open(&r, "/dev/null", "/dev/null", &o, &e2)) {
			if (e2.code == E_CONFIG)
				return ynode_err(m->yt, ynode_get(in, "encoding"),
						 err, E_CONFIG,
						 "unknown encoding '%s'",
						 cm->ro.encoding);
		} else {
			csv_reader_free(r);
		}
	}
	v = 0;
	if (map_parse_uint(m, in, "skip_lines", 1000, &v, err))
		return -1;
	cm->ro.skip_lines = (unsigned)v;
	v = cm->ro.max_record;
	if (map_parse_uint(m, in, "max_record", 1ul << 30, &v, err))
		return -1;
	cm->ro.max_record = v ? v : 1u << 20;
	v = 0;
	if (map_parse_uint(m, in, "max_field", 1ul << 30, &v, err))
		return -1;
	cm->ro.max_field = v;
	{
		const char *r = map_scalar(m, in, "ragged", "reject", err, &b);

		if (b)
			return -1;
		if (!strcmp(r, "allow"))
			cm->ragged_allow = 1;
		else if (strcmp(r, "reject"))
			return ynode_err(m->yt, ynode_get(in, "ragged"), err,
					 E_CONFIG, "ragged: is reject or allow");
	}
	cols = ynode_get(in, "columns");
	if (cols && csv_columns(m, cm, cols, err))
		return -1;
	return 0;
}

static void csv_free(struct mapping *m)
{
	struct csv_map *cm = m->drv;

	if (cm)
		free(cm->paths);
	free(cm);
	m->drv = NULL;
}

/* ------------------------------------------------------------------ */
/* The CSV driver                                                       */

struct csv_run {
	struct csv_reader *r;
	const struct csv_row *row;
	int *colidx;                 /* per path: resolved column, -1 */
};

static int csv_rt_path(struct map_run *run, int id, struct expr_val *out,
		       unsigned *col, struct err *err)
{
	struct csv_run *cr = run->drv;
	const struct csv_map *cm = run->m->drv;
	const struct map_path *p = &cm->paths[id];
	int c;

	(void)err;
	if (p->kind == P_PREAMBLE) {
		out->s = csv_reader_preamble(cr->r, (unsigned)p->index + 1);
		out->n = strlen(out->s);
		return 0;
	}
	c = cr->colidx[id];
	*col = (unsigned)c + 1;
	if (!cr->row || c < 0 || (size_t)c >= cr->row->n) {
		out->s = NULL; /* a short row (ragged: allow) reads absent */
		out->n = 0;
		return 0;
	}
	out->s = cr->row->f[c];
	out->n = cr->row->len[c];
	return 0;
}

/* A col("name") the header lacks: the document's header line, where
 * the mapping reads it (file:line:col), the header's columns (cut with
 * "... and N more", never silently) and the nearest. */
static int unknown_column(struct map_run *run, const struct csv_run *cr,
			  const struct map_path *p, struct err *err)
{
	const struct csv_row *h = csv_reader_header(cr->r);
	const char *const *cols = h ? h->f : NULL;
	char list[400], hint[200] = "";
	size_t n = h ? h->n : 0, room;

	list[0] = '\0';
	if (n) {
		const char *near;

		near = suggest_nearest(p->name, cols, n, suggest_max_edits(p->name));
		if (near)
			snprintf(hint, sizeof(hint), "; did you mean %s?", near);
		/* the list gets what the reason has left: it is cut with
		 * "... and N more", the rest of the message never */
		room = strlen(hint) + 2 * strlen(p->name) +
		       strlen(run->m->path) + 100;
		room = room + 64 >= sizeof(err->reason)
			       ? 64 : sizeof(err->reason) - room;
		if (room > sizeof(list))
			room = sizeof(list);
		suggest_list(list, room, cols, n, ", ");
	}
	return err_at(err, E_PARSE, run->doc->name, h ? h->line : 1, 0,
		      "column '%s' (col(%s) at %s:%lu:%u) is not in the header (columns: %s%s)",
		      p->name, p->name, run->m->path, p->line, p->col, list,
		      hint);
}

static int resolve_columns(struct map_run *run, struct csv_run *cr,
			   struct err *err)
{
	const struct mapping *m = run->m;
	const struct csv_map *cm = m->drv;
	size_t i;

	cr->colidx = calloc(cm->npaths + 1, sizeof(*cr->colidx));
	if (!cr->colidx)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < cm->npaths; i++) {
		const struct map_path *p = &cm->paths[i];

		cr->colidx[i] = p->index;
		if (p->kind != P_COL_NAME)
			continue;
		cr->colidx[i] = csv_reader_column(cr->r, p->name);
		if (cr->colidx[i] < 0)
			return unknown_column(run, cr, p, err);
	}
	return 0;
}

/* What the row held where path id read (map_explain_paths): "the cell
 * of column 'qty' (column 3) is empty", "column 'qty' (column 3) is
 * missing in this row: a short row with 2 cells". */
static int csv_describe(struct map_run *run, int id, const char *src,
			size_t srcn, char *out, size_t n)
{
	const struct csv_run *cr = run->drv;
	const struct csv_map *cm = run->m->drv;
	const struct map_path *p = &cm->paths[id];
	char name[160], val[80];
	int c = cr->colidx[id];
	const struct csv_row *row = cr->row;

	if (p->kind == P_PREAMBLE) {
		const char *v = csv_reader_preamble(cr->r, (unsigned)p->index + 1);

		if (v && *v)
			return 0;
		snprintf(out, n, "preamble line %d is empty", p->index + 1);
		return 1;
	}
	if (p->name)
		snprintf(name, sizeof(name), "column '%s' (column %d)", p->name,
			 c + 1);
	else
		snprintf(name, sizeof(name), "column %d (%.*s)", c + 1,
			 (int)srcn, src);
	if (!row || c < 0)
		return 0;
	if ((size_t)c >= row->n) {
		snprintf(out, n, "%s is missing in this row: a short row with "
			 "%zu cell%s", name, row->n, row->n == 1 ? "" : "s");
		return 1;
	}
	if (!row->len[c]) {
		snprintf(out, n, "the cell of %s is empty", name);
		return 1;
	}
	map_explain_value(row->f[c], row->len[c], val, sizeof(val));
	snprintf(out, n, "the cell of %s holds %s", name, val);
	return 1;
}

static int csv_explain(struct map_run *run, const struct map_dloc *dl,
		       char *out, size_t n)
{
	(void)dl; /* the CSV path hook keeps no notes: the row is here */
	return map_explain_paths(run, csv_describe, out, n);
}

static int csv_run_doc(struct map_run *run, struct err *err)
{
	const struct csv_map *cm = run->m->drv;
	struct csv_run cr;
	size_t expect_cols = 0;
	int rc = -1, n;

	memset(&cr, 0, sizeof(cr));
	run->drv = &cr;
	run->path = csv_rt_path;
	run->explain = csv_explain;
	/* a row with a NUL byte is rejected before it is mapped, lookups
	 * refuse one: values are C strings of their length */
	run->nul_free = 1;
	if (csv_reader_open(&cr.r, run->doc->path, run->doc->name, &cm->ro,
			    err))
		goto cleanup;
	if (resolve_columns(run, &cr, err))
		goto cleanup;
	if (cm->ro.header && csv_reader_header(cr.r))
		expect_cols = csv_reader_header(cr.r)->n;
	else if (cm->ncolumns)
		expect_cols = cm->ncolumns;
	while ((n = csv_reader_next(cr.r, &cr.row, err)) == 1) {
		run->scope.line = cr.row->line;
		run->scope.index = cr.row->index;
		run->scope.seq = cr.row->line;
		run->scope.raw = cr.row->raw;
		run->scope.raw_len = cr.row->raw_len;
		run->scope.raw_fn = NULL;
		if (cr.row->bad) {
			run->st.input_records++;
			run->have_scope = 1;
			run->rej_code = E_PARSE;
			if (map_reject(run, 0, "", cr.row->bad, err))
				goto cleanup;
			continue;
		}
		if (expect_cols && cr.row->n != expect_cols && !cm->ragged_allow) {
			char why[120];

			snprintf(why, sizeof(why), "row has %zu fields, expected %zu",
				 cr.row->n, expect_cols);
			run->st.input_records++;
			run->have_scope = 1;
			run->rej_code = E_PARSE;
			if (map_reject(run, 0, "", why, err))
				goto cleanup;
			continue;
		}
		if (map_scope(run, 0, 0, err))
			goto cleanup;
	}
	if (n < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (rc && !err->file[0])
		err_locate(err, run->doc->name, cr.row ? cr.row->line : 0, 0,
			   NULL);
	csv_reader_free(cr.r);
	free(cr.colidx);
	run->drv = NULL;
	run->nul_free = 0;
	run->explain = NULL;
	return rc;
}

const struct map_driver map_driver_csv = {
	"csv",
	",format,header,columns,delimiter,quote,encoding,trim,comment,skip_lines,max_record,max_field,ragged,",
	csv_compile_input,
	csv_path,
	csv_each,
	NULL,
	csv_run_doc,
	csv_free,
	NULL,
	NULL,
	NULL,
	NULL, /* path_dep: a column changes with every row */
};
