/* report_html_target.c - the deliveries of the run's HTML page and one
 * panel per configured target (see report_html_int.h).
 *
 * A delivery is published only when the delivery ledger has it for this
 * run; a render whose delivery failed is listed as failed, with the next
 * step, and its file as waiting in the outbox, never under what was
 * published. A published target's panel says what it got (file, rows,
 * bytes), what changed against its previous delivery, how old the stock
 * in it was at the run's clock and which stale sources held anything
 * back.
 *
 * Changes are computed from the published pictures the outbox keeps next
 * to every rendered stock file (render.h: NAME.pub, the available
 * quantity the target was sent per SKU/location, a full picture also for
 * delta targets): this delivery's against the one of the delivery before
 * it in the ledger. The ledger keeps only a content key per delivery, not
 * its rows, so when a picture is gone from the outbox the page says so
 * instead of guessing. An item-master target has no picture (no
 * quantities): only its row count is shown.
 *
 * The data age is the oldest as_of among the positions in the delivery:
 * each position's newest stock event loaded by documents mapped in runs
 * up to this one (state_report_ages_each), so a page of an older run is
 * not made younger by later loads, limited to the states the target
 * publishes and to the SKU/location keys of its picture. A target that
 * sums over locations lists a SKU once (location ""): then every location
 * of the SKU counts, including ones its location filter left out.
 */
#include "report_html_int.h"
#include "pipeline/config.h"
#include "pipeline/stages/render.h"
#include "pipeline/store/state_report.h"
#include "lib/io.h"
#include "lib/gz.h"
#include "lib/ytree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "transforms/model/dt.h"
#include "transforms/model/stock.h"

#define MAX_STOCK_LINES 60 /* lines of each delivered file shown */
#define MAX_CHANGES 25     /* changed rows listed per target */

/* This run's deliveries, from the ledger. */
struct deliv {
	char target[128], file[256];
	int64_t at;
};

struct delivs {
	struct deliv *v;
	size_t n, cap;
};

static int on_delivery(void *ud, const char *target, const char *file,
		       int64_t at)
{
	struct delivs *d = ud;

	if (ALLOC_GROW(d->v, d->n + 1, d->cap))
		return -1;
	/* names the config and the ledger keep shorter than these */
	str_copy_cut(d->v[d->n].target, sizeof(d->v[d->n].target), target);
	str_copy_cut(d->v[d->n].file, sizeof(d->v[d->n].file), file);
	d->v[d->n].at = at;
	d->n++;
	return 0;
}

/* What became of a target in this run. */
enum tstate {
	T_NOT_DUE,        /* no render unit: its schedule did not call */
	T_RENDER_FAILED,  /* the render failed */
	T_HELD,           /* held back by the stale-source rule */
	T_UNCHANGED,      /* the target already has this content */
	T_FAILED,         /* rendered, the delivery failed */
	T_PENDING,        /* rendered, not delivered yet (run unfinished) */
	T_PUBLISHED       /* in the delivery ledger for this run */
};

/* One target's panel being written. */
struct tpanel {
	struct html_ctx *h;
	const struct cfg_target *t;
	const struct unit_row *rend, *del; /* its last units, or NULL */
	const struct deliv *dv;            /* its delivery, or NULL */
	enum tstate ts;
	char pub[4300];                    /* its published picture */
};

static const struct unit_row *last_unit(const struct collect *c, int stage,
					const char *scope)
{
	const struct unit_row *r = NULL;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->rows[i].stage == stage &&
		    !strcmp(c->rows[i].scope, scope))
			r = &c->rows[i];
	return r;
}

static void classify(struct tpanel *p, const struct delivs *d)
{
	size_t i;

	p->rend = last_unit(p->h->c, HS_RENDER, p->t->name);
	p->del = last_unit(p->h->c, HS_DELIVER, p->t->name);
	p->dv = NULL;
	for (i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].target, p->t->name))
			p->dv = &d->v[i];
	p->pub[0] = '\0';
	if (p->rend && p->rend->output[0])
		snprintf(p->pub, sizeof(p->pub), "%s.pub", p->rend->output);
	if (p->dv)
		p->ts = T_PUBLISHED;
	else if (p->del && p->del->state == US_FAILED)
		p->ts = T_FAILED;
	else if (!p->rend)
		p->ts = T_NOT_DUE;
	else if (p->rend->state == US_FAILED)
		p->ts = T_RENDER_FAILED;
	else if (p->rend->outcome == UO_HELD)
		p->ts = T_HELD;
	else if (p->rend->state == US_DONE && !p->rend->output[0])
		p->ts = T_UNCHANGED;
	else
		p->ts = T_PENDING;
}

static const char *const outcome_text[] = {
	[T_NOT_DUE] = "not due",
	[T_RENDER_FAILED] = "FAILED: not rendered",
	[T_HELD] = "held back",
	[T_UNCHANGED] = "unchanged: nothing to send",
	[T_FAILED] = "FAILED: not delivered",
	[T_PENDING] = "not delivered yet",
	[T_PUBLISHED] = "published",
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The size of path into *n; -1 when it is gone. */
static int file_bytes(const char *path, long long *n)
{
	struct stat sb;

	if (!path[0] || stat(path, &sb) < 0)
		return -1;
	*n = (long long)sb.st_size;
	return 0;
}

/* ---- the deliveries table ---------------------------------------------- */

static void deliveries(struct html_ctx *h, struct tpanel *ps, size_t n)
{
	static const char *const cols[] = {"target", "outcome", "file",
					   "rows", "bytes",
					   "delivered at (run clock)"};
	struct buf *b = h->b;
	size_t i, rendered = 0, published = 0;

	buf_adds(b, "<h2 id=\"deliveries\">Deliveries</h2>\n");
	for (i = 0; i < n; i++) {
		rendered += ps[i].ts != T_NOT_DUE;
		published += ps[i].ts == T_PUBLISHED;
	}
	if (!rendered) {
		buf_adds(b, "<p>Nothing delivered in this run: no target was "
			    "due.</p>\n");
		return;
	}
	buf_adds(b, "<table>\n");
	html_th(b, cols, 6);
	for (i = 0; i < n; i++) {
		const struct tpanel *p = &ps[i];
		long long bytes;
		char iso[DT_ISO_LEN];

		if (p->ts == T_NOT_DUE)
			continue;
		buf_addf(b, "<tr class=\"%s\"><td>",
			 p->ts == T_PUBLISHED ? "ok"
			 : p->ts == T_FAILED || p->ts == T_RENDER_FAILED
				 ? "bad"
				 : "");
		html_escs(b, p->t->name);
		buf_addf(b, "</td><td>%s</td><td>", outcome_text[p->ts]);
		if (p->ts == T_PUBLISHED)
			html_escs(b, p->dv->file);
		else if (p->rend && p->rend->output[0])
			html_escs(b, base_name(p->rend->output));
		buf_adds(b, "</td><td class=\"n\">");
		if (p->rend && p->rend->output[0])
			buf_addf(b, "%lld", (long long)p->rend->out);
		buf_adds(b, "</td><td class=\"n\">");
		if (p->rend && file_bytes(p->rend->output, &bytes) == 0)
			buf_addf(b, "%lld", bytes);
		buf_adds(b, "</td><td>");
		if (p->ts == T_PUBLISHED) {
			dt_format_iso(p->dv->at, iso);
			buf_adds(b, iso);
		}
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n");
	if (!published)
		buf_adds(b, "<p>Nothing delivered in this run.</p>\n");
}

/* ---- the panels ---------------------------------------------------------- */

static int panel_outcome(struct tpanel *p, struct err *err)
{
	struct buf *b = p->h->b;
	const char *note = p->rend ? p->rend->detail : "";
	long long bytes;
	char iso[DT_ISO_LEN];

	(void)err;
	switch (p->ts) {
	case T_NOT_DUE:
		buf_adds(b, "<p>Nothing delivered in this run: the target "
			    "was not due (schedule: ");
		html_escs(b, p->t->schedule_text ? p->t->schedule_text
						 : "always");
		buf_adds(b, ").</p>\n");
		return 0;
	case T_RENDER_FAILED:
	case T_FAILED: {
		const struct unit_row *u =
			p->ts == T_FAILED ? p->del : p->rend;

		buf_adds(b, "<p class=\"bad\">Nothing delivered in this run: ");
		html_escs(b, u->detail);
		buf_adds(b, "</p>\n<p class=\"next\">Next step: ");
		html_next_step(p->h, u);
		buf_adds(b, "</p>\n");
		if (p->ts == T_FAILED && p->rend && p->rend->output[0]) {
			buf_adds(b, "<p>The rendered file waits in the outbox, "
				    "not published: <code>");
			html_escs(b, base_name(p->rend->output));
			buf_addf(b, "</code> (%lld rows)</p>\n",
				 (long long)p->rend->out);
		}
		return 0;
	}
	case T_HELD:
	case T_UNCHANGED:
		buf_adds(b, "<p>Nothing delivered in this run: ");
		html_escs(b, note);
		buf_adds(b, "</p>\n");
		return 0;
	case T_PENDING:
		buf_adds(b, "<p>Rendered, not delivered yet: the run did not "
			    "get that far. Next step: ");
		html_cmd(p->h, "resume %lld", (long long)p->h->run->run_id);
		buf_adds(b, "</p>\n");
		return 0;
	case T_PUBLISHED:
		break;
	}
	dt_format_iso(p->dv->at, iso);
	buf_adds(b, "<h4>Published</h4>\n<dl class=\"kv\"><dt>file</dt><dd>"
		    "<code>");
	html_escs(b, p->dv->file);
	buf_addf(b, "</code></dd><dt>rows</dt><dd>%lld</dd><dt>bytes</dt><dd>",
		 p->rend ? (long long)p->rend->out : 0LL);
	if (p->rend && file_bytes(p->rend->output, &bytes) == 0)
		buf_addf(b, "%lld", bytes);
	else
		buf_adds(b, "unknown: the file is no longer in the outbox");
	buf_addf(b, "</dd><dt>delivered at</dt><dd>%s (run clock)</dd>", iso);
	if (note[0]) {
		buf_adds(b, "<dt>render</dt><dd>");
		html_escs(b, note);
		buf_adds(b, "</dd>");
	}
	buf_adds(b, "</dl>\n");
	return 0;
}

/* A published picture being read in key order. */
struct pic {
	struct gz_in *g; /* the picture may be compacted (lib/gz.h) */
	FILE *f;
	int ok;
	char sku[512], loc[512];
	dec qty;
};

static int pic_open(struct pic *p, const char *path, struct err *err)
{
	memset(p, 0, sizeof(*p));
	if (gz_open(&p->g, path, err) < 0)
		return -1;
	p->f = p->g->f;
	return 0;
}

static int pic_next(struct pic *p, struct err *err)
{
	int rc = render_pub_next(p->f, p->sku, sizeof(p->sku), p->loc,
				 sizeof(p->loc), &p->qty, err);

	if (rc < 0)
		return -1;
	p->ok = rc;
	return 0;
}

/* Closes p; -1 with err when reading it met an error (a damaged .gz
 * ends the picture early: the comparison would be wrong). */
static int pic_close(struct pic *p, struct err *err)
{
	int rc = gz_close(p->g, err);

	p->g = NULL;
	p->f = NULL;
	return rc;
}

struct change_counts {
	long long added, removed, changed, same;
	int listed;
};

static void change_row(struct buf *b, struct change_counts *n,
		       const char *sku, const char *loc, const dec *o,
		       const dec *v)
{
	char a[32], c[32], d[34];

	if (n->listed++ >= MAX_CHANGES)
		return;
	if (o)
		dec_format(*o, a);
	if (v)
		dec_format(*v, c);
	if (o && v) {
		d[0] = *v > *o ? '+' : '\0';
		dec_format(*v - *o, d + (*v > *o));
	}
	buf_adds(b, "<tr><td>");
	html_escs(b, sku);
	buf_adds(b, "</td><td>");
	html_escs(b, *loc ? loc : "(all)");
	buf_addf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
		    "<td>%s</td></tr>\n",
		 o ? a : "-", v ? c : "-",
		 !o ? "added" : !v ? "removed" : d);
}

/* Merges the previous picture o with the new one v (both in key order):
 * counts, and the first changed rows into rows. */
static int diff_pictures(struct pic *o, struct pic *v, struct buf *rows,
			 struct change_counts *n, struct err *err)
{
	if (pic_next(o, err) < 0 || pic_next(v, err) < 0)
		return -1;
	while (o->ok || v->ok) {
		int c = !o->ok ? 1 : !v->ok ? -1 : strcmp(o->sku, v->sku);

		if (o->ok && v->ok && !c)
			c = strcmp(o->loc, v->loc);
		if (c < 0) {
			n->removed++;
			change_row(rows, n, o->sku, o->loc, &o->qty, NULL);
			if (pic_next(o, err) < 0)
				return -1;
		} else if (c > 0) {
			n->added++;
			change_row(rows, n, v->sku, v->loc, NULL, &v->qty);
			if (pic_next(v, err) < 0)
				return -1;
		} else {
			if (o->qty != v->qty) {
				n->changed++;
				change_row(rows, n, v->sku, v->loc, &o->qty,
					   &v->qty);
			} else {
				n->same++;
			}
			if (pic_next(o, err) < 0 || pic_next(v, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int panel_changes(struct tpanel *p, struct err *err)
{
	struct html_ctx *h = p->h;
	struct buf *b = h->b;
	struct buf rows = BUF_INIT(1 << 20);
	struct state_delivery prev;
	struct change_counts n = {0, 0, 0, 0, 0};
	struct pic o, v;
	char prev_pub[4600], iso[DT_ISO_LEN];
	int found, rc = -1;

	if (p->ts != T_PUBLISHED)
		return 0;
	buf_adds(b, "<h4>Changes since the previous delivery</h4>\n");
	if (state_report_prev_delivery(h->st, p->t->name, p->dv->file, &prev,
				       &found, err) < 0)
		return -1;
	if (!found) {
		buf_adds(b, "<p>The first delivery to this target: nothing to "
			    "compare with.</p>\n");
		return 0;
	}
	dt_format_iso(prev.delivered_at, iso);
	buf_adds(b, "<p>Previous delivery: <code>");
	html_escs(b, prev.file_name);
	buf_addf(b, "</code> (run %lld, %s).", (long long)prev.run_id, iso);
	snprintf(prev_pub, sizeof(prev_pub), "%s/outbox/%s/%s.pub",
		 h->cfg->state_dir, p->t->name, prev.file_name);
	if (!p->pub[0] || !gz_exists(p->pub)) {
		buf_adds(b, gz_exists(prev_pub)
				    ? " This delivery's published picture is "
				      "no longer in the outbox: no comparison."
				    : " An item master (no per-SKU quantities): "
				      "no comparison beyond its row count "
				      "above.");
		buf_adds(b, "</p>\n");
		return 0;
	}
	if (!gz_exists(prev_pub)) {
		buf_adds(b, " Its published picture is no longer in the "
			    "outbox: no comparison.</p>\n");
		return 0;
	}
	buf_adds(b, "</p>\n");
	memset(&o, 0, sizeof(o));
	memset(&v, 0, sizeof(v));
	if (pic_open(&o, prev_pub, err) < 0 || pic_open(&v, p->pub, err) < 0 ||
	    diff_pictures(&o, &v, &rows, &n, err) < 0)
		goto out;
	buf_addf(b, "<p class=\"changes\">%lld added, %lld removed, %lld "
		    "quantity changed, %lld unchanged (available quantity "
		    "as published, per %s)%s</p>\n",
		 n.added, n.removed, n.changed, n.same,
		 p->t->per_location ? "SKU and location" : "SKU",
		 p->t->delta ? "; a delta target: its file carries only "
			       "the changed rows"
			     : "");
	if (n.listed) {
		buf_adds(b, "<table>\n<tr><th>sku</th><th>location</th><th>"
			    "before</th><th>now</th><th>change</th></tr>\n");
		buf_add(b, rows.ptr, rows.len);
		buf_adds(b, "</table>\n");
		if (n.listed > MAX_CHANGES)
			buf_addf(b, "<p>First %d of %d changes shown.</p>\n",
				 MAX_CHANGES, n.listed);
	}
	rc = 0;
out:
	if (pic_close(&o, err) < 0)
		rc = -1;
	if (pic_close(&v, err) < 0)
		rc = -1;
	buf_release(&rows);
	return rc;
}

/* The oldest position among the picture's keys (state_report_ages_each
 * rows merged with the picture, both in key order). */
struct age_ctx {
	struct pic pic;
	unsigned mask;
	int found;
	int64_t oldest;
	char sku[512], loc[512];
	struct err *err;
};

static int age_row(void *ud, const char *sku, const char *loc, int state,
		   int64_t as_of)
{
	struct age_ctx *a = ud;
	int c = 1;

	if (state < 0 || state >= 32 || !(a->mask & (1u << state)))
		return 0;
	while (a->pic.ok) {
		c = strcmp(a->pic.sku, sku);
		/* a picture row of a target summed over locations: "" */
		if (!c && a->pic.loc[0])
			c = strcmp(a->pic.loc, loc);
		if (c >= 0)
			break;
		if (pic_next(&a->pic, a->err) < 0)
			return -1;
	}
	if (!a->pic.ok || c)
		return 0;
	if (!a->found || as_of < a->oldest) {
		a->found = 1;
		a->oldest = as_of;
		str_copy_cut(a->sku, sizeof(a->sku), sku);
		str_copy_cut(a->loc, sizeof(a->loc), loc);
	}
	return 0;
}

static int panel_age(struct tpanel *p, struct err *err)
{
	struct html_ctx *h = p->h;
	struct buf *b = h->b;
	struct age_ctx a;
	char iso[DT_ISO_LEN], run_iso[DT_ISO_LEN];
	int rc = -1;

	if (p->ts != T_PUBLISHED)
		return 0;
	buf_adds(b, "<h4>Data age</h4>\n");
	if (!p->pub[0] || !gz_exists(p->pub)) {
		buf_adds(b, "<p>No stock quantities in this delivery (an item "
			    "master, or its picture is gone from the outbox): "
			    "no data age.</p>\n");
		return 0;
	}
	memset(&a, 0, sizeof(a));
	a.mask = p->t->sellable_mask | p->t->subtract_mask;
	a.err = err;
	if (pic_open(&a.pic, p->pub, err) < 0 || pic_next(&a.pic, err) < 0 ||
	    state_report_ages_each(h->st, h->run->run_id, age_row, &a, err) <
		    0)
		goto out;
	if (!a.found) {
		buf_adds(b, "<p>No stock event behind this delivery's rows "
			    "(nothing loaded for them up to this run).</p>\n");
		rc = 0;
		goto out;
	}
	/* Compared with when the target got it: the delivery's time on
	 * the run's clock. */
	dt_format_iso(a.oldest, iso);
	dt_format_iso(p->dv->at, run_iso);
	buf_addf(b, "<p>Oldest stock data in this delivery: as_of %s (sku ",
		 iso);
	html_escs(b, a.sku);
	buf_adds(b, ", location ");
	html_escs(b, a.loc[0] ? a.loc : "(none)");
	buf_adds(b, "), ");
	if (a.oldest > p->dv->at) {
		buf_addf(b, "after the delivery (%s): dated in the future."
			    "</p>\n",
			 run_iso);
	} else {
		buf_adds(b, "<strong>");
		html_duration(b, p->dv->at - a.oldest);
		buf_addf(b, "</strong> old when delivered (%s, run clock)."
			    "</p>\n",
			 run_iso);
	}
	rc = 0;
out:
	if (pic_close(&a.pic, err) < 0)
		rc = -1;
	return rc;
}

/* One source the stale-source rule watches for t, judged as the rule
 * judged it at the run's clock: its last fetch (run clock) when no later
 * run fetched from it; else the store no longer knows the time, only the
 * run (*stale = -1: unknown). */
static int stale_source(struct tpanel *p, const char *src, int state,
			int *stale, struct err *err)
{
	struct html_ctx *h = p->h;
	struct buf *b = h->b;
	int64_t last, last_run;
	char iso[DT_ISO_LEN];

	if (state_source_last_fetch(h->st, src, &last, err) < 0 ||
	    state_report_source_last_run(h->st, src, h->run->run_id,
					 &last_run, err) < 0)
		return -1;
	buf_adds(b, "<li>");
	html_escs(b, src);
	buf_addf(b, " (system of record for %s): ", stock_state_name(state));
	if (!last || !last_run) {
		*stale = 1;
		buf_adds(b, "has never sent a file up to this run");
	} else if (h->run_clock && last <= h->run_clock) {
		dt_format_iso(last, iso);
		*stale = h->run_clock - last > p->t->stale_after;
		buf_addf(b, "last sent a file at %s, ", iso);
		html_duration(b, h->run_clock - last);
		buf_adds(b, " before this run");
	} else if (last_run == h->run->run_id) {
		*stale = 0;
		buf_adds(b, "sent a file in this run");
	} else {
		*stale = -1;
		buf_addf(b, "last sent a file in run %lld (a later run has "
			    "fetched from it since: the time is no longer "
			    "known)",
			 (long long)last_run);
	}
	buf_adds(b, *stale > 0   ? " &mdash; <strong>stale</strong></li>\n"
		    : *stale == 0 ? " &mdash; fresh</li>\n"
				  : "</li>\n");
	return 0;
}

static int panel_stale(struct tpanel *p, struct err *err)
{
	const struct config *cfg = p->h->cfg;
	struct buf *b = p->h->b;
	unsigned mask = p->t->sellable_mask | p->t->subtract_mask;
	int s, any = 0, nstale = 0;
	size_t i;

	if (p->ts == T_NOT_DUE)
		return 0;
	buf_adds(b, "<h4>Stale sources</h4>\n");
	if (!p->t->stale_after) {
		buf_adds(b, "<p>No stale-source rule for this target "
			    "(stale_after is not set): nothing is held back "
			    "for a source that stopped sending.</p>\n");
		return 0;
	}
	for (s = 0; s < STOCK_NSTATES && s < 8; s++) {
		if (!(mask & (1u << s)))
			continue;
		for (i = 0; i < cfg->nauthority[s]; i++) {
			int stale;

			if (!any++)
				buf_adds(b, "<ul>\n");
			if (stale_source(p, cfg->authority[s][i], s, &stale,
					 err) < 0)
				return -1;
			nstale += stale > 0;
		}
	}
	if (any)
		buf_adds(b, "</ul>\n");
	else
		buf_adds(b, "<p>No source is the system of record for the "
			    "states this target publishes: the rule has no "
			    "source to watch.</p>\n");
	if (p->ts == T_HELD) {
		/* what the render recorded at the run's clock */
		buf_adds(b, "<p><strong>Held back</strong> (stale_hold): ");
		html_escs(b, p->rend->detail);
		buf_adds(b, ". Nothing was delivered; the target keeps its "
			    "last delivery.</p>\n");
	}
	else if (nstale)
		buf_addf(b, "<p><strong>An extra %d%% was held back</strong> "
			    "from every row while a source was stale "
			    "(stale_buffer).</p>\n",
			 p->t->stale_buffer_pct);
	else if (any)
		buf_adds(b, "<p>No source was stale: nothing held back.</p>\n");
	return 0;
}

/* The delimiter and quote of a CSV target's outbound mapping (csv:). */
static void outbound_csv(const char *mapping, char *delim, char *quote)
{
	struct ytree *t = NULL;
	struct err e = ERR_INIT;
	const struct ynode *csv;
	const char *v;

	*delim = ',';
	*quote = '"';
	if (!mapping || ytree_load_file(mapping, &t, &e) < 0)
		return;
	if ((csv = ynode_get(t->root, "csv"))) {
		if ((v = ynode_str(csv, "delimiter", NULL)))
			*delim = !strcmp(v, "tab") || !strcmp(v, "\\t") ? '\t'
				 : strlen(v) == 1			 ? v[0]
									 : ',';
		if ((v = ynode_str(csv, "quote", NULL)) && strlen(v) == 1)
			*quote = v[0];
	}
	ytree_free(t);
}

/* The first lines of the published file: CSV as a table (each line split
 * by libcsv; a record over several lines shown as text), anything else
 * as text. */
static int panel_stock(struct tpanel *p, struct err *err)
{
	struct buf *b = p->h->b;
	const char *path = p->rend ? p->rend->output : "";
	const char *dot = strrchr(path, '.');
	char *line = NULL, delim, quote;
	size_t cap = 0;
	int n = 0, csv;
	struct err re = ERR_INIT;
	struct gz_in *g = NULL;
	char msg[1200];
	FILE *f;

	(void)err;
	if (p->ts != T_PUBLISHED)
		return 0;
	buf_addf(b, "<h4>Stock published (first %d lines)</h4>\n",
		 MAX_STOCK_LINES);
	/* the latest delivery is kept compacted (lib/gz.h, gc.c) */
	if (!path[0] || gz_open(&g, path, &re) < 0) {
		buf_adds(b, "<p>The file is no longer in the outbox.</p>\n");
		return 0;
	}
	f = g->f;
	csv = dot && !strcmp(dot, ".csv");
	if (csv)
		outbound_csv(p->t->mapping, &delim, &quote);
	buf_adds(b, csv ? "<table class=\"stock\">\n" : "<pre>");
	while (n < MAX_STOCK_LINES && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (csv) {
			buf_adds(b, n ? "<tr>" : "<tr class=\"h\">");
			if (html_csv_cells(b, line, delim, quote, 0, 0) < 0) {
				buf_adds(b, "<td colspan=\"99\"><code>");
				html_escs(b, line);
				buf_adds(b, "</code></td>");
			}
			buf_adds(b, "</tr>\n");
		} else {
			html_escs(b, line);
			buf_addc(b, '\n');
		}
		n++;
	}
	if (!feof(f))
		buf_adds(b, csv ? "<tr><td colspan=\"99\">...</td></tr>\n"
				: "...\n");
	buf_adds(b, csv ? "</table>\n" : "</pre>\n");
	free(line);
	if (gz_close(g, &re) < 0) {
		/* shown, not fatal: the report is about the delivery */
		err_format(&re, msg, sizeof(msg));
		buf_adds(b, "<p>The outbox copy could not be read to its end: ");
		html_escs(b, msg);
		buf_adds(b, "</p>\n");
	}
	return 0;
}

/* A target's panels, in page order. Each writes its own <h4> with its
 * content, or nothing at all. A new panel is one more row: e.g. the
 * acknowledgments the partner sent back for this delivery (issue 19,
 * item 8) goes after panel_changes. */
typedef int target_panel_fn(struct tpanel *p, struct err *err);
static target_panel_fn *const target_panels[] = {
	panel_outcome, panel_changes, panel_age, panel_stale, panel_stock,
};

int html_targets(struct html_ctx *h, struct err *err)
{
	struct delivs d = {NULL, 0, 0};
	struct tpanel *ps = NULL;
	struct buf *b = h->b;
	size_t i, k;
	int rc = -1;

	if (state_run_deliveries_each(h->st, h->run->run_id, on_delivery, &d,
				      err) < 0) {
		if (err && err->code == E_NONE)
			err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	if (h->cfg->ntargets &&
	    !(ps = calloc(h->cfg->ntargets, sizeof(*ps)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	/* every delivery of a run carries the run's clock */
	h->run_clock = d.n ? d.v[0].at : 0;
	for (i = 0; i < h->cfg->ntargets; i++) {
		ps[i].h = h;
		ps[i].t = &h->cfg->targets[i];
		classify(&ps[i], &d);
	}
	deliveries(h, ps, h->cfg->ntargets);
	buf_adds(b, "<h2 id=\"targets\">Targets</h2>\n");
	if (!h->cfg->ntargets)
		buf_adds(b, "<p>No target is configured.</p>\n");
	for (i = 0; i < h->cfg->ntargets; i++) {
		struct tpanel *p = &ps[i];

		buf_addf(b, "<div class=\"panel%s\"><h3>",
			 p->ts == T_PUBLISHED ? " ok"
			 : p->ts == T_FAILED || p->ts == T_RENDER_FAILED
				 ? " bad"
				 : "");
		html_escs(b, p->t->name);
		buf_addf(b, " &mdash; %s</h3>\n", outcome_text[p->ts]);
		for (k = 0; k < sizeof(target_panels) /
					sizeof(target_panels[0]);
		     k++)
			if (target_panels[k](p, err) < 0)
				goto out;
		buf_adds(b, "</div>\n");
	}
	rc = 0;
out:
	free(ps);
	free(d.v);
	return rc;
}
