/* cmd_runs.c - `stockpipe runs`: the run history, newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipeline/config.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/report/report.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_park.h"

struct runs_ctx {
	struct state *st;
	struct err *err;
	int n;
	int json;  /* --json: one array of objects */
};

static int count_parked(void *ud, const struct state_unit *u)
{
	(void)u;
	(*(int64_t *)ud)++;
	return 0;
}

static int print_run(void *ud, const struct state_run *r)
{
	struct runs_ctx *c = ud;
	struct report rep;
	int i;
	long long done = 0, failed = 0, quar = 0;
	int64_t parked = 0;

	if (report_build(c->st, r->run_id, &rep, c->err) < 0)
		return -1;
	if (state_park_each(c->st, r->run_id, count_parked, &parked,
			    c->err) < 0) {
		report_release(&rep);
		return -1;
	}
	for (i = 0; i < REPORT_NSTAGES; i++) {
		done += rep.stage[i].units[US_DONE];
		failed += rep.stage[i].units[US_FAILED];
		quar += rep.stage[i].units[US_QUARANTINED];
	}
	if (c->json) {
		printf("%s\n  {\"run_id\":%lld,\"started\":", c->n ? "," : "",
		       (long long)r->run_id);
		cli_json_str(stdout, r->started_at);
		printf(",\"finished\":");
		if (r->finished_at[0])
			cli_json_str(stdout, r->finished_at);
		else
			printf("null");
		printf(",\"status\":");
		cli_json_str(stdout, r->status);
		printf(",\"exit_code\":%d,\"units_done\":%lld,"
		       "\"units_failed\":%lld,\"units_parked\":%lld,"
		       "\"units_quarantined\":%lld,\"rejects\":%lld,"
		       "\"delivered\":%lld}",
		       r->exit_code, done, failed, (long long)parked, quar,
		       (long long)rep.rejects, (long long)rep.delivered);
		report_release(&rep);
		c->n++;
		return 0;
	}
	printf("%6lld  %-20s  %-20s  %-11s %4d  %5lld %6lld %6lld %5lld %7lld "
	       "%9lld\n",
	       (long long)r->run_id, r->started_at,
	       r->finished_at[0] ? r->finished_at : "-", r->status,
	       r->exit_code, done, failed, (long long)parked, quar,
	       (long long)rep.rejects, (long long)rep.delivered);
	report_release(&rep);
	c->n++;
	return 0;
}

int cmd_runs(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct err err = ERR_INIT;
	struct runs_ctx c;
	int rc = EXIT_DONE, i, json = 0;
	long long limit = 20;
	const char *limit_s = NULL;
	char msg[1200];
	const struct cli_opt opts[] = {
		{"limit", 'n', &limit_s, NULL},
		{"json", 'j', NULL, &json},
		{NULL, 0, NULL, NULL},
	};

	if (cli_wants_help(argc, argv)) {
		printf("usage: stockpipe [-c CONFIG] runs [--limit N] [--json]\n"
		       "\n"
		       "Lists runs, newest first, with their status, exit code "
		       "and unit counts\n"
		       "(done, failed, parked: failed and not retried yet, "
		       "quarantined),\n"
		       "rejected records and deliveries. Status: running, "
		       "interrupted (the next\n"
		       "run finishes it), partial (a scheduler's tasks are "
		       "working it), done,\n"
		       "failed (concluded, nothing could advance).\n"
		       "--json prints the same as one JSON array of "
		       "objects.\n");
		return EXIT_DONE;
	}
	if ((i = cli_parse("runs", argc, argv, opts)) < 0)
		return EXIT_USAGE;
	if (i < argc) {
		log_msg("error", "stockpipe runs: unexpected '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (limit_s && cli_number(limit_s, 1, 1000000, &limit) < 0) {
		log_msg("error", "stockpipe runs: --limit needs a number "
				"1-1000000");
		return EXIT_USAGE;
	}
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0 ||
	    state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0)
		goto fail;
	if (!json)
		printf("%6s  %-20s  %-20s  %-11s %4s  %5s %6s %6s %5s %7s "
		       "%9s\n",
		       "run", "started", "finished", "status", "exit", "done",
		       "failed", "parked", "quar", "rejects", "delivered");
	else
		printf("[");
	c.st = st;
	c.err = &err;
	c.n = 0;
	c.json = json;
	if (state_runs_each(st, (int)limit, print_run, &c, &err) < 0)
		goto fail;
	if (json)
		printf("%s]\n", c.n ? "\n" : "");
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe runs: %s", msg);
	rc = err_exit_code(&err);
out:
	state_close(st);
	config_free(cfg);
	return rc;
}
