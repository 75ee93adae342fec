/* run.c - the stage engine; see run.h for the crash-safety rules. */
#include "run.h"
#include "pipeline/stages/load_uom.h"
#include "run_int.h"
#include "config.h"
#include "lib/io.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "pipeline/report/metrics.h"
#include "pipeline/stages/render.h"
#include "pipeline/report/report.h"
#include "schedule.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_arrival.h"
#include "pipeline/store/state_ic.h"
#include "pipeline/store/state_park.h"
#include "pipeline/store/state_work.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "transforms/model/dt.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"
#include "transforms/formats/unpack.h"

const char *const run_stage_names[] = {"fetch",  "unpack", "map",
				      "load",   "render", "deliver"};
static volatile sig_atomic_t stop_requested;

int run_stopping(void)
{
	return stop_requested != 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int run_stage_mask(const char *list, unsigned *mask)
{
	char name[16];
	const char *p = list;
	int i;

	*mask = 0;
	if (!*list)
		return -1;
	while (*p) {
		size_t w = strcspn(p, ",");

		if (w == 0 || w >= sizeof(name))
			return -1;
		snprintf(name, sizeof(name), "%.*s", (int)w, p);
		if ((i = run_stage_index(name)) < 0)
			return -1;
		*mask |= 1u << i;
		p += w + (p[w] == ',');
	}
	return 0;
}

int run_stage_index(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(run_stage_names) / sizeof(run_stage_names[0]); i++)
		if (!strcmp(run_stage_names[i], name))
			return (int)i;
	return -1;
}

int64_t run_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int64_t run_clock(void)
{
	const char *s = getenv("STOCKPIPE_NOW");
	int64_t t;

	/* Tests pin the clock so file names and schedules are repeatable. */
	if (s && *s && dt_parse_iso(s, strlen(s), &t) == 0)
		return t;
	return (int64_t)time(NULL);
}

void run_say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->g->quiet)
		return;
	va_start(ap, fmt);
	log_vmsg("info", fmt, ap);
	va_end(ap);
}

/* Formats an informational note (unit detail); a note that does not fit
 * ends in "..." so a reader knows it was cut. */
void run_notef(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	if (w >= 0 && (size_t)w >= n && n > 4)
		memcpy(dst + n - 4, "...", 4);
}

void run_path_in(const struct run *r, char *out, size_t n, const char *area,
		    const char *scope, const char *name)
{
	snprintf(out, n, "%s/%s/%s/%s", r->cfg->state_dir, area, scope, name);
}

/* Marks u running and counts the attempt, in its own transaction, so that
 * `runs`/`show` tell which unit a dead process was working on. */
int run_unit_begin(struct run *r, struct state_unit *u, struct err *err)
{
	u->state = US_RUNNING;
	u->attempts++;
	r->worked++;
	u->started_ms = run_now_ms();
	u->error[0] = '\0';
	u->retry_requested = 0;
	if (state_begin(r->st, err) < 0)
		return -1;
	if (state_unit_save(r->st, u, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	return state_commit(r->st, err);
}

/* Records a unit failure with its class (err_class); the run goes on
 * with other scopes. Whether it stays failed (parked) is decided by
 * unit_call after its retries. */
int run_unit_fail(struct run *r, struct state_unit *u,
		     const struct err *e, int quarantine)
{
	struct err ignore = ERR_INIT;
	char msg[1100];

	err_format(e, msg, sizeof(msg));
	str_copy(u->error, sizeof(u->error), msg);
	u->state = quarantine ? US_QUARANTINED : US_FAILED;
	u->err_class = quarantine ? EC_NONE : err_class(e);
	u->finished_ms = run_now_ms();
	if (!quarantine)
		r->last = *e;
	log_msg(quarantine ? "warn" : "error", "stockpipe: %s %s '%s': %s",
		u->stage, u->scope, u->ukey, msg);
	if (state_begin(r->st, &ignore) == 0) {
		if (state_unit_save(r->st, u, &ignore) == 0)
			state_commit(r->st, &ignore);
		else
			state_rollback(r->st);
	}
	return quarantine ? 0 : -1;
}

/* A signal stopped u halfway: nothing of it was published, so it goes
 * back to pending and the resumed run redoes it from the start. */
int run_unit_interrupted(struct run *r, struct state_unit *u)
{
	struct err ignore = ERR_INIT;

	u->state = US_PENDING;
	u->error[0] = '\0';
	r->interrupted = 1;
	if (state_begin(r->st, &ignore) == 0) {
		if (state_unit_save(r->st, u, &ignore) == 0)
			state_commit(r->st, &ignore);
		else
			state_rollback(r->st);
	}
	return 1;
}

/* Marks u done and creates its successor (next may be NULL) in one
 * transaction. */
int run_unit_done(struct run *r, struct state_unit *u,
		     struct state_unit *next, struct err *err)
{
	u->state = US_DONE;
	u->finished_ms = run_now_ms();
	if (state_begin(r->st, err) < 0)
		return -1;
	if (state_unit_save(r->st, u, err) < 0)
		goto fail;
	if (next) {
		int keep_state = next->state;

		if (state_unit_add(r->st, next, err) < 0)
			goto fail;
		/* The successor may exist from an earlier attempt or a rerun:
		 * point it at the new input and make it pending again. */
		next->state = keep_state;
		next->error[0] = '\0';
		if (state_unit_save(r->st, next, err) < 0)
			goto fail;
	}
	return state_commit(r->st, err);
fail:
	state_rollback(r->st);
	return -1;
}

void run_unit_init(struct state_unit *u, const struct run *r, int stage,
		      const char *scope, const char *ukey)
{
	memset(u, 0, sizeof(*u));
	u->run_id = r->run_id;
	str_copy(u->stage, sizeof(u->stage), run_stage_names[stage]);
	str_copy(u->scope, sizeof(u->scope), scope);
	str_copy(u->ukey, sizeof(u->ukey), ukey);
	u->state = US_PENDING;
}

/* ---- after load: the source's files --------------------------------- */

static int run_do_post(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct conn_entry ce;
	uint64_t size;
	int64_t mtime, open;
	int rc = 0;

	/* Only files we hold a copy of (a file set aside as changing or
	 * gone was not fetched and is not ours to move), and only once every
	 * unit made from the file is finished: one parked document holds
	 * back its own file, not the source's other files. */
	if ((u->state != US_DONE && u->state != US_SKIPPED) ||
	    !u->output_sha[0] || u->posted)
		return 0;
	if (state_unit_tree_open(r->st, u->id, &open, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (open)
		return 0;
	if (run_parse_size_mtime(u, &size, &mtime) < 0)
		return 0;
	if (sc->src->after_load != CFG_AFTER_LEAVE) {
		/* Already gone means a crash hit after the move/delete but
		 * before we recorded it. */
		if (sc->conn->scheme->ops->stat(sc->conn, u->ukey, &ce, &e) ==
		    0) {
			/* Another size or mtime: not the file we fetched but
			 * a new version under the same name (re-sent since,
			 * e.g. while a killed run waited for its resume).
			 * Moving or deleting it would lose it unread; leave
			 * it for the next run, which sees it as new. */
			if (ce.size != size || ce.mtime != mtime)
				run_say(r, "  %s: '%s' changed at the source since "
				    "it was fetched; left for the next run",
				    sc->src->name, u->ukey);
			else if (sc->src->after_load == CFG_AFTER_MOVE)
				rc = sc->conn->scheme->ops->move(
					sc->conn, u->ukey,
					sc->src->processed_dir, &e);
			else
				rc = sc->conn->scheme->ops->remove(
					sc->conn, u->ukey, &e);
		} else if (e.code != E_NOTFOUND) {
			rc = -1;
		}
		if (rc < 0)
			return run_unit_fail(r, u, &e, 0), 0;
	}
	err_clear(&e);
	u->posted = 1;
	strncat(u->detail, " posted", sizeof(u->detail) - strlen(u->detail) - 1);
	if (state_begin(r->st, &e) < 0 ||
	    state_file_post_set(r->st, sc->src->name, u->ukey, size, mtime,
				"done", &e) < 0 ||
	    state_unit_save(r->st, u, &e) < 0 || state_commit(r->st, &e) < 0) {
		state_rollback(r->st);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	return 0;
}

struct count_ctx {
	int pending, failed;
};

static int count_open(void *ud, struct state_unit *u)
{
	struct count_ctx *c = ud;

	if (u->state == US_FAILED)
		c->failed++;
	else if (u->state == US_PENDING || u->state == US_RUNNING)
		c->pending++;
	return 0;
}

/* The last stage this invocation runs (--until; default deliver). */
int run_until_stage(const struct run *r)
{
	int s = r->o->until_stage ? run_stage_index(r->o->until_stage) : -1;

	return s < 0 ? ST_DELIVER : s;
}

int run_src_open(struct src_ctx *sc, struct err *err)
{
	if (sc->conn)
		return 0;
	return conn_open(sc->src->url, &sc->src->conn, &sc->conn, err);
}

void run_src_close(struct src_ctx *sc)
{
	while (sc->nmaps > 0)
		mapping_free(sc->maps[--sc->nmaps]);
	conn_close(sc->conn);
	sc->conn = NULL;
}

/* Waits ms milliseconds in short slices, so that SIGTERM/SIGINT end the
 * wait at once (the caller then stops at its next safe point). */
static void backoff_wait(int64_t ms)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	for (; ms > 0 && !stop_requested; ms -= 100)
		nanosleep(&ts, NULL);
}

/* The next wait before retry number k (1-based): retry_backoff, twice
 * that, ... at most 10 minutes. */
static int64_t backoff_ms(const struct run *r, int k)
{
	int64_t ms = r->cfg->retry_backoff * 1000;

	while (--k > 0 && ms < 600000)
		ms *= 2;
	return ms < 600000 ? ms : 600000;
}

/* Counts u's final outcome in this invocation: a unit left failed after
 * its retries is parked and its error may become the run's exit code. */
static void unit_outcome(struct run *r, const struct state_unit *u,
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

int run_plan_source(struct run *r, struct src_ctx *sc, struct err *err)
{
	struct err e = ERR_INIT;
	struct state_unit u;
	int k;

	for (k = 0;; k++) {
		if (run_src_open(sc, &e) == 0 &&
		    run_plan_fetch(r, sc->src, sc->conn, &e) == 0)
			return 0;
		if (err_class(&e) != EC_TRANSIENT || k >= r->cfg->retries ||
		    stop_requested)
			break;
		run_say(r, "  %s: listing failed (%s); retry %d of %d in %llds",
		    sc->src->name, e.reason, k + 1, r->cfg->retries,
		    (long long)(backoff_ms(r, k + 1) / 1000));
		backoff_wait(backoff_ms(r, k + 1));
		conn_close(sc->conn);
		sc->conn = NULL;
		err_clear(&e);
	}
	/* No unit exists for what failed: record the failure on a stand-in
	 * unit so the run report shows it (parked until a later listing
	 * works). */
	run_unit_init(&u, r, ST_FETCH, sc->src->name, "(list)");
	u.list_standin = 1;
	if (state_unit_add(r->st, &u, err) < 0)
		return -1;
	run_unit_fail(r, &u, &e, 0);
	unit_outcome(r, &u, US_PENDING);
	return 1;
}

/* One unit of any stage, with the retries of transient failures. */
struct unit_call {
	struct run *r;
	int (*fn)(void *ud, struct state_unit *u);
	void *ud;
	/* Retrying an older run's parked units in place: its failed units
	 * that are not due for a retry are left alone. */
	int parked_only;
};

static int unit_call(void *ud, struct state_unit *u)
{
	struct unit_call *c = ud;
	struct run *r = c->r;
	int was = u->state, rc, k;

	if (c->parked_only && u->state == US_FAILED &&
	    !state_park_retry_due(u))
		return 0;
	if (c->parked_only && u->state == US_FAILED)
		r->retried_parked++;
	for (k = 0;; k++) {
		rc = c->fn(c->ud, u);
		if (rc != 0 || u->state != US_FAILED ||
		    u->err_class != EC_TRANSIENT || k >= r->cfg->retries ||
		    stop_requested)
			break;
		run_say(r, "  %s %s '%s': transient failure; retry %d of %d in "
		       "%llds",
		    u->stage, u->scope, u->ukey, k + 1, r->cfg->retries,
		    (long long)(backoff_ms(r, k + 1) / 1000));
		backoff_wait(backoff_ms(r, k + 1));
		if (stop_requested)
			break;
	}
	if (rc == 0)
		unit_outcome(r, u, was);
	return rc < 0 ? -1 : rc;
}

int run_do_render(void *ud, struct state_unit *u);
int run_do_deliver(void *ud, struct state_unit *u);

int run_do_unit(struct run *r, struct src_ctx *sc, struct tgt_ctx *tc,
		struct state_unit *u)
{
	static int (*const src_fns[])(void *, struct state_unit *) = {
		run_do_fetch, run_do_unpack, run_do_map, run_do_load};
	int s = run_stage_index(u->stage);

	struct unit_call c = {r, NULL, NULL, 0};

	if (s == ST_FETCH && sc && !sc->conn && u->state != US_DONE &&
	    u->state != US_SKIPPED) {
		struct err e = ERR_INIT;

		/* Workers connect to a source when they first fetch from it. */
		if (run_src_open(sc, &e) < 0) {
			run_unit_fail(r, u, &e, 0);
			unit_outcome(r, u, US_PENDING);
			return 0;
		}
	}
	if (s >= ST_FETCH && s <= ST_LOAD && sc) {
		c.fn = src_fns[s];
		c.ud = sc;
	} else if (s == ST_RENDER && tc) {
		c.fn = run_do_render;
		c.ud = tc;
	} else if (s == ST_DELIVER && tc) {
		c.fn = run_do_deliver;
		c.ud = tc;
	} else {
		return 0;
	}
	return unit_call(&c, u);
}

int run_source_tail(struct run *r, struct src_ctx *sc, struct err *err)
{
	struct count_ctx cc = {0, 0};
	int s;

	for (s = ST_FETCH; s <= ST_LOAD; s++)
		if (state_units_each(r->st, r->run_id, run_stage_names[s], sc->src->name,
				     count_open, &cc, err) < 0)
			return -1;
	if (!r->interrupted)
		run_send_acks(r, sc->src);
	/* Post-process the partner's files only when every document made
	 * from the file is loaded (or deliberately set aside): never before
	 * (run_do_post checks each file's units). Pending units mean this
	 * invocation stopped early (--until, a signal). */
	if (!cc.pending && !r->interrupted &&
	    (run_src_open(sc, err) < 0 ||
	     state_units_each(r->st, r->run_id, "fetch", sc->src->name,
			      run_do_post, sc, err) < 0))
		return -1;
	return 0;
}

/* A source's units of run r->run_id, stage by stage, then its tail.
 * parked_only: an older run whose parked units are retried in place. */
static int source_units(struct run *r, struct src_ctx *sc, int parked_only,
			struct err *err)
{
	static int (*const fns[])(void *, struct state_unit *) = {
		run_do_fetch, run_do_unpack, run_do_map};
	struct unit_call c = {r, NULL, sc, parked_only};
	int s, until = run_until_stage(r);

	/* --until STAGE: this invocation stops after that stage. Documents
	 * load in the order of their files (state_work.h), the order workers
	 * sharing a run use too. */
	for (s = parked_only ? ST_UNPACK : ST_FETCH; s <= ST_MAP && s <= until;
	     s++) {
		c.fn = fns[s];
		if (state_units_each(r->st, r->run_id, run_stage_names[s],
				     sc->src->name, unit_call, &c, err) < 0)
			return -1;
	}
	c.fn = run_do_load;
	if (until >= ST_LOAD &&
	    state_work_load_units_each(r->st, r->run_id, sc->src->name,
				       unit_call, &c, err) < 0)
		return -1;
	return run_source_tail(r, sc, err);
}

static int run_source(struct run *r, const struct cfg_source *src,
		      struct err *err)
{
	struct src_ctx sc;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	sc.r = r;
	sc.src = src;
	sc.err = err;
	if ((rc = run_plan_source(r, &sc, err)) != 0) {
		if (rc > 0)
			rc = 0;  /* recorded on its "(list)" unit */
		goto out;
	}
	rc = source_units(r, &sc, 0, err);
out:
	run_src_close(&sc);
	return rc;
}

static int run_target(struct run *r, const struct cfg_target *t,
		      struct err *err)
{
	struct tgt_ctx tc = {r, t, err};
	struct unit_call render = {r, run_do_render, &tc, 0};
	struct unit_call deliver = {r, run_do_deliver, &tc, 0};

	if (run_plan_target(r, t, err) < 0 ||
	    state_units_each(r->st, r->run_id, "render", t->name, unit_call,
			     &render, err) < 0 ||
	    (run_until_stage(r) >= ST_DELIVER &&
	     state_units_each(r->st, r->run_id, "deliver", t->name,
			      unit_call, &deliver, err) < 0))
		return -1;
	return 0;
}

/* ---- rerun ------------------------------------------------------------ */

static int prepare_rerun(struct run *r, struct err *err)
{
	int from = run_stage_index(r->o->from_stage);
	size_t i;
	int s;

	if (from < ST_UNPACK)
		return err_set(err, E_USAGE,
			       "--from must be unpack, map, load, render or "
			       "deliver (a rerun never fetches again)");
	if (state_begin(r->st, err) < 0)
		return -1;
	for (i = 0; i < r->cfg->nsources && from <= ST_LOAD; i++) {
		const char *name = r->cfg->sources[i].name;

		if (r->o->only_source && strcmp(r->o->only_source, name))
			continue;
		for (s = from; s <= ST_LOAD; s++)
			if (state_units_reset(r->st, r->run_id, run_stage_names[s], name,
					      err) < 0)
				goto fail;
	}
	for (i = 0; i < r->cfg->ntargets; i++) {
		const char *name = r->cfg->targets[i].name;

		if (r->o->only_target && strcmp(r->o->only_target, name))
			continue;
		/* Every rerun renders the targets again: the data changed. */
		if (state_plan_clear(r->st, r->run_id, "render", name, err) <
			    0 ||
		    state_units_reset(r->st, r->run_id, "render", name, err) <
			    0 ||
		    (from >= ST_DELIVER &&
		     state_units_reset(r->st, r->run_id, "deliver", name,
				       err) < 0))
			goto fail;
	}
	if (state_run_reopen(r->st, r->run_id, err) < 0)
		goto fail;
	return state_commit(r->st, err);
fail:
	state_rollback(r->st);
	return -1;
}

/* ---- the run ---------------------------------------------------------- */

/* A run invocation limited to part of the work (per-stage scheduler
 * tasks): it does not finish the run. */
static int run_partial(const struct run *r)
{
	const struct run_opts *o = r->o;

	return o->mode == RUN_NEW &&
	       (o->only_source || o->only_target || run_until_stage(r) < ST_DELIVER);
}

/* Retries, in place, the parked source units of older run old_run that
 * are due (state_park.h): the same stages with the run's own id, so their
 * successors and files stay with the run that fetched them. The old run
 * then gets its report and exit code again. */
struct park_ctx {
	struct run *r;
	struct err *err;
};

static int reconclude(struct run *r, int64_t run_id, struct err *err);

static int retry_parked_run(void *ud, int64_t old_run)
{
	struct park_ctx *pc = ud;
	struct run *r = pc->r;
	struct err *err = pc->err;
	int64_t keep = r->run_id;
	size_t i;
	int rc = 0;

	if (r->interrupted)
		return 1;
	r->run_id = old_run;
	run_say(r, "run %lld: retrying its parked units", (long long)old_run);
	for (i = 0; i < r->cfg->nsources && !r->interrupted && rc == 0; i++) {
		struct src_ctx sc;

		if (r->o->only_source &&
		    strcmp(r->o->only_source, r->cfg->sources[i].name))
			continue;
		memset(&sc, 0, sizeof(sc));
		sc.r = r;
		sc.src = &r->cfg->sources[i];
		sc.err = err;
		rc = source_units(r, &sc, 1, err);
		run_src_close(&sc);
	}
	if (rc == 0 && !r->interrupted)
		rc = reconclude(r, old_run, err);
	r->run_id = keep;
	return rc < 0 ? -1 : r->interrupted;
}

static int execute(struct run *r, struct err *err)
{
	const struct run_opts *o = r->o;
	int do_sources = !o->targets_only && !(o->mode == RUN_NEW &&
					       o->only_target);
	int do_targets = run_until_stage(r) >= ST_RENDER &&
			 !(o->mode == RUN_NEW && o->only_source);
	size_t i;

	/* Parked units of older runs first: they arrived before this run's
	 * files. */
	struct park_ctx pc = {r, err};

	if (do_sources && (o->mode == RUN_NEW || o->mode == RUN_RESUME) &&
	    state_park_runs_each(r->st, r->run_id, retry_parked_run, &pc,
				 err) < 0)
		return -1;
	for (i = 0; do_sources && i < r->cfg->nsources && !r->interrupted;
	     i++) {
		const struct cfg_source *src = &r->cfg->sources[i];

		if (o->only_source && strcmp(o->only_source, src->name))
			continue;
		run_say(r, "source %s", src->name);
		if (run_source(r, src, err) < 0)
			return -1;
	}
	if (r->interrupted || !do_targets)
		return 0;
	/* A failed (parked) source unit does not hold the targets: they get
	 * the positions as they are, the stale-source rule guards a source
	 * that stopped sending, and the parked document is loaded when it is
	 * retried. One partner's bad file never freezes every channel. */
	if (!do_sources) {
		/* The sources ran in earlier invocations (scheduler tasks):
		 * a source unit not done yet holds the targets, since its
		 * task has not finished. */
		struct count_ctx cc = {0, 0};
		int s;

		for (s = ST_FETCH; s <= ST_LOAD; s++)
			if (state_units_each(r->st, r->run_id, run_stage_names[s], NULL,
					     count_open, &cc, err) < 0)
				return -1;
		if (cc.pending) {
			err_set(&r->first, E_BUSY,
				"targets held: %d source unit%s of run %lld "
				"not done yet; finish the sources first",
				cc.pending, cc.pending == 1 ? "" : "s",
				(long long)r->run_id);
			run_say(r, "%s", r->first.reason);
			r->held = 1;
			return 0;
		}
	}
	for (i = 0; i < r->cfg->ntargets && !r->interrupted; i++) {
		const struct cfg_target *t = &r->cfg->targets[i];

		if (o->only_target && strcmp(o->only_target, t->name))
			continue;
		run_say(r, "target %s", t->name);
		if (run_target(r, t, err) < 0)
			return -1;
	}
	return 0;
}

const char *run_now_iso(char *buf)
{
	dt_format_iso((int64_t)time(NULL), buf);
	return buf;
}

/* ---- replay ----------------------------------------------------------- */

/* `stockpipe replay FILE --source S`: a new run whose only input is FILE,
 * copied into the inbox as a fetched file of S. The fetch plan is marked
 * done (the source folder is not listed), the file ledger is not touched
 * and the post stage leaves the source alone (the fetch unit carries no
 * size/mtime). Map and load then run as usual: records whose txn_id is
 * already loaded count as duplicates, so a replay never counts twice. */
static int replay_prepare(struct run *r, struct err *err)
{
	const struct cfg_source *src = config_source(r->cfg, r->o->only_source);
	struct state_unit u, next;
	char iso[DT_ISO_LEN], path[4096], sha[SHA256_HEX_LEN], key[512];
	const char *base;
	uint64_t size;

	if (!src)
		return err_set(err, E_USAGE, "no source named '%s'",
			       r->o->only_source);
	base = strrchr(r->o->replay_file, '/');
	base = base ? base + 1 : r->o->replay_file;
	if (!conn_name_ok(base))
		return err_set(err, E_USAGE, "bad file name '%s'", base);
	if (state_begin(r->st, err) < 0 ||
	    state_run_create(r->st, run_now_iso(iso), r->cfg->sha256, &r->run_id,
			     err) < 0 ||
	    state_plan_mark(r->st, r->run_id, "fetch", src->name, err) < 0 ||
	    state_commit(r->st, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	snprintf(key, sizeof(key), "replay:%s", base);
	snprintf(path, sizeof(path), "%s/inbox/%s/replay%lld_%s",
		 r->cfg->state_dir, src->name, (long long)r->run_id, base);
	/* The copy first, then its units in one transaction: a crash in
	 * between leaves an empty run that resume simply closes. */
	if (io_copy(r->o->replay_file, path, sha, &size, err) < 0)
		return -1;
	run_unit_init(&u, r, ST_FETCH, src->name, key);
	u.state = US_DONE;
	u.attempts = 1;
	u.records_in = 1;
	u.started_ms = u.finished_ms = run_now_ms();
	str_copy(u.input_path, sizeof(u.input_path), r->o->replay_file);
	str_copy(u.output_path, sizeof(u.output_path), path);
	str_copy(u.output_sha, sizeof(u.output_sha), sha);
	run_notef(u.detail, sizeof(u.detail), "replay of '%s' (%llu bytes)",
	      r->o->replay_file, (unsigned long long)size);
	run_unit_init(&next, r, ST_UNPACK, src->name, key);
	str_copy(next.input_path, sizeof(next.input_path), path);
	str_copy(next.input_sha, sizeof(next.input_sha), sha);
	if (state_begin(r->st, err) < 0 || state_unit_add(r->st, &u, err) < 0 ||
	    state_unit_save(r->st, &u, err) < 0 ||
	    state_arrival_fetch(r->st, u.id, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	next.parent = u.id;
	if (state_unit_add(r->st, &next, err) < 0 ||
	    state_unit_save(r->st, &next, err) < 0 ||
	    state_commit(r->st, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	run_say(r, "run %lld: replay of '%s' as source %s", (long long)r->run_id,
	    r->o->replay_file, src->name);
	return 0;
}

/* Creates a new run (its id in r->run_id). */
static int run_new(struct run *r, struct err *err)
{
	char iso[DT_ISO_LEN];

	if (state_begin(r->st, err) < 0 ||
	    state_run_create(r->st, run_now_iso(iso), r->cfg->sha256, &r->run_id,
			     err) < 0 ||
	    state_commit(r->st, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	return 0;
}

/* `stockpipe deliver --target NAME --now`: a run of its own that renders
 * and delivers one target whatever its schedule; sources are not touched
 * (targets_only). The delivery ledger still applies: content the target
 * already has is not sent again. An unfinished run comes first: its
 * targets are held, and a delivery now would be too. */
static int deliver_prepare(struct run *r, struct err *err)
{
	int64_t open_run;

	if (state_run_unfinished(r->st, &open_run, err) < 0)
		return -1;
	if (open_run)
		return err_set(err, E_BUSY,
			       "run %lld is not finished: run 'stockpipe "
			       "resume' first",
			       (long long)open_run);
	if (run_new(r, err) < 0)
		return -1;
	run_say(r, "run %lld: delivery to %s now", (long long)r->run_id,
	    r->o->only_target);
	return 0;
}

int run_setup(struct run *r, const struct cli_global *g,
	      const struct run_opts *o, int shared_lock, int *lock_fd,
	      struct err *err)
{
	const char *areas[] = {"inbox", "canonical", "rejects", "quarantine",
			       "outbox", "reports"};
	struct sigaction sa;
	char dir[4200];
	size_t i;

	memset(r, 0, sizeof(*r));
	*lock_fd = -1;
	r->g = g;
	r->o = o;
	r->now = run_clock();
	if (config_load(g->config_path, g->state_dir, &r->cfg, err) < 0)
		return -1;
	if ((*lock_fd = shared_lock ? lock_acquire_shared(r->cfg->state_dir,
							  err)
				    : lock_acquire(r->cfg->state_dir, err)) < 0)
		return -1;
	if (state_open_db(r->cfg->state_dir, r->cfg->state_db,
			  r->cfg->state_db_password_env, &r->st, err) < 0)
		return -1;
	for (i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", r->cfg->state_dir, areas[i]);
		if (io_mkdirs(dir, err) < 0)
			return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

int run_fail(const struct err *err)
{
	char msg[1200];
	int code;

	err_format(err, msg, sizeof(msg));
	log_msg("error", "stockpipe: %s", msg);
	code = err_exit_code(err);
	/* The run did not get to do its work: never "done". */
	return code == EXIT_REJECTS || code == EXIT_DONE ? EXIT_INTERNAL
							 : code;
}

void run_teardown(struct run *r, int lock_fd)
{
	state_close(r->st);
	r->st = NULL;
	lock_release(lock_fd);
	config_free(r->cfg);
	r->cfg = NULL;
}

int run_conclude(struct run *r, struct err *err)
{
	const struct cli_global *g = r->g;
	struct report rep;
	char iso[DT_ISO_LEN];
	int code;

	int64_t parked = r->failed_units, advanced = r->advanced;
	int s, st;

	/* A scheduler task that stops after a stage (run --source S --until
	 * map) answers for that stage: its map units, not the unpack it did
	 * on the way. */
	if (run_partial(r) && r->o->until_stage)
		advanced = r->advanced_in[run_until_stage(r)];
	if (r->interrupted) {
		err_set(&r->first, E_INTERRUPT,
			"stopped by a signal at a safe point; the next "
			"'stockpipe run' (or 'resume') finishes it");
		log_msg("warn", "stockpipe: %s", r->first.reason);
	}
	if (report_build(r->st, r->run_id, &rep, err) < 0)
		return -1;
	/* What the run finished, by whichever invocation or worker (a
	 * resumed run, workers); renders count through their deliveries. A
	 * scheduler's task answers for its own part only. */
	for (s = 0; s < REPORT_NSTAGES && !run_partial(r); s++)
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
	} else if (run_partial(r)) {
		/* A scheduler task: rejects are reported by the task that
		 * finishes the run; "nothing to do" is about this task. */
		code = !r->worked && g->skip_exit_code ? g->skip_exit_code
						      : EXIT_DONE;
	} else if (rep.rejects || rep.quarantined) {
		code = EXIT_REJECTS;
	} else if (rep.nothing_to_do && g->skip_exit_code) {
		code = g->skip_exit_code;
	} else {
		code = EXIT_DONE;
	}
	rep.exit_code = code;
	snprintf(rep.status, sizeof(rep.status), "%s",
		 r->interrupted		  ? "interrupted"
		 : run_partial(r)	  ? "partial"
		 : parked && !advanced	  ? "failed"
					  : "done");
	if (parked && !r->interrupted && !r->held)
		run_say(r, "%lld unit%s parked (see 'stockpipe show %lld'); later "
		       "runs retry transient failures, 'stockpipe retry' the "
		       "rest",
		    (long long)parked, parked == 1 ? "" : "s",
		    (long long)r->run_id);
	/* The report first, then the run's final state: a crash in between
	 * leaves the run unfinished, and its resume writes the report again
	 * under the same name, so no half-done run ever lacks one. */
	if (report_write(&rep, r->cfg->state_dir, err) < 0 ||
	    state_begin(r->st, err) < 0 ||
	    state_run_finish(r->st, r->run_id, rep.status, code, run_now_iso(iso),
			     err) < 0 ||
	    state_commit(r->st, err) < 0) {
		state_rollback(r->st);
		report_release(&rep);
		return -1;
	}
	/* Metrics are for monitoring: a failure to write them is shown but
	 * does not fail a run whose data work succeeded. */
	if (metrics_write(r->st, r->cfg, &rep, r->now, err) < 0) {
		char msg[1200];

		err_format(err, msg, sizeof(msg));
		log_msg("warn", "stockpipe: metrics not written: %s", msg);
		err_clear(err);
	}
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
static int reconclude(struct run *r, int64_t run_id, struct err *err)
{
	struct report rep;
	struct state_run sr;
	char iso[DT_ISO_LEN];
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
	if (report_write(&rep, r->cfg->state_dir, err) < 0 ||
	    state_begin(r->st, err) < 0 ||
	    state_run_finish(r->st, run_id, "done", code, run_now_iso(iso),
			     err) < 0 ||
	    state_commit(r->st, err) < 0) {
		state_rollback(r->st);
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
static int code_combine(int a, int b)
{
	static const int order[] = {EXIT_INTERNAL, EXIT_CONFIG, EXIT_TEMPFAIL,
				    EXIT_USAGE, EXIT_REJECTS, EXIT_DONE};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a;
}

static void run_reset(struct run *r)
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
	r->retried_parked = 0;
}

int run_pipeline(const struct cli_global *g, const struct run_opts *o)
{
	struct run r;
	struct err err = ERR_INIT;
	int lock_fd = -1, code = EXIT_INTERNAL, chain = 0;

	if (run_setup(&r, g, o, 0, &lock_fd, &err) < 0)
		goto report_err;
	if (o->mode != RUN_RERUN && o->only_source &&
	    !config_source(r.cfg, o->only_source)) {
		err_set(&err, E_USAGE, "no source named '%s'", o->only_source);
		goto report_err;
	}
	if (o->mode != RUN_RERUN && o->only_target &&
	    !config_target(r.cfg, o->only_target)) {
		err_set(&err, E_USAGE, "no target named '%s'", o->only_target);
		goto report_err;
	}

	if (o->mode == RUN_REPLAY) {
		if (replay_prepare(&r, &err) < 0)
			goto report_err;
	} else if (o->mode == RUN_DELIVER) {
		if (deliver_prepare(&r, &err) < 0)
			goto report_err;
	} else if (o->mode == RUN_NEW || o->mode == RUN_RESUME) {
		int64_t open_run = 0, asked = 0;

		if (o->mode == RUN_RESUME && o->run_id) {
			struct state_run sr;

			if (state_run_get(r.st, o->run_id, &sr, &err) < 0)
				goto report_err;
			if (strcmp(sr.status, "done") &&
			    strcmp(sr.status, "failed")) {
				open_run = o->run_id;
			} else {
				/* A concluded run: its parked units are
				 * retried (in place) by a new run. */
				if (state_begin(r.st, &err) < 0 ||
				    state_park_request(r.st, 0, o->run_id,
						       &asked, &err) < 0 ||
				    state_commit(r.st, &err) < 0) {
					state_rollback(r.st);
					goto report_err;
				}
				if (!asked) {
					run_say(&r, "run %lld is done and has no "
						"parked unit: nothing to "
						"resume",
					    (long long)o->run_id);
					code = g->skip_exit_code
						       ? g->skip_exit_code
						       : EXIT_DONE;
					goto out;
				}
				run_say(&r, "run %lld: %lld parked unit%s to "
					"retry",
				    (long long)o->run_id, (long long)asked,
				    asked == 1 ? "" : "s");
			}
		} else if (state_run_unfinished(r.st, &open_run, &err) < 0) {
			goto report_err;
		}
		if (o->retry_unit || o->retry_run) {
			if (state_begin(r.st, &err) < 0 ||
			    state_park_request(r.st, o->retry_unit,
					       o->retry_run, &asked,
					       &err) < 0 ||
			    state_commit(r.st, &err) < 0) {
				state_rollback(r.st);
				goto report_err;
			}
			if (!asked) {
				err_set(&err, E_USAGE, "%s %lld has no parked "
					"unit (see 'stockpipe quarantine "
					"list')",
					o->retry_unit ? "unit" : "run",
					(long long)(o->retry_unit
							    ? o->retry_unit
							    : o->retry_run));
				goto report_err;
			}
			run_say(&r, "%lld parked unit%s to retry", (long long)asked,
			    asked == 1 ? "" : "s");
		}
		if (open_run) {
			struct state_run sr;

			r.run_id = open_run;
			run_say(&r, "resuming run %lld", (long long)open_run);
			if (state_run_get(r.st, open_run, &sr, &err) < 0 ||
			    state_begin(r.st, &err) < 0 ||
			    state_run_reopen(r.st, open_run, &err) < 0 ||
			    state_commit(r.st, &err) < 0)
				goto report_err;
			/* An interrupted run is finished first, then this
			 * invocation does what it was asked: a new run. A
			 * scheduler's partial run is the run its tasks share:
			 * finishing it is the whole job. */
			chain = o->mode == RUN_NEW && !run_partial(&r) &&
				strcmp(sr.status, "partial");
		} else if (o->mode == RUN_RESUME && !asked) {
			run_say(&r, "nothing to resume: every run is done");
			code = g->skip_exit_code ? g->skip_exit_code
						 : EXIT_DONE;
			goto out;
		} else if (run_new(&r, &err) < 0) {
			goto report_err;
		} else {
			run_say(&r, "run %lld", (long long)r.run_id);
		}
	} else {
		struct state_run sr;

		r.run_id = o->run_id;
		if (state_run_get(r.st, r.run_id, &sr, &err) < 0)
			goto report_err;
		if (o->only_source && !config_source(r.cfg, o->only_source)) {
			err_set(&err, E_USAGE, "no source named '%s'",
				o->only_source);
			goto report_err;
		}
		if (o->only_target && !config_target(r.cfg, o->only_target)) {
			err_set(&err, E_USAGE, "no target named '%s'",
				o->only_target);
			goto report_err;
		}
		if (prepare_rerun(&r, &err) < 0)
			goto report_err;
		run_say(&r, "rerun %lld from %s", (long long)r.run_id,
		    o->from_stage);
	}
	log_set_run(r.run_id);
	if (execute(&r, &err) < 0)
		goto report_err;
	if ((code = run_conclude(&r, &err)) < 0)
		goto report_err;
	if (chain && !r.interrupted) {
		/* The interrupted run is finished; this invocation was asked
		 * for a run, so the new files and due targets come now. */
		int first_code = code;

		run_reset(&r);
		if (run_new(&r, &err) < 0)
			goto report_err;
		run_say(&r, "run %lld", (long long)r.run_id);
		log_set_run(r.run_id);
		if (execute(&r, &err) < 0)
			goto report_err;
		if ((code = run_conclude(&r, &err)) < 0)
			goto report_err;
		if (code != first_code && g->skip_exit_code &&
		    (code == g->skip_exit_code ||
		     first_code == g->skip_exit_code))
			code = code == g->skip_exit_code ? first_code : code;
		else
			code = code_combine(first_code, code);
	}
	goto out;
report_err:
	code = run_fail(&err);
out:
	run_teardown(&r, lock_fd);
	return code;
}
