/* t_state_park.c - parked units (pipeline/state_park.h) on SQLite: what
 * counts as parked, which units a later run retries in place, takeover by
 * a later run, an operator's retry request, and the open tree of a file
 * that holds back its after_load handling. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_park.h"
#include "t.h"

static int64_t add(struct state *st, int64_t run, const char *stage,
		   const char *scope, const char *key, int64_t parent,
		   int state, int cls)
{
	struct state_unit u;
	struct err e = ERR_INIT;

	memset(&u, 0, sizeof(u));
	u.run_id = run;
	snprintf(u.stage, sizeof(u.stage), "%s", stage);
	snprintf(u.scope, sizeof(u.scope), "%s", scope);
	snprintf(u.ukey, sizeof(u.ukey), "%s", key);
	u.parent = parent;
	u.state = state;
	u.err_class = cls;
	if (state_begin(st, &e) < 0 || state_unit_add(st, &u, &e) < 0 ||
	    state_unit_save(st, &u, &e) < 0 || state_commit(st, &e) < 0)
		return 0;
	return u.id;
}

static int new_run(struct state *st, int64_t *run, const char *status)
{
	struct err e = ERR_INIT;

	if (state_begin(st, &e) < 0 ||
	    state_run_create(st, "2026-11-20T06:00:00Z", "sha", run, &e) < 0 ||
	    (status && state_run_finish(st, *run, status, 1,
					"2026-11-20T06:01:00Z", &e) < 0) ||
	    state_commit(st, &e) < 0)
		return -1;
	return 0;
}

static int collect(void *ud, int64_t run)
{
	int64_t *v = ud;

	v[++v[0]] = run;
	return 0;
}

static int count(void *ud, const struct state_unit *u)
{
	(void)u;
	(*(int *)ud)++;
	return 0;
}

T_TEST(state_park_retry_due_by_class_and_request)
{
	struct state_unit u;

	memset(&u, 0, sizeof(u));
	u.state = US_FAILED;
	u.err_class = EC_TRANSIENT;
	T_ASSERT(state_park_retry_due(&u));
	u.err_class = EC_CONFIG;
	T_ASSERT(!state_park_retry_due(&u));
	u.retry_requested = 1;
	T_ASSERT(state_park_retry_due(&u));
	u.retried_in = 7;
	T_ASSERT(!state_park_retry_due(&u));
	u.retried_in = 0;
	u.state = US_DONE;
	T_ASSERT(!state_park_retry_due(&u));
}

T_TEST(state_park_runs_counts_supersede_request)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t r1, r2, r3, runs[8] = {0}, by[5], n, cfg_map, fetch;
	int listed = 0;

	T_OK(state_open("st", &st, &e), &e);
	T_ASSERT(new_run(st, &r1, "done") == 0);
	T_ASSERT(new_run(st, &r2, "failed") == 0);
	T_ASSERT(new_run(st, &r3, NULL) == 0); /* running: the current run */
	fetch = add(st, r1, "fetch", "stores", "a.csv", 0, US_FAILED,
		    EC_TRANSIENT);
	add(st, r1, "map", "stores", "b.csv", 0, US_FAILED, EC_TRANSIENT);
	cfg_map = add(st, r2, "map", "stores", "c.csv", 0, US_FAILED,
		      EC_CONFIG);
	add(st, r2, "deliver", "webshop", "delivery", 0, US_FAILED,
	    EC_CONFIG);
	add(st, r2, "load", "stores", "d.csv", 0, US_DONE, 0);
	add(st, r3, "map", "stores", "e.csv", 0, US_FAILED, EC_TRANSIENT);
	T_ASSERT(fetch && cfg_map);

	/* Only run 1 has a source unit due for a retry; the current run's
	 * own failure is not parked (its run is not concluded). */
	T_OK(state_park_runs_each(st, r3, collect, runs, &e), &e);
	T_EQ_INT(runs[0], 1);
	T_EQ_INT(runs[1], r1);
	T_OK(state_park_counts(st, by, &e), &e);
	T_EQ_INT(by[EC_TRANSIENT], 2);
	T_EQ_INT(by[EC_CONFIG], 2);
	T_OK(state_park_each(st, 0, count, &listed, &e), &e);
	T_EQ_INT(listed, 4);

	/* The operator asks for run 2: its config unit becomes due. */
	T_OK(state_park_request(st, 0, r2, &n, &e), &e);
	T_EQ_INT(n, 2);
	memset(runs, 0, sizeof(runs));
	T_OK(state_park_runs_each(st, r3, collect, runs, &e), &e);
	T_EQ_INT(runs[0], 2);
	T_EQ_INT(runs[2], r2);
	T_OK(state_park_request(st, 99999, 0, &n, &e), &e);
	T_EQ_INT(n, 0);

	/* A later run's listing takes the parked fetch over. */
	T_OK(state_park_count_scope(st, r3, "deliver", "webshop", &n, &e), &e);
	T_EQ_INT(n, 1);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_park_supersede(st, r3, "fetch", "stores", &n, &e), &e);
	T_OK(state_park_supersede(st, r3, "deliver", "webshop", NULL, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(n, 1);
	T_OK(state_park_count_scope(st, r3, "deliver", "webshop", &n, &e), &e);
	T_EQ_INT(n, 0);
	T_OK(state_park_counts(st, by, &e), &e);
	T_EQ_INT(by[EC_TRANSIENT], 1);
	T_EQ_INT(by[EC_CONFIG], 1);
	state_close(st);
}

T_TEST(state_park_tree_open_follows_parents)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t run, f, u, m1, m2, n;

	T_OK(state_open("st", &st, &e), &e);
	T_ASSERT(new_run(st, &run, NULL) == 0);
	f = add(st, run, "fetch", "s", "a.zip", 0, US_DONE, 0);
	u = add(st, run, "unpack", "s", "a.zip", f, US_DONE, 0);
	m1 = add(st, run, "map", "s", "a.zip!1.csv", u, US_DONE, 0);
	m2 = add(st, run, "map", "s", "a.zip!2.csv", u, US_QUARANTINED, 0);
	add(st, run, "load", "s", "a.zip!1.csv", m1, US_FAILED, EC_TRANSIENT);
	T_ASSERT(m2 != 0);
	T_OK(state_unit_tree_open(st, f, &n, &e), &e);
	T_EQ_INT(n, 1); /* the failed load holds the zip back */
	T_OK(state_unit_tree_open(st, m2, &n, &e), &e);
	T_EQ_INT(n, 0);
	state_close(st);
}

/* A retry in place that a crash cut short leaves a running (or a new
 * pending) unit in a concluded run: the next run must find that run. */
T_TEST(state_park_finds_a_retry_cut_short)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t r1, r2, r3, runs[8] = {0};

	T_OK(state_open("st", &st, &e), &e);
	T_ASSERT(new_run(st, &r1, "done") == 0);
	T_ASSERT(new_run(st, &r2, "done") == 0);
	T_ASSERT(new_run(st, &r3, NULL) == 0);
	add(st, r1, "map", "s", "a.csv", 0, US_RUNNING, 0);
	add(st, r2, "load", "s", "b.csv", 0, US_PENDING, 0);
	add(st, r2, "render", "t", "snapshot", 0, US_PENDING, 0);
	T_OK(state_park_runs_each(st, r3, collect, runs, &e), &e);
	T_EQ_INT(runs[0], 2);
	T_EQ_INT(runs[1], r1);
	T_EQ_INT(runs[2], r2);
	state_close(st);
}
