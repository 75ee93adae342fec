/* report_html.c - `stockpipe show RUN --html`: one self-contained HTML page
 * per run (no scripts, no external resources): a badge for the run's
 * outcome, a stage timeline of every unit, counts per source, failed and
 * quarantined units each with the next step that fits it (the exact
 * command), the rejects (report_html_rejects.c), then the deliveries and
 * a panel per target (report_html_target.c). Every heading comes with content, or with a
 * line saying there is none.
 */
#include "report.h"
#include "ack_view.h"
#include "report_html_int.h"
#include "pipeline/config.h"
#include "lib/buf.h"
#include "lib/io.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/dt.h"

#define MAX_TIMELINE 300   /* unit rows in the timeline */

const char *const html_stage_names[REPORT_NSTAGES] = {
	"fetch", "unpack", "map", "load", "render", "deliver"};
static const char *const stage_colors[REPORT_NSTAGES] = {
	"#4e79a7", "#76b7b2", "#f28e2b", "#e15759", "#59a14f", "#b07aa1"};

void html_esc(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, s[i]);
		}
	}
}

void html_escs(struct buf *b, const char *s)
{
	html_esc(b, s, strlen(s));
}


/* A word of a command line, quoted for a POSIX shell when it needs it. */
static void sh_word(struct buf *b, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789_./:=@%+,-") == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	buf_addc(b, '\'');
}

/* The command prefix: the config and state folder this page was made
 * with, so every command shown runs against the same store. */
static void cmd_prefix(struct html_ctx *h)
{
	struct buf p = BUF_INIT(sizeof(h->cmd));
	const char *path = h->cfg->path, *base;

	buf_adds(&p, "stockpipe");
	if (path && path[0] == '/') {
		buf_adds(&p, " -c ");
		sh_word(&p, path);
	} else if (path && h->cfg->dir) {
		char abs[4200];

		base = strrchr(path, '/');
		snprintf(abs, sizeof(abs), "%s/%s", h->cfg->dir,
			 base ? base + 1 : path);
		buf_adds(&p, " -c ");
		sh_word(&p, abs);
	}
	if (h->cfg->state_dir) {
		buf_adds(&p, " --state-dir ");
		sh_word(&p, h->cfg->state_dir);
	}
	/* a cut prefix would be a wrong command: then none */
	str_copy_cut(h->cmd, sizeof(h->cmd), p.err ? "stockpipe" : p.ptr);
	buf_release(&p);
}

void html_cmd(const struct html_ctx *h, const char *fmt, ...)
{
	char args[9000];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	buf_adds(h->b, "<code class=\"cmd\">");
	html_escs(h->b, h->cmd);
	buf_addc(h->b, ' ');
	html_escs(h->b, args);
	if (n < 0 || (size_t)n >= sizeof(args))
		buf_adds(h->b, "&hellip; (cut)");
	buf_adds(h->b, "</code>");
}

void html_duration(struct buf *b, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s >= 2 * 86400)
		buf_addf(b, "%lld d %lld h", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		buf_addf(b, "%lld h %02lld min", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else if (s >= 60)
		buf_addf(b, "%lld min", (long long)(s / 60));
	else
		buf_addf(b, "%lld s", (long long)s);
}

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

void html_th(struct buf *b, const char *const *cols, size_t n)
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
			 stage_colors[s], html_stage_names[s]);
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
		buf_addf(b, "%s ", html_stage_names[r->stage]);
		html_escs(b, r->scope);
		buf_adds(b, " <span class=\"k\">");
		html_escs(b, r->key);
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


static void sources(struct buf *b, const struct config *cfg,
		    const struct collect *c)
{
	static const char *const scols[] = {
		"source", "files", "records in", "canonical out", "loaded",
		"rejects", "duplicates", "quarantined", "failed units",
		"stale", "held", "converted"};
	size_t i, k;

	buf_adds(b, "<h2 id=\"sources\">Sources</h2>\n");
	if (!cfg->nsources) {
		buf_adds(b, "<p>No source is configured.</p>\n");
		return;
	}
	buf_adds(b, "<table>\n");
	html_th(b, scols, 12);
	for (i = 0; i < cfg->nsources; i++) {
		int64_t v[11] = {0};

		for (k = 0; k < c->n; k++) {
			const struct unit_row *r = &c->rows[k];

			if (strcmp(r->scope, cfg->sources[i].name))
				continue;
			if (r->stage == HS_FETCH && r->state == US_DONE)
				v[0]++;
			if (r->stage == HS_MAP) {
				v[1] += r->in;
				v[2] += r->out;
				v[4] += r->rejects;
				v[6] += r->state == US_QUARANTINED;
			}
			if (r->stage == HS_LOAD) {
				v[3] += r->out;
				v[4] += r->rejects; /* on_stale: reject */
				v[5] += r->dupes;
				v[8] += r->stale;
				v[9] += r->held;
				v[10] += r->converted;
			}
			if (r->stage == HS_FETCH)
				v[5] += r->dupes;
			v[7] += r->state == US_FAILED;
		}
		buf_adds(b, "<tr><td>");
		html_escs(b, cfg->sources[i].name);
		buf_adds(b, "</td>");
		for (k = 0; k < 11; k++)
			buf_addf(b, "<td class=\"n%s\">%lld</td>",
				 k >= 4 && k != 5 && v[k] ? " warn" : "",
				 (long long)v[k]);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n");
}

/* ---- next steps ---------------------------------------------------------- */

const char *html_source_mapping(const struct config *cfg, const char *name,
				const char *doc)
{
	const struct cfg_source *s = config_source(cfg, name);
	const char *base = strrchr(doc, '/');
	size_t i;

	if (!s)
		return NULL;
	base = base ? base + 1 : doc;
	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].pattern &&
		    fnmatch(s->routes[i].pattern, base, 0) == 0)
			return s->routes[i].mapping;
	return s->mapping ? s->mapping
			  : s->nroutes == 1 ? s->routes[0].mapping : NULL;
}

static int target_is_local(const struct cfg_target *t)
{
	return t && t->url && !strncmp(t->url, "file://", 7);
}

/* What a failed render or delivery asks for. */
static void next_step_target(const struct html_ctx *h,
			     const struct unit_row *r)
{
	const struct cfg_target *t = config_target(h->cfg, r->scope);
	struct buf *b = h->b;

	if (r->stage == HS_RENDER && r->err_class != EC_TRANSIENT) {
		buf_adds(b, "Fix the target's mapping <code>");
		html_escs(b, t ? t->mapping : "?");
		buf_adds(b, "</code>; check it with ");
		html_cmd(h, "check");
		buf_adds(b, ", then ");
		html_cmd(h, "retry %lld", (long long)r->id);
		return;
	}
	if (r->err_class == EC_TRANSIENT && !target_is_local(t)) {
		buf_adds(b, "Retryable (a temporary failure, exit 75 class): "
			    "later runs retry it by themselves; to retry it "
			    "now, ");
		html_cmd(h, "resume %lld", (long long)h->run->run_id);
		return;
	}
	buf_adds(b, target_is_local(t)
			    ? "Fix the target folder (it must exist, be a "
			      "folder and be writable by stockpipe; check "
			      "its free space): <code>"
			    : "Fix the partner's folder or the credentials "
			      "(a permission or a path the server refused): "
			      "<code>");
	html_escs(b, t && t->url ? t->url : "?");
	buf_adds(b, "</code>; then ");
	html_cmd(h, "retry %lld", (long long)r->id);
	if (r->err_class == EC_TRANSIENT)
		buf_adds(b, " (later runs also retry it by themselves)");
	buf_adds(b, ". The target is due until it is delivered: it gets a "
		    "fresh snapshot, once.");
}

void html_next_step(const struct html_ctx *h, const struct unit_row *r)
{
	struct buf *b = h->b;
	const char *map;

	if (r->state == US_QUARANTINED) {
		buf_adds(b, "See why: ");
		html_cmd(h, "quarantine show %lld", (long long)r->id);
		buf_adds(b, ". Release it after the mapping or the partner's "
			    "file is fixed: ");
		html_cmd(h, "quarantine release %lld", (long long)r->id);
		buf_adds(b, "; or load its good rows as they are: ");
		html_cmd(h, "quarantine release %lld --accept --note 'WHY'",
			 (long long)r->id);
		return;
	}
	if (r->retried_in) {
		buf_adds(b, "Taken over by a later run: ");
		html_cmd(h, "show %lld --html", (long long)r->retried_in);
		return;
	}
	if (r->stage == HS_RENDER || r->stage == HS_DELIVER) {
		next_step_target(h, r);
		return;
	}
	switch (r->err_class) {
	case EC_TRANSIENT:
		buf_adds(b, "Retryable (a temporary failure, exit 75 class): "
			    "later runs retry it by themselves; to retry it "
			    "now, ");
		html_cmd(h, "resume %lld", (long long)h->run->run_id);
		return;
	case EC_DATA:
	case EC_CONFIG:
		map = r->stage == HS_MAP || r->stage == HS_LOAD
			      ? html_source_mapping(h->cfg, r->scope, r->key)
			      : NULL;
		if (map) {
			buf_adds(b, "Fix the mapping <code>");
			html_escs(b, map);
			buf_adds(b, r->err_class == EC_DATA
					    ? "</code> (or get a corrected file "
					      "from the partner); check it with "
					    : "</code>; check it with ");
		} else {
			buf_adds(b, r->err_class == EC_DATA
					    ? "Get a corrected file from the "
					      "partner, or fix the config; "
					      "check it with "
					    : "Fix the config (source folder, "
					      "credentials, host key); check "
					      "it with ");
		}
		html_cmd(h, "check");
		buf_adds(b, ", then ");
		html_cmd(h, "retry %lld", (long long)r->id);
		return;
	default:
		buf_adds(b, "An internal error (exit 70 class): report it "
			    "with this page; after the fix, ");
		html_cmd(h, "retry %lld", (long long)r->id);
	}
}

/* Failed (parked) and quarantined units, each with its next step; the
 * section only when there is one. */
static void failures(const struct html_ctx *h)
{
	struct buf *b = h->b;
	size_t i;
	int n = 0;

	for (i = 0; i < h->c->n; i++) {
		const struct unit_row *r = &h->c->rows[i];

		if (r->state != US_QUARANTINED && r->state != US_FAILED)
			continue;
		if (!n++)
			buf_adds(b, "<h2 id=\"quarantine\">Failed and "
				    "quarantined</h2>\n<table>\n<tr><th>unit"
				    "</th><th>stage</th><th>scope</th><th>"
				    "document</th><th>state</th><th>reason"
				    "</th><th>next step</th></tr>\n");
		buf_addf(b, "<tr class=\"bad\"><td>%lld</td><td>%s</td><td>",
			 (long long)r->id, html_stage_names[r->stage]);
		html_escs(b, r->scope);
		buf_adds(b, "</td><td>");
		html_escs(b, r->key);
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
		html_escs(b, r->detail);
		buf_adds(b, "</td><td class=\"next\">");
		html_next_step(h, r);
		buf_adds(b, "</td></tr>\n");
	}
	if (n)
		buf_adds(b, "</table>\n");
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;"
	"max-width:1400px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
	"border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;"
	"margin:18px 0 6px}h4{font-size:13px;margin:10px 0 4px}"
	"table{border-collapse:collapse;margin:6px 0}"
	"td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;"
	"vertical-align:top}th{background:#f4f4f4}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.warn{background:#fff3cd}tr.bad td{background:#fde2e2}"
	"tr.ok td{background:#e6f4ea}"
	"code,pre,td.loc{font-family:ui-monospace,monospace;font-size:12px}"
	"code.cmd{background:#f1f1f1;padding:1px 4px;border-radius:3px;"
	"overflow-wrap:anywhere}td.next{min-width:360px}"
	"pre{background:#f7f7f7;padding:8px;overflow:auto}"
	"table.cells{margin:0}table.cells td{font-family:ui-monospace,"
	"monospace;font-size:12px;padding:1px 5px;background:#fafafa}"
	".status{display:inline-block;padding:2px 8px;border-radius:4px;"
	"color:#fff}.s-ok{background:#2e7d32}.s-bad{background:#c62828}"
	".s-warn{background:#b26a00}.s-run{background:#607d8b}"
	".panel{border:1px solid #ddd;border-radius:4px;padding:4px 12px;"
	"margin:10px 0}.panel.bad{border-color:#c62828}"
	".panel.ok{border-color:#2e7d32}"
	"dl.kv{display:grid;grid-template-columns:max-content auto;"
	"gap:2px 12px;margin:6px 0}dl.kv dt{color:#555}dl.kv dd{margin:0}"
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

/* The badge: green for done (exit 0, or a skip code: nothing to do),
 * amber for exit 1 (done, with rejects, quarantines or parked units),
 * red for a run that could not finish; grey while it runs. */
static void badge(const struct html_ctx *h)
{
	const struct state_run *run = h->run;
	const struct report *rep = h->rep;
	struct buf *b = h->b;
	int code = run->exit_code;

	if (!strcmp(run->status, "running")) {
		buf_adds(b, "<span class=\"status s-run\">running</span>");
	} else if (!strcmp(run->status, "done") && code == 1) {
		buf_addf(b, "<span class=\"status s-warn\" title=\"exit 1\">"
			    "done with %lld reject%s, %lld quarantined, "
			    "%lld parked</span>",
			 (long long)rep->rejects, rep->rejects == 1 ? "" : "s",
			 (long long)rep->quarantined, (long long)rep->failed);
	} else if (!strcmp(run->status, "done") && code != 64 && code != 70 &&
		   code != 75 && code != 78) {
		buf_addf(b, "<span class=\"status s-ok\" title=\"exit %d\">"
			    "done</span>",
			 code);
	} else {
		buf_addf(b, "<span class=\"status s-bad\" title=\"exit %d\">",
			 code);
		html_escs(b, run->status);
		buf_addf(b, " (exit %d)</span>", code);
	}
}

static void stages(struct buf *b, const struct report *rep)
{
	int s;

	buf_adds(b, "<h2 id=\"stages\">Stages</h2>\n<table>\n<tr><th>stage"
		    "</th><th>done</th><th>failed</th><th>quarantined</th>"
		    "<th>skipped</th><th>records in</th><th>records out</th>"
		    "<th>rejects</th><th>duplicates</th><th>time (ms)</th>"
		    "</tr>\n");
	for (s = 0; s < REPORT_NSTAGES; s++) {
		const struct report_stage *rs = &rep->stage[s];

		buf_addf(b, "<tr><td>%s</td><td class=\"n\">%lld</td><td "
			    "class=\"n%s\">%lld</td><td class=\"n\">%lld</td>"
			    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			    "</tr>\n",
			 html_stage_names[s], (long long)rs->units[US_DONE],
			 rs->units[US_FAILED] ? " warn" : "",
			 (long long)rs->units[US_FAILED],
			 (long long)rs->units[US_QUARANTINED],
			 (long long)rs->units[US_SKIPPED],
			 (long long)rs->records_in, (long long)rs->records_out,
			 (long long)rs->rejects, (long long)rs->dupes,
			 (long long)rs->ms);
	}
	buf_adds(b, "</table>\n");
}

static void header(const struct html_ctx *h)
{
	const struct state_run *run = h->run;
	const struct report *rep = h->rep;
	struct buf *b = h->b;

	buf_addf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		    "charset=\"utf-8\"><title>stockpipe run %lld</title>"
		    "<style>%s</style></head><body>\n",
		 (long long)run->run_id, css);
	buf_addf(b, "<h1>stockpipe run %lld ", (long long)run->run_id);
	badge(h);
	buf_addf(b, "</h1>\n<p>exit code %d &middot; started ",
		 run->exit_code);
	html_escs(b, run->started_at);
	buf_adds(b, " &middot; finished ");
	html_escs(b, run->finished_at[0] ? run->finished_at : "-");
	buf_addf(b, " &middot; %lld rejected, %lld quarantined, %lld "
		    "duplicates skipped, %lld failed units, %lld delivered"
		    "</p>\n",
		 (long long)rep->rejects, (long long)rep->quarantined,
		 (long long)rep->dupes, (long long)rep->failed,
		 (long long)rep->delivered);
	if (!strcmp(run->status, "running") ||
	    !strcmp(run->status, "interrupted") ||
	    !strcmp(run->status, "partial")) {
		buf_adds(b, "<p class=\"next\">The run is not finished; to "
			    "finish it: ");
		html_cmd(h, "resume %lld", (long long)run->run_id);
		buf_adds(b, "</p>\n");
	}
}

int report_html(struct state *st, const struct config *cfg,
		const struct state_run *run, struct buf *b, struct err *err)
{
	struct collect c = {NULL, 0, 0, 0};
	struct report rep;
	struct html_ctx h;
	int s, rc = -1;

	if (report_build(st, run->run_id, &rep, err) < 0)
		return -1;
	for (s = 0; s < REPORT_NSTAGES; s++) {
		c.stage = s;
		if (state_units_each(st, run->run_id, html_stage_names[s],
				     NULL, on_unit, &c, err) < 0) {
			if (err && err->code == E_NONE)
				err_set(err, E_NOMEM, "out of memory");
			goto out;
		}
	}
	memset(&h, 0, sizeof(h));
	h.b = b;
	h.st = st;
	h.cfg = cfg;
	h.run = run;
	h.rep = &rep;
	h.c = &c;
	cmd_prefix(&h);
	header(&h);
	stages(b, &rep);
	timeline(b, &c);
	sources(b, cfg, &c);
	failures(&h);
	html_rejects(&h);
	if (html_warnings(&h, err) < 0 || html_targets(&h, err) < 0 ||
	    ack_view_html(b, st, cfg, run->run_id, err) < 0)
		goto out;
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
