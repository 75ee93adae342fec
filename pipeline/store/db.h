/* db.h - the SQL layer under the state store: one small interface, two
 * backends (SQLite in db_sqlite.c, PostgreSQL through libpq in db_pg.c).
 *
 * The state store (state.c) and the worker leases (state_work.c) write
 * their SQL once, in a common dialect both engines accept: placeholders
 * '?' or '?N', INSERT ... ON CONFLICT, RETURNING, no scalar max(a, b), no
 * rowid, BIGINT-safe integers, CAST(? AS BIGINT) where PostgreSQL cannot
 * infer a parameter's type. Text columns compare byte-wise on both
 * (SQLite BINARY, PostgreSQL COLLATE "C"), so every ORDER BY gives the same
 * rows in the same order and deliveries are byte-identical across backends.
 *
 * Locks (the contract every caller keeps; docs/scaling.md says why loads
 * may run in parallel). SQLite has one writer at a time whatever is
 * asked: every transaction below is BEGIN IMMEDIATE there. On PostgreSQL:
 *  - db_begin: BEGIN + the store's writer lock (a transaction-scoped
 *    advisory lock, DB_WRITER_LOCK). Taken by what needs the whole store
 *    to itself: schema creation and migration (schema.c); creating a run
 *    (ids are max + 1: state_run_create) and the run-level transactions
 *    around it (plan, rerun, retry, conclude: run.c, work.c, engine.c);
 *    units that number things from the table (deliveries' and EDI acks'
 *    seq = max + 1: deliver, acks) or that were never audited for row
 *    safety (unpack, map, render, post, quarantine): they keep the lock.
 *  - db_begin_light: BEGIN only (READ COMMITTED), no writer lock: claims,
 *    leases and heartbeats of workers (FOR UPDATE SKIP LOCKED, one-row
 *    updates); a unit's start and the record of its failure (one row of
 *    a unit the process holds: engine.c); and the load of a document
 *    (state.h: state_begin_rows), which locks the positions it touches
 *    row by row, all of a batch in key order before writing anything
 *    (state_load.c; taking back an earlier load of the same document
 *    locks them the same way), and takes the writer lock in the middle
 *    with db_lock_store only when it must: upserting items, locations or
 *    prices (row by row in the document's order, which two such loads
 *    could deadlock on), or claiming EDI interchanges (two documents
 *    carrying the same interchange must not both see it unclaimed).
 *    A deadlock or serialization failure is E_BUSY: the unit is retried.
 *  - a fetch listing lists the remote side with no transaction open, then
 *    records the plan in one short db_begin transaction (stage_fetch.c).
 * So the writer lock is never held across a load's rows or a remote call.
 *
 * Errors fill a struct err: busy, locked, serialization failures, lost or
 * refused connections are E_BUSY (exit 75, a retry can help);
 * authentication, unknown database and bad URLs E_CONFIG (78); a full disk
 * E_NOSPACE; corruption E_INTERNAL; anything else E_IO. Messages name the
 * backend and the statement; they never contain a password.
 */
#ifndef STOCKPIPE_DB_H
#define STOCKPIPE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct db;
struct db_stmt;

enum db_kind { DB_SQLITE, DB_POSTGRES };

/* url: "postgres://..." or "postgresql://..." selects PostgreSQL (libpq);
 * anything else is a SQLite file path (created when missing).
 * password_env: NULL, or the name of an environment variable holding the
 * PostgreSQL password (libpq's own PGPASSWORD and ~/.pgpass also work). */
int db_open(const char *url, const char *password_env, struct db **out,
	    struct err *err);
/* Closes the connection (rolling back an open transaction). Statements
 * should be finalized first; one that is not stays valid only for
 * db_finalize. */
void db_close(struct db *d);
enum db_kind db_kind_of(const struct db *d);
/* Where the store is, for messages: the SQLite path, or the URL without
 * any password. */
const char *db_where(const struct db *d);

/* Runs SQL without parameters; may hold several statements. */
int db_exec(struct db *d, const char *sql, struct err *err);

/* db_begin: a write transaction that holds the store's single writer
 * lock, like SQLite's BEGIN IMMEDIATE (PostgreSQL: BEGIN; SELECT
 * pg_advisory_xact_lock(DB_WRITER_LOCK)). Waits up to 10 minutes for it,
 * then fails with E_BUSY.
 * db_begin_light: a transaction WITHOUT the writer lock (PostgreSQL: plain
 * BEGIN, READ COMMITTED; SQLite: BEGIN IMMEDIATE too, SQLite has nothing
 * lighter for writes), for short claims and heartbeats that rely on row
 * locks (FOR UPDATE SKIP LOCKED). */
int db_begin(struct db *d, struct err *err);
int db_begin_light(struct db *d, struct err *err);
/* Inside an open transaction: takes the writer lock too (PostgreSQL:
 * pg_advisory_xact_lock(DB_WRITER_LOCK), kept until the transaction
 * ends; a no-op when already held). SQLite: nothing to do, its
 * transaction already is the one writer. */
int db_lock_store(struct db *d, struct err *err);
/* Commits; on failure the transaction is rolled back (a PostgreSQL
 * transaction aborted by an earlier error is reported, not committed). */
int db_commit(struct db *d, struct err *err);
void db_rollback(struct db *d);           /* no-op outside a transaction */
int db_in_tx(const struct db *d);

/* The advisory lock key of the writer lock: "stockpip" in ASCII. */
#define DB_WRITER_LOCK 0x73746f636b706970LL

/* SQL in the common dialect: placeholders '?' (numbered in order, as
 * SQLite does: one more than the largest number so far) or '?N'. The
 * PostgreSQL backend rewrites them to $N outside string literals, quoted
 * identifiers and comments. flags: DB_STREAM = a SELECT that may return
 * very many rows: read in bounded batches (PostgreSQL: a WITH HOLD cursor
 * + FETCH, so memory is bounded and other statements may run on the same
 * connection between rows); without it PostgreSQL buffers the whole
 * result. Statements are prepared once (PQprepare / sqlite3_prepare_v3
 * PERSISTENT) and reused after db_reset. */
#define DB_STREAM 1u
/* DB_BIND_REF: text and blob values bound to the statement are not
 * copied; each must stay valid and unchanged until the statement's next
 * db_reset (which forgets them). PostgreSQL never copies them; with this
 * flag SQLite does not either (SQLITE_STATIC instead of a malloc'd copy
 * per value and step): for the load's per-record statements, whose
 * values live in the load batch until they are stepped and reset. */
#define DB_BIND_REF 2u
struct db_stmt *db_prepare(struct db *d, const char *sql, unsigned flags,
			   struct err *err);
void db_finalize(struct db_stmt *st);     /* NULL is fine */
/* Ends the current execution and clears the bindings. */
void db_reset(struct db_stmt *st);
/* Parameters are 1-based. A text or blob must stay valid until the next
 * db_step (the SQLite backend copies it unless DB_BIND_REF; PostgreSQL
 * sends it then). */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
/* v NULL binds NULL. */
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n);
void db_bind_null(struct db_stmt *st, int i);
/* 1 = a row, 0 = done, -1 = error (err set). Stepping again after 0
 * runs the statement again with the same bindings. */
int db_step(struct db_stmt *st, struct err *err);
/* Columns of the current row, 0-based. */
int db_col_null(struct db_stmt *st, int i);
int64_t db_col_int64(struct db_stmt *st, int i);    /* NULL -> 0 */
/* NULL -> NULL; valid until the next step or reset. */
const char *db_col_text(struct db_stmt *st, int i);
const void *db_col_blob(struct db_stmt *st, int i, size_t *n);
/* Rows changed by the last INSERT/UPDATE/DELETE run to its end. */
int64_t db_changes(struct db *d);

/* Bulk rows by COPY (PostgreSQL; SQLite has none and answers E_INTERNAL).
 * A multi-row INSERT costs the server a parse and bind of every value
 * and the client a wait per statement; COPY streams rows the server
 * inserts as they arrive. db_copy_begin runs sql, a "COPY t(cols) FROM
 * STDIN" (text format); db_copy_put sends n bytes of rows (any split:
 * the server joins them): columns joined by a tab, a row ended by a
 * newline, NULL as \N, text escaped by db_copy_field; db_copy_end ends
 * it: ok 1 finishes it (an error of any row comes back here, and
 * db_changes counts the rows), ok 0 abandons it (err is left as the
 * caller set it; the transaction is aborted: roll back). Nothing else
 * may run on the connection in between. */
struct buf;
int db_copy_begin(struct db *d, const char *sql, struct err *err);
int db_copy_put(struct db *d, const void *p, size_t n, struct err *err);
int db_copy_end(struct db *d, int ok, struct err *err);
/* Appends text v as a COPY text-format field (backslash, tab, newline
 * and carriage return escaped; every other byte as it is), or \N when v
 * is NULL; b's sticky error says when it did not fit. */
void db_copy_field(struct buf *b, const char *v);

/* For tests: the PostgreSQL text of sql ('?', '?N' -> $N outside
 * literals, identifiers and comments) in malloc'd memory, *nparams the
 * highest number; NULL when out of memory or a number is out of range. */
char *db_sql_to_pg(const char *sql, int *nparams);

/* Before a large write transaction (the load of a document), on
 * SQLite: waits until the connection's checkpoint thread is idle, so
 * the WAL starts again from its beginning instead of growing by the
 * whole transaction. Small writers do not call it: they commit while
 * the checkpoint runs. PostgreSQL: nothing to wait for. */
void db_settle(struct db *d);

/* For tests (SQLite): waits until the connection's checkpoint thread
 * (db_sqlite.c: a commit that leaves the WAL past 16 MiB hands it the
 * checkpoint) is idle; *runs: the checkpoints it finished, *frames: the
 * WAL frames backfilled after its last. -1 when one failed or d is not
 * SQLite. */
int db_sqlite_ckpt_wait(struct db *d, int64_t *runs, int64_t *frames);

#endif
