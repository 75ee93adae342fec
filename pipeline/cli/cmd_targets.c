/* cmd_targets.c - `stockpipe targets`: every target's schedule, when it
 * is next due (UTC and the schedule's zone), and its last delivery. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pipeline/config.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/schedule.h"
#include "pipeline/store/state.h"

#include "transforms/model/dt.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] targets [--target NAME] [--json]\n"
		"\n"
		"Lists each target: its schedule, when it is next due (in UTC "
		"and in the\n"
		"schedule's time zone), when it was last considered due, and "
		"its last\n"
		"delivery (time, file name, run, content key: the SHA-256 of "
		"the outbound\n"
		"mapping and the rows, which the delivery ledger uses to "
		"never send the\n"
		"same content twice). The clock is $STOCKPIPE_NOW when set.\n"
		"To deliver now or preview a delivery: stockpipe deliver "
		"--help.\n"
		"--json prints one JSON array: name, schedule, time_zone, "
		"next_due (UTC,\n"
		"null: every run or never), due_now, last_checked, "
		"last_delivery (null or\n"
		"at, file, run_id, content_key).\n");
	return code;
}

static void iso_or(int64_t t, const char *none, char *out)
{
	if (t)
		dt_format_iso(t, out);
	else
		snprintf(out, DT_ISO_LEN, "%s", none);
}

static int show(struct state *st, const struct cfg_target *t, int64_t now,
		struct err *err)
{
	struct state_delivery d;
	int64_t checked, base, next = 0;
	int found, due = 0;
	char a[DT_ISO_LEN], loc[200];

	if (state_delivery_info(st, t->name, &d, &found, err) < 0 ||
	    state_target_last_check(st, t->name, &checked, err) < 0)
		return -1;
	printf("%s\n", t->name);
	printf("  schedule       %s\n", t->schedule_text);
	if (t->schedule == CFG_SCHED_CRON)
		printf("  time zone      %s\n", t->cron->zone);
	switch (t->schedule) {
	case CFG_SCHED_ALWAYS:
		printf("  next due       every run\n");
		break;
	case CFG_SCHED_EVERY:
		if (!found) {
			printf("  next due       now (never delivered)\n");
			break;
		}
		next = d.delivered_at + t->every;
		dt_format_iso(next, a);
		printf("  next due       %s%s\n", a,
		       next <= now ? " (due now)" : "");
		break;
	case CFG_SCHED_CRON:
		base = checked > d.delivered_at ? checked : d.delivered_at;
		due = schedule_due(t->cron, base, now);
		/* The next window after what was last considered: when that
		 * is already past, the next run delivers. */
		if (schedule_next(t->cron, base ? base : now, &next) < 0) {
			printf("  next due       never\n");
			break;
		}
		if (!base) {
			printf("  next due       now (never considered)\n");
			break;
		}
		dt_format_iso(next, a);
		schedule_format_local(t->cron, next, loc, sizeof(loc));
		printf("  next due       %s (%s)%s\n", a, loc,
		       due ? " (due now)" : "");
		break;
	}
	iso_or(checked, "never", a);
	printf("  last checked   %s\n", a);
	if (!found) {
		printf("  last delivery  never\n");
		return 0;
	}
	dt_format_iso(d.delivered_at, a);
	printf("  last delivery  %s '%s' (run %lld)\n", a, d.file_name,
	       (long long)d.run_id);
	printf("  content key    %s\n", d.sha256);
	return 0;
}

/* Prints an ISO time as a JSON string, or null for 0. */
static void json_time(int64_t t)
{
	char a[DT_ISO_LEN];

	if (!t) {
		printf("null");
		return;
	}
	dt_format_iso(t, a);
	cli_json_str(stdout, a);
}

/* The target as one JSON object (the facts show() prints). */
static int show_json(struct state *st, const struct cfg_target *t,
		     int64_t now, int first, struct err *err)
{
	struct state_delivery d;
	int64_t checked, base, next = 0;
	int found, due = 0;

	if (state_delivery_info(st, t->name, &d, &found, err) < 0 ||
	    state_target_last_check(st, t->name, &checked, err) < 0)
		return -1;
	switch (t->schedule) {
	case CFG_SCHED_ALWAYS:
		due = 1;
		break;
	case CFG_SCHED_EVERY:
		next = found ? d.delivered_at + t->every : 0;
		due = !found || next <= now;
		break;
	case CFG_SCHED_CRON:
		base = checked > d.delivered_at ? checked : d.delivered_at;
		due = schedule_due(t->cron, base, now);
		if (schedule_next(t->cron, base ? base : now, &next) < 0)
			next = 0;
		else if (!base)
			next = 0, due = 1;
		break;
	}
	printf("%s\n  {\"name\":", first ? "" : ",");
	cli_json_str(stdout, t->name);
	printf(",\"schedule\":");
	cli_json_str(stdout, t->schedule_text);
	printf(",\"time_zone\":");
	cli_json_str(stdout, t->schedule == CFG_SCHED_CRON ? t->cron->zone
							  : "UTC");
	printf(",\"next_due\":");
	json_time(next);
	printf(",\"due_now\":%s,\"last_checked\":", due ? "true" : "false");
	json_time(checked);
	printf(",\"last_delivery\":");
	if (!found) {
		printf("null}");
		return 0;
	}
	printf("{\"at\":");
	json_time(d.delivered_at);
	printf(",\"file\":");
	cli_json_str(stdout, d.file_name);
	printf(",\"run_id\":%lld,\"content_key\":", (long long)d.run_id);
	cli_json_str(stdout, d.sha256);
	printf("}}");
	return 0;
}

int cmd_targets(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct err err = ERR_INIT;
	const char *only = NULL;
	int rc = EXIT_DONE, i, json = 0, n = 0;
	const struct cli_opt opts[] = {
		{"target", 't', &only, NULL},
		{"json", 'j', NULL, &json},
		{NULL, 0, NULL, NULL},
	};
	size_t k;
	int64_t now = schedule_clock();
	char msg[1200];

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	if ((i = cli_parse("targets", argc, argv, opts)) < 0)
		return usage(stderr, EXIT_USAGE);
	if (i < argc) {
		log_msg("error", "stockpipe targets: unexpected '%s'", argv[i]);
		return usage(stderr, EXIT_USAGE);
	}
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0)
		goto fail;
	if (only && !config_target(cfg, only)) {
		err_set(&err, E_USAGE, "no target named '%s'", only);
		goto fail;
	}
	if (state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0)
		goto fail;
	if (json)
		printf("[");
	for (k = 0; k < cfg->ntargets; k++) {
		if (only && strcmp(only, cfg->targets[k].name))
			continue;
		if (json ? show_json(st, &cfg->targets[k], now, !n++, &err) < 0
			 : show(st, &cfg->targets[k], now, &err) < 0)
			goto fail;
	}
	if (json)
		printf("%s]\n", n ? "\n" : "");
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe targets: %s", msg);
	rc = err_exit_code(&err);
out:
	state_close(st);
	config_free(cfg);
	return rc;
}
