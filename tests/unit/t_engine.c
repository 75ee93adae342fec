/* t_engine.c - the unit state machine and the transaction helper
 * (pipeline/engine.h) against a real SQLite store in the test's directory:
 * start, finish with a successor, fail (with its class) and retry,
 * quarantine, interruption, the commit or rollback of eng_tx_end, and the
 * run's exit code when a unit is left parked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/io.h"
#include "lib/log.h"
#include "pipeline/engine.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_park.h"
#include "t.h"

struct fixture {
	struct cli_global g;
	struct run_opts o;
	struct config cfg;
	struct run r;
};

/* A run of its own in a fresh store: no config file, no retries, no
 * waits. */
static int fixture_open(struct fixture *f, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->g.quiet = 1;
	f->o.mode = RUN_NEW;
	f->cfg.state_dir = t_dir;
	strcpy(f->cfg.sha256, "cfgsha");
	f->r.g = &f->g;
	f->r.o = &f->o;
	f->r.cfg = &f->cfg;
	if (state_open("st", &f->r.st, e) < 0)
		return -1;
	return eng_run_new(&f->r, e);
}

static void fixture_close(struct fixture *f)
{
	state_close(f->r.st);
}

/* Unit id as the store has it now. */
static int stored(struct fixture *f, int64_t id, struct state_unit *u)
{
	struct err e = ERR_INIT;

	return state_unit_get(f->r.st, id, u, &e);
}

/* A pending unit recorded in the store. */
static int add_unit(struct fixture *f, struct state_unit *u, int stage,
		    const char *key, struct err *e)
{
	eng_unit_init(u, &f->r, stage, "src", key);
	if (eng_tx_begin(f->r.st, e) < 0 ||
	    eng_tx_end(f->r.st,
		       state_unit_add(f->r.st, u, e) < 0 ||
			       state_unit_save(f->r.st, u, e) < 0,
		       e) < 0)
		return -1;
	return 0;
}

T_TEST(engine_run_new_numbers_runs)
{
	struct fixture f;
	struct err e = ERR_INIT;
	int64_t first;

	T_OK(fixture_open(&f, &e), &e);
	first = f.r.run_id;
	T_ASSERT(first > 0);
	T_OK(eng_run_new(&f.r, &e), &e);
	T_EQ_INT(f.r.run_id, first + 1);
	fixture_close(&f);
}

T_TEST(engine_tx_end_commits_on_zero)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, got;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_FETCH, "a.csv", &e), &e);
	T_ASSERT(u.id > 0);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_STR(got.ukey, "a.csv");
	T_EQ_INT(got.state, US_PENDING);
	fixture_close(&f);
}

T_TEST(engine_tx_end_rolls_back_on_failure)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, got;
	int64_t id;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_FETCH, "a.csv", &e), &e);
	id = u.id;
	/* A step that changed the unit, then a step that failed: the
	 * change is rolled back, the step's error is kept, and the store
	 * takes the next transaction. */
	T_OK(eng_tx_begin(f.r.st, &e), &e);
	u.state = US_DONE;
	T_OK(state_unit_save(f.r.st, &u, &e), &e);
	err_set(&e, E_IO, "the second step failed");
	T_EQ_INT(eng_tx_end(f.r.st, -1, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, "second step") != NULL);
	T_OK(stored(&f, id, &got), &e);
	T_EQ_INT(got.state, US_PENDING);
	/* Any nonzero rc rolls back (a step written as "a < 0 || b < 0"). */
	T_OK(eng_tx_begin(f.r.st, &e), &e);
	T_OK(state_unit_save(f.r.st, &u, &e), &e);
	T_EQ_INT(eng_tx_end(f.r.st, 1, &e), -1);
	T_OK(stored(&f, id, &got), &e);
	T_EQ_INT(got.state, US_PENDING);
	err_clear(&e);
	T_OK(eng_tx_begin(f.r.st, &e), &e);
	T_OK(eng_tx_end(f.r.st, 0, &e), &e);
	fixture_close(&f);
}

T_TEST(engine_unit_start_then_finish_adds_successor)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, next, got;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_FETCH, "a.csv", &e), &e);
	T_OK(eng_unit_start(&f.r, &u, &e), &e);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_RUNNING);
	T_EQ_INT(got.attempts, 1);
	T_EQ_INT(f.r.worked, 1);

	eng_unit_init(&next, &f.r, ST_UNPACK, "src", "a.csv");
	next.parent = u.id;
	strcpy(next.input_path, "inbox/src/a.csv");
	T_OK(eng_unit_finish(&f.r, &u, &next, &e), &e);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_DONE);
	T_ASSERT(got.finished_ms >= got.started_ms);
	T_ASSERT(next.id > 0);
	T_OK(stored(&f, next.id, &got), &e);
	T_EQ_STR(got.stage, "unpack");
	T_EQ_INT(got.state, US_PENDING);
	T_EQ_INT(got.parent, u.id);

	/* Finishing again (a resumed run redoes the unit): the successor is
	 * the same unit, pointed at the new input and pending again. */
	{
		struct state_unit again;
		int64_t first = next.id;

		T_OK(stored(&f, next.id, &got), &e);
		got.state = US_FAILED;
		T_OK(eng_tx_begin(f.r.st, &e), &e);
		T_OK(eng_tx_end(f.r.st, state_unit_save(f.r.st, &got, &e), &e),
		     &e);
		eng_unit_init(&again, &f.r, ST_UNPACK, "src", "a.csv");
		again.parent = u.id;
		strcpy(again.input_path, "inbox/src/a2.csv");
		T_OK(eng_unit_finish(&f.r, &u, &again, &e), &e);
		T_EQ_INT(again.id, first);
		T_OK(stored(&f, first, &got), &e);
		T_EQ_INT(got.state, US_PENDING);
		T_EQ_STR(got.input_path, "inbox/src/a2.csv");
	}
	fixture_close(&f);
}

/* eng_unit_commit: with again, the commit is counted in the unit's
 * duration (its finish time saved again after it); without, the finish
 * time the committed transaction saved stands. */
T_TEST(engine_unit_commit_counts_a_long_commit)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, got;
	int64_t before;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_LOAD, "a.csv", &e), &e);
	T_OK(eng_unit_start(&f.r, &u, &e), &e);
	/* the stage's transaction, with a finish time long past */
	T_OK(eng_tx_begin_rows(f.r.st, &e), &e);
	u.state = US_DONE;
	u.finished_ms = u.started_ms - 5000;
	T_OK(state_unit_save(f.r.st, &u, &e), &e);
	before = eng_now_ms();
	T_OK(eng_unit_commit(&f.r, &u, 1, &e), &e);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_DONE);
	T_ASSERT(got.finished_ms >= before);
	T_EQ_INT(got.finished_ms, u.finished_ms);

	/* not again: the saved time stands */
	T_OK(eng_tx_begin_rows(f.r.st, &e), &e);
	u.finished_ms = u.started_ms - 5000;
	T_OK(state_unit_save(f.r.st, &u, &e), &e);
	T_OK(eng_unit_commit(&f.r, &u, 0, &e), &e);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.finished_ms, u.started_ms - 5000);
	fixture_close(&f);
}

T_TEST(engine_unit_fail_records_error_and_class)
{
	struct fixture f;
	struct err e = ERR_INIT, why = ERR_INIT;
	struct state_unit u, got;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_MAP, "a.csv", &e), &e);
	T_OK(eng_unit_start(&f.r, &u, &e), &e);
	err_set(&why, E_NET, "the partner's server did not answer");
	/* 0: what a stage returns for a failure it recorded. */
	T_EQ_INT(eng_unit_fail(&f.r, &u, &why), 0);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_FAILED);
	T_EQ_INT(got.err_class, EC_TRANSIENT);
	T_ASSERT(strstr(got.error, "did not answer") != NULL);
	T_EQ_INT(f.r.last.code, E_NET);
	fixture_close(&f);
}

T_TEST(engine_unit_quarantine_has_no_class)
{
	struct fixture f;
	struct err e = ERR_INIT, why = ERR_INIT;
	struct state_unit u, got;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_MAP, "a.csv", &e), &e);
	T_OK(eng_unit_start(&f.r, &u, &e), &e);
	err_set(&why, E_PARSE, "not a document");
	T_EQ_INT(eng_unit_quarantine(&f.r, &u, &why), 0);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_QUARANTINED);
	T_EQ_INT(got.err_class, EC_NONE);
	/* A quarantine is no failure of the run. */
	T_EQ_INT(f.r.last.code, E_NONE);
	fixture_close(&f);
}

T_TEST(engine_unit_interrupted_goes_back_to_pending)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, got;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_LOAD, "a.csv", &e), &e);
	T_OK(eng_unit_start(&f.r, &u, &e), &e);
	T_EQ_INT(eng_unit_interrupted(&f.r, &u), 1);
	T_EQ_INT(f.r.interrupted, 1);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_PENDING);
	T_EQ_STR(got.error, "");
	fixture_close(&f);
}

/* A stage that fails transiently `fails` times, then finishes. */
struct flaky {
	struct fixture *f;
	int fails, calls;
	int cls;
};

static int flaky_stage(void *ud, struct state_unit *u)
{
	struct flaky *k = ud;
	struct err e = ERR_INIT;

	k->calls++;
	if (eng_unit_start(&k->f->r, u, &e) < 0)
		return -1;
	if (k->calls <= k->fails) {
		if (k->cls == EC_TRANSIENT)
			err_set(&e, E_NET, "try %d timed out", k->calls);
		else
			err_set(&e, E_CONFIG, "try %d: bad mapping", k->calls);
		return eng_unit_fail(&k->f->r, u, &e);
	}
	if (eng_unit_finish(&k->f->r, u, NULL, &e) < 0)
		return eng_unit_fail(&k->f->r, u, &e);
	return 0;
}

T_TEST(engine_unit_call_retries_transient_then_done)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, got;
	struct flaky k;
	struct eng_call c;

	T_OK(fixture_open(&f, &e), &e);
	f.cfg.retries = 2;
	T_OK(add_unit(&f, &u, ST_FETCH, "a.csv", &e), &e);
	memset(&k, 0, sizeof(k));
	k.f = &f;
	k.fails = 2;
	k.cls = EC_TRANSIENT;
	c.r = &f.r;
	c.fn = flaky_stage;
	c.ud = &k;
	c.parked_only = 0;
	T_EQ_INT(eng_unit_call(&c, &u), 0);
	T_EQ_INT(k.calls, 3);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_DONE);
	T_EQ_INT(got.attempts, 3);
	T_EQ_INT(f.r.failed_units, 0);
	T_EQ_INT(f.r.advanced, 1);
	T_EQ_INT(f.r.advanced_in[ST_FETCH], 1);
	fixture_close(&f);
}

T_TEST(engine_unit_call_parks_what_is_not_transient)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, got;
	struct flaky k;
	struct eng_call c;

	T_OK(fixture_open(&f, &e), &e);
	f.cfg.retries = 2;
	T_OK(add_unit(&f, &u, ST_MAP, "a.csv", &e), &e);
	memset(&k, 0, sizeof(k));
	k.f = &f;
	k.fails = 5;
	k.cls = EC_CONFIG;
	c.r = &f.r;
	c.fn = flaky_stage;
	c.ud = &k;
	c.parked_only = 0;
	T_EQ_INT(eng_unit_call(&c, &u), 0);
	/* A configuration error is not retried: once, then parked. */
	T_EQ_INT(k.calls, 1);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_FAILED);
	T_EQ_INT(got.err_class, EC_CONFIG);
	T_EQ_INT(f.r.failed_units, 1);
	T_EQ_INT(f.r.first.code, E_CONFIG);
	T_EQ_INT(f.r.advanced, 0);
	fixture_close(&f);
}

T_TEST(engine_conclude_exit_code_by_error_class)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u;
	struct flaky k;
	struct eng_call c;
	struct state_run sr;
	int code;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(io_mkdirs("reports", &e), &e);
	T_OK(add_unit(&f, &u, ST_MAP, "a.csv", &e), &e);
	memset(&k, 0, sizeof(k));
	k.f = &f;
	k.fails = 1;
	k.cls = EC_CONFIG;
	c.r = &f.r;
	c.fn = flaky_stage;
	c.ud = &k;
	c.parked_only = 0;
	T_EQ_INT(eng_unit_call(&c, &u), 0);
	/* Nothing advanced and what is parked is a configuration error:
	 * the run fails with 78 and says so in the store. */
	code = eng_conclude(&f.r, &e);
	T_EQ_INT(code, EXIT_CONFIG);
	T_OK(state_run_get(f.r.st, f.r.run_id, &sr, &e), &e);
	T_EQ_STR(sr.status, "failed");
	T_EQ_INT(sr.exit_code, EXIT_CONFIG);
	fixture_close(&f);
}

/* A value longer than its unit field is an error naming the field, never
 * a cut copy. */
T_TEST(engine_field_too_long_is_an_error)
{
	struct state_unit u;
	struct err e = ERR_INIT;
	char big[5000];

	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(eng_field(u.output_path, sizeof(u.output_path), "/x/y",
			   "output path", &e),
		 0);
	T_EQ_STR(u.output_path, "/x/y");
	T_EQ_INT(eng_field(u.output_path, sizeof(u.output_path), big,
			   "output path", &e),
		 -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_ASSERT(strstr(e.reason, "output path too long (4999 bytes, at "
				  "most 4095)") != NULL);
}

/* eng_unit_finish_with: the extra write (the map's txn_own) commits in
 * the finish's transaction, with the unit done and its successor added
 * (one commit, not two); when it fails, none of them is committed. */
struct also_arg {
	struct fixture *f;
	int64_t unit;
	int fail;
};

static int also_write(void *ud, struct err *err)
{
	struct also_arg *a = ud;
	struct state_unit u;

	/* a unit_deps row: any write of the store will do */
	if (state_unit_get(a->f->r.st, a->unit, &u, err) < 0 ||
	    state_unit_dep_add(a->f->r.st, &u, "m.yaml", "sha", 1, err) < 0)
		return -1;
	if (a->fail)
		return err_set(err, E_IO, "planted");
	return 0;
}

static int count_dep(void *ud, const struct state_dep *d)
{
	(void)d;
	(*(int *)ud)++;
	return 0;
}

T_TEST(engine_unit_finish_with_writes_in_the_same_transaction)
{
	struct fixture f;
	struct err e = ERR_INIT;
	struct state_unit u, next, got;
	struct also_arg a;
	int deps = 0;

	T_OK(fixture_open(&f, &e), &e);
	T_OK(add_unit(&f, &u, ST_MAP, "a.csv", &e), &e);
	T_OK(eng_unit_start(&f.r, &u, &e), &e);
	a.f = &f;
	a.unit = u.id;
	a.fail = 1;
	eng_unit_init(&next, &f.r, ST_LOAD, "src", "a.csv");
	next.parent = u.id;
	T_ASSERT(eng_unit_finish_with(&f.r, &u, &next, also_write, &a, &e) < 0);
	/* rolled back with the unit's save: the write was in the finish's
	 * transaction, not committed on its own */
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_RUNNING);
	T_OK(state_unit_deps_each(f.r.st, &got, count_dep, &deps, &e), &e);
	T_EQ_INT(deps, 0);
	err_clear(&e);
	a.fail = 0;
	eng_unit_init(&next, &f.r, ST_LOAD, "src", "a.csv");
	next.parent = u.id;
	T_OK(eng_unit_finish_with(&f.r, &u, &next, also_write, &a, &e), &e);
	T_OK(stored(&f, u.id, &got), &e);
	T_EQ_INT(got.state, US_DONE);
	T_ASSERT(next.id > 0);
	T_OK(state_unit_deps_each(f.r.st, &got, count_dep, &deps, &e), &e);
	T_EQ_INT(deps, 1);
	/* eng_unit_start named the unit in the log; eng_unit_call would
	 * clear it */
	log_set_unit(NULL, NULL, NULL);
	fixture_close(&f);
}
