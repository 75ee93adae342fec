/* state_fold.c - folding the stock events of collected runs; see
 * state_fold.h.
 *
 * Which events may go (the rule the tests hold it to). A position is
 * rebuilt from its events only when a document is unloaded (state_load.c,
 * state_unload_doc -> recompute): from the latest applied snapshot (as_of,
 * arrival, txn_id), the applied deltas after it by (as_of, arrival), the
 * newest as_of and the count. Only a document of a run that can still be
 * rerun or resumed is ever unloaded, i.e. one of a run inside the
 * retention window: gc never collects a run that is not concluded or that
 * has unfinished units, and rerun refuses a collected run (runs.gc_at).
 * So an event E may be folded when:
 *   1. E belongs to a document of a collected run (never unloaded), and
 *   2. a snapshot S of the same (sku, location, state) and the same
 *      source, applied, also of a collected run (so no unload can take it
 *      away), is strictly newer than E by (as_of, arr_file, arr_member,
 *      arr_line).
 * Then whatever window documents are unloaded, the latest snapshot left
 * is S or newer, so E is neither that snapshot nor a delta after it; the
 * newest as_of is S's or newer and the count stays above zero: recompute
 * gives the same position with or without E. (The one field that can
 * differ is positions.delta_as_of, the newest delta's as_of, which is
 * only a hint for "sum the deltas after a new snapshot": the deltas it
 * would skip are all before S, where the sum is 0 either way.) The same
 * source keeps `reconcile`'s latest snapshot of each source. The newest
 * covering snapshot is never folded (nothing is newer than it), so folding
 * in any order, and again later, keeps every position's base. Where a
 * run of a window document held a snapshot newer than E, E stays: an
 * unload of that document (a rerun after a mapping fix) may need E.
 *
 * The txn_id of every loaded event is in the txn_id ledger since its load
 * (txn_digests, state_txn.c), and folding never touches the ledger: a
 * folded txn_id replayed years later is a duplicate like any other.
 * Folding is set-based: the covered events are found in one sorted pass
 * (the newest covering snapshot of each position and source, then the
 * events in id order against it), then deleted in id order, or, when
 * they are most of the table, the table is rebuilt with the rows kept
 * (SQLite: a bulk copy and two sorted index builds instead of one index
 * probe per deleted row in each of its two indexes).
 *
 * Incremental (schema 12, runs.fold_at). An event only becomes
 * foldable when a run is collected: rule 1 needs its own run collected,
 * rule 2 its covering snapshot's. A fold marks the collected runs it
 * counted (fold_at, in its own transaction: the runs it took at its
 * start, table fold_runs), so after it no event is covered among the
 * runs marked; the next fold need only look at the
 * positions (sku, location, state) of events of the runs collected
 * since (gc_at set, fold_at not): either E is of such a run, or its
 * covering S is, and both share the position. On those positions it
 * applies the same rule over every collected run (E of an older
 * collected run, S of a new one, and the other way round), so the
 * result is the full pick's (t_state_fold holds it to that). With no
 * newly collected run holding events, nothing is read at all. The full
 * pick is kept for when the new runs' events are half the table or more
 * (the first fold after the migration, when every collected run is
 * new): one sorted pass is then cheaper than lookups per position.
 *
 * Tables: stock_events and stock_event_units (rows deleted), runs
 * (fold_at set).
 */
#include "state_fold.h"
#include "db.h"
#include "state_int.h"
#include "state_lineage.h"
#include "state_txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transforms/model/dt.h"


/* The map units (documents) of collected runs. */
#define FOLD_DOCS                                                        \
	"(SELECT u.id FROM units u JOIN runs r ON r.run_id = u.run_id"   \
	" WHERE u.stage = 'map' AND r.gc_at IS NOT NULL)"
/* The map units of the runs collected since the last fold (incremental),
 * as table fold_runs took them at the fold's start: the fold marks those
 * runs and no other, so a run collected while it works (PostgreSQL reads
 * each statement's own snapshot) is left for the next one. */
#define FOLD_NEW_DOCS                                                    \
	"(SELECT u.id FROM units u JOIN fold_runs f"                     \
	" ON f.run_id = u.run_id WHERE u.stage = 'map')"
/* Their events e, through each document's id range (stock_events has no
 * index on doc since schema 12, state_lineage.h): the range scan of the
 * table's own key, the doc test dropping the ids of documents that were
 * loaded beside it. */
#define FOLD_NEW_EVENTS                                                  \
	"doc_events r JOIN stock_events e ON e.id BETWEEN r.lo"     \
	" AND r.hi AND e.doc = r.doc WHERE r.doc IN " FOLD_NEW_DOCS
/* Event e, joined to its document's unit ue, may be folded (the rule
 * above); an event's source is its unit's unless it says otherwise
 * (state_lineage.h). */
#define FOLD_COVERED                                                     \
	"e.doc IN " FOLD_DOCS " AND EXISTS (SELECT 1 FROM stock_events s" \
	" JOIN units us ON us.id = s.doc"                                \
	" WHERE s.sku = e.sku AND s.location = e.location"               \
	" AND s.state = e.state AND s.delta = 0 AND s.applied = 1"       \
	" AND coalesce(" STATE_EV_SOURCE("s", "us") ", '') = coalesce("  \
	STATE_EV_SOURCE("e", "ue") ", '')"                               \
	" AND s.as_of >= e.as_of AND (s.as_of, s.arr_file, s.arr_member," \
	" s.arr_line) > (e.as_of, e.arr_file, e.arr_member, e.arr_line)"  \
	" AND s.doc IN " FOLD_DOCS ")"

/* No statement of this file is prepared once (state_int.h): they name
 * the temporary table fold_gone, made per fold. */
/* The unit conversions of the folded events (keyed by txn_id). */
static const char units_del_sql[] =
	"DELETE FROM stock_event_units WHERE txn_id IN"
	" (SELECT txn_id FROM fold_gone)";
static const char gone_drop_sql[] = "DROP TABLE IF EXISTS fold_gone";
/* PostgreSQL's own (prepared per call, state_sql_rows): the events to
 * go, found by a semi-join the planner runs as one hashed pass. */
static const char gone_pg_sql[] =
	"CREATE TEMP TABLE fold_gone AS SELECT e.id, "
	STATE_EV_TXN("e", "ue") " AS txn_id"
	" FROM stock_events e JOIN units ue ON ue.id = e.doc"
	" WHERE " FOLD_COVERED;
/* SQLite: the newest covering snapshot of each (position, source), once
 * (one pass over the events, sorted), then the events in id order, each
 * looked up in it: a correlated EXISTS per event read the events table
 * at random (minutes on a store larger than the page cache). The events
 * drive the join (CROSS JOIN keeps that order). */
/* Table fold_cover: the newest applied snapshot of each (position,
 * source) of collected runs among the snapshots s that FROM names (with
 * us, s's unit); the full and the incremental pick differ only there. */
#define FOLD_COVER(FROM)                                                 \
	"CREATE TEMP TABLE fold_cover(sku TEXT, location TEXT,"          \
	" state INTEGER, src TEXT, as_of INTEGER, arr_file INTEGER,"     \
	" arr_member INTEGER, arr_line INTEGER,"                         \
	" PRIMARY KEY(sku, location, state, src)) WITHOUT ROWID;"        \
	"INSERT INTO fold_cover SELECT sku, location, state, src, as_of," \
	" arr_file, arr_member, arr_line FROM (SELECT s.sku, s.location," \
	" s.state, coalesce(" STATE_EV_SOURCE("s", "us") ", '') AS src," \
	" s.as_of, s.arr_file, s.arr_member, s.arr_line,"                \
	" row_number() OVER (PARTITION BY s.sku, s.location, s.state,"   \
	" coalesce(" STATE_EV_SOURCE("s", "us") ", '')"                  \
	" ORDER BY s.as_of DESC, s.arr_file DESC, s.arr_member DESC,"    \
	" s.arr_line DESC) AS rn " FROM                                  \
	" WHERE s.delta = 0 AND s.applied = 1"                           \
	" AND s.doc IN " FOLD_DOCS ") WHERE rn = 1;"
static const char cover_lite_sql[] =
	FOLD_COVER("FROM stock_events s JOIN units us ON us.id = s.doc")
	"CREATE TEMP TABLE fold_gone(id INTEGER PRIMARY KEY, txn_id TEXT);"
	"INSERT INTO fold_gone SELECT e.id, " STATE_EV_TXN("e", "ue")
	" FROM stock_events e"
	" CROSS JOIN units ue ON ue.id = e.doc"
	" CROSS JOIN temp.fold_cover c ON c.sku = e.sku"
	" AND c.location = e.location AND c.state = e.state"
	" AND c.src = coalesce(" STATE_EV_SOURCE("e", "ue") ", '')"
	" WHERE e.doc IN " FOLD_DOCS
	" AND (e.as_of, e.arr_file, e.arr_member, e.arr_line) < (c.as_of,"
	" c.arr_file, c.arr_member, c.arr_line) ORDER BY e.id;"
	"DROP TABLE temp.fold_cover";
static const char cover_drop_sql[] = "DROP TABLE IF EXISTS temp.fold_cover";
/* Positions that never had an applied snapshot have nothing to fold (no
 * S), and their events are read no more: a position of deltas only (an
 * 852's sales) gains events every day, for ever. positions.snap_as_of is
 * set by every applied snapshot and kept by every recompute while one is
 * left; were it ever wrong, an event would stay that could go, never the
 * other way round. */
#define KEYS_SNAP_ONLY                                                   \
	"DELETE FROM fold_keys WHERE NOT EXISTS (SELECT 1 FROM positions p" \
	" WHERE p.sku = fold_keys.sku AND p.location = fold_keys.location" \
	" AND p.state = fold_keys.state AND p.snap_as_of IS NOT NULL)"
/* The incremental pick: the positions of the new runs' events, then the
 * same two statements as above restricted to them, each position's
 * events read through stock_events_key (the keys drive the joins). */
static const char keys_new_sql[] =
	"SELECT count(*) FROM " FOLD_NEW_EVENTS;
static const char keys_drop_sql[] = "DROP TABLE IF EXISTS fold_keys";
static const char keys_lite_sql[] =
	"CREATE TEMP TABLE fold_keys(sku TEXT, location TEXT, state INTEGER,"
	" PRIMARY KEY(sku, location, state)) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO fold_keys SELECT e.sku, e.location, e.state"
	" FROM " FOLD_NEW_EVENTS ";"
	KEYS_SNAP_ONLY ";"
	FOLD_COVER("FROM temp.fold_keys k CROSS JOIN stock_events s"
		   " ON s.sku = k.sku AND s.location = k.location"
		   " AND s.state = k.state CROSS JOIN units us"
		   " ON us.id = s.doc")
	"DROP TABLE temp.fold_keys;"
	"CREATE TEMP TABLE fold_gone(id INTEGER PRIMARY KEY, txn_id TEXT);"
	"INSERT INTO fold_gone SELECT e.id, " STATE_EV_TXN("e", "ue")
	" FROM temp.fold_cover c"
	" CROSS JOIN stock_events e ON e.sku = c.sku"
	" AND e.location = c.location AND e.state = c.state"
	" AND e.as_of <= c.as_of CROSS JOIN units ue ON ue.id = e.doc"
	" WHERE c.src = coalesce(" STATE_EV_SOURCE("e", "ue") ", '')"
	" AND e.doc IN " FOLD_DOCS
	" AND (e.as_of, e.arr_file, e.arr_member, e.arr_line) < (c.as_of,"
	" c.arr_file, c.arr_member, c.arr_line) ORDER BY e.id;"
	"DROP TABLE temp.fold_cover";
/* PostgreSQL, statement by statement (prepared per call); ANALYZE so
 * the planner sees how few positions drive the join. */
static const char keys_pg_sql[] =
	"CREATE TEMP TABLE fold_keys AS SELECT DISTINCT e.sku, e.location,"
	" e.state FROM " FOLD_NEW_EVENTS;
static const char gone_keys_pg_sql[] =
	"CREATE TEMP TABLE fold_gone AS SELECT e.id, "
	STATE_EV_TXN("e", "ue") " AS txn_id"
	" FROM fold_keys k JOIN stock_events e ON e.sku = k.sku"
	" AND e.location = k.location AND e.state = k.state"
	" JOIN units ue ON ue.id = e.doc WHERE " FOLD_COVERED;
/* The runs newly collected, taken once (FOLD_NEW_DOCS). */
static const char runs_drop_sql[] = "DROP TABLE IF EXISTS fold_runs";
static const char runs_new_sql[] =
	"CREATE TEMP TABLE fold_runs AS SELECT run_id FROM runs"
	" WHERE gc_at IS NOT NULL AND fold_at IS NULL";
/* They are counted from now on (the header's "Incremental"). */
static const char mark_sql[] =
	"UPDATE runs SET fold_at = ? WHERE run_id IN"
	" (SELECT run_id FROM fold_runs)";
/* The rows to go, in id order (the table's own order). */
static const char del_sql[] =
	"DELETE FROM stock_events WHERE id IN (SELECT id FROM fold_gone)";
/* SQLite, when most rows go: the table rebuilt with the rows kept, ids
 * and all, its indexes built once from sorted runs. */
static const char rebuild_lite_sql[] =
	STATE_EVENTS_SQLITE("fold_kept")
	"INSERT INTO fold_kept SELECT * FROM stock_events"
	" WHERE id NOT IN (SELECT id FROM fold_gone) ORDER BY id;"
	"DROP TABLE stock_events;"
	"ALTER TABLE fold_kept RENAME TO stock_events;"
	STATE_EVENTS_INDEXES;

/* SQLite's page cache while folding, in KiB. Each sort of the fold
 * (the window's, CREATE INDEX's of a rebuild) keeps up to cache_size of
 * sorted records in memory before it spills, and VACUUM gives its copy a
 * cache of that size too: on top of the 16 MiB the load left full, that
 * put a run whose gc folds 16 MiB over the load's own peak (massif: the
 * pick's sorter, then VACUUM's cache; 65 MB RSS, 52 MB with this). The
 * fold reads the events in id order and the pick's tables are in temp,
 * so the smaller cache cost it no CPU (800 000 events folded). */
#define FOLD_CACHE_KIB 4096

/* Sets the cache to FOLD_CACHE_KIB; *old = the size to give back. */
static int fold_cache_small(struct state *s, int64_t *old, struct err *err)
{
	char sql[64];

	*old = 0;
	if (state_sql_rows(s, "PRAGMA cache_size", SA_NONE, state_row_int,
			   old, err) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", FOLD_CACHE_KIB);
	return db_exec(s->db, sql, err);
}

/* Gives the cache its size back (old from fold_cache_small). */
static int fold_cache_back(struct state *s, int64_t old, struct err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size=%lld", (long long)old);
	return db_exec(s->db, sql, err);
}

/* The full pick: the events to go into table fold_gone. */
static int pick_full(struct state *s, struct err *err)
{
	if (state_is_pg(s))
		return state_sql_rows(s, gone_pg_sql, SA_NONE, NULL, NULL, err);
	if (db_exec(s->db, cover_drop_sql, err) < 0)
		return -1;
	return db_exec(s->db, cover_lite_sql, err);
}

/* The incremental pick, into fold_gone: only the positions of the
 * events of runs collected since the last fold. */
static int pick_new(struct state *s, struct err *err)
{
	if (state_sql_rows(s, keys_drop_sql, SA_NONE, NULL, NULL, err) < 0)
		return -1;
	if (!state_is_pg(s))
		return db_exec(s->db, cover_drop_sql, err) < 0
			       ? -1
			       : db_exec(s->db, keys_lite_sql, err);
	if (state_sql_rows(s, keys_pg_sql, SA_NONE, NULL, NULL, err) < 0 ||
	    state_sql_rows(s, KEYS_SNAP_ONLY, SA_NONE, NULL, NULL, err) < 0 ||
	    state_sql_rows(s, "ANALYZE fold_keys", SA_NONE, NULL, NULL, err) <
		    0 ||
	    state_sql_rows(s, gone_keys_pg_sql, SA_NONE, NULL, NULL, err) < 0)
		return -1;
	return state_sql_rows(s, keys_drop_sql, SA_NONE, NULL, NULL, err);
}

/* The events to go into table fold_gone (none when the runs collected
 * since the last fold hold no events and pick is not the full one);
 * *n = how many, *all = of how many events (counted only when n > 0 or
 * for AUTO's choice: a count reads a whole index). */
static int fold_pick(struct state *s, enum state_fold_pick pick,
		     int64_t *n, int64_t *all, struct err *err)
{
	int64_t fresh = 0;

	*n = *all = -1;
	if (state_sql_rows(s, gone_drop_sql, SA_NONE, NULL, NULL, err) < 0 ||
	    state_sql_rows(s, runs_drop_sql, SA_NONE, NULL, NULL, err) < 0 ||
	    state_sql_rows(s, runs_new_sql, SA_NONE, NULL, NULL, err) < 0)
		return -1;
	if (pick != STATE_FOLD_FULL &&
	    state_sql_rows(s, keys_new_sql, SA_NONE, state_row_int, &fresh,
			   err) < 0)
		return -1;
	if (pick != STATE_FOLD_FULL && !fresh) {
		*n = 0;
		return 0;
	}
	if (pick == STATE_FOLD_AUTO &&
	    state_sql_rows(s, "SELECT count(*) FROM stock_events", SA_NONE,
			   state_row_int, all, err) < 0)
		return -1;
	/* Half: the incremental pick costs about 3.3 us per new event (an
	 * index probe and table lookups per position), the full one 1.5 us
	 * per event of the table (one sorted pass); docs/performance.md,
	 * "w-gcinc". */
	if (pick == STATE_FOLD_FULL ||
	    (pick == STATE_FOLD_AUTO && fresh * 2 >= *all)) {
		if (pick_full(s, err) < 0)
			return -1;
	} else if (pick_new(s, err) < 0) {
		return -1;
	}
	if (state_sql_rows(s, "SELECT count(*) FROM fold_gone", SA_NONE,
			   state_row_int, n, err) < 0)
		return -1;
	if (*n && *all < 0)
		return state_sql_rows(s, "SELECT count(*) FROM stock_events",
				      SA_NONE, state_row_int, all, err);
	return 0;
}

/* state_fold_events_pick in the page cache the caller set. */
static int fold_events(struct state *s, enum state_fold_pick pick,
		       const char *now_iso, int64_t *folded, struct err *err)
{
	int64_t n, all;

	*folded = 0;
	if (state_begin(s, err) < 0)
		return -1;
	if (fold_pick(s, pick, &n, &all, err) < 0)
		goto fail;
	if (n && state_sql_rows(s, units_del_sql, SA_NONE, NULL, NULL, err) <
			 0)
		goto fail;
	/* a quarter: where deleting row by row (two index probes each)
	 * began to cost more than copying the rest, on a large store */
	if (n && !state_is_pg(s) && n * 4 >= all) {
		if (db_exec(s->db, rebuild_lite_sql, err) < 0)
			goto fail;
	} else if (n && state_sql_rows(s, del_sql, SA_NONE, NULL, NULL, err) <
				0) {
		goto fail;
	}
	if (state_sql_rows(s, gone_drop_sql, SA_NONE, NULL, NULL, err) < 0 ||
	    state_sql_rows(s, mark_sql, SA(SA_T(now_iso)), NULL, NULL, err) <
		    0 ||
	    state_sql_rows(s, runs_drop_sql, SA_NONE, NULL, NULL, err) < 0)
		goto fail;
	*folded = n;
	return state_commit(s, err);
fail:
	state_rollback(s);
	return -1;
}

int state_fold_events_pick(struct state *s, enum state_fold_pick pick,
			   const char *now_iso, int64_t *folded,
			   struct err *err)
{
	int64_t cache;
	int rc;

	*folded = 0;
	if (state_is_pg(s))
		return fold_events(s, pick, now_iso, folded, err);
	if (fold_cache_small(s, &cache, err) < 0)
		return -1;
	rc = fold_events(s, pick, now_iso, folded, err);
	/* after a failure err keeps the first error (lib/err.h) */
	if (fold_cache_back(s, cache, err) < 0)
		rc = -1;
	return rc;
}

int state_fold_events(struct state *s, int64_t *folded, struct err *err)
{
	char now[DT_ISO_LEN];

	dt_format_iso((int64_t)time(NULL), now);
	return state_fold_events_pick(s, STATE_FOLD_AUTO, now, folded, err);
}

/* One integer of a PRAGMA (SQLite). */
static int pragma(struct state *s, const char *sql, int64_t *v,
		  struct err *err)
{
	*v = 0;
	return state_sql_rows(s, sql, SA_NONE, state_row_int, v, err);
}

/* VACUUM in the fold's page cache: its copy gets a cache of the same
 * size (FOLD_CACHE_KIB says why). */
static int fold_vacuum(struct state *s, struct err *err)
{
	int64_t cache;
	int rc;

	if (fold_cache_small(s, &cache, err) < 0)
		return -1;
	rc = db_exec(s->db, "VACUUM", err);
	if (fold_cache_back(s, cache, err) < 0)
		rc = -1;
	return rc;
}

int state_fold_reclaim(struct state *s, int64_t *freed, struct err *err)
{
	int64_t mode, pages, free_pages, size, after;

	*freed = 0;
	if (state_is_pg(s))
		return 0;
	if (pragma(s, "PRAGMA auto_vacuum", &mode, err) < 0 ||
	    pragma(s, "PRAGMA page_count", &pages, err) < 0 ||
	    pragma(s, "PRAGMA freelist_count", &free_pages, err) < 0 ||
	    pragma(s, "PRAGMA page_size", &size, err) < 0)
		return -1;
	if (mode == 2) {
		/* INCREMENTAL: the free pages at the end of the file go. */
		if (free_pages && db_exec(s->db, "PRAGMA incremental_vacuum",
					  err) < 0)
			return -1;
	} else if (free_pages * 4 >= pages &&
		   free_pages * size >= (1 << 20)) {
		/* auto_vacuum can only change with a VACUUM (or on an empty
		 * file): this one rewrites the file once without its free
		 * pages, and later gcs need only the incremental kind. */
		if (db_exec(s->db, "PRAGMA auto_vacuum = INCREMENTAL", err) <
			    0 ||
		    fold_vacuum(s, err) < 0)
			return -1;
	} else {
		return 0;
	}
	/* In WAL mode the file shrinks at a checkpoint. */
	if (db_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", err) < 0 ||
	    pragma(s, "PRAGMA page_count", &after, err) < 0)
		return -1;
	*freed = (pages - after) * size;
	return 0;
}
