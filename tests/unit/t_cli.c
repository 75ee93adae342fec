/* t_cli.c - the command line helper (pipeline/cli/cli.c): getopt_long
 * through one option table per command, with the global options mixed
 * in; numbers; JSON strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "pipeline/cli/cli.h"
#include "t.h"

/* Runs cli_parse on a copy of the words (it permutes argv). */
struct parsed {
	const char *limit, *target;
	int json, dry, first, argc;
	char *argv[16];
	struct cli_global g;
};

static void parse(struct parsed *p, const char *const *words)
{
	const struct cli_opt opts[] = {
		{"limit", 'n', &p->limit, NULL},
		{"target", 't', &p->target, NULL},
		{"json", 'j', NULL, &p->json},
		{"dry-run", 0, NULL, &p->dry},
		{NULL, 0, NULL, NULL},
	};

	memset(p, 0, sizeof(*p));
	while (words[p->argc] && p->argc < 15) {
		p->argv[p->argc] = (char *)words[p->argc];
		p->argc++;
	}
	p->g.config_path = "stockpipe.yaml";
	cli_set_global(&p->g);
	p->first = cli_parse("test", p->argc, p->argv, opts);
	cli_set_global(NULL);
}

T_TEST(cli_parse_long_forms)
{
	struct parsed p;
	const char *const w1[] = {"runs", "--limit=5", "--target", "shop", NULL};

	parse(&p, w1);
	T_EQ_INT(p.first, 4);
	T_EQ_STR(p.limit, "5");
	T_EQ_STR(p.target, "shop");
	/* a unique prefix of a long option is accepted, as getopt_long does */
	{
		const char *const w2[] = {"runs", "--lim", "7", "--dry", NULL};

		parse(&p, w2);
		T_EQ_STR(p.limit, "7");
		T_EQ_INT(p.dry, 1);
	}
}

T_TEST(cli_parse_bundles_and_globals)
{
	struct parsed p;
	const char *const w[] = {"runs", "-qvj", "-n3", "-c", "x.yaml",
				 "--state-dir=/s", NULL};

	parse(&p, w);
	T_EQ_INT(p.first, 6);
	T_EQ_INT(p.g.quiet, 1);
	T_EQ_INT(p.g.verbose, 1);
	T_EQ_INT(p.json, 1);
	T_EQ_STR(p.limit, "3");
	T_EQ_STR(p.g.config_path, "x.yaml");
	T_EQ_INT(p.g.config_given, 1);
	T_EQ_STR(p.g.state_dir, "/s");
}

T_TEST(cli_parse_arguments_move_to_the_end)
{
	struct parsed p;
	const char *const w[] = {"show", "12", "--json", "extra", "--",
				 "--json", NULL};

	parse(&p, w);
	T_ASSERT(p.first > 0);
	T_EQ_INT(p.argc - p.first, 3);
	T_EQ_STR(p.argv[p.first], "12");
	T_EQ_STR(p.argv[p.first + 1], "extra");
	/* after "--" an option-looking word is an argument */
	T_EQ_STR(p.argv[p.first + 2], "--json");
	T_EQ_INT(p.json, 1);
}

T_TEST(cli_parse_errors)
{
	struct parsed p;
	const char *const unknown[] = {"runs", "--bogus", NULL};
	const char *const novalue[] = {"runs", "--limit", NULL};
	const char *const flagval[] = {"runs", "--json=1", NULL};
	const char *const badshort[] = {"runs", "-x", NULL};
	const char *const badskip[] = {"runs", "--skip-exit-code=0", NULL};

	parse(&p, unknown);
	T_EQ_INT(p.first, -1);
	parse(&p, novalue);
	T_EQ_INT(p.first, -1);
	parse(&p, flagval);
	T_EQ_INT(p.first, -1);
	parse(&p, badshort);
	T_EQ_INT(p.first, -1);
	parse(&p, badskip);
	T_EQ_INT(p.first, -1);
}

T_TEST(cli_number_bounds)
{
	long long v = 0;

	T_EQ_INT(cli_number("20", 1, 100, &v), 0);
	T_EQ_INT(v, 20);
	T_EQ_INT(cli_number("0", 1, 100, &v), -1);
	T_EQ_INT(cli_number("101", 1, 100, &v), -1);
	T_EQ_INT(cli_number("1x", 1, 100, &v), -1);
	T_EQ_INT(cli_number("", 1, 100, &v), -1);
	T_EQ_INT(cli_number(" 5", 1, 100, &v), -1);
	T_EQ_INT(cli_number("99999999999999999999", 1, 100, &v), -1);
}

T_TEST(cli_json_str_escapes)
{
	char buf[128] = {0};
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	T_ASSERT(f != NULL);
	cli_json_str(f, "a\"b\\c\nd\x01");
	fclose(f);
	T_EQ_STR(buf, "\"a\\\"b\\\\c\\nd\\u0001\"");
}
