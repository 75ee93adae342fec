/* t_store.c - helpers shared by the store's tests: see t_store.h. No
 * tests here (no T_TEST lines). */
#include "t_store.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PWENV "SP_TEST_PG_PASSWORD"

const char *t_store_pwenv(void)
{
	const char *pw = getenv(PWENV);

	return pw && *pw ? PWENV : NULL;
}

void t_store_schema_url(const char *url, const char *schema, char *out,
			size_t n)
{
	snprintf(out, n, "%s%soptions=-csearch_path%%3D%s", url,
		 strchr(url, '?') ? "&" : "?", schema);
}

int t_store_fresh_schema(const char *url, const char *schema, struct err *e)
{
	struct db *d;
	char sql[200];
	int rc;

	if (db_open(url, t_store_pwenv(), &d, e) < 0)
		return -1;
	snprintf(sql, sizeof(sql),
		 "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
		 schema);
	rc = db_exec(d, sql, e);
	db_close(d);
	return rc;
}

int64_t t_store_q1(struct db *d, const char *sql)
{
	struct err e = ERR_INIT;
	struct db_stmt *p = db_prepare(d, sql, 0, &e);
	int64_t v = -1;

	if (p && db_step(p, &e) == 1)
		v = db_col_int64(p, 0);
	if (!p)
		fprintf(stderr, "    %s: %s\n", sql, e.reason);
	db_finalize(p);
	return v;
}

int64_t t_store_sql1_in(const char *dir, const char *sql)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *p;
	int64_t v = 0;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db, sql, -1, &p, NULL) != SQLITE_OK) {
		fprintf(stderr, "    %s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	while (sqlite3_step(p) == SQLITE_ROW)
		if (!v)
			v = sqlite3_column_int64(p, 0);
	sqlite3_finalize(p);
	sqlite3_close(db);
	return v;
}

int64_t t_store_sql1(const char *sql)
{
	return t_store_sql1_in("st", sql);
}

int t_store_load(struct state *st, int doc, struct canon_record *r, int n,
		 size_t cap, struct load_stats *ls, struct err *e)
{
	struct load_stats mine;
	int i;

	if (!ls)
		ls = &mine;
	memset(ls, 0, sizeof(*ls));
	if (state_begin(st, e) < 0)
		return -1;
	if (cap) {
		state_load_batch_max(st, cap);
		state_load_batching(st);
	}
	for (i = 0; i < n; i++)
		if (state_load_record(st, doc, &r[i], ls, e) < 0)
			goto fail;
	if (state_load_flush(st, e) < 0)
		goto fail;
	return state_commit(st, e);
fail:
	state_rollback(st);
	return -1;
}

int t_store_subjournal_files(int on)
{
	if (sqlite3_shutdown() != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL,
			   on ? 0 : 64 * 1024) != SQLITE_OK)
		return -1;
	return 0;
}

/* Count (bytes 0) or total size (bytes 1) of SQLite's temporary files
 * open in this process; -1 without /proc/self/fd. */
static int64_t temp_files(int bytes)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	struct stat sb;
	char path[300], target[512];
	ssize_t n;
	int64_t v = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strstr(target, "etilqs_"))
			continue;
		/* stat follows the link to the file, unlinked or not */
		v += !bytes ? 1 : stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
	}
	closedir(dir);
	return v;
}

int t_store_temp_fds(void)
{
	return (int)temp_files(0);
}

int64_t t_store_temp_bytes(void)
{
	return temp_files(1);
}
