/* t_config.c - stockpipe.yaml: a full valid config, every refusal at
 * file:line:col, ${VAR} interpolation, paths relative to the config. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "lib/io.h"
#include "t.h"

static const char full[] =
	"state_dir: ./state\n"                          /* 1 */
	"reject_threshold: 15%\n"                       /* 2 */
	"sources:\n"                                    /* 3 */
	"  - name: stores\n"                            /* 4 */
	"    path: drop/stores\n"                       /* 5 */
	"    pattern: \"*.csv\"\n"                      /* 6 */
	"    mapping: mappings/store_stock_csv.yaml\n"  /* 7 */
	"    after_load: move\n"                        /* 8 */
	"    processed_dir: done\n"                     /* 9 */
	"    min_age: 5m\n"                             /* 10 */
	"  - name: dc-1\n"                              /* 11 */
	"    url: file:///srv/dc\n"                     /* 12 */
	"    patterns: [\"*.xml\", \"*.edi\"]\n"        /* 13 */
	"    mapping: /abs/m.yaml\n"                    /* 14 */
	"    reject_threshold: 5\n"                     /* 15 */
	"    after_load: delete\n"                      /* 16 */
	"targets:\n"                                    /* 17 */
	"  - name: webshop\n"                           /* 18 */
	"    path: out/webshop\n"                       /* 19 */
	"    mapping: mappings/webshop_stock.yaml\n"    /* 20 */
	"    filename: \"{target}_{run_id}.csv\"\n"     /* 21 */
	"    schedule: every 15m\n"                     /* 22 */
	"    locations: [S001, S002]\n"                 /* 23 */
	"    location_types: store\n"                   /* 24 */
	"    per_location: true\n"                      /* 25 */
	"    sellable: [on_hand, in_transit]\n"         /* 26 */
	"    subtract: [reserved]\n"                    /* 27 */
	"    safety_stock: 2\n"                         /* 28 */
	"    allocation: 80%\n"                         /* 29 */
	"  - name: market_place\n"                      /* 30 */
	"    url: file://rel/market\n"                  /* 31 */
	"    mapping: m.yaml\n"                         /* 32 */
	"    safety_stock: 10%\n";                      /* 33 */

static int bit(const char *state)
{
	return 1 << config_state_index(state);
}

T_TEST(config_full_valid)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	const struct cfg_source *s;
	const struct cfg_target *t;
	char dir[PATH_MAX], want[PATH_MAX + 100], hex[SHA256_HEX_LEN];
	char real[PATH_MAX];

	unsetenv("STOCKPIPE_STATE_DIR");
	T_ASSERT(realpath(".", dir) != NULL);
	T_ASSERT(t_write_file("stockpipe.yaml", full) == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &c, &e), &e);
	T_EQ_STR(c->path, "stockpipe.yaml");
	T_EQ_STR(c->dir, dir);
	T_OK(sha256_file("stockpipe.yaml", hex, NULL, &e), &e);
	T_EQ_STR(c->sha256, hex);
	T_ASSERT(mkdir("state", 0755) == 0);
	T_ASSERT(realpath(c->state_dir, real) != NULL);
	snprintf(want, sizeof(want), "%s/state", dir);
	T_EQ_STR(real, want);
	T_EQ_INT(c->reject_threshold_pct, 15);

	T_EQ_INT(c->nsources, 2);
	s = &c->sources[0];
	T_EQ_STR(s->name, "stores");
	snprintf(want, sizeof(want), "file://%s/drop/stores", dir);
	T_EQ_STR(s->url, want);
	snprintf(want, sizeof(want), "%s/mappings/store_stock_csv.yaml", dir);
	T_EQ_STR(s->mapping, want);
	T_EQ_INT(s->npatterns, 1);
	T_EQ_STR(s->patterns[0], "*.csv");
	T_EQ_INT(s->after_load, CFG_AFTER_MOVE);
	T_EQ_STR(s->processed_dir, "done");
	T_EQ_INT(s->min_age, 300);
	T_EQ_INT(s->reject_threshold_pct, 15); /* inherited */
	T_EQ_INT(s->node->line, 4);
	s = config_source(c, "dc-1");
	T_ASSERT(s == &c->sources[1]);
	T_EQ_STR(s->url, "file:///srv/dc");
	T_EQ_STR(s->mapping, "/abs/m.yaml");
	T_EQ_INT(s->npatterns, 2);
	T_EQ_STR(s->patterns[1], "*.edi");
	T_EQ_INT(s->reject_threshold_pct, 5);
	T_EQ_INT(s->after_load, CFG_AFTER_DELETE);
	T_EQ_INT(s->min_age, 0);
	T_ASSERT(config_source(c, "nope") == NULL);

	T_EQ_INT(c->ntargets, 2);
	t = config_target(c, "webshop");
	T_ASSERT(t == &c->targets[0]);
	snprintf(want, sizeof(want), "file://%s/out/webshop", dir);
	T_EQ_STR(t->url, want);
	snprintf(want, sizeof(want), "%s/mappings/webshop_stock.yaml", dir);
	T_EQ_STR(t->mapping, want);
	T_EQ_STR(t->filename, "{target}_{run_id}.csv");
	T_EQ_INT(t->schedule, CFG_SCHED_EVERY);
	T_EQ_INT(t->every, 900);
	T_EQ_INT(t->nlocations, 2);
	T_EQ_STR(t->locations[1], "S002");
	T_EQ_INT(t->nlocation_types, 1);
	T_EQ_STR(t->location_types[0], "store");
	T_EQ_INT(t->per_location, 1);
	T_EQ_INT(t->sellable_mask, bit("on_hand") | bit("in_transit"));
	T_EQ_INT(t->subtract_mask, bit("reserved"));
	T_EQ_INT(t->safety_abs, DEC_FROM_INT(2));
	T_EQ_INT(t->safety_pct, 0);
	T_EQ_INT(t->allocation_pct, 80);

	t = config_target(c, "market_place");
	T_ASSERT(t != NULL);
	snprintf(want, sizeof(want), "file://%s/rel/market", dir);
	T_EQ_STR(t->url, want);
	T_EQ_INT(t->safety_pct, 10);
	T_EQ_INT(t->safety_abs, 0);
	/* Defaults. */
	T_EQ_INT(t->schedule, CFG_SCHED_ALWAYS);
	T_EQ_INT(t->allocation_pct, 100);
	T_EQ_INT(t->per_location, 0);
	T_EQ_INT(t->nlocations, 0);
	T_EQ_INT(t->sellable_mask, bit("on_hand"));
	T_EQ_INT(t->subtract_mask, bit("reserved"));
	T_ASSERT(strstr(t->filename, "{target}") != NULL);
	T_ASSERT(config_target(c, "webshop2") == NULL);
	config_free(c);
	config_free(NULL);
}

T_TEST(config_minimal_defaults)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	const struct cfg_source *s;
	char dir[PATH_MAX], want[PATH_MAX + 100];

	unsetenv("STOCKPIPE_STATE_DIR");
	T_ASSERT(realpath(".", dir) != NULL);
	T_ASSERT(t_write_file("c.yaml", "sources:\n"
					"  - name: a\n"
					"    path: in\n"
					"    mapping: m.yaml\n") == 0);
	T_OK(config_load("c.yaml", NULL, &c, &e), &e);
	snprintf(want, sizeof(want), "%s/stockpipe-state", dir);
	T_EQ_STR(c->state_dir, want);
	T_EQ_INT(c->reject_threshold_pct, 20);
	T_EQ_INT(c->ntargets, 0);
	s = &c->sources[0];
	T_EQ_INT(s->npatterns, 1);
	T_EQ_STR(s->patterns[0], "*");
	T_EQ_INT(s->after_load, CFG_AFTER_LEAVE);
	T_EQ_STR(s->processed_dir, "processed");
	T_EQ_INT(s->reject_threshold_pct, 20);
	T_EQ_INT(s->stale_reject, 0); /* on_stale: warn */
	config_free(c);
}

T_TEST(config_on_stale_reject)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	unsetenv("STOCKPIPE_STATE_DIR");
	T_ASSERT(t_write_file("c.yaml", "sources:\n"
					"  - name: a\n"
					"    path: in\n"
					"    mapping: m.yaml\n"
					"    on_stale: reject\n"
					"  - name: b\n"
					"    path: in\n"
					"    mapping: m.yaml\n"
					"    on_stale: warn\n") == 0);
	T_OK(config_load("c.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->sources[0].stale_reject, 1);
	T_EQ_INT(c->sources[1].stale_reject, 0);
	config_free(c);
}

T_TEST(config_paths_relative_to_config_file)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	char dir[PATH_MAX], want[PATH_MAX + 100];

	unsetenv("STOCKPIPE_STATE_DIR");
	T_ASSERT(mkdir("etc", 0755) == 0 && mkdir("etc/sp", 0755) == 0);
	T_ASSERT(mkdir("elsewhere", 0755) == 0);
	T_ASSERT(t_write_file("etc/sp/stockpipe.yaml",
			      "state_dir: st\n"
			      "sources:\n"
			      "  - name: a\n"
			      "    url: file://drop\n"
			      "    mapping: maps/a.yaml\n"
			      "targets:\n"
			      "  - name: t\n"
			      "    url: file:///abs/out\n"
			      "    mapping: ../shared/t.yaml\n") == 0);
	T_ASSERT(realpath("etc/sp", dir) != NULL);
	/* Loaded from another working directory. */
	T_ASSERT(chdir("elsewhere") == 0);
	T_OK(config_load("../etc/sp/stockpipe.yaml", NULL, &c, &e), &e);
	T_ASSERT(chdir(t_dir) == 0);
	T_EQ_STR(c->dir, dir);
	snprintf(want, sizeof(want), "%s/st", dir);
	T_EQ_STR(c->state_dir, want);
	snprintf(want, sizeof(want), "file://%s/drop", dir);
	T_EQ_STR(c->sources[0].url, want);
	snprintf(want, sizeof(want), "%s/maps/a.yaml", dir);
	T_EQ_STR(c->sources[0].mapping, want);
	T_EQ_STR(c->targets[0].url, "file:///abs/out");
	snprintf(want, sizeof(want), "%s/../shared/t.yaml", dir);
	T_EQ_STR(c->targets[0].mapping, want);
	config_free(c);
}

T_TEST(config_state_dir_precedence)
{
	static const char y[] = "state_dir: from-file\n"
				"sources:\n"
				"  - {name: a, path: in, mapping: m.yaml}\n";
	struct config *c = NULL;
	struct err e = ERR_INIT;
	char cwd[PATH_MAX], cdir[PATH_MAX], want[PATH_MAX + 100];

	T_ASSERT(getcwd(cwd, sizeof(cwd)) != NULL);
	T_ASSERT(mkdir("conf", 0755) == 0);
	T_ASSERT(t_write_file("conf/c.yaml", y) == 0);
	T_ASSERT(realpath("conf", cdir) != NULL);

	unsetenv("STOCKPIPE_STATE_DIR");
	T_OK(config_load("conf/c.yaml", NULL, &c, &e), &e);
	snprintf(want, sizeof(want), "%s/from-file", cdir);
	T_EQ_STR(c->state_dir, want); /* file: relative to the file */
	config_free(c);

	setenv("STOCKPIPE_STATE_DIR", "from-env", 1);
	T_OK(config_load("conf/c.yaml", NULL, &c, &e), &e);
	snprintf(want, sizeof(want), "%s/from-env", cwd);
	T_EQ_STR(c->state_dir, want); /* env: relative to the cwd */
	config_free(c);

	/* The command line wins over both. */
	T_OK(config_load("conf/c.yaml", "from-cli", &c, &e), &e);
	snprintf(want, sizeof(want), "%s/from-cli", cwd);
	T_EQ_STR(c->state_dir, want);
	config_free(c);
	T_OK(config_load("conf/c.yaml", "/abs/state", &c, &e), &e);
	T_EQ_STR(c->state_dir, "/abs/state");
	config_free(c);

	/* An empty variable counts as unset. */
	setenv("STOCKPIPE_STATE_DIR", "", 1);
	T_OK(config_load("conf/c.yaml", NULL, &c, &e), &e);
	snprintf(want, sizeof(want), "%s/from-file", cdir);
	T_EQ_STR(c->state_dir, want);
	config_free(c);
	unsetenv("STOCKPIPE_STATE_DIR");
}

/* No state_dir anywhere: next to the config, except for a config under
 * /etc (a system install), whose state goes to /var/lib/stockpipe. */
T_TEST(config_state_dir_default)
{
	static const char y[] = "sources:\n"
				"  - {name: a, path: in, mapping: m.yaml}\n";
	struct config *c = NULL;
	struct err e = ERR_INIT;
	char cdir[PATH_MAX], want[PATH_MAX + 100];

	T_EQ_STR(config_default_state_dir("/etc"), "/var/lib/stockpipe");
	T_EQ_STR(config_default_state_dir("/etc/stockpipe"),
		 "/var/lib/stockpipe");
	T_EQ_STR(config_default_state_dir("/etc/stockpipe/eu"),
		 "/var/lib/stockpipe");
	T_EQ_STR(config_default_state_dir("/etcetera"), "stockpipe-state");
	T_EQ_STR(config_default_state_dir("/srv/etc"), "stockpipe-state");
	T_EQ_STR(config_default_state_dir("/"), "stockpipe-state");

	T_ASSERT(mkdir("conf", 0755) == 0);
	T_ASSERT(t_write_file("conf/c.yaml", y) == 0);
	T_ASSERT(realpath("conf", cdir) != NULL);
	unsetenv("STOCKPIPE_STATE_DIR");
	T_OK(config_load("conf/c.yaml", NULL, &c, &e), &e);
	snprintf(want, sizeof(want), "%s/stockpipe-state", cdir);
	T_EQ_STR(c->state_dir, want);
	config_free(c);
}

T_TEST(config_env_interpolation)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	unsetenv("STOCKPIPE_STATE_DIR");
	setenv("SP_T_DROP", "/data/drop", 1);
	setenv("SP_T_SUB", "stores", 1);
	unsetenv("SP_T_UNSET");
	setenv("SP_T_EMPTY", "", 1);
	T_ASSERT(t_write_file("c.yaml",
			      "sources:\n"
			      "  - name: a\n"
			      "    path: ${SP_T_DROP}/${SP_T_SUB}/in\n"
			      "    pattern: \"${SP_T_UNSET:-*.csv}\"\n"
			      "    mapping: /m/${SP_T_EMPTY:-x}.yaml\n"
			      "    processed_dir: \"${SP_T_UNSET:-}done\"\n"
			      "    min_age: ${SP_T_UNSET:-30s}\n") == 0);
	T_OK(config_load("c.yaml", NULL, &c, &e), &e);
	T_EQ_STR(c->sources[0].url, "file:///data/drop/stores/in");
	T_EQ_STR(c->sources[0].patterns[0], "*.csv");
	T_EQ_STR(c->sources[0].mapping, "/m/x.yaml");
	T_EQ_STR(c->sources[0].processed_dir, "done");
	T_EQ_INT(c->sources[0].min_age, 30);
	config_free(c);
	unsetenv("SP_T_DROP");
	unsetenv("SP_T_SUB");
	unsetenv("SP_T_EMPTY");
}

/* Writes text as stockpipe.yaml, loads it and checks the refusal:
 * E_CONFIG at stockpipe.yaml:line:col with why in the reason. */
static int refused(const char *text, unsigned long line, unsigned col,
		   const char *why)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	char msg[1200];
	int rc;

	if (t_write_file("stockpipe.yaml", text) < 0)
		return -1;
	rc = config_load("stockpipe.yaml", NULL, &c, &e);
	err_format(&e, msg, sizeof(msg));
	if (rc != -1 || c || e.code != E_CONFIG ||
	    strcmp(e.file, "stockpipe.yaml") || e.line != line ||
	    e.col != col || !strstr(e.reason, why)) {
		fprintf(stderr,
			"    ---\n%s    --- rc %d, code %s, got '%s'\n"
			"    want stockpipe.yaml:%lu:%u: ...%s...\n",
			text, rc, err_code_name(e.code), msg, line, col, why);
		config_free(c);
		return -1;
	}
	return 0;
}

#define SRC "sources:\n  - name: a\n    path: in\n    mapping: m.yaml\n"

T_TEST(config_missing_variable)
{
	unsetenv("SP_T_UNSET");
	setenv("SP_T_EMPTY", "", 1);
	T_EQ_INT(refused(SRC "targets:\n"
			     "  - name: t\n"
			     "    url: sftp://${SP_T_UNSET}/out\n"
			     "    mapping: m.yaml\n",
			 7, 10, "environment variable 'SP_T_UNSET' is not set"),
		 0);
	T_EQ_INT(refused("state_dir: ${SP_T_EMPTY}\n" SRC, 1, 12,
			 "'SP_T_EMPTY' is not set"),
		 0);
	T_EQ_INT(refused("state_dir: \"${SP_T_UNSET\"\n" SRC, 1, 12,
			 "unterminated"),
		 0);
	T_EQ_INT(refused("state_dir: x${}\n" SRC, 1, 12, "bad variable name"),
		 0);
	T_EQ_INT(refused("state_dir: x${:-d}\n" SRC, 1, 12,
			 "bad variable name"),
		 0);
	unsetenv("SP_T_EMPTY");
}

T_TEST(config_document_errors)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	T_EQ_INT(refused("", 1, 1, "must be a map"), 0);
	T_EQ_INT(refused("- a\n- b\n", 1, 1, "must be a map"), 0);
	T_EQ_INT(refused("\njust text\n", 2, 1, "must be a map"), 0);
	T_EQ_INT(refused(SRC "sourcez: []\n", 5, 1, "unknown key 'sourcez'"),
		 0);
	T_EQ_INT(refused(SRC "sources: []\n", 5, 1, "duplicate key"), 0);
	T_EQ_INT(refused("a: [\n", 2, 1, ""), 0); /* YAML syntax */
	T_EQ_INT(refused("x: &a 1\n" SRC, 1, 4, "anchors"), 0);
	T_EQ_INT(refused("reject_threshold: 120%\n" SRC, 1, 19,
			 "reject_threshold"),
		 0);
	T_EQ_INT(refused("state_dir: [a]\n" SRC, 1, 12,
			 "'state_dir' must be a single value"),
		 0);
	/* A missing file is a config error too. */
	T_EQ_INT(config_load("missing.yaml", NULL, &c, &e), -1);
	T_ASSERT(c == NULL);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "missing.yaml") != NULL);
}

T_TEST(config_source_errors)
{
	T_EQ_INT(refused("state_dir: s\n", 1, 1,
			 "'sources' must be a non-empty list"),
		 0);
	T_EQ_INT(refused("sources: []\n", 1, 10, "non-empty list"), 0);
	T_EQ_INT(refused("sources: here\n", 1, 10, "non-empty list"), 0);
	T_EQ_INT(refused("sources:\n  - stores\n", 2, 5,
			 "a source must be a map"),
		 0);
	T_EQ_INT(refused("sources:\n  - path: in\n    mapping: m.yaml\n", 2, 5,
			 "missing required key 'name'"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: a\n    path: in\n", 2, 5,
			 "missing required key 'mapping'"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: a\n    mapping: m.yaml\n", 2, 5,
			 "source 'a' needs a 'url' or 'path'"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: a b\n    path: in\n"
			 "    mapping: m.yaml\n",
			 2, 11, "may only use letters"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: ../x\n    path: in\n"
			 "    mapping: m.yaml\n",
			 2, 11, "may only use letters"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: \"\"\n    path: in\n"
			 "    mapping: m.yaml\n",
			 2, 5, "empty name"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: [a]\n    path: in\n"
			 "    mapping: m.yaml\n",
			 2, 11, "'name' must be a single value"),
		 0);
	T_EQ_INT(refused(SRC "    patern: \"*.csv\"\n", 5, 5,
			 "unknown key 'patern'"),
		 0);
	T_EQ_INT(refused(SRC "    path: again\n", 5, 5, "duplicate key 'path'"),
		 0);
	T_EQ_INT(refused(SRC "    after_load: archive\n", 5, 17,
			 "after_load must be leave, move or delete"),
		 0);
	T_EQ_INT(refused(SRC "    on_stale: drop\n", 5, 15,
			 "on_stale must be warn or reject, not 'drop'"),
		 0);
	T_EQ_INT(refused(SRC "    reject_threshold: 101%\n", 5, 23,
			 "reject_threshold must be a percentage"),
		 0);
	T_EQ_INT(refused(SRC "    reject_threshold: -1\n", 5, 23,
			 "reject_threshold"),
		 0);
	T_EQ_INT(refused(SRC "    min_age: 5 minutes\n", 5, 14,
			 "min_age must be a duration"),
		 0);
	T_EQ_INT(refused(SRC "    min_age: -5s\n", 5, 14, "min_age"), 0);
	T_EQ_INT(refused(SRC "    min_age: 99999999999999999999d\n", 5, 14,
			 "min_age"),
		 0);
	T_EQ_INT(refused(SRC "    min_age: 9999999999999999d\n", 5, 14,
			 "min_age"),
		 0);
	T_EQ_INT(refused(SRC "    patterns: [\"*.csv\", [x]]\n", 5, 25,
			 "expected a plain value"),
		 0);
	T_EQ_INT(refused(SRC "    patterns: {a: b}\n", 5, 15,
			 "expected a list"),
		 0);
	T_EQ_INT(refused(SRC "  - name: a\n    path: in2\n    mapping: m.yaml\n",
			 5, 5, "duplicate source name 'a'"),
		 0);
	/* file patterns with captures are checked where they are written */
	T_EQ_INT(refused(SRC "    pattern: \"stock_{store.csv\"\n", 5, 14,
			 "source 'a': pattern 'stock_{store.csv': capture '{store' has no closing '}'"),
		 0);
	T_EQ_INT(refused(SRC "    patterns: [\"*.x12\", \"{d:%m%d}.csv\"]\n", 5,
			 25, "needs a year"),
		 0);
}

/* A plain glob and a pattern with captures load as written. */
T_TEST(config_source_patterns_with_captures)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("c.yaml", SRC "    patterns: [\"*.csv\", "
				 "\"stock_{store}_{date:%Y%m%d}.csv\"]\n") == 0);
	T_OK(config_load("c.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->sources[0].npatterns, 2);
	T_EQ_STR(c->sources[0].patterns[1], "stock_{store}_{date:%Y%m%d}.csv");
	config_free(c);
}

#define TGT "targets:\n  - name: t\n    path: out\n    mapping: m.yaml\n"

T_TEST(config_target_errors)
{
	/* SRC is lines 1-4, TGT starts at 5; a key added after TGT is 9. */
	T_EQ_INT(refused(SRC "targets: webshop\n", 5, 10,
			 "'targets' must be a list"),
		 0);
	T_EQ_INT(refused(SRC "targets:\n  - webshop\n", 6, 5,
			 "a target must be a map"),
		 0);
	T_EQ_INT(refused(SRC "targets:\n  - name: t\n    mapping: m.yaml\n", 6,
			 5, "target 't' needs a 'url' or 'path'"),
		 0);
	T_EQ_INT(refused(SRC "targets:\n  - name: t\n    path: out\n", 6, 5,
			 "missing required key 'mapping'"),
		 0);
	T_EQ_INT(refused(SRC TGT "    colour: red\n", 9, 5,
			 "unknown key 'colour'"),
		 0);
	T_EQ_INT(refused(SRC TGT "    filename: ../x.csv\n", 9, 15,
			 "filename must not contain '/'"),
		 0);
	T_EQ_INT(refused(SRC TGT "    schedule: hourly\n", 9, 15,
			 "schedule must be"),
		 0);
	T_EQ_INT(refused(SRC TGT "    schedule: every 0s\n", 9, 15,
			 "schedule must be"),
		 0);
	T_EQ_INT(refused(SRC TGT "    schedule: every\n", 9, 15,
			 "schedule must be"),
		 0);
	T_EQ_INT(refused(SRC TGT "    per_location: yes\n", 9, 19,
			 "per_location must be true or false"),
		 0);
	T_EQ_INT(refused(SRC TGT "    sellable: [on_hand, bogus]\n", 9, 15,
			 "'bogus' is not a stock state"),
		 0);
	T_EQ_INT(refused(SRC TGT "    subtract: nothing\n", 9, 15,
			 "'nothing' is not a stock state"),
		 0);
	T_EQ_INT(refused(SRC TGT "    safety_stock: -1\n", 9, 19,
			 "safety_stock must be"),
		 0);
	T_EQ_INT(refused(SRC TGT "    safety_stock: lots\n", 9, 19,
			 "safety_stock must be"),
		 0);
	T_EQ_INT(refused(SRC TGT "    safety_stock: 150%\n", 9, 19,
			 "safety_stock must be"),
		 0);
	T_EQ_INT(refused(SRC TGT "    allocation: 101%\n", 9, 17,
			 "allocation must be a percentage"),
		 0);
	T_EQ_INT(refused(SRC TGT "    locations: {a: b}\n", 9, 16,
			 "expected a list"),
		 0);
	T_EQ_INT(refused(SRC TGT "  - name: t\n    path: o2\n    mapping: m\n",
			 9, 5, "duplicate target name 't'"),
		 0);
	T_EQ_INT(refused(SRC TGT "    on_bad_row: skip\n", 9, 17,
			 "on_bad_row must be reject or fail"),
		 0);
}

T_TEST(config_target_on_bad_row)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("c.yaml", SRC TGT
			      "  - { name: u, path: o2, mapping: m.yaml, "
			      "on_bad_row: fail }\n"
			      "  - { name: v, path: o3, mapping: m.yaml, "
			      "on_bad_row: reject }\n") == 0);
	T_OK(config_load("c.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->ntargets, 3);
	/* reject is the default: one bad row does not stop a target */
	T_EQ_INT(c->targets[0].bad_row_fail, 0);
	T_EQ_INT(c->targets[1].bad_row_fail, 1);
	T_EQ_INT(c->targets[2].bad_row_fail, 0);
	config_free(c);
}

T_TEST(config_unsellable_states_refused)
{
	static const char *const never[] = {"damaged", "quarantined",
					    "return_pending"};
	char y[600];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(y, sizeof(y), SRC TGT "    sellable: %s\n", never[i]);
		T_EQ_INT(refused(y, 9, 15, "can never be sellable"), 0);
		snprintf(y, sizeof(y),
			 SRC TGT "    sellable: [on_hand, in_transit, %s]\n",
			 never[i]);
		T_EQ_INT(refused(y, 9, 15, "can never be sellable"), 0);
	}
	/* Subtracting them is fine. */
	{
		struct config *c = NULL;
		struct err e = ERR_INIT;

		T_ASSERT(t_write_file("ok.yaml",
				      SRC TGT "    subtract: [reserved, damaged]\n"
					      "    sellable: available\n") == 0);
		T_OK(config_load("ok.yaml", NULL, &c, &e), &e);
		T_EQ_INT(c->targets[0].subtract_mask,
			 bit("reserved") | bit("damaged"));
		T_EQ_INT(c->targets[0].sellable_mask, bit("available"));
		config_free(c);
	}
}

T_TEST(config_state_names)
{
	T_EQ_INT(config_state_index("on_hand"), 0);
	T_EQ_INT(config_state_index("reserved"), 1);
	T_EQ_INT(config_state_index("available"), 6);
	T_EQ_INT(config_state_index("on_han"), -1);
	T_EQ_INT(config_state_index("on_hand|reserved"), -1);
	T_EQ_INT(config_state_index(""), -1);
	T_EQ_INT(config_state_index("ON_HAND"), -1);
}

T_TEST(config_routes_archive_authority_stale)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	const char *ok_text =
		"sources:\n"
		"  - name: a\n"
		"    path: in\n"
		"    routes:\n"
		"      - { pattern: \"stock_*.csv\", mapping: s.yaml }\n"
		"      - { format: xml, mapping: x.yaml }\n"
		"    archive: { max_members: 50, max_total: 10M, max_ratio: 30 }\n"
		"  - name: b\n"
		"    path: in\n"
		"    mapping: m.yaml\n"
		"authority:\n"
		"  on_hand: [a]\n"
		"targets:\n"
		"  - name: t\n"
		"    path: out\n"
		"    mapping: o.yaml\n"
		"    snapshot: delta\n"
		"    stale_after: 2h\n"
		"    stale_action: buffer 25%\n";

	T_ASSERT(t_write_file("stockpipe.yaml", ok_text) == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->sources[0].nroutes, 2);
	T_ASSERT(c->sources[0].mapping == NULL);
	T_ASSERT(strstr(config_mapping_for(&c->sources[0], "x.zip!d/stock_1.csv",
					   "csv"),
			"/s.yaml") != NULL);
	T_ASSERT(strstr(config_mapping_for(&c->sources[0], "feed.dat", "xml"),
			"/x.yaml") != NULL);
	T_ASSERT(config_mapping_for(&c->sources[0], "feed.dat", "csv") == NULL);
	T_EQ_INT(c->sources[0].archive.max_members, 50);
	T_EQ_INT(c->sources[0].archive.max_total, 10 * 1024 * 1024);
	T_EQ_INT(c->sources[0].archive.max_ratio, 30);
	T_EQ_INT(c->sources[1].archive.max_members, 10000); /* default */
	T_ASSERT(config_authorized(c, config_state_index("on_hand"), "a"));
	T_ASSERT(!config_authorized(c, config_state_index("on_hand"), "b"));
	T_ASSERT(config_authorized(c, config_state_index("reserved"), "b"));
	T_EQ_INT(c->targets[0].delta, 1);
	T_EQ_INT(c->targets[0].stale_after, 7200);
	T_EQ_INT(c->targets[0].stale_hold, 0);
	T_EQ_INT(c->targets[0].stale_buffer_pct, 25);
	config_free(c);

	T_EQ_INT(refused("sources:\n  - name: a\n    path: in\n"
			 "    routes:\n      - { mapping: s.yaml }\n",
			 5, 9, "a route needs a pattern, a format, a message, a version or a sender"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: a\n    path: in\n"
			 "    routes:\n      - { format: pdf, mapping: s.yaml }\n",
			 5, 19, "format must be x12, edifact, xml or csv"),
		 0);
	T_EQ_INT(refused(SRC "    archive: { max_ratio: lots }\n", 5, 27,
			 "'max_ratio' must be a positive number"),
		 0);
	T_EQ_INT(refused(SRC "authority:\n  on_hand: [nobody]\n", 6, 12,
			 "names 'nobody', which is not a source"),
		 0);
	T_EQ_INT(refused(SRC "authority:\n  sold: [a]\n", 6, 3,
			 "'sold' is not a stock state"),
		 0);
	T_EQ_INT(refused(SRC TGT "    stale_action: hold\n", 9, 19,
			 "stale_action needs stale_after"),
		 0);
	T_EQ_INT(refused(SRC TGT "    stale_after: 1h\n    stale_action: panic\n",
			 10, 19, "stale_action must be 'hold' or 'buffer N%'"),
		 0);
	T_EQ_INT(refused(SRC TGT "    snapshot: partial\n", 9, 15,
			 "snapshot must be full or delta"),
		 0);
}

/* state_db: a postgres:// URL, never with a password in it (the message
 * must not repeat it); the password's variable is named separately. */
T_TEST(config_state_db)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("m.yaml", "x: 1\n") == 0);
	T_ASSERT(t_write_file("stockpipe.yaml",
			      "state_db: postgres://sp@db.example:5432/stock\n"
			      "state_db_password_env: SP_DB_PW\n" SRC) == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &c, &e), &e);
	T_EQ_STR(c->state_db, "postgres://sp@db.example:5432/stock");
	T_EQ_STR(c->state_db_password_env, "SP_DB_PW");
	config_free(c);
	c = NULL;
	/* Empty (from ${VAR:-}) or absent: SQLite in state_dir. */
	unsetenv("SP_T_NO_DB");
	T_ASSERT(t_write_file("stockpipe.yaml",
			      "state_db: ${SP_T_NO_DB:-}\n" SRC) == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &c, &e), &e);
	T_ASSERT(c->state_db == NULL && c->state_db_password_env == NULL);
	config_free(c);
	T_EQ_INT(refused("state_db: postgres://sp:s3cret-pw@db/stock\n" SRC, 1,
			 11, "state_db_password_env"),
		 0);
	T_EQ_INT(refused("state_db: postgresql://db/stock?password=s3cret-pw\n"
			 SRC, 1, 11, "must not carry a password"),
		 0);
	T_EQ_INT(refused("state_db: mysql://db/stock\n" SRC, 1, 11,
			 "postgres:// URL"),
		 0);
	T_EQ_INT(refused("state_db_password_env: 1BAD-NAME\n" SRC, 1, 24,
			 "environment variable"),
		 0);
	T_ASSERT(t_write_file("stockpipe.yaml",
			      "state_db: postgres://sp:s3cret-pw@db/x\n" SRC) ==
		 0);
	T_EQ_INT(config_load("stockpipe.yaml", NULL, &c, &e), -1);
	T_ASSERT(strstr(e.reason, "s3cret") == NULL);
}

/* detect_changes: metadata by default, content for a local folder; over
 * SFTP refused at its line (it would read every known file in full). */
T_TEST(config_detect_changes)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;

	unsetenv("STOCKPIPE_STATE_DIR");
	T_ASSERT(t_write_file("c.yaml", "sources:\n"
					"  - name: a\n"
					"    path: in\n"
					"    mapping: m.yaml\n"
					"    detect_changes: content\n"
					"  - name: b\n"
					"    path: in\n"
					"    mapping: m.yaml\n"
					"    detect_changes: metadata\n"
					"  - name: c\n"
					"    path: in\n"
					"    mapping: m.yaml\n") == 0);
	T_OK(config_load("c.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->sources[0].detect_content, 1);
	T_EQ_INT(c->sources[1].detect_content, 0);
	T_EQ_INT(c->sources[2].detect_content, 0);
	config_free(c);
	T_EQ_INT(refused("sources:\n  - name: a\n    path: in\n"
			 "    mapping: m.yaml\n    detect_changes: hash\n",
			 5, 21, "detect_changes must be metadata or content, "
			 "not 'hash'"),
		 0);
	T_EQ_INT(refused("sources:\n  - name: s\n"
			 "    url: sftp://partner.example/out\n"
			 "    mapping: m.yaml\n    detect_changes: content\n",
			 5, 21, "source 's': detect_changes: content needs a "
			 "local folder (file://)"),
		 0);
}

/* routes: message:, version: (D:96A read as D96A; X12 by prefix) and
 * sender: (ISA06 or GS02; UNB 0004) combine with pattern: and format:;
 * the first route all of whose keys match wins; values of the wrong form
 * fail at load. */
T_TEST(config_routes_by_envelope)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	const struct cfg_source *s;
	struct cfg_doc_facts desadv = {"edifact", "DESADV", "D96A", "5412345000013", NULL};
	struct cfg_doc_facts desadv_01b = {"edifact", "DESADV", "D01B", "5412345000013", NULL};
	struct cfg_doc_facts x846 = {"x12", "846", "004010VICS", "ACME", "ACMEGS"};
	struct cfg_doc_facts x852 = {"x12", "852", "005010", "OTHER", "ACMEGS"};
	struct cfg_doc_facts csv = {"csv", NULL, NULL, NULL, NULL};
	int envelope = 0;
	const char *text =
		"sources:\n"
		"  - name: a\n"
		"    path: in\n"
		"    routes:\n"
		"      - { message: DESADV, version: \"D:96A\", mapping: d96.yaml }\n"
		"      - { message: DESADV, mapping: d.yaml }\n"
		"      - { format: x12, message: \"846\", version: \"004010\", mapping: x846.yaml }\n"
		"      - { sender: ACMEGS, pattern: \"*.x12\", mapping: gs.yaml }\n"
		"      - { format: csv, mapping: c.yaml }\n";

	T_ASSERT(t_write_file("stockpipe.yaml", text) == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &c, &e), &e);
	s = &c->sources[0];
	T_ASSERT(config_routes_sniff(s, &envelope) && envelope);
	T_ASSERT(strstr(config_mapping_for_doc(s, "m1.edi", &desadv), "/d96.yaml") != NULL);
	T_ASSERT(strstr(config_mapping_for_doc(s, "m1.edi", &desadv_01b), "/d.yaml") != NULL);
	T_ASSERT(strstr(config_mapping_for_doc(s, "m.x12", &x846), "/x846.yaml") != NULL);
	T_ASSERT(strstr(config_mapping_for_doc(s, "m.x12", &x852), "/gs.yaml") != NULL);
	T_ASSERT(config_mapping_for_doc(s, "m.edi", &x852) == NULL);
	T_ASSERT(strstr(config_mapping_for_doc(s, "m.csv", &csv), "/c.yaml") != NULL);
	/* without envelope values (a plain format sniff) no message route matches */
	T_ASSERT(config_mapping_for(s, "m1.edi", "edifact") == NULL);
	config_free(c);
	c = NULL;

	T_ASSERT(t_write_file("stockpipe.yaml", "sources:\n  - name: a\n    path: in\n    routes:\n"
			      "      - { message: desadv, mapping: d.yaml }\n") == 0);
	T_EQ_INT(config_load("stockpipe.yaml", NULL, &c, &e), -1);
	T_ASSERT(strstr(e.reason, "message: is an EDIFACT message type") != NULL);
	T_EQ_INT(e.line, 5);
	err_clear(&e);
	T_ASSERT(t_write_file("stockpipe.yaml", "sources:\n  - name: a\n    path: in\n    routes:\n"
			      "      - { format: csv, message: DESADV, mapping: d.yaml }\n") == 0);
	T_EQ_INT(config_load("stockpipe.yaml", NULL, &c, &e), -1);
	T_ASSERT(strstr(e.reason, "select EDI documents (format x12 or edifact), not 'csv'") != NULL);
	err_clear(&e);
	T_ASSERT(t_write_file("stockpipe.yaml", "sources:\n  - name: a\n    path: in\n    routes:\n"
			      "      - { mapping: d.yaml }\n") == 0);
	T_EQ_INT(config_load("stockpipe.yaml", NULL, &c, &e), -1);
	T_ASSERT(strstr(e.reason, "a route needs a pattern, a format, a message, a version or a sender") != NULL);
}
