/* metrics.c - see metrics.h. */
#include "pipeline/schedule.h"
#include "metrics.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/ytree.h"
#include "pipeline/stages/render.h"
#include "pipeline/store/state_acks.h"
#include "pipeline/store/state_park.h"
#include "transforms/model/dt.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* One file being written: its text and the pipeline label's value. */
struct mw {
	struct buf *b;
	const char *pl;
	/* the oldest stock event of run om_run (oldest_event) */
	int64_t om_run, om_v;
	int om_has;
};

/* state_run_oldest_event, once per run per text: the last run's latency
 * and each target's data_as_of ask it of the same run, and each call is a
 * min over the run's events (about 0.4 s CPU on a 100 MB run). */
static int oldest_event(struct mw *w, struct state *st, int64_t run_id,
			int64_t *v, int *has, struct err *err)
{
	if (w->om_run != run_id) {
		if (state_run_oldest_event(st, run_id, &w->om_v, &w->om_has,
					   err) < 0)
			return -1;
		w->om_run = run_id;
	}
	*v = w->om_v;
	*has = w->om_has;
	return 0;
}

static void head(struct mw *w, const char *name, const char *help)
{
	buf_addf(w->b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{pipeline="..."[,key="v"[,key2="v2"]]} followed by a space: the
 * start of every sample. */
static void series(struct mw *w, const char *name, const char *key,
		   const char *v, const char *key2, const char *v2)
{
	buf_addf(w->b, "%s{pipeline=\"", name);
	label(w->b, w->pl);
	if (key) {
		buf_addf(w->b, "\",%s=\"", key);
		label(w->b, v);
	}
	if (key2) {
		buf_addf(w->b, "\",%s=\"", key2);
		label(w->b, v2);
	}
	buf_adds(w->b, "\"} ");
}

/* One sample with at most one label besides pipeline (key NULL: none). */
static void labelled(struct mw *w, const char *name, const char *key,
		     const char *v, long long n)
{
	series(w, name, key, v, NULL, NULL);
	buf_addf(w->b, "%lld\n", n);
}

static void per_source(struct mw *w, const struct config *cfg,
		       const struct src_sum *sums, const char *name,
		       const char *help, size_t off)
{
	size_t i;

	head(w, name, help);
	for (i = 0; i < cfg->nsources; i++) {
		const int64_t *v =
			(const int64_t *)((const char *)&sums[i] + off);

		labelled(w, name, "source", cfg->sources[i].name,
			 (long long)*v);
	}
}

/* A metric with one value per target, v[t]. */
static void per_target(struct mw *w, const struct config *cfg,
		       const char *name, const char *help, const int64_t *v)
{
	size_t t;

	head(w, name, help);
	for (t = 0; t < cfg->ntargets; t++)
		labelled(w, name, "target", cfg->targets[t].name,
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

/* This invocation's lines, written whatever happened: build info, exit
 * code, write time, and whether the store could be read. */
static void metrics_exit_lines(struct mw *w, const struct metrics_in *in)
{
	head(w, "stockpipe_build_info",
	     "Always 1; the version of the stockpipe binary that wrote this "
	     "file.");
	series(w, "stockpipe_build_info", "version", STOCKPIPE_VERSION, NULL,
	       NULL);
	buf_adds(w->b, "1\n");
	head(w, "stockpipe_last_run_exit_code",
	     "Exit code of the last stockpipe invocation that wrote this file, "
	     "whatever ended it (0 done, 1 rejects or parked units, 64 usage, "
	     "70 internal, 75 retry, 78 config).");
	labelled(w, "stockpipe_last_run_exit_code", NULL, NULL, in->code);
	head(w, "stockpipe_last_run_timestamp_seconds",
	     "When stockpipe last wrote this file (Unix time), at every exit: "
	     "older than the schedule allows means it stopped running.");
	labelled(w, "stockpipe_last_run_timestamp_seconds", NULL, NULL,
		 (long long)in->written);
	head(w, "stockpipe_state_readable",
	     "1 when the current-state series below were read from the store; "
	     "0 when this invocation could not read the config or the store "
	     "(they are left out).");
	labelled(w, "stockpipe_state_readable", NULL, NULL, in->st != NULL);
}

/* The last concluded run's own lines: id, success, last success, failed
 * units. */
static void metrics_run_lines(struct mw *w, const struct report *rep,
			      int64_t last_ok)
{
	head(w, "stockpipe_last_run_id", "Id of the last concluded run.");
	labelled(w, "stockpipe_last_run_id", NULL, NULL,
		 (long long)rep->run_id);
	head(w, "stockpipe_last_run_success",
	     "1 when the last concluded run finished (done), 0 when it "
	     "failed.");
	labelled(w, "stockpipe_last_run_success", NULL, NULL,
		 !strcmp(rep->status, "done"));
	head(w, "stockpipe_last_success_timestamp_seconds",
	     "When the last run that finished done ended (Unix time; 0 = "
	     "never).");
	labelled(w, "stockpipe_last_success_timestamp_seconds", NULL, NULL,
		 (long long)last_ok);
	head(w, "stockpipe_run_failed_units",
	     "Units of the last concluded run that failed.");
	labelled(w, "stockpipe_run_failed_units", NULL, NULL,
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
	 "Documents the last run set aside whole, per source (the "
	 "current state: stockpipe_quarantined_documents).",
	 offsetof(struct src_sum, quarantined)},
	{"stockpipe_run_failed_source_units",
	 "Failed units of the source stages, per source.",
	 offsetof(struct src_sum, failed)},
};

/* The per-target lines of the last run: deliveries, rows rejected and
 * delivery latency (only for targets it delivered, when an oldest event
 * is known). */
static void metrics_target_run_lines(struct mw *w, const struct config *cfg,
				     const struct deliv_ctx *dc,
				     const struct rej_ctx *rj, int found,
				     int64_t oldest)
{
	size_t t;

	per_target(w, cfg, "stockpipe_run_deliveries",
		   "Files delivered by the last run, per target.", dc->count);
	per_target(w, cfg, "stockpipe_run_target_rejects",
		   "Rows left out of the target's snapshot because its format "
		   "cannot carry a value (on_bad_row: reject), per target.",
		   rj->rows);
	head(w, "stockpipe_delivery_latency_seconds",
	     "Delivery time minus the as_of of the oldest stock event the "
	     "run loaded, per target delivered in the last run.");
	for (t = 0; t < cfg->ntargets; t++) {
		if (!dc->count[t] || !found)
			continue;
		labelled(w, "stockpipe_delivery_latency_seconds", "target",
			 cfg->targets[t].name,
			 (long long)(dc->last[t] - oldest));
	}
}

/* Everything about the last concluded run rep (store queries, then the
 * lines). */
static int metrics_last_run(struct mw *w, const struct metrics_in *in,
			    struct err *err)
{
	const struct config *cfg = in->cfg;
	const struct report *rep = in->rep;
	struct src_sum *sums;
	struct sum_ctx sc;
	struct deliv_ctx dc;
	struct rej_ctx rj;
	int64_t last_ok, oldest;
	int found, i, rc = -1;
	size_t k;

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
		if (state_units_each(in->st, rep->run_id, stage_names[i], NULL,
				     on_unit, &sc, err) < 0)
			goto out;
	}
	dc.cfg = cfg;
	if (state_units_each(in->st, rep->run_id, "render", NULL, on_render,
			     &rj, err) < 0 ||
	    state_run_deliveries_each(in->st, rep->run_id, on_delivery, &dc,
				      err) < 0 ||
	    oldest_event(w, in->st, rep->run_id, &oldest, &found, err) < 0 ||
	    state_run_last_done(in->st, &last_ok, err) < 0)
		goto out;
	metrics_run_lines(w, rep, last_ok);
	for (k = 0; k < sizeof(src_metrics) / sizeof(src_metrics[0]); k++)
		per_source(w, cfg, sums, src_metrics[k].name,
			   src_metrics[k].help, src_metrics[k].off);
	head(w, "stockpipe_stage_duration_seconds",
	     "Summed unit durations of each stage in the last run.");
	for (i = 0; i < REPORT_NSTAGES; i++) {
		series(w, "stockpipe_stage_duration_seconds", "stage",
		       stage_names[i], NULL, NULL);
		buf_addf(w->b, "%lld.%03lld\n",
			 (long long)(rep->stage[i].ms / 1000),
			 (long long)(rep->stage[i].ms % 1000));
	}
	metrics_target_run_lines(w, cfg, &dc, &rj, found, oldest);
	rc = 0;
out:
	free(sums);
	free(dc.count);
	free(dc.last);
	free(rj.rows);
	return rc;
}

/* ---- the current state ---------------------------------------------- */

/* Quarantined documents (map units in state quarantined, any run) per
 * source: they stay until released. */
struct quar_ctx {
	const struct config *cfg;
	int64_t *n;          /* per source */
	int64_t other;       /* of sources no longer in the config */
};

static int on_quarantined(void *ud, struct state_unit *u)
{
	struct quar_ctx *q = ud;
	size_t i;

	for (i = 0; i < q->cfg->nsources; i++)
		if (!strcmp(q->cfg->sources[i].name, u->scope)) {
			q->n[i]++;
			return 0;
		}
	q->other++;
	return 0;
}

/* Per-target current-state gauges. get() sets *v for target t; *has = 0
 * leaves t out of that gauge. A feature with its own per-target state
 * (e.g. acknowledgments received back) adds one row to target_gauges,
 * with its own getter; the lines, labels and docs follow the table. */
struct tg_ctx {
	struct state *st;
	const struct config *cfg;
	int64_t now;
	struct mw *w;
};

static int tg_last_delivery(const struct tg_ctx *c, const struct cfg_target *t,
			    int64_t *v, int *has, struct err *err)
{
	*has = 1;
	return state_delivery_last(c->st, t->name, v, err);
}

static int tg_data_as_of(const struct tg_ctx *c, const struct cfg_target *t,
			 int64_t *v, int *has, struct err *err)
{
	struct state_delivery d;
	int found;

	*has = 0;
	if (state_delivery_info(c->st, t->name, &d, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	return oldest_event(c->w, c->st, d.run_id, v, has, err);
}

static int tg_stale(const struct tg_ctx *c, const struct cfg_target *t,
		    int64_t *v, int *has, struct err *err)
{
	char why[512];
	int stale;

	if (render_source_stale(c->st, c->cfg, t, c->now, &stale, why,
				sizeof(why), err) < 0)
		return -1;
	*has = 1;
	*v = stale;
	return 0;
}

static int tg_held(const struct tg_ctx *c, const struct cfg_target *t,
		   int64_t *v, int *has, struct err *err)
{
	/* Without stale_hold nothing is held: the stale-source rule, which
	 * reads the store, is not evaluated a second time for nothing. */
	if (!t->stale_hold) {
		*has = 1;
		*v = 0;
		return 0;
	}
	if (tg_stale(c, t, v, has, err) < 0)
		return -1;
	*v = *v != 0;
	return 0;
}

/* acks_in (stage_ackin.h): every target gets both, 0 when nothing is
 * expected of it, so the alert rules always find their series. */
static int tg_acks(const struct tg_ctx *c, const struct cfg_target *t,
		   int64_t *v, int *has, int which, struct err *err)
{
	int64_t n[2] = {0, 0};

	*has = 1;
	if (t->acks_in_url &&
	    state_acks_counts(c->st, t->name, c->now - t->acks_in_after, &n[0],
			      &n[1], err) < 0)
		return -1;
	*v = n[which];
	return 0;
}

static int tg_ack_overdue(const struct tg_ctx *c, const struct cfg_target *t,
			  int64_t *v, int *has, struct err *err)
{
	return tg_acks(c, t, v, has, 0, err);
}

static int tg_ack_rejected(const struct tg_ctx *c, const struct cfg_target *t,
			   int64_t *v, int *has, struct err *err)
{
	return tg_acks(c, t, v, has, 1, err);
}

static const struct target_gauge {
	const char *name, *help;
	int (*get)(const struct tg_ctx *c, const struct cfg_target *t,
		   int64_t *v, int *has, struct err *err);
} target_gauges[] = {
	{"stockpipe_target_last_delivery_timestamp_seconds",
	 "When the target last received a file (run clock, Unix time; 0 = "
	 "never). An unchanged snapshot is not sent again.",
	 tg_last_delivery},
	{"stockpipe_target_data_as_of_timestamp_seconds",
	 "as_of of the oldest stock event loaded by the run that made the "
	 "target's newest delivery (Unix time): how old the data it holds "
	 "is. Absent before the first delivery, or when that run loaded no "
	 "stock event.",
	 tg_data_as_of},
	{"stockpipe_target_stale_source",
	 "1 when a system-of-record source of the target's states has not "
	 "delivered within its stale_after (the stale-source rule holds the "
	 "target back, or adds stale_buffer), else 0.",
	 tg_stale},
	{"stockpipe_target_held_by_stale_source",
	 "1 when the stale-source rule holds every position of the target "
	 "back (stale_hold: nothing is delivered until the source delivers), "
	 "else 0.",
	 tg_held},
	{"stockpipe_deliveries_unacknowledged_overdue",
	 "Delivered EDI files without an acknowledgment (997, 999, CONTRL) "
	 "after the target's acks_in after time (0 without acks_in). The "
	 "current state.",
	 tg_ack_overdue},
	{"stockpipe_deliveries_ack_rejected",
	 "Delivered EDI files whose latest acknowledgment rejected them (0 "
	 "without acks_in). The current state.",
	 tg_ack_rejected},
	/* per-target rows of later features go here */
};

static int metrics_target_state(struct mw *w, const struct metrics_in *in,
				struct err *err)
{
	const struct tg_ctx c = {in->st, in->cfg, in->now, w};
	size_t g, t;
	int64_t v;
	int has;

	for (g = 0; g < sizeof(target_gauges) / sizeof(target_gauges[0]);
	     g++) {
		head(w, target_gauges[g].name, target_gauges[g].help);
		for (t = 0; t < in->cfg->ntargets; t++) {
			v = 0;
			if (target_gauges[g].get(&c, &in->cfg->targets[t], &v,
						 &has, err) < 0)
				return -1;
			if (has)
				labelled(w, target_gauges[g].name, "target",
					 in->cfg->targets[t].name,
					 (long long)v);
		}
	}
	return 0;
}

/* Parked units, quarantined documents, negative positions, per-target
 * state: what the store holds now. */
static int metrics_state_lines(struct mw *w, const struct metrics_in *in,
			       struct err *err)
{
	struct quar_ctx q = {in->cfg, NULL, 0};
	int64_t neg, parked[5];
	size_t i;
	int rc = -1;

	if (!(q.n = calloc(in->cfg->nsources + 1, sizeof(int64_t))))
		return err_set(err, E_NOMEM, "out of memory");
	if (state_park_counts(in->st, parked, err) < 0 ||
	    state_positions_negative(in->st, &neg, err) < 0 ||
	    state_units_in_state_each(in->st, US_QUARANTINED, "map",
				      on_quarantined, &q, err) < 0)
		goto out;
	head(w, "stockpipe_parked_units",
	     "Failed units of concluded runs not retried yet, by class "
	     "(transient ones are retried by the next run). The current "
	     "state, not the last run's.");
	for (i = EC_TRANSIENT; i <= EC_INTERNAL; i++)
		labelled(w, "stockpipe_parked_units", "class",
			 err_class_name((int)i), (long long)parked[i]);
	head(w, "stockpipe_quarantined_documents",
	     "Documents in quarantine now, per source (any run): each stays "
	     "until `stockpipe quarantine release` and the run that maps it "
	     "again.");
	for (i = 0; i < in->cfg->nsources; i++)
		labelled(w, "stockpipe_quarantined_documents", "source",
			 in->cfg->sources[i].name, (long long)q.n[i]);
	if (q.other)
		labelled(w, "stockpipe_quarantined_documents", "source", "",
			 (long long)q.other);
	head(w, "stockpipe_negative_positions",
	     "Stock positions below zero (published as 0).");
	labelled(w, "stockpipe_negative_positions", NULL, NULL,
		 (long long)neg);
	rc = metrics_target_state(w, in, err);
out:
	free(q.n);
	return rc;
}

int metrics_format(const struct metrics_in *in, struct buf *out,
		   struct err *err)
{
	struct mw w = {out, in->pipeline ? in->pipeline : "stockpipe", -1, 0,
		       0};

	metrics_exit_lines(&w, in);
	if (in->st && in->cfg) {
		if (in->rep && metrics_last_run(&w, in, err) < 0)
			return -1;
		if (metrics_state_lines(&w, in, err) < 0)
			return -1;
	}
	if (out->err)
		return err_set(err, E_TOOBIG, "metrics too large");
	return 0;
}

int metrics_publish(const char *path, const struct metrics_in *in,
		    struct err *err)
{
	struct buf b = BUF_INIT(8 << 20);
	int rc = -1;

	/* io_write_file: tmp + fsync + rename, the folder made if missing */
	if (metrics_format(in, &b, err) == 0)
		rc = io_write_file(path, b.ptr, b.len, NULL, err);
	buf_release(&b);
	return rc;
}

/* ---- the exit hook ---------------------------------------------------- */

/* The commands a scheduler runs, whose every exit the file records. The
 * others (show, runs, check, quarantine, deliver, ...) are for people
 * and leave it alone: an operator's `deliver --dry-run` must not clear a
 * scheduled run's exit 78. */
static const char *const pipeline_cmds[] = {
	"run", "resume", "retry", "rerun", "replay", "plan", "work", NULL};

/* path = dir/rel, or rel when it is absolute; -1 when it does not fit. */
static int join(char *path, size_t n, const char *dir, const char *rel)
{
	int w = rel[0] == '/' ? snprintf(path, n, "%s", rel)
			      : snprintf(path, n, "%s/%s", dir, rel);

	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* The file of a loaded config (see metrics.h). */
static int metrics_path_of(const struct config *cfg, char *path, size_t n)
{
	const char *env = getenv("STOCKPIPE_METRICS_PATH");

	if (env && *env)
		return join(path, n, ".", env);
	if (cfg->metrics_path)
		return join(path, n, ".", cfg->metrics_path);
	return join(path, n, cfg->state_dir, "metrics/stockpipe.prom");
}

/* The pipeline label of a config path: its base name without extension. */
static void default_pipeline(const char *config_path, char *pl, size_t n)
{
	const char *base = strrchr(config_path, '/');
	const char *dot;

	base = base ? base + 1 : config_path;
	dot = strrchr(base, '.');
	snprintf(pl, n, "%.*s",
		 (int)(dot && dot != base ? (size_t)(dot - base)
					  : strlen(base)),
		 base);
}

/* What a config that does not load still says: its top-level pipeline,
 * metrics_path and state_dir when the YAML parses (values it cannot
 * interpolate are not used). */
struct peek {
	const char *pipeline, *metrics_path, *state_dir;
};

static struct ytree *peek_yaml(const char *config_path, struct peek *p)
{
	struct ytree *t = NULL;
	struct err e = ERR_INIT;
	const char *v;

	memset(p, 0, sizeof(*p));
	if (ytree_load_file(config_path, &t, &e) < 0 || !t->root ||
	    t->root->type != Y_MAP ||
	    ytree_interpolate_env(t, t->root, &e) < 0)
		return t;
	v = ynode_str(t->root, "pipeline", NULL);
	if (v && *v && strlen(v) < 128 &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_-") == strlen(v))
		p->pipeline = v;
	p->metrics_path = ynode_str(t->root, "metrics_path", NULL);
	p->state_dir = ynode_str(t->root, "state_dir", NULL);
	return t;
}

/* The file and label when the config could not be loaded; -1 when no
 * path can be named. */
static int metrics_peek(const struct cli_global *g, char *path, size_t n,
			char *pl, size_t pn)
{
	const char *env = getenv("STOCKPIPE_METRICS_PATH");
	const char *sd = getenv("STOCKPIPE_STATE_DIR");
	char dir[PATH_MAX], real[PATH_MAX], sdir[PATH_MAX];
	struct ytree *t;
	struct peek p;
	int rc = -1;

	default_pipeline(g->config_path, pl, pn);
	if (snprintf(dir, sizeof(dir), "%s", g->config_path) >=
	    (int)sizeof(dir))
		return -1;
	if (!strrchr(dir, '/'))
		snprintf(dir, sizeof(dir), ".");
	else if (strrchr(dir, '/') == dir)
		dir[1] = '\0'; /* /stockpipe.yaml */
	else
		*strrchr(dir, '/') = '\0';
	t = peek_yaml(g->config_path, &p);
	if (p.pipeline)
		snprintf(pl, pn, "%s", p.pipeline);
	if (env && *env) {
		rc = join(path, n, ".", env);
		goto out;
	}
	if (!realpath(dir, real))
		goto out; /* no folder to resolve anything against */
	if (p.metrics_path) {
		rc = join(path, n, real, p.metrics_path);
		goto out;
	}
	if (g->state_dir)
		rc = join(sdir, sizeof(sdir), ".", g->state_dir);
	else if (sd && *sd)
		rc = join(sdir, sizeof(sdir), ".", sd);
	else
		rc = join(sdir, sizeof(sdir), real,
			  p.state_dir ? p.state_dir
				      : config_default_state_dir(real));
	if (rc == 0)
		rc = join(path, n, sdir, "metrics/stockpipe.prom");
out:
	ytree_free(t);
	return rc;
}

/* The newest concluded (done or failed) run of the store. */
static int on_run(void *ud, const struct state_run *r)
{
	struct state_run *last = ud;

	if (last->run_id || (strcmp(r->status, "done") &&
			     strcmp(r->status, "failed")))
		return 0;
	*last = *r;
	return 0;
}

/* Opens cfg's store when it exists (a wrong command line creates no
 * state.db) and builds the last concluded run's report into rep. *st
 * stays NULL when there is no store or it cannot be read; *have_rep = 1
 * when rep was built. -1 with err when a store that opened failed a
 * query (the file then says state_readable 0 and the caller warns). */
static int metrics_read_store(const struct config *cfg, struct state **st,
			      struct report *rep, int *have_rep,
			      struct err *err)
{
	struct state_run last;
	struct stat sb;
	char db[4200];

	*st = NULL;
	*have_rep = 0;
	if (!cfg->state_db &&
	    (join(db, sizeof(db), cfg->state_dir, "state.db") < 0 ||
	     stat(db, &sb) < 0))
		return 0;
	if (state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, st, err) < 0) {
		/* the command met the same store and said why */
		*st = NULL;
		err_clear(err);
		return 0;
	}
	memset(&last, 0, sizeof(last));
	if (state_runs_each(*st, 50, on_run, &last, err) < 0 ||
	    (last.run_id && report_build(*st, last.run_id, rep, err) < 0)) {
		state_close(*st);
		*st = NULL;
		return -1;
	}
	if (!last.run_id)
		return 0;
	*have_rep = 1;
	snprintf(rep->status, sizeof(rep->status), "%s", last.status);
	rep->exit_code = last.exit_code;
	return 0;
}

/* Logs why the metrics file is incomplete or not written. */
static void metrics_warn(const char *what, struct err *err)
{
	char msg[1200];

	err_format(err, msg, sizeof(msg));
	log_msg("warn", "stockpipe: metrics %s: %s", what, msg);
	err_clear(err);
}

/* True when the folder path would be written into exists. */
static int folder_exists(const char *path)
{
	char dir[4200];
	struct stat sb;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return 0;
	if (!strrchr(dir, '/'))
		return 1; /* the working folder */
	if (strrchr(dir, '/') == dir)
		dir[1] = '\0';
	else
		*strrchr(dir, '/') = '\0';
	return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int metrics_exit(const struct cli_global *g, int argc, char **argv, int code)
{
	struct metrics_in in;
	struct config *cfg = NULL;
	struct report rep;
	struct err err = ERR_INIT;
	char path[4200], pl[128];
	int have_rep = 0;
	size_t i;

	for (i = 0; argc > 0 && pipeline_cmds[i]; i++)
		if (!strcmp(argv[0], pipeline_cmds[i]))
			break;
	if (argc < 1 || !pipeline_cmds[i] || cli_wants_help(argc, argv))
		return code;
	memset(&in, 0, sizeof(in));
	in.code = code;
	in.now = schedule_clock();
	in.written = (int64_t)time(NULL);
	if (config_load(g->config_path, g->state_dir, &cfg, &err) == 0) {
		if (metrics_path_of(cfg, path, sizeof(path)) < 0) {
			err_set(&err, E_TOOBIG, "metrics path longer than %zu "
				"bytes", sizeof(path) - 1);
			metrics_warn("not written", &err);
			goto out;
		}
		in.cfg = cfg;
		in.pipeline = cfg->pipeline;
		if (metrics_read_store(cfg, &in.st, &rep, &have_rep, &err) < 0)
			metrics_warn("without the current state", &err);
		in.rep = have_rep ? &rep : NULL;
	} else {
		/* the command said why the config is wrong; say it once */
		err_clear(&err);
		if (metrics_peek(g, path, sizeof(path), pl, sizeof(pl)) < 0)
			goto nopath;
		in.pipeline = pl;
	}
	/* the metrics folder is made only where a store lives: a typo in
	 * -c or a wrong command line creates nothing */
	if (!in.st && !folder_exists(path))
		goto out;
	if (metrics_publish(path, &in, &err) < 0)
		metrics_warn("not written", &err);
	goto out;
nopath:
	/* the config is wrong (the command said so) and names no path that
	 * fits, or no folder to resolve one against: nothing to write */
out:
	if (have_rep)
		report_release(&rep);
	state_close(in.st);
	config_free(cfg);
	return code;
}
