/* engine.c - the unit state machine under both schedulers (run.c: one
 * process works a run; work.c: several workers share one); see engine.h. */
#include "engine.h"
#include "gc.h"
#include "run_int.h"
#include "config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "pipeline/report/report.h"
#include "pipeline/stages/render_par.h"
#include "pipeline/stages/render_share.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_park.h"
#include "pipeline/store/state_acks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "transforms/model/dt.h"

static volatile sig_atomic_t stop_requested;

int eng_stopping(void)
{
	return stop_requested != 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void eng_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int64_t eng_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int eng_tx_begin(struct state *st, struct err *err)
{
	return state_begin(st, err);
}

int eng_tx_begin_rows(struct state *st, struct err *err)
{
	return state_begin_rows(st, err);
}

int eng_tx_end(struct state *st, int rc, struct err *err)
{
	if (rc != 0) {
		state_rollback(st);
		return -1;
	}
	/* A failed commit is rolled back by the store itself. */
	return state_commit(st, err);
}

int eng_unit_start(struct run *r, struct state_unit *u, struct err *err)
{
	u->state = US_RUNNING;
	u->attempts++;
	r->worked++;
	u->started_ms = eng_now_ms();
	u->error[0] = '\0';
	/* JSON log lines name the unit until it is done (lib/log.h) */
	log_set_unit(u->stage, u->scope, u->ukey);
	u->retry_requested = 0;
	/* One row of a unit this process holds: no writer lock (db.h). */
	if (eng_tx_begin_rows(r->st, err) < 0)
		return -1;
	return eng_tx_end(r->st, state_unit_save(r->st, u, err), err);
}

/* Saves u's new state in its own transaction when the stage already gave
 * up on it (failed, quarantined, interrupted). The unit's own error is
 * what the run reports; a store that cannot even record it is said
 * beside it, and the next run finds the unit running and redoes it. */
static int unit_save_tx(struct run *r, struct state_unit *u,
			struct err *e)
{
	if (eng_tx_begin_rows(r->st, e) < 0)
		return -1;
	return eng_tx_end(r->st, state_unit_save(r->st, u, e), e);
}

static void unit_save_after(struct run *r, struct state_unit *u)
{
	struct err e = ERR_INIT;
	char msg[1200];

	if (unit_save_tx(r, u, &e) == 0)
		return;
	err_format(&e, msg, sizeof(msg));
	log_err("error", &e, "stockpipe: %s %s '%s': its state not recorded: %s",
		u->stage, u->scope, u->ukey, msg);
}

/* failed or quarantined: the one place a stage gives up on a unit. */
static int unit_stop(struct run *r, struct state_unit *u,
		     const struct err *e, int quarantine)
{
	char msg[1100];

	err_format(e, msg, sizeof(msg));
	/* error is for the operator; err_format's text is at most 1100 */
	str_copy_cut(u->error, sizeof(u->error), msg);
	u->state = quarantine ? US_QUARANTINED : US_FAILED;
	u->err_class = quarantine ? EC_NONE : err_class(e);
	u->finished_ms = eng_now_ms();
	if (!quarantine)
		r->last = *e;
	log_err(quarantine ? "warn" : "error", e, "stockpipe: %s %s '%s': %s",
		u->stage, u->scope, u->ukey, msg);
	unit_save_after(r, u);
	log_set_unit(NULL, NULL, NULL);
	return 0;
}

int eng_unit_fail(struct run *r, struct state_unit *u, const struct err *e)
{
	return unit_stop(r, u, e, 0);
}

int eng_unit_quarantine(struct run *r, struct state_unit *u,
			const struct err *why)
{
	return unit_stop(r, u, why, 1);
}

int eng_unit_interrupted(struct run *r, struct state_unit *u)
{
	u->state = US_PENDING;
	u->error[0] = '\0';
	r->interrupted = 1;
	unit_save_after(r, u);
	return 1;
}

/* Saves u and adds (or makes pending again) its successor next. */
static int unit_chain(struct run *r, struct state_unit *u,
		      struct state_unit *next, struct err *err)
{
	int keep_state;

	if (state_unit_save(r->st, u, err) < 0)
		return -1;
	if (!next)
		return 0;
	keep_state = next->state;
	if (state_unit_add(r->st, next, err) < 0)
		return -1;
	/* The successor may exist from an earlier attempt or a rerun: point
	 * it at the new input and make it pending again. */
	next->state = keep_state;
	next->error[0] = '\0';
	return state_unit_save(r->st, next, err);
}

int eng_unit_finish_with(struct run *r, struct state_unit *u,
			 struct state_unit *next,
			 int (*also)(void *ud, struct err *err), void *ud,
			 struct err *err)
{
	u->state = US_DONE;
	u->finished_ms = eng_now_ms();
	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	return eng_tx_end(r->st,
			  (also && also(ud, err) < 0) ||
				  unit_chain(r, u, next, err) < 0
				  ? -1
				  : 0,
			  err);
}

int eng_unit_finish(struct run *r, struct state_unit *u,
		    struct state_unit *next, struct err *err)
{
	return eng_unit_finish_with(r, u, next, NULL, NULL, err);
}

int eng_unit_commit(struct run *r, struct state_unit *u, int again,
		    struct err *err)
{
	struct err e = ERR_INIT;
	char msg[1200];
	if (eng_tx_end(r->st, 0, err) < 0)
		return -1;
	if (!again)
		return 0;
	u->finished_ms = eng_now_ms();
	/* not unit_save_after: the unit is done and recorded, only its
	 * duration stays short when this save fails, and the log says so */
	if (unit_save_tx(r, u, &e) == 0)
		return 0;
	err_format(&e, msg, sizeof(msg));
	log_err("warn", &e, "stockpipe: %s %s '%s': done, but its finish time "
			    "after the commit not recorded (its duration leaves "
			    "the commit out): %s",
		u->stage, u->scope, u->ukey, msg);
	return 0;
}

int eng_field(char *dst, size_t n, const char *src, const char *what,
	      struct err *err)
{
	if (str_copy(dst, n, src) == 0)
		return 0;
	return err_set(err, E_TOOBIG,
		       "%s too long (%zu bytes, at most %zu): "
		       "'%.80s...'",
		       what, strlen(src), n - 1, src);
}

void eng_unit_init(struct state_unit *u, const struct run *r, int stage,
		      const char *scope, const char *ukey)
{
	memset(u, 0, sizeof(*u));
	u->run_id = r->run_id;
	/* Cut only in theory: stage names are short, config.c keeps source
	 * and target names under sizeof(scope), and every ukey is a file
	 * name (<= 255), a key built in a char[512] or another unit's. */
	str_copy_cut(u->stage, sizeof(u->stage), run_stage_names[stage]);
	str_copy_cut(u->scope, sizeof(u->scope), scope);
	str_copy_cut(u->ukey, sizeof(u->ukey), ukey);
	u->state = US_PENDING;
}

/* The last stage this invocation runs (--until; default deliver). */
int eng_until_stage(const struct run *r)
{
	int s = r->o->until_stage ? run_stage_index(r->o->until_stage) : -1;

	return s < 0 ? ST_DELIVER : s;
}

/* Waits ms milliseconds in short slices, so that SIGTERM/SIGINT end the
 * wait at once (the caller then stops at its next safe point). */
void eng_backoff_wait(int64_t ms)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	for (; ms > 0 && !stop_requested; ms -= 100)
		nanosleep(&ts, NULL);
}

/* The next wait before retry number k (1-based): retry_backoff, twice
 * that, ... at most 10 minutes. */
int64_t eng_backoff_ms(const struct run *r, int k)
{
	int64_t ms = r->cfg->retry_backoff * 1000;

	while (--k > 0 && ms < 600000)
		ms *= 2;
	return ms < 600000 ? ms : 600000;
}

/* Counts u's final outcome in this invocation: a unit left failed after
 * its retries is parked and its error may become the run's exit code. */
void eng_unit_outcome(struct run *r, const struct state_unit *u,
			 int was)
{
	if (u->state == US_FAILED) {
		r->failed_units++;
		if (r->first.code == E_NONE)
			r->first = r->last;
	} else if (u->state != was &&
		   (u->state == US_DONE || u->state == US_SKIPPED ||
		    u->state == US_QUARANTINED) &&
		   (strcmp(u->stage, "render") || u->output_path[0])) {
		/* A render that found nothing to send (unchanged, held)
		 * moved nothing. */
		int st = run_stage_index(u->stage);

		r->advanced++;
		if (st >= 0)
			r->advanced_in[st]++;
	}
}

/* A run invocation limited to part of the work (per-stage scheduler
 * tasks): it does not finish the run. */
int eng_partial(const struct run *r)
{
	const struct run_opts *o = r->o;

	return o->mode == RUN_NEW &&
	       (o->only_source || o->only_target || eng_until_stage(r) < ST_DELIVER);
}

int eng_fail(const struct err *err)
{
	char msg[1200];
	int code;

	err_format(err, msg, sizeof(msg));
	log_err("error", err, "stockpipe: %s", msg);
	code = err_exit_code(err);
	/* The run did not get to do its work: never "done". */
	return code == EXIT_REJECTS || code == EXIT_DONE ? EXIT_INTERNAL
							 : code;
}

/* The report first, then the run's final state (rep->status,
 * rep->exit_code): a crash in between leaves the run unfinished, and its
 * resume writes the report again under the same name, so no half-done run
 * ever lacks one. */
static int conclude_write(struct run *r, int64_t run_id, const struct report *rep,
		      struct err *err)
{
	char iso[DT_ISO_LEN];

	if (report_write(rep, r->cfg->state_dir, err) < 0 ||
	    eng_tx_begin(r->st, err) < 0)
		return -1;
	return eng_tx_end(r->st,
			  state_run_finish(r->st, run_id, rep->status,
					   rep->exit_code, run_now_iso(iso),
					   err),
			  err);
}

/* Retention: a concluded run removes the files of old runs and
 * compresses what it keeps (gc.h). Housekeeping, like the metrics: a
 * failure is shown, the run's data work stands, and the next run (or
 * `stockpipe gc`) goes on from what is left. */
static void conclude_gc(struct run *r, struct err *err)
{
	struct gc_stats gs;

	if (gc_collect(r->st, r->cfg, 0, 0, r->now, &gs, err) < 0) {
		char msg[1200];

		err_format(err, msg, sizeof(msg));
		log_err("warn", err, "stockpipe: gc: %s", msg);
		err_clear(err);
		return;
	}
	if (gs.runs)
		run_say(r, "gc: removed the files of %lld old run%s (%lld "
			   "files, %lld bytes)", (long long)gs.runs,
			gs.runs == 1 ? "" : "s", (long long)gs.files,
			(long long)gs.bytes);
	if (gs.compacted)
		run_say(r, "gc: compressed %lld file%s of kept runs (%lld "
			   "bytes saved)", (long long)gs.compacted,
			gs.compacted == 1 ? "" : "s", (long long)gs.saved);
	if (gs.events)
		run_say(r, "gc: folded %lld stock event%s into newer "
			   "snapshots (%lld bytes of the store given back)",
			(long long)gs.events, gs.events == 1 ? "" : "s",
			(long long)gs.freed);
}

int eng_conclude(struct run *r, struct err *err)
{
	const struct cli_global *g = r->g;
	struct report rep;
	int code;

	int64_t parked = r->failed_units, advanced = r->advanced, bad_acks;
	int s, st;

	/* A long-lived worker frees the run's shared positions copy now,
	 * not at the next run's first render; renders ahead that no unit
	 * took (an interrupted run) go first. */
	render_par_end();
	render_share_drop();

	/* A scheduler task that stops after a stage (run --source S --until
	 * map) answers for that stage: its map units, not the unpack it did
	 * on the way. */
	if (eng_partial(r) && r->o->until_stage)
		advanced = r->advanced_in[eng_until_stage(r)];
	if (r->interrupted) {
		err_set(&r->first, E_INTERRUPT,
			"stopped by a signal at a safe point; the next "
			"'stockpipe run' (or 'resume') finishes it");
		log_msg("warn", "stockpipe: %s", r->first.reason);
	}
	if (state_acks_unreadable(r->st, r->run_id, &bad_acks, err) < 0 ||
	    report_build(r->st, r->run_id, &rep, err) < 0)
		return -1;
	/* What the run finished, by whichever invocation or worker (a
	 * resumed run, workers); renders count through their deliveries. A
	 * scheduler's task answers for its own part only. */
	for (s = 0; s < REPORT_NSTAGES && !eng_partial(r); s++)
		for (st = US_DONE; st <= US_QUARANTINED; st++)
			if (st != US_FAILED && s != ST_RENDER)
				advanced += rep.stage[s].units[st];
	if (r->o->mode == RUN_WORK && rep.failed > parked) {
		/* Workers finish a run whose failures other workers saw: the
		 * store, not this process, knows them. */
		parked = rep.failed;
		if (r->first.code == E_NONE)
			err_set(&r->first, E_BUSY,
				"%lld unit%s of run %lld failed; see "
				"'stockpipe show %lld'",
				(long long)rep.failed,
				rep.failed == 1 ? "" : "s",
				(long long)r->run_id, (long long)r->run_id);
	}
	if (r->interrupted || r->held) {
		/* Stopped early, or a scheduler task whose sources are not
		 * done: the same run goes on later. */
		code = EXIT_TEMPFAIL;
	} else if (parked) {
		/* The run concludes: what failed is parked (retried by later
		 * runs, see state_park.h) and the rest was done. Only a run
		 * that could not advance at all says why with 75/78/70. */
		code = advanced ? EXIT_REJECTS
				: err_class_exit_code(err_class(&r->first));
		if (code == EXIT_DONE)
			code = EXIT_INTERNAL;
	} else if (eng_partial(r)) {
		/* A scheduler task: rejects are reported by the task that
		 * finishes the run; "nothing to do" is about this task. */
		code = !r->worked && g->skip_exit_code ? g->skip_exit_code
						      : EXIT_DONE;
	} else if (rep.rejects || rep.quarantined || bad_acks) {
		code = EXIT_REJECTS;
	} else if (rep.nothing_to_do && g->skip_exit_code) {
		code = g->skip_exit_code;
	} else {
		code = EXIT_DONE;
	}
	rep.exit_code = code;
	snprintf(rep.status, sizeof(rep.status), "%s",
		 r->interrupted		  ? "interrupted"
		 : eng_partial(r)	  ? "partial"
		 : parked && !advanced	  ? "failed"
					  : "done");
	if (parked && !r->interrupted && !r->held)
		run_say(r, "%lld unit%s parked (see 'stockpipe show %lld'); later "
		       "runs retry transient failures, 'stockpipe retry' the "
		       "rest",
		    (long long)parked, parked == 1 ? "" : "s",
		    (long long)r->run_id);
	if (conclude_write(r, r->run_id, &rep, err) < 0) {
		report_release(&rep);
		return -1;
	}
	if (r->cfg->retention.on && !r->interrupted && !r->held &&
	    !eng_partial(r))
		conclude_gc(r, err);
	/* The metrics file is written at the process's exit, with its
	 * exit code (metrics_exit, called by main). */
	if (!g->quiet) {
		if (log_get_format() == LOG_JSON) {
			struct buf j = BUF_INIT(16 << 20);

			if (report_json(&rep, &j) == 0)
				log_json_event("info", "report", "report",
					       j.ptr, j.len);
			buf_release(&j);
		} else {
			report_print(&rep, stderr);
		}
	}
	report_release(&rep);
	return code;
}

static int count_unit(void *ud, const struct state_unit *u)
{
	(void)u;
	(*(int64_t *)ud)++;
	return 0;
}

/* After its parked units were retried by a later run: run_id's report
 * and exit code again (1 while some are still parked, else what its
 * rejects and quarantines say). Its status becomes done. */
int eng_reconclude(struct run *r, int64_t run_id, struct err *err)
{
	struct report rep;
	struct state_run sr;
	int64_t parked = 0;
	int code;

	if (state_run_get(r->st, run_id, &sr, err) < 0 ||
	    state_park_each(r->st, run_id, count_unit, &parked, err) < 0 ||
	    report_build(r->st, run_id, &rep, err) < 0)
		return -1;
	code = parked || rep.rejects || rep.quarantined ? EXIT_REJECTS
							: EXIT_DONE;
	rep.exit_code = code;
	snprintf(rep.status, sizeof(rep.status), "done");
	if (conclude_write(r, run_id, &rep, err) < 0) {
		report_release(&rep);
		return -1;
	}
	run_say(r, "run %lld: %s", (long long)run_id,
	    parked ? "some units are still parked" : "no unit parked any more");
	report_release(&rep);
	return 0;
}

/* Exit codes of two runs one invocation concluded: the graver one (70,
 * 78, 75, 1, 0 in that order; a skip code only when both skipped). */
int eng_code_combine(int a, int b)
{
	static const int order[] = {EXIT_INTERNAL, EXIT_CONFIG, EXIT_TEMPFAIL,
				    EXIT_USAGE, EXIT_REJECTS, EXIT_DONE};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a;
}

void eng_reset(struct run *r)
{
	struct err none = ERR_INIT;

	r->failed_units = 0;
	r->first = none;
	r->last = none;
	r->interrupted = 0;
	r->held = 0;
	r->worked = 0;
	r->advanced = 0;
	memset(r->advanced_in, 0, sizeof(r->advanced_in));
}

int eng_run_create(struct run *r, struct err *err)
{
	char iso[DT_ISO_LEN];

	/* clock_s: retention's age is measured on the run's own clock, the
	 * one its file names and schedules use (gc.h). */
	if (state_run_create(r->st, run_now_iso(iso), r->cfg->sha256,
			     &r->run_id, err) < 0)
		return -1;
	return state_run_set_clock(r->st, r->run_id, r->now, err);
}

int eng_run_new(struct run *r, struct err *err)
{
	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	return eng_tx_end(r->st, eng_run_create(r, err), err);
}

int eng_unit_call(void *ud, struct state_unit *u)
{
	struct eng_call *c = ud;
	struct run *r = c->r;
	int was = u->state, rc, k;

	if (c->parked_only && u->state == US_FAILED &&
	    !state_park_retry_due(u))
		return 0;
	log_set_unit(u->stage, u->scope, u->ukey);
	for (k = 0;; k++) {
		rc = c->fn(c->ud, u);
		if (rc != 0 || u->state != US_FAILED ||
		    u->err_class != EC_TRANSIENT || k >= r->cfg->retries ||
		    stop_requested)
			break;
		run_say(r, "  %s %s '%s': transient failure; retry %d of %d in "
		       "%llds",
		    u->stage, u->scope, u->ukey, k + 1, r->cfg->retries,
		    (long long)(eng_backoff_ms(r, k + 1) / 1000));
		eng_backoff_wait(eng_backoff_ms(r, k + 1));
		if (stop_requested)
			break;
	}
	if (rc == 0)
		eng_unit_outcome(r, u, was);
	log_set_unit(NULL, NULL, NULL);
	return rc < 0 ? -1 : rc;
}
