/* state.h - the state store: every row stockpipe must remember.
 *
 * All SQL lives behind this interface, on SQLite (state_dir/state.db) or
 * PostgreSQL (state_db: in the config) through db.h. Tables: runs, units (stage
 * checkpoints), plans, the file ledger, run dependencies (mapping hashes),
 * the canonical tables (items, locations, prices, stock events and
 * positions) and the delivery ledger.
 *
 * Transactions are explicit: the stage engine calls state_begin() and
 * state_commit() around a unit's effects and the row that marks it done,
 * so "done" and "what it did" are always committed together.
 */
#ifndef STOCKPIPE_STATE_H
#define STOCKPIPE_STATE_H

#include <stdint.h>

#include "transforms/model/canon.h"
#include "transforms/model/dec.h"
#include "db.h"
#include "lib/err.h"

struct state;

enum unit_state { US_PENDING, US_RUNNING, US_DONE, US_FAILED, US_SKIPPED,
		  US_QUARANTINED };

/* What a render or deliver unit's last attempt came to, where the report
 * tells them apart (units.outcome). */
enum unit_outcome {
	UO_NONE,
	UO_HELD,       /* render: held back, a source is stale (stale_hold) */
	UO_DELIVERED   /* deliver: the file was sent (not found sent before) */
};

struct state_unit {
	int64_t id;
	int64_t run_id;
	int64_t parent;          /* upstream unit id, 0 if none */
	char stage[16];          /* fetch unpack map load render deliver */
	char scope[128];         /* source or target name */
	char ukey[512];          /* identity within (run, stage, scope) */
	int state;               /* enum unit_state */
	int attempts;
	char input_path[4096];
	char input_sha[65];
	char output_path[4096];
	char output_sha[65];
	int64_t records_in, records_out, rejects, dupes, stale;
	int64_t held;            /* load: stock records held by authority */
	int64_t converted;       /* load: records converted to another unit */
	int64_t started_ms, finished_ms;
	char error[1024];
	/* A note for people (show, reports), e.g. "unchanged"; never read
	 * back by code: what a stage needs again is in the fields below. */
	char detail[1024];
	int err_class;           /* enum err_class of the failure, 0 if none */
	int64_t retried_in;      /* parked: the later run that took it over */
	int retry_requested;     /* parked: an operator asked for a retry */
	/* fetch: the file's size and mtime (epoch seconds) as listed;
	 * listed = 0 when there is no listing (a replayed file) */
	int listed;
	uint64_t file_size;
	int64_t file_mtime;
	int posted;              /* fetch: after_load done at the source */
	int list_standin;        /* fetch: stands in for a failed listing */
	/* map: `quarantine release` (released_by = who, "" if never;
	 * release_note = the note shown with the next outcome) and --accept
	 * (the reject threshold is waived) */
	int accept_rejects;
	char released_by[128];
	char release_note[1024];
	int64_t ic_conflicts;    /* map: interchanges with a reused control */
	char rejects_path[4200]; /* map, render: the reject file, "" none */
	int64_t control_no;      /* render: envelope control number, 0 none */
	int outcome;             /* render, deliver: enum unit_outcome */
};

struct state_run {
	int64_t run_id;
	char started_at[32];
	char finished_at[32];
	char status[16];         /* running done failed */
	int exit_code;
	char config_sha[65];
	char gc_at[32];          /* when gc removed its files, "" never */
	/* the run's clock when it was made (epoch s; $STOCKPIPE_NOW when
	 * pinned, else started_at's), 0 for runs before schema 8 */
	int64_t clock_s;
};

/* Opens the store: db_url NULL or "" = the SQLite file state_dir/state.db
 * (created if needed, WAL mode), else a postgres:// URL with the password
 * in the environment variable password_env (may be NULL). An empty store
 * gets the latest schema; one at an older schema is refused (E_CONFIG:
 * run 'stockpipe db migrate'), as is a newer one. Commands open it with
 * the config's state_db and state_db_password_env. */
int state_open_db(const char *state_dir, const char *db_url,
		  const char *password_env, struct state **out,
		  struct err *err);
/* state_open_db(state_dir, NULL, NULL, ...): SQLite (tests). */
int state_open(const char *state_dir, struct state **out, struct err *err);
void state_close(struct state *s);

/* A write transaction holding the store's writer lock (db_begin). */
int state_begin(struct state *s, struct err *err);
/* A write transaction WITHOUT the writer lock on PostgreSQL (db.h's
 * contract; SQLite: the same as state_begin): for the load of one
 * document, which locks the positions it touches row by row. Code in
 * it that needs the whole store calls state_lock_store (a no-op in a
 * state_begin transaction and on SQLite). */
int state_begin_rows(struct state *s, struct err *err);
/* Before a document's load (state_begin_rows): lets the store settle
 * its last large commit first (db_settle: SQLite's checkpoint thread),
 * so the WAL does not grow by every load of a run. */
void state_settle(struct state *s);
int state_lock_store(struct state *s, struct err *err);
/* Whether the store is PostgreSQL (several writers) rather than SQLite. */
int state_is_postgres(struct state *s);
int state_commit(struct state *s, struct err *err);   /* a crash point */
void state_rollback(struct state *s);
/* Called by state_commit just before the commit (workers: is the unit
 * still ours?); <0 (err set) rolls the transaction back instead. NULL
 * removes it. */
typedef int state_commit_check_fn(void *ud, struct state *s,
				  struct err *err);
void state_set_commit_check(struct state *s, state_commit_check_fn *fn,
			    void *ud);
/* Whether the open transaction saved unit (state_unit_save) and the
 * save's own row said it runs under this handle's worker (its row is
 * locked until the commit, by the UPDATE itself: nobody can take it over
 * in between). A commit check may skip asking again. 0 outside a
 * transaction and for one process (no worker). */
int state_tx_holds(struct state *s, int64_t unit);
/* The last unit whose state_unit_save was refused because another worker
 * holds it (0: none since state_unit_refused_reset): the caller's result
 * of that unit is not its own to count. */
int64_t state_unit_refused(struct state *s);
void state_unit_refused_reset(struct state *s);

const char *unit_state_name(int st);

/* Runs. state_run_create: inside state_begin (ids are max + 1). */
int state_run_create(struct state *s, const char *now_iso,
		     const char *config_sha, int64_t *run_id, struct err *err);
/* *run_id = newest run not done (running or failed), 0 if none. */
int state_run_unfinished(struct state *s, int64_t *run_id, struct err *err);
int state_run_get(struct state *s, int64_t run_id, struct state_run *out,
		  struct err *err);
int state_run_finish(struct state *s, int64_t run_id, const char *status,
		     int exit_code, const char *now_iso, struct err *err);
int state_run_reopen(struct state *s, int64_t run_id, struct err *err);
int state_runs_each(struct state *s, int limit,
		    int (*cb)(void *ud, const struct state_run *r), void *ud,
		    struct err *err);
/* Retention (gc.h): concluded runs whose units are all finished and not
 * yet collected, newest first; marking one collected; the last run id. */
int state_runs_collectable_each(struct state *s,
				int (*cb)(void *ud, const struct state_run *r),
				void *ud, struct err *err);
int state_run_gc_mark(struct state *s, int64_t run_id, const char *now_iso,
		      struct err *err);
int state_run_set_clock(struct state *s, int64_t run_id, int64_t clock_s,
			struct err *err);
int state_run_last_id(struct state *s, int64_t *out, struct err *err);
int state_run_dep_add(struct state *s, int64_t run_id, const char *path,
		      const char *sha, struct err *err);
int state_run_deps_each(struct state *s, int64_t run_id,
			int (*cb)(void *ud, const char *path, const char *sha),
			void *ud, struct err *err);

/* Unit dependencies (schema 8): the files (mapping, its lookups, a
 * target's outbound mapping) a unit's attempts were made with, and their
 * SHA-256. One row per unit (run, stage, scope, key: a unit row a rerun
 * replaces keeps its history) and file version, with the attempt and
 * time it was first used; never replaced, so every delivery can be
 * traced to the mapping versions behind it even after `rerun --from
 * map` with a changed mapping. run_deps (one row per run and path, the
 * last version) stays for stores made before schema 8. */
struct state_dep {
	const char *stage, *scope; /* per run only; NULL per unit */
	int attempt;               /* the attempt that first used it */
	const char *path, *sha256;
	int64_t units;             /* per run: units of this group */
	int64_t at_ms;             /* first used (wall clock) */
};
int state_unit_dep_add(struct state *s, const struct state_unit *u,
		       const char *path, const char *sha, int64_t at_ms,
		       struct err *err);
/* Per run, grouped by stage, scope, attempt and file, oldest first. */
int state_run_udeps_each(struct state *s, int64_t run_id,
			 int (*cb)(void *ud, const struct state_dep *d),
			 void *ud, struct err *err);
int state_unit_deps_each(struct state *s, const struct state_unit *u,
			 int (*cb)(void *ud, const struct state_dep *d),
			 void *ud, struct err *err);

/* Plans: whether a stage's list of units for a scope has been made. */
int state_plan_done(struct state *s, int64_t run_id, const char *stage,
		    const char *scope, int *done, struct err *err);
int state_plan_mark(struct state *s, int64_t run_id, const char *stage,
		    const char *scope, struct err *err);
int state_plan_clear(struct state *s, int64_t run_id, const char *stage,
		     const char *scope, struct err *err);

/* Units. state_unit_add inserts (or finds, when the key exists) and sets
 * u->id. state_unit_save writes every mutable column of u. */
int state_unit_add(struct state *s, struct state_unit *u, struct err *err);
int state_unit_save(struct state *s, const struct state_unit *u,
		    struct err *err);
/* Names the worker process using this handle (`stockpipe work`); from
 * then on state_unit_save refuses, with E_BUSY, to overwrite a unit that
 * is running under another worker's name: a worker whose lease ran out
 * cannot record the outcome of a unit another worker took over. The
 * string must outlive the handle. */
void state_set_worker(struct state *s, const char *worker);
int state_unit_get(struct state *s, int64_t id, struct state_unit *u,
		   struct err *err);
/* Units of run/stage, scope NULL = all scopes, in creation order. The
 * callback gets a copy it may modify; stop with a non-zero return. */
int state_units_each(struct state *s, int64_t run_id, const char *stage,
		     const char *scope,
		     int (*cb)(void *ud, struct state_unit *u), void *ud,
		     struct err *err);
/* Sets units of run/stage/scope back to pending (clears error). */
int state_units_reset(struct state *s, int64_t run_id, const char *stage,
		      const char *scope, struct err *err);
int state_units_delete(struct state *s, int64_t run_id, const char *stage,
		       const char *scope, struct err *err);

/* File ledger. */
int state_file_known(struct state *s, const char *source, const char *name,
		     uint64_t size, int64_t mtime, int *known,
		     struct err *err);
/* Whether this version (name, size, mtime and content) is in the ledger:
 * `detect_changes: content` fetches a known name, size and mtime again
 * when its content is new (schema 7 keeps both rows). */
int state_file_version_known(struct state *s, const char *source,
			     const char *name, uint64_t size, int64_t mtime,
			     const char *sha, int *known, struct err *err);
/* Name of an earlier file of source with this content, or "" if none. */
int state_file_same_content(struct state *s, const char *source,
			    const char *sha, char *prev, size_t n,
			    struct err *err);
int state_file_add(struct state *s, const char *source, const char *name,
		   uint64_t size, int64_t mtime, const char *sha,
		   int64_t run_id, const char *post_state, struct err *err);
int state_file_post_set(struct state *s, const char *source,
			const char *name, uint64_t size, int64_t mtime,
			const char *sha, const char *post_state,
			struct err *err);

/* Arrival keys (issue 15): the order in which records reached the
 * pipeline. file: the fetch sequence of the record's file (given when the
 * file is planned for fetching; a file of a later run gets a later
 * number, whenever it is loaded); member: the document's index in its
 * archive (0 for a plain file); line: the record's ordinal in the
 * document's canonical output (1, 2, ...). Compared in that order, a
 * greater key arrived later. Ties in as_of between stock snapshots,
 * between a snapshot and a delta, and between master-data rows (a row
 * without as_of counts as older than any dated one) are decided by it,
 * so the outcome does not depend on the order documents are loaded in. */
struct state_arrival {
	int64_t file, member, line;
};
/* The arrival key the next loaded record carries (state_load_record,
 * state_keep_unapplied); {0, 0, 0} until set. Then txn_id breaks ties
 * between equal keys, as before arrival keys existed. */
void state_load_arrival(struct state *s, const struct state_arrival *a);

/* Loading canonical records. doc identifies the document (its map unit
 * id) so a rerun can take back exactly what it loaded. */
struct load_stats {
	int64_t applied;    /* records that changed state */
	int64_t dupes;      /* txn_id seen before: skipped */
	int64_t stale;      /* older than the position's snapshot */
	int64_t negative;   /* positions driven below zero */
	int64_t unauthorized; /* from a source that does not own the state */
	int64_t converted;  /* converted to the item's unit of measure (for
			     * the unit-of-measure conversion to count) */
	/* Optional: told the arrival line (state_load_arrival) of every
	 * stale record when its fate is decided (a batch decides after the
	 * record was given), for on_stale: reject. */
	void (*on_stale)(void *ud, int64_t line);
	void *on_stale_ud;
};
int state_load_record(struct state *s, int64_t doc,
		      const struct canon_record *r, struct load_stats *st,
		      struct err *err);
/* Keeps a stock record that is not applied (its source does not own its
 * state): stored for reconciliation, never counted in a position. */
int state_keep_unapplied(struct state *s, int64_t doc,
			 const struct canon_record *r, struct err *err);
/* Batched stock loads. After state_load_batching, inside a transaction,
 * the two calls above queue stock records and apply them in batches,
 * sorted by position: the result, counts included, is the same as one
 * at a time (see state.c), but the counts in the load_stats given with
 * the records are complete only after state_load_flush, which applies
 * what waits and ends batching. state_commit applies it too,
 * state_rollback drops it, and the queries that read stock events or
 * positions apply it first. An error while applying is located at the
 * failing record's source file and line. Without state_load_batching
 * (and outside a transaction) records are applied at once. */
void state_load_batching(struct state *s);
int state_load_flush(struct state *s, struct err *err);
/* Records queued and not yet applied: a document larger than a batch is
 * sorted while it is read and applied by state_load_flush in one merged
 * pass, which may take most of the load's time. cb (NULL: none) is
 * called once per record of that pass, so a caller can show its
 * progress (cb must not use the store). */
int64_t state_load_waiting(const struct state *s);
void state_load_on_apply(struct state *s, void (*cb)(void *ud), void *ud);
/* For tests: at most n records (>= 1) per batch; the default is 65536. */
void state_load_batch_max(struct state *s, size_t n);
/* For tests: apply batches in multi-row statements (what a PostgreSQL
 * store always does) on SQLite too. */
void state_load_bulk(struct state *s, int on);
/* Removes the stock events a document loaded and recomputes the positions
 * they touched from the remaining events. */
int state_unload_doc(struct state *s, int64_t doc, struct err *err);

/* Positions for rendering, ordered by sku, location, state. Quantities
 * are scaled decimals; as_of is epoch seconds of the newest event. */
struct state_position {
	const char *sku;
	const char *location;
	const char *location_type;  /* "" when the location is unknown */
	int state;                  /* index in CANON_STATES */
	dec qty;
	int64_t as_of;
	/* state_positions_items_each: the sku's item fields (ITEM_NFIELDS,
	 * NULL for absent ones, each cut at 511 bytes like state_item_get),
	 * or NULL when the sku has no item row; always NULL from
	 * state_positions_each. */
	const char *const *item;
};
int state_positions_each(struct state *s,
			 int (*cb)(void *ud, const struct state_position *p),
			 void *ud, struct err *err);
/* The same rows in the same order, each with its item joined in (one
 * query for the whole snapshot, not one lookup per row). p->item is valid
 * during the callback only. with_type = 0 skips the locations lookup:
 * p->location_type is then "" for every row. */
int state_positions_items_each(struct state *s, int with_type,
			       int (*cb)(void *ud,
					 const struct state_position *p),
			       void *ud, struct err *err);
/* Item master rows joined with the default regular price; values are
 * indexed like the item field table, price and currency appended. */
int state_items_each(struct state *s,
		     int (*cb)(void *ud, const char *const *item,
			       const char *price, const char *currency),
		     void *ud, struct err *err);
/* Item fields for one sku (for joining into stock rows); *found = 0 when
 * unknown. Values are valid until the next call. */
int state_item_get(struct state *s, const char *sku, const char **fields,
		   int *found, struct err *err);

/* Delivery ledger: one row per file delivered to a target, with its
 * content key (outbound mapping + rows). state_delivery_find says whether
 * the target's NEWEST delivery has this content (then sending it again
 * would be a duplicate); older deliveries of the same content do not
 * count, so stock that goes A -> B -> A is sent as A again. */
int state_delivery_find(struct state *s, const char *target, const char *sha,
			char *file_name, size_t n, int *found,
			struct err *err);
int state_delivery_add(struct state *s, const char *target, const char *sha,
		       int64_t run_id, const char *file_name,
		       int64_t delivered_at, struct err *err);
/* The file name of the newest delivery to target; *found = 0 if none. */
int state_delivery_latest(struct state *s, const char *target,
			  char *file_name, size_t n, int *found,
			  struct err *err);
/* *used = 1 when target already received a file named file_name. */
int state_delivery_name_used(struct state *s, const char *target,
			     const char *file_name, int *used,
			     struct err *err);
/* Time of the last delivery to target, 0 if never. */
int state_delivery_last(struct state *s, const char *target, int64_t *at,
			struct err *err);

/* Records that source delivered a file at time at (run clock), for the
 * stale-source rule; state_source_last_fetch gives 0 when it never did. */
int state_source_fetched(struct state *s, const char *source, int64_t at,
			 struct err *err);
int state_source_last_fetch(struct state *s, const char *source,
			    int64_t *at, struct err *err);

/* Increments and returns a named counter (e.g. an outbound EDI control
 * number per partner: "x12:ISA:ZZ:MYID:ZZ:PARTNER"). Starts at 1. Call
 * inside the transaction that records what the number was used for, so a
 * rolled-back delivery does not burn a number. */
int state_counter_next(struct state *s, const char *name, int64_t *value,
		       struct err *err);
/* The current value of a counter (0 if never used). */
int state_counter_get(struct state *s, const char *name, int64_t *value,
		      struct err *err);

/* EDI interchange ledger: one row per interchange (X12 ISA..IEA, EDIFACT
 * UNB..UNZ) a mapped document brought, keyed by format, sender, receiver
 * and control number, with the SHA-256 of its bytes and the document it
 * came in, so a re-sent interchange is recognised (docs/mapping.md,
 * "Interchanges sent twice"). */
struct state_interchange {
	char format[12];
	char sender[40], receiver[40], control[16];
	char sha256[65];
	char source[128], doc[512], doc_sha[65];
	int64_t run_id;
	/* its records in the document's canonical output, first..last (1 =
	 * the first line; last < first when it had none): state_ic.h */
	int64_t first_rec, last_rec;
};
/* *found = 1 and *out filled when the key is recorded, else *found = 0. */
int state_interchange_find(struct state *s, const char *format,
			   const char *sender, const char *receiver,
			   const char *control, struct state_interchange *out,
			   int *found, struct err *err);
/* Records ic (a row of the same key is replaced: the same document mapped
 * again). Inside a transaction. */
int state_interchange_add(struct state *s, const struct state_interchange *ic,
			  struct err *err);
/* EDI acknowledgment ledger (docs/mapping.md "Acknowledgments"): one row
 * per acknowledged unit of a source, keyed by (source, format, sender,
 * receiver, interchange control, group control; "" for EDIFACT), with
 * the acknowledgment's type, control number, file name and bytes, and
 * when it was published (0 = not yet). A unit with a row is never
 * acknowledged again; an unsent row is published again byte for byte. */
struct state_ack {
	char source[128], format[12];
	char sender[40], receiver[40], control[16], grp[16];
	char doc[512];
	int64_t run_id;
	char ack_type[8];        /* 997, 999, CONTRL */
	int64_t ack_control;     /* ISA13/GS06, UNB05 of the ack */
	char file_name[256];
	const void *content;     /* borrowed */
	size_t len;
};
/* *found = 1 and the file name when key's unit (source, format, sender,
 * receiver, control, grp) has an acknowledgment. */
int state_ack_find(struct state *s, const struct state_ack *key,
		   char *file_name, size_t n, int *found, struct err *err);
/* Records a new acknowledgment, unsent. Inside the transaction that drew
 * its control number (state_counter_next). */
int state_ack_add(struct state *s, const struct state_ack *a,
		  struct err *err);
/* The source's unsent acknowledgments, oldest first; a non-zero return
 * of cb stops the walk. Do not write to the store inside cb. */
int state_acks_unsent_each(struct state *s, const char *source,
			   int (*cb)(void *ud, const struct state_ack *a),
			   void *ud, struct err *err);
/* Marks the source's acknowledgment file_name published at time at. */
int state_ack_sent(struct state *s, const char *source,
		   const char *file_name, int64_t at, struct err *err);

/* Units of one stage in one state across every run (e.g. quarantined map
 * units), oldest first; same callback rules as state_units_each. */
int state_units_in_state_each(struct state *s, int unit_state,
			      const char *stage,
			      int (*cb)(void *ud, struct state_unit *u),
			      void *ud, struct err *err);

/* Monitoring (metrics.c). Epoch seconds of the last run finished "done"
 * (0 if none); positions below zero; the oldest as_of among the stock
 * events run_id's documents loaded (*found = 0 if none); run_id's
 * deliveries (the callback stops the walk with a non-zero return). */
int state_run_last_done(struct state *s, int64_t *at, struct err *err);
int state_positions_negative(struct state *s, int64_t *n, struct err *err);
int state_run_oldest_event(struct state *s, int64_t run_id, int64_t *as_of,
			   int *found, struct err *err);
int state_run_deliveries_each(struct state *s, int64_t run_id,
			      int (*cb)(void *ud, const char *target,
					const char *file_name,
					int64_t delivered_at),
			      void *ud, struct err *err);

/* SQLite: PRAGMA integrity_check; *ok = 1 when it says "ok".
 * PostgreSQL: *ok = 1 when the server answers a query. */
int state_integrity(struct state *s, int *ok, struct err *err);

/* Schedules: when target was last considered due (run clock), 0 if
 * never. Written in the transaction that plans the target's render. */
int state_target_checked(struct state *s, const char *target, int64_t at,
			 struct err *err);
int state_target_last_check(struct state *s, const char *target,
			    int64_t *at, struct err *err);

/* The newest delivery to target (*found = 0 if none). sha256 is the
 * ledger's content key (outbound mapping + rows), not the file's hash. */
struct state_delivery {
	int64_t delivered_at;
	int64_t run_id;
	char file_name[256];
	char sha256[65];
};
int state_delivery_info(struct state *s, const char *target,
			struct state_delivery *out, int *found,
			struct err *err);

/* Reconciliation: per (sku, location), the latest snapshot (mode
 * snapshot, not delta) of stock state `state` that each of two sources
 * reported, ordered by sku, location; has_a/has_b = 0 when that source
 * never reported the key. Records a source may not apply (authority) are
 * kept unapplied and count here: comparing what a non-owner says with
 * the owner's truth is what reconciliation is for. */
struct state_recon_pair {
	const char *sku;
	const char *location;
	int has_a, has_b;
	dec qty_a, qty_b;
	int64_t as_of_a, as_of_b;
};
int state_reconcile_each(struct state *s, int state, const char *source_a,
			 const char *source_b,
			 int (*cb)(void *ud, const struct state_recon_pair *r),
			 void *ud, struct err *err);

#endif
