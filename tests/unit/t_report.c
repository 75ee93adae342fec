/* t_report.c - the run report of a small run built in a SQLite store:
 * counts per stage and source, the notes (failed, quarantined, rejects),
 * the JSON object and the text table; report_write's file. The units are
 * written directly, as the stages would leave them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/report/report.h"
#include "pipeline/store/state.h"
#include "t.h"

struct unit_spec {
	const char *stage, *scope, *ukey;
	int state;
	int64_t in, out, rejects, dupes;
	const char *error;
	int err_class;
};

/* Two files of source "stores": a.csv mapped with 2 rejects and loaded
 * (one duplicate record), b.csv quarantined; the webshop render done, its
 * delivery failed (transient). */
static const struct unit_spec small_run[] = {
	{"fetch", "stores", "a.csv", US_DONE, 0, 0, 0, 0, "", 0},
	{"fetch", "stores", "b.csv", US_DONE, 0, 0, 0, 0, "", 0},
	{"map", "stores", "a.csv", US_DONE, 10, 8, 2, 0, "", 0},
	{"map", "stores", "b.csv", US_QUARANTINED, 0, 0, 0, 0,
	 "no column 'qty'", 0},
	{"load", "stores", "a.csv", US_DONE, 8, 7, 0, 1, "", 0},
	{"render", "webshop", "snapshot", US_DONE, 7, 7, 0, 0, "", 0},
	{"deliver", "webshop", "snapshot", US_FAILED, 0, 0, 0, 0,
	 "connection refused", EC_TRANSIENT},
};

static int starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* Opens a store in "st" with run 1 holding the units above (t_metrics.c
 * uses it too). */
int t_small_run_store(struct state **st, int64_t *run, struct err *e)
{
	size_t i;

	if (state_open("st", st, e) < 0 || state_begin(*st, e) < 0 ||
	    state_run_create(*st, "2026-11-20T06:00:00Z", "abc", run, e) < 0)
		return -1;
	for (i = 0; i < sizeof(small_run) / sizeof(small_run[0]); i++) {
		const struct unit_spec *s = &small_run[i];
		struct state_unit *u = calloc(1, sizeof(*u));
		int rc;

		if (!u)
			return err_set(e, E_NOMEM, "out of memory");
		u->run_id = *run;
		snprintf(u->stage, sizeof(u->stage), "%s", s->stage);
		snprintf(u->scope, sizeof(u->scope), "%s", s->scope);
		snprintf(u->ukey, sizeof(u->ukey), "%s", s->ukey);
		rc = state_unit_add(*st, u, e);
		u->state = s->state;
		u->records_in = s->in;
		u->records_out = s->out;
		u->rejects = s->rejects;
		u->dupes = s->dupes;
		u->started_ms = 1000;
		u->finished_ms = 1250;
		u->err_class = s->err_class;
		snprintf(u->error, sizeof(u->error), "%s", s->error);
		if (!rc)
			rc = state_unit_save(*st, u, e);
		free(u);
		if (rc < 0)
			return -1;
	}
	return state_commit(*st, e);
}

T_TEST(report_build_small_run_counts)
{
	struct state *st = NULL;
	struct report rep;
	struct err e = ERR_INIT;
	int64_t run = 0;

	T_OK(t_small_run_store(&st, &run, &e), &e);
	T_EQ_INT(run, 1);
	T_OK(report_build(st, run, &rep, &e), &e);
	state_close(st);
	T_EQ_INT(rep.stage[0].units[US_DONE], 2);
	T_EQ_INT(rep.stage[2].units[US_DONE], 1);
	T_EQ_INT(rep.stage[2].units[US_QUARANTINED], 1);
	T_EQ_INT(rep.stage[2].records_in, 10);
	T_EQ_INT(rep.stage[2].records_out, 8);
	T_EQ_INT(rep.stage[3].dupes, 1);
	T_EQ_INT(rep.stage[5].units[US_FAILED], 1);
	/* Two units of 250 ms each in fetch. */
	T_EQ_INT(rep.stage[0].ms, 500);
	T_EQ_INT(rep.rejects, 2);
	T_EQ_INT(rep.quarantined, 1);
	T_EQ_INT(rep.failed, 1);
	T_EQ_INT(rep.dupes, 1);
	T_EQ_INT(rep.delivered, 0);
	T_EQ_INT(rep.nothing_to_do, 0);
	T_EQ_INT(rep.nsrc, 1);
	T_EQ_STR(rep.src[0].name, "stores");
	T_EQ_INT(rep.src[0].rejects, 2);
	T_EQ_INT(rep.src[0].dupes, 1);
	T_EQ_STR(rep.notes.ptr,
		 "  rejects stores 'a.csv': 2, see the rejects folder\n"
		 "  QUARANTINED stores 'b.csv': no column 'qty'\n"
		 "  warning stores 'a.csv': 1 duplicate record not loaded "
		 "again (txn_id or interchange loaded before)\n"
		 "  PARKED deliver webshop 'snapshot' (transient): "
		 "connection refused\n");
	report_release(&rep);
}

T_TEST(report_json_and_text_of_small_run)
{
	struct state *st = NULL;
	struct report rep;
	struct err e = ERR_INIT;
	struct buf j = BUF_INIT(1 << 20);
	int64_t run = 0;
	FILE *f;

	T_OK(t_small_run_store(&st, &run, &e), &e);
	T_OK(report_build(st, run, &rep, &e), &e);
	state_close(st);
	snprintf(rep.status, sizeof(rep.status), "failed");
	rep.exit_code = 75;
	T_EQ_INT(report_json(&rep, &j), 0);
	buf_addc(&j, '\0');
	T_ASSERT(starts(j.ptr,
			  "{\"run_id\":1,\"status\":\"failed\",\"exit_code\":75,"
			  "\"rejects\":2,\"quarantined\":1,"
			  "\"duplicates_skipped\":1,\"stale_skipped\":0,"
			  "\"held\":0,\"converted\":0,\"failed_units\":1,"
			  "\"delivered\":0,\"sources\":{\"stores\":{\"rejects\":2,"
			  "\"duplicates\":1,\"stale\":0,\"held\":0,"
			  "\"converted\":0}},\"stages\":{\"fetch\":{\"units\":{"));
	T_ASSERT(strstr(j.ptr, "\"map\":{\"units\":{\"pending\":0,\"running\":0,"
			       "\"done\":1,\"failed\":0,\"skipped\":0,"
			       "\"quarantined\":1},\"records_in\":10,"
			       "\"records_out\":8,\"rejects\":2,"));
	T_ASSERT(strstr(j.ptr, "{\"id\":7,\"stage\":\"deliver\",\"scope\":"
			       "\"webshop\",\"unit\":\"snapshot\",\"state\":"
			       "\"failed\",\"attempts\":0,\"error\":"
			       "\"connection refused\",\"class\":\"transient\","
			       "\"retried_in\":0,"));
	T_EQ_STR(j.ptr + strlen(j.ptr) - 2, "]}");
	buf_release(&j);

	f = fopen("report.txt", "w");
	T_ASSERT(f != NULL);
	report_print(&rep, f);
	fclose(f);
	T_ASSERT(starts(t_read_file("report.txt"),
			  "run 1 failed (exit 75)\n"
			  "  stage      done failed   quar   skip         in"
			  "        out  rejects  dupes\n"
			  "  fetch         2      0      0      0          0"
			  "          0        0      0\n"
			  "  unpack        0      0      0      0          0"
			  "          0        0      0\n"
			  "  map           1      0      1      0         10"
			  "          8        2      0\n"));
	T_ASSERT(strstr(t_read_file("report.txt"),
			"\n  PARKED deliver webshop 'snapshot' (transient): "
			"connection refused\n"));
	report_release(&rep);
}

T_TEST(report_write_file)
{
	struct report rep;
	struct err e = ERR_INIT;
	const char *got;

	memset(&rep, 0, sizeof(rep));
	rep.run_id = 7;
	snprintf(rep.status, sizeof(rep.status), "done");
	buf_init(&rep.notes, 1024);
	buf_init(&rep.json_units, 1024);
	T_OK(report_write(&rep, "state", &e), &e);
	got = t_read_file("state/reports/run-7.json");
	T_ASSERT(got != NULL);
	T_ASSERT(starts(got, "{\"run_id\":7,\"status\":\"done\",\"exit_code\":0,"));
	T_ASSERT(strstr(got, "\"sources\":{},") != NULL);
	T_EQ_STR(got + strlen(got) - 30, "\"units_omitted\":0,\"units\":[]}\n");
	report_release(&rep);
}
