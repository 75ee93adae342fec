/* state_int.h - the state store's insides, shared by state.c (the
 * statement cache, the binder, transactions, counters) and the files of
 * the table families, each holding its own statements: state_runs.c,
 * state_ledger.c, state_positions.c, state_load.c (loading canonical
 * records: the load batch, the rules of a position, master data),
 * state_edi.c (the EDI ledgers), state_park.c, state_work.c, state_ic.c,
 * state_arrival.c and state_uom.c. Not a public interface: only the
 * state_*.c files of the store include it, and no code outside them
 * writes SQL.
 */
#ifndef STOCKPIPE_STATE_INT_H
#define STOCKPIPE_STATE_INT_H

#include <stdint.h>

#include "lib/arena.h"
#include "state.h"
#include "state_sort.h"
#include "transforms/model/stock.h"

enum stmt_id {
	S_RUN_CREATE, S_RUN_UNFINISHED, S_RUN_GET, S_RUN_FINISH, S_RUN_REOPEN,
	S_RUNS, S_DEP_ADD, S_DEPS, S_UDEP_ADD, S_UDEPS_RUN, S_UDEPS_UNIT,
	S_RUN_GC_SET, S_RUN_LAST_ID, S_RUNS_COLLECTABLE, S_RUN_CLOCK_SET,
	S_PLAN_GET, S_PLAN_SET, S_PLAN_DEL,
	S_UNIT_INS, S_UNIT_FIND, S_UNIT_SAVE, S_UNIT_GET, S_UNITS, S_UNITS_ALL,
	S_UNITS_RESET, S_UNITS_RESET_ALL, S_UNITS_DEL, S_UNITS_DEL_ALL,
	S_FILE_KNOWN, S_FILE_SAME, S_FILE_ADD, S_FILE_POST, S_FILE_KNOWN_SHA,
	S_ITEM_UPSERT, S_LOC_UPSERT, S_PRICE_UPSERT,
	S_EV_INS, S_EV_INS_KEPT, S_POS_GET, S_POS_PUT, S_DELTA_SUM, S_SNAP_LATEST,
	S_EV_DOC_KEYS, S_EV_DOC_DEL, S_POS_DEL, S_LAST_AS_OF,
	S_POSITIONS, S_ITEMS, S_ITEM_GET,
	S_DELIV_FIND, S_DELIV_ADD, S_DELIV_LAST, S_DELIV_NAME,
	S_COUNTER_BUMP, S_COUNTER_GET, S_SRC_FETCHED, S_SRC_LAST,
	S_DELIV_LATEST,
	S_UNITS_IN_STATE, S_RUN_LAST_DONE, S_POS_NEGATIVE, S_RUN_OLDEST_EV,
	S_RUN_DELIVS,
	S_CHECK_SET, S_CHECK_GET, S_DELIV_INFO, S_RECONCILE,
	S_IC_FIND, S_IC_ADD, S_ACK_FIND, S_ACK_ADD, S_ACKS_UNSENT, S_ACK_SENT,
	S_POSITIONS_ITEMS, S_POSITIONS_ITEMS_NOTYPE, S_POS_SNAP,
	/* state_park.c */
	S_PARK_RUNS, S_PARK_SUPERSEDE, S_PARK_COUNT_SCOPE, S_PARK_COUNTS,
	S_PARK_EACH, S_PARK_REQUEST, S_PARK_TREE_OPEN,
	/* state_work.c (its statements that do not depend on the backend
	 * or on a list of stages) */
	S_WORK_LEASE_ADD, S_WORK_LEASE_DONE_GET, S_WORK_LEASE_DONE,
	S_WORK_LEASE_RELEASE, S_WORK_RETRY_UNITS, S_WORK_RETRY_LEASES,
	S_WORK_LOAD_UNITS, S_WORK_NAMED_LOAD_UNITS, S_WORK_TXN_OWN,
	/* state_ic.c */
	S_ICL_DOC_DEL, S_ICL_DOC_ADD, S_ICL_DOC_ROWS, S_ICL_CLAIM, S_ICL_UNLOAD,
	/* state_arrival.c */
	S_ARR_GET, S_ARR_SET, S_ARR_DOC,
	/* state_uom.c */
	SU_ITEM, SU_PACKS_DEL, SU_PACK_ADD, SU_EV_ADD, SU_FACTOR, SU_ITEMS_ANY,
	SU_ITEM_AS_OF, SU_DOC_CLEAR,
	/* state_acks.c */
	SK_EXP_ADD, SK_EXPECTED, SK_IN_ADD, SK_ERR_ADD, SK_MATCH, SK_MATCHED,
	SK_DELIVS, SK_UNMATCHED, SK_ERRORS, SK_OVERDUE, SK_REJECTED,
	SK_UNREADABLE,
	/* state_report.c */
	S_REP_PREV_DELIV, S_REP_AGES, S_REP_SRC_LAST,
	/* state_warn.c */
	S_WARN_DEL, S_WARN_ADD, S_WARN_LIST, S_WARN_RUN,
	/* state_txn.c */
	SX_ADD, SX_DEL, SX_DOC_TXNS, SX_DOC_PROBE, SX_RANGE_ANY,
	/* state_lineage.c */
	SL_DOC, SL_FLOOR, SL_RANGE, SL_RANGE_ONE, SL_RANGE_DEL,
	S_NSTMTS
};

/* A statement of a family's table: each state_*.c file defines the
 * statements of its own tables in an array indexed by enum stmt_id,
 * NULL where the id is another family's; state_stmt prepares them once
 * per handle. flags: DB_STREAM for a query that may return a row per
 * position or item (read in bounded batches, a cursor on PostgreSQL). */
struct state_sql {
	const char *sql;
	unsigned flags;
};
extern const struct state_sql state_core_sql[S_NSTMTS];      /* state.c */
extern const struct state_sql state_runs_sql[S_NSTMTS];
extern const struct state_sql state_ledger_sql[S_NSTMTS];
extern const struct state_sql state_load_sql[S_NSTMTS];
extern const struct state_sql state_positions_sql[S_NSTMTS];
extern const struct state_sql state_edi_sql[S_NSTMTS];
extern const struct state_sql state_park_sql[S_NSTMTS];
extern const struct state_sql state_work_sql[S_NSTMTS];
extern const struct state_sql state_ic_sql[S_NSTMTS];
extern const struct state_sql state_arrival_sql[S_NSTMTS];
extern const struct state_sql state_uom_sql[S_NSTMTS];
extern const struct state_sql state_acks_sql[S_NSTMTS];
extern const struct state_sql state_report_sql[S_NSTMTS];
extern const struct state_sql state_warn_sql[S_NSTMTS];
extern const struct state_sql state_txn_sql[S_NSTMTS];
extern const struct state_sql state_lineage_sql[S_NSTMTS];

/* Stock loads are applied in batches inside a transaction: the records
 * of a batch sorted by position (sku, location, state), each position's
 * records in arrival order. Then a position is read once, its records
 * are applied in memory by the same rules as one at a time, and it is
 * written once; and the events and positions go into their b-trees in
 * key order, to pages next to each other, where arrival order sent every
 * insert to a random page (the load was bound by those page reads and
 * writes once the store outgrew the page cache). Positions do not depend
 * on each other, so only the order within a position matters, and that
 * is kept. The one rule across positions, one txn_id counted once, is
 * settled over the batch in arrival order before sorting (the first
 * record with a txn_id is inserted, later ones are dupes), then by the
 * txn_id ledger against earlier batches and documents (state_txn.c, its
 * keys written in their own order before the events). A batch
 * is applied when full (LB_MAX records or LB_BYTES of strings), by
 * state_load_flush, before a commit and before any query that reads
 * stock events or positions; a rollback drops it. Batching is asked for
 * (state_load_batching, by the load stage), per transaction; otherwise
 * every record is applied at once, as before. Memory is fixed: the
 * batch's arrays and its arena, whatever the size of the input. */
#define LB_MAX 32768
#define LB_BYTES (4u << 20)

struct lb_rec {
	const char *sku, *loc, *source, *file;
	struct load_stats *stats;  /* NULL for kept (unapplied) records */
	struct stock_event ev;     /* txn_id, as_of, quantity, mode and the
				    * arrival key (state_load_arrival) */
	int64_t doc;
	unsigned long line;
	enum stock_state st;
	unsigned char kept, dupe;
	unsigned char ins;         /* its key was new in the txn_id ledger
				    * (state_txn_mark): its event is inserted */
	unsigned char key[24];     /* its ledger key (STATE_TXN_KEY) */
	unsigned char src_doc, file_doc; /* source, file are the document's
				    * (state_lineage_derive): stored NULL */
	unsigned char txn_doc;     /* txn_id is the document's default:
				    * stored NULL, and these two */
	int64_t txn_seq, txn_rec;
	unsigned char doc_rej;     /* its map unit rejected records (the
				    * ledger keeps per-record keys) */
	uint64_t skey;             /* state_lb_skey(sku): lb_cmp's first look */
};

/* The bulk apply (state_load.c, PostgreSQL's way): statements of
 * 2^k rows, k = 0..LB_BULK_LOG, prepared once per handle. */
#define LB_BULK_LOG 8
enum { LB_BULK_EV, LB_BULK_POS_GET, LB_BULK_POS_PUT, LB_BULK_POS_NEW,
       LB_BULK_N };

struct load_batch {
	struct lb_rec *r;          /* n records in arrival order */
	uint32_t *order;           /* indexes of r, sorted for applying */
	uint32_t *seen;            /* txn_id hash set: index + 1, 0 free */
	size_t n, max, want;
	/* SQLite, one position at a time (lb_position): the records whose
	 * events wait to be inserted, in the order they were met, nevq of
	 * at most max; inserted in multi-row statements before any read
	 * of stock_events and before the records are gone
	 * (state_lb_events_flush). */
	struct lb_rec **evq;
	size_t nevq;
	/* SQLite, the same way: the snapshots alone at their position
	 * (lb_position's one-statement case, S_POS_SNAP) wait in snapq,
	 * nsnapq of at most max, and are upserted 2^k at a time
	 * (snap[k]) by state_lb_events_flush, before the events; those
	 * at new positions first by an INSERT OR IGNORE (snap_new[k]),
	 * unless snap_skip chunks are left after one that found most of
	 * its positions there (state_load.c snap_chunk). */
	struct lb_rec **snapq;
	size_t nsnapq;
	struct db_stmt *snap[LB_BULK_LOG + 1];
	struct db_stmt *snap_new[LB_BULK_LOG + 1];
	unsigned snap_skip;
	int snap_try;              /* tests: every chunk tries the insert */
	struct arena a;            /* the records' strings */
	const char *source, *file; /* last copies, shared by later records */
	struct db_stmt *bulk[LB_BULK_N][LB_BULK_LOG + 1];
	int bulk_on;               /* state_load_bulk (tests) */
	/* SQLite: the ledger's multi-row INSERT (state_txn.c) of txn_n
	 * keys; txn_chunk keys per statement, 0 = the default (tests make
	 * it small). */
	struct db_stmt *txn_add;
	size_t txn_n, txn_chunk;
	int pos_held;              /* PostgreSQL: this transaction may hold
				    * position locks (state_load_pg.c);
				    * cleared by state_begin* */
	/* A document larger than a batch (SQLite, batching on): every
	 * full batch is marked (dupes, ledger) and written as one run
	 * sorted by position, then arrival, and state_lb_apply merges
	 * them all (state_spill.c). */
	struct state_sort pos;
	uint64_t seq0;             /* records in runs before r[0] */
	/* The documents of this transaction whose default txn_ids (txn_doc)
	 * the ledger was asked about (state_txn.c): what the first batch
	 * of each found, which its later batches follow. Emptied by
	 * state_begin* and state_rollback (state_txn_docs_reset). */
	struct lb_doc {
		int64_t doc;
		int how;           /* state_txn.c's TXN_DOC_*; 0 undecided */
		uint32_t rep;      /* while undecided: its first record */
	} *docs;
	size_t ndocs, capdocs;
};

struct state {
	struct db *db;
	const char *worker;       /* state_set_worker; NULL = one process */
	struct db_stmt *st[S_NSTMTS];
	char item_buf[ITEM_NFIELDS][512];
	char row_item_buf[ITEM_NFIELDS][512]; /* state_positions_items_each */
	const char *row_item[ITEM_NFIELDS];
	struct load_batch lb;
	int in_tx;                 /* between state_begin and commit/rollback */
	int lb_on;                 /* state_load_batching until flush or end */
	void (*apply_cb)(void *ud); /* state_load_on_apply */
	void *apply_ud;
	struct state_arrival arr;  /* of the next loaded record */
	int rows_tx;               /* state_begin_rows: no writer lock yet */
	state_commit_check_fn *commit_check; /* state_set_commit_check */
	void *commit_check_ud;
	int64_t tx_held;           /* state_tx_holds; 0 at begin and end */
	int64_t refused;           /* state_unit_refused */
	char *dir;                 /* the state folder (the load's sort
				    * file); NULL when unknown */
	struct state_doc_names {   /* state_lineage.c: the last document's
				    * unit, read once per transaction */
		int64_t id;
		int known;         /* its unit was read (0: read again) */
		char *scope, *ukey, *sha; /* malloc'd; NULL when none */
		int64_t rejects;   /* the map unit's rejected records */
		int64_t *docs;     /* documents of the records queued since
				    * the last apply (their id ranges are
				    * written after it) */
		size_t ndocs, capdocs;
	} docn;
};

/* Binds e's txn_id to parameter i, and txn_seq, txn_rec to k, k + 1
 * (state_load.c). */
void state_bind_txn(struct db_stmt *p, int i, int k, const struct lb_rec *e);

/* The prepared, reset statement id (prepared on first use). */
struct db_stmt *state_stmt(struct state *s, enum stmt_id id,
			   struct err *err);
/* Runs a statement that returns no rows. */
int state_step_done(struct db_stmt *p, struct err *err);
/* For a query that always returns one row (an aggregate): rc from
 * db_step, 1 expected. */
int state_one_row(int rc, struct db_stmt *p, struct err *err);
/* Column i as text into out (cut at n - 1 bytes; "" for NULL). */
void state_col_copy(struct db_stmt *p, int i, char *out, size_t n);
/* The binder: one statement id, its arguments bound in order to ?1,
 * ?2, ... (SA_I an integer, SA_T a text or NULL, SA_B a blob), stepped,
 * errors mapped once:
 *   state_exec(s, S_FILE_ADD, SA(SA_T(source), SA_I(size)), err)
 * Arguments are checked by the compiler like any initializer. A
 * statement that takes none is passed SA_NONE. */
struct state_arg {
	enum { SA_INT, SA_TEXT, SA_BLOB } t;
	int64_t i;
	const char *s;
	const void *p;
	size_t n;
};
#define SA_I(v) ((struct state_arg){.t = SA_INT, .i = (v)})
#define SA_T(v) ((struct state_arg){.t = SA_TEXT, .s = (v)})
#define SA_B(ptr, len) ((struct state_arg){.t = SA_BLOB, .p = (ptr), .n = (len)})
#define SA(...)                                                         \
	(const struct state_arg[]){__VA_ARGS__},                        \
		sizeof((const struct state_arg[]){__VA_ARGS__}) /        \
			sizeof(struct state_arg)
#define SA_NONE NULL, 0
/* Handed each row in turn; nonzero stops (< 0: an error, err set). */
typedef int state_row_fn(void *ud, struct db_stmt *p);
/* The prepared statement id, reset, with a[0..n) bound. */
struct db_stmt *state_bind(struct state *s, enum stmt_id id,
			   const struct state_arg *a, size_t n,
			   struct err *err);
/* Runs id to its end (a write). */
int state_exec(struct state *s, enum stmt_id id, const struct state_arg *a,
	       size_t n, struct err *err);
/* Runs id, handing each row to row() (NULL: the rows do not matter)
 * until it returns nonzero; the statement is reset after. -1 on an
 * error of the store or of row (< 0), else 0. For a single-row read,
 * row reads the columns it wants and returns 1. */
int state_rows(struct state *s, enum stmt_id id, const struct state_arg *a,
	       size_t n, state_row_fn *row, void *ud, struct err *err);
/* Row functions for the usual single-row reads: one integer column
 * (ud an int64_t, left alone for a NULL), "a row exists" (ud an int,
 * set to 1), one text column (ud a struct state_text: copied like
 * state_col_copy when buf is not NULL, found set to 1). */
struct state_text {
	char *buf;
	size_t n;
	int found;
};
state_row_fn state_row_int, state_row_found, state_row_text;
/* The columns of a unit row in the order state_unit_read reads them (for
 * a SELECT or a RETURNING list), and the reader: the claim returns the
 * row it took, so the worker needs no state_unit_get after it. */
#define STATE_UNIT_COLS                                                     \
	"id, run_id, parent, stage, scope, ukey, state,"                     \
	" attempts, input_path, input_sha, output_path,"                     \
	" output_sha, records_in, records_out, rejects, dupes,"              \
	" stale, started_ms, finished_ms, error, detail,"                    \
	" err_class, retried_in, retry_requested, held,"                     \
	" converted, listed, file_size, file_mtime, posted,"                 \
	" list_standin, accept_rejects, released_by,"                        \
	" release_note, ic_conflicts, rejects_path, control_no,"             \
	" outcome"
void state_unit_read(struct db_stmt *p, struct state_unit *u);
/* Ids from column 0, for a walk whose callback writes to the store
 * (state_row_id appends one; ud a struct state_ids, err set when out of
 * memory). The caller frees v. */
struct state_ids {
	int64_t *v;
	size_t n, cap;
	struct err *err;
};
state_row_fn state_row_id;
/* Calls cb with each unit of ids in order (one struct state_unit,
 * reused) until it returns nonzero, which goes to *cbrc. -1 when a unit
 * cannot be read. */
int state_units_of(struct state *s, const struct state_ids *ids,
		   int (*cb)(void *ud, struct state_unit *u), void *ud,
		   int *cbrc, struct err *err);
/* Rows changed by the last write run to its end. */
int64_t state_changes(struct state *s);
/* For the statements that depend on a list of stages (state_work.c):
 * prepared per call from sql, else like state_rows. */
int state_sql_rows(struct state *s, const char *sql,
		   const struct state_arg *a, size_t n, state_row_fn *row,
		   void *ud, struct err *err);
/* The store's clock in milliseconds, as an SQL expression of its
 * backend; and whether it is PostgreSQL. */
const char *state_now_ms_sql(struct state *s);
int state_is_pg(struct state *s);
/* A transaction without the writer lock (db_begin_light), for claims
 * and heartbeats that rely on row locks. state_light_end commits it
 * when rc is 0, else rolls it back and returns -1. state_light_begin
 * with own not NULL opens one only when none is open (*own = 1 then),
 * and state_light_end(s, *own, ...) ends only such a one. */
int state_light_begin(struct state *s, int *own, struct err *err);
int state_light_end(struct state *s, int own, int rc, struct err *err);

/* Applies the waiting load batch / drops it (state_load.c);
 * state_lb_free releases the batch (state_close). */
int state_lb_apply(struct state *s, struct err *err);

/* Shared by state_load.c and state_load_pg.c (the bulk apply). */
#define POS_COLS                                                         \
	"sku, location, state, qty, snap_as_of, snap_txn, last_as_of,"   \
	" delta_as_of, snap_arr_file, snap_arr_member, snap_arr_line"
/* The start of every position upsert's tail: the snapshot's columns
 * from the new row. POS_UPSERT_SET and state_load.c's POS_SNAP_TAIL
 * (the guarded snapshot) go on from it. */
#define POS_SET_SNAP                                                     \
	" ON CONFLICT(sku, location, state) DO UPDATE SET"                \
	" snap_arr_file = excluded.snap_arr_file,"                        \
	" snap_arr_member = excluded.snap_arr_member,"                    \
	" snap_arr_line = excluded.snap_arr_line,"                        \
	" qty = excluded.qty, snap_as_of = excluded.snap_as_of,"          \
	" snap_txn = excluded.snap_txn,"
/* The upsert tail that writes a whole position over the stored one: the
 * one-at-a-time write (S_POS_PUT) and the bulk write (state_load_pg.c)
 * must set the same columns. */
#define POS_UPSERT_SET                                                   \
	POS_SET_SNAP                                                      \
	" last_as_of = excluded.last_as_of,"                              \
	" delta_as_of = excluded.delta_as_of"
void state_bind_arrival(struct db_stmt *p, int i,
			const struct stock_arrival *a);
int state_delta_sum_after(struct state *s, const char *sku, const char *loc,
			  enum stock_state st, int64_t as_of,
			  const struct stock_arrival *arr, dec *sum,
			  struct err *err);
void state_lb_count(const struct lb_rec *e, enum stock_outcome o, dec qty);
int state_lb_keycmp(const struct lb_rec *a, const struct lb_rec *b);
size_t state_lb_hash_size(size_t n);
/* The bulk apply of the sorted batch (state_load_pg.c). */
int state_lb_bulk_apply(struct state *s, struct err *err);
/* Inserts the events of recs[0..n) in that order, in multi-row
 * statements of 2^k rows (state_load_pg.c). */
int state_lb_bulk_events(struct state *s, struct lb_rec *const *recs,
			 size_t n, struct err *err);
/* Inserts the events waiting in lb.evq (state_load.c); the queue is
 * empty afterwards, also on error. */
int state_lb_events_flush(struct state *s, struct err *err);
/* PostgreSQL: locks a position as a load does (state_load_pg.c); 0 on
 * SQLite. */
int state_pos_lock(struct state *s, const char *sku, const char *loc,
		   enum stock_state st, struct err *err);
void state_lb_discard(struct state *s);
void state_lb_free(struct state *s);
/* The rules of one position applied to records lb.r[idx[0..n)], in
 * arrival order (state_load.c); the batch's sort order (position, then
 * index in lb.r; qsort_r over uint32_t indexes, ud = lb.r). */
int state_lb_position(struct state *s, const uint32_t *idx, size_t n,
		      struct err *err);
int state_lb_cmp(const void *x, const void *y, void *ud);
/* The first 8 bytes of sku, big-endian, zero-padded: two skus whose keys
 * differ compare as the keys do (strcmp's order), so the batch's sort
 * reads neither string (lb_rec.skey). */
uint64_t state_lb_skey(const char *sku);
/* The batch's dupes (lb_dupes) and ledger marks (state_txn_mark), as
 * state_lb_apply makes them (state_load.c). */
int state_lb_mark(struct state *s, struct err *err);
/* state_spill.c: whether a full batch may be spilled (SQLite, batching
 * on, a state folder); marks the batch, writes it as one sorted run and
 * empties it; merges every run and applies them, position by position
 * (state_lb_apply, when runs are waiting). */
int state_spill_ok(struct state *s);
int state_spill_batch(struct state *s, struct err *err);
int state_spill_apply(struct state *s, struct err *err);


#endif
