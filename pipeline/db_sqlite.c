/* TEMPORARY stand-in (see db.h). */
#include "db.h"
#include <sqlite3.h>
#include <stdlib.h>
struct db { sqlite3 *h; int own; };
struct db_stmt { struct db *d; sqlite3_stmt *p; };
struct db *db_wrap_sqlite(void *h);
struct db *db_wrap_sqlite(void *h) { struct db *d = calloc(1, sizeof(*d)); d->h = h; return d; }
static int fail(struct db *d, struct err *err, const char *what) {
	int c = sqlite3_errcode(d->h);
	return err_set(err, c == SQLITE_BUSY || c == SQLITE_LOCKED ? E_BUSY : E_IO, "state store: %s: %s", what, sqlite3_errmsg(d->h));
}
int db_open(const char *url, const char *pe, struct db **out, struct err *err) {
	struct db *d = calloc(1, sizeof(*d)); (void)pe;
	if (sqlite3_open_v2(url, &d->h, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) { fail(d, err, "open"); sqlite3_close(d->h); free(d); return -1; }
	d->own = 1; sqlite3_busy_timeout(d->h, 600000); *out = d; return 0;
}
void db_close(struct db *d) { if (!d) return; if (d->own) sqlite3_close(d->h); free(d); }
enum db_kind db_kind_of(const struct db *d) { (void)d; return DB_SQLITE; }
int db_exec(struct db *d, const char *sql, struct err *err) { return sqlite3_exec(d->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(d, err, sql); }
int db_begin(struct db *d, struct err *err) { return db_exec(d, "BEGIN IMMEDIATE", err); }
int db_begin_light(struct db *d, struct err *err) { return db_exec(d, "BEGIN IMMEDIATE", err); }
int db_commit(struct db *d, struct err *err) { if (db_exec(d, "COMMIT", err) < 0) { db_rollback(d); return -1; } return 0; }
void db_rollback(struct db *d) { if (!sqlite3_get_autocommit(d->h)) sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL); }
int db_in_tx(const struct db *d) { return !sqlite3_get_autocommit(d->h); }
struct db_stmt *db_prepare(struct db *d, const char *sql, unsigned flags, struct err *err) {
	struct db_stmt *s = calloc(1, sizeof(*s)); (void)flags; s->d = d;
	if (sqlite3_prepare_v2(d->h, sql, -1, &s->p, NULL) != SQLITE_OK) { fail(d, err, "prepare"); free(s); return NULL; }
	return s;
}
void db_finalize(struct db_stmt *s) { if (s) { sqlite3_finalize(s->p); free(s); } }
void db_reset(struct db_stmt *s) { sqlite3_reset(s->p); sqlite3_clear_bindings(s->p); }
void db_bind_int64(struct db_stmt *s, int i, int64_t v) { sqlite3_bind_int64(s->p, i, v); }
void db_bind_text(struct db_stmt *s, int i, const char *v) { if (v) sqlite3_bind_text(s->p, i, v, -1, SQLITE_STATIC); else sqlite3_bind_null(s->p, i); }
void db_bind_blob(struct db_stmt *s, int i, const void *p, size_t n) { sqlite3_bind_blob(s->p, i, p, (int)n, SQLITE_STATIC); }
void db_bind_null(struct db_stmt *s, int i) { sqlite3_bind_null(s->p, i); }
int db_step(struct db_stmt *s, struct err *err) { int rc = sqlite3_step(s->p); if (rc == SQLITE_ROW) return 1; if (rc == SQLITE_DONE) return 0; return fail(s->d, err, "step"); }
int db_col_null(struct db_stmt *s, int i) { return sqlite3_column_type(s->p, i) == SQLITE_NULL; }
int64_t db_col_int64(struct db_stmt *s, int i) { return sqlite3_column_int64(s->p, i); }
const char *db_col_text(struct db_stmt *s, int i) { return (const char *)sqlite3_column_text(s->p, i); }
const void *db_col_blob(struct db_stmt *s, int i, size_t *n) { *n = (size_t)sqlite3_column_bytes(s->p, i); return sqlite3_column_blob(s->p, i); }
int64_t db_changes(struct db *d) { return sqlite3_changes(d->h); }
