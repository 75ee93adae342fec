/* db_pg.c - the PostgreSQL backend of db.h, on libpq.
 *
 * Every statement is prepared once per connection (PQprepare, named
 * spN) with its '?' placeholders rewritten to $N. A finalized statement
 * stays prepared on the server in a small per-connection cache keyed by
 * its text (CACHE_MAX, least recently used deallocated first): the
 * statements written per call (state_sql_rows) then cost one round trip
 * instead of three (prepare, execute, deallocate). Parameters travel as
 * text (blobs in binary) and the server infers their types, so the
 * common-dialect SQL casts where it cannot. A plain statement's whole
 * result is buffered (PQexecPrepared); a DB_STREAM one is a WITH HOLD
 * cursor read FETCH_ROWS rows at first, twice as many each FETCH up to
 * FETCH_MAX (fewer round trips on long walks), so memory stays bounded and
 * other statements can run on the connection between rows (the render
 * stage looks items up while it walks the positions).
 *
 * Transactions: db_begin takes a transaction-scoped advisory lock
 * (DB_WRITER_LOCK), the one writer lock of the store, as SQLite's BEGIN
 * IMMEDIATE does; db_begin_light does not, and loads rely on row locks
 * (db.h says which transaction takes which); lock_timeout (10 minutes, SQLite's busy timeout) turns a
 * wait that long into E_BUSY. PostgreSQL differs from SQLite in two ways
 * this file hides: an error aborts the whole transaction (COMMIT then
 * answers ROLLBACK, which we report as a failure), and cursors or
 * prepared statements cannot be closed inside an aborted transaction (we
 * queue the CLOSE/DEALLOCATE until it is rolled back).
 */
#include "db_impl.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_ROWS 512
#define FETCH_MAX 8192
#define CACHE_MAX 64
#define LOCK_TIMEOUT "10min"
#define CONNECT_TIMEOUT "30"

struct pg {
	struct db base;
	PGconn *c;
	int64_t changes;
	unsigned seq;             /* statement and cursor names */
	unsigned tx_gen;          /* counts transactions begun */
	char **pending;           /* CLOSE/DEALLOCATE after a rollback */
	size_t npending, cap;
	struct pg_cached {        /* prepared, no statement uses it now */
		char *sql;        /* the text as prepared: the key */
		char name[24];
		unsigned long used;
	} cache[CACHE_MAX];
	size_t ncache;
	unsigned long tick;       /* orders cache entries by last use */
};

enum { ST_IDLE, ST_ROWS, ST_DONE };

struct pg_stmt {
	struct db_stmt base;
	char name[24];            /* prepared statement */
	char cursor[24];          /* DB_STREAM: its cursor */
	char *sql;                /* not DB_STREAM: the text, for the cache */
	int nparams;
	const char **vals;        /* nparams each */
	int *lens, *fmts;
	char (*num)[24];          /* text of bound integers */
	int bad_index;            /* a bind out of range: reported at step */
	PGresult *res;
	int state;                /* ST_* */
	int row, nrows;
	int cursor_open;          /* the server holds our cursor */
	int cursor_in_tx;         /* declared inside transaction cursor_gen */
	unsigned cursor_gen;
	int cursor_eof;           /* the last FETCH was short */
	int fetch_rows;           /* rows the next FETCH asks for */
	unsigned char **blobs;    /* decoded bytea of the current row */
	size_t *blob_n;
	int nblobs;
};

static struct pg *P(const struct db *d)
{
	return (struct pg *)d;
}

static struct pg_stmt *PS(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* Error codes by SQLSTATE (appendix A of the PostgreSQL manual). */
static int code_of(const char *sqlstate, int conn_bad)
{
	static const char *const busy[] = {"40001", "40P01", "55P03",
					   "57014", "57P01", "57P02",
					   "57P03", "53300", NULL};
	size_t i;

	if (conn_bad)
		return E_BUSY;
	if (!sqlstate)
		return E_IO;
	for (i = 0; busy[i]; i++)
		if (!strcmp(sqlstate, busy[i]))
			return E_BUSY;
	if (!strncmp(sqlstate, "08", 2))  /* connection exception */
		return E_BUSY;
	if (!strcmp(sqlstate, "53100"))   /* disk_full */
		return E_NOSPACE;
	if (!strcmp(sqlstate, "XX001") || !strcmp(sqlstate, "XX002"))
		return E_INTERNAL;        /* data or index corrupted */
	if (!strncmp(sqlstate, "28", 2) || !strcmp(sqlstate, "3D000") ||
	    !strcmp(sqlstate, "42501"))   /* auth, no database, privilege */
		return E_CONFIG;
	return E_IO;
}

/* libpq's messages end in a newline and may have several lines. */
static void one_line(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in && o + 1 < n; in++) {
		if (*in == '\n') {
			while (in[1] == ' ' || in[1] == '\t')
				in++;
			if (!in[1])
				break;
			if (o + 3 < n) {
				out[o++] = ';';
				out[o++] = ' ';
			}
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

/* Records the error of res (or of the connection when res is NULL). */
static int pg_err(struct pg *p, const PGresult *res, struct err *err,
		  const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				: NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			      : NULL;
	int bad = PQstatus(p->c) == CONNECTION_BAD;
	char line[400];

	one_line(msg ? msg : PQerrorMessage(p->c), line, sizeof(line));
	if (!line[0])
		snprintf(line, sizeof(line), "%s",
			 res ? PQresStatus(PQresultStatus(res))
			     : "no result from the server");
	if (bad)
		err_set(err, E_BUSY,
			"state store (postgresql): %s: connection lost: %s",
			what, line);
	else
		err_set(err, code_of(state, 0),
			"state store (postgresql): %s: %s%s%s%s", what, line,
			state ? " (SQLSTATE " : "", state ? state : "",
			state ? ")" : "");
	return -1;
}

/* Runs a command that returns no rows we want; 0 or -1. */
static int run(struct pg *p, const char *sql, struct err *err,
	       const char *what)
{
	PGresult *res = PQexec(p->c, sql);
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_err(p, res, err, what);
	PQclear(res);
	return rc;
}

static PGTransactionStatusType txs(const struct pg *p)
{
	return PQtransactionStatus(p->c);
}

/* Commands that cannot run inside an aborted transaction wait here. */
static void defer(struct pg *p, const char *sql)
{
	char *s;

	if (p->npending == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		char **np = realloc(p->pending, ncap * sizeof(*np));

		if (!np)
			return; /* a leaked cursor lives until disconnect */
		p->pending = np;
		p->cap = ncap;
	}
	if ((s = strdup(sql)))
		p->pending[p->npending++] = s;
}

static void flush_pending(struct pg *p)
{
	size_t i;

	if (txs(p) != PQTRANS_IDLE)
		return;
	for (i = 0; i < p->npending; i++) {
		/* Outside a transaction a failure harms nothing (the
		 * cursor may have died with its transaction). */
		PQclear(PQexec(p->c, p->pending[i]));
		free(p->pending[i]);
	}
	p->npending = 0;
}

/* Sends sql now, or after the rollback when the transaction is aborted. */
static void send_or_defer(struct pg *p, const char *sql)
{
	PGTransactionStatusType s = txs(p);

	if (p->base.closing || PQstatus(p->c) == CONNECTION_BAD)
		return;
	if (s == PQTRANS_INERROR)
		defer(p, sql);
	else if (s == PQTRANS_IDLE || s == PQTRANS_INTRANS)
		PQclear(PQexec(p->c, sql));
}

/* After a transaction ends: cursors declared inside it are gone when it
 * rolled back, and holdable (materialized) when it committed. */
static void tx_ended(struct pg *p, int committed)
{
	struct db_stmt *st;

	for (st = p->base.stmts; st; st = st->next) {
		struct pg_stmt *s = PS(st);

		if (!s->cursor_open || !s->cursor_in_tx ||
		    s->cursor_gen != p->tx_gen)
			continue;
		s->cursor_in_tx = 0;
		if (!committed)
			s->cursor_open = 0;
	}
}

static int pg_exec(struct db *d, const char *sql, struct err *err)
{
	char what[64];

	db_sql_what(sql, what, sizeof(what));
	return run(P(d), sql, err, what);
}

static void pg_close(struct db *d)
{
	size_t i;

	PQfinish(P(d)->c);
	for (i = 0; i < P(d)->ncache; i++)
		free(P(d)->cache[i].sql);
	for (i = 0; i < P(d)->npending; i++)
		free(P(d)->pending[i]);
	free(P(d)->pending);
	free(d);
}

static int pg_in_tx(const struct db *d)
{
	PGTransactionStatusType s = txs(P(d));

	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR ||
	       s == PQTRANS_ACTIVE;
}

static void pg_rollback(struct db *d)
{
	struct pg *p = P(d);

	if (!pg_in_tx(d))
		return;
	PQclear(PQexec(p->c, "ROLLBACK"));
	tx_ended(p, 0);
	flush_pending(p);
}

static int pg_begin(struct db *d, int writer_lock, struct err *err)
{
	struct pg *p = P(d);
	char sql[96];

	if (pg_in_tx(d))
		return err_set(err, E_INTERNAL,
			       "state store (postgresql): begin: a "
			       "transaction is already open");
	flush_pending(p);
	if (run(p, "BEGIN", err, "begin") < 0)
		return -1;
	p->tx_gen++;
	if (!writer_lock)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)",
		 (long long)DB_WRITER_LOCK);
	if (run(p, sql, err, "take the writer lock") < 0) {
		pg_rollback(d);
		return -1;
	}
	return 0;
}

static int pg_commit(struct db *d, struct err *err)
{
	struct pg *p = P(d);
	PGresult *res;
	int rc = 0;

	if (txs(p) == PQTRANS_INERROR) {
		pg_rollback(d);
		return err_set(err, E_IO,
			       "state store (postgresql): commit: the "
			       "transaction was aborted by an earlier error");
	}
	if (!pg_in_tx(d))
		return err_set(err, E_INTERNAL,
			       "state store (postgresql): commit: no "
			       "transaction is open");
	res = PQexec(p->c, "COMMIT");
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_err(p, res, err, "commit");
	else if (strcmp(PQcmdStatus(res), "COMMIT"))
		rc = err_set(err, E_IO,
			     "state store (postgresql): commit: the server "
			     "rolled the transaction back");
	PQclear(res);
	if (rc < 0 && pg_in_tx(d))
		PQclear(PQexec(p->c, "ROLLBACK"));
	tx_ended(p, rc == 0);
	flush_pending(p);
	return rc;
}

static void clear_blobs(struct pg_stmt *s)
{
	int i;

	for (i = 0; i < s->nblobs; i++) {
		free(s->blobs[i]);
		s->blobs[i] = NULL;
	}
}

static void close_cursor(struct pg_stmt *s)
{
	char sql[48];

	if (!s->cursor_open)
		return;
	snprintf(sql, sizeof(sql), "CLOSE %s", s->cursor);
	send_or_defer(P(s->base.d), sql);
	s->cursor_open = 0;
}

static void pg_reset(struct db_stmt *st)
{
	struct pg_stmt *s = PS(st);
	int i;

	PQclear(s->res);
	s->res = NULL;
	s->state = ST_IDLE;
	s->row = s->nrows = 0;
	clear_blobs(s);
	close_cursor(s);
	for (i = 0; i < s->nparams; i++) {
		s->vals[i] = NULL;
		s->lens[i] = 0;
		s->fmts[i] = 0;
	}
	s->bad_index = 0;
}

/* Keeps s's prepared statement for a later prepare of the same text
 * (takes s->sql); 0 when it cannot (closing, connection lost: the caller
 * deallocates). A full cache deallocates its least recently used entry.
 * Prepared statements are not transactional: one prepared in a
 * transaction that rolls back, or whose execution failed, still exists. */
static int cache_put(struct pg *p, struct pg_stmt *s)
{
	struct pg_cached *c;
	char sql[48];
	size_t i, old = 0;

	if (p->base.closing || PQstatus(p->c) == CONNECTION_BAD)
		return 0;
	if (p->ncache == CACHE_MAX) {
		for (i = 1; i < p->ncache; i++)
			if (p->cache[i].used < p->cache[old].used)
				old = i;
		snprintf(sql, sizeof(sql), "DEALLOCATE %s",
			 p->cache[old].name);
		send_or_defer(p, sql);
		free(p->cache[old].sql);
		p->cache[old] = p->cache[--p->ncache];
	}
	c = &p->cache[p->ncache++];
	c->sql = s->sql;
	s->sql = NULL;
	snprintf(c->name, sizeof(c->name), "%s", s->name);
	c->used = ++p->tick;
	return 1;
}

/* Takes the cached statement prepared from sql into s: 1, or 0 when
 * there is none. */
static int cache_take(struct pg *p, struct pg_stmt *s, const char *sql)
{
	size_t i;

	for (i = 0; i < p->ncache; i++)
		if (!strcmp(p->cache[i].sql, sql))
			break;
	if (i == p->ncache)
		return 0;
	snprintf(s->name, sizeof(s->name), "%s", p->cache[i].name);
	free(p->cache[i].sql);
	p->cache[i] = p->cache[--p->ncache];
	return 1;
}

static void pg_release(struct db_stmt *st)
{
	struct pg_stmt *s = PS(st);
	char sql[48];

	if (st->d) {
		pg_reset(st);
		if (!s->sql || !cache_put(P(st->d), s)) {
			snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
			send_or_defer(P(st->d), sql);
		}
	}
	free(s->sql);
	s->sql = NULL;
	PQclear(s->res);
	s->res = NULL;
	clear_blobs(s);
	free(s->blobs);
	free(s->blob_n);
	free(s->vals);
	free(s->lens);
	free(s->fmts);
	free(s->num);
	s->blobs = NULL;
	s->blob_n = NULL;
	s->vals = NULL;
	s->lens = s->fmts = NULL;
	s->num = NULL;
	s->nparams = s->nblobs = 0;
}

static struct db_stmt *pg_prepare(struct db *d, const char *sql,
				  unsigned flags, struct err *err)
{
	struct pg *p = P(d);
	struct pg_stmt *s;
	char *text = NULL, *q = NULL, what[64];
	PGresult *res;
	int n;

	db_sql_what(sql, what, sizeof(what));
	if (!(s = calloc(1, sizeof(*s))) || !(q = db_sql_to_pg(sql, &n))) {
		free(s);
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	p->seq++;
	snprintf(s->name, sizeof(s->name), "sp%u", p->seq);
	s->fetch_rows = FETCH_ROWS;
	if (flags & DB_STREAM) {
		size_t len = strlen(q) + 80;

		snprintf(s->cursor, sizeof(s->cursor), "spc%u", p->seq);
		if (!(text = malloc(len)))
			goto nomem;
		snprintf(text, len,
			 "DECLARE %s NO SCROLL CURSOR WITH HOLD FOR %s",
			 s->cursor, q);
		free(q);
		q = text;
	}
	s->nparams = n;
	if (n && (!(s->vals = calloc((size_t)n, sizeof(*s->vals))) ||
		  !(s->lens = calloc((size_t)n, sizeof(*s->lens))) ||
		  !(s->fmts = calloc((size_t)n, sizeof(*s->fmts))) ||
		  !(s->num = calloc((size_t)n, sizeof(*s->num)))))
		goto nomem;
	if (!(flags & DB_STREAM) && cache_take(p, s, q)) {
		s->sql = q;
		db_stmt_init(d, &s->base, sql, flags);
		return &s->base;
	}
	res = PQprepare(p->c, s->name, q, n, NULL);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		char w[80];

		snprintf(w, sizeof(w), "prepare %s", what);
		pg_err(p, res, err, w);
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (flags & DB_STREAM)
		free(q);
	else
		s->sql = q;  /* the cache's key once finalized */
	db_stmt_init(d, &s->base, sql, flags);
	return &s->base;
nomem:
	err_set(err, E_NOMEM, "out of memory");
fail:
	free(q);
	s->base.d = NULL;
	pg_release(&s->base);
	free(s);
	return NULL;
}

static int slot(struct pg_stmt *s, int i)
{
	if (i < 1 || i > s->nparams) {
		if (!s->bad_index)
			s->bad_index = i;
		return -1;
	}
	return i - 1;
}

static void pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	struct pg_stmt *s = PS(st);
	int k = slot(s, i);

	if (k < 0)
		return;
	snprintf(s->num[k], sizeof(s->num[k]), "%lld", (long long)v);
	s->vals[k] = s->num[k];
	s->lens[k] = 0;
	s->fmts[k] = 0;
}

static void pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	struct pg_stmt *s = PS(st);
	int k = slot(s, i);

	if (k < 0)
		return;
	s->vals[k] = v;
	s->lens[k] = 0;
	s->fmts[k] = 0;
}

/* Binary format: bytea's binary form is the bytes themselves. */
static void pg_bind_blob(struct db_stmt *st, int i, const void *p, size_t n)
{
	struct pg_stmt *s = PS(st);
	int k = slot(s, i);

	if (k < 0)
		return;
	s->vals[k] = p ? p : "";
	s->lens[k] = (int)n;
	s->fmts[k] = 1;
}

static void pg_bind_null(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);
	int k = slot(s, i);

	if (k < 0)
		return;
	s->vals[k] = NULL;
	s->lens[k] = 0;
	s->fmts[k] = 0;
}

/* Counts rows of INSERT/UPDATE/DELETE (with or without RETURNING). */
static void note_changes(struct pg *p, PGresult *res)
{
	const char *cmd = PQcmdStatus(res);

	if (!strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) ||
	    !strncmp(cmd, "DELETE", 6) || !strncmp(cmd, "MERGE", 5) ||
	    !strncmp(cmd, "COPY", 4))
		p->changes = strtoll(PQcmdTuples(res), NULL, 10);
}

/* Reads the next batch of the cursor into s->res. */
static int fetch(struct pg_stmt *s, struct err *err)
{
	struct pg *p = P(s->base.d);
	char sql[64];

	PQclear(s->res);
	clear_blobs(s);
	snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM %s", s->fetch_rows,
		 s->cursor);
	s->res = PQexec(p->c, sql);
	if (!s->res || PQresultStatus(s->res) != PGRES_TUPLES_OK) {
		pg_err(p, s->res, err, s->base.what);
		PQclear(s->res);
		s->res = NULL;
		s->state = ST_IDLE;
		return -1;
	}
	s->nrows = PQntuples(s->res);
	s->row = 0;
	s->cursor_eof = s->nrows < s->fetch_rows;
	if (s->fetch_rows < FETCH_MAX)
		s->fetch_rows *= 2;
	if (s->nrows == 0) {
		close_cursor(s);
		s->state = ST_DONE;
		return 0;
	}
	s->state = ST_ROWS;
	return 1;
}

static int execute(struct pg_stmt *s, struct err *err)
{
	struct pg *p = P(s->base.d);
	ExecStatusType rs;

	PQclear(s->res);
	s->res = NULL;
	clear_blobs(s);
	if (s->bad_index)
		return err_set(err, E_INTERNAL,
			       "state store (postgresql): %s: parameter %d "
			       "out of range",
			       s->base.what, s->bad_index);
	close_cursor(s);
	s->res = PQexecPrepared(p->c, s->name, s->nparams, s->vals, s->lens,
				s->fmts, 0);
	rs = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
		pg_err(p, s->res, err, s->base.what);
		PQclear(s->res);
		s->res = NULL;
		s->state = ST_IDLE;
		return -1;
	}
	if (s->base.flags & DB_STREAM) {
		PQclear(s->res);
		s->res = NULL;
		s->fetch_rows = FETCH_ROWS;
		s->cursor_open = 1;
		s->cursor_in_tx = pg_in_tx(&p->base);
		s->cursor_gen = p->tx_gen;
		return fetch(s, err);
	}
	note_changes(p, s->res);
	s->nrows = rs == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
	s->row = 0;
	s->state = s->nrows ? ST_ROWS : ST_DONE;
	return s->nrows ? 1 : 0;
}

static int pg_step(struct db_stmt *st, struct err *err)
{
	struct pg_stmt *s = PS(st);

	if (s->state != ST_ROWS)
		return execute(s, err);
	clear_blobs(s);
	if (++s->row < s->nrows)
		return 1;
	if ((st->flags & DB_STREAM) && !s->cursor_eof)
		return fetch(s, err);
	close_cursor(s);
	s->state = ST_DONE;
	return 0;
}

static int have(struct pg_stmt *s, int i)
{
	return s->state == ST_ROWS && s->res && i >= 0 &&
	       i < PQnfields(s->res);
}

static int pg_col_null(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);

	return !have(s, i) || PQgetisnull(s->res, s->row, i);
}

static int64_t pg_col_int64(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);
	const char *v;

	if (pg_col_null(st, i))
		return 0;
	v = PQgetvalue(s->res, s->row, i);
	if (v[0] == 't' && !v[1])  /* a boolean */
		return 1;
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PS(st);

	if (pg_col_null(st, i))
		return NULL;
	return PQgetvalue(s->res, s->row, i);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* bytea arrives as text in hex format ("\x0a1b..."; the connection sets
 * bytea_output = hex); it is decoded once per row and column. */
static const void *pg_col_blob(struct db_stmt *st, int i, size_t *n)
{
	struct pg_stmt *s = PS(st);
	const char *v;
	size_t len, k;
	unsigned char *b;

	*n = 0;
	if (pg_col_null(st, i))
		return NULL;
	if (!s->blobs || s->nblobs < PQnfields(s->res)) {
		int nf = PQnfields(s->res);
		unsigned char **nb;
		size_t *nn;

		clear_blobs(s);
		if (!(nb = realloc(s->blobs, (size_t)nf * sizeof(*nb))))
			return NULL;
		s->blobs = nb;
		if (!(nn = realloc(s->blob_n, (size_t)nf * sizeof(*nn))))
			return NULL;
		s->blob_n = nn;
		memset(s->blobs, 0, (size_t)nf * sizeof(*nb));
		s->nblobs = nf;
	}
	if (s->blobs[i]) {
		*n = s->blob_n[i];
		return s->blobs[i];
	}
	v = PQgetvalue(s->res, s->row, i);
	len = strlen(v);
	if (len < 2 || v[0] != '\\' || v[1] != 'x' || len % 2)
		return NULL; /* not hex output: unexpected server setting */
	if (!(b = malloc((len - 2) / 2 + 1)))
		return NULL;
	for (k = 0; k < (len - 2) / 2; k++) {
		int hi = hexval(v[2 + 2 * k]), lo = hexval(v[3 + 2 * k]);

		if (hi < 0 || lo < 0) {
			free(b);
			return NULL;
		}
		b[k] = (unsigned char)(hi << 4 | lo);
	}
	s->blobs[i] = b;
	s->blob_n[i] = k;
	*n = k;
	return b;
}

static int64_t pg_changes(struct db *d)
{
	return P(d)->changes;
}

/* ---- COPY (db.h: db_copy_begin) ---------------------------------------- */

static int pg_copy_begin(struct db *d, const char *sql, struct err *err)
{
	struct pg *p = P(d);
	PGresult *res = PQexec(p->c, sql);
	int rc = 0;

	if (!res || PQresultStatus(res) != PGRES_COPY_IN)
		rc = pg_err(p, res, err, "copy");
	PQclear(res);
	return rc;
}

static int pg_copy_put(struct db *d, const void *buf, size_t n,
		       struct err *err)
{
	struct pg *p = P(d);
	const char *c = buf;
	size_t m;

	/* PQputCopyData takes an int; callers send far less at a time */
	for (; n; c += m, n -= m) {
		m = n < (1u << 30) ? n : (1u << 30);
		if (PQputCopyData(p->c, c, (int)m) != 1)
			return pg_err(p, NULL, err, "copy");
	}
	return 0;
}

/* Ends the COPY and reads its results to the end (the connection is
 * then free again). An abandoned COPY's error is the caller's, not ours:
 * err is left alone. */
static int pg_copy_end(struct db *d, int ok, struct err *err)
{
	struct pg *p = P(d);
	PGresult *res;
	ExecStatusType rs;
	int rc = ok ? 0 : -1;

	if (PQputCopyEnd(p->c, ok ? NULL : "abandoned by the client") != 1 &&
	    rc == 0)
		rc = pg_err(p, NULL, err, "copy");
	while ((res = PQgetResult(p->c))) {
		rs = PQresultStatus(res);
		if (rs == PGRES_COMMAND_OK)
			note_changes(p, res);
		else if (rc == 0)
			rc = pg_err(p, res, err, "copy");
		PQclear(res);
		/* still copying: the end did not reach the server */
		if (rs == PGRES_COPY_IN)
			break;
	}
	return rc;
}

static const struct db_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_tx = pg_in_tx,
	.prepare = pg_prepare,
	.release = pg_release,
	.reset = pg_reset,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_null = pg_col_null,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.copy_begin = pg_copy_begin,
	.copy_put = pg_copy_put,
	.copy_end = pg_copy_end,
};

static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connection failures: credentials and names are configuration (78),
 * the rest (refused, unreachable, starting up, timed out) temporary. */
static int connect_code(PGconn *c)
{
	static const char *const config[] = {
		"password authentication failed", "authentication failed",
		"no pg_hba.conf entry", "does not exist",
		"no password supplied", "password is required",
		"is not permitted to log in", "permission denied", NULL};
	const char *m = PQerrorMessage(c);
	size_t i;

	if (PQconnectionNeedsPassword(c))
		return E_CONFIG;
	for (i = 0; config[i]; i++)
		if (strstr(m, config[i]))
			return E_CONFIG;
	return E_BUSY;
}

int db_pg_open(const char *url, const char *password_env, struct db **out,
	       struct err *err)
{
	const char *keys[6], *vals[6];
	PQconninfoOption *opts;
	char *perr = NULL, line[400];
	struct pg *p;
	int k = 0;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return err_set(err, E_NOMEM, "out of memory");
	p->base.ops = &pg_ops;
	p->base.kind = DB_POSTGRES;
	db_url_redact(url, p->base.where, sizeof(p->base.where));
	if (!(opts = PQconninfoParse(url, &perr))) {
		one_line(perr ? perr : "out of memory", line, sizeof(line));
		PQfreemem(perr);
		err_set(err, E_CONFIG,
			"state store (postgresql): bad URL '%s': %s",
			p->base.where, line);
		free(p);
		return -1;
	}
	PQconninfoFree(opts);
	/* Later keywords win; the URL may set its own connect_timeout and
	 * application_name, the password from the environment wins. */
	keys[k] = "fallback_application_name";
	vals[k++] = "stockpipe";
	keys[k] = "connect_timeout";
	vals[k++] = CONNECT_TIMEOUT;
	keys[k] = "dbname";
	vals[k++] = url;
	if (password_env && *password_env) {
		const char *pw = getenv(password_env);

		if (!pw || !*pw) {
			err_set(err, E_CONFIG,
				"state store (postgresql): environment "
				"variable '%s' (state_db_password_env) is not "
				"set",
				password_env);
			free(p);
			return -1;
		}
		keys[k] = "password";
		vals[k++] = pw;
	}
	keys[k] = NULL;
	vals[k] = NULL;
	p->c = PQconnectdbParams(keys, vals, 1);
	if (!p->c) {
		free(p);
		return err_set(err, E_NOMEM, "out of memory");
	}
	if (PQstatus(p->c) != CONNECTION_OK) {
		one_line(PQerrorMessage(p->c), line, sizeof(line));
		err_set(err, connect_code(p->c),
			"state store (postgresql): cannot connect to '%s': %s",
			p->base.where, line);
		goto fail;
	}
	PQsetNoticeProcessor(p->c, no_notices, NULL);
	/* client_encoding UTF8: text is stored as the bytes we send (a UTF8
	 * database); bytea in hex, which pg_col_blob decodes; the writer
	 * lock waits as long as SQLite's busy timeout. */
	if (PQsetClientEncoding(p->c, "UTF8") != 0) {
		pg_err(p, NULL, err, "set client_encoding");
		goto fail;
	}
	if (run(p,
		"SET bytea_output = 'hex'; SET lock_timeout = '" LOCK_TIMEOUT
		"'; SET standard_conforming_strings = on",
		err, "configure the session") < 0)
		goto fail;
	*out = &p->base;
	return 0;
fail:
	PQfinish(p->c);
	free(p);
	return -1;
}
