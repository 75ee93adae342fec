/* db_sqlite.c - the SQLite backend of db.h.
 *
 * WAL mode with synchronous=FULL: a commit is on disk when it returns, so
 * a unit marked done is never lost by a crash or power cut. Every write
 * transaction is BEGIN IMMEDIATE, so writers never deadlock on upgrade;
 * SQLite has nothing lighter for writes, so db_begin_light is the same.
 * The busy timeout is 10 minutes: several worker processes may share one
 * file, and a long load transaction holds the writer lock meanwhile.
 *
 * Checkpoints: SQLite copies the WAL into the database file after the
 * commit that takes it past 1000 pages, on the committing thread. After
 * a large document's load that is the whole store written a second time
 * and fsynced (0.7 s of a 100 MB CSV run's 9.6 s, the WAL ~500 MB), and
 * the run's renders waited for it although the commit was already
 * durable in the WAL. Past LITE_CKPT_BG pages the checkpoint is handed
 * to a thread of the connection with its own connection (PASSIVE: it
 * never waits for, nor blocks, this connection's readers and writers),
 * so it runs beside the renders; below, it stays inline as before.
 * lite_close waits for it, then closes last: SQLite's own checkpoint at
 * close finds little left. A crash during either is SQLite's recovery,
 * as with the inline one; what is durable is decided by the commit.
 */
#include "db_impl.h"

#include "lib/log.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS (10 * 60 * 1000)
/* WAL pages after a commit: from LITE_CKPT_INLINE (SQLite's default
 * wal_autocheckpoint) the commit checkpoints inline, from LITE_CKPT_BG
 * (16 MiB of 4 KiB pages) on the connection's thread. */
#define LITE_CKPT_INLINE 1000
#define LITE_CKPT_BG 4096

/* The checkpoint thread of one connection, made at its first use. mu
 * guards every field but h, which only the thread touches. */
struct lite_ckpt {
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* want or stop set; a checkpoint ended */
	pthread_t th;
	int started, want, stop, busy;
	sqlite3 *h;               /* the thread's own connection */
	int64_t runs;             /* checkpoints it finished */
	int64_t last_ckpt;        /* WAL frames backfilled after the last */
	char why[300];            /* its first failure, logged at close */
};

struct lite {
	struct db base;
	sqlite3 *h;
	struct lite_ckpt ck;
};

struct lite_stmt {
	struct db_stmt base;
	sqlite3_stmt *p;
	int bad_index;            /* a bind out of range: reported at step */
	/* Since the last reset: stepped (sqlite3_reset has work) and bound
	 * (sqlite3_clear_bindings has): state_stmt resets a statement that
	 * state_step_done has just reset, once per statement and record. */
	unsigned char stepped, bound;
};

static struct lite *L(const struct db *d)
{
	return (struct lite *)d;
}

static struct lite_stmt *LS(struct db_stmt *st)
{
	return (struct lite_stmt *)st;
}

static int lite_err(struct lite *l, struct err *err, const char *what)
{
	int code = sqlite3_errcode(l->h) & 0xff;

	err_set(err,
		code == SQLITE_BUSY || code == SQLITE_LOCKED ? E_BUSY
		: code == SQLITE_FULL			      ? E_NOSPACE
		: code == SQLITE_CORRUPT || code == SQLITE_NOTADB
			? E_INTERNAL
			: E_IO,
		"state store (sqlite): %s: %s", what, sqlite3_errmsg(l->h));
	if (err && !err->os_code)
		err->os_code = sqlite3_extended_errcode(l->h);
	return -1;
}

static int lite_exec(struct db *d, const char *sql, struct err *err)
{
	char what[64];

	if (sqlite3_exec(L(d)->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
		db_sql_what(sql, what, sizeof(what));
		return lite_err(L(d), err, what);
	}
	return 0;
}

/* One PASSIVE checkpoint on the thread's connection (opened the first
 * time). SQLITE_BUSY is another connection checkpointing: not a
 * failure. */
static void ckpt_once(struct lite *l)
{
	struct lite_ckpt *c = &l->ck;
	int log = 0, done = 0, rc;

	if (!c->h) {
		rc = sqlite3_open_v2(l->base.where, &c->h,
				     SQLITE_OPEN_READWRITE |
					     SQLITE_OPEN_NOFOLLOW |
					     SQLITE_OPEN_NOMUTEX,
				     NULL);
		if (rc == SQLITE_OK) {
			sqlite3_busy_timeout(c->h, BUSY_TIMEOUT_MS);
			/* the fsyncs of the main connection's checkpoint */
			rc = sqlite3_exec(c->h, "PRAGMA synchronous=FULL", NULL,
					  NULL, NULL);
		}
		if (rc != SQLITE_OK)
			goto fail;
	}
	rc = sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE,
				       &log, &done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		goto fail;
	pthread_mutex_lock(&c->mu);
	c->runs++;
	c->last_ckpt = done;
	pthread_mutex_unlock(&c->mu);
	return;
fail:
	pthread_mutex_lock(&c->mu);
	if (!c->why[0])
		snprintf(c->why, sizeof(c->why), "%s",
			 c->h ? sqlite3_errmsg(c->h) : "out of memory");
	pthread_mutex_unlock(&c->mu);
	sqlite3_close_v2(c->h);
	c->h = NULL;
}

static void *ckpt_main(void *arg)
{
	struct lite *l = arg;
	struct lite_ckpt *c = &l->ck;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		/* a checkpoint asked for and not begun is left to the close */
		if (c->stop)
			break;
		c->want = 0;
		c->busy = 1;
		pthread_mutex_unlock(&c->mu);
		ckpt_once(l);
		pthread_mutex_lock(&c->mu);
		c->busy = 0;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Asks the thread (started the first time, every signal blocked: the
 * process's handlers run on the caller's thread) for a checkpoint; -1
 * when it cannot be started. */
static int ckpt_kick(struct lite *l)
{
	struct lite_ckpt *c = &l->ck;
	sigset_t all, old;
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	if (!c->started) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		c->started = pthread_create(&c->th, NULL, ckpt_main, l) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (c->started) {
		c->want = 1;
		pthread_cond_broadcast(&c->cv);
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* SQLite calls it after each commit with the WAL's size in pages; it
 * replaces the default hook (the inline checkpoint from 1000 pages). */
static int lite_wal_hook(void *ud, sqlite3 *h, const char *db, int pages)
{
	struct lite *l = ud;

	if (pages >= LITE_CKPT_BG && ckpt_kick(l) == 0)
		return SQLITE_OK;
	/* as SQLite's default hook: a checkpoint that cannot be done now
	 * (busy) is done by a later commit or the close */
	if (pages >= LITE_CKPT_INLINE)
		(void)sqlite3_wal_checkpoint(h, db);
	return SQLITE_OK;
}

/* Stops the thread after the checkpoint it is doing, if any; closes its
 * connection first so the caller's is the last and SQLite's checkpoint
 * at close removes the WAL. */
static void ckpt_stop(struct lite *l)
{
	struct lite_ckpt *c = &l->ck;

	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->started)
		pthread_join(c->th, NULL);
	c->started = 0;
	sqlite3_close_v2(c->h);
	c->h = NULL;
	/* housekeeping: the close below checkpoints what it left */
	if (c->why[0])
		log_msg("warn", "stockpipe: state store (sqlite): background "
				"checkpoint of '%s' failed: %s",
			l->base.where, c->why);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

/* With c->mu held: until the thread has no checkpoint asked for or
 * under way. */
static void ckpt_await(struct lite_ckpt *c)
{
	while (c->started && (c->want || c->busy))
		pthread_cond_wait(&c->cv, &c->mu);
}

int db_sqlite_ckpt_wait(struct db *d, int64_t *runs, int64_t *frames)
{
	struct lite_ckpt *c;
	int rc;

	if (d->kind != DB_SQLITE)
		return -1;
	c = &L(d)->ck;
	pthread_mutex_lock(&c->mu);
	ckpt_await(c);
	*runs = c->runs;
	*frames = c->last_ckpt;
	rc = c->why[0] ? -1 : 0;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static void lite_close(struct db *d)
{
	ckpt_stop(L(d));
	/* close_v2: a statement someone forgot cannot keep the file open
	 * forever, nor make the close fail. */
	sqlite3_close_v2(L(d)->h);
	free(d);
}

/* Waits until the checkpoint thread is idle (db_settle). The WAL starts
 * again from its beginning only when a writer begins after a complete
 * checkpoint: without this before each load, the loads of a run's
 * documents each began while the previous one's checkpoint ran, and the
 * WAL grew by every load (16 CSV files of 4 MB: 1 030 MB of WAL, not
 * 102 MB). Not in lite_begin: the renders' small writes would wait for
 * the checkpoint after a large load (835 ms at 100 MB), which is what
 * the thread is there to avoid. */
static void ckpt_idle(struct lite *l)
{
	struct lite_ckpt *c = &l->ck;

	pthread_mutex_lock(&c->mu);
	ckpt_await(c);
	pthread_mutex_unlock(&c->mu);
}

void db_settle(struct db *d)
{
	if (d->kind == DB_SQLITE)
		ckpt_idle(L(d));
}

static int lite_begin(struct db *d, int writer_lock, struct err *err)
{
	(void)writer_lock;
	return lite_exec(d, "BEGIN IMMEDIATE", err);
}

static int lite_in_tx(const struct db *d)
{
	return !sqlite3_get_autocommit(L(d)->h);
}

static void lite_rollback(struct db *d)
{
	if (lite_in_tx(d))
		sqlite3_exec(L(d)->h, "ROLLBACK", NULL, NULL, NULL);
}

static int lite_commit(struct db *d, struct err *err)
{
	if (lite_exec(d, "COMMIT", err) < 0) {
		lite_rollback(d);
		return -1;
	}
	return 0;
}

static struct db_stmt *lite_prepare(struct db *d, const char *sql,
				    unsigned flags, struct err *err)
{
	struct lite_stmt *st;
	char what[64];

	if (!(st = calloc(1, sizeof(*st)))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v3(L(d)->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st->p, NULL) != SQLITE_OK) {
		db_sql_what(sql, what, sizeof(what));
		lite_err(L(d), err, what);
		sqlite3_finalize(st->p);
		free(st);
		return NULL;
	}
	db_stmt_init(d, &st->base, sql, flags);
	return &st->base;
}

static void lite_release(struct db_stmt *st)
{
	sqlite3_finalize(LS(st)->p);
	LS(st)->p = NULL;
}

static void lite_reset(struct db_stmt *st)
{
	struct lite_stmt *l = LS(st);

	if (l->stepped)
		sqlite3_reset(l->p);
	/* also forgets DB_BIND_REF values, which may be gone after this */
	if (l->bound)
		sqlite3_clear_bindings(l->p);
	l->stepped = l->bound = 0;
	l->bad_index = 0;
}

/* SQLite ignores a bind out of range (SQLITE_RANGE); PostgreSQL cannot
 * (the parameter count is fixed), so both report it at the step. */
static void bound(struct db_stmt *st, int i, int rc)
{
	LS(st)->bound = 1;
	if (rc == SQLITE_RANGE && !LS(st)->bad_index)
		LS(st)->bad_index = i;
}

/* How SQLite keeps a text or blob: copied, or by reference (DB_BIND_REF,
 * until the next reset). */
static sqlite3_destructor_type keep(const struct db_stmt *st)
{
	return st->flags & DB_BIND_REF ? SQLITE_STATIC : SQLITE_TRANSIENT;
}

static void lite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	bound(st, i, sqlite3_bind_int64(LS(st)->p, i, v));
}

/* Values are copied (TRANSIENT) unless DB_BIND_REF: the caller's string
 * need only live until the step, though SQLite reads parameters on every
 * later step too. */
static void lite_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v)
		bound(st, i, sqlite3_bind_text(LS(st)->p, i, v, -1, keep(st)));
	else
		bound(st, i, sqlite3_bind_null(LS(st)->p, i));
}

static void lite_bind_blob(struct db_stmt *st, int i, const void *p,
			   size_t n)
{
	/* A NULL pointer would bind NULL; an empty blob is not NULL. */
	bound(st, i,
	      sqlite3_bind_blob64(LS(st)->p, i, p ? p : "", (sqlite3_uint64)n,
				  keep(st)));
}

static void lite_bind_null(struct db_stmt *st, int i)
{
	bound(st, i, sqlite3_bind_null(LS(st)->p, i));
}

static int lite_step(struct db_stmt *st, struct err *err)
{
	int rc;

	if (LS(st)->bad_index)
		return err_set(err, E_INTERNAL,
			       "state store (sqlite): %s: parameter %d out of "
			       "range",
			       st->what, LS(st)->bad_index);
	LS(st)->stepped = 1;
	rc = sqlite3_step(LS(st)->p);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return lite_err(L(st->d), err, st->what);
}

static int lite_col_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(LS(st)->p, i) == SQLITE_NULL;
}

static int64_t lite_col_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(LS(st)->p, i);
}

static const char *lite_col_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(LS(st)->p, i);
}

static const void *lite_col_blob(struct db_stmt *st, int i, size_t *n)
{
	const void *p;

	if (lite_col_null(st, i))
		return NULL;
	p = sqlite3_column_blob(LS(st)->p, i);
	*n = (size_t)sqlite3_column_bytes(LS(st)->p, i);
	return p ? p : "";
}

static int64_t lite_changes(struct db *d)
{
	return sqlite3_changes64(L(d)->h);
}

static const struct db_ops lite_ops = {
	.name = "sqlite",
	.close = lite_close,
	.exec = lite_exec,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.in_tx = lite_in_tx,
	.prepare = lite_prepare,
	.release = lite_release,
	.reset = lite_reset,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.col_null = lite_col_null,
	.col_int64 = lite_col_int64,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.changes = lite_changes,
};

/* A store path that exists but is not a regular file (a directory, a
 * symbolic link, which SQLITE_OPEN_NOFOLLOW refuses, a device) will not
 * open however often it is retried: the operator must change it (E_CONFIG,
 * exit 78), not wait (SQLite would say only "unable to open database
 * file"). A path that does not exist yet is created by the open. */
static int path_not_a_file(const char *path, struct err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0 || S_ISREG(st.st_mode))
		return 0;
	return err_set(err, E_CONFIG,
		       "state store (sqlite): '%s' is not a regular file (%s); "
		       "move it away or set state_dir to another folder",
		       path,
		       S_ISDIR(st.st_mode)   ? "a directory"
		       : S_ISLNK(st.st_mode) ? "a symbolic link"
					     : "a special file");
}

int db_sqlite_open(const char *path, struct db **out, struct err *err)
{
	struct lite *l;

	*out = NULL;
	if (path_not_a_file(path, err) < 0)
		return -1;
	if (!(l = calloc(1, sizeof(*l))))
		return err_set(err, E_NOMEM, "out of memory");
	l->base.ops = &lite_ops;
	l->base.kind = DB_SQLITE;
	snprintf(l->base.where, sizeof(l->base.where), "%s", path);
	pthread_mutex_init(&l->ck.mu, NULL);
	pthread_cond_init(&l->ck.cv, NULL);
	/* NOMUTEX: a connection is used by one thread (a worker's heartbeat
	 * has its own); serialized mode took a mutex around every step and
	 * column read. Without memory statistics (which nothing reads),
	 * allocations take no global mutex either; this works only before
	 * SQLite initialises, so a refusal on a later open is harmless. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* No SQLITE_CONFIG_STMTJRNL_SPILL: with a threshold of 256 KiB or
	 * more, a sub-journal (or the TEMP database's journal) that
	 * outgrows it fails to spill to its file with SQLITE_FULL
	 * ("database or disk is full", exit 75 on every retry): a
	 * savepoint or a gc fold's temporary tables (Debian's SQLite
	 * 3.40.1: fails from 262 144, works at 65 536 and 131 072; the
	 * in-memory journal is kept in chunks of the threshold's size and
	 * copied to the file a chunk per write when it spills; seen in
	 * make bench-scale's gc with 4 MiB). SQLite's own
	 * 64 KiB cost the load about 5 % of system time in pwrites to the
	 * spill file (X12 852 10 MB: 0.15-0.17 s against 0.18-0.19 s)
	 * until the load's usual statements stopped needing a sub-journal
	 * (w-nojrnl): new ledger keys, snapshots at new positions and
	 * events go in by INSERT OR IGNORE, which opens no statement
	 * journal, without a savepoint (state_txn.c add_new, state_load.c
	 * snap_chunk, state_load_pg.c EV_HEAD_LITE). The savepoints left
	 * (a ledger chunk with replays, snapshots over known positions)
	 * and gc's TEMP tables still spill past 64 KiB. */
	if (sqlite3_open_v2(path, &l->h,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		if (!l->h) {
			pthread_cond_destroy(&l->ck.cv);
			pthread_mutex_destroy(&l->ck.mu);
			free(l);
			return err_set(err, E_NOMEM, "out of memory");
		}
		err_set(err, E_IO, "state store (sqlite): cannot open '%s': %s",
			path, sqlite3_errmsg(l->h));
		goto fail;
	}
	sqlite3_busy_timeout(l->h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(l->h, 1);
	if (lite_exec(&l->base, "PRAGMA journal_mode=WAL", err) < 0 ||
	    lite_exec(&l->base, "PRAGMA synchronous=FULL", err) < 0 ||
	    lite_exec(&l->base, "PRAGMA foreign_keys=OFF", err) < 0 ||
	    /* 16 MiB of page cache: the load stage touches positions and
	     * three indexes per record; the default 2 MiB spills to the
	     * WAL constantly. Fixed, so memory does not grow with input. */
	    lite_exec(&l->base, "PRAGMA cache_size=-16384", err) < 0)
		goto fail;
	sqlite3_wal_hook(l->h, lite_wal_hook, l);
	*out = &l->base;
	return 0;
fail:
	sqlite3_close_v2(l->h);
	pthread_cond_destroy(&l->ck.cv);
	pthread_mutex_destroy(&l->ck.mu);
	free(l);
	return -1;
}
