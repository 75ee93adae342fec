/* t_state_work.c - unit claims, leases and the load order for workers
 * (pipeline/state_work.h) on SQLite; tests/e2e/workers.sh runs the same
 * protocol with real worker processes on SQLite and PostgreSQL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_work.h"
#include "t.h"

static void nap_ms(int ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* Adds a unit of run 1 and returns its id (0 on failure). */
static int64_t add(struct state *st, const char *stage, const char *scope,
		   const char *key, int64_t parent, int state)
{
	struct state_unit u;
	struct err e = ERR_INIT;

	memset(&u, 0, sizeof(u));
	u.run_id = 1;
	snprintf(u.stage, sizeof(u.stage), "%s", stage);
	snprintf(u.scope, sizeof(u.scope), "%s", scope);
	snprintf(u.ukey, sizeof(u.ukey), "%s", key);
	u.parent = parent;
	u.state = state;
	if (state_begin(st, &e) < 0 || state_unit_add(st, &u, &e) < 0 ||
	    state_unit_save(st, &u, &e) < 0 || state_commit(st, &e) < 0)
		return 0;
	return u.id;
}

static int open_run(struct state **st)
{
	struct err e = ERR_INIT;
	int64_t run;

	if (state_open("st", st, &e) < 0 || state_begin(*st, &e) < 0 ||
	    state_run_create(*st, "2026-11-20T06:00:00Z", "sha", &run, &e) < 0 ||
	    state_commit(*st, &e) < 0)
		return -1;
	return run == 1 ? 0 : -1;
}

T_TEST(state_work_claims_oldest_of_stage_and_scope)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t f1, f2, m1, id;

	T_ASSERT(open_run(&st) == 0);
	f1 = add(st, "fetch", "a", "x", 0, US_PENDING);
	m1 = add(st, "map", "a", "z", 0, US_PENDING);
	f2 = add(st, "fetch", "b", "y", 0, US_PENDING);
	add(st, "load", "a", "l", 0, US_PENDING);
	add(st, "fetch", "a", "done", 0, US_DONE);
	T_ASSERT(f1 && f2 && m1);
	T_OK(state_work_claim(st, 1, "fetch", "b", "w1", 60000, &id, &e), &e);
	T_EQ_INT(id, f2);
	T_OK(state_work_claim(st, 1, STATE_WORK_SOURCES, NULL, "w1", 60000, &id,
			      &e),
	     &e);
	T_EQ_INT(id, f1);
	T_OK(state_work_claim(st, 1, STATE_WORK_SOURCES, NULL, "w2", 60000, &id,
			      &e),
	     &e);
	T_EQ_INT(id, m1);
	/* the load unit is never claimed, done units neither */
	T_OK(state_work_claim(st, 1, STATE_WORK_SOURCES, NULL, "w2", 60000, &id,
			      &e),
	     &e);
	T_EQ_INT(id, 0);
	T_OK(state_work_claim(st, 2, STATE_WORK_SOURCES, NULL, "w2", 60000, &id,
			      &e),
	     &e);
	T_EQ_INT(id, 0);
	/* a stage list that is not ours is refused, not put into SQL */
	T_ASSERT(state_work_claim(st, 1, "fetch;DROP", NULL, "w", 1, &id, &e) <
		 0);
	state_close(st);
}

T_TEST(state_work_expired_lease_is_claimed_again)
{
	struct state *st, *other;
	struct state_unit u;
	struct err e = ERR_INIT;
	int taken;
	int64_t f1, id;

	T_ASSERT(open_run(&st) == 0);
	T_OK(state_open("st", &other, &e), &e);
	f1 = add(st, "fetch", "a", "x", 0, US_PENDING);
	T_OK(state_work_claim(st, 1, "fetch", NULL, "w1", 40, &id, &e), &e);
	T_EQ_INT(id, f1);
	/* a live lease keeps it */
	T_OK(state_work_claim(other, 1, "fetch", NULL, "w2", 60000, &id, &e),
	     &e);
	T_EQ_INT(id, 0);
	/* a heartbeat extends it */
	T_OK(state_work_heartbeat(st, 1, "w1", f1, 60000, &taken, &e), &e);
	nap_ms(80);
	T_OK(state_work_claim(other, 1, "fetch", NULL, "w2", 60000, &id, &e),
	     &e);
	T_EQ_INT(id, 0);
	/* without heartbeats it runs out, and another worker takes it */
	T_OK(state_work_heartbeat(st, 1, "w1", f1, 1, &taken, &e), &e);
	nap_ms(20);
	T_OK(state_work_claim(other, 1, "fetch", NULL, "w2", 60000, &id, &e),
	     &e);
	T_EQ_INT(id, f1);
	/* the first worker can no longer record the unit: the fence */
	state_set_worker(st, "w1");
	T_OK(state_unit_get(st, f1, &u, &e), &e);
	u.state = US_DONE;
	T_ASSERT(state_unit_save(st, &u, &e) < 0);
	T_EQ_INT(e.code, E_BUSY);
	T_ASSERT(strstr(e.reason, "taken over") != NULL);
	/* the new owner can */
	err_clear(&e);
	state_set_worker(other, "w2");
	T_OK(state_unit_save(other, &u, &e), &e);
	/* a running unit left by a process without leases (a dead `run`) is
	 * claimable at once */
	id = add(st, "map", "a", "m", 0, US_RUNNING);
	T_ASSERT(id);
	T_OK(state_work_claim(other, 1, "map", NULL, "w2", 60000, &id, &e),
	     &e);
	T_ASSERT(id != 0);
	state_close(other);
	state_close(st);
}

T_TEST(state_work_take_respects_a_live_lease)
{
	struct state *st;
	struct err e = ERR_INIT;
	int taken;
	int64_t l, id;
	int got;

	T_ASSERT(open_run(&st) == 0);
	l = add(st, "load", "a", "l", 0, US_PENDING);
	T_OK(state_work_take(st, l, "w1", 60000, &got, &e), &e);
	T_EQ_INT(got, 1);
	/* running under w1's live lease: w2 may not */
	id = add(st, "fetch", "a", "f", 0, US_PENDING);
	T_OK(state_work_claim(st, 1, "fetch", NULL, "w1", 60000, &id, &e), &e);
	T_OK(state_work_take(st, id, "w2", 60000, &got, &e), &e);
	T_EQ_INT(got, 0);
	T_OK(state_work_take(st, id, "w1", 60000, &got, &e), &e);
	T_EQ_INT(got, 1);
	T_OK(state_work_heartbeat(st, 1, "w1", id, 1, &taken, &e), &e);
	nap_ms(20);
	T_OK(state_work_take(st, id, "w2", 60000, &got, &e), &e);
	T_EQ_INT(got, 1);
	state_close(st);
}

T_TEST(state_work_named_leases)
{
	struct state *st;
	struct err e = ERR_INIT;
	int taken;
	int got, done;

	T_ASSERT(open_run(&st) == 0);
	T_OK(state_lease_take(st, 1, "load", "w1", 60000, &got, &done, &e), &e);
	T_ASSERT(got && !done);
	T_OK(state_lease_take(st, 1, "load", "w2", 60000, &got, &done, &e), &e);
	T_ASSERT(!got && !done);
	/* the holder takes it again (idempotent) */
	T_OK(state_lease_take(st, 1, "load", "w1", 60000, &got, &done, &e), &e);
	T_ASSERT(got);
	/* given up on a clean exit: the next worker need not wait */
	T_OK(state_lease_release_all(st, 1, "w1", &e), &e);
	T_OK(state_lease_take(st, 1, "load", "w2", 60000, &got, &done, &e), &e);
	T_ASSERT(got && !done);
	/* expired */
	T_OK(state_work_heartbeat(st, 1, "w2", 0, 1, &taken, &e), &e);
	nap_ms(20);
	T_OK(state_lease_take(st, 1, "load", "w3", 60000, &got, &done, &e), &e);
	T_ASSERT(got);
	T_OK(state_lease_done(st, 1, "load", &e), &e);
	T_OK(state_lease_take(st, 1, "load", "w4", 60000, &got, &done, &e), &e);
	T_ASSERT(!got && done);
	/* leases are per run */
	T_OK(state_lease_take(st, 2, "load", "w4", 60000, &got, &done, &e), &e);
	T_ASSERT(got && !done);
	state_close(st);
}

T_TEST(state_work_counts_and_retry)
{
	struct state *st;
	struct state_work_counts c;
	struct err e = ERR_INIT;
	int taken;
	int64_t id, n;
	int got, done;

	T_ASSERT(open_run(&st) == 0);
	add(st, "fetch", "a", "1", 0, US_PENDING);
	add(st, "fetch", "a", "2", 0, US_PENDING);
	add(st, "fetch", "b", "3", 0, US_FAILED);
	add(st, "map", "a", "4", 0, US_DONE);
	add(st, "map", "a", "5", 0, US_QUARANTINED);
	add(st, "render", "t", "6", 0, US_PENDING);
	T_OK(state_work_claim(st, 1, "fetch", NULL, "w1", 60000, &id, &e), &e);
	T_OK(state_work_count(st, 1, STATE_WORK_SOURCES, NULL, &c, &e), &e);
	T_EQ_INT(c.pending, 1);
	T_EQ_INT(c.running, 1);
	T_EQ_INT(c.failed, 1);
	T_EQ_INT(c.finished, 2);
	T_OK(state_work_count(st, 1, STATE_WORK_SOURCES, "b", &c, &e), &e);
	T_EQ_INT(c.pending + c.running + c.finished, 0);
	T_EQ_INT(c.failed, 1);
	T_OK(state_work_count(st, 1, NULL, NULL, &c, &e), &e);
	T_EQ_INT(c.pending, 2);
	/* an expired lease counts as pending (someone must take it over) */
	T_OK(state_work_heartbeat(st, 1, "w1", id, 1, &taken, &e), &e);
	nap_ms(20);
	T_OK(state_work_count(st, 1, "fetch", NULL, &c, &e), &e);
	T_EQ_INT(c.pending, 2);
	T_EQ_INT(c.running, 0);
	/* retry: failed units pending again, the run's leases undone */
	T_OK(state_lease_take(st, 1, "load", "w1", 60000, &got, &done, &e), &e);
	T_OK(state_lease_done(st, 1, "load", &e), &e);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_work_retry_failed(st, 1, &n, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(n, 1);
	T_OK(state_work_count(st, 1, "fetch", "b", &c, &e), &e);
	T_EQ_INT(c.pending, 1);
	T_EQ_INT(c.failed, 0);
	T_OK(state_lease_take(st, 1, "load", "w1", 60000, &got, &done, &e), &e);
	T_ASSERT(got && !done);
	state_close(st);
}

struct order {
	int64_t ids[8];
	int n;
};

static int collect(void *ud, struct state_unit *u)
{
	struct order *o = ud;

	if (o->n < 8)
		o->ids[o->n++] = u->id;
	return 0;
}

T_TEST(state_work_load_units_in_file_order)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct order o = {{0}, 0};
	struct state_unit u;
	int64_t f1, f2, u1, u2, m1a, m1b, m2, l2, l1b, l1a;

	T_ASSERT(open_run(&st) == 0);
	/* Two files; the second's unpack and map finish first (another
	 * worker was faster), so its units have the lower ids. */
	f1 = add(st, "fetch", "s", "f1", 0, US_DONE);
	f2 = add(st, "fetch", "s", "f2", 0, US_DONE);
	u2 = add(st, "unpack", "s", "f2", f2, US_DONE);
	m2 = add(st, "map", "s", "f2", u2, US_DONE);
	u1 = add(st, "unpack", "s", "f1", f1, US_DONE);
	m1a = add(st, "map", "s", "f1!a", u1, US_DONE);
	m1b = add(st, "map", "s", "f1!b", u1, US_DONE);
	l2 = add(st, "load", "s", "f2", m2, US_PENDING);
	l1b = add(st, "load", "s", "f1!b", m1b, US_PENDING);
	l1a = add(st, "load", "s", "f1!a", m1a, US_PENDING);
	add(st, "load", "other", "x", m2, US_PENDING);
	T_OK(state_work_load_units_each(st, 1, "s", collect, &o, &e), &e);
	T_EQ_INT(o.n, 3);
	/* by file (fetch unit), then by member (map unit) */
	T_EQ_INT(o.ids[0], l1a);
	T_EQ_INT(o.ids[1], l1b);
	T_EQ_INT(o.ids[2], l2);
	/* a worker's walk leaves the done ones out, in the same order; the
	 * one process's walk (resume: its callback sees them) does not */
	state_unit_get(st, l1b, &u, &e);
	u.state = US_DONE;
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unit_save(st, &u, &e), &e);
	T_OK(state_commit(st, &e), &e);
	o.n = 0;
	T_OK(state_work_open_load_units_each(st, 1, "s", collect, &o, &e), &e);
	T_EQ_INT(o.n, 2);
	T_EQ_INT(o.ids[0], l1a);
	T_EQ_INT(o.ids[1], l2);
	o.n = 0;
	T_OK(state_work_load_units_each(st, 1, "s", collect, &o, &e), &e);
	T_EQ_INT(o.n, 3);
	state_close(st);
}

/* Only the load units of documents with txn_ids of their own are claimed
 * for loading in any order (work.c, load_parallel); a document whose
 * mapping names its txn_ids waits for the in-order walk. txn_own is
 * written per mapping, so a map unit mapped again may change it. */
T_TEST(state_work_claim_own_load_only_own_txn_ids)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t m1, m2, m3, l1, l2, l3, id;

	T_ASSERT(open_run(&st) == 0);
	m1 = add(st, "map", "s", "named.xml", 0, US_DONE);
	m2 = add(st, "map", "s", "own.csv", 0, US_DONE);
	m3 = add(st, "map", "s", "old.csv", 0, US_DONE);
	T_OK(state_work_txn_own(st, m1, 0, &e), &e);
	T_OK(state_work_txn_own(st, m2, 1, &e), &e);
	/* m3: never said (a unit of an older version): not its own */
	l1 = add(st, "load", "s", "named.xml", m1, US_PENDING);
	l2 = add(st, "load", "s", "own.csv", m2, US_PENDING);
	l3 = add(st, "load", "s", "old.csv", m3, US_PENDING);
	T_ASSERT(l1 && l2 && l3);
	T_OK(state_work_claim_own_load(st, 1, "w1", 60000, &id, &e), &e);
	T_EQ_INT(id, l2);
	T_OK(state_work_claim_own_load(st, 1, "w2", 60000, &id, &e), &e);
	T_EQ_INT(id, 0);
	/* the first document mapped again, now with txn_ids of its own */
	T_OK(state_work_txn_own(st, m1, 1, &e), &e);
	T_OK(state_work_claim_own_load(st, 1, "w2", 60000, &id, &e), &e);
	T_EQ_INT(id, l1);
	/* the plain claim still takes any load unit, the oldest first */
	T_OK(state_work_claim(st, 1, "load", NULL, "w3", 60000, &id, &e), &e);
	T_EQ_INT(id, l3);
	state_close(st);
}

/* The load lease's holder walks the documents that must go in order
 * first (work.c, named_first): the walk passes over the order-free ones
 * and keeps the arrival order of the rest. */
T_TEST(state_work_named_load_units_skip_own_txn_ids)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct order o = {{0}, 0};
	int64_t m1, m2, m3, m4, l1, l3, l4;

	T_ASSERT(open_run(&st) == 0);
	m1 = add(st, "map", "s", "a.xml", 0, US_DONE);
	m2 = add(st, "map", "s", "b.csv", 0, US_DONE);
	m3 = add(st, "map", "s", "c.csv", 0, US_DONE);
	m4 = add(st, "map", "s", "d.xml", 0, US_DONE);
	T_OK(state_work_txn_own(st, m1, 0, &e), &e);
	T_OK(state_work_txn_own(st, m2, 1, &e), &e);
	/* m3: never said (a unit of an older version): not its own */
	T_OK(state_work_txn_own(st, m4, 0, &e), &e);
	l1 = add(st, "load", "s", "a.xml", m1, US_PENDING);
	T_ASSERT(add(st, "load", "s", "b.csv", m2, US_PENDING) > 0);
	l3 = add(st, "load", "s", "c.csv", m3, US_PENDING);
	l4 = add(st, "load", "s", "d.xml", m4, US_DONE);
	add(st, "load", "other", "x.xml", m1, US_PENDING);
	T_OK(state_work_named_load_units_each(st, 1, "s", collect, &o, &e),
	     &e);
	T_EQ_INT(o.n, 2);  /* not l4: done (read only to be skipped) */
	T_EQ_INT(o.ids[0], l1);
	T_EQ_INT(o.ids[1], l3);
	T_ASSERT(l4 > 0);
	state_close(st);
}

/* A callback's error (-1 with err set) is the walk's error: the caller
 * (run.c's load loop) must not go on as if every unit had loaded. A
 * positive return only stops the walk. */
static int fail_first(void *ud, struct state_unit *u)
{
	struct err *e = ud;

	(void)u;
	return err_set(e, E_IO, "store gone");
}

static int stop_first(void *ud, struct state_unit *u)
{
	(void)u;
	(*(int *)ud)++;
	return 1;
}

T_TEST(state_work_load_units_callback_error_returned)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t f, u, m;
	int calls = 0;

	T_ASSERT(open_run(&st) == 0);
	f = add(st, "fetch", "s", "f", 0, US_DONE);
	u = add(st, "unpack", "s", "f", f, US_DONE);
	m = add(st, "map", "s", "f", u, US_DONE);
	add(st, "load", "s", "f", m, US_PENDING);
	add(st, "load", "s", "g", m, US_PENDING);
	T_EQ_INT(state_work_load_units_each(st, 1, "s", fail_first, &e, &e),
		 -1);
	T_EQ_INT(e.code, E_IO);
	err_clear(&e);
	T_OK(state_work_load_units_each(st, 1, "s", stop_first, &calls, &e),
	     &e);
	T_EQ_INT(calls, 1);
	state_close(st);
}

T_TEST(state_work_heartbeat_renews_only_the_current_unit)
{
	struct state *st, *other;
	struct err e = ERR_INIT;
	int64_t a, b, id;
	int taken;

	T_ASSERT(open_run(&st) == 0);
	T_OK(state_open("st", &other, &e), &e);
	a = add(st, "fetch", "a", "x", 0, US_PENDING);
	b = add(st, "fetch", "a", "y", 0, US_PENDING);
	T_OK(state_work_claim(st, 1, "fetch", NULL, "w1", 40, &id, &e), &e);
	T_EQ_INT(id, a);
	T_OK(state_work_claim(st, 1, "fetch", NULL, "w1", 40, &id, &e), &e);
	T_EQ_INT(id, b);
	/* the loop works on b now: a, left behind, is not kept alive */
	T_OK(state_work_heartbeat(st, 1, "w1", b, 60000, &taken, &e), &e);
	T_EQ_INT(taken, 0);
	nap_ms(80);
	T_OK(state_work_claim(other, 1, "fetch", NULL, "w2", 60000, &id, &e),
	     &e);
	T_EQ_INT(id, a);
	/* b's lease runs out too, w2 takes it over: w1's next beat says so */
	T_OK(state_work_heartbeat(st, 1, "w1", b, 1, &taken, &e), &e);
	nap_ms(20);
	T_OK(state_work_claim(other, 1, "fetch", NULL, "w2", 60000, &id, &e),
	     &e);
	T_EQ_INT(id, b);
	T_OK(state_work_heartbeat(st, 1, "w1", b, 60000, &taken, &e), &e);
	T_EQ_INT(taken, 1);
	/* and did not renew w2's lease under w1's name */
	T_OK(state_work_heartbeat(other, 1, "w2", b, 60000, &taken, &e), &e);
	T_EQ_INT(taken, 0);
	state_close(other);
	state_close(st);
}

/* The unit's columns a worker uses after a claim, both ways read. */
static void same_unit(const struct state_unit *a, const struct state_unit *b)
{
	T_EQ_INT(a->id, b->id);
	T_EQ_INT(a->run_id, b->run_id);
	T_EQ_INT(a->parent, b->parent);
	T_EQ_STR(a->stage, b->stage);
	T_EQ_STR(a->scope, b->scope);
	T_EQ_STR(a->ukey, b->ukey);
	T_EQ_INT(a->state, b->state);
	T_EQ_INT(a->attempts, b->attempts);
	T_EQ_STR(a->input_path, b->input_path);
	T_EQ_STR(a->error, b->error);
	T_EQ_INT(a->started_ms, b->started_ms);
	T_EQ_INT(a->outcome, b->outcome);
	T_ASSERT(!memcmp(a, b, sizeof(*a)));
}

/* The claim's returned row is the unit as state_unit_get reads it after
 * the claim: the worker reads nothing more before it works the unit. */
T_TEST(state_work_claim_returns_the_claimed_row)
{
	struct state *st;
	struct state_unit *c = malloc(sizeof(*c)), *g = malloc(sizeof(*g));
	struct err e = ERR_INIT;
	int64_t m, l, got_id;
	int got;

	T_ASSERT(c && g);
	T_ASSERT(open_run(&st) == 0);
	m = add(st, "map", "a", "m", 0, US_PENDING);
	l = add(st, "load", "a", "l", m, US_PENDING);
	T_OK(state_unit_get(st, m, g, &e), &e);
	g->attempts = 3;
	snprintf(g->input_path, sizeof(g->input_path), "inbox/a/m.csv");
	snprintf(g->error, sizeof(g->error), "an earlier attempt");
	g->started_ms = 1234;
	g->outcome = 2;
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unit_save(st, g, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_work_claim_unit(st, 1, "map", NULL, "w1", 60000, c, &e), &e);
	T_EQ_INT(c->id, m);
	T_EQ_INT(c->state, US_RUNNING);
	T_OK(state_unit_get(st, m, g, &e), &e);
	same_unit(c, g);
	/* nothing left: id 0 */
	T_OK(state_work_claim_unit(st, 1, "map", NULL, "w1", 60000, c, &e), &e);
	T_EQ_INT(c->id, 0);
	/* the load claim of own-txn documents, the same way */
	T_OK(state_work_txn_own(st, m, 1, &e), &e);
	T_OK(state_work_claim_own_load_unit(st, 1, "w2", 60000, c, &e), &e);
	T_EQ_INT(c->id, l);
	T_OK(state_unit_get(st, l, g, &e), &e);
	same_unit(c, g);
	/* the id-only claim still says the id */
	add(st, "fetch", "a", "f", 0, US_PENDING);
	T_OK(state_work_claim(st, 1, "fetch", NULL, "w1", 60000, &got_id, &e),
	     &e);
	T_ASSERT(got_id > l);
	/* a take returns the row as it is now, not as a walk read it
	 * earlier: here another worker finished it in between */
	T_OK(state_unit_get(st, l, g, &e), &e);
	g->state = US_DONE;
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unit_save(st, g, &e), &e);
	T_OK(state_commit(st, &e), &e);
	c->state = US_PENDING;
	T_OK(state_work_take_unit(st, l, "w3", 60000, &got, c, &e), &e);
	T_EQ_INT(got, 1);
	T_EQ_INT(c->state, US_DONE);
	T_OK(state_unit_get(st, l, g, &e), &e);
	same_unit(c, g);
	state_close(st);
	free(c);
	free(g);
}

/* state_tx_holds: a transaction that saved the unit under this worker's
 * name holds it to the commit (the worker's commit check asks no more);
 * one that saved it while another worker holds it (a unit not running
 * any more passes the save's fence) does not, nor does the next
 * transaction. A refused save names the unit (state_unit_refused). */
T_TEST(state_work_save_says_whose_the_unit_is)
{
	struct state *st, *other;
	struct state_unit *u = malloc(sizeof(*u));
	struct err e = ERR_INIT;
	int64_t f;
	int taken;

	T_ASSERT(u != NULL);
	T_ASSERT(open_run(&st) == 0);
	T_OK(state_open("st", &other, &e), &e);
	f = add(st, "fetch", "a", "x", 0, US_PENDING);
	state_set_worker(st, "w1");
	state_set_worker(other, "w2");
	T_OK(state_work_claim_unit(st, 1, "fetch", NULL, "w1", 60000, u, &e),
	     &e);
	T_EQ_INT(u->id, f);
	T_EQ_INT(state_tx_holds(st, f), 0);
	T_OK(state_begin_rows(st, &e), &e);
	T_EQ_INT(state_tx_holds(st, f), 0);
	T_OK(state_unit_save(st, u, &e), &e);
	T_EQ_INT(state_tx_holds(st, f), 1);
	T_EQ_INT(state_tx_holds(st, f + 1), 0);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(state_tx_holds(st, f), 0);
	/* the next transaction starts holding nothing; a rollback ends it
	 * too */
	T_OK(state_begin(st, &e), &e);
	T_EQ_INT(state_tx_holds(st, f), 0);
	T_OK(state_unit_save(st, u, &e), &e);
	T_EQ_INT(state_tx_holds(st, f), 1);
	state_rollback(st);
	T_EQ_INT(state_tx_holds(st, f), 0);
	/* w2 takes it over and finishes it: w1's save passes the fence (the
	 * unit is not running) but does not hold it */
	T_OK(state_work_heartbeat(st, 1, "w1", f, 1, &taken, &e), &e);
	nap_ms(20);
	T_OK(state_work_claim_unit(other, 1, "fetch", NULL, "w2", 60000, u,
				   &e), &e);
	T_EQ_INT(u->id, f);
	u->state = US_DONE;
	T_OK(state_begin(other, &e), &e);
	T_OK(state_unit_save(other, u, &e), &e);
	T_EQ_INT(state_tx_holds(other, f), 1);
	T_OK(state_commit(other, &e), &e);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unit_save(st, u, &e), &e);
	T_EQ_INT(state_tx_holds(st, f), 0);
	state_rollback(st);
	/* refused while w2 runs it */
	T_EQ_INT(state_unit_refused(st), 0);
	u->state = US_RUNNING;
	T_OK(state_begin(other, &e), &e);
	T_OK(state_unit_save(other, u, &e), &e);
	T_OK(state_commit(other, &e), &e);
	T_OK(state_begin(st, &e), &e);
	u->state = US_DONE;
	T_ASSERT(state_unit_save(st, u, &e) < 0);
	T_EQ_INT(e.code, E_BUSY);
	T_EQ_INT(state_tx_holds(st, f), 0);
	state_rollback(st);
	T_EQ_INT(state_unit_refused(st), f);
	state_unit_refused_reset(st);
	T_EQ_INT(state_unit_refused(st), 0);
	/* one process (no worker name) never holds: it has no commit check */
	state_set_worker(other, NULL);
	T_OK(state_begin(other, &e), &e);
	T_OK(state_unit_save(other, u, &e), &e);
	T_EQ_INT(state_tx_holds(other, f), 0);
	state_rollback(other);
	state_close(other);
	state_close(st);
	free(u);
}

/* state_unit_add: a new unit's id from its INSERT, an existing one's by
 * its key (the same id again). */
T_TEST(state_work_unit_add_new_and_existing)
{
	struct state *st;
	int64_t a, b, c;

	T_ASSERT(open_run(&st) == 0);
	a = add(st, "fetch", "a", "x", 0, US_PENDING);
	b = add(st, "fetch", "a", "y", 0, US_PENDING);
	c = add(st, "fetch", "a", "x", 0, US_DONE);
	T_ASSERT(a > 0 && b > a);
	T_EQ_INT(c, a);
	state_close(st);
}
