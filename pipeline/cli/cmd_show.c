/* cmd_show.c - `stockpipe show RUN_ID`: one run's report and units. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipeline/config.h"
#include "lib/log.h"
#include "lib/err.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "lib/utf8.h"
#include "pipeline/report/ack_view.h"
#include "pipeline/report/report.h"
#include "pipeline/store/state.h"
#include "show_warn.h"
#include "transforms/model/dt.h"

struct show_ctx {
	struct state *st;
	int verbose;
	int failed;      /* a store error inside a callback */
	struct err *err;
	int64_t ndeps;
};

/* -v: the mapping files each attempt of a unit was made with. */
static int print_unit_dep(void *ud, const struct state_dep *d)
{
	char path[4 * 4096];

	(void)ud;
	utf8_term_copy(path, sizeof(path), d->path, strlen(d->path), 0);
	printf("          made with %.16s  %s (from attempt %d)\n",
	       d->sha256, path, d->attempt);
	return 0;
}

/* -v: one of a unit's files, by the name it has now: gc compresses the
 * files of kept runs and the latest deliveries to NAME.gz (lib/gz.h), so
 * where NAME is gone and NAME.gz is there, that is the path shown (sha
 * stays the plain bytes'). */
static void print_path(const char *label, const char *path,
		       const char *sha)
{
	char gz[4096 + sizeof(GZ_SUFFIX)], msg[4 * sizeof(gz)];
	int compressed = 0;

	if (!io_exists(path) &&
	    (size_t)snprintf(gz, sizeof(gz), "%s%s", path, GZ_SUFFIX) <
		    sizeof(gz) &&
	    io_exists(gz)) {
		path = gz;
		compressed = 1;
	}
	utf8_term_copy(msg, sizeof(msg), path, strlen(path), 0);
	printf("          %s %s%s%s%.16s\n", label, msg,
	       compressed ? " (compressed by gc)" : "",
	       sha[0] ? "  sha256 " : "", sha);
}

static int print_unit(void *ud, struct state_unit *u)
{
	/* Unit keys, errors and details carry file names: control bytes
	 * are shown as \xNN, never sent to the terminal (lib/utf8.h). */
	struct show_ctx *sx = ud;
	const int *verbose = &sx->verbose;
	char key[4 * sizeof(u->ukey)], msg[4 * sizeof(u->input_path)];

	utf8_term_copy(key, sizeof(key), u->ukey, strlen(u->ukey), 0);
	utf8_term_copy(msg, sizeof(msg), u->error, strlen(u->error), 0);
	printf("  %-7s %-14s %-9s %3d %8lld %8lld %7lld  %s%s%s\n", u->stage,
	       u->scope, unit_state_name(u->state), u->attempts,
	       (long long)u->records_in, (long long)u->records_out,
	       (long long)u->rejects, key,
	       u->error[0] ? "\n          error: " : "", msg);
	utf8_term_copy(msg, sizeof(msg), u->detail, strlen(u->detail), 0);
	if (u->detail[0] && u->state != US_FAILED)
		printf("          %s\n", msg);
	/* -v: where the unit read from and wrote to */
	if (*verbose && u->input_path[0])
		print_path("in: ", u->input_path, u->input_sha);
	if (*verbose && u->output_path[0])
		print_path("out:", u->output_path, u->output_sha);
	/* A failed unit is parked until a later run takes it over. */
	if (u->state == US_FAILED && u->retried_in)
		printf("          %s failure; retried in run %lld\n",
		       err_class_name(u->err_class),
		       (long long)u->retried_in);
	else if (u->state == US_FAILED)
		printf("          parked: %s failure; %s\n",
		       err_class_name(u->err_class),
		       u->err_class == EC_TRANSIENT
			       ? "the next run retries it"
		       : u->retry_requested
			       ? "a retry was asked for"
			       : "after the fix, 'stockpipe retry' it");
	if (*verbose && (!strcmp(u->stage, "map") || !strcmp(u->stage, "render")) &&
	    state_unit_deps_each(sx->st, u, print_unit_dep, NULL, sx->err) < 0)
		return sx->failed = 1, 1;
	/* what a load did not apply, always visible */
	if (u->stale || u->held || u->converted ||
	    (u->dupes && !strcmp(u->stage, "load")))
		printf("          stale %lld, duplicates %lld, held %lld, "
		       "converted %lld\n",
		       (long long)u->stale, (long long)u->dupes,
		       (long long)u->held, (long long)u->converted);
	return 0;
}

static int print_dep(void *ud, const char *path, const char *sha)
{
	char p[4 * 4096];

	(void)ud;
	utf8_term_copy(p, sizeof(p), path, strlen(path), 0);
	printf("  %.16s  %s\n", sha, p);
	return 0;
}

/* One group of unit_deps: a stage's units of one scope that made the
 * same attempt with the same file version. */
static int print_udep(void *ud, const struct state_dep *d)
{
	struct show_ctx *sx = ud;
	char p[4 * 4096], when[DT_ISO_LEN];

	utf8_term_copy(p, sizeof(p), d->path, strlen(d->path), 0);
	dt_format_iso(d->at_ms / 1000, when);
	printf("  %-7s %-14s %7d  %s  %.16s  %s (%lld unit%s)\n", d->stage,
	       d->scope, d->attempt, when, d->sha256, p, (long long)d->units,
	       d->units == 1 ? "" : "s");
	sx->ndeps++;
	return 0;
}

/* Prints show's help. */
static void show_help(void)
{
	fputs("usage: stockpipe [-c CONFIG] [-v] show RUN_ID [--json | --html "
	      "[--output FILE]]\n"
	      "\n"
	      "Prints a run's summary, every unit with its state, attempts, "
	      "records and\n"
	      "errors, and every version of each mapping and lookup the run's "
	      "units were\n"
	      "made with (a rerun after a mapping fix lists the old and the "
	      "new).\n"
	      "--json prints the saved JSON report instead. --html writes one "
	      "self-contained\n"
	      "HTML page (stage timeline, counts per source and target, rejects "
	      "with\n"
	      "file:line:col and reason, quarantined units, deliveries, the "
	      "stock sent to\n"
	      "each target) to STATE_DIR/reports/run-ID.html, or to FILE, and "
	      "prints its\n"
	      "path. With -v the text view adds each unit's input and output "
	      "(path and\n"
	      "SHA-256) and the mapping versions of each map and render unit. "
	      "An unknown\n"
	      "RUN_ID is a usage error (exit 64).\n",
	      stdout);
}

/* Writes the run's HTML page to html_out (by default
 * STATE_DIR/reports/run-ID.html) and prints its path; 0 or -1. */
static int show_html(struct state *st, const struct config *cfg,
		     const struct state_run *run, long long id,
		     const char *html_out, struct err *err)
{
	struct buf b = BUF_INIT(64 << 20);
	char path[4200];

	if (!html_out) {
		snprintf(path, sizeof(path), "%s/reports/run-%lld.html",
			 cfg->state_dir, id);
		html_out = path;
	}
	if (report_html(st, cfg, run, &b, err) < 0 ||
	    io_write_file(html_out, b.ptr, b.len, NULL, err) < 0) {
		buf_release(&b);
		return -1;
	}
	buf_release(&b);
	printf("%s\n", html_out);
	return 0;
}

/* Copies the run's saved JSON report to stdout; 0 or -1. */
static int show_json(const struct config *cfg, long long id,
		     struct err *err)
{
	char path[4200], chunk[1200];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/reports/run-%lld.json",
		 cfg->state_dir, id);
	if (!(f = fopen(path, "rb")))
		return err_sys(err, "cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fwrite(chunk, 1, n, stdout) != n)
			break;
	fclose(f);
	if (fflush(stdout) != 0 || ferror(stdout))
		return err_sys(err, "cannot write the report to stdout");
	return 0;
}

/* Prints the run's summary, its units stage by stage and the mappings
 * it used; 0 or -1. */
static int show_text(struct state *st, const struct state_run *run,
		     long long id, int verbose, struct err *err)
{
	static const char *const stages[] = {"fetch",  "unpack", "map",
					     "load",   "render", "deliver"};
	struct report rep;
	struct show_ctx sx = {st, verbose, 0, err, 0};
	int i;

	if (report_build(st, id, &rep, err) < 0)
		return -1;
	rep.exit_code = run->exit_code;
	snprintf(rep.status, sizeof(rep.status), "%s", run->status);
	printf("started %s, finished %s\n", run->started_at,
	       run->finished_at[0] ? run->finished_at : "-");
	report_print(&rep, stdout);
	report_release(&rep);
	printf("\nunits:\n  %-7s %-14s %-9s %3s %8s %8s %7s  %s\n", "stage",
	       "scope", "state", "try", "in", "out", "rejects", "unit");
	for (i = 0; i < 6; i++)
		if (state_units_each(st, id, stages[i], NULL, print_unit, &sx,
				     err) < 0 || sx.failed)
			return -1;
	if (show_warnings(st, id, err) < 0)
		return -1;
	/* Per attempt (unit_deps): a rerun with a changed mapping shows both
	 * versions. A run made before schema 8 has only run_deps. */
	printf("\nmappings used, each version with the attempt that first used it:\n  %-7s %-14s %7s  %-20s  %-16s  %s\n",
	       "stage", "scope", "attempt", "first used", "sha256", "file");
	if (state_run_udeps_each(st, id, print_udep, &sx, err) < 0)
		return -1;
	if (!sx.ndeps &&
	    state_run_deps_each(st, id, print_dep, NULL, err) < 0)
		return -1;
	return 0;
}

int cmd_show(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct err err = ERR_INIT;
	struct state_run run;
	long long id = 0;
	int json = 0, html = 0, rc = EXIT_DONE, i, shown;
	const char *html_out = NULL;
	char msg[1200], *end;

	if (cli_wants_help(argc, argv)) {
		show_help();
		return EXIT_DONE;
	}
	{
		const struct cli_opt opts[] = {
			{"json", 'j', NULL, &json},
			{"html", 0, NULL, &html},
			{"output", 'o', &html_out, NULL},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("show", argc, argv, opts)) < 0)
			return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		if (!id) {
			id = strtoll(argv[i], &end, 10);
			if (*end || id <= 0) {
				log_msg("error",
					"stockpipe show: '%s' is not a run "
					"id",
					argv[i]);
				return EXIT_USAGE;
			}
		} else {
			log_msg("error", "stockpipe show: unexpected '%s'",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!id || (json && html) || (html_out && !html)) {
		log_msg("error", "usage: stockpipe show RUN_ID [--json | --html "
				"[--output FILE]]");
		return EXIT_USAGE;
	}
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0 ||
	    state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0 ||
	    state_run_get(st, id, &run, &err) < 0) {
		/* a run id that is not there was mistyped: a usage error */
		if (err.code == E_NOTFOUND)
			err.code = E_USAGE;
		goto fail;
	}
	/* One of three views: the HTML page, the saved JSON, the text. */
	if (html)
		shown = show_html(st, cfg, &run, id, html_out, &err);
	else if (json)
		shown = ack_view_any(cfg) ? ack_view_show_json(st, cfg, id, stdout, &err)
					  : show_json(cfg, id, &err);
	else
		shown = show_text(st, &run, id, g->verbose, &err);
	if (shown == 0 && !html && !json) /* acknowledgments back (issue 19) */
		shown = ack_view_show_text(st, cfg, id, stdout, &err);
	if (shown < 0)
		goto fail;
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe show: %s", msg);
	rc = err_exit_code(&err);
out:
	state_close(st);
	config_free(cfg);
	return rc;
}
