/* run.c - the stage engine; see run.h for the crash-safety rules. */
#include "run.h"
#include "pipeline/stages/load_uom.h"
#include "run_int.h"
#include "pipeline/stages/stage.h"
#include "pipeline/stages/stage_ackin.h"
#include "config.h"
#include "gc.h"
#include "lib/io.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "pipeline/report/metrics.h"
#include "pipeline/stages/render.h"
#include "pipeline/stages/render_par.h"
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

static int64_t run_clock(void)
{
	return schedule_clock(); /* STOCKPIPE_NOW pins it in tests */
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

/* ---- after load: the source's files --------------------------------- */

/* How many of run r's source units (scope NULL: every source's) are not
 * finished: pending or running. One counting query: reading each unit to
 * count it was one round trip per unit of the source. */
static int open_source_units(struct run *r, const char *scope, int64_t *open,
			     struct err *err)
{
	struct state_work_counts c;

	if (state_work_count(r->st, r->run_id, STATE_WORK_SOURCES ",load",
			     scope, &c, err) < 0)
		return -1;
	*open = c.pending + c.running;
	return 0;
}

int run_src_open(struct src_ctx *sc, struct err *err)
{
	if (sc->conn)
		return 0;
	if (config_check_file(sc->r->cfg, sc->src->conn.key_file, err) < 0 ||
	    config_check_file(sc->r->cfg, sc->src->conn.known_hosts, err) < 0)
		return -1;
	return conn_open(sc->src->url, &sc->src->conn, &sc->conn, err);
}

void run_src_close(struct src_ctx *sc)
{
	while (sc->nmaps > 0)
		mapping_free(sc->maps[--sc->nmaps]);
	conn_close(sc->conn);
	sc->conn = NULL;
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
		    eng_stopping())
			break;
		run_say(r, "  %s: listing failed (%s); retry %d of %d in %llds",
		    sc->src->name, e.reason, k + 1, r->cfg->retries,
		    (long long)(eng_backoff_ms(r, k + 1) / 1000));
		eng_backoff_wait(eng_backoff_ms(r, k + 1));
		conn_close(sc->conn);
		sc->conn = NULL;
		err_clear(&e);
	}
	/* No unit exists for what failed: record the failure on a stand-in
	 * unit so the run report shows it (parked until a later listing
	 * works). */
	eng_unit_init(&u, r, ST_FETCH, sc->src->name, "(list)");
	u.list_standin = 1;
	if (state_unit_add(r->st, &u, err) < 0)
		return -1;
	eng_unit_fail(r, &u, &e);
	eng_unit_outcome(r, &u, US_PENDING);
	return 1;
}

int run_do_unit(struct run *r, struct src_ctx *sc, struct tgt_ctx *tc,
		struct state_unit *u)
{
	const struct stage_ops *op = stage_of(run_stage_index(u->stage));
	struct eng_call c = {r, NULL, NULL, 0};

	if (op && op->stage == ST_FETCH && sc && !sc->conn &&
	    u->state != US_DONE && u->state != US_SKIPPED) {
		struct err e = ERR_INIT;

		/* Workers connect to a source when they first fetch from it. */
		if (run_src_open(sc, &e) < 0) {
			eng_unit_fail(r, u, &e);
			eng_unit_outcome(r, u, US_PENDING);
			return 0;
		}
	}
	if (!op)
		return 0;
	c.fn = op->unit;
	c.ud = op->scope == STAGE_SOURCE ? (void *)sc : (void *)tc;
	if (!c.ud)
		return 0;
	return eng_unit_call(&c, u);
}

int run_source_tail(struct run *r, struct src_ctx *sc, struct err *err)
{
	int64_t open;

	if (open_source_units(r, sc->src->name, &open, err) < 0 ||
	    stage_acks.source_done(r, sc, err) < 0)
		return -1;
	/* Post-process the partner's files only when every document made
	 * from the file is loaded (or deliberately set aside): never before
	 * (the post stage checks each file's units). Pending units mean this
	 * invocation stopped early (--until, a signal). */
	if (!open && !r->interrupted &&
	    (run_src_open(sc, err) < 0 ||
	     state_units_each(r->st, r->run_id,
			      run_stage_names[stage_post.stage], sc->src->name,
			      stage_post.unit, sc, err) < 0))
		return -1;
	return 0;
}

/* A source's units of run r->run_id, stage by stage, then its tail.
 * parked_only: an older run whose parked units are retried in place. */
static int source_units(struct run *r, struct src_ctx *sc, int parked_only,
			struct err *err)
{
	struct eng_call c = {r, NULL, sc, parked_only};
	int s, until = eng_until_stage(r);

	/* --until STAGE: this invocation stops after that stage. Documents
	 * load in the order of their files (state_work.h), the order workers
	 * sharing a run use too. */
	for (s = parked_only ? ST_UNPACK : ST_FETCH; s <= ST_MAP && s <= until;
	     s++) {
		c.fn = stage_of(s)->unit;
		if (state_units_each(r->st, r->run_id, run_stage_names[s],
				     sc->src->name, eng_unit_call, &c, err) < 0)
			return -1;
	}
	c.fn = stage_load.unit;
	if (until >= ST_LOAD &&
	    state_work_load_units_each(r->st, r->run_id, sc->src->name,
				       eng_unit_call, &c, err) < 0)
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
	struct eng_call render = {r, stage_render.unit, &tc, 0};
	struct eng_call deliver = {r, stage_deliver.unit, &tc, 0};

	if (run_plan_target(r, t, err) < 0 ||
	    state_units_each(r->st, r->run_id, "render", t->name, eng_unit_call,
			     &render, err) < 0 ||
	    (eng_until_stage(r) >= ST_DELIVER &&
	     state_units_each(r->st, r->run_id, "deliver", t->name,
			      eng_unit_call, &deliver, err) < 0) ||
	    (eng_until_stage(r) >= ST_DELIVER && ackin_target(r, t, err) < 0))
		return -1;
	return 0;
}

/* ---- rerun ------------------------------------------------------------ */

static int prepare_rerun(struct run *r, struct err *err)
{
	int from = run_stage_index(r->o->from_stage);
	size_t i;
	int s, rc = -1;

	if (from < ST_UNPACK)
		return err_set(err, E_USAGE,
			       "--from must be unpack, map, load, render or "
			       "deliver (a rerun never fetches again)");
	if (eng_tx_begin(r->st, err) < 0)
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
	rc = state_run_reopen(r->st, r->run_id, err);
fail:
	return eng_tx_end(r->st, rc, err);
}

/* ---- the run ---------------------------------------------------------- */

/* Retries, in place, the parked source units of older run old_run that
 * are due (state_park.h): the same stages with the run's own id, so their
 * successors and files stay with the run that fetched them. The old run
 * then gets its report and exit code again. */
struct park_ctx {
	struct run *r;
	struct err *err;
};

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
		rc = eng_reconclude(r, old_run, err);
	r->run_id = keep;
	return rc < 0 ? -1 : r->interrupted;
}

static int execute(struct run *r, struct err *err)
{
	const struct run_opts *o = r->o;
	int do_sources = !o->targets_only && !(o->mode == RUN_NEW &&
					       o->only_target);
	int do_targets = eng_until_stage(r) >= ST_RENDER &&
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
		int64_t open;

		if (open_source_units(r, NULL, &open, err) < 0)
			return -1;
		if (open) {
			err_set(&r->first, E_BUSY,
				"targets held: %lld source unit%s of run %lld "
				"not done yet; finish the sources first",
				(long long)open, open == 1 ? "" : "s",
				(long long)r->run_id);
			run_say(r, "%s", r->first.reason);
			r->held = 1;
			return 0;
		}
	}
	run_render_ahead(r);
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

/* The replayed file's fetch unit u (done) and its unpack unit next. */
static int replay_units(struct run *r, struct state_unit *u,
			struct state_unit *next, struct err *err)
{
	if (state_unit_add(r->st, u, err) < 0 ||
	    state_unit_save(r->st, u, err) < 0 ||
	    state_arrival_fetch(r->st, u->id, err) < 0)
		return -1;
	next->parent = u->id;
	if (state_unit_add(r->st, next, err) < 0 ||
	    state_unit_save(r->st, next, err) < 0)
		return -1;
	return 0;
}

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
	char path[4096], sha[SHA256_HEX_LEN], key[512];
	const char *base;
	uint64_t size;

	if (!src)
		return err_set(err, E_USAGE, "no source named '%s'",
			       r->o->only_source);
	base = strrchr(r->o->replay_file, '/');
	base = base ? base + 1 : r->o->replay_file;
	if (!conn_name_ok(base))
		return err_set(err, E_USAGE, "bad file name '%s'", base);
	if (eng_tx_begin(r->st, err) < 0 ||
	    eng_tx_end(r->st,
		       eng_run_create(r, err) < 0 ||
			       state_plan_mark(r->st, r->run_id, "fetch",
					       src->name, err) < 0,
		       err) < 0)
		return -1;
	snprintf(key, sizeof(key), "replay:%s", base);
	snprintf(path, sizeof(path), "%s/inbox/%s/replay%lld_%s",
		 r->cfg->state_dir, src->name, (long long)r->run_id, base);
	/* The copy first, then its units in one transaction: a crash in
	 * between leaves an empty run that resume simply closes. */
	if (io_copy(r->o->replay_file, path, sha, &size, err) < 0)
		return -1;
	eng_unit_init(&u, r, ST_FETCH, src->name, key);
	u.state = US_DONE;
	u.attempts = 1;
	u.records_in = 1;
	u.started_ms = u.finished_ms = eng_now_ms();
	if (eng_field(u.input_path, sizeof(u.input_path), r->o->replay_file,
		      "replay file path", err) < 0)
		return -1;
	if (eng_field(u.output_path, sizeof(u.output_path), path, "input path",
		      err) < 0)
		return -1;
	if (eng_field(u.output_sha, sizeof(u.output_sha), sha, "input sha",
		      err) < 0)
		return -1;
	run_notef(u.detail, sizeof(u.detail), "replay of '%s' (%llu bytes)",
	      r->o->replay_file, (unsigned long long)size);
	eng_unit_init(&next, r, ST_UNPACK, src->name, key);
	if (eng_field(next.input_path, sizeof(next.input_path), path,
		      "input path", err) < 0)
		return -1;
	if (eng_field(next.input_sha, sizeof(next.input_sha), sha, "input sha",
		      err) < 0)
		return -1;
	if (eng_tx_begin(r->st, err) < 0 ||
	    eng_tx_end(r->st, replay_units(r, &u, &next, err), err) < 0)
		return -1;
	run_say(r, "run %lld: replay of '%s' as source %s", (long long)r->run_id,
	    r->o->replay_file, src->name);
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
	if (eng_run_new(r, err) < 0)
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
	eng_signals_install();
	return 0;
}

void run_teardown(struct run *r, int lock_fd)
{
	/* renders ahead of a run that failed: their temporary files go */
	render_par_end();
	state_close(r->st);
	r->st = NULL;
	lock_release(lock_fd);
	config_free(r->cfg);
	r->cfg = NULL;
}

/* `resume RUN` of a concluded run: its parked units are retried (in place)
 * by a new run. 1 when it has none (nothing to do), 0, or -1 with err. */
static int resume_concluded(struct run *r, int64_t *asked, struct err *err)
{
	const struct run_opts *o = r->o;

	if (eng_tx_begin(r->st, err) < 0 ||
	    eng_tx_end(r->st,
		       state_park_request(r->st, 0, o->run_id, asked, err) < 0,
		       err) < 0)
		return -1;
	if (!*asked) {
		run_say(r, "run %lld is done and has no parked unit: nothing "
			   "to resume",
			(long long)o->run_id);
		return 1;
	}
	run_say(r, "run %lld: %lld parked unit%s to retry", (long long)o->run_id,
		(long long)*asked, *asked == 1 ? "" : "s");
	return 0;
}

/* `retry`: asks for a retry of the parked unit or run it names. */
static int retry_request(struct run *r, int64_t *asked, struct err *err)
{
	const struct run_opts *o = r->o;

	if (eng_tx_begin(r->st, err) < 0 ||
	    eng_tx_end(r->st,
		       state_park_request(r->st, o->retry_unit, o->retry_run,
					  asked, err) < 0,
		       err) < 0)
		return -1;
	if (!*asked)
		return err_set(err, E_USAGE,
			       "%s %lld has no parked unit (see 'stockpipe "
			       "quarantine list')",
			       o->retry_unit ? "unit" : "run",
			       (long long)(o->retry_unit ? o->retry_unit
							 : o->retry_run));
	run_say(r, "%lld parked unit%s to retry", (long long)*asked,
		*asked == 1 ? "" : "s");
	return 0;
}

/* run, resume, retry: the run this invocation works (an unfinished one,
 * or a new one) in r->run_id. *chain: a new run follows the resumed one.
 * 1 when there is nothing to do, 0, or -1 with err. */
static int resume_or_new(struct run *r, int *chain, struct err *err)
{
	const struct run_opts *o = r->o;
	int64_t open_run = 0, asked = 0;
	int rc;

	if (o->mode == RUN_RESUME && o->run_id) {
		struct state_run sr;

		if (state_run_get(r->st, o->run_id, &sr, err) < 0)
			return -1;
		if (strcmp(sr.status, "done") && strcmp(sr.status, "failed"))
			open_run = o->run_id;
		else if ((rc = resume_concluded(r, &asked, err)) != 0)
			return rc;
	} else if (state_run_unfinished(r->st, &open_run, err) < 0) {
		return -1;
	}
	if ((o->retry_unit || o->retry_run) && retry_request(r, &asked, err) < 0)
		return -1;
	if (open_run) {
		struct state_run sr;

		r->run_id = open_run;
		run_say(r, "resuming run %lld", (long long)open_run);
		if (state_run_get(r->st, open_run, &sr, err) < 0 ||
		    eng_tx_begin(r->st, err) < 0 ||
		    eng_tx_end(r->st, state_run_reopen(r->st, open_run, err),
			       err) < 0)
			return -1;
		/* An interrupted run is finished first, then this invocation
		 * does what it was asked: a new run. A scheduler's partial run
		 * is the run its tasks share: finishing it is the whole job. */
		*chain = o->mode == RUN_NEW && !eng_partial(r) &&
			 strcmp(sr.status, "partial");
	} else if (o->mode == RUN_RESUME && !asked) {
		run_say(r, "nothing to resume: every run is done");
		return 1;
	} else if (eng_run_new(r, err) < 0) {
		return -1;
	} else {
		run_say(r, "run %lld", (long long)r->run_id);
	}
	return 0;
}

/* rerun RUN --from STAGE: the units from that stage on made pending. */
static int rerun_open(struct run *r, struct err *err)
{
	const struct run_opts *o = r->o;
	struct state_run sr;
	int64_t restored;
	int from;

	r->run_id = o->run_id;
	if (state_run_get(r->st, r->run_id, &sr, err) < 0)
		return -1;
	/* gc.h: its inbox copies, canonical records and outbox files are
	 * gone; redoing a stage would work from nothing. */
	if (sr.gc_at[0])
		return err_set(err, E_USAGE,
			       "run %lld is outside the retention: gc removed "
			       "its files at %s, so it cannot be rerun (replay "
			       "its raw files with 'stockpipe replay' instead)",
			       (long long)r->run_id, sr.gc_at);
	if (o->only_source && !config_source(r->cfg, o->only_source))
		return err_set(err, E_USAGE, "no source named '%s'",
			       o->only_source);
	if (o->only_target && !config_target(r->cfg, o->only_target))
		return err_set(err, E_USAGE, "no target named '%s'",
			       o->only_target);
	from = run_stage_index(o->from_stage);
	/* gc.h: the inputs it compressed, plain again for the stages redone
	 * (load too: it sniffs a routed document's input for its mapping). */
	if (from >= ST_UNPACK && from <= ST_LOAD &&
	    gc_restore_run(r->st, r->cfg, r->run_id, o->only_source,
			   &restored, err) < 0)
		return -1;
	if (prepare_rerun(r, err) < 0)
		return -1;
	run_say(r, "rerun %lld from %s", (long long)r->run_id, o->from_stage);
	return 0;
}

/* After an interrupted run was finished: the new run this invocation was
 * asked for (new files, due targets). Returns the combined exit code, or
 * -1 with err. */
static int chain_new_run(struct run *r, int first_code, struct err *err)
{
	int skip = r->g->skip_exit_code, code;

	eng_reset(r);
	if (eng_run_new(r, err) < 0)
		return -1;
	run_say(r, "run %lld", (long long)r->run_id);
	log_set_run(r->run_id);
	if (execute(r, err) < 0 || (code = eng_conclude(r, err)) < 0)
		return -1;
	if (code != first_code && skip &&
	    (code == skip || first_code == skip))
		return code == skip ? first_code : code;
	return eng_code_combine(first_code, code);
}

int run_pipeline(const struct cli_global *g, const struct run_opts *o)
{
	struct run r;
	struct err err = ERR_INIT;
	int lock_fd = -1, code = EXIT_INTERNAL, chain = 0, rc = 0;

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
	if (o->mode == RUN_REPLAY)
		rc = replay_prepare(&r, &err);
	else if (o->mode == RUN_DELIVER)
		rc = deliver_prepare(&r, &err);
	else if (o->mode == RUN_NEW || o->mode == RUN_RESUME)
		rc = resume_or_new(&r, &chain, &err);
	else
		rc = rerun_open(&r, &err);
	if (rc < 0)
		goto report_err;
	if (rc > 0) {
		code = g->skip_exit_code ? g->skip_exit_code : EXIT_DONE;
		goto out;
	}
	log_set_run(r.run_id);
	if (execute(&r, &err) < 0)
		goto report_err;
	if ((code = eng_conclude(&r, &err)) < 0)
		goto report_err;
	if (chain && !r.interrupted && (code = chain_new_run(&r, code, &err)) < 0)
		goto report_err;
	goto out;
report_err:
	code = eng_fail(&err);
out:
	run_teardown(&r, lock_fd);
	return code;
}
