/* t_work.c - `stockpipe plan` and `stockpipe work` (pipeline/work.h) on a
 * real SQLite store in the test's directory: a plan opens one run and a
 * retried plan reuses it, a worker takes the run to its end, --stage stops
 * after that stage, an unknown run or source is a usage error naming it,
 * and a worker whose leases cannot be given up at exit says so. */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "pipeline/cli/cli.h"
#include "pipeline/store/state.h"
#include "pipeline/work.h"
#include "t.h"

static const char cfg_text[] =
	"state_dir: st\n"
	"sources:\n"
	"  - { name: shop, path: in, pattern: \"*.csv\", mapping: m.yaml }\n";

static const char map_text[] =
	"mapping: shop\n"
	"input: { format: csv, header: true }\n"
	"records:\n"
	"  - kind: stock\n"
	"    each: row\n"
	"    fields:\n"
	"      sku: col(sku) | required\n"
	"      location: S1\n"
	"      state: on_hand\n"
	"      quantity: col(qty) | decimal | required\n"
	"      mode: snapshot\n"
	"      as_of: col(at) | date\n";

/* A config with one source holding n CSV files. */
static int setup(struct cli_global *g, int n)
{
	char name[64], body[128];
	int i;

	memset(g, 0, sizeof(*g));
	g->config_path = "stockpipe.yaml";
	g->quiet = 1;
	if (t_write_file("stockpipe.yaml", cfg_text) ||
	    t_write_file("m.yaml", map_text) || mkdir("in", 0755) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "in/f%d.csv", i);
		snprintf(body, sizeof(body),
			 "sku,qty,at\nA,%d,2026-11-20T06:00:00Z\nB,2,"
			 "2026-11-20T06:00:00Z\n", i + 1);
		if (t_write_file(name, body))
			return -1;
	}
	return 0;
}

static void opts(struct work_opts *o, int64_t run)
{
	memset(o, 0, sizeof(*o));
	o->run_id = run;
	o->worker = "w1";
	o->lease_s = 30;
	o->poll_ms = 5;
}

struct by_state {
	int n[US_QUARANTINED + 1];
	int total;
};

static int count_state(void *ud, struct state_unit *u)
{
	struct by_state *b = ud;

	if (u->state >= 0 && u->state <= US_QUARANTINED)
		b->n[u->state]++;
	b->total++;
	return 0;
}

/* Units of run in stage by state. */
static int units(int64_t run, const char *stage, struct by_state *b)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	int rc;

	memset(b, 0, sizeof(*b));
	if (state_open("st", &st, &e) < 0)
		return -1;
	rc = state_units_each(st, run, stage, NULL, count_state, b, &e);
	state_close(st);
	return rc;
}

static int run_row(int64_t run, struct state_run *sr)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	int rc;

	if (state_open("st", &st, &e) < 0)
		return -1;
	rc = state_run_get(st, run, sr, &e);
	state_close(st);
	return rc;
}

/* Runs fn with stderr (and stdout) in files; returns fn's result. */
static int quiet_call(int (*fn)(const struct cli_global *,
				const struct work_opts *),
		      const struct cli_global *g, const struct work_opts *o)
{
	int saved_err, saved_out, fd, rc;

	fflush(stderr);
	fflush(stdout);
	saved_err = dup(2);
	saved_out = dup(1);
	fd = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (saved_err < 0 || saved_out < 0 || fd < 0)
		return -100;
	dup2(fd, 2);
	close(fd);
	fd = open("stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -100;
	dup2(fd, 1);
	close(fd);
	rc = fn(g, o);
	fflush(stderr);
	fflush(stdout);
	dup2(saved_err, 2);
	dup2(saved_out, 1);
	close(saved_err);
	close(saved_out);
	log_set_run(0);
	return rc;
}

static int do_plan(const struct cli_global *g, const struct work_opts *o)
{
	(void)o;
	return work_plan(g);
}

T_TEST(work_plan_opens_one_run_and_a_retry_reuses_it)
{
	struct cli_global g;
	struct by_state b;
	struct state_run sr;

	T_ASSERT(setup(&g, 3) == 0);
	T_EQ_INT(quiet_call(do_plan, &g, NULL), EXIT_DONE);
	T_EQ_STR(t_read_file("stdout.txt"), "1\n");
	T_ASSERT(units(1, "fetch", &b) == 0);
	T_EQ_INT(b.total, 3);
	T_EQ_INT(b.n[US_PENDING], 3);
	T_ASSERT(run_row(1, &sr) == 0);
	T_EQ_STR(sr.status, "running");
	/* The run is still open: a retried plan task gets the same id and
	 * lists nothing twice. */
	T_EQ_INT(quiet_call(do_plan, &g, NULL), EXIT_DONE);
	T_EQ_STR(t_read_file("stdout.txt"), "1\n");
	T_ASSERT(units(1, "fetch", &b) == 0);
	T_EQ_INT(b.total, 3);
}

T_TEST(work_takes_the_run_to_its_end)
{
	struct cli_global g;
	struct work_opts o;
	struct by_state b;
	struct state_run sr;

	T_ASSERT(setup(&g, 2) == 0);
	T_EQ_INT(quiet_call(do_plan, &g, NULL), EXIT_DONE);
	opts(&o, 1);
	T_EQ_INT(quiet_call(work_main, &g, &o), EXIT_DONE);
	T_ASSERT(units(1, "fetch", &b) == 0);
	T_EQ_INT(b.n[US_DONE], 2);
	T_ASSERT(units(1, "map", &b) == 0);
	T_EQ_INT(b.total, 2);
	T_EQ_INT(b.n[US_DONE], 2);
	T_ASSERT(units(1, "load", &b) == 0);
	T_EQ_INT(b.total, 2);
	T_EQ_INT(b.n[US_DONE], 2);
	T_ASSERT(run_row(1, &sr) == 0);
	T_EQ_STR(sr.status, "done");
	T_EQ_INT(sr.exit_code, EXIT_DONE);
	/* A worker that comes late finds the run finished. */
	T_EQ_INT(quiet_call(work_main, &g, &o), EXIT_DONE);
}

T_TEST(work_stage_stops_after_that_stage)
{
	struct cli_global g;
	struct work_opts o;
	struct by_state b;
	struct state_run sr;

	T_ASSERT(setup(&g, 2) == 0);
	T_EQ_INT(quiet_call(do_plan, &g, NULL), EXIT_DONE);
	opts(&o, 1);
	o.stage = "fetch";
	T_EQ_INT(quiet_call(work_main, &g, &o), EXIT_DONE);
	T_ASSERT(units(1, "fetch", &b) == 0);
	T_EQ_INT(b.n[US_DONE], 2);
	/* Fetch made the unpack units; nobody took them further. */
	T_ASSERT(units(1, "unpack", &b) == 0);
	T_EQ_INT(b.total, 2);
	T_EQ_INT(b.n[US_PENDING], 2);
	T_ASSERT(units(1, "map", &b) == 0);
	T_EQ_INT(b.total, 0);
	T_ASSERT(run_row(1, &sr) == 0);
	T_EQ_STR(sr.status, "running");
}

T_TEST(work_unknown_run_or_source_is_a_usage_error)
{
	struct cli_global g;
	struct work_opts o;

	T_ASSERT(setup(&g, 1) == 0);
	T_EQ_INT(quiet_call(do_plan, &g, NULL), EXIT_DONE);
	opts(&o, 42);
	T_EQ_INT(quiet_call(work_main, &g, &o), EXIT_USAGE);
	T_ASSERT(strstr(t_read_file("stderr.txt"), "42") != NULL);
	opts(&o, 1);
	o.source = "nosuch";
	T_EQ_INT(quiet_call(work_main, &g, &o), EXIT_USAGE);
	T_ASSERT(strstr(t_read_file("stderr.txt"), "no source named 'nosuch'"));
}

/* The store refuses to give up w1's leases (a trigger stands in for a
 * failing database): the work stands (exit 0), and the worker says that
 * its leases stay until they expire, with the store's reason. It used to
 * drop that error without a word. */
T_TEST(work_failed_lease_release_is_reported)
{
	struct cli_global g;
	struct work_opts o;
	struct state_run sr;
	sqlite3 *db = NULL;
	const char *out;
	int rc;

	T_ASSERT(setup(&g, 1) == 0);
	T_EQ_INT(quiet_call(do_plan, &g, NULL), EXIT_DONE);
	T_ASSERT(sqlite3_open("st/state.db", &db) == SQLITE_OK);
	rc = sqlite3_exec(
		db,
		"INSERT INTO leases(run_id, name, worker, lease_until, done)"
		" VALUES (1, 'stray', 'w1', 0, 0);"
		"CREATE TRIGGER keep_leases BEFORE UPDATE ON leases"
		" WHEN NEW.worker IS NULL AND OLD.done = 0"
		" BEGIN SELECT RAISE(ABORT, 'release refused by test'); END;",
		NULL, NULL, NULL);
	sqlite3_close(db);
	T_EQ_INT(rc, SQLITE_OK);
	opts(&o, 1);
	T_EQ_INT(quiet_call(work_main, &g, &o), EXIT_DONE);
	T_ASSERT(run_row(1, &sr) == 0);
	T_EQ_STR(sr.status, "done");
	out = t_read_file("stderr.txt");
	T_ASSERT(out != NULL);
	T_ASSERT(strstr(out, "worker w1: its leases of run 1 stay until they "
			     "expire") != NULL);
	T_ASSERT(strstr(out, "release refused by test") != NULL);
}
