/* cmd_db.c - `stockpipe db migrate|status`: the state store's schema.
 *
 * Opening a store whose schema is older than this stockpipe's fails (exit
 * 78) until `db migrate` upgrades it: a schema change is a deliberate
 * step an operator takes once, with the runs stopped, not something every
 * worker does on its own. An empty store needs no migrate (every command
 * creates the latest schema), but migrate on one creates it too.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pipeline/config.h"
#include "pipeline/store/db.h"
#include "lib/log.h"
#include "lib/err.h"
#include "lib/lock.h"
#include "pipeline/store/schema.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] db migrate\n"
		"       stockpipe [-c CONFIG] db status [--json]\n"
		"\n"
		"The state store's schema (state_db: in the config, or SQLite "
		"in state_dir).\n"
		"  migrate   apply the pending schema migrations, each in its "
		"own transaction;\n"
		"            prints \"schema N -> M\" or \"schema M, up to "
		"date\". Stop runs first.\n"
		"  status    backend, where the store is (no password), its "
		"schema version\n"
		"            and the latest this stockpipe knows. --json: one "
		"object\n"
		"            {backend, where, schema (0: empty), latest, "
		"pending}.\n");
	return code;
}

static int status(struct db *d, int json, struct err *err)
{
	int v;

	if (schema_version(d, &v, err) < 0)
		return -1;
	if (json) {
		printf("{\"backend\":\"%s\",\"where\":",
		       db_kind_of(d) == DB_POSTGRES ? "postgresql" : "sqlite");
		cli_json_str(stdout, db_where(d));
		printf(",\"schema\":%d,\"latest\":%d,\"pending\":%d}\n", v,
		       SCHEMA_LATEST, v && v < SCHEMA_LATEST ? SCHEMA_LATEST - v
							     : 0);
		return 0;
	}
	printf("backend:  %s\n",
	       db_kind_of(d) == DB_POSTGRES ? "postgresql" : "sqlite");
	printf("where:    %s\n", db_where(d));
	if (v == 0)
		printf("schema:   none (empty store; created on first use)\n");
	else
		printf("schema:   %d\n", v);
	printf("latest:   %d\n", SCHEMA_LATEST);
	if (v && v < SCHEMA_LATEST)
		printf("pending:  %d migration(s); run 'stockpipe db "
		       "migrate'\n",
		       SCHEMA_LATEST - v);
	else if (v > SCHEMA_LATEST)
		printf("note:     this store is newer than this stockpipe\n");
	return 0;
}

int cmd_db(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct db *d = NULL;
	struct err err = ERR_INIT;
	int rc = EXIT_DONE, lock_fd = -1, from, to, json = 0, i;
	char msg[1200];
	const struct cli_opt opts[] = {
		{"json", 'j', NULL, &json},
		{NULL, 0, NULL, NULL},
	};

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	if ((i = cli_parse("db", argc, argv, opts)) < 0)
		return usage(stderr, EXIT_USAGE);
	/* the verb is the one argument (argv[i] after cli_parse) */
	argv += i - 1;
	argc -= i - 1;
	if (argc != 2 || (strcmp(argv[1], "migrate") &&
			  strcmp(argv[1], "status")) ||
	    (json && strcmp(argv[1], "status")))
		return usage(stderr, EXIT_USAGE);
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0)
		goto fail;
	/* migrate writes the schema: never while a run holds this state
	 * directory (the run's own statements would meet a changed one). */
	if (!strcmp(argv[1], "migrate") &&
	    (lock_fd = lock_acquire(cfg->state_dir, &err)) < 0)
		goto fail;
	if (schema_open(cfg->state_dir, cfg->state_db,
			cfg->state_db_password_env, &d, &err) < 0)
		goto fail;
	if (!strcmp(argv[1], "status")) {
		if (status(d, json, &err) < 0)
			goto fail;
		goto out;
	}
	if (schema_migrate(d, &from, &to, &err) < 0)
		goto fail;
	if (from == to)
		printf("schema %d, up to date\n", to);
	else
		printf("schema %d -> %d\n", from, to);
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe db: %s", msg);
	rc = err_exit_code(&err);
	if (rc == EXIT_DONE || rc == EXIT_REJECTS)
		rc = EXIT_INTERNAL;
out:
	db_close(d);
	lock_release(lock_fd);
	config_free(cfg);
	return rc;
}
