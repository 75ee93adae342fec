/* report_html.c - `stockpipe show RUN --html`: one self-contained HTML page
 * per run (no scripts, no external resources): a stage timeline of every
 * unit, counts per source and per target, the rejects with their location
 * and reason (read from rejects/RUN/SOURCE/UNIT.jsonl), quarantined
 * documents, the deliveries and the stock each target was sent (the
 * rendered outbox/TARGET/NAME file).
 */
#include "report.h"
#include "pipeline/config.h"
#include "lib/buf.h"
#include "lib/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/dt.h"

#define MAX_TIMELINE 300   /* unit rows in the timeline */
#define MAX_REJECTS 200    /* reject rows shown per run */
#define MAX_STOCK_LINES 60 /* lines of each delivered file shown */

static const char *const stage_names[REPORT_NSTAGES] = {
	"fetch", "unpack", "map", "load", "render", "deliver"};
static const char *const stage_colors[REPORT_NSTAGES] = {
	"#4e79a7", "#76b7b2", "#f28e2b", "#e15759", "#59a14f", "#b07aa1"};

static void esc(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		default: buf_addc(b, s[i]);
		}
	}
}

static void escs(struct buf *b, const char *s)
{
	esc(b, s, strlen(s));
}

/* ---- a reader for the flat JSON objects of reject files -------------- */

/* Decodes the JSON string at *p (after its opening quote) into out;
 * advances *p past the closing quote. */
static int json_str(const char **p, char *out, size_t n)
{
	const char *s = *p;
	size_t o = 0;

	while (*s && *s != '"') {
		char c = *s++;

		if (c == '\\') {
			c = *s++;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c == 'u') {
				unsigned v = 0;
				int k;

				for (k = 0; k < 4 && s[k]; k++)
					v = v * 16 +
					    (unsigned)(s[k] <= '9' ? s[k] - '0'
						       : (s[k] | 32) - 'a' + 10);
				s += k;
				c = v < 0x80 ? (char)v : '?';
			} else if (!c) {
				return -1;
			}
		}
		if (o + 1 < n)
			out[o++] = c;
	}
	if (*s != '"')
		return -1;
	out[o] = '\0';
	*p = s + 1;
	return 0;
}

struct rej {
	char file[256], line[24], col[16], field[128], reason[512], raw[512];
	char sku[256], location[256]; /* a target's rejects (no raw) */
};

static int parse_reject(const char *line, struct rej *r)
{
	const char *p = line;
	char key[64], val[1024];

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
		if (*p++ != '"' || json_str(&p, key, sizeof(key)) < 0)
			return -1;
		while (*p == ' ' || *p == ':')
			p++;
		if (*p == '"') {
			p++;
			if (json_str(&p, val, sizeof(val)) < 0)
				return -1;
		} else {
			size_t k = 0;

			while (*p && *p != ',' && *p != '}' && k + 1 < sizeof(val))
				val[k++] = *p++;
			val[k] = '\0';
		}
/* reject-report cells for display: cut on purpose */
#define TAKE(name, field)                                                      \
	if (!strcmp(key, name))                                                \
		str_copy_cut(r->field, sizeof(r->field), val);
		TAKE("_file", file)
		TAKE("_line", line)
		TAKE("_col", col)
		TAKE("field", field)
		TAKE("reason", reason)
		TAKE("raw", raw)
		TAKE("sku", sku)
		TAKE("location", location)
#undef TAKE
	}
}

/* ---- collecting the run's units --------------------------------------- */

struct unit_row {
	int stage, state, err_class, outcome;
	int64_t id, start, end, in, out, rejects, dupes, retried_in;
	int64_t stale, held, converted;
	char scope[128], key[256], detail[512], output[4096];
};

struct collect {
	struct unit_row *rows;
	size_t n, cap;
	int stage;
};

static int on_unit(void *ud, struct state_unit *u)
{
	struct collect *c = ud;
	struct unit_row *r;

	if (ALLOC_GROW(c->rows, c->n + 1, c->cap))
		return -1;
	r = &c->rows[c->n++];
	memset(r, 0, sizeof(*r));
	r->stage = c->stage;
	r->state = u->state;
	r->err_class = u->err_class;
	r->outcome = u->outcome;
	r->retried_in = u->retried_in;
	r->id = u->id;
	r->start = u->started_ms;
	r->end = u->finished_ms > u->started_ms ? u->finished_ms : u->started_ms;
	r->in = u->records_in;
	r->out = u->records_out;
	r->rejects = u->rejects;
	r->dupes = u->dupes;
	r->stale = u->stale;
	r->held = u->held;
	r->converted = u->converted;
	/* cells of the HTML page: a cut cell is still a useful page */
	str_copy_cut(r->scope, sizeof(r->scope), u->scope);
	str_copy_cut(r->key, sizeof(r->key), u->ukey);
	str_copy_cut(r->detail, sizeof(r->detail),
		     u->error[0] ? u->error : u->detail);
	str_copy_cut(r->output, sizeof(r->output), u->output_path);
	return 0;
}

static void th(struct buf *b, const char *const *cols, size_t n)
{
	size_t i;

	buf_adds(b, "<tr>");
	for (i = 0; i < n; i++)
		buf_addf(b, "<th>%s</th>", cols[i]);
	buf_adds(b, "</tr>\n");
}

static void timeline(struct buf *b, const struct collect *c)
{
	int64_t t0 = 0, t1 = 0;
	size_t i, shown = 0;
	int s;

	for (i = 0; i < c->n; i++) {
		if (!c->rows[i].start)
			continue;
		if (!t0 || c->rows[i].start < t0)
			t0 = c->rows[i].start;
		if (c->rows[i].end > t1)
			t1 = c->rows[i].end;
	}
	buf_adds(b, "<h2 id=\"timeline\">Stage timeline</h2>\n");
	if (!t0) {
		buf_adds(b, "<p>No unit has run.</p>\n");
		return;
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	buf_addf(b, "<p class=\"legend\">%.3f s from the first unit's start "
		    "to the last unit's end.",
		 (double)(t1 - t0) / 1000.0);
	for (s = 0; s < REPORT_NSTAGES; s++)
		buf_addf(b, " <span class=\"sw\" style=\"background:%s\">"
			    "</span> %s",
			 stage_colors[s], stage_names[s]);
	buf_adds(b, "</p>\n<div class=\"tl\">\n");
	for (i = 0; i < c->n && shown < MAX_TIMELINE; i++) {
		const struct unit_row *r = &c->rows[i];
		double left, width;

		if (!r->start)
			continue;
		left = 100.0 * (double)(r->start - t0) / (double)(t1 - t0);
		width = 100.0 * (double)(r->end - r->start) / (double)(t1 - t0);
		if (width < 0.4)
			width = 0.4;
		if (left + width > 100.0)
			left = 100.0 - width;
		buf_adds(b, "<div class=\"row\"><div class=\"lab\">");
		buf_addf(b, "%s ", stage_names[r->stage]);
		escs(b, r->scope);
		buf_adds(b, " <span class=\"k\">");
		escs(b, r->key);
		buf_addf(b, "</span></div><div class=\"lane\"><div class=\"bar"
			    "%s\" style=\"left:%.2f%%;width:%.2f%%;"
			    "background:%s\" title=\"%lld ms\"></div></div>"
			    "<div class=\"ms\">%lld ms</div></div>\n",
			 r->state == US_FAILED ? " failed" : "", left, width,
			 stage_colors[r->stage], (long long)(r->end - r->start),
			 (long long)(r->end - r->start));
		shown++;
	}
	buf_adds(b, "</div>\n");
	if (shown == MAX_TIMELINE)
		buf_addf(b, "<p>First %d units shown.</p>\n", MAX_TIMELINE);
}

static void per_scope(struct buf *b, const struct config *cfg,
		      const struct collect *c)
{
	static const char *const scols[] = {
		"source", "files", "records in", "canonical out", "loaded",
		"rejects", "duplicates", "quarantined", "failed units",
		"stale", "held", "converted"};
	static const char *const tcols[] = {"target", "rows rendered",
					    "delivered", "file", "state"};
	size_t i, k;

	buf_adds(b, "<h2 id=\"sources\">Sources</h2>\n<table>\n");
	th(b, scols, 12);
	for (i = 0; i < cfg->nsources; i++) {
		int64_t v[11] = {0};

		for (k = 0; k < c->n; k++) {
			const struct unit_row *r = &c->rows[k];

			if (strcmp(r->scope, cfg->sources[i].name))
				continue;
			if (r->stage == 0 && r->state == US_DONE)
				v[0]++;
			if (r->stage == 2) {
				v[1] += r->in;
				v[2] += r->out;
				v[4] += r->rejects;
				v[6] += r->state == US_QUARANTINED;
			}
			if (r->stage == 3) {
				v[3] += r->out;
				v[4] += r->rejects; /* on_stale: reject */
				v[5] += r->dupes;
				v[8] += r->stale;
				v[9] += r->held;
				v[10] += r->converted;
			}
			if (r->stage == 0)
				v[5] += r->dupes;
			v[7] += r->state == US_FAILED;
		}
		buf_adds(b, "<tr><td>");
		escs(b, cfg->sources[i].name);
		buf_adds(b, "</td>");
		for (k = 0; k < 11; k++)
			buf_addf(b, "<td class=\"n%s\">%lld</td>",
				 k >= 4 && k != 5 && v[k] ? " warn" : "",
				 (long long)v[k]);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n<h2 id=\"targets\">Targets</h2>\n<table>\n");
	th(b, tcols, 5);
	for (i = 0; i < cfg->ntargets; i++) {
		const struct unit_row *rend = NULL, *del = NULL;

		for (k = 0; k < c->n; k++) {
			if (strcmp(c->rows[k].scope, cfg->targets[i].name))
				continue;
			if (c->rows[k].stage == 4)
				rend = &c->rows[k];
			if (c->rows[k].stage == 5)
				del = &c->rows[k];
		}
		buf_adds(b, "<tr><td>");
		escs(b, cfg->targets[i].name);
		buf_addf(b, "</td><td class=\"n\">%lld</td><td>%s</td><td>",
			 rend ? (long long)rend->out : 0LL,
			 del && del->state == US_DONE &&
					 del->outcome == UO_DELIVERED
				 ? "yes"
				 : "no");
		escs(b, del ? del->detail : rend ? rend->detail : "not due");
		buf_addf(b, "</td><td>%s</td></tr>\n",
			 rend ? unit_state_name(del ? del->state : rend->state)
			      : "-");
	}
	buf_adds(b, "</table>\n");
}

static void rejects(struct buf *b, const struct config *cfg, int64_t run_id,
		    const struct collect *c)
{
	static const char *const cols[] = {"source", "file:line:col", "field",
					   "reason", "raw record"};
	size_t i;
	int shown = 0, total = 0;

	buf_adds(b, "<h2 id=\"rejects\">Rejected records</h2>\n");
	/* Input records a map left out, and rows a render left out of a
	 * target (on_bad_row: reject). */
	for (i = 0; i < c->n; i++)
		if (c->rows[i].stage == 2 || c->rows[i].stage == 3 ||
		    c->rows[i].stage == 4)
			total += (int)c->rows[i].rejects;
	if (!total) {
		buf_adds(b, "<p>None.</p>\n");
		return;
	}
	buf_addf(b, "<p>%d rejected record%s; the reject files hold them "
		    "all.</p>\n<table>\n",
		 total, total == 1 ? "" : "s");
	th(b, cols, 5);
	for (i = 0; i < c->n && shown < MAX_REJECTS; i++) {
		const struct unit_row *r = &c->rows[i];
		char path[4600], line[8192];
		FILE *f;

		if ((r->stage < 2 || r->stage > 4) || !r->rejects)
			continue;
		if (r->stage == 4)
			snprintf(path, sizeof(path),
				 "%s/rejects/%lld/targets/%s.jsonl",
				 cfg->state_dir, (long long)run_id, r->scope);
		else if (r->stage == 3) /* the load's stale rejects */
			snprintf(path, sizeof(path), "%s", r->output);
		else
			snprintf(path, sizeof(path),
				 "%s/rejects/%lld/%s/%lld.jsonl",
				 cfg->state_dir, (long long)run_id, r->scope,
				 (long long)r->id);
		if (!(f = fopen(path, "rb")))
			continue;
		while (shown < MAX_REJECTS && fgets(line, sizeof(line), f)) {
			struct rej j;

			if (parse_reject(line, &j) < 0)
				continue;
			buf_adds(b, r->stage == 4 ? "<tr><td>target "
						  : "<tr><td>");
			escs(b, r->scope);
			buf_adds(b, "</td><td class=\"loc\">");
			escs(b, j.file);
			buf_addf(b, ":%s", j.line);
			if (j.col[0])
				buf_addf(b, ":%s", j.col);
			buf_adds(b, "</td><td>");
			escs(b, j.field);
			buf_adds(b, "</td><td>");
			escs(b, j.reason);
			buf_adds(b, "</td><td><code>");
			if (r->stage == 4) {
				/* A target's row has no raw record: its key. */
				buf_adds(b, "sku ");
				escs(b, j.sku);
				if (j.location[0]) {
					buf_adds(b, ", location ");
					escs(b, j.location);
				}
			} else {
				escs(b, j.raw);
			}
			buf_adds(b, "</code></td></tr>\n");
			shown++;
		}
		fclose(f);
	}
	buf_adds(b, "</table>\n");
	if (shown < total)
		buf_addf(b, "<p>First %d shown.</p>\n", shown);
}

static void quarantined(struct buf *b, const struct collect *c)
{
	size_t i;
	int n = 0;

	for (i = 0; i < c->n; i++) {
		const struct unit_row *r = &c->rows[i];

		if (r->state != US_QUARANTINED && r->state != US_FAILED)
			continue;
		if (!n++)
			buf_adds(b, "<h2 id=\"quarantine\">Quarantined and failed</h2>\n<table>\n"
				    "<tr><th>unit</th><th>stage</th><th>scope"
				    "</th><th>document</th><th>state</th><th>"
				    "reason</th></tr>\n");
		buf_addf(b, "<tr class=\"bad\"><td>%lld</td><td>%s</td><td>",
			 (long long)r->id, stage_names[r->stage]);
		escs(b, r->scope);
		buf_adds(b, "</td><td>");
		escs(b, r->key);
		if (r->state == US_FAILED && r->retried_in)
			buf_addf(b, "</td><td>failed (%s), retried in run "
				    "%lld</td><td>",
				 err_class_name(r->err_class),
				 (long long)r->retried_in);
		else if (r->state == US_FAILED)
			buf_addf(b, "</td><td>parked (%s)</td><td>",
				 err_class_name(r->err_class));
		else
			buf_addf(b, "</td><td>%s</td><td>",
				 unit_state_name(r->state));
		escs(b, r->detail);
		buf_adds(b, "</td></tr>\n");
	}
	if (n)
		buf_adds(b, "</table>\n<p>Release a quarantined document with "
			    "<code>stockpipe quarantine release UNIT</code>. "
			    "A parked unit is retried by the next run when its "
			    "failure is transient; after fixing a data or "
			    "configuration failure, "
			    "<code>stockpipe retry UNIT</code>.</p>\n");
}

struct deliv_ctx {
	struct buf *b;
	int n;
};

static int on_delivery(void *ud, const char *target, const char *file,
		       int64_t at)
{
	struct deliv_ctx *d = ud;
	char iso[DT_ISO_LEN];

	dt_format_iso(at, iso);
	buf_adds(d->b, "<tr><td>");
	escs(d->b, target);
	buf_adds(d->b, "</td><td>");
	escs(d->b, file);
	buf_addf(d->b, "</td><td>%s</td></tr>\n", iso);
	d->n++;
	return 0;
}

/* The first lines of a delivered snapshot: CSV as a table, anything else
 * as text. */
static void stock_file(struct buf *b, const char *target, const char *path)
{
	FILE *f = fopen(path, "rb");
	char line[4096];
	int n = 0, csv;
	const char *dot = strrchr(path, '.');
	const char *name = strrchr(path, '/');

	buf_adds(b, "<h3>");
	escs(b, target);
	buf_adds(b, ": ");
	escs(b, name ? name + 1 : path);
	buf_adds(b, "</h3>\n");
	if (!f) {
		buf_adds(b, "<p>The file is no longer in the outbox.</p>\n");
		return;
	}
	csv = dot && !strcmp(dot, ".csv");
	buf_adds(b, csv ? "<table class=\"stock\">\n" : "<pre>");
	while (fgets(line, sizeof(line), f) && n < MAX_STOCK_LINES) {
		size_t len = strcspn(line, "\r\n");

		line[len] = '\0';
		if (csv && !strchr(line, '"')) {
			const char *p = line, *q;

			buf_adds(b, n ? "<tr>" : "<tr class=\"h\">");
			do {
				q = strchr(p, ',');
				buf_adds(b, "<td>");
				esc(b, p, q ? (size_t)(q - p) : strlen(p));
				buf_adds(b, "</td>");
				p = q ? q + 1 : NULL;
			} while (p);
			buf_adds(b, "</tr>\n");
		} else if (csv) {
			buf_adds(b, "<tr><td colspan=\"99\"><code>");
			escs(b, line);
			buf_adds(b, "</code></td></tr>\n");
		} else {
			escs(b, line);
			buf_addc(b, '\n');
		}
		n++;
	}
	if (!feof(f))
		buf_adds(b, csv ? "<tr><td colspan=\"99\">...</td></tr>\n"
				: "...\n");
	buf_adds(b, csv ? "</table>\n" : "</pre>\n");
	fclose(f);
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;"
	"max-width:1400px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
	"border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:14px}"
	"table{border-collapse:collapse;margin:6px 0}"
	"td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;"
	"vertical-align:top}th{background:#f4f4f4}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.warn{background:#fff3cd}tr.bad td{background:#fde2e2}"
	"code,pre,td.loc{font-family:ui-monospace,monospace;font-size:12px}"
	"pre{background:#f7f7f7;padding:8px;overflow:auto}"
	".status{display:inline-block;padding:2px 8px;border-radius:4px;"
	"color:#fff}.s-done{background:#2e7d32}.s-failed{background:#c62828}"
	".s-partial,.s-running{background:#ef6c00}"
	".tl{border:1px solid #ddd;padding:4px}"
	".row{display:flex;align-items:center;height:18px}"
	".lab{width:330px;white-space:nowrap;overflow:hidden;"
	"text-overflow:ellipsis;font-size:12px}.k{color:#777}"
	".lane{flex:1;position:relative;height:12px;background:#fafafa}"
	".bar{position:absolute;top:0;height:12px;border-radius:2px}"
	".bar.failed{outline:2px solid #c62828}"
	".ms{width:80px;text-align:right;font-size:12px;color:#555}"
	".sw{display:inline-block;width:12px;height:12px;margin-left:8px;"
	"vertical-align:middle}.legend{font-size:12px;color:#555}"
	"table.stock tr.h td{font-weight:600;background:#f4f4f4}";

int report_html(struct state *st, const struct config *cfg,
		const struct state_run *run, struct buf *b, struct err *err)
{
	struct collect c = {NULL, 0, 0, 0};
	struct report rep;
	struct deliv_ctx dc = {b, 0};
	size_t i;
	int s, rc = -1;

	if (report_build(st, run->run_id, &rep, err) < 0)
		return -1;
	for (s = 0; s < REPORT_NSTAGES; s++) {
		c.stage = s;
		if (state_units_each(st, run->run_id, stage_names[s], NULL,
				     on_unit, &c, err) < 0) {
			if (err && err->code == E_NONE)
				err_set(err, E_NOMEM, "out of memory");
			goto out;
		}
	}
	buf_addf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		    "charset=\"utf-8\"><title>stockpipe run %lld</title>"
		    "<style>%s</style></head><body>\n",
		 (long long)run->run_id, css);
	buf_addf(b, "<h1>stockpipe run %lld <span class=\"status s-%s\">%s"
		    "</span></h1>\n<p>exit code %d &middot; started %s "
		    "&middot; finished %s &middot; %lld rejected, %lld "
		    "quarantined, %lld duplicates skipped, %lld failed units, "
		    "%lld delivered</p>\n",
		 (long long)run->run_id, run->status, run->status,
		 run->exit_code, run->started_at,
		 run->finished_at[0] ? run->finished_at : "-",
		 (long long)rep.rejects, (long long)rep.quarantined,
		 (long long)rep.dupes, (long long)rep.failed,
		 (long long)rep.delivered);
	buf_adds(b, "<h2 id=\"stages\">Stages</h2>\n<table>\n<tr><th>stage</th><th>done"
		    "</th><th>failed</th><th>quarantined</th><th>skipped</th>"
		    "<th>records in</th><th>records out</th><th>rejects</th>"
		    "<th>duplicates</th><th>time (ms)</th></tr>\n");
	for (s = 0; s < REPORT_NSTAGES; s++) {
		const struct report_stage *rs = &rep.stage[s];

		buf_addf(b, "<tr><td>%s</td><td class=\"n\">%lld</td><td "
			    "class=\"n%s\">%lld</td><td class=\"n\">%lld</td>"
			    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			    "</tr>\n",
			 stage_names[s], (long long)rs->units[US_DONE],
			 rs->units[US_FAILED] ? " warn" : "",
			 (long long)rs->units[US_FAILED],
			 (long long)rs->units[US_QUARANTINED],
			 (long long)rs->units[US_SKIPPED],
			 (long long)rs->records_in, (long long)rs->records_out,
			 (long long)rs->rejects, (long long)rs->dupes,
			 (long long)rs->ms);
	}
	buf_adds(b, "</table>\n");
	timeline(b, &c);
	per_scope(b, cfg, &c);
	quarantined(b, &c);
	rejects(b, cfg, run->run_id, &c);
	buf_adds(b, "<h2 id=\"deliveries\">Deliveries</h2>\n<table>\n<tr><th>target</th><th>"
		    "file</th><th>delivered at (run clock)</th></tr>\n");
	if (state_run_deliveries_each(st, run->run_id, on_delivery, &dc, err) <
	    0)
		goto out;
	buf_adds(b, "</table>\n");
	if (!dc.n)
		buf_adds(b, "<p>Nothing was delivered in this run.</p>\n");
	buf_adds(b, "<h2 id=\"stock\">Stock published per target</h2>\n");
	for (i = 0; i < c.n; i++)
		if (c.rows[i].stage == 4 && c.rows[i].output[0])
			stock_file(b, c.rows[i].scope, c.rows[i].output);
	buf_adds(b, "<p class=\"legend\">Generated by stockpipe show --html."
		    "</p>\n</body></html>\n");
	if (b->err) {
		err_set(err, E_TOOBIG, "HTML report too large");
		goto out;
	}
	rc = 0;
out:
	free(c.rows);
	report_release(&rep);
	return rc;
}
