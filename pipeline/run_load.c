/* run_load.c - the load stage of the stage engine (run.c): one document,
 * one transaction; see run_int.h (run_do_load).
 */
#include "run_int.h"
#include "config.h"
#include "log.h"
#include "state.h"
#include "state_arrival.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../transforms/canon.h"
#include "arena.h"

static int load_file(struct run *r, struct state_unit *u,
		     struct state_arrival *arr, struct load_stats *ls,
		     struct err *err)
{
	FILE *f = fopen(u->input_path, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	struct arena a;
	struct canon_record rec;
	int rc = 0;

	if (!f)
		return err_sys(err, "cannot open '%s'", u->input_path);
	arena_init(&a, 16384, 0);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (run_stopping()) {
			rc = err_set(err, E_INTERRUPT, "stopped by a signal");
			break;
		}
		arena_reset(&a);
		/* the record's ordinal in the document: its arrival line */
		arr->line = (int64_t)lineno;
		state_load_arrival(r->st, arr);
		if (canon_from_jsonl(line, (size_t)n, &rec, &a, err) < 0) {
			err_locate(err, u->input_path, lineno, 0, NULL);
			rc = -1;
			break;
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
	if (!rc && ferror(f))
		rc = err_sys(err, "cannot read '%s'", u->input_path);
	free(line);
	arena_release(&a);
	fclose(f);
	return rc;
}

int run_do_load(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct state_arrival arr;

	if (u->state == US_DONE)
		return 0;
	if (run_stopping())
		return r->interrupted = 1, 1;
	if (run_unit_begin(r, u, sc->err) < 0)
		return -1;
	memset(&ls, 0, sizeof(ls));
	u->records_in = 0;
	/* One document, one transaction: its records and the unit's "done"
	 * commit together, after taking back an earlier load of the same
	 * document (a rerun after a mapping fix). */
	if (state_begin(r->st, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	state_load_batching(r->st);
	if (state_unload_doc(r->st, u->parent, &e) < 0 ||
	    state_arrival_doc(r->st, u->parent, &arr, &e) < 0 ||
	    load_file(r, u, &arr, &ls, &e) < 0 ||
	    state_load_flush(r->st, &e) < 0) {
		state_rollback(r->st);
		if (e.code == E_INTERRUPT)
			return run_unit_interrupted(r, u);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	u->records_out = ls.applied;
	u->dupes = ls.dupes;
	u->stale = ls.stale;
	u->state = US_DONE;
	u->finished_ms = run_now_ms();
	u->detail[0] = '\0';
	if (ls.negative)
		run_notef(u->detail, sizeof(u->detail),
		      "%lld position(s) below zero", (long long)ls.negative);
	if (ls.unauthorized) {
		size_t dl = strlen(u->detail);

		run_notef(u->detail + dl, sizeof(u->detail) - dl,
		      "%s%lld record(s) not applied: source '%s' is not the "
		      "system of record for their state",
		      dl ? "; " : "", (long long)ls.unauthorized, u->scope);
		run_say(r, "  %s: '%s': %s", u->scope, u->ukey,
		    u->detail + (dl ? dl + 2 : 0));
	}
	if (state_unit_save(r->st, u, &e) < 0) {
		state_rollback(r->st);
		return run_unit_fail(r, u, &e, 0), 0;
	}
	if (state_commit(r->st, &e) < 0)
		return run_unit_fail(r, u, &e, 0), 0;
	return 0;
}

