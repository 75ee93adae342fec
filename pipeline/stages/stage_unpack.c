/* stage_unpack.c - the unpack stage: an archive into one map unit per
 * member (refused members quarantined), a plain file into one map unit. */
#include "pipeline/run.h"
#include "pipeline/run_int.h"
#include "stage.h"
#include "pipeline/config.h"
#include "lib/io.h"
#include "lib/log.h"
#include "render.h"
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

/* ---- unpack ----------------------------------------------------------- */

struct member_ctx {
	struct run *r;
	struct src_ctx *sc;
	struct state_unit *archive;  /* the unpack unit */
	struct unpack_member_list {
		char *name, *path, *sha, *refused;
		uint64_t size;
	} *a;
	size_t n, cap;
};

static int collect_member(void *ud, const struct unpack_member *m,
			  struct err *err)
{
	struct member_ctx *c = ud;
	struct unpack_member_list *x;
	const char *refused = m->refused;
	size_t i;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct unpack_member_list *na =
			realloc(c->a, ncap * sizeof(*na));

		if (!na)
			return err_set(err, E_NOMEM, "out of memory");
		c->a = na;
		c->cap = ncap;
	}
	/* Two members under one name would be one unit; refuse the second
	 * rather than let it shadow the first. */
	for (i = 0; i < c->n && !refused; i++)
		if (!strcmp(c->a[i].name, m->name))
			refused = "duplicate member name";
	if (!refused && m->is_archive)
		refused = "archive inside an archive (only one level is "
			  "unpacked)";
	x = &c->a[c->n];
	memset(x, 0, sizeof(*x));
	x->size = m->size;
	if (!(x->name = strdup(m->name)) ||
	    (m->path && !(x->path = strdup(m->path))) ||
	    (m->sha256 && !(x->sha = strdup(m->sha256))) ||
	    (refused && !(x->refused = strdup(refused)))) {
		free(x->name);
		free(x->path);
		free(x->sha);
		return err_set(err, E_NOMEM, "out of memory");
	}
	c->n++;
	return 0;
}

static void members_free(struct member_ctx *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->a[i].name);
		free(c->a[i].path);
		free(c->a[i].sha);
		free(c->a[i].refused);
	}
	free(c->a);
	c->a = NULL;
	c->n = c->cap = 0;
}

/* Creates one map unit per member, refused members already quarantined
 * with their reason, and marks the unpack unit done: one transaction. */
static int commit_members(struct member_ctx *c, const char *kind,
			  struct err *err)
{
	struct run *r = c->r;
	struct state_unit *u = c->archive, next;
	size_t i, refused = 0;
	int rc = -1;

	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	for (i = 0; i < c->n; i++) {
		const struct unpack_member_list *m = &c->a[i];
		char key[512];

		run_notef(key, sizeof(key), "%s!%s", u->ukey, m->name);
		eng_unit_init(&next, r, ST_MAP, u->scope, key);
		next.parent = u->id;
		if (m->path)
			if (eng_field(next.input_path, sizeof(next.input_path),
				      m->path, "member path", err) < 0)
				goto fail;
		if (m->sha)
			if (eng_field(next.input_sha, sizeof(next.input_sha),
				      m->sha, "member sha", err) < 0)
				goto fail;
		if (state_unit_add(r->st, &next, err) < 0)
			goto fail;
		if (m->refused) {
			refused++;
			next.state = US_QUARANTINED;
			next.finished_ms = eng_now_ms();
			run_notef(next.error, sizeof(next.error),
			      "%s: member '%s' refused: %s", u->ukey, m->name,
			      m->refused);
			if (m->path)
				if (eng_field(next.output_path,
					      sizeof(next.output_path), m->path,
					      "member path", err) < 0)
					goto fail;
			log_msg("warn", "stockpipe: %s", next.error);
		}
		if (state_unit_save(r->st, &next, err) < 0)
			goto fail;
	}
	u->state = US_DONE;
	u->finished_ms = eng_now_ms();
	u->records_in = 1;
	u->records_out = (int64_t)(c->n - refused);
	run_notef(u->detail, sizeof(u->detail), "%s archive: %zu member%s, %zu "
	      "refused", kind, c->n, c->n == 1 ? "" : "s", refused);
	rc = state_unit_save(r->st, u, err);
fail:
	return eng_tx_end(r->st, rc, err);
}

static int unpack_unit(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct state_unit next;
	struct member_ctx mc;
	enum unpack_kind kind;
	char dir[4096];

	if (u->state == US_DONE || u->state == US_QUARANTINED)
		return 0;
	if (eng_stopping())
		return r->interrupted = 1, 1;
	if (eng_unit_start(r, u, sc->err) < 0)
		return -1;
	if (unpack_sniff_file(u->input_path, &kind, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (kind != UNPACK_PLAIN) {
		/* Members go to work/RUN/SOURCE/UNIT/, under names we make;
		 * a redo of this unit rewrites the same files. */
		run_notef(dir, sizeof(dir), "%s/work/%lld/%s/%lld",
		      r->cfg->state_dir, (long long)r->run_id, u->scope,
		      (long long)u->id);
		memset(&mc, 0, sizeof(mc));
		mc.r = r;
		mc.sc = sc;
		mc.archive = u;
		if (unpack_archive(u->input_path, u->ukey, dir,
				   &sc->src->archive,
				   collect_member, &mc, &e) < 0) {
			members_free(&mc);
			err_locate(&e, u->ukey, 0, 0, NULL);
			if (e.code == E_PARSE)
				return run_quarantine(r, u, &e);
			return eng_unit_fail(r, u, &e);
		}
		if (commit_members(&mc, unpack_kind_name(kind), &e) < 0) {
			members_free(&mc);
			return eng_unit_fail(r, u, &e);
		}
		members_free(&mc);
		run_say(r, "  %s: '%s': %s", u->scope, u->ukey, u->detail);
		return 0;
	}
	if (eng_field(u->output_path, sizeof(u->output_path), u->input_path,
		      "output path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(u->output_sha, sizeof(u->output_sha), u->input_sha,
		      "output sha", &e) < 0)
		return eng_unit_fail(r, u, &e);
	run_notef(u->detail, sizeof(u->detail), "plain file");
	u->records_in = u->records_out = 1;
	eng_unit_init(&next, r, ST_MAP, sc->src->name, u->ukey);
	next.parent = u->id;
	if (eng_field(next.input_path, sizeof(next.input_path), u->input_path,
		      "input path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(next.input_sha, sizeof(next.input_sha), u->input_sha,
		      "input sha", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_unit_finish(r, u, &next, &e) < 0)
		return eng_unit_fail(r, u, &e);
	return 0;
}

const struct stage_ops stage_unpack = {
	.name = "unpack",
	.stage = ST_UNPACK,
	.scope = STAGE_SOURCE,
	.unit = unpack_unit,
	.source_done = NULL,
};
