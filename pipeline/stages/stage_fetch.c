/* stage_fetch.c - the fetch stage: list a source, fetch each file into the
 * inbox (its unpack unit next: stage_unpack.c). */
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

/* ---- fetch ------------------------------------------------------------ */

struct plan_ctx {
	struct run *r;
	const struct cfg_source *src;
	struct err *err;
	int added;
	struct state_arrival_plan ap;  /* numbered by arrival at the end */
	struct conn *c;                /* detect_changes: content hashes */
};

/* detect_changes: content, for a listed file whose name, size and mtime
 * are in the ledger: *known stays 1 only when its content is too, so a
 * file replaced by one of the same size and mtime is fetched again as a
 * new version (its own ledger row, schema 7). */
static int plan_known_content(struct plan_ctx *p, const struct conn_entry *e,
			      int *known)
{
	char sha[SHA256_HEX_LEN];
	int rc = conn_digest(p->c, e->name, sha, p->err);

	if (rc < 0 && (p->err->code == E_PARSE ||
		       p->err->code == E_NOTFOUND)) {
		/* gone, or no longer a regular file, since the listing:
		 * nothing to fetch again */
		err_clear(p->err);
		return 0;
	}
	if (rc < 0)
		return -1;
	if (rc > 0)  /* the scheme cannot tell (config refuses this) */
		return 0;
	if (state_file_version_known(p->r->st, p->src->name, e->name,
				     e->size, e->mtime, sha, known,
				     p->err) < 0)
		return -1;
	if (!*known) {
		char shown[1024];

		conn_name_escape(e->name, shown, sizeof(shown));
		run_say(p->r, "  %s: '%s' has the size and mtime of a file "
			"seen before but other content: fetched again",
			p->src->name, shown);
	}
	return 0;
}

static int plan_entry(void *ud, const struct conn_entry *e)
{
	struct plan_ctx *p = ud;
	struct state_unit u;
	struct err pe = ERR_INIT;
	size_t i;
	int known;
	char key[512];

	/* -1 (a date capture that is no date) is taken: quarantined later */
	for (i = 0; i < p->src->npatterns; i++)
		if (filepat_match(p->src->patterns[i], e->name, NULL, &pe))
			break;
	if (i == p->src->npatterns)
		return 0;
	/* A file still being written changes size/mtime; wait until it has
	 * been quiet for min_age before taking it. */
	if (p->src->min_age && p->r->now - e->mtime < p->src->min_age) {
		/* A clock ahead at the partner (or a touched file) would
		 * hold the file back without a word until that time. */
		if (e->mtime > p->r->now) {
			char shown[1024];

			conn_name_escape(e->name, shown, sizeof(shown));
			log_msg("warn", "stockpipe: %s: '%s' has a "
				"modification time %llds in the future; not "
				"taken before it is %llds old (min_age)",
				p->src->name, shown,
				(long long)(e->mtime - p->r->now),
				(long long)p->src->min_age);
		}
		return 0;
	}
	if (state_file_known(p->r->st, p->src->name, e->name, e->size,
			     e->mtime, &known, p->err) < 0)
		return -1;
	if (known && p->src->detect_content &&
	    plan_known_content(p, e, &known) < 0)
		return -1;
	if (known)
		return 0;
	if (str_copy(key, sizeof(key), e->name) < 0)
		return err_set(p->err, E_INTERNAL,
			       "file name longer than a unit key: %.80s...",
			       e->name);
	eng_unit_init(&u, p->r, ST_FETCH, p->src->name, key);
	u.listed = 1;
	u.file_size = e->size;
	u.file_mtime = e->mtime;
	/* For people (show, reports): the typed columns above are what
	 * code reads. */
	{
		char iso[DT_ISO_LEN];

		dt_format_iso(e->mtime, iso);
		snprintf(u.detail, sizeof(u.detail),
			 "listed: %llu bytes, modified %s",
			 (unsigned long long)e->size, iso);
	}
	if (state_unit_add(p->r->st, &u, p->err) < 0 ||
	    state_unit_save(p->r->st, &u, p->err) < 0 ||
	    state_arrival_plan_add(&p->ap, u.id, e->mtime, e->name, p->err) < 0)
		return -1;
	p->added++;
	return 0;
}

/* A remote listing kept in memory (run_plan_fetch). */
struct listing {
	struct conn_entry *v;
	size_t n, cap;
	struct err *err;
};

static int list_keep(void *ud, const struct conn_entry *e)
{
	struct listing *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct conn_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return err_set(l->err, E_NOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

int run_plan_fetch(struct run *r, const struct cfg_source *src,
		      struct conn *c, struct err *err)
{
	struct plan_ctx p = {r, src, err, 0, {NULL, 0, 0}, c};
	struct listing ls = {NULL, 0, 0, err};
	size_t i;
	int done, rc;

	if (state_plan_done(r->st, r->run_id, "fetch", src->name, &done,
			    err) < 0)
		return -1;
	if (done)
		return 0;
	/* The remote listing first, with no transaction open (a slow
	 * partner holds up no one: db.h), then the plan recorded in one
	 * short transaction: a crash leaves no half plan behind. */
	if (conn_list(c, list_keep, &ls, err) < 0) {
		free(ls.v);
		return -1;
	}
	if (eng_tx_begin(r->st, err) < 0) {
		free(ls.v);
		return -1;
	}
	/* The listing is the retry of every fetch older runs parked: what
	 * is still there and not in the ledger is planned again now. */
	for (i = 0, rc = 0; i < ls.n && !rc; i++)
		rc = plan_entry(&p, &ls.v[i]) < 0;
	free(ls.v);
	rc = rc || state_arrival_plan_assign(&p.ap, r->st, err) < 0 ||
	     state_park_supersede(r->st, r->run_id, "fetch", src->name, NULL,
				  err) < 0 ||
	     state_plan_mark(r->st, r->run_id, "fetch", src->name, err) < 0;
	state_arrival_plan_free(&p.ap);
	if (eng_tx_end(r->st, rc, err) < 0)
		return -1;
	run_say(r, "  %s: %d new file%s", src->name, p.added,
	    p.added == 1 ? "" : "s");
	return 0;
}

/* The inbox copy of a fetched file: inbox/SOURCE/ID_NAME when NAME is
 * short and plain, else inbox/SOURCE/ID_h<12 hex of SHA-256(NAME)>: a name
 * the partner's system could hold may not fit ours (255 bytes with the
 * prefix and the temporary name's dot and suffix), and bytes such as
 * control characters have no business in our folders. The original name
 * stays the unit's key, in the ledger and in every report. */
static int inbox_path(const struct run *r, const struct state_unit *u,
		      char *out, size_t n, struct err *err)
{
	const char *p;
	size_t len = strlen(u->ukey);
	int plain = len > 0 && len <= 100 && u->ukey[0] != '.';

	for (p = u->ukey; plain && *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-' || *p == '+' || *p == '@' || *p == '=' ||
		      *p == '%' || *p == ','))
			plain = 0;
	if (plain) {
		snprintf(out, n, "%s/inbox/%s/%lld_%s", r->cfg->state_dir,
			 u->scope, (long long)u->id, u->ukey);
	} else {
		char hex[SHA256_HEX_LEN];

		if (sha256_hex_of(u->ukey, len, hex, err) < 0)
			return -1;
		snprintf(out, n, "%s/inbox/%s/%lld_h%.12s", r->cfg->state_dir,
			 u->scope, (long long)u->id, hex);
	}
	return 0;
}

/* A listed file that is not there to fetch as listed (changing, gone):
 * the unit is skipped with the reason and the run goes on. It is not in
 * the file ledger, so a later listing sees it again if it is still (or
 * again) there. */
static int fetch_set_aside(struct run *r, struct state_unit *u,
			   const char *why, struct err *e)
{
	err_clear(e);
	u->state = US_SKIPPED;
	u->finished_ms = eng_now_ms();
	run_notef(u->detail + strlen(u->detail),
	      sizeof(u->detail) - strlen(u->detail), " %s", why);
	if (eng_tx_begin(r->st, e) < 0 ||
	    eng_tx_end(r->st, state_unit_save(r->st, u, e) < 0,
		       e) < 0) {
		return eng_unit_fail(r, u, e);
	}
	run_say(r, "  %s: '%s' %s", u->scope, u->ukey, why);
	return 0;
}

static int fetch_unit(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct state_unit next;
	char path[4096], sha[SHA256_HEX_LEN], prev[512];
	uint64_t size, got;
	int64_t mtime;

	if (u->state == US_DONE || u->state == US_SKIPPED)
		return 0;
	if (eng_stopping())
		return r->interrupted = 1, 1;
	if (u->list_standin) {
		/* The stand-in for a listing (or connection) that failed
		 * earlier: we only get here once the listing worked. */
		u->state = US_SKIPPED;
		u->finished_ms = eng_now_ms();
		run_notef(u->detail, sizeof(u->detail),
		      "listed again after: %.900s", u->error);
		u->error[0] = '\0';
		if (eng_tx_begin(r->st, &e) < 0 ||
		    eng_tx_end(r->st, state_unit_save(r->st, u, &e) < 0,
			       &e) < 0) {
			return eng_unit_fail(r, u, &e);
		}
		return 0;
	}
	if (!u->listed) {
		err_set(&e, E_INTERNAL, "fetch unit without size/mtime");
		return eng_unit_fail(r, u, &e);
	}
	size = u->file_size;
	mtime = u->file_mtime;
	if (eng_unit_start(r, u, sc->err) < 0)
		return -1;
	if (inbox_path(r, u, path, sizeof(path), &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (conn_fetch(sc->conn, u->ukey, path, sha, &got,
					 &e) < 0) {
		if (e.code == E_NOTFOUND)
			return fetch_set_aside(r, u, "vanished after the "
					       "listing; dropped from the plan",
					       &e);
		return eng_unit_fail(r, u, &e);
	}
	if (got != size) {
		/* Changed since the listing or while we read it: the partner
		 * is still writing. Not an error: the file is not in the
		 * ledger, so the next listing takes it when it is quiet
		 * (Camel's readLock=changed). */
		char why[160];

		unlink(path);
		run_notef(why, sizeof(why),
		      "changing (%llu bytes, listed with %llu); left for the "
		      "next listing",
		      (unsigned long long)got, (unsigned long long)size);
		return fetch_set_aside(r, u, why, &e);
	}
	if (eng_field(u->output_path, sizeof(u->output_path), path,
		      "output path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(u->output_sha, sizeof(u->output_sha), sha, "output sha",
		      &e) < 0)
		return eng_unit_fail(r, u, &e);
	u->records_in = 1;
	if (state_file_same_content(r->st, sc->src->name, sha, prev,
				    sizeof(prev), &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (prev[0] && strcmp(prev, u->ukey)) {
		/* The same bytes again under another name: loading it would
		 * only produce duplicate transactions. Record it in the ledger
		 * (so it is not fetched again) and go no further. */
		u->state = US_SKIPPED;
		u->dupes = 1;
		run_notef(u->detail + strlen(u->detail),
		      sizeof(u->detail) - strlen(u->detail),
		      " same content as '%s'", prev);
		u->finished_ms = eng_now_ms();
		if (eng_tx_begin(r->st, &e) < 0 ||
		    eng_tx_end(r->st, state_file_add(r->st, sc->src->name, u->ukey, size, mtime,
			       sha, r->run_id, "pending", &e) < 0 ||
			       state_unit_save(r->st, u, &e) < 0,
			       &e) < 0) {
			return eng_unit_fail(r, u, &e);
		}
		unlink(path);
		run_say(r, "  %s: '%s' skipped: same content as '%s'",
		    sc->src->name, u->ukey, prev);
		return 0;
	}
	eng_unit_init(&next, r, ST_UNPACK, sc->src->name, u->ukey);
	next.parent = u->id;
	if (eng_field(next.input_path, sizeof(next.input_path), path,
		      "input path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(next.input_sha, sizeof(next.input_sha), sha, "input sha",
		      &e) < 0)
		return eng_unit_fail(r, u, &e);
	/* ledger row, unit done and the unpack unit commit together */
	u->state = US_DONE;
	u->finished_ms = eng_now_ms();
	if (eng_tx_begin(r->st, &e) < 0 ||
	    eng_tx_end(r->st, state_file_add(r->st, sc->src->name, u->ukey, size, mtime, sha,
		       r->run_id, "pending", &e) < 0 ||
		       state_source_fetched(r->st, sc->src->name, r->now, &e) < 0 ||
		       state_unit_save(r->st, u, &e) < 0 ||
		       state_unit_add(r->st, &next, &e) < 0 ||
		       state_unit_save(r->st, &next, &e) < 0,
		       &e) < 0) {
		return eng_unit_fail(r, u, &e);
	}
	return 0;
}

const struct stage_ops stage_fetch = {
	.name = "fetch",
	.stage = ST_FETCH,
	.scope = STAGE_SOURCE,
	.unit = fetch_unit,
	.source_done = NULL,
};
