/* TEMPORARY stand-in for the db layer being written on branch pg (same
 * API); replaced at merge. */
#ifndef STOCKPIPE_DB_H
#define STOCKPIPE_DB_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"
struct db; struct db_stmt;
enum db_kind { DB_SQLITE, DB_POSTGRES };
int db_open(const char *url, const char *password_env, struct db **out, struct err *err);
void db_close(struct db *d);
enum db_kind db_kind_of(const struct db *d);
int db_exec(struct db *d, const char *sql, struct err *err);
int db_begin(struct db *d, struct err *err);
int db_begin_light(struct db *d, struct err *err);
int db_commit(struct db *d, struct err *err);
void db_rollback(struct db *d);
int db_in_tx(const struct db *d);
#define DB_STREAM 1u
struct db_stmt *db_prepare(struct db *d, const char *sql, unsigned flags, struct err *err);
void db_finalize(struct db_stmt *st);
void db_reset(struct db_stmt *st);
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n);
void db_bind_null(struct db_stmt *st, int i);
int db_step(struct db_stmt *st, struct err *err);
int db_col_null(struct db_stmt *st, int i);
int64_t db_col_int64(struct db_stmt *st, int i);
const char *db_col_text(struct db_stmt *st, int i);
const void *db_col_blob(struct db_stmt *st, int i, size_t *n);
int64_t db_changes(struct db *d);
#endif
