/* work.c - `stockpipe plan` and `stockpipe work`; see work.h. */
#include "work.h"
#include "config.h"
#include "lib/log.h"
#include "run_int.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_work.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transforms/model/dt.h"

/* The heartbeat runs on its own thread and its own connection: a worker
 * busy mapping a large file for minutes must keep its leases, and the
 * main connection may be inside a long transaction. It renews only the
 * unit the loop works on right now (unit; 0 between units): a unit the
 * loop left behind (a refused save, a lease that ran out while the
 * machine was starved and another worker took the unit over) must run
 * out, or nobody would ever finish it. A renewal that finds the unit
 * taken over sets lost: the loop then commits nothing of that unit
 * (work_commit_check) and moves on. */
struct heartbeat {
	pthread_t thread;
	atomic_int stop;
	int started;
	struct state *st;
	int64_t run_id;
	const char *worker;
	int64_t lease_ms;
	atomic_llong unit;
	atomic_int lost;
	atomic_int paused;       /* test hook: a starved heartbeat */
};

struct work {
	struct run r;
	const struct work_opts *o;
	char worker[160];
	int64_t lease_ms;
	struct src_ctx *src;     /* one per configured source, lazily used */
	struct tgt_ctx *tgt;
	struct err *err;
	int64_t units;           /* units this worker finished */
	struct heartbeat *hb;
	int pg;                  /* the store is PostgreSQL: loads in parallel */
	struct state_unit cu;    /* the unit the last claim returned */
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void heartbeat_beat(struct heartbeat *hb)
{
	struct err e = ERR_INIT;
	int64_t unit = atomic_load(&hb->unit);
	int taken;

	if (state_work_heartbeat(hb->st, hb->run_id, hb->worker, unit,
				 hb->lease_ms, &taken, &e) < 0) {
		char msg[1200];

		/* Missing a beat is not fatal: the lease is three beats
		 * long. */
		err_format(&e, msg, sizeof(msg));
		log_msg("warn", "stockpipe: heartbeat: %s", msg);
		return;
	}
	/* Only if the loop is still on that unit: it may have moved on
	 * while we asked. */
	if (taken && atomic_load(&hb->unit) == unit)
		atomic_store(&hb->lost, 1);
}

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;
	int64_t every = hb->lease_ms / 3, waited = 0;

	if (every < 100)
		every = 100;
	while (!atomic_load(&hb->stop)) {
		sleep_ms(100);
		waited += 100;
		if (waited < every)
			continue;
		waited = 0;
		if (!atomic_load(&hb->paused))
			heartbeat_beat(hb);
	}
	return NULL;
}

static int heartbeat_start(struct heartbeat *hb, struct work *w,
			   struct err *err)
{
	memset(hb, 0, sizeof(*hb));
	atomic_init(&hb->stop, 0);
	atomic_init(&hb->unit, 0);
	atomic_init(&hb->lost, 0);
	atomic_init(&hb->paused, 0);
	hb->run_id = w->r.run_id;
	hb->worker = w->worker;
	hb->lease_ms = w->lease_ms;
	if (state_open_db(w->r.cfg->state_dir, w->r.cfg->state_db,
			  w->r.cfg->state_db_password_env, &hb->st, err) < 0)
		return -1;
	if (pthread_create(&hb->thread, NULL, heartbeat_main, hb)) {
		state_close(hb->st);
		hb->st = NULL;
		return err_set(err, E_INTERNAL, "cannot start the heartbeat");
	}
	hb->started = 1;
	return 0;
}

static void heartbeat_stop(struct heartbeat *hb)
{
	if (hb->started) {
		atomic_store(&hb->stop, 1);
		pthread_join(hb->thread, NULL);
		hb->started = 0;
	}
	state_close(hb->st);
	hb->st = NULL;
}

static int work_unit_do(struct work *w, struct state_unit *u);

static struct src_ctx *src_for(struct work *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->r.cfg->nsources; i++)
		if (!strcmp(w->r.cfg->sources[i].name, name))
			return &w->src[i];
	return NULL;
}

static struct tgt_ctx *tgt_for(struct work *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->r.cfg->ntargets; i++)
		if (!strcmp(w->r.cfg->targets[i].name, name))
			return &w->tgt[i];
	return NULL;
}

/* Optional trace for tests and audits (STOCKPIPE_WORK_LOG=FILE): one line
 * per unit this worker finished, appended with O_APPEND semantics. */
static void work_trace(const struct work *w, const struct state_unit *u)
{
	const char *path = getenv("STOCKPIPE_WORK_LOG");
	FILE *f;

	if (!path || !*path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s %lld %s %s %s %s\n", w->worker, (long long)u->id,
		u->stage, unit_state_name(u->state), u->scope, u->ukey);
	fclose(f);
}

#ifdef STOCKPIPE_TEST_HOOKS
/* STOCKPIPE_TEST_STALL=WORKER:STAGE:MS: worker WORKER, having read its
 * first unit u of STAGE, stops with its heartbeat silent (a machine so
 * loaded the thread starves), so its lease runs out and another worker
 * takes the unit over; it goes on once the unit is another's, or after
 * MS milliseconds. Not a fixed sleep: on a loaded machine the other
 * worker may reach the expired lease only seconds later (workers.sh's
 * "stalled worker" then saw no takeover). Once per process. */
static void stall_hook(struct work *w, const struct state_unit *u)
{
	static int done;
	const char *v = getenv("STOCKPIPE_TEST_STALL");
	char who[160], stage[16];
	struct err e = ERR_INIT;
	int ms, t, ours = 1;

	if (done || !v ||
	    sscanf(v, "%159[^:]:%15[^:]:%d", who, stage, &ms) != 3 ||
	    strcmp(who, w->worker) || strcmp(u->stage, stage))
		return;
	done = 1;
	log_msg("info", "test hook: worker %s stalls up to %d ms on unit %lld",
		w->worker, ms, (long long)u->id);
	atomic_store(&w->hb->paused, 1);
	for (t = 0; t < ms && ours; t += 100) {
		sleep_ms(100);
		if (state_work_owned(w->r.st, u->id, w->worker, &ours, &e) < 0) {
			char msg[600];

			err_format(&e, msg, sizeof(msg));
			log_msg("warn", "test hook: %s", msg);
			break; /* the unit's own work meets it again */
		}
	}
	atomic_store(&w->hb->paused, 0);
}

/* STOCKPIPE_TEST_LOAD_HOLD=MS: each of the first three loads of a worker
 * stays MS milliseconds at its commit, every row lock held, and appends
 * "WORKER UNIT FROM_MS TO_MS" to STOCKPIPE_TEST_LOAD_HOLD_LOG: two
 * workers' intervals overlap only if their loads ran at once (a store
 * lock would keep them apart). */
static void load_hold_hook(struct work *w, int64_t unit)
{
	static int n;
	const char *v = getenv("STOCKPIPE_TEST_LOAD_HOLD");
	const char *path = getenv("STOCKPIPE_TEST_LOAD_HOLD_LOG");
	struct state_unit u;
	struct err e = ERR_INIT;
	int64_t from;
	FILE *f;

	if (!v || !path || n >= 3 ||
	    state_unit_get(w->r.st, unit, &u, &e) < 0 ||
	    strcmp(u.stage, "load") || u.state != US_DONE)
		return;  /* not the load's own commit (its unit saved done) */
	n++;
	from = eng_now_ms();
	sleep_ms(atoi(v));
	if ((f = fopen(path, "a"))) {
		fprintf(f, "%s %lld %lld %lld\n", w->worker, (long long)unit,
			(long long)from, (long long)eng_now_ms());
		fclose(f);
	}
}
#endif

/* state_commit's last word while the loop works on a unit: nothing of
 * a unit another worker took over is committed (its outcome is theirs),
 * whether the heartbeat noticed first or the unit's row says so now. A
 * transaction that saved the unit read its row then, locked until the
 * commit (state_tx_holds): asking again would read the same row. */
static int work_commit_check(void *ud, struct state *st, struct err *err)
{
	struct work *w = ud;
	int64_t unit = atomic_load(&w->hb->unit);
	int ours = 1;

	if (!unit)
		return 0;
#ifdef STOCKPIPE_TEST_HOOKS
	load_hold_hook(w, unit);
#endif
	if (!atomic_load(&w->hb->lost) && !state_tx_holds(st, unit) &&
	    state_work_owned(st, unit, w->worker, &ours, err) < 0)
		return -1;
	if (!ours)
		atomic_store(&w->hb->lost, 1);
	if (!atomic_load(&w->hb->lost))
		return 0;
	return err_set(err, E_BUSY,
		       "unit %lld was taken over by another worker (this "
		       "worker's lease ran out): its result is abandoned",
		       (long long)unit);
}

/* After a failed unit: was it taken over in the meantime? The lease can
 * run out between the heartbeat's (or the commit check's) last look and
 * the unit's own record, which the store then refuses ("taken over by
 * another worker", state_runs.c): that is the same case as the heartbeat
 * noticing, not this worker's failure (a starved worker used to exit 75
 * here while the run finished fine). A failed look changes nothing. */
static void lost_since_check(struct work *w, int64_t id)
{
	struct err e = ERR_INIT;
	int ours = 1;

	if (state_work_owned(w->r.st, id, w->worker, &ours, &e) == 0 &&
	    !ours)
		atomic_store(&w->hb->lost, 1);
}

/* Does unit u, claimed by this worker (u: its row as the claim left
 * it). 1 = interrupted. */
static int work_unit(struct work *w, struct state_unit *u)
{
	int rc, failed = w->r.failed_units;
	struct err first = w->r.first;
	int64_t id = u->id;

	atomic_store(&w->hb->lost, 0);
	atomic_store(&w->hb->unit, id);
	state_unit_refused_reset(w->r.st);
	state_set_commit_check(w->r.st, work_commit_check, w);
	rc = work_unit_do(w, u);
	state_set_commit_check(w->r.st, NULL, NULL);
	atomic_store(&w->hb->unit, 0);
	if (rc < 0 && !atomic_load(&w->hb->lost))
		lost_since_check(w, id);
	if (atomic_load(&w->hb->lost)) {
		/* Whatever the unit's code made of the refused commits: the
		 * unit is another worker's now, this one goes on. */
		atomic_store(&w->hb->lost, 0);
		err_clear(w->err);
		w->r.failed_units = failed;  /* not this worker's failure */
		w->r.first = first;
		w->r.interrupted = eng_stopping();
		log_msg("warn", "stockpipe: worker %s: unit %lld was taken "
			"over by another worker; its result here is abandoned",
			w->worker, (long long)id);
		return eng_stopping() ? 1 : 0;
	}
	return rc;
}

static int work_unit_do(struct work *w, struct state_unit *u)
{
	struct src_ctx *sc = NULL;
	struct tgt_ctx *tc = NULL;
	int rc;

#ifdef STOCKPIPE_TEST_HOOKS
	stall_hook(w, u);
#endif
	sc = src_for(w, u->scope);
	tc = tgt_for(w, u->scope);
	if (!sc && !tc) {
		/* A unit of a source or target the config no longer has. */
		log_msg("warn", "stockpipe: unit %lld: %s '%s' is not in the "
			"config; left alone", (long long)u->id, u->stage,
			u->scope);
		return 0;
	}
	rc = run_do_unit(&w->r, sc, tc, u);
	if (rc < 0)
		return -1;
	if (rc > 0 || eng_stopping())
		return 1;
	/* Finished here unless the store refused its record (our lease was
	 * taken over while we worked: the unit is still running, another
	 * worker's) or the heartbeat saw it taken over. u is what this
	 * worker saved: no need to read it back. */
	if (state_unit_refused(w->r.st) != u->id &&
	    !atomic_load(&w->hb->lost) && u->state != US_RUNNING &&
	    u->state != US_PENDING) {
		w->units++;
		work_trace(w, u);
	}
	return 0;
}

struct load_ctx {
	struct work *w;
	struct src_ctx *sc;
	int rc;
};

static int load_one(void *ud, struct state_unit *u)
{
	struct load_ctx *lc = ud;
	struct work *w = lc->w;
	int got;

	if (u->state == US_DONE)
		return 0;
	if (eng_stopping())
		return lc->rc = 1;
	/* u as the take left it: read before, it may be stale. */
	if (state_work_take_unit(w->r.st, u->id, w->worker, w->lease_ms, &got,
				 u, w->err) < 0)
		return lc->rc = -1;
	if (!got)
		/* An earlier holder of the load lease still works on it
		 * (its lease on the unit is alive): come back later. */
		return lc->rc = 2;
	if (u->state == US_DONE)
		return 0;  /* finished by another worker since the walk read it */
	if ((lc->rc = work_unit(w, u)) != 0)
		return 1;
	return 0;
}

/* Loads every source's documents in order, finishes the sources, plans
 * the targets. 0 done, 1 interrupted, 2 try again later, -1 error. */
static int load_phase(struct work *w)
{
	struct run *r = &w->r;
	struct state_work_counts c;
	size_t i;

	for (i = 0; i < r->cfg->nsources; i++) {
		struct load_ctx lc = {w, &w->src[i], 0};

		if (state_work_open_load_units_each(r->st, r->run_id,
						    r->cfg->sources[i].name,
						    load_one, &lc,
						    w->err) < 0)
			return -1;
		if (lc.rc)
			return lc.rc;
		if (run_source_tail(r, &w->src[i], w->err) < 0)
			return -1;
		if (r->interrupted || eng_stopping())
			return 1;
	}
	if (state_work_count(r->st, r->run_id, "fetch,unpack,map,load", NULL,
			     &c, w->err) < 0)
		return -1;
	/* As in a single process: a failed (parked) source unit holds
	 * nothing; the targets get the positions as they are. */
	for (i = 0; i < r->cfg->ntargets; i++)
		if (run_plan_target(r, &r->cfg->targets[i], w->err) < 0)
			return -1;
	return state_lease_done(r->st, r->run_id, "load", w->err) < 0 ? -1 : 0;
}

/* PostgreSQL: every worker loads documents, claimed one at a time like
 * any unit, each in its own transaction with row locks on its positions
 * (db.h): positions do not depend on the order (stock.h's arrival keys).
 * A txn_id does: the first load of it is applied, a later one is a
 * duplicate. So only documents whose txn_ids are their own (the mapping
 * engine's defaults, units.txn_own) are claimed here, in any order; those
 * whose mapping names the txn_ids (a resent report has the same ones)
 * wait for the holder of the "load" lease, who walks the units in
 * arrival order (load_phase), as one process would, together with what
 * is left: units whose worker died, the sources' tails, the targets'
 * plans. SQLite has one writer: only the holder loads, as before. 0
 * nothing (more) to claim, 1 stopping, -1 error. */
static int load_parallel(struct work *w)
{
	struct run *r = &w->r;
	int rc;

	if (!w->pg)
		return 0;
	for (;;) {
		if (eng_stopping())
			return 1;
		if (state_work_claim_own_load_unit(r->st, r->run_id, w->worker,
						   w->lease_ms, &w->cu,
						   w->err) < 0)
			return -1;
		if (!w->cu.id)
			return 0;
		if ((rc = work_unit(w, &w->cu)) != 0)
			return rc;
	}
}

/* PostgreSQL, the holder of the load lease: the documents whose txn_ids
 * may be shared, in arrival order, before it helps with the others. Only
 * the holder loads them; left for load_phase, after every order-free
 * document, they were a serial tail that the other workers sat out (300
 * files, 2 workers: the UBL reports, 0.7 s of 8.7 s with one worker
 * idle). Order-free documents may load before or after them, as they
 * may today, so nothing a result depends on moves. A unit another worker
 * holds ends the walk: load_phase's walk waits for it. 0 done or left to
 * load_phase, 1 stopping, -1 error. */
static int named_first(struct work *w)
{
	struct run *r = &w->r;
	size_t i;

	for (i = 0; i < r->cfg->nsources; i++) {
		struct load_ctx lc = {w, &w->src[i], 0};

		if (state_work_named_load_units_each(r->st, r->run_id,
						     r->cfg->sources[i].name,
						     load_one, &lc,
						     w->err) < 0)
			return -1;
		if (lc.rc == 2)
			return 0;
		if (lc.rc)
			return lc.rc;
	}
	return 0;
}

/* One turn of the loop at the load: the lease's holder loads the
 * documents that must go in order (PostgreSQL), every worker loads the
 * others in parallel (PostgreSQL), then the holder finishes the phase;
 * the others wait. *done = 1 when the load phase is over. */
static int load_step(struct work *w, int *done)
{
	struct run *r = &w->r;
	int got, rc;

	if (state_lease_take(r->st, r->run_id, "load", w->worker, w->lease_ms,
			     &got, done, w->err) < 0)
		return -1;
	if (*done)
		return 0;
	if (got && w->pg && (rc = named_first(w)) != 0)
		return rc < 0 ? -1 : 0;  /* stopping: the loop's top says */
	if ((rc = load_parallel(w)) != 0)
		return rc < 0 ? -1 : 0;  /* stopping: the loop's top says */
	if (got && (rc = load_phase(w)) < 0)
		return -1;
	if (!got || rc == 2)
		sleep_ms(w->o->poll_ms);
	return 0;
}

/* Whether the run was concluded (by any worker); *code its exit code. */
static int run_finished(struct work *w, int *finished, int *code)
{
	struct state_run sr;

	if (state_run_get(w->r.st, w->r.run_id, &sr, w->err) < 0)
		return -1;
	*finished = !strcmp(sr.status, "done") || !strcmp(sr.status, "failed");
	*code = sr.exit_code;
	return 0;
}

/* The stages of mask between lo and hi, as a comma list in out. */
static void stage_subset(unsigned mask, int lo, int hi, char *out, size_t n)
{
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = lo; i <= hi; i++)
		if (mask & (1u << i) && len < n)
			len += (size_t)snprintf(out + len, n - len, "%s%s",
						len ? "," : "",
						run_stage_names[i]);
}

/* The stages a stage-limited worker waits for: its own and those that
 * create its units. */
static const char *const upto[] = {"fetch", "fetch,unpack",
				   "fetch,unpack,map", "load", "render",
				   "render,deliver"};

static int open_units(struct work *w, const char *stages, const char *scope,
		      int *open)
{
	struct state_work_counts c;

	if (state_work_count(w->r.st, w->r.run_id, stages, scope, &c,
			     w->err) < 0)
		return -1;
	*open = c.pending || c.running;
	return 0;
}

/* The loop: claim, work, wait. Returns the exit code, or -1 with *w->err
 * when the store failed. */
static int work_loop(struct work *w)
{
	const struct work_opts *o = w->o;
	struct run *r = &w->r;
	unsigned mask = 0;
	int s = -1, lo = ST_DELIVER + 1, i;
	char src_list[64], tgt_list[64];
	const char *src_stages = STATE_WORK_SOURCES;
	const char *tgt_stages = STATE_WORK_TARGETS;
	int want_src, want_tgt;
	int finished, code, open, got, done;

	if (o->stage)
		run_stage_mask(o->stage, &mask);
	for (i = ST_FETCH; i <= ST_DELIVER; i++)
		if (mask & (1u << i)) {
			s = i;
			if (i < lo)
				lo = i;
		}
	want_src = s < 0 || lo <= ST_MAP;
	want_tgt = s < 0 || s >= ST_RENDER;
	if (s >= 0) {
		/* Claims take the listed stages of each kind; load is never
		 * claimed unit by unit (load_phase). */
		stage_subset(mask, ST_FETCH, ST_MAP, src_list,
			     sizeof(src_list));
		stage_subset(mask, ST_RENDER, ST_DELIVER, tgt_list,
			     sizeof(tgt_list));
		src_stages = src_list;
		tgt_stages = tgt_list;
		want_src = src_list[0] != '\0';
		want_tgt = tgt_list[0] != '\0';
	}
	for (;;) {
		if (eng_stopping()) {
			r->interrupted = 1;
			return EXIT_TEMPFAIL;
		}
		if (want_src) {
			if (state_work_claim_unit(r->st, r->run_id, src_stages,
						  o->source, w->worker,
						  w->lease_ms, &w->cu,
						  w->err) < 0)
				return -1;
			if (w->cu.id) {
				if (work_unit(w, &w->cu) < 0)
					return -1;
				continue;
			}
			/* Nothing to claim: others still hold units (we
			 * claim them above if their lease runs out), or
			 * upstream stages may still make some. */
			if (open_units(w, s >= 0 ? upto[s] : STATE_WORK_SOURCES,
				       o->source, &open) < 0)
				return -1;
			if (!open && s >= 0)
				return EXIT_DONE;
			if (open) {
				sleep_ms(o->poll_ms);
				continue;
			}
		}
		/* The load waits for every source, whatever --source says. */
		if (open_units(w, STATE_WORK_SOURCES, NULL, &open) < 0)
			return -1;
		if (open) {
			sleep_ms(o->poll_ms);
			continue;
		}
		if (load_step(w, &done) < 0)
			return -1;
		if (!done)
			continue;
		if (!want_tgt)
			return EXIT_DONE;
		if (state_work_claim_unit(r->st, r->run_id, tgt_stages, NULL,
					  w->worker, w->lease_ms, &w->cu,
					  w->err) < 0)
			return -1;
		if (w->cu.id) {
			if (work_unit(w, &w->cu) < 0)
				return -1;
			continue;
		}
		if (open_units(w, s >= 0 ? upto[s] : NULL, NULL, &open) < 0)
			return -1;
		if (!open && s >= 0)
			return EXIT_DONE;
		if (open) {
			sleep_ms(o->poll_ms);
			continue;
		}
		if (run_finished(w, &finished, &code) < 0)
			return -1;
		if (finished)
			return code;
		if (state_lease_take(r->st, r->run_id, "finish", w->worker,
				     w->lease_ms, &got, &done, w->err) < 0)
			return -1;
		if (got) {
			code = eng_conclude(r, w->err);
			if (code < 0 || state_lease_done(r->st, r->run_id,
							 "finish", w->err) < 0)
				return -1;
			return code;
		}
		sleep_ms(o->poll_ms);
	}
}

static void default_worker(char *out, size_t n)
{
	char host[128];

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, n, "%s:%ld", host, (long)getpid());
}

/* Leaves nothing for others to wait out. A lease that cannot be given
 * up still runs out by itself (the others wait for it to expire): the
 * work this worker did stands, so it is a warning, not a failure. */
static void release_leases(struct work *w, int64_t run_id)
{
	struct err e = ERR_INIT;
	char msg[1100];

	if (state_lease_release_all(w->r.st, run_id, w->worker, &e) == 0)
		return;
	err_format(&e, msg, sizeof(msg));
	log_msg("warn",
		"stockpipe: worker %s: its leases of run %lld stay until they "
		"expire: %s",
		w->worker, (long long)run_id, msg);
}

int work_main(const struct cli_global *g, const struct work_opts *o)
{
	struct work w;
	struct run_opts ro;
	struct err err = ERR_INIT;
	struct heartbeat hb;
	struct state_run sr;
	int lock_fd = -1, code = EXIT_INTERNAL, finished;
	size_t i;

	memset(&w, 0, sizeof(w));
	memset(&hb, 0, sizeof(hb));
	memset(&ro, 0, sizeof(ro));
	ro.mode = RUN_WORK;
	ro.run_id = o->run_id;
	w.o = o;
	w.err = &err;
	w.lease_ms = (int64_t)o->lease_s * 1000;
	if (o->worker)
		snprintf(w.worker, sizeof(w.worker), "%s", o->worker);
	else
		default_worker(w.worker, sizeof(w.worker));
	if (run_setup(&w.r, g, &ro, 1, &lock_fd, &err) < 0)
		goto report_err;
	if (o->source && !config_source(w.r.cfg, o->source)) {
		err_set(&err, E_USAGE, "no source named '%s'", o->source);
		goto report_err;
	}
	if (state_run_get(w.r.st, o->run_id, &sr, &err) < 0) {
		if (err.code == E_NOTFOUND)
			err.code = E_USAGE;
		goto report_err;
	}
	w.r.run_id = o->run_id;
	log_set_run(o->run_id);
	if (o->retry) {
		int64_t n = 0;

		if (eng_tx_begin(w.r.st, &err) < 0 ||
		    eng_tx_end(w.r.st, state_work_retry_failed(w.r.st, o->run_id, &n, &err) < 0 ||
			       (n && state_run_reopen(w.r.st, o->run_id, &err) < 0),
			       &err) < 0) {
			goto report_err;
		}
		if (n)
			log_msg("info", "run %lld: %lld failed unit%s back to "
				"pending", (long long)o->run_id, (long long)n,
				n == 1 ? "" : "s");
	}
	if (run_finished(&w, &finished, &code) < 0)
		goto report_err;
	if (finished) {
		log_msg("info", "run %lld is finished; nothing to do",
			(long long)o->run_id);
		goto out;
	}
	state_set_worker(w.r.st, w.worker);
	w.src = calloc(w.r.cfg->nsources + 1, sizeof(*w.src));
	w.tgt = calloc(w.r.cfg->ntargets + 1, sizeof(*w.tgt));
	if (!w.src || !w.tgt) {
		err_set(&err, E_NOMEM, "out of memory");
		goto report_err;
	}
	for (i = 0; i < w.r.cfg->nsources; i++) {
		w.src[i].r = &w.r;
		w.src[i].src = &w.r.cfg->sources[i];
		w.src[i].err = &err;
	}
	for (i = 0; i < w.r.cfg->ntargets; i++) {
		w.tgt[i].r = &w.r;
		w.tgt[i].t = &w.r.cfg->targets[i];
		w.tgt[i].err = &err;
	}
	if (heartbeat_start(&hb, &w, &err) < 0)
		goto report_err;
	w.hb = &hb;
	w.pg = state_is_postgres(w.r.st);
	if (!g->quiet)
		log_msg("info", "worker %s on run %lld%s%s", w.worker,
			(long long)o->run_id, o->stage ? ", stage " : "",
			o->stage ? o->stage : "");
	code = work_loop(&w);
	heartbeat_stop(&hb);
	release_leases(&w, o->run_id);
	if (code < 0)
		goto report_err;
	if (!g->quiet)
		log_msg("info", "worker %s: %lld unit%s done, exit %d",
			w.worker, (long long)w.units, w.units == 1 ? "" : "s",
			code);
	goto out;
report_err:
	heartbeat_stop(&hb);
	code = eng_fail(&err);
out:
	if (w.src)
		for (i = 0; i < w.r.cfg->nsources; i++)
			run_src_close(&w.src[i]);
	free(w.src);
	free(w.tgt);
	run_teardown(&w.r, lock_fd);
	return code;
}

int work_plan(const struct cli_global *g)
{
	struct run r;
	struct run_opts ro;
	struct err err = ERR_INIT;
	int lock_fd = -1, code = EXIT_INTERNAL;
	int64_t open_run = 0;
	size_t i;

	memset(&ro, 0, sizeof(ro));
	ro.mode = RUN_WORK;
	/* Exclusive: no worker may claim while the run is being opened. */
	if (run_setup(&r, g, &ro, 0, &lock_fd, &err) < 0)
		goto report_err;
	if (state_run_unfinished(r.st, &open_run, &err) < 0)
		goto report_err;
	if (open_run) {
		/* A retried plan task, or a run a crash left open: the same
		 * run again, so every worker and task agree on its id. */
		r.run_id = open_run;
	} else {
		if (eng_run_new(&r, &err) < 0)
			goto report_err;
	}
	log_set_run(r.run_id);
	for (i = 0; i < r.cfg->nsources; i++) {
		struct src_ctx sc;
		int rc;

		memset(&sc, 0, sizeof(sc));
		sc.r = &r;
		sc.src = &r.cfg->sources[i];
		sc.err = &err;
		rc = run_plan_source(&r, &sc, &err);
		run_src_close(&sc);
		if (rc < 0)
			goto report_err;
	}
	printf("%lld\n", (long long)r.run_id);
	fflush(stdout);
	code = EXIT_DONE;
	goto out;
report_err:
	code = eng_fail(&err);
out:
	run_teardown(&r, lock_fd);
	return code;
}
