/* report_html_rejects.c - the rejected records of the run's HTML page
 * (see report_html_int.h): each with its location and reason, read from
 * the reject files (rejects/RUN/SOURCE/UNIT.jsonl, and
 * rejects/RUN/targets/TARGET.jsonl for rows a target's format could not
 * carry), a CSV record split into its cells with libcsv the way the CSV
 * reader splits it, and per source the next step.
 */
#include "report_html_int.h"
#include "pipeline/config.h"
#include "lib/buf.h"
#include "lib/gz.h"
#include "lib/ytree.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REJECTS 200    /* reject rows shown per run */

/* ---- a reader for the flat JSON objects of reject files -------------- */

/* Appends code point v to out as UTF-8 while it fits (4 bytes at most
 * plus the NUL); *cut when it did not. */
static size_t put_utf8(char *out, size_t o, size_t n, unsigned v, int *cut)
{
	char u[4];
	size_t k = 0;

	if (v >= 0xd800 && v < 0xe000)
		v = 0xfffd; /* half a surrogate pair: shown as U+FFFD */
	if (v < 0x80) {
		u[k++] = (char)v;
	} else if (v < 0x800) {
		u[k++] = (char)(0xc0 | v >> 6);
		u[k++] = (char)(0x80 | (v & 0x3f));
	} else {
		u[k++] = (char)(0xe0 | v >> 12);
		u[k++] = (char)(0x80 | ((v >> 6) & 0x3f));
		u[k++] = (char)(0x80 | (v & 0x3f));
	}
	if (o + k + 1 > n) {
		*cut = 1;
		return o;
	}
	memcpy(out + o, u, k);
	return o + k;
}

/* Decodes the JSON string at *p (after its opening quote) into out;
 * advances *p past the closing quote. A value longer than out is cut
 * there, and *cut says so (the page marks it). */
static int json_str(const char **p, char *out, size_t n, int *cut)
{
	const char *s = *p;
	size_t o = 0;

	*cut = 0;
	while (*s && *s != '"') {
		unsigned v = (unsigned char)*s++;

		if (v == '\\') {
			char c = *s++;

			if (!c)
				return -1;
			v = (unsigned char)c;
			if (c == 'n')
				v = '\n';
			else if (c == 't')
				v = '\t';
			else if (c == 'r')
				v = '\r';
			else if (c == 'b')
				v = '\b';
			else if (c == 'f')
				v = '\f';
			else if (c == 'u') {
				int k;

				for (v = 0, k = 0; k < 4 && s[k]; k++)
					v = v * 16 +
					    (unsigned)(s[k] <= '9' ? s[k] - '0'
						       : (s[k] | 32) - 'a' + 10);
				s += k;
				o = put_utf8(out, o, n, v, cut);
				continue;
			}
		}
		if (o + 1 < n)
			out[o++] = (char)v;
		else
			*cut = 1;
	}
	if (*s != '"')
		return -1;
	out[o] = '\0';
	*p = s + 1;
	return 0;
}

struct rej {
	char file[256], line[24], col[16], field[128], reason[1024];
	char raw[8192];
	int raw_cut;                  /* raw longer than shown */
	char sku[256], location[256]; /* a target's rejects (no raw) */
};

/* One reject line's fields; the display cells are cut on purpose, a
 * cut raw record is marked (raw_cut). */
static int parse_reject(const char *line, struct rej *r)
{
	const char *p = line;
	char key[64];
	char val[sizeof(r->raw)];
	int cut;

	memset(r, 0, sizeof(*r));
	while (*p == ' ')
		p++;
	if (*p++ != '{')
		return -1;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '}')
			return 0;
		if (*p++ != '"' || json_str(&p, key, sizeof(key), &cut) < 0)
			return -1;
		while (*p == ' ' || *p == ':')
			p++;
		cut = 0;
		if (*p == '"') {
			p++;
			if (json_str(&p, val, sizeof(val), &cut) < 0)
				return -1;
		} else {
			size_t k = 0;

			while (*p && *p != ',' && *p != '}' && k + 1 < sizeof(val))
				val[k++] = *p++;
			val[k] = '\0';
		}
#define TAKE(name, field)                                                      \
	if (!strcmp(key, name))                                                \
		str_copy_cut(r->field, sizeof(r->field), val);
		TAKE("_file", file)
		TAKE("_line", line)
		TAKE("_col", col)
		TAKE("field", field)
		TAKE("reason", reason)
		TAKE("sku", sku)
		TAKE("location", location)
#undef TAKE
		if (!strcmp(key, "raw")) {
			str_copy_cut(r->raw, sizeof(r->raw), val);
			r->raw_cut = cut;
		}
	}
}

/* ---- collecting the run's units --------------------------------------- */

/* ---- rejects ------------------------------------------------------------- */

/* How a source's raw records are split: its mapping's CSV dialect. */
struct dialect {
	int csv, trim;
	char delim, quote;
};

static void dialect_char(const struct ynode *in, const char *key, char *out)
{
	const char *v = ynode_str(in, key, NULL);

	if (!v)
		return;
	if (!strcmp(v, "tab") || !strcmp(v, "\\t"))
		*out = '\t';
	else if (strlen(v) == 1)
		*out = v[0];
}

/* Reads the input: section of mapping (the mapping as it is now: a page
 * of an old run after a dialect change splits by the new one; the raw
 * record is shown whole when it does not split). */
static void mapping_dialect(const char *mapping, struct dialect *d)
{
	struct ytree *t = NULL;
	struct err e = ERR_INIT;
	const struct ynode *in;

	memset(d, 0, sizeof(*d));
	d->delim = ',';
	d->quote = '"';
	if (!mapping || ytree_load_file(mapping, &t, &e) < 0)
		return;
	in = ynode_get(t->root, "input");
	if (in && !strcmp(ynode_str(in, "format", ""), "csv")) {
		d->csv = 1;
		d->trim = !strcmp(ynode_str(in, "trim", "false"), "true");
		dialect_char(in, "delimiter", &d->delim);
		dialect_char(in, "quote", &d->quote);
	}
	ytree_free(t);
}

struct cells {
	struct buf *b;
	int rows;
};

static void cell_cb(void *s, size_t len, void *ud)
{
	struct cells *c = ud;

	buf_adds(c->b, "<td>");
	if (s)
		html_esc(c->b, s, len);
	buf_adds(c->b, "</td>");
}

static void row_cb(int ch, void *ud)
{
	struct cells *c = ud;

	(void)ch;
	c->rows++;
}

static int no_space(unsigned char ch)
{
	(void)ch;
	return 0;
}

int html_csv_cells(struct buf *out, const char *raw, char delim, char quote,
		   int trim, int wrap)
{
	struct csv_parser p;
	struct buf cells = BUF_INIT(1 << 20);
	struct cells c = {&cells, 0};
	size_t n = strlen(raw);
	int rc = -1;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI))
		return -1;
	csv_set_delim(&p, (unsigned char)delim);
	csv_set_quote(&p, (unsigned char)quote);
	if (!trim)
		csv_set_space_func(&p, no_space);
	if (csv_parse(&p, raw, n, cell_cb, row_cb, &c) == n &&
	    csv_fini(&p, cell_cb, row_cb, &c) == 0 && c.rows == 1 &&
	    !cells.err) {
		if (wrap)
			buf_adds(out, "<table class=\"cells\"><tr>");
		buf_add(out, cells.ptr, cells.len);
		if (wrap)
			buf_adds(out, "</tr></table>");
		rc = 0;
	}
	csv_free(&p);
	buf_release(&cells);
	return rc;
}

/* The reject file of unit r. */
static void reject_path(const struct html_ctx *h, const struct unit_row *r,
			char *path, size_t n)
{
	if (r->stage == HS_RENDER)
		snprintf(path, n, "%s/rejects/%lld/targets/%s.jsonl",
			 h->cfg->state_dir, (long long)h->run->run_id,
			 r->scope);
	else if (r->stage == HS_LOAD) /* the load's stale rejects */
		snprintf(path, n, "%s", r->output);
	else
		snprintf(path, n, "%s/rejects/%lld/%s/%lld.jsonl",
			 h->cfg->state_dir, (long long)h->run->run_id,
			 r->scope, (long long)r->id);
}

static void reject_row(const struct html_ctx *h, const struct unit_row *r,
		       const struct rej *j, const struct dialect *d)
{
	struct buf *b = h->b;

	buf_adds(b, r->stage == HS_RENDER ? "<tr><td>target " : "<tr><td>");
	html_escs(b, r->scope);
	buf_adds(b, "</td><td class=\"loc\">");
	html_escs(b, j->file);
	buf_adds(b, ":");
	html_escs(b, j->line);
	if (j->col[0]) {
		buf_adds(b, ":");
		html_escs(b, j->col);
	}
	buf_adds(b, "</td><td>");
	html_escs(b, j->field);
	buf_adds(b, "</td><td>");
	html_escs(b, j->reason);
	buf_adds(b, "</td><td>");
	if (r->stage == HS_RENDER) {
		/* A target's row has no raw record: its key. */
		buf_adds(b, "<code>sku ");
		html_escs(b, j->sku);
		if (j->location[0]) {
			buf_adds(b, ", location ");
			html_escs(b, j->location);
		}
		buf_adds(b, "</code>");
	} else if (!d->csv || j->raw_cut || html_csv_cells(b, j->raw, d->delim, d->quote,
						 d->trim, 1) < 0) {
		buf_adds(b, "<code>");
		html_escs(b, j->raw);
		buf_adds(b, j->raw_cut ? "&hellip;</code> (cut; the reject "
					 "file has it whole)"
				       : "</code>");
	}
	buf_adds(b, "</td></tr>\n");
}

/* The next step for a run's rejects: per source, fix its mapping and
 * map the saved files again; per target, its outbound mapping. */
static void reject_steps(const struct html_ctx *h)
{
	struct buf *b = h->b;
	size_t i, k;

	buf_adds(b, "<ul class=\"next\">\n");
	for (i = 0; i < h->c->n; i++) {
		const struct unit_row *r = &h->c->rows[i];
		const char *map;
		int seen = 0;

		if (!r->rejects || r->stage < HS_MAP || r->stage > HS_RENDER)
			continue;
		for (k = 0; k < i && !seen; k++)
			seen = h->c->rows[k].rejects &&
			       h->c->rows[k].stage >= HS_MAP &&
			       h->c->rows[k].stage <= HS_RENDER &&
			       (h->c->rows[k].stage == HS_RENDER) ==
				       (r->stage == HS_RENDER) &&
			       !strcmp(h->c->rows[k].scope, r->scope);
		if (seen)
			continue;
		buf_adds(b, "<li>");
		if (r->stage == HS_RENDER) {
			const struct cfg_target *t =
				config_target(h->cfg, r->scope);

			buf_adds(b, "target ");
			html_escs(b, r->scope);
			buf_adds(b, ": fix the target's mapping <code>");
			html_escs(b, t ? t->mapping : "?");
			buf_adds(b, "</code> (or the item data); the rows go "
				    "out with its next delivery, or now: ");
			html_cmd(h, "deliver --target %s --now", r->scope);
		} else {
			map = html_source_mapping(h->cfg, r->scope, r->key);
			html_escs(b, r->scope);
			buf_adds(b, ": fix the mapping <code>");
			html_escs(b, map ? map : "?");
			buf_adds(b, "</code> (or have the partner correct the "
				    "rows); then map the saved files again: ");
			html_cmd(h, "rerun %lld --from map --source %s",
				 (long long)h->run->run_id, r->scope);
		}
		buf_adds(b, "</li>\n");
	}
	buf_adds(b, "</ul>\n");
}

void html_rejects(const struct html_ctx *h)
{
	static const char *const cols[] = {"source", "file:line:col", "field",
					   "reason", "raw record"};
	struct buf *b = h->b;
	size_t i;
	int shown = 0, total = 0;
	char *line = NULL;
	size_t cap = 0;

	buf_adds(b, "<h2 id=\"rejects\">Rejected records</h2>\n");
	/* Input records a map left out, and rows a render left out of a
	 * target (on_bad_row: reject). */
	for (i = 0; i < h->c->n; i++)
		if (h->c->rows[i].stage >= HS_MAP &&
		    h->c->rows[i].stage <= HS_RENDER)
			total += (int)h->c->rows[i].rejects;
	if (!total) {
		buf_adds(b, "<p>No record was rejected in this run.</p>\n");
		return;
	}
	buf_addf(b, "<p>%d rejected record%s; the reject files hold them "
		    "all. Next steps:</p>\n",
		 total, total == 1 ? "" : "s");
	reject_steps(h);
	buf_adds(b, "<table>\n");
	html_th(b, cols, 5);
	for (i = 0; i < h->c->n && shown < MAX_REJECTS; i++) {
		const struct unit_row *r = &h->c->rows[i];
		struct dialect d;
		char path[4600];
		struct gz_in *g;
		struct err re = ERR_INIT;

		if (r->stage < HS_MAP || r->stage > HS_RENDER || !r->rejects)
			continue;
		reject_path(h, r, path, sizeof(path));
		/* a concluded run's rejects may be compacted (lib/gz.h) */
		if (gz_open(&g, path, &re) < 0)
			continue;
		memset(&d, 0, sizeof(d));
		if (r->stage != HS_RENDER)
			mapping_dialect(html_source_mapping(h->cfg, r->scope,
						       r->key),
					&d);
		while (shown < MAX_REJECTS &&
		       getline(&line, &cap, g->f) > 0) {
			struct rej j;

			if (parse_reject(line, &j) < 0)
				continue;
			reject_row(h, r, &j, &d);
			shown++;
		}
		if (gz_close(g, &re) < 0) {
			char msg[1200];

			err_format(&re, msg, sizeof(msg));
			buf_adds(b, "<tr><td colspan=\"5\">");
			html_escs(b, msg);
			buf_adds(b, "</td></tr>\n");
		}
	}
	free(line);
	buf_adds(b, "</table>\n");
	if (shown < total)
		buf_addf(b, "<p>First %d shown.</p>\n", shown);
}

