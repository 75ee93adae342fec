/* cmd_quarantine.c - `stockpipe quarantine list|show ID|release ID`.
 *
 * A quarantined document is a map unit in state "quarantined": its copy
 * is in quarantine/SOURCE/NAME (the unit's output path) and its error says
 * why (unreadable, or more rejects than reject_threshold). Releasing it
 * makes the unit pending again and reopens its run, so the next
 * `stockpipe run` (or `resume RUN`) maps it with the mapping as it is
 * then, loads it and renders the run's targets again (an unchanged
 * snapshot is not delivered twice). With --accept the reject threshold is
 * waived for that document: its good records are loaded, its bad ones
 * stay in the reject file. Who released it, when and why is kept in the
 * unit's detail (shown by `show RUN` and `quarantine show ID`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/buf.h"
#include "lib/gz.h"
#include "cli.h"
#include "pipeline/config.h"
#include "lib/err.h"
#include "lib/lock.h"
#include "pipeline/run.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_park.h"

#include "transforms/model/dt.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] quarantine list [--json]\n"
		"       stockpipe [-c CONFIG] quarantine show UNIT_ID\n"
		"       stockpipe [-c CONFIG] quarantine release UNIT_ID "
		"[--accept] [--note TEXT]\n"
		"\n"
		"list     every quarantined document: unit id, run, source, "
		"file, reason;\n"
		"         then every parked unit (a failure a run left "
		"behind): stage,\n"
		"         scope, class (transient, data, config, internal), "
		"error.\n"
		"         --json: {\"quarantined\": [...], \"parked\": [...]}\n"
		"show     one document: reason, quarantined copy, reject file "
		"and its first\n"
		"         rejects\n"
		"release  make the document pending again and reopen its run; "
		"the next\n"
		"         `stockpipe run` maps it with the current mapping "
		"(after a mapping\n"
		"         fix) and loads it. --accept waives the reject "
		"threshold for it\n"
		"         (its good rows are loaded, bad rows stay rejected). "
		"Who, when and\n"
		"         --note are recorded on the unit.\n"
		"\n"
		"A corrected file from the partner needs no release: drop it "
		"in the source\n"
		"folder and the next run fetches it.\n");
	return code;
}

/* What the list callbacks count and how they print. */
struct list_ctx {
	int n;
	int json;
};

static int list_one(void *ud, struct state_unit *u)
{
	struct list_ctx *c = ud;
	int *n = &c->n;

	if (c->json) {
		printf("%s\n    {\"unit\":%lld,\"run\":%lld,\"source\":",
		       *n ? "," : "", (long long)u->id, (long long)u->run_id);
		cli_json_str(stdout, u->scope);
		printf(",\"document\":");
		cli_json_str(stdout, u->ukey);
		printf(",\"reason\":");
		cli_json_str(stdout, u->error);
		printf("}");
		(*n)++;
		return 0;
	}
	if (!*n)
		printf("%6s %5s  %-12s %-32s %s\n", "unit", "run", "source",
		       "document", "reason");
	printf("%6lld %5lld  %-12s %-32s %s\n", (long long)u->id,
	       (long long)u->run_id, u->scope, u->ukey, u->error);
	(*n)++;
	return 0;
}

/* Parked units (state_park.h): failed units of concluded runs that a
 * later run retries (transient) or `stockpipe retry` asks for. */
static int list_parked(void *ud, const struct state_unit *u)
{
	struct list_ctx *c = ud;
	int *n = &c->n;

	if (c->json) {
		printf("%s\n    {\"unit\":%lld,\"run\":%lld,\"stage\":",
		       *n ? "," : "", (long long)u->id, (long long)u->run_id);
		cli_json_str(stdout, u->stage);
		printf(",\"scope\":");
		cli_json_str(stdout, u->scope);
		printf(",\"key\":");
		cli_json_str(stdout, u->ukey);
		printf(",\"class\":");
		cli_json_str(stdout, err_class_name(u->err_class));
		printf(",\"error\":");
		cli_json_str(stdout, u->error);
		printf(",\"retry_requested\":%s}",
		       u->retry_requested ? "true" : "false");
		(*n)++;
		return 0;
	}
	if (!*n)
		printf("\nparked units (retry: transient ones by the next run; "
		       "others with 'stockpipe retry UNIT'):\n"
		       "%6s %5s  %-8s %-12s %-24s %-9s %s\n",
		       "unit", "run", "stage", "scope", "key", "class",
		       "error");
	printf("%6lld %5lld  %-8s %-12s %-24s %-9s %s%s\n", (long long)u->id,
	       (long long)u->run_id, u->stage, u->scope, u->ukey,
	       err_class_name(u->err_class), u->error,
	       u->retry_requested ? " [retry asked]" : "");
	(*n)++;
	return 0;
}

/* `quarantine list [--json]`: the quarantined documents, then the
 * parked units; 0 or -1. */
static int list_all(struct state *st, int json, struct err *err)
{
	struct list_ctx lc = {0, json};

	if (json)
		printf("{\"quarantined\":[");
	if (state_units_in_state_each(st, US_QUARANTINED, "map", list_one,
				      &lc, err) < 0)
		return -1;
	if (json)
		printf("%s],\n \"parked\":[", lc.n ? "\n  " : "");
	else if (!lc.n)
		printf("no quarantined documents\n");
	lc.n = 0;
	if (state_park_each(st, 0, list_parked, &lc, err) < 0)
		return -1;
	if (json)
		printf("%s]}\n", lc.n ? "\n  " : "");
	else if (!lc.n)
		printf("no parked units\n");
	return 0;
}

static const char *who(void)
{
	const char *u = getenv("SUDO_USER");

	if (!u || !*u)
		u = getenv("USER");
	if (!u || !*u)
		u = getlogin();
	return u && *u ? u : "unknown";
}

static int show(struct config *cfg, struct state_unit *u)
{
	char path[4300];
	struct gz_in *g;
	struct err re = ERR_INIT;

	printf("unit      %lld (run %lld, source %s)\n", (long long)u->id,
	       (long long)u->run_id, u->scope);
	printf("document  %s\n", u->ukey);
	printf("state     %s, %d attempt%s\n", unit_state_name(u->state),
	       u->attempts, u->attempts == 1 ? "" : "s");
	printf("records   %lld in, %lld rejected\n", (long long)u->records_in,
	       (long long)u->rejects);
	printf("reason    %s\n", u->error[0] ? u->error : "-");
	printf("input     %s\n", u->input_path);
	printf("copy      %s\n", u->output_path[0] ? u->output_path : "-");
	if (u->detail[0])
		printf("detail    %s\n", u->detail);
	snprintf(path, sizeof(path), "%s/rejects/%lld/%s/%lld.jsonl",
		 cfg->state_dir, (long long)u->run_id, u->scope,
		 (long long)u->id);
	/* a concluded run's rejects may be compacted (lib/gz.h) */
	if (gz_open(&g, path, &re) == 0) {
		char line[2048];
		int n = 0;

		printf("rejects   %s%s\n", path, g->compressed ? GZ_SUFFIX : "");
		while (n < 10 && fgets(line, sizeof(line), g->f)) {
			printf("  %s%s", line,
			       strchr(line, '\n') ? "" : "...\n");
			n++;
		}
		if (gz_close(g, &re) < 0) {
			char msg[1200];

			err_format(&re, msg, sizeof(msg));
			log_err("warn", &re, "stockpipe quarantine: %s", msg);
		}
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_DONE
						       : EXIT_TEMPFAIL;
}

static int release(struct config *cfg, struct state *st, struct state_unit *u,
		   int accept, const char *note, struct err *err)
{
	char iso[DT_ISO_LEN], det[1024];
	size_t i;

	dt_format_iso((int64_t)time(NULL), iso);
	snprintf(det, sizeof(det), "released by %s at %s%s%s%s (was: %.300s)",
		 who(), iso, accept ? " " QUARANTINE_ACCEPT_TAG : "",
		 note ? ": " : "", note ? note : "", u->error);
	/* det is already a bounded snprintf of the same size: text for people */
	str_copy_cut(u->detail, sizeof(u->detail), det);
	/* what the map stage reads: who released it and the note it keeps
	 * next to the new outcome, and --accept */
	if (str_copy(u->released_by, sizeof(u->released_by), who()) < 0)
		return err_set(err, E_USAGE, "user name '%.40s...' too long",
			       who());
	str_copy_cut(u->release_note, sizeof(u->release_note), det);
	u->accept_rejects = accept;
	u->state = US_PENDING;
	u->error[0] = '\0';
	if (state_begin(st, err) < 0)
		return -1;
	if (state_unit_save(st, u, err) < 0 ||
	    state_run_reopen(st, u->run_id, err) < 0)
		goto fail;
	/* The run's targets are rendered again once the document is
	 * loaded (a snapshot equal to a delivered one is not sent). */
	for (i = 0; i < cfg->ntargets; i++)
		if (state_plan_clear(st, u->run_id, "render",
				     cfg->targets[i].name, err) < 0 ||
		    state_units_reset(st, u->run_id, "render",
				      cfg->targets[i].name, err) < 0)
			goto fail;
	return state_commit(st, err);
fail:
	state_rollback(st);
	return -1;
}

int cmd_quarantine(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct state_unit *u = NULL;
	struct err err = ERR_INIT;
	const char *verb, *note = NULL;
	long long id = 0;
	int accept = 0, rc = EXIT_DONE, lock_fd = -1, i, json = 0;
	char msg[1200], *end;
	const struct cli_opt opts[] = {
		{"accept", 0, NULL, &accept},
		{"note", 0, &note, NULL},
		{"json", 'j', NULL, &json},
		{NULL, 0, NULL, NULL},
	};

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	if ((i = cli_parse("quarantine", argc, argv, opts)) < 0)
		return usage(stderr, EXIT_USAGE);
	if (i >= argc)
		return usage(stderr, EXIT_USAGE);
	verb = argv[i++];
	if (strcmp(verb, "list") && strcmp(verb, "show") &&
	    strcmp(verb, "release")) {
		log_msg("error", "stockpipe quarantine: unknown action '%s'",
			verb);
		return usage(stderr, EXIT_USAGE);
	}
	if (((accept || note) && strcmp(verb, "release")) ||
	    (json && strcmp(verb, "list"))) {
		log_msg("error", "stockpipe quarantine: --accept and --note "
				"go with release, --json with list");
		return usage(stderr, EXIT_USAGE);
	}
	for (; i < argc; i++) {
		if (!id && strcmp(verb, "list")) {
			id = strtoll(argv[i], &end, 10);
			if (*end || id <= 0) {
				log_msg("error",
					"stockpipe quarantine: '%s' is not a "
					"unit id",
					argv[i]);
				return EXIT_USAGE;
			}
		} else {
			log_msg("error", "stockpipe quarantine: unexpected "
					"'%s'",
				argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (strcmp(verb, "list") && !id)
		return usage(stderr, EXIT_USAGE);
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0)
		goto fail;
	/* release writes: never while a run works on the state. */
	if (!strcmp(verb, "release") &&
	    (lock_fd = lock_acquire(cfg->state_dir, &err)) < 0)
		goto fail;
	if (state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0)
		goto fail;
	if (!strcmp(verb, "list")) {
		if (list_all(st, json, &err) < 0)
			goto fail;
		goto out;
	}
	if (!(u = malloc(sizeof(*u)))) {
		err_set(&err, E_NOMEM, "out of memory");
		goto fail;
	}
	if (state_unit_get(st, id, u, &err) < 0)
		goto fail;
	if (strcmp(u->stage, "map") ||
	    (u->state != US_QUARANTINED && !strcmp(verb, "release"))) {
		err_set(&err, E_USAGE,
			"unit %lld is a %s unit in state %s, not a "
			"quarantined document (see `quarantine list`)",
			id, u->stage, unit_state_name(u->state));
		goto fail;
	}
	if (!strcmp(verb, "show")) {
		rc = show(cfg, u);
		goto out;
	}
	if (release(cfg, st, u, accept, note, &err) < 0)
		goto fail;
	printf("released unit %lld ('%s' of %s) in run %lld%s; the next "
	       "`stockpipe run` (or `stockpipe resume %lld`) maps it again\n",
	       id, u->ukey, u->scope, (long long)u->run_id,
	       accept ? ", reject threshold waived" : "",
	       (long long)u->run_id);
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe quarantine: %s", msg);
	rc = err_exit_code(&err);
	if (rc == EXIT_DONE || rc == EXIT_REJECTS)
		rc = EXIT_INTERNAL;
out:
	free(u);
	state_close(st);
	lock_release(lock_fd);
	config_free(cfg);
	return rc;
}
