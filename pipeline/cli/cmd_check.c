/* cmd_check.c - `stockpipe check`: validate before anything runs.
 *
 * Loads the config and compiles every inbound and outbound mapping it
 * names, reporting every problem it finds (not just the first) as
 * file:line:column: reason, so an analyst fixes them in one go.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pipeline/config.h"
#include "lib/log.h"
#include "lib/err.h"

#include "connectors/connector.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"

static void report(const struct err *e, int *nerr)
{
	char msg[1200];

	err_format(e, msg, sizeof(msg));
	log_err("error", e, "%s", msg);
	(*nerr)++;
}

/* The target's file-name template against every value it can take
 * (filepat_name_check), at the template's place in the config: the run
 * would only find a bad name at render, after loading. */
static void check_filename(const struct config *cfg,
			   const struct cfg_target *t, const char *ext,
			   int *nerr)
{
	const struct ynode *v = ynode_get(t->node, "filename");
	struct err e = ERR_INIT, at = ERR_INIT;

	if (filepat_name_check(t->filename, t->name, ext, &e) == 0)
		return;
	if (!v)
		v = t->node;
	err_at(&at, E_CONFIG, cfg->path, v->line, v->col, "target '%s': %s",
	       t->name, e.reason);
	report(&at, nerr);
}

int cmd_check(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct err err = ERR_INIT;
	size_t i;
	int nerr = 0, nmap = 0;

	if (cli_wants_help(argc, argv)) {
		printf("usage: stockpipe [-c CONFIG] check\n"
		       "\n"
		       "Validates the config file and compiles every mapping "
		       "it names. Errors are\n"
		       "printed as file:line:column: reason. Exit 0 when all "
		       "is well, 78 if not.\n");
		return EXIT_DONE;
	}
	if ((i = (size_t)cli_parse("check", argc, argv, NULL)) == (size_t)-1)
		return EXIT_USAGE;
	if ((int)i < argc) {
		log_msg("error", "stockpipe check: unexpected '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0) {
		report(&err, &nerr);
		return EXIT_CONFIG;
	}
	for (i = 0; i < cfg->nsources; i++) {
		const struct cfg_source *s = &cfg->sources[i];
		struct mapping *m = NULL;
		size_t r;

		err_clear(&err);
		if (!conn_find(s->url)) {
			err_at(&err, E_CONFIG, cfg->path, s->node->line,
			       s->node->col,
			       "source '%s': no connector for '%s'", s->name,
			       s->url);
			report(&err, &nerr);
		}
		for (r = 0; r <= s->nroutes; r++) {
			const char *path = r < s->nroutes ? s->routes[r].mapping
							  : s->mapping;

			if (!path)
				continue;
			err_clear(&err);
			m = NULL;
			if (config_check_file(cfg, path, &err) < 0 ||
			    mapping_load(path, &m, &err) < 0 ||
			    mapping_check_patterns(m, s->patterns,
						   s->npatterns, NULL, &err) < 0)
				report(&err, &nerr);
			else
				nmap++;
			mapping_free(m);
		}
	}
	for (i = 0; i < cfg->ntargets; i++) {
		const struct cfg_target *t = &cfg->targets[i];
		struct outbound *o = NULL;

		err_clear(&err);
		if (!conn_find(t->url)) {
			err_at(&err, E_CONFIG, cfg->path, t->node->line,
			       t->node->col,
			       "target '%s': no connector for '%s'", t->name,
			       t->url);
			report(&err, &nerr);
		}
		err_clear(&err);
		if (config_check_file(cfg, t->mapping, &err) < 0 ||
		    outbound_load(t->mapping, &o, &err) < 0)
			report(&err, &nerr);
		else
			nmap++;
		if (o)
			check_filename(cfg, t, outbound_format(o), &nerr);
		outbound_free(o);
	}
	if (nerr) {
		log_msg("error", "stockpipe check: %d problem%s", nerr,
			nerr == 1 ? "" : "s");
		config_free(cfg);
		return EXIT_CONFIG;
	}
	printf("ok: %s (%zu sources, %zu targets, %d mappings)\n", cfg->path,
	       cfg->nsources, cfg->ntargets, nmap);
	config_free(cfg);
	return EXIT_DONE;
}
