/* stage_render.c - the render stage: when a target is due, its snapshot
 * rendered into the outbox (delivered by stage_deliver.c). */
#include "pipeline/run.h"
#include "pipeline/run_int.h"
#include "stage.h"
#include "pipeline/config.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "lib/log.h"
#include "render.h"
#include "render_par.h"
#include "render_share.h"
#include "pipeline/schedule.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_arrival.h"
#include "pipeline/store/state_ic.h"
#include "pipeline/store/state_park.h"
#include "pipeline/store/state_work.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "transforms/model/dt.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"
#include "transforms/formats/unpack.h"

/* ---- render and deliver ------------------------------------------------ */

/* The target's file-name template for this run (filepat.c, the same
 * expansion `check` tried against every value it can take). */
static int expand_name(const struct run *r, const struct cfg_target *t,
		       const char *ext, char *out, size_t n, struct err *err)
{
	struct err e = ERR_INIT;

	if (filepat_name_expand(t->filename, t->name, r->run_id, r->now, ext,
				out, n, &e) < 0)
		return err_set(err, E_CONFIG, "target '%s': %s", t->name,
			       e.reason);
	if (!conn_name_ok(out))
		return err_set(err, E_CONFIG, "target '%s': bad file name '%s'",
			       t->name, out);
	return 0;
}

/* A rerun (or a template without the time) can expand to a name the
 * target already received with other content. Never reuse it: the target
 * would see a file change under a name it has processed. Add "_2", "_3"...
 * before the extension instead; deterministic, so a resumed render picks
 * the same name again. */
static int unique_name(struct run *r, const struct cfg_target *t, char *name,
		       size_t n, struct err *err)
{
	char base[256], alt[300];
	const char *dot;
	int used, i;

	if (state_delivery_name_used(r->st, t->name, name, &used, err) < 0)
		return -1;
	if (!used)
		return 0;
	if (str_copy(base, sizeof(base), name) < 0)
		return err_set(err, E_TOOBIG, "target '%s': file name too long",
			       t->name);
	dot = strrchr(base, '.');
	for (i = 2; i < 10000; i++) {
		if (dot)
			snprintf(alt, sizeof(alt), "%.*s_%d%s",
				 (int)(dot - base), base, i, dot);
		else
			snprintf(alt, sizeof(alt), "%s_%d", base, i);
		if (state_delivery_name_used(r->st, t->name, alt, &used,
					     err) < 0)
			return -1;
		if (!used) {
			if (str_copy(name, n, alt) < 0)
				return err_set(err, E_CONFIG,
					       "target '%s': file name too "
					       "long",
					       t->name);
			return 0;
		}
	}
	return err_set(err, E_INTERNAL, "target '%s': no free file name",
		       t->name);
}

/* The envelope control number of a render unit: drawn from the partner's
 * counter once, saved in the unit in the same transaction, and reused when
 * the unit is redone after a crash, so the redone file is byte-identical
 * and no number is handed out twice. */
static int control_number(struct run *r, struct state_unit *u,
			  const char *counter, int64_t *out, struct err *err)
{
	int rc = -1;

	if (u->control_no > 0) {
		*out = u->control_no;
		return 0;
	}
	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	if (state_counter_next(r->st, counter, out, err) < 0)
		goto fail;
	u->control_no = *out;
	u->outcome = UO_NONE;
	u->rejects_path[0] = '\0';
	run_notef(u->detail, sizeof(u->detail), "control=%lld",
	      (long long)*out);
	rc = state_unit_save(r->st, u, err);
fail:
	return eng_tx_end(r->st, rc, err);
}

struct ready_ctx {
	struct run *r;
	struct state_unit *u;
	const struct cfg_target *t;
	const struct outbound *ob;
	char prev[256];
	char base[256];           /* last delivered file (delta base) */
};

/* After the rows are rendered: skip if the target already has this
 * content; otherwise take the envelope's control number. */
static int render_ready(void *ud, const char *key, struct outbound_env *env,
			int *skip, struct err *err)
{
	struct ready_ctx *c = ud;
	int found;

	if (c->t->delta && env->rows == 0) {
		/* Nothing changed since the last delivery. */
		*skip = 1;
		/* prev is a name shown in the detail; the texts fit */
		str_copy_cut(c->prev, sizeof(c->prev),
			     c->base[0] ? c->base : "(no changes)");
		return 0;
	}
	if (env->rows == 0 && !strcmp(outbound_kind(c->ob), "stock")) {
		/* No position is known yet (every store file quarantined, say):
		 * an empty full snapshot would tell the target "no stock
		 * anywhere". Send nothing instead. */
		*skip = 1;
		/* prev is a name shown in the detail; the texts fit */
		str_copy_cut(c->prev, sizeof(c->prev),
			     "(nothing: no stock positions known yet)");
		return 0;
	}
	if (state_delivery_find(c->r->st, c->t->name, key, c->prev,
				sizeof(c->prev), &found, err) < 0)
		return -1;
	if (found) {
		*skip = 1;
		return 0;
	}
	if (outbound_counter(c->ob))
		return control_number(c->r, c->u, outbound_counter(c->ob),
				      &env->control, err);
	return 0;
}

/* The stale-source rule (render_stale_rule) on this render: 1 when the
 * target is held (u is finished, or its failure recorded: the stage
 * returns 0), else 0 with *tt the target as rendered (maybe with the
 * extra buffer). */
static int render_stale(struct run *r, const struct cfg_target *t,
			struct state_unit *u, struct cfg_target *tt)
{
	struct err e = ERR_INIT;
	enum render_stale stale;
	char why[512];

	*tt = *t;
	if (render_stale_rule(r->st, r->cfg, t, r->now, tt, &stale, why,
			      sizeof(why), &e) < 0)
		return eng_unit_fail(r, u, &e), 1;
	if (stale == RENDER_STALE_HOLD) {
		u->outcome = UO_HELD;
		u->rejects_path[0] = '\0';
		run_notef(u->detail, sizeof(u->detail), "held: %s", why);
		if (eng_unit_finish(r, u, NULL, &e) < 0)
			return eng_unit_fail(r, u, &e), 1;
		run_say(r, "  %s: held, nothing delivered: %s", tt->name, why);
		return 1;
	}
	if (stale == RENDER_STALE_BUFFER)
		run_say(r, "  %s: extra %d%% buffer: %s", tt->name,
			tt->stale_buffer_pct, why);
	return 0;
}

/* A delta target: base, the name of its latest delivery, and prev_pub,
 * that delivery's published picture (empty when there is none, or when
 * it is gone from the outbox: a full snapshot goes out). */
static int render_prev_pub(struct run *r, const struct cfg_target *tt,
			   char *base, size_t nbase, char *prev_pub, size_t n,
			   struct err *e)
{
	int found;

	if (state_delivery_latest(r->st, tt->name, base, nbase, &found, e) < 0)
		return -1;
	if (!found)
		return 0;
	run_path_in(r, prev_pub, n, "outbox", tt->name, base);
	strncat(prev_pub, ".pub", n - strlen(prev_pub) - 1);
	/* kept compacted by gc (lib/gz.h); the name stays the plain one:
	 * it is part of the content key */
	if (!gz_exists(prev_pub)) {
		run_say(r, "  %s: the picture of '%s' is gone; sending a full "
			   "snapshot",
			tt->name, base);
		prev_pub[0] = '\0';
	}
	return 0;
}

/* Rows the target's format cannot carry (on_bad_row: reject) are left
 * out and kept here, beside the sources' rejects of the run. */
static int render_rejects_path(const struct run *r, const struct cfg_target *tt,
			       char *rpath, size_t n, struct err *e)
{
	if ((size_t)snprintf(rpath, n, "%s/rejects/%lld/targets/%s.jsonl",
			     r->cfg->state_dir, (long long)r->run_id,
			     tt->name) >= n)
		return err_set(e, E_CONFIG,
			       "target '%s': reject file path too long",
			       tt->name);
	return 0;
}

/* Records a render whose content the target already has: nothing to
 * deliver, the unit done with the delivered file prev named; 0 or -1. */
static int render_unchanged(struct run *r, const struct cfg_target *t,
			    struct state_unit *u,
			    const struct render_stats *rs, const char *rpath,
			    const char *key, const char *prev, struct err *e)
{
	/* Same content as a file the target already has: sending it
	 * again would be a duplicate delivery. */
	u->output_path[0] = '\0';
	if (eng_field(u->output_sha, sizeof(u->output_sha), key, "output key",
		      e) < 0)
		return -1;
	u->outcome = UO_NONE;
	if (eng_field(u->rejects_path, sizeof(u->rejects_path),
		      rs->rejects ? rpath : "", "rejects path", e) < 0)
		return -1;
	run_notef(u->detail, sizeof(u->detail),
		  "unchanged: same as delivered '%s'%s%s", prev,
		  rs->rejects ? "; rejects: " : "",
		  rs->rejects ? rpath : "");
	if (eng_unit_finish(r, u, NULL, e) < 0)
		return -1;
	run_say(r, "  %s: unchanged since '%s', nothing to deliver",
		t->name, prev);
	return 0;
}

/* Composes the unit's note: rows, the delta's base, the envelope's
 * control number and where the rejects went. */
static void render_detail(struct state_unit *u, const struct render_stats *rs,
			  const struct outbound_env *env,
			  const char *prev_pub, const char *base,
			  const char *rpath)
{
	run_notef(u->detail, sizeof(u->detail), "%lld rows%s%s%s",
		  (long long)rs->rows, prev_pub[0] ? ", delta since '" : "",
		  prev_pub[0] ? base : "", prev_pub[0] ? "'" : "");
	if (env->control) {
		size_t dl = strlen(u->detail);

		run_notef(u->detail + dl, sizeof(u->detail) - dl,
			  ", control=%lld", (long long)env->control);
	}
	if (rs->rejects) {
		size_t dl = strlen(u->detail);

		/* "rejects: PATH" last, as map units say it: the report
		 * points there. */
		run_notef(u->detail + dl, sizeof(u->detail) - dl,
			  "; rejects: %s", rpath);
	}
}

static void render_ahead(struct run *r);

/* The rows rendered ahead by a thread (render_par.h), published; or,
 * when there is no such job for these inputs or it failed, the target
 * rendered here as render_target does. As render_target. */
static int render_rows_of(struct run *r, const struct cfg_target *tt,
			  const struct outbound *ob, struct outbound_env *env,
			  const char *path, const char *prev_pub,
			  const char *rpath, struct ready_ctx *rc, char *key,
			  char *sha, struct render_stats *rs, struct err *e)
{
	struct render_part *part = NULL;
	int got;

	if (!prev_pub[0])
		part = render_par_take(tt, ob, path, rpath);
	if (part) {
		got = render_part_publish(part, env, render_ready, rc, key, sha,
					  rs, e);
		/* 1: rows left out of a counted file; as render_target
		 * does, the file is made again with a body file */
		if (got != 1)
			return got;
	}
	return render_target(r->st, tt, ob, env, path,
			     prev_pub[0] ? prev_pub : NULL, rpath,
			     render_ready, rc, key, sha, rs, e);
}

static int render_unit(void *ud, struct state_unit *u)
{
	struct tgt_ctx *tc = ud;
	struct run *r = tc->r;
	struct err e = ERR_INIT;
	struct outbound *ob = NULL;
	struct render_stats rs;
	struct outbound_env env;
	struct ready_ctx rc;
	struct state_unit next;
	char name[256], path[4096], sha[SHA256_HEX_LEN], key[SHA256_HEX_LEN];
	char prev_pub[4200], rpath[4200];
	struct cfg_target tt;

	if (u->state == US_DONE)
		return 0;
	if (eng_stopping())
		return r->interrupted = 1, 1;
	if (eng_unit_start(r, u, tc->err) < 0)
		return -1;
	render_ahead(r);
	if (render_stale(r, tc->t, u, &tt))
		return 0;
	if (config_check_file(r->cfg, tc->t->mapping, &e) < 0 ||
	    outbound_load(tc->t->mapping, &ob, &e) < 0)
		return eng_unit_fail(r, u, &e);
	outbound_set_formula_guard(ob, tc->t->csv_formula_guard);
	/* A failure here is the unit's cause: e must not stay set for a
	 * later step to be reported under. */
	if (eng_tx_begin(r->st, &e) < 0 ||
	    eng_tx_end(r->st,
		       state_run_dep_add(r->st, r->run_id, tc->t->mapping,
					 outbound_sha256(ob), &e) < 0 ||
			       state_unit_dep_add(r->st, u, tc->t->mapping,
						  outbound_sha256(ob),
						  eng_now_ms(), &e) < 0,
		       &e) < 0)
		goto fail;
	if (expand_name(r, tc->t, outbound_format(ob), name, sizeof(name),
			&e) < 0 ||
	    unique_name(r, tc->t, name, sizeof(name), &e) < 0)
		goto fail;
	run_path_in(r, path, sizeof(path), "outbox", tc->t->name, name);
	memset(&env, 0, sizeof(env));
	env.target = tc->t->name;
	env.now = r->now;
	memset(&rc, 0, sizeof(rc));
	rc.r = r;
	rc.u = u;
	rc.t = tc->t;
	rc.ob = ob;
	sha[0] = '\0';
	prev_pub[0] = '\0';
	if ((tt.delta && render_prev_pub(r, &tt, rc.base, sizeof(rc.base),
					 prev_pub, sizeof(prev_pub), &e) < 0) ||
	    render_rejects_path(r, &tt, rpath, sizeof(rpath), &e) < 0)
		goto fail;
	/* One SELECT streams the positions: a consistent snapshot, and no
	 * load runs meanwhile (we hold the lock). The run's targets share
	 * it: the renders come after all of the run's loads. */
	render_share_run(r->run_id);
	if (render_rows_of(r, &tt, ob, &env, path, prev_pub, rpath, &rc, key,
			   sha, &rs, &e) < 0)
		goto fail;
	if (!sha[0] && !rs.rows && rs.rejects && !tt.delta &&
	    !strcmp(outbound_kind(ob), "stock"))
		/* render_ready saw no rows: there were, all left out. */
		/* shown in the detail; the text fits */
		str_copy_cut(rc.prev, sizeof(rc.prev),
			     "(nothing: every row rejected)");
	outbound_free(ob);
	ob = NULL;
	u->records_out = rs.rows;
	u->rejects = rs.rejects;
	if (rs.rejects && !r->g->quiet)
		log_msg("warn",
			"  %s: %lld row%s left out (on_bad_row: reject), "
			"first: %s",
			tt.name, (long long)rs.rejects,
			rs.rejects == 1 ? "" : "s", rs.first_reject);
	if (!sha[0]) {
		if (render_unchanged(r, tc->t, u, &rs, rpath, key, rc.prev,
				     &e) < 0)
			goto fail;
		return 0;
	}
	if (eng_field(u->output_path, sizeof(u->output_path), path,
		      "output path", &e) < 0)
		goto fail;
	if (eng_field(u->output_sha, sizeof(u->output_sha), sha, "output sha",
		      &e) < 0)
		goto fail;
	u->outcome = UO_NONE;
	if (eng_field(u->rejects_path, sizeof(u->rejects_path),
		      rs.rejects ? rpath : "", "rejects path", &e) < 0)
		goto fail;
	render_detail(u, &rs, &env, prev_pub, rc.base, rpath);
	eng_unit_init(&next, r, ST_DELIVER, tc->t->name, "delivery");
	next.parent = u->id;
	if (eng_field(next.input_path, sizeof(next.input_path), path,
		      "input path", &e) < 0)
		goto fail;
	/* The delivery ledger is keyed by content, not by file bytes. */
	if (eng_field(next.input_sha, sizeof(next.input_sha), key, "input sha",
		      &e) < 0)
		goto fail;
	if (eng_unit_finish(r, u, &next, &e) < 0)
		goto fail;
	return 0;
fail:
	outbound_free(ob);
	return eng_unit_fail(r, u, &e);
}

static int target_due(struct run *r, const struct cfg_target *t, int *due,
		      struct err *err)
{
	int64_t last, parked;

	*due = 1;
	if (t->schedule == CFG_SCHED_ALWAYS ||
	    (r->o->mode == RUN_RERUN) || r->o->mode == RUN_DELIVER)
		return 0;
	/* A target whose last render or delivery failed stays due: the next
	 * run sends it a fresh snapshot, whatever its schedule says. A
	 * parked render answers it: no need to look at the deliveries. */
	if (state_park_count_scope(r->st, r->run_id, "render", t->name,
				   &parked, err) < 0 ||
	    (!parked &&
	     state_park_count_scope(r->st, r->run_id, "deliver", t->name,
				    &parked, err) < 0))
		return -1;
	if (parked)
		return 0;
	if (state_delivery_last(r->st, t->name, &last, err) < 0)
		return -1;
	if (t->schedule == CFG_SCHED_CRON) {
		int64_t checked;

		/* Due when a scheduled time passed since the target was last
		 * considered due or delivered: once, however many windows
		 * were missed. */
		if (state_target_last_check(r->st, t->name, &checked, err) < 0)
			return -1;
		*due = schedule_due(t->cron, checked > last ? checked : last,
				    r->now);
		return 0;
	}
	*due = !last || r->now - last >= t->every;
	return 0;
}

/* counts the units of a target not done yet */
static int count_open_unit(void *ud, struct state_unit *u)
{
	if (u->state != US_DONE)
		(*(int *)ud)++;
	return 0;
}

/* 1 when t's render unit will work in this run: planned and not done,
 * or due; 0 or -1 with err. */
static int will_render(struct run *r, const struct cfg_target *t,
		       struct err *err)
{
	int planned, n = 0;

	if (state_plan_done(r->st, r->run_id, "render", t->name, &planned,
			    err) < 0)
		return -1;
	if (planned)
		return state_units_each(r->st, r->run_id, "render", t->name,
					count_open_unit, &n, err) < 0
			       ? -1
			       : n > 0;
	if (target_due(r, t, &planned, err) < 0)
		return -1;
	return planned;
}

/* Adds t's render as a job (render_par_add) with the inputs render_unit
 * computes, read without writing anything; the folder of its file in
 * dir when it is the first. 0 added, 1 not, -1 with err (the store). */
static int ahead_target(struct run *r, const struct cfg_target *t, char *dir,
			size_t ndir, struct err *err)
{
	struct err e = ERR_INIT;
	struct outbound *ob = NULL;
	struct outbound_env env;
	struct cfg_target tt;
	enum render_stale stale;
	char why[512], name[256], path[4096], rpath[4200], *slash;
	int rc;

	if ((rc = will_render(r, t, err)) <= 0)
		return rc < 0 ? -1 : 1;
	tt = *t;
	/* Whatever the unit would fail on, it fails on itself. */
	if (render_stale_rule(r->st, r->cfg, t, r->now, &tt, &stale, why,
			      sizeof(why), &e) < 0 ||
	    stale == RENDER_STALE_HOLD ||
	    config_check_file(r->cfg, t->mapping, &e) < 0 ||
	    outbound_load(t->mapping, &ob, &e) < 0)
		return 1;
	outbound_set_formula_guard(ob, t->csv_formula_guard);
	if (expand_name(r, t, outbound_format(ob), name, sizeof(name), &e) <
		    0 ||
	    unique_name(r, t, name, sizeof(name), &e) < 0 ||
	    render_rejects_path(r, &tt, rpath, sizeof(rpath), &e) < 0) {
		outbound_free(ob);
		return 1;
	}
	run_path_in(r, path, sizeof(path), "outbox", t->name, name);
	memset(&env, 0, sizeof(env));
	env.target = t->name;
	env.now = r->now;
	if ((rc = render_par_add(&tt, ob, &env, path, rpath, err)) != 0) {
		outbound_free(ob);
		return rc;
	}
	if (!dir[0]) {
		str_copy_cut(dir, ndir, path);
		if ((slash = strrchr(dir, '/')) && slash != dir)
			*slash = '\0';
	}
	return 0;
}

/* The run whose first render unit renders ahead (run_render_ahead): the
 * walk and the threads' start then count in the render stage's time. */
static int64_t ahead_run;

void run_render_ahead(struct run *r)
{
	render_par_end();
	ahead_run = r->run_id;
}

/* At the run's first render unit: the jobs added and started. */
static void render_ahead(struct run *r)
{
	struct err e = ERR_INIT;
	int n = render_par_threads();
	char dir[4200] = "";
	size_t i;

	if (ahead_run != r->run_id)
		return;
	ahead_run = 0;
	if (n < 2 || r->interrupted || r->o->mode == RUN_DELIVER)
		return;
	render_share_run(r->run_id);
	for (i = 0; i < r->cfg->ntargets; i++) {
		const struct cfg_target *t = &r->cfg->targets[i];

		if (r->o->only_target && strcmp(r->o->only_target, t->name))
			continue;
		if (ahead_target(r, t, dir, sizeof(dir), &e) < 0)
			break;
	}
	/* One job gains nothing over rendering it in its unit. */
	if (e.code || render_par_jobs() < 2) {
		render_par_end();
		return;
	}
	if (render_par_start(r->st, n, dir, &e) < 0)
		log_msg("warn", "  the targets render one after another: %s",
			e.reason);
}

int run_plan_target(struct run *r, const struct cfg_target *t,
		    struct err *err)
{
	struct state_unit u;
	int planned, due, rc;

	if (state_plan_done(r->st, r->run_id, "render", t->name, &planned,
			    err) < 0)
		return -1;
	if (planned)
		return 0;
	if (target_due(r, t, &due, err) < 0)
		return -1;
	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	eng_unit_init(&u, r, ST_RENDER, t->name, "snapshot");
	/* The new render is the retry of every render or delivery of this
	 * target that older runs parked. */
	rc = (due && (state_unit_add(r->st, &u, err) < 0 ||
		      state_unit_save(r->st, &u, err) < 0 ||
		      state_park_supersede(r->st, r->run_id, "render", t->name,
					   NULL, err) < 0 ||
		      state_park_supersede(r->st, r->run_id, "deliver",
					   t->name, NULL, err) < 0 ||
		      state_target_checked(r->st, t->name, r->now, err) < 0)) ||
	     state_plan_mark(r->st, r->run_id, "render", t->name, err) < 0;
	if (eng_tx_end(r->st, rc, err) < 0)
		return -1;
	if (!due)
		run_say(r, "  %s: not due yet", t->name);
	return 0;
}

const struct stage_ops stage_render = {
	.name = "render",
	.stage = ST_RENDER,
	.scope = STAGE_TARGET,
	.unit = render_unit,
	.source_done = NULL,
};
