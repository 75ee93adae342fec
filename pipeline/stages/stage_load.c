/* stage_load.c - the load stage: one document,
 * one transaction; see run_int.h (load_unit).
 *
 * Every record gets its arrival key (state_arrival.h) before it is
 * loaded. EDI interchanges the document brought are claimed again here,
 * under the writer lock (state_ic.h): one another document loaded first
 * is not loaded again, whatever the number of workers that mapped them.
 * What is not applied is counted on the load unit (stale, dupes, held)
 * and, with `on_stale: reject`, the stale records are also written to the
 * document's load reject file (rejects/RUN/SOURCE/MAPUNIT.stale.jsonl)
 * and counted as rejects.
 */
#include "pipeline/run_int.h"
#include "stage.h"
#include "load_uom.h"
#include "pipeline/config.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "lib/log.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_arrival.h"
#include "pipeline/store/state_ic.h"
#include "pipeline/store/state_txn.h"
#include "pipeline/report/progress.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/canon.h"
#include "transforms/mapping/mapping.h"
#include "lib/arena.h"

/* A load of this many records or more counts its commit in its duration
 * (eng_unit_commit: one small transaction more); a smaller one's commit
 * is within the figure's noise. By records, not by the commit's time:
 * a threshold in time made the number of a run's durable operations
 * vary from run to run (an extra commit when the fsync was slow), and
 * crash tests number them (sftp_crash.sh failed so). */
#define LOAD_COMMIT_RECORDS 10000

/* What one document's load keeps beside the counts. */
struct load_ctx {
	struct state_ic_dup *dups;  /* interchanges loaded by another doc */
	size_t ndups;
	int64_t *dup_recs;          /* records skipped per dup */
	int64_t *stale;             /* arrival lines of stale records */
	size_t nstale, capstale;
	int nomem;
	int64_t uom_rej;            /* records rejected here (their unit) */
	struct progress pr;         /* the unit's line: read, then apply */
};

static void on_stale(void *ud, int64_t line)
{
	struct load_ctx *c = ud;

	if (c->nstale == c->capstale) {
		size_t cap = c->capstale ? c->capstale * 2 : 256;
		int64_t *n = realloc(c->stale, cap * sizeof(*n));

		if (!n) {
			c->nomem = 1;
			return;
		}
		c->stale = n;
		c->capstale = cap;
	}
	c->stale[c->nstale++] = line;
}

/* The interchange (index into c->dups) record lineno belongs to, or -1. */
static int dup_of(const struct load_ctx *c, unsigned long lineno)
{
	size_t i;

	for (i = 0; i < c->ndups; i++)
		if ((int64_t)lineno >= c->dups[i].first_rec &&
		    (int64_t)lineno <= c->dups[i].last_rec)
			return (int)i;
	return -1;
}

static int load_file(struct run *r, struct state_unit *u,
		     struct state_arrival *arr, struct load_stats *ls,
		     struct load_ctx *c, struct load_uom *ul, struct err *err)
{
	struct gz_in *g;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	struct arena a;
	struct canon_record rec;
	struct progress *pr = &c->pr;
	int64_t consumed = 0;
	int rc = 0, d, k;

	/* a concluded run's canonical file may be compacted (lib/gz.h):
	 * `rerun --from load` reads the .gz */
	if (gz_open(&g, u->input_path, err) < 0)
		return -1;
	arena_init(&a, 16384, 0);
	/* the bar counts bytes of the plain text: unknown for a .gz */
	progress_begin(pr, "load", u->ukey, g->compressed ? 0 : g->size,
		       r->g->quiet);
	while ((n = gz_getline(&line, &cap, g)) > 0) {
		lineno++;
		consumed += n;
		progress_tick(pr, consumed);
		if (eng_stopping()) {
			rc = err_set(err, E_INTERRUPT, "stopped by a signal");
			break;
		}
		if (c->ndups && (d = dup_of(c, lineno)) >= 0) {
			/* its interchange was loaded from another document */
			c->dup_recs[d]++;
			ls->dupes++;
			u->records_in++;
			continue;
		}
		arena_reset(&a);
		/* the record's ordinal in the document: its arrival line */
		arr->line = (int64_t)lineno;
		state_load_arrival(r->st, arr);
		if (canon_from_jsonl(line, (size_t)n, &rec, &a, err) < 0 ||
		    (k = load_uom_record(ul, &rec, line, n, &a, err)) < 0) {
			err_locate(err, u->input_path, lineno, 0, NULL);
			rc = -1;
			break;
		}
		if (k > 0) { /* rejected: its unit cannot be converted */
			c->uom_rej++;
			u->records_in++;
			continue;
		}
		/* Only the system of record of a state may move it; the
		 * rest is counted and reported, not applied. */
		if (rec.kind == CANON_STOCK &&
		    !config_authorized(r->cfg,
				       config_state_index(rec.v[STOCK_STATE]),
				       rec.lin.source)) {
			if (state_keep_unapplied(r->st, u->parent, &rec,
						 err) < 0) {
				err_locate(err, u->input_path, lineno, 0,
					   NULL);
				rc = -1;
				break;
			}
			ls->unauthorized++;
			u->records_in++;
			continue;
		}
		if (state_load_record(r->st, u->parent, &rec, ls, err) < 0) {
			err_locate(err, u->input_path, lineno, 0, NULL);
			rc = -1;
			break;
		}
		u->records_in++;
	}
	/* the line goes on through load_flush (or ends at the unit's end) */
	free(line);
	arena_release(&a);
	if (rc)
		gz_close(g, &(struct err)ERR_INIT);
	else
		rc = gz_close(g, err);
	return rc;
}

static void apply_tick(void *ud)
{
	progress_tick(ud, 0);
}

/* state_load_flush with the unit's progress line going on: a document
 * larger than a batch was only sorted while it was read, and is applied
 * now in one merged pass, which may be most of the load's time. */
static int load_flush(struct run *r, struct load_ctx *c, struct err *err)
{
	int rc;

	progress_phase(&c->pr, state_load_waiting(r->st));
	state_load_on_apply(r->st, apply_tick, &c->pr);
	rc = state_load_flush(r->st, err);
	state_load_on_apply(r->st, NULL, NULL);
	progress_end(&c->pr);
	return rc;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/* on_stale: reject. Writes the stale records (c->stale, canonical lines
 * of u's input) to rejects/RUN/SOURCE/MAPUNIT.stale.jsonl as reject
 * lines naming their source file and line, and publishes it (before the
 * load commits; a redo rewrites it). *path gets its name. */
static int write_stale(struct run *r, struct state_unit *u,
		       struct load_ctx *c, char *path, size_t pathn,
		       struct err *err)
{
	struct io_atomic out;
	struct buf b = BUF_INIT(1 << 22);
	struct arena a;
	struct canon_record rec;
	struct mapping_reject rj;
	struct gz_in *g;
	char *line = NULL;
	size_t cap = 0, k = 0;
	ssize_t n;
	int64_t lineno = 0;
	int rc = 0;

	qsort(c->stale, c->nstale, sizeof(*c->stale), cmp_i64);
	run_notef(path, pathn, "%s/rejects/%lld/%s/%lld.stale.jsonl",
		  r->cfg->state_dir, (long long)r->run_id, u->scope,
		  (long long)u->parent);
	if (gz_open(&g, u->input_path, err) < 0)
		return -1;
	if (io_atomic_open(&out, path, err) < 0) {
		gz_close(g, &(struct err)ERR_INIT);
		return -1;
	}
	arena_init(&a, 16384, 0);
	while (!rc && k < c->nstale &&
	       (n = gz_getline(&line, &cap, g)) > 0) {
		if (++lineno != c->stale[k])
			continue;
		while (k < c->nstale && c->stale[k] == lineno)
			k++;
		arena_reset(&a);
		if (canon_from_jsonl(line, (size_t)n, &rec, &a, err) < 0) {
			err_locate(err, u->input_path, (unsigned long)lineno,
				   0, NULL);
			rc = -1;
			break;
		}
		memset(&rj, 0, sizeof(rj));
		rj.file = rec.lin.file;
		rj.line = rec.lin.line;
		rj.field = "as_of";
		rj.reason = rec.kind == CANON_STOCK
				    ? "stale: older than the position's "
				      "snapshot, not applied (on_stale: reject)"
				    : "stale: older than the stored row, not "
				      "applied (on_stale: reject)";
		rj.raw = line;
		rj.raw_len = (size_t)n && line[n - 1] == '\n' ? (size_t)n - 1
							      : (size_t)n;
		buf_reset(&b);
		mapping_reject_to_jsonl(&rj, &b);
		if (b.err)
			rc = err_set(err, E_TOOBIG, "reject line too large");
		else
			rc = io_atomic_write(&out, b.ptr, b.len, err);
	}
	free(line);
	if (rc)
		gz_close(g, &(struct err)ERR_INIT);
	else
		rc = gz_close(g, err);
	arena_release(&a);
	buf_release(&b);
	if (rc < 0) {
		io_atomic_abort(&out);
		return -1;
	}
	return io_atomic_commit(&out, NULL, err);
}

/* The unit's detail and the run's lines for what was not loaded. */
static void describe(struct run *r, struct state_unit *u,
		     const struct load_stats *ls, const struct load_ctx *c,
		     const char *stale_path)
{
	size_t i, dl;

	u->detail[0] = '\0';
	if (ls->negative)
		run_notef(u->detail, sizeof(u->detail),
			  "%lld position(s) below zero",
			  (long long)ls->negative);
	if (ls->unauthorized) {
		dl = strlen(u->detail);
		run_notef(u->detail + dl, sizeof(u->detail) - dl,
			  "%s%lld record(s) not applied: source '%s' is not "
			  "the system of record for their state",
			  dl ? "; " : "", (long long)ls->unauthorized,
			  u->scope);
		run_say(r, "  %s: '%s': %s", u->scope, u->ukey,
			u->detail + (dl ? dl + 2 : 0));
	}
	for (i = 0; i < c->ndups; i++) {
		const struct state_ic_dup *x = &c->dups[i];

		dl = strlen(u->detail);
		run_notef(u->detail + dl, sizeof(u->detail) - dl,
			  "%sinterchange %s from %s to %s was already loaded "
			  "from '%s' (run %lld)%s: %lld record(s) not loaded "
			  "again",
			  dl ? "; " : "", x->control, x->sender, x->receiver,
			  x->prev_doc, (long long)x->prev_run,
			  x->same ? "" : " with other content",
			  (long long)c->dup_recs[i]);
		run_say(r, "  %s: '%s': %s", u->scope, u->ukey,
			u->detail + (dl ? dl + 2 : 0));
	}
	if (stale_path) {
		dl = strlen(u->detail);
		run_notef(u->detail + dl, sizeof(u->detail) - dl,
			  "%sstale rejects: %s", dl ? "; " : "", stale_path);
	}
}

static int load_unit(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct state_arrival arr;
	struct load_ctx c;
	struct load_uom *ul = NULL;
	char stale_path[4200];
	int reject = sc->src->stale_reject, rc;

	if (u->state == US_DONE)
		return 0;
	if (eng_stopping())
		return r->interrupted = 1, 1;
	if (eng_unit_start(r, u, sc->err) < 0)
		return -1;
	memset(&ls, 0, sizeof(ls));
	memset(&c, 0, sizeof(c));
	if (reject) {
		ls.on_stale = on_stale;
		ls.on_stale_ud = &c;
	}
	u->records_in = 0;
	/* One document, one transaction: its records and the unit's "done"
	 * commit together, after taking back an earlier load of the same
	 * document (a rerun after a mapping fix). */
	state_settle(r->st);
	if (load_uom_open(sc, u, &ul, &e) < 0 ||
	    eng_tx_begin_rows(r->st, &e) < 0) {
		load_uom_close(ul);
		return eng_unit_fail(r, u, &e);
	}
	state_load_batching(r->st);
	if (state_unload_doc(r->st, u->parent, &e) < 0 ||
	    state_ic_unload(r->st, u->parent, &e) < 0 ||
	    state_ic_load_claim(r->st, u->parent, u->scope, u->ukey,
				r->run_id, &c.dups, &c.ndups, &e) < 0 ||
	    (c.ndups && !(c.dup_recs = calloc(c.ndups, sizeof(int64_t))) &&
	     err_set(&e, E_NOMEM, "out of memory") < 0) ||
	    state_arrival_doc(r->st, u->parent, &arr, &e) < 0 ||
	    load_file(r, u, &arr, &ls, &c, ul, &e) < 0 ||
	    load_flush(r, &c, &e) < 0 ||
	    /* a replay after the fix must load what was rejected here */
	    (c.uom_rej && state_txn_doc_split(r->st, u->parent, &e) < 0) ||
	    (c.nomem && err_set(&e, E_NOMEM, "out of memory") < 0) ||
	    (c.nstale && write_stale(r, u, &c, stale_path, sizeof(stale_path),
				     &e) < 0))
		goto fail;
	u->records_out = ls.applied;
	u->dupes = ls.dupes;
	u->stale = ls.stale;
	u->held = ls.unauthorized;
	u->converted = ls.converted;
	u->rejects = reject ? ls.stale : 0;
	u->output_path[0] = '\0';
	if (c.nstale)
		if (eng_field(u->output_path, sizeof(u->output_path),
			      stale_path, "stale-row file path", &e) < 0)
			goto fail;
	u->state = US_DONE;
	u->finished_ms = eng_now_ms();
	describe(r, u, &ls, &c, c.nstale ? stale_path : NULL);
	/* load_uom_finish frees ul whatever it returns */
	rc = load_uom_finish(ul, u, &e);
	ul = NULL;
	if (rc < 0 || state_unit_save(r->st, u, &e) < 0)
		goto fail;
	if (eng_unit_commit(r, u, u->records_in >= LOAD_COMMIT_RECORDS, &e) < 0) {
		eng_unit_fail(r, u, &e);
		goto out;
	}
	goto out;
fail:
	progress_end(&c.pr); /* a failed read leaves its line drawn */
	load_uom_close(ul);
	(void)eng_tx_end(r->st, -1, &e);  /* rolls back; e says why */
	if (e.code == E_INTERRUPT)
		eng_unit_interrupted(r, u);
	else
		eng_unit_fail(r, u, &e);
out:
	free(c.dups);
	free(c.dup_recs);
	free(c.stale);
	return e.code == E_INTERRUPT ? 1 : 0;
}

const struct stage_ops stage_load = {
	.name = "load",
	.stage = ST_LOAD,
	.scope = STAGE_SOURCE,
	.unit = load_unit,
	.source_done = NULL,
};
