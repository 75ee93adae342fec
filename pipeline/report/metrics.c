/* metrics.c - see metrics.h. */
#include "metrics.h"
#include "ack_view.h"
#include "lib/io.h"
#include "pipeline/store/state_park.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const stage_names[REPORT_NSTAGES] = {
	"fetch", "unpack", "map", "load", "render", "deliver"};

/* Per-source sums over the run's units. */
struct src_sum {
	int64_t files, records_in, records_out, loaded, rejects, dupes, stale,
		quarantined, failed, held, converted;
};

struct sum_ctx {
	const struct config *cfg;
	struct src_sum *sums;
	int stage;
};

static int on_unit(void *ud, struct state_unit *u)
{
	struct sum_ctx *c = ud;
	struct src_sum *s = NULL;
	size_t i;

	for (i = 0; i < c->cfg->nsources; i++)
		if (!strcmp(c->cfg->sources[i].name, u->scope))
			s = &c->sums[i];
	if (!s)
		return 0; /* a target, or a source removed from the config */
	if (u->state == US_FAILED)
		s->failed++;
	switch (c->stage) {
	case 0:
		if (u->state == US_DONE)
			s->files++;
		s->dupes += u->dupes; /* same content under a new name */
		break;
	case 2:
		s->records_in += u->records_in;
		s->records_out += u->records_out;
		s->rejects += u->rejects;
		if (u->state == US_QUARANTINED)
			s->quarantined++;
		break;
	case 3:
		s->loaded += u->records_out;
		s->dupes += u->dupes;
		s->stale += u->stale;
		s->held += u->held;
		s->converted += u->converted;
		s->rejects += u->rejects; /* on_stale: reject */
		break;
	}
	return 0;
}

/* A label value as the exposition format wants it. */
static void label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_addc(b, '\\');
		if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *v);
	}
}

static void head(struct buf *b, const char *name, const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* One line of a labelled metric: name{key="v"} n. */
static void labelled(struct buf *b, const char *name, const char *key,
		     const char *v, long long n)
{
	buf_addf(b, "%s{%s=\"", name, key);
	label(b, v);
	buf_addf(b, "\"} %lld\n", n);
}

static void per_source(struct buf *b, const struct config *cfg,
		       const struct src_sum *sums, const char *name,
		       const char *help, size_t off)
{
	size_t i;

	head(b, name, help);
	for (i = 0; i < cfg->nsources; i++) {
		const int64_t *v =
			(const int64_t *)((const char *)&sums[i] + off);

		labelled(b, name, "source", cfg->sources[i].name,
			 (long long)*v);
	}
}

/* A metric with one value per target, v[t]. */
static void per_target(struct buf *b, const struct config *cfg,
		       const char *name, const char *help, const int64_t *v)
{
	size_t t;

	head(b, name, help);
	for (t = 0; t < cfg->ntargets; t++)
		labelled(b, name, "target", cfg->targets[t].name,
			 (long long)v[t]);
}

struct deliv_ctx {
	struct buf *lat, *cnt;
	const struct config *cfg;
	int64_t oldest;
	int have_oldest;
	int64_t *count;  /* per target */
	int64_t *last;   /* per target: newest delivered_at of the run */
};

static int on_delivery(void *ud, const char *target, const char *file,
		       int64_t at)
{
	struct deliv_ctx *d = ud;
	size_t i;

	(void)file;
	for (i = 0; i < d->cfg->ntargets; i++)
		if (!strcmp(d->cfg->targets[i].name, target)) {
			d->count[i]++;
			if (at > d->last[i])
				d->last[i] = at;
		}
	return 0;
}

/* Rows the run's renders left out of each target (on_bad_row: reject). */
struct rej_ctx {
	const struct config *cfg;
	int64_t *rows;   /* per target */
};

static int on_render(void *ud, struct state_unit *u)
{
	struct rej_ctx *r = ud;
	size_t i;

	for (i = 0; i < r->cfg->ntargets; i++)
		if (!strcmp(r->cfg->targets[i].name, u->scope))
			r->rows[i] += u->rejects;
	return 0;
}

/* Writes the last run's own lines: id, exit code, success, times and
 * failed units. */
static void metrics_run_lines(struct buf *b, const struct report *rep,
			      int64_t last_ok)
{
	head(b, "stockpipe_last_run_id", "Id of the last run.");
	buf_addf(b, "stockpipe_last_run_id %lld\n", (long long)rep->run_id);
	head(b, "stockpipe_last_run_exit_code",
	     "Exit code of the last run (0 done, 1 rejects, 75 retry, 78 "
	     "config).");
	buf_addf(b, "stockpipe_last_run_exit_code %d\n", rep->exit_code);
	head(b, "stockpipe_last_run_success",
	     "1 when the last run finished (done), 0 when it failed or is "
	     "partial.");
	buf_addf(b, "stockpipe_last_run_success %d\n",
		 !strcmp(rep->status, "done"));
	head(b, "stockpipe_last_run_timestamp_seconds",
	     "When the last run wrote these metrics (Unix time).");
	buf_addf(b, "stockpipe_last_run_timestamp_seconds %lld\n",
		 (long long)time(NULL));
	head(b, "stockpipe_last_success_timestamp_seconds",
	     "When the last run that finished done ended (Unix time; 0 = "
	     "never).");
	buf_addf(b, "stockpipe_last_success_timestamp_seconds %lld\n",
		 (long long)last_ok);
	head(b, "stockpipe_run_failed_units", "Units of the last run that "
					      "failed.");
	buf_addf(b, "stockpipe_run_failed_units %lld\n",
		 (long long)rep->failed);
}

/* The per-source counters: name, help, the field of struct src_sum. */
static const struct {
	const char *name, *help;
	size_t off;
} src_metrics[] = {
	{"stockpipe_run_files_fetched",
	 "Files fetched by the last run, per source.",
	 offsetof(struct src_sum, files)},
	{"stockpipe_run_records_in",
	 "Input records read by the map stage, per source.",
	 offsetof(struct src_sum, records_in)},
	{"stockpipe_run_records_out",
	 "Canonical records produced by the map stage, per source.",
	 offsetof(struct src_sum, records_out)},
	{"stockpipe_run_records_loaded",
	 "Records that changed the state store, per source.",
	 offsetof(struct src_sum, loaded)},
	{"stockpipe_run_rejects", "Rejected input records, per source.",
	 offsetof(struct src_sum, rejects)},
	{"stockpipe_run_duplicates_skipped",
	 "Records (txn_id seen before) and files (same content) "
	 "skipped as duplicates, per source.",
	 offsetof(struct src_sum, dupes)},
	{"stockpipe_run_stale_skipped",
	 "Records not applied as stale (older than the position's "
	 "snapshot or the stored row), per source.",
	 offsetof(struct src_sum, stale)},
	{"stockpipe_run_held_records",
	 "Stock records held, not applied: the source is not the "
	 "system of record for their state, per source.",
	 offsetof(struct src_sum, held)},
	{"stockpipe_run_converted_records",
	 "Records converted to the item's unit of measure, per "
	 "source.",
	 offsetof(struct src_sum, converted)},
	{"stockpipe_run_quarantined_documents",
	 "Documents set aside whole, per source.",
	 offsetof(struct src_sum, quarantined)},
	{"stockpipe_run_failed_source_units",
	 "Failed units of the source stages, per source.",
	 offsetof(struct src_sum, failed)},
};

/* Writes the per-source counters of the last run from sums. */
static void metrics_source_lines(struct buf *b, const struct config *cfg,
				 const struct src_sum *sums)
{
	size_t i;

	for (i = 0; i < sizeof(src_metrics) / sizeof(src_metrics[0]); i++)
		per_source(b, cfg, sums, src_metrics[i].name,
			   src_metrics[i].help, src_metrics[i].off);
}

/* Writes the per-target lines: deliveries, rows rejected and delivery
 * latency (only for targets delivered when an oldest event is known). */
static void metrics_target_lines(struct buf *b, const struct config *cfg,
				 const struct deliv_ctx *dc,
				 const struct rej_ctx *rj, int found,
				 int64_t oldest)
{
	size_t t;

	per_target(b, cfg, "stockpipe_run_deliveries",
		   "Files delivered by the last run, per target.", dc->count);
	per_target(b, cfg, "stockpipe_run_target_rejects",
		   "Rows left out of the target's snapshot because its format "
		   "cannot carry a value (on_bad_row: reject), per target.",
		   rj->rows);
	head(b, "stockpipe_delivery_latency_seconds",
	     "Delivery time minus the as_of of the oldest stock event the "
	     "run loaded, per target delivered in the last run.");
	for (t = 0; t < cfg->ntargets; t++) {
		if (!dc->count[t] || !found)
			continue;
		labelled(b, "stockpipe_delivery_latency_seconds", "target",
			 cfg->targets[t].name,
			 (long long)(dc->last[t] - oldest));
	}
}

int metrics_format(struct state *st, const struct config *cfg,
		   const struct report *rep, struct buf *b, struct err *err)
{
	struct src_sum *sums;
	struct sum_ctx sc;
	struct deliv_ctx dc;
	struct rej_ctx rj;
	int64_t last_ok, neg, oldest, parked[5];
	int found, i, rc = -1;

	sums = calloc(cfg->nsources + 1, sizeof(*sums));
	dc.count = calloc(cfg->ntargets + 1, sizeof(int64_t));
	dc.last = calloc(cfg->ntargets + 1, sizeof(int64_t));
	rj.cfg = cfg;
	rj.rows = calloc(cfg->ntargets + 1, sizeof(int64_t));
	if (!sums || !dc.count || !dc.last || !rj.rows) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	sc.cfg = cfg;
	sc.sums = sums;
	for (i = 0; i <= 3; i++) {
		sc.stage = i;
		if (state_units_each(st, rep->run_id, stage_names[i], NULL,
				     on_unit, &sc, err) < 0)
			goto out;
	}
	dc.cfg = cfg;
	if (state_units_each(st, rep->run_id, "render", NULL, on_render, &rj,
			     err) < 0 ||
	    state_run_deliveries_each(st, rep->run_id, on_delivery, &dc,
				      err) < 0 ||
	    state_run_oldest_event(st, rep->run_id, &oldest, &found, err) < 0 ||
	    state_positions_negative(st, &neg, err) < 0 ||
	    state_run_last_done(st, &last_ok, err) < 0 ||
	    state_park_counts(st, parked, err) < 0)
		goto out;

	metrics_run_lines(b, rep, last_ok);

	metrics_source_lines(b, cfg, sums);

	head(b, "stockpipe_stage_duration_seconds",
	     "Summed unit durations of each stage in the last run.");
	for (i = 0; i < REPORT_NSTAGES; i++)
		buf_addf(b, "stockpipe_stage_duration_seconds{stage=\"%s\"} "
			    "%lld.%03lld\n",
			 stage_names[i], (long long)(rep->stage[i].ms / 1000),
			 (long long)(rep->stage[i].ms % 1000));
	metrics_target_lines(b, cfg, &dc, &rj, found, oldest);
	head(b, "stockpipe_parked_units",
	     "Failed units of concluded runs not retried yet, by class "
	     "(transient ones are retried by the next run). The current "
	     "state, not the last run's.");
	for (i = EC_TRANSIENT; i <= EC_INTERNAL; i++)
		buf_addf(b, "stockpipe_parked_units{class=\"%s\"} %lld\n",
			 err_class_name(i), (long long)parked[i]);
	head(b, "stockpipe_negative_positions",
	     "Stock positions below zero (published as 0).");
	buf_addf(b, "stockpipe_negative_positions %lld\n", (long long)neg);
	if (ack_view_metrics_lines(b, st, cfg, err) < 0) /* stage_ackin.h */
		goto out;
	if (b->err) {
		err_set(err, E_TOOBIG, "metrics too large");
		goto out;
	}
	rc = 0;
out:
	free(sums);
	free(dc.count);
	free(dc.last);
	free(rj.rows);
	return rc;
}

int metrics_write(struct state *st, const struct config *cfg,
		  const struct report *rep, int64_t now, struct err *err)
{
	struct buf b = BUF_INIT(8 << 20);
	char path[4200];
	int rc;

	(void)now;
	if (metrics_format(st, cfg, rep, &b, err) < 0) {
		buf_release(&b);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/metrics/stockpipe.prom",
		 cfg->state_dir);
	rc = io_write_file(path, b.ptr, b.len, NULL, err);
	buf_release(&b);
	return rc;
}
