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
		char *key;              /* the map unit's key (member_key) */
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
		free(c->a[i].key);
	}
	free(c->a);
	c->a = NULL;
	c->n = c->cap = 0;
}

/* The map unit key of member idx (0-based) of archive ukey: "ARCHIVE!NAME"
 * (the document's name in reports, and the file of its stock events:
 * stock_events.file is NULL when it is this key, state_lineage.h). When that
 * does not fit a unit key, or an earlier member of the archive already
 * holds it (a duplicate name, or a name made to look like another's
 * long-name key), the key is "ARCHIVE!HEAD...#N-HASH/BASE": the start of
 * the name, the member's number, 16 hex of the name's SHA-256 and the last
 * path component (what routes match on; its end when even that is too
 * long), each cut at a character boundary. A key is never cut silently,
 * so no two members share a unit and none replaces another's rows. -1
 * when even that cannot be told apart (only a crafted archive): the
 * caller refuses the archive. Also -1 with err when SHA-256 fails. */
static int member_key(struct member_ctx *c, size_t idx, char *key, size_t n,
		      struct err *err)
{
	const struct unpack_member_list *m = &c->a[idx];
	const char *ukey = c->archive->ukey, *base, *tail;
	char hex[SHA256_HEX_LEN];
	size_t i, len = strlen(m->name), room, head, fixed;
	int w;

	w = snprintf(key, n, "%s!%s", ukey, m->name);
	for (i = 0; w >= 0 && (size_t)w < n && i < idx; i++)
		if (!strcmp(c->a[i].key, key))
			break;
	if (w >= 0 && (size_t)w < n && i == idx)
		return 0;
	if (sha256_hex_of(m->name, len, hex, err) < 0)
		return -1;
	/* "!" "...#" up to 20 digits "-" 16 hex "/" and the NUL */
	fixed = strlen(ukey) + 1 + 4 + 20 + 1 + 16 + 1 + 1;
	room = fixed < n ? n - fixed : 0;
	base = strrchr(m->name, '/');
	base = base ? base + 1 : m->name;
	tail = strlen(base) <= room ? base : m->name + len - room;
	while (*tail && ((unsigned char)*tail & 0xc0) == 0x80)
		tail++;
	head = room - strlen(tail);
	if (head > 60)
		head = 60;
	if (head > len)
		head = len;
	while (head > 0 && ((unsigned char)m->name[head] & 0xc0) == 0x80)
		head--;
	w = snprintf(key, n, "%s!%.*s...#%zu-%.16s/%s", ukey, (int)head,
		     m->name, idx + 1, hex, tail);
	if (w < 0 || (size_t)w >= n)
		return -1;
	for (i = 0; i < idx; i++)
		if (!strcmp(c->a[i].key, key))
			return -1;
	return 0;
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
		struct unpack_member_list *m = &c->a[i];
		char key[sizeof(next.ukey)];

		if (member_key(c, i, key, sizeof(key), err) < 0) {
			if (err->code == E_NONE)
				err_set(err, E_PARSE,
					"member %zu ('%.200s') has no unit "
					"key of its own", i + 1, m->name);
			goto fail;
		}
		if (!(m->key = strdup(key))) {
			err_set(err, E_NOMEM, "out of memory");
			goto fail;
		}
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
			err_locate(&e, u->ukey, 0, 0, NULL);
			if (e.code == E_PARSE)
				return run_quarantine(r, u, &e);
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
