/* run.c - the stage engine; see run.h for the crash-safety rules. */
#include "run.h"
#include "load_uom.h"
#include "run_int.h"
#include "config.h"
#include "fsutil.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "render.h"
#include "report.h"
#include "schedule.h"
#include "state.h"
#include "state_arrival.h"
#include "state_ic.h"
#include "state_park.h"
#include "state_work.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../connectors/connector.h"
#include "../transforms/dt.h"
#include "../transforms/edi.h"
#include "../transforms/edi_ack.h"
#include "../transforms/filepat.h"
#include "../transforms/mapping.h"
#include "../transforms/outbound.h"
#include "../transforms/unpack.h"

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

static void path_in(const struct run *r, char *out, size_t n, const char *area,
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
static int unit_done(struct run *r, struct state_unit *u,
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

static void unit_init(struct state_unit *u, const struct run *r, int stage,
		      const char *scope, const char *ukey)
{
	memset(u, 0, sizeof(*u));
	u->run_id = r->run_id;
	str_copy(u->stage, sizeof(u->stage), run_stage_names[stage]);
	str_copy(u->scope, sizeof(u->scope), scope);
	str_copy(u->ukey, sizeof(u->ukey), ukey);
	u->state = US_PENDING;
}

/* ---- fetch ------------------------------------------------------------ */

struct plan_ctx {
	struct run *r;
	const struct cfg_source *src;
	struct err *err;
	int added;
	struct state_arrival_plan ap;  /* numbered by arrival at the end */
};

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
	if (p->src->min_age && p->r->now - e->mtime < p->src->min_age)
		return 0;
	if (state_file_known(p->r->st, p->src->name, e->name, e->size,
			     e->mtime, &known, p->err) < 0)
		return -1;
	if (known)
		return 0;
	str_copy(key, sizeof(key), e->name);
	unit_init(&u, p->r, ST_FETCH, p->src->name, key);
	snprintf(u.detail, sizeof(u.detail), "%llu %lld",
		 (unsigned long long)e->size, (long long)e->mtime);
	if (state_unit_add(p->r->st, &u, p->err) < 0 ||
	    state_unit_save(p->r->st, &u, p->err) < 0 ||
	    state_arrival_plan_add(&p->ap, u.id, e->mtime, e->name, p->err) < 0)
		return -1;
	p->added++;
	return 0;
}

static int plan_fetch(struct run *r, const struct cfg_source *src,
		      struct conn *c, struct err *err)
{
	struct plan_ctx p = {r, src, err, 0, {NULL, 0, 0}};
	int done;

	if (state_plan_done(r->st, r->run_id, "fetch", src->name, &done,
			    err) < 0)
		return -1;
	if (done)
		return 0;
	/* Listing and recording the plan in one transaction: a crash while
	 * listing leaves no half plan behind. */
	if (state_begin(r->st, err) < 0)
		return -1;
	/* The listing is the retry of every fetch older runs parked: what
	 * is still there and not in the ledger is planned again now. */
	if (c->scheme->ops->list(c, plan_entry, &p, err) < 0 ||
	    state_arrival_plan_assign(&p.ap, r->st, err) < 0 ||
	    state_park_supersede(r->st, r->run_id, "fetch", src->name, NULL,
				 err) < 0 ||
	    state_plan_mark(r->st, r->run_id, "fetch", src->name, err) < 0) {
		state_arrival_plan_free(&p.ap);
		state_rollback(r->st);
		return -1;
	}
	state_arrival_plan_free(&p.ap);
	if (state_commit(r->st, err) < 0)
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
static void inbox_path(const struct run *r, const struct state_unit *u,
		       char *out, size_t n)
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

		sha256_hex_of(u->ukey, len, hex);
		snprintf(out, n, "%s/inbox/%s/%lld_h%.12s", r->cfg->state_dir,
			 u->scope, (long long)u->id, hex);
	}
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
	u->finished_ms = run_now_ms();
	run_notef(u->detail + strlen(u->detail),
	      sizeof(u->detail) - strlen(u->detail), " %s", why);
	if (state_begin(r->st, e) < 0 || state_unit_save(r->st, u, e) < 0 ||
	    state_commit(r->st, e) < 0) {
		state_rollback(r->st);
		return run_unit_fail(r, u, e, 0), 0;
	}
	run_say(r, "  %s: '%s' %s", u->scope, u->ukey, why);
	return 0;
}

static int parse_size_mtime(const struct state_unit *u, uint64_t *size,
			    int64_t *mtime)
{
	unsigned long long s;
	long long m;

	if (sscanf(u->detail, "%llu %lld", &s, &m) != 2)
		return -1;
	*size = s;
	*mtime = m;
	return 0;
}

static int do_fetch(void *ud, struct state_unit *u)
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
	if (stop_requested)
		return r->interrupted = 1, 1;
	if (!strcmp(u->ukey, "(list)") && !u->detail[0]) {
		/* The stand-in for a listing (or connection) that failed
		 * earlier: we only get here once the listing worked. */
		u->state = US_SKIPPED;
		u->finished_ms = run_now_ms();
		run_notef(u->detail, sizeof(u->detail),
		      "listed again after: %.900s", u->error);
		u->error[0] = '\0';
		if (state_begin(r->st, &e) < 0 ||
		    state_unit_save(r->st, u, &e) < 0 ||
		    state_commit(r->st, &e) < 0) {
			state_rollback(r->st);
			return run_unit_fail(r, u, &e, 0), 0;
		}
		return 0;
	}
	if (parse_size_mtime(u, &size, &mtime) < 0) {
		err_set(&e, E_INTERNAL, "fetch unit without size/mtime");
		return run_unit_fail(r, u, &e, 0), 0;
	}
	if (run_unit_begin(r, u, sc->err) < 0)
		return -1;
	inbox_path(r, u, path, sizeof(path));
	if (sc->conn->scheme->ops->fetch(sc->conn, u->ukey, path, sha, &got,
					 &e) < 0) {
		if (e.code == E_NOTFOUND)
			return fetch_set_aside(r, u, "vanished after the "
					       "listing; dropped from the plan",
					       &e);
		return run_unit_fail(r, u, &e, 0), 0;
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
	str_copy(u->output_path, sizeof(u->output_path), path);
	str_copy(u->output_sha, sizeof(u->output_sha), sha);
	u->records_in = 1;
	if (state_file_same_content(r->st, sc->src->name, sha, prev,
				    sizeof(prev), &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (prev[0] && strcmp(prev, u->ukey)) {
		/* The same bytes again under another name: loading it would
		 * only produce duplicate transactions. Record it in the ledger
		 * (so it is not fetched again) and go no further. */
		u->state = US_SKIPPED;
		u->dupes = 1;
		run_notef(u->detail + strlen(u->detail),
		      sizeof(u->detail) - strlen(u->detail),
		      " same content as '%s'", prev);
		u->finished_ms = run_now_ms();
		if (state_begin(r->st, &e) < 0 ||
		    state_file_add(r->st, sc->src->name, u->ukey, size, mtime,
				   sha, r->run_id, "pending", &e) < 0 ||
		    state_unit_save(r->st, u, &e) < 0 ||
		    state_commit(r->st, &e) < 0) {
			state_rollback(r->st);
			return run_unit_fail(r, u, &e, 0), 0;
		}
		unlink(path);
		run_say(r, "  %s: '%s' skipped: same content as '%s'",
		    sc->src->name, u->ukey, prev);
		return 0;
	}
	unit_init(&next, r, ST_UNPACK, sc->src->name, u->ukey);
	next.parent = u->id;
	str_copy(next.input_path, sizeof(next.input_path), path);
	str_copy(next.input_sha, sizeof(next.input_sha), sha);
	/* ledger row, unit done and the unpack unit commit together */
	u->state = US_DONE;
	u->finished_ms = run_now_ms();
	if (state_begin(r->st, &e) < 0 ||
	    state_file_add(r->st, sc->src->name, u->ukey, size, mtime, sha,
			   r->run_id, "pending", &e) < 0 ||
	    state_source_fetched(r->st, sc->src->name, r->now, &e) < 0 ||
	    state_unit_save(r->st, u, &e) < 0 ||
	    state_unit_add(r->st, &next, &e) < 0 ||
	    state_unit_save(r->st, &next, &e) < 0 ||
	    state_commit(r->st, &e) < 0) {
		state_rollback(r->st);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	return 0;
}

/* ---- unpack ----------------------------------------------------------- */

static int quarantine(struct run *r, struct state_unit *u,
		      const struct err *why);

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

	if (state_begin(r->st, err) < 0)
		return -1;
	for (i = 0; i < c->n; i++) {
		const struct unpack_member_list *m = &c->a[i];
		char key[512];

		run_notef(key, sizeof(key), "%s!%s", u->ukey, m->name);
		unit_init(&next, r, ST_MAP, u->scope, key);
		next.parent = u->id;
		if (m->path)
			str_copy(next.input_path, sizeof(next.input_path),
				 m->path);
		if (m->sha)
			str_copy(next.input_sha, sizeof(next.input_sha),
				 m->sha);
		if (state_unit_add(r->st, &next, err) < 0)
			goto fail;
		if (m->refused) {
			refused++;
			next.state = US_QUARANTINED;
			next.finished_ms = run_now_ms();
			run_notef(next.error, sizeof(next.error),
			      "%s: member '%s' refused: %s", u->ukey, m->name,
			      m->refused);
			if (m->path)
				str_copy(next.output_path,
					 sizeof(next.output_path), m->path);
			fprintf(stderr, "stockpipe: %s\n", next.error);
		}
		if (state_unit_save(r->st, &next, err) < 0)
			goto fail;
	}
	u->state = US_DONE;
	u->finished_ms = run_now_ms();
	u->records_in = 1;
	u->records_out = (int64_t)(c->n - refused);
	run_notef(u->detail, sizeof(u->detail), "%s archive: %zu member%s, %zu "
	      "refused", kind, c->n, c->n == 1 ? "" : "s", refused);
	if (state_unit_save(r->st, u, err) < 0)
		goto fail;
	return state_commit(r->st, err);
fail:
	state_rollback(r->st);
	return -1;
}

static int do_unpack(void *ud, struct state_unit *u)
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
	if (stop_requested)
		return r->interrupted = 1, 1;
	if (run_unit_begin(r, u, sc->err) < 0)
		return -1;
	if (unpack_sniff_file(u->input_path, &kind, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
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
				return quarantine(r, u, &e), 0;
			return run_unit_fail(r, u, &e, 0), 0;
		}
		if (commit_members(&mc, unpack_kind_name(kind), &e) < 0) {
			members_free(&mc);
			return run_unit_fail(r, u, &e, 0), 0;
		}
		members_free(&mc);
		run_say(r, "  %s: '%s': %s", u->scope, u->ukey, u->detail);
		return 0;
	}
	str_copy(u->output_path, sizeof(u->output_path), u->input_path);
	str_copy(u->output_sha, sizeof(u->output_sha), u->input_sha);
	run_notef(u->detail, sizeof(u->detail), "plain file");
	u->records_in = u->records_out = 1;
	unit_init(&next, r, ST_MAP, sc->src->name, u->ukey);
	next.parent = u->id;
	str_copy(next.input_path, sizeof(next.input_path), u->input_path);
	str_copy(next.input_sha, sizeof(next.input_sha), u->input_sha);
	if (unit_done(r, u, &next, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	return 0;
}

/* ---- map -------------------------------------------------------------- */

/* Rejects shown on stderr per document; the rest are in the reject file. */
#define REJECTS_SHOWN 5

struct map_out {
	struct fsu_atomic canon, rejects;
	struct buf line;
	int64_t records, rejected;
	int quiet;
	/* EDI: the document's interchanges (recorded in the state store when
	 * the document is mapped) and the one being read when it turned out
	 * to be a duplicate */
	struct run *r;
	const char *source, *doc, *doc_sha;
	struct state_interchange *ics, prev;
	size_t nics, capics;
	int64_t dup_ics, conflict_ics;
	int64_t doc_id, ic_first;  /* map unit; first record of the current IC */
};

static int sink_record(void *ud, const struct canon_record *rec,
		       struct err *err)
{
	struct map_out *m = ud;

	/* SIGTERM/SIGINT stop a long document here: a flag read per record,
	 * no system call. */
	if (stop_requested)
		return err_set(err, E_INTERRUPT, "stopped by a signal");
	buf_reset(&m->line);
	if (canon_to_jsonl(rec, &m->line) < 0 || m->line.err)
		return err_set(err, E_TOOBIG, "canonical record too large");
	m->records++;
	return fsu_atomic_write(&m->canon, m->line.ptr, m->line.len, err);
}

static int sink_reject(void *ud, const struct mapping_reject *rj,
		       struct err *err)
{
	struct map_out *m = ud;

	if (stop_requested)
		return err_set(err, E_INTERRUPT, "stopped by a signal");
	buf_reset(&m->line);
	/* The same line format `map test` goldens use. */
	mapping_reject_to_jsonl(rj, &m->line);
	if (m->line.err)
		return err_set(err, E_TOOBIG, "reject line too large");
	m->rejected++;
	if (!m->quiet && m->rejected <= REJECTS_SHOWN)
		log_msg("warn", "    %s:%lu:%u: %s", rj->file, rj->line,
			rj->col, rj->reason);
	return fsu_atomic_write(&m->rejects, m->line.ptr, m->line.len, err);
}

/* EDI interchanges sent twice (docs/mapping.md "Interchanges sent
 * twice"). At the start of an interchange: skip it when the same key
 * (format, sender, receiver, control number) was loaded from another
 * document, or earlier in this one. At its end: the same bytes are a
 * duplicate (reported, not loaded); other bytes under a used control
 * number are rejected (a person must look). Mapping the same document
 * again (rerun, resume) finds its own rows and maps as before. */
static int sink_interchange(void *ud, int phase,
			    const struct mapping_interchange *ic, char *why,
			    size_t whyn, struct err *err)
{
	struct map_out *m = ud;
	struct state_interchange *x;
	size_t i;
	int found;

	if (phase == MAPPING_IC_START) {
		m->ic_first = m->records + 1;
		for (i = 0; i < m->nics; i++)
			if (!strcmp(m->ics[i].format, ic->format) &&
			    !strcmp(m->ics[i].sender, ic->sender) &&
			    !strcmp(m->ics[i].receiver, ic->receiver) &&
			    !strcmp(m->ics[i].control, ic->control)) {
				m->prev = m->ics[i];
				return 1;
			}
		if (state_interchange_find(m->r->st, ic->format, ic->sender,
					   ic->receiver, ic->control, &m->prev,
					   &found, err) < 0)
			return -1;
		return found && !(!strcmp(m->prev.source, m->source) &&
				  !strcmp(m->prev.doc, m->doc) &&
				  !strcmp(m->prev.doc_sha, m->doc_sha));
	}
	if (ic->skipped) {
		if (!strcmp(m->prev.sha256, ic->sha256)) {
			m->dup_ics++;
			if (!m->quiet)
				log_msg("warn",
					"    %s: interchange %s from %s to %s "
					"was already loaded from '%s' (run "
					"%lld): duplicate, not loaded again",
					m->doc, ic->control, ic->sender,
					ic->receiver, m->prev.doc,
					(long long)m->prev.run_id);
			return 0;
		}
		m->conflict_ics++;
		snprintf(why, whyn,
			 "control number %s was already used by an "
			 "interchange with other content, loaded from '%s' "
			 "(run %lld): not loaded (a corrected interchange "
			 "needs a new control number)",
			 ic->control, m->prev.doc, (long long)m->prev.run_id);
		return 1;
	}
	if (m->nics == m->capics) {
		size_t cap = m->capics ? m->capics * 2 : 4;
		struct state_interchange *n = realloc(m->ics, cap * sizeof(*n));

		if (!n)
			return err_set(err, E_NOMEM, "out of memory");
		m->ics = n;
		m->capics = cap;
	}
	x = &m->ics[m->nics++];
	memset(x, 0, sizeof(*x));
	snprintf(x->format, sizeof(x->format), "%s", ic->format);
	snprintf(x->sender, sizeof(x->sender), "%s", ic->sender);
	snprintf(x->receiver, sizeof(x->receiver), "%s", ic->receiver);
	snprintf(x->control, sizeof(x->control), "%s", ic->control);
	snprintf(x->sha256, sizeof(x->sha256), "%s", ic->sha256);
	snprintf(x->source, sizeof(x->source), "%s", m->source);
	snprintf(x->doc, sizeof(x->doc), "%s", m->doc);
	snprintf(x->doc_sha, sizeof(x->doc_sha), "%s", m->doc_sha);
	x->run_id = m->r->run_id;
	x->first_rec = m->ic_first;   /* its canonical records, for the load */
	x->last_rec = m->records;
	return 0;
}

/* Records the document's interchanges (one transaction). */
static int record_interchanges(struct run *r, const struct map_out *m,
			       struct err *err)
{
	size_t i;

	if (!m->nics)
		return 0;
	if (state_begin(r->st, err) < 0)
		return -1;
	for (i = 0; i < m->nics; i++)
		if (state_interchange_add(r->st, &m->ics[i], err) < 0) {
			state_rollback(r->st);
			return -1;
		}
	if (state_ic_doc_set(r->st, m->doc_id, m->ics, m->nics, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	return state_commit(r->st, err);
}

static void dep_cb(void *ud, const char *path, const char *sha)
{
	struct run *r = ud;
	struct err e = ERR_INIT;

	state_run_dep_add(r->st, r->run_id, path, sha, &e);
}

static int quarantine(struct run *r, struct state_unit *u,
		      const struct err *why)
{
	char path[4096], leaf[64];
	struct err e = ERR_INIT;
	const char *p, *name = u->ukey;

	/* The copy keeps the document's name unless our folders cannot hold
	 * it (long, control bytes, a slash): then ID_h<hash>, as in the
	 * inbox. The name is in the unit and the report either way. */
	for (p = name; *p && (unsigned char)*p >= 0x20 && *p != '/'; p++)
		;
	if (*p || p - name > 200 || !*name || *name == '.') {
		char hex[SHA256_HEX_LEN];

		sha256_hex_of(name, strlen(name), hex);
		snprintf(leaf, sizeof(leaf), "%lld_h%.12s", (long long)u->id,
			 hex);
		name = leaf;
	}
	path_in(r, path, sizeof(path), "quarantine", u->scope, name);
	if (fsu_copy(u->input_path, path, NULL, NULL, &e) < 0)
		return run_unit_fail(r, u, &e, 0);
	str_copy(u->output_path, sizeof(u->output_path), path);
	log_msg("warn", "stockpipe: quarantined '%s' of %s -> %s", u->ukey,
		u->scope, path);
	return run_unit_fail(r, u, why, 1);
}

/* The compiled mapping for a document, loading (and recording the hash of)
 * each mapping once per run. NULL with E_NOTFOUND when no route matches,
 * or with the compile error. */
const struct mapping *run_mapping_for(struct src_ctx *sc, const char *doc,
				     const char *input, struct err *err)
{
	const char *path, *format = NULL;
	struct mapping *m;
	size_t k;
	int i;

	/* Content sniffing only when a route asks for a format: the
	 * patterns decide first, the bytes are the fallback. */
	for (k = 0; k < sc->src->nroutes; k++)
		if (sc->src->routes[k].format)
			break;
	if (k < sc->src->nroutes && input) {
		unsigned char head[4096];
		ssize_t n = 0;
		int fd = open(input, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			n = read(fd, head, sizeof(head));
			close(fd);
		}
		format = edi_format_name(edi_sniff(head, n > 0 ? (size_t)n : 0));
	}
	path = config_mapping_for(sc->src, doc, format);

	if (!path) {
		err_set(err, E_NOTFOUND,
			"no route of source '%s' matches this document and "
			"the source has no default mapping",
			sc->src->name);
		return NULL;
	}
	for (i = 0; i < sc->nmaps; i++)
		if (!strcmp(sc->map_paths[i], path))
			return sc->maps[i];
	if (sc->nmaps == (int)(sizeof(sc->maps) / sizeof(sc->maps[0]))) {
		err_set(err, E_CONFIG, "too many mappings in one source");
		return NULL;
	}
	if (mapping_load(path, &m, err) < 0)
		return NULL;
	sc->maps[sc->nmaps] = m;
	sc->map_paths[sc->nmaps++] = path;
	if (state_begin(sc->r->st, err) == 0) {
		mapping_each_dep(m, dep_cb, sc->r);
		state_commit(sc->r->st, err);
	}
	err_clear(err);
	return m;
}

/* EDI acknowledgments (docs/mapping.md "Acknowledgments"). After a
 * document's map unit has its canonical output committed: one ledger row
 * per acknowledged unit not acknowledged before, with the control number
 * drawn from the partner's counter in the same transaction, so a crash
 * burns no number and a remap (rerun, resume) sends nothing twice. */
static int record_acks(struct run *r, const struct cfg_source *src,
		       const struct state_unit *u,
		       const struct edi_ack_coll *c, struct err *err)
{
	size_t i, n = edi_ack_count(c);
	struct buf b;
	int rc = -1;

	if (!n)
		return 0;
	buf_init(&b, 64u << 20);
	if (state_begin(r->st, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct edi_ack_key k;
		struct state_ack a;
		char prev[256];
		int found;
		int64_t ctl;

		edi_ack_key(c, i, &k);
		memset(&a, 0, sizeof(a));
		str_copy(a.source, sizeof(a.source), src->name);
		str_copy(a.format, sizeof(a.format), k.format);
		str_copy(a.sender, sizeof(a.sender), k.sender);
		str_copy(a.receiver, sizeof(a.receiver), k.receiver);
		str_copy(a.control, sizeof(a.control), k.control);
		str_copy(a.grp, sizeof(a.grp), k.group);
		if (state_ack_find(r->st, &a, prev, sizeof(prev), &found, err) < 0)
			goto fail;
		if (found)
			continue;
		if (state_counter_next(r->st, k.counter, &ctl, err) < 0)
			goto fail;
		ctl = (ctl - 1) % 999999999 + 1;
		buf_reset(&b);
		if (edi_ack_render(c, i, ctl, (time_t)r->now, &b, a.file_name,
				   sizeof(a.file_name), err) < 0)
			goto fail;
		str_copy(a.doc, sizeof(a.doc), u->ukey);
		a.run_id = r->run_id;
		str_copy(a.ack_type, sizeof(a.ack_type), k.type);
		a.ack_control = ctl;
		a.content = b.ptr;
		a.len = b.len;
		if (state_ack_add(r->st, &a, err) < 0)
			goto fail;
		run_say(r, "  %s: '%s': %s %s for %s %s%s%s from %s (%lu of %lu "
		    "accepted)",
		    src->name, u->ukey, k.type, a.file_name,
		    k.group[0] ? "group" : "interchange",
		    k.group[0] ? k.group : k.control,
		    k.group[0] ? " of interchange " : "",
		    k.group[0] ? k.control : "", k.sender, k.accepted, k.sets);
	}
	rc = state_commit(r->st, err);
	goto out;
fail:
	state_rollback(r->st);
out:
	buf_release(&b);
	return rc;
}

struct ack_list {
	struct state_ack *v;
	void **content;
	size_t n, cap;
	int nomem;
};

static int ack_collect(void *ud, const struct state_ack *a)
{
	struct ack_list *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct state_ack *v = realloc(l->v, cap * sizeof(*v));
		void **c;

		if (!v)
			return l->nomem = 1;
		l->v = v;
		c = realloc(l->content, cap * sizeof(*c));
		if (!c)
			return l->nomem = 1;
		l->content = c;
		l->cap = cap;
	}
	l->content[l->n] = malloc(a->len ? a->len : 1);
	if (!l->content[l->n])
		return l->nomem = 1;
	memcpy(l->content[l->n], a->content, a->len);
	l->v[l->n] = *a;
	l->v[l->n].content = l->content[l->n];
	l->n++;
	return 0;
}

/* Publishes the source's unsent acknowledgments (this run's and any a
 * crash left behind) through its ack connector, each under its recorded
 * name and bytes; the connector writes a temporary name and renames. */
static int send_acks(struct run *r, const struct cfg_source *src)
{
	struct ack_list l;
	struct err e = ERR_INIT;
	struct conn *c = NULL;
	char path[4608];
	size_t i;
	int rc = 0;

	if (!src->ack_url)
		return 0;
	memset(&l, 0, sizeof(l));
	if (state_acks_unsent_each(r->st, src->name, ack_collect, &l, &e) < 0)
		goto fail;
	if (l.nomem) {
		err_set(&e, E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < l.n; i++) {
		const struct state_ack *a = &l.v[i];

		if (stop_requested) {
			r->interrupted = 1;
			break;
		}
		snprintf(path, sizeof(path), "%s/acks/%s/%s", r->cfg->state_dir,
			 src->name, a->file_name);
		if (fsu_write_file(path, a->content, a->len, NULL, &e) < 0)
			goto fail;
		if (!c && conn_open(src->ack_url, &src->ack_conn, &c, &e) < 0)
			goto fail;
		if (c->scheme->ops->put(c, path, a->file_name, &e) < 0)
			goto fail;
		if (state_begin(r->st, &e) < 0)
			goto fail;
		if (state_ack_sent(r->st, src->name, a->file_name, r->now, &e) < 0 ||
		    state_commit(r->st, &e) < 0) {
			state_rollback(r->st);
			goto fail;
		}
		unlink(path);
		run_say(r, "  %s: acknowledgment '%s' sent", src->name, a->file_name);
	}
	goto out;
fail:
	rc = -1;
	err_locate(&e, src->name, 0, 0, NULL);
	{
		char msg[1100];

		err_format(&e, msg, sizeof(msg));
		log_msg("error", "stockpipe: acks of %s: %s", src->name, msg);
	}
	r->failed_units++;
	if (r->first.code == E_NONE)
		r->first = e;
out:
	conn_close(c);
	for (i = 0; i < l.n; i++)
		free(l.content[i]);
	free(l.content);
	free(l.v);
	return rc;
}

static int do_map_doc(struct src_ctx *sc, struct state_unit *u);

static int do_map(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct err e = ERR_INIT;
	int rc;

	if (u->state == US_DONE || u->state == US_QUARANTINED)
		return 0;
	sc->acks = NULL;
	if (sc->src->ack_url &&
	    edi_ack_new(&sc->acks, sc->src->ack_x12, sc->src->ack_edifact,
			&e) < 0)
		return run_unit_fail(sc->r, u, &e, 0), 0;
	rc = do_map_doc(sc, u);
	edi_ack_free(sc->acks);
	sc->acks = NULL;
	return rc;
}

static int do_map_doc(struct src_ctx *sc, struct state_unit *u)
{
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct state_unit next;
	struct map_out m;
	struct mapping_stats ms;
	struct mapping_doc doc;
	struct run_facts facts;
	struct mapping_sink sink;
	char cpath[4096], rpath[4096], name[300];
	const struct mapping *map;
	int rc, accept;
	char released[520];

	if (u->state == US_DONE || u->state == US_QUARANTINED)
		return 0;
	/* `quarantine release ID --accept` waives the reject threshold for
	 * this one document (recorded in its detail). */
	accept = strstr(u->detail, QUARANTINE_ACCEPT_TAG) != NULL;
	/* Keep who released it (and why) next to the new outcome. */
	if (strncmp(u->detail, "released by ", 12))
		released[0] = '\0';
	else
		run_notef(released, sizeof(released), "%.500s; ", u->detail);
	if (stop_requested)
		return r->interrupted = 1, 1;
	if (run_unit_begin(r, u, sc->err) < 0)
		return -1;
	if (!(map = run_mapping_for(sc, u->ukey, u->input_path, &e))) {
		if (e.code == E_NOTFOUND)
			return quarantine(r, u, &e), 0;
		return run_unit_fail(r, u, &e, 0), 0;
	}
	if (run_doc_facts(r, sc->src, map, u, &facts, &e) < 0) {
		err_locate(&e, u->ukey, 0, 0, NULL);
		if (e.code == E_PARSE)
			return quarantine(r, u, &e), 0;
		return run_unit_fail(r, u, &e, 0), 0;
	}
	memset(&m, 0, sizeof(m));
	m.quiet = r->g->quiet;
	buf_init(&m.line, 1 << 22);
	snprintf(name, sizeof(name), "%lld.jsonl", (long long)u->id);
	snprintf(cpath, sizeof(cpath), "%s/canonical/%lld/%s/%s",
		 r->cfg->state_dir, (long long)r->run_id, u->scope, name);
	snprintf(rpath, sizeof(rpath), "%s/rejects/%lld/%s/%s",
		 r->cfg->state_dir, (long long)r->run_id, u->scope, name);
	if (fsu_atomic_open(&m.canon, cpath, &e) < 0) {
		buf_release(&m.line);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	if (fsu_atomic_open(&m.rejects, rpath, &e) < 0) {
		fsu_atomic_abort(&m.canon);
		buf_release(&m.line);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	doc.source = sc->src->name;
	doc.name = u->ukey;
	doc.path = u->input_path;
	doc.sha256 = u->input_sha;
	doc.facts = &facts.f;
	memset(&sink, 0, sizeof(sink));
	sink.record = sink_record;
	sink.reject = sink_reject;
	sink.ud = &m;
	m.r = r;
	m.source = sc->src->name;
	m.doc = u->ukey;
	m.doc_sha = u->input_sha;
	m.doc_id = u->id;
	sink.interchange = sink_interchange;
	memset(&ms, 0, sizeof(ms));
	rc = mapping_run_verdicts(map, &doc, &sink,
				  sc->acks ? edi_ack_verdict : NULL, sc->acks,
				  &ms, &e);
	buf_release(&m.line);
	if (rc == 0 && record_interchanges(r, &m, &e) < 0)
		rc = -1;
	free(m.ics);
	m.ics = NULL;
	u->dupes = m.dup_ics;
	u->records_in = (int64_t)ms.input_records;
	u->records_out = m.records;
	u->rejects = m.rejected;
	if (rc < 0) {
		fsu_atomic_abort(&m.canon);
		fsu_atomic_abort(&m.rejects);
		if (e.code == E_INTERRUPT)
			return run_unit_interrupted(r, u);
		err_locate(&e, u->ukey, 0, 0, NULL);
		if (e.code == E_PARSE || e.code == E_TOOBIG ||
		    e.code == E_VALIDATE || e.code == E_MAP)
			return quarantine(r, u, &e), 0;
		return run_unit_fail(r, u, &e, 0), 0;
	}
	if (fsu_atomic_commit(&m.canon, u->output_sha, &e) < 0) {
		fsu_atomic_abort(&m.rejects);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	if (fsu_atomic_commit(&m.rejects, NULL, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	str_copy(u->output_path, sizeof(u->output_path), cpath);
	run_notef(u->detail, sizeof(u->detail), "%srejects: %s", released, rpath);
	if (m.dup_ics || m.conflict_ics) {
		size_t dl = strlen(u->detail);

		run_notef(u->detail + dl, sizeof(u->detail) - dl,
		      "; %lld duplicate interchange(s) not loaded again, %lld "
		      "rejected for a reused control number",
		      (long long)m.dup_ics, (long long)m.conflict_ics);
		run_say(r, "  %s: '%s': %lld duplicate interchange(s) not loaded "
		    "again, %lld rejected for a reused control number",
		    u->scope, u->ukey, (long long)m.dup_ics,
		    (long long)m.conflict_ics);
	}
	/* Acknowledgments answer the syntax, so they go out whether or not
	 * the reject threshold quarantines the document (a partner whose
	 * file was all broken hears it). */
	if (sc->acks && record_acks(r, sc->src, u, sc->acks, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (ms.input_records && !accept &&
	    (int64_t)m.rejected * 100 >
		    (int64_t)sc->src->reject_threshold_pct *
			    (int64_t)ms.input_records) {
		err_set(&e, E_VALIDATE,
			"%lld of %lu records rejected, more than the %d%% "
			"threshold; see %s",
			(long long)m.rejected, ms.input_records,
			sc->src->reject_threshold_pct, rpath);
		err_locate(&e, u->ukey, 0, 0, NULL);
		return quarantine(r, u, &e), 0;
	}
	unit_init(&next, r, ST_LOAD, sc->src->name, u->ukey);
	next.parent = u->id;
	str_copy(next.input_path, sizeof(next.input_path), cpath);
	str_copy(next.input_sha, sizeof(next.input_sha), u->output_sha);
	if (unit_done(r, u, &next, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (m.rejected)
		run_say(r, "  %s: '%s': %lld record%s rejected%s, see %s", u->scope,
		    u->ukey, (long long)m.rejected,
		    m.rejected == 1 ? "" : "s",
		    m.rejected > REJECTS_SHOWN ? " (first shown above)" : "",
		    rpath);
	return 0;
}

/* ---- after load: the source's files --------------------------------- */

static int do_post(void *ud, struct state_unit *u)
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
	    !u->output_sha[0] || strstr(u->detail, " posted"))
		return 0;
	if (state_unit_tree_open(r->st, u->id, &open, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (open)
		return 0;
	if (parse_size_mtime(u, &size, &mtime) < 0)
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
static int run_until(const struct run *r)
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
		    plan_fetch(r, sc->src, sc->conn, &e) == 0)
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
	unit_init(&u, r, ST_FETCH, sc->src->name, "(list)");
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

static int do_render(void *ud, struct state_unit *u);
static int do_deliver(void *ud, struct state_unit *u);

int run_do_unit(struct run *r, struct src_ctx *sc, struct tgt_ctx *tc,
		struct state_unit *u)
{
	static int (*const src_fns[])(void *, struct state_unit *) = {
		do_fetch, do_unpack, do_map, run_do_load};
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
		c.fn = do_render;
		c.ud = tc;
	} else if (s == ST_DELIVER && tc) {
		c.fn = do_deliver;
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
		send_acks(r, sc->src);
	/* Post-process the partner's files only when every document made
	 * from the file is loaded (or deliberately set aside): never before
	 * (do_post checks each file's units). Pending units mean this
	 * invocation stopped early (--until, a signal). */
	if (!cc.pending && !r->interrupted &&
	    (run_src_open(sc, err) < 0 ||
	     state_units_each(r->st, r->run_id, "fetch", sc->src->name,
			      do_post, sc, err) < 0))
		return -1;
	return 0;
}

/* A source's units of run r->run_id, stage by stage, then its tail.
 * parked_only: an older run whose parked units are retried in place. */
static int source_units(struct run *r, struct src_ctx *sc, int parked_only,
			struct err *err)
{
	static int (*const fns[])(void *, struct state_unit *) = {
		do_fetch, do_unpack, do_map};
	struct unit_call c = {r, NULL, sc, parked_only};
	int s, until = run_until(r);

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

/* ---- render and deliver ------------------------------------------------ */

static int expand_name(const struct run *r, const struct cfg_target *t,
		       const char *ext, char *out, size_t n, struct err *err)
{
	const char *p = t->filename;
	size_t len = 0;

	while (*p) {
		const char *close;
		char tmp[256];
		int w;

		if (*p != '{') {
			if (len + 1 >= n)
				goto toolong;
			out[len++] = *p++;
			continue;
		}
		if (!(close = strchr(p, '}')))
			return err_set(err, E_CONFIG,
				       "target '%s': unclosed '{' in filename",
				       t->name);
		if (!strncmp(p, "{target}", 8))
			w = snprintf(out + len, n - len, "%s", t->name);
		else if (!strncmp(p, "{run_id}", 8))
			w = snprintf(out + len, n - len, "%lld",
				     (long long)r->run_id);
		else if (!strncmp(p, "{ext}", 5))
			w = snprintf(out + len, n - len, "%s", ext);
		else if (!strncmp(p, "{utc:", 5)) {
			char fmt[128];

			snprintf(fmt, sizeof(fmt), "%.*s", (int)(close - p - 5),
				 p + 5);
			if (dt_format(r->now, fmt, tmp, sizeof(tmp)) < 0)
				return err_set(err, E_CONFIG,
					       "target '%s': bad time format "
					       "'%s' in filename",
					       t->name, fmt);
			w = snprintf(out + len, n - len, "%s", tmp);
		} else {
			return err_set(err, E_CONFIG,
				       "target '%s': unknown placeholder "
				       "'%.*s' in filename (use {target}, "
				       "{run_id}, {utc:FORMAT}, {ext})",
				       t->name, (int)(close - p + 1), p);
		}
		if (w < 0 || (size_t)w >= n - len)
			goto toolong;
		len += (size_t)w;
		p = close + 1;
	}
	out[len] = '\0';
	if (!conn_name_ok(out))
		return err_set(err, E_CONFIG, "target '%s': bad file name '%s'",
			       t->name, out);
	return 0;
toolong:
	return err_set(err, E_CONFIG, "target '%s': file name too long",
		       t->name);
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
	str_copy(base, sizeof(base), name);
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
	const char *p = strstr(u->detail, "control=");

	if (p && sscanf(p + 8, "%lld", (long long *)out) == 1 && *out > 0)
		return 0;
	if (state_begin(r->st, err) < 0)
		return -1;
	if (state_counter_next(r->st, counter, out, err) < 0)
		goto fail;
	run_notef(u->detail, sizeof(u->detail), "control=%lld",
	      (long long)*out);
	if (state_unit_save(r->st, u, err) < 0)
		goto fail;
	return state_commit(r->st, err);
fail:
	state_rollback(r->st);
	return -1;
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
		str_copy(c->prev, sizeof(c->prev),
			 c->base[0] ? c->base : "(no changes)");
		return 0;
	}
	if (env->rows == 0 && !strcmp(outbound_kind(c->ob), "stock")) {
		/* No position is known yet (every store file quarantined, say):
		 * an empty full snapshot would tell the target "no stock
		 * anywhere". Send nothing instead. */
		*skip = 1;
		str_copy(c->prev, sizeof(c->prev),
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

static int do_render(void *ud, struct state_unit *u)
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
	char why[512], prev_pub[4200], rpath[4200];
	struct cfg_target tt;
	int stale;

	if (u->state == US_DONE)
		return 0;
	if (stop_requested)
		return r->interrupted = 1, 1;
	if (run_unit_begin(r, u, tc->err) < 0)
		return -1;
	tt = *tc->t;
	if (render_source_stale(r->st, r->cfg, tc->t, r->now, &stale, why,
				sizeof(why), &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (stale && tt.stale_hold) {
		/* Hold the last published values: the target keeps what it
		 * has rather than receive a truth missing a source. */
		run_notef(u->detail, sizeof(u->detail), "held: %s", why);
		if (unit_done(r, u, NULL, &e) < 0)
			return run_unit_fail(r, u, &e, 0), 0;
		run_say(r, "  %s: held, nothing delivered: %s", tt.name, why);
		return 0;
	}
	if (stale) {
		tt.safety_pct += tt.stale_buffer_pct;
		if (tt.safety_pct > 100)
			tt.safety_pct = 100;
		run_say(r, "  %s: extra %d%% buffer: %s", tt.name,
		    tt.stale_buffer_pct, why);
	}
	if (outbound_load(tc->t->mapping, &ob, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (state_begin(r->st, &e) == 0) {
		state_run_dep_add(r->st, r->run_id, tc->t->mapping,
				  outbound_sha256(ob), &e);
		state_commit(r->st, &e);
	}
	if (expand_name(r, tc->t, outbound_format(ob), name, sizeof(name),
			&e) < 0 ||
	    unique_name(r, tc->t, name, sizeof(name), &e) < 0)
		goto fail;
	path_in(r, path, sizeof(path), "outbox", tc->t->name, name);
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
	if (tt.delta) {
		int found;

		if (state_delivery_latest(r->st, tt.name, rc.base,
					  sizeof(rc.base), &found, &e) < 0)
			goto fail;
		if (found) {
			path_in(r, prev_pub, sizeof(prev_pub), "outbox",
				tt.name, rc.base);
			strncat(prev_pub, ".pub",
				sizeof(prev_pub) - strlen(prev_pub) - 1);
			if (!fsu_exists(prev_pub)) {
				run_say(r, "  %s: the picture of '%s' is gone; "
				       "sending a full snapshot",
				    tt.name, rc.base);
				prev_pub[0] = '\0';
			}
		}
	}
	/* Rows the target's format cannot carry (on_bad_row: reject) are
	 * left out and kept here, beside the sources' rejects of the run. */
	if ((size_t)snprintf(rpath, sizeof(rpath),
			     "%s/rejects/%lld/targets/%s.jsonl",
			     r->cfg->state_dir, (long long)r->run_id,
			     tt.name) >= sizeof(rpath)) {
		err_set(&e, E_CONFIG, "target '%s': reject file path too long",
			tt.name);
		goto fail;
	}
	/* One SELECT streams the positions: a consistent snapshot, and no
	 * load runs meanwhile (we hold the lock). */
	if (render_target(r->st, &tt, ob, &env, path,
			  prev_pub[0] ? prev_pub : NULL, rpath, render_ready,
			  &rc, key, sha, &rs, &e) < 0)
		goto fail;
	if (!sha[0] && !rs.rows && rs.rejects && !tt.delta &&
	    !strcmp(outbound_kind(ob), "stock"))
		/* render_ready saw no rows: there were, all left out. */
		str_copy(rc.prev, sizeof(rc.prev),
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
		/* Same content as a file the target already has: sending it
		 * again would be a duplicate delivery. */
		u->output_path[0] = '\0';
		str_copy(u->output_sha, sizeof(u->output_sha), key);
		run_notef(u->detail, sizeof(u->detail),
		      "unchanged: same as delivered '%s'%s%s", rc.prev,
		      rs.rejects ? "; rejects: " : "",
		      rs.rejects ? rpath : "");
		if (unit_done(r, u, NULL, &e) < 0)
			goto fail;
		run_say(r, "  %s: unchanged since '%s', nothing to deliver",
		    tc->t->name, rc.prev);
		return 0;
	}
	str_copy(u->output_path, sizeof(u->output_path), path);
	str_copy(u->output_sha, sizeof(u->output_sha), sha);
	run_notef(u->detail, sizeof(u->detail), "%lld rows%s%s%s", (long long)rs.rows,
	      prev_pub[0] ? ", delta since '" : "",
	      prev_pub[0] ? rc.base : "", prev_pub[0] ? "'" : "");
	if (env.control) {
		size_t dl = strlen(u->detail);

		run_notef(u->detail + dl, sizeof(u->detail) - dl, ", control=%lld",
		      (long long)env.control);
	}
	if (rs.rejects) {
		size_t dl = strlen(u->detail);

		/* "rejects: PATH" last, as map units say it: the report
		 * points there. */
		run_notef(u->detail + dl, sizeof(u->detail) - dl, "; rejects: %s",
		      rpath);
	}
	unit_init(&next, r, ST_DELIVER, tc->t->name, "delivery");
	next.parent = u->id;
	str_copy(next.input_path, sizeof(next.input_path), path);
	/* The delivery ledger is keyed by content, not by file bytes. */
	str_copy(next.input_sha, sizeof(next.input_sha), key);
	if (unit_done(r, u, &next, &e) < 0)
		goto fail;
	return 0;
fail:
	outbound_free(ob);
	return run_unit_fail(r, u, &e, 0), 0;
}

static int do_deliver(void *ud, struct state_unit *u)
{
	struct tgt_ctx *tc = ud;
	struct run *r = tc->r;
	struct err e = ERR_INIT;
	struct conn *c = NULL;
	const char *name;
	char prev[256];
	int found;

	if (u->state == US_DONE)
		return 0;
	if (stop_requested)
		return r->interrupted = 1, 1;
	if (run_unit_begin(r, u, tc->err) < 0)
		return -1;
	name = strrchr(u->input_path, '/');
	name = name ? name + 1 : u->input_path;
	if (state_delivery_find(r->st, tc->t->name, u->input_sha, prev,
				sizeof(prev), &found, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	if (found) {
		run_notef(u->detail, sizeof(u->detail),
			 "already delivered as '%s'", prev);
		if (unit_done(r, u, NULL, &e) < 0)
			return run_unit_fail(r, u, &e, 0), 0;
		return 0;
	}
	if (conn_open(tc->t->url, &tc->t->conn, &c, &e) < 0 ||
	    c->scheme->ops->put(c, u->input_path, name, &e) < 0) {
		conn_close(c);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	conn_close(c);
	run_notef(u->output_path, sizeof(u->output_path), "%s/%s", tc->t->url,
	      name);
	str_copy(u->output_sha, sizeof(u->output_sha), u->input_sha);
	run_notef(u->detail, sizeof(u->detail), "delivered '%s'", name);
	u->state = US_DONE;
	u->finished_ms = run_now_ms();
	/* If we die between the rename on the far side and this commit, the
	 * resumed unit puts the same bytes under the same name again: an
	 * overwrite, not a second file. */
	if (state_begin(r->st, &e) < 0 ||
	    state_delivery_add(r->st, tc->t->name, u->input_sha, r->run_id,
			       name, r->now, &e) < 0 ||
	    state_unit_save(r->st, u, &e) < 0 || state_commit(r->st, &e) < 0) {
		state_rollback(r->st);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	run_say(r, "  %s: delivered '%s'", tc->t->name, name);
	return 0;
}

static int target_due(struct run *r, const struct cfg_target *t, int *due,
		      struct err *err)
{
	int64_t last, parked, parked_d;

	*due = 1;
	if (t->schedule == CFG_SCHED_ALWAYS ||
	    (r->o->mode == RUN_RERUN) || r->o->mode == RUN_DELIVER)
		return 0;
	/* A target whose last render or delivery failed stays due: the next
	 * run sends it a fresh snapshot, whatever its schedule says. */
	if (state_park_count_scope(r->st, r->run_id, "render", t->name,
				   &parked, err) < 0 ||
	    state_park_count_scope(r->st, r->run_id, "deliver", t->name,
				   &parked_d, err) < 0)
		return -1;
	if (parked || parked_d)
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

int run_plan_target(struct run *r, const struct cfg_target *t,
		    struct err *err)
{
	struct state_unit u;
	int planned, due;

	if (state_plan_done(r->st, r->run_id, "render", t->name, &planned,
			    err) < 0)
		return -1;
	if (planned)
		return 0;
	if (target_due(r, t, &due, err) < 0)
		return -1;
	if (state_begin(r->st, err) < 0)
		return -1;
	unit_init(&u, r, ST_RENDER, t->name, "snapshot");
	/* The new render is the retry of every render or delivery of this
	 * target that older runs parked. */
	if ((due && (state_unit_add(r->st, &u, err) < 0 ||
		     state_unit_save(r->st, &u, err) < 0 ||
		     state_park_supersede(r->st, r->run_id, "render", t->name,
					  NULL, err) < 0 ||
		     state_park_supersede(r->st, r->run_id, "deliver",
					  t->name, NULL, err) < 0 ||
		     state_target_checked(r->st, t->name, r->now, err) < 0)) ||
	    state_plan_mark(r->st, r->run_id, "render", t->name, err) < 0) {
		state_rollback(r->st);
		return -1;
	}
	if (state_commit(r->st, err) < 0)
		return -1;
	if (!due)
		run_say(r, "  %s: not due yet", t->name);
	return 0;
}

static int run_target(struct run *r, const struct cfg_target *t,
		      struct err *err)
{
	struct tgt_ctx tc = {r, t, err};
	struct unit_call render = {r, do_render, &tc, 0};
	struct unit_call deliver = {r, do_deliver, &tc, 0};

	if (run_plan_target(r, t, err) < 0 ||
	    state_units_each(r->st, r->run_id, "render", t->name, unit_call,
			     &render, err) < 0 ||
	    (run_until(r) >= ST_DELIVER &&
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
	       (o->only_source || o->only_target || run_until(r) < ST_DELIVER);
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
	int do_targets = run_until(r) >= ST_RENDER &&
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

static const char *now_iso(char *buf)
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
	    state_run_create(r->st, now_iso(iso), r->cfg->sha256, &r->run_id,
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
	if (fsu_copy(r->o->replay_file, path, sha, &size, err) < 0)
		return -1;
	unit_init(&u, r, ST_FETCH, src->name, key);
	u.state = US_DONE;
	u.attempts = 1;
	u.records_in = 1;
	u.started_ms = u.finished_ms = run_now_ms();
	str_copy(u.input_path, sizeof(u.input_path), r->o->replay_file);
	str_copy(u.output_path, sizeof(u.output_path), path);
	str_copy(u.output_sha, sizeof(u.output_sha), sha);
	run_notef(u.detail, sizeof(u.detail), "replay of '%s' (%llu bytes)",
	      r->o->replay_file, (unsigned long long)size);
	unit_init(&next, r, ST_UNPACK, src->name, key);
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
	    state_run_create(r->st, now_iso(iso), r->cfg->sha256, &r->run_id,
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
		if (fsu_mkdirs(dir, err) < 0)
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
		advanced = r->advanced_in[run_until(r)];
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
	    state_run_finish(r->st, r->run_id, rep.status, code, now_iso(iso),
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
	    state_run_finish(r->st, run_id, "done", code, now_iso(iso),
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
