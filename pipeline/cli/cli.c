/* cli.c - helpers shared by the subcommands; see cli.h. */
#include "cli.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>

#include <string.h>

int cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

void cli_usage(FILE *out, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* out of memory: the usage text is a courtesy, the error line
		 * before it was already printed */
		return;
	}
	if (out == stderr && log_get_format() == LOG_JSON)
		log_block("info", text);
	else
		fputs(text, out);
	free(text);
}

const struct option cli_global_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"state-dir", required_argument, NULL, CLI_OPT_STATE_DIR},
	{"skip-exit-code", required_argument, NULL, CLI_OPT_SKIP_EXIT},
	{"log-format", required_argument, NULL, CLI_OPT_LOG_FORMAT},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, CLI_OPT_VERSION},
	{NULL, 0, NULL, 0},
};

#define GLOBAL_SHORT "c:qvh"
#define NGLOBAL (sizeof(cli_global_options) / sizeof(cli_global_options[0]) - 1)
#define MAX_OPTS 32

static struct cli_global *global;

void cli_set_global(struct cli_global *g)
{
	global = g;
}

int cli_number(const char *text, long long min, long long max,
	       long long *out)
{
	char *end;
	long long v;

	if (!text || !*text || *text == ' ')
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (*end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_global_opt(struct cli_global *g, int val, const char *arg)
{
	long long n;

	switch (val) {
	case 'c':
		g->config_path = arg;
		g->config_given = 1;
		return 0;
	case CLI_OPT_STATE_DIR:
		g->state_dir = arg;
		return 0;
	case CLI_OPT_SKIP_EXIT:
		if (cli_number(arg, 1, 255, &n) < 0) {
			log_msg("error", "stockpipe: --skip-exit-code needs a "
					"number 1-255");
			return EXIT_USAGE;
		}
		g->skip_exit_code = (int)n;
		return 0;
	case CLI_OPT_LOG_FORMAT:
		if (log_set_format_name(arg) < 0) {
			log_msg("error", "stockpipe: --log-format is text or "
					"json");
			return EXIT_USAGE;
		}
		return 0;
	case 'q':
		g->quiet = 1;
		return 0;
	case 'v':
		g->verbose = 1;
		return 0;
	case 'h':
		/* handled before parsing (cli_wants_help) */
		return 0;
	}
	return EXIT_USAGE;
}

/* Logs getopt's complaint about argv[optind - 1] (opterr is off: every
 * stderr line goes through lib/log). */
static void bad_option(const char *cmd, int c, char **argv,
		       const char *shorts)
{
	const char *a = argv[optind - 1];
	const char *p;

	if (c == ':' && a[0] == '-' && a[1] == '-')
		log_msg("error", "stockpipe %s: option '%s' needs a value",
			cmd, a);
	else if (a[0] == '-' && a[1] == '-' && optopt)
		log_msg("error", "stockpipe %s: option '%.*s' takes no value",
			cmd, (int)strcspn(a, "="), a);
	else if (c == ':')
		log_msg("error", "stockpipe %s: option '-%c' needs a value",
			cmd, optopt);
	else if (optopt && (p = strchr(shorts, optopt)) && p[1] != ':')
		log_msg("error", "stockpipe %s: option '-%c' takes no value",
			cmd, optopt);
	else if (optopt)
		log_msg("error", "stockpipe %s: unknown option '-%c'", cmd,
			optopt);
	else
		log_msg("error", "stockpipe %s: unknown or ambiguous option "
				"'%s'", cmd, a);
}

int cli_parse(const char *cmd, int argc, char **argv,
	      const struct cli_opt *opts)
{
	struct option lopts[MAX_OPTS + NGLOBAL + 1];
	char shorts[2 * MAX_OPTS + sizeof(GLOBAL_SHORT) + 2];
	size_t n = 0, ns = 0, k;
	int c, idx;

	/* ':' first: a missing value returns ':' instead of '?' */
	shorts[ns++] = ':';
	for (k = 0; opts && opts[k].name; k++) {
		if (k == MAX_OPTS) {
			log_msg("error", "stockpipe %s: too many options "
					"(internal)", cmd);
			return -1;
		}
		lopts[n].name = opts[k].name;
		lopts[n].has_arg = opts[k].value ? required_argument
						 : no_argument;
		lopts[n].flag = NULL;
		lopts[n].val = 1000 + (int)k;
		n++;
		if (opts[k].short_name) {
			shorts[ns++] = (char)opts[k].short_name;
			if (opts[k].value)
				shorts[ns++] = ':';
		}
	}
	for (k = 0; k < NGLOBAL; k++)
		lopts[n++] = cli_global_options[k];
	memset(&lopts[n], 0, sizeof(lopts[n]));
	memcpy(shorts + ns, GLOBAL_SHORT, sizeof(GLOBAL_SHORT));
	optind = 0; /* glibc: start afresh (main parsed its own part) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		const struct cli_opt *o = NULL;

		if (c == '?' || c == ':') {
			bad_option(cmd, c, argv, shorts);
			return -1;
		}
		if (c >= 1000)
			o = &opts[c - 1000];
		for (k = 0; !o && opts && opts[k].name; k++)
			if (opts[k].short_name == c)
				o = &opts[k];
		if (o && o->value)
			*o->value = optarg;
		else if (o && o->flag)
			*o->flag = 1;
		else if (!o && c == CLI_OPT_VERSION)
			continue; /* main() prints it before the command */
		else if (!o && (!global || cli_global_opt(global, c, optarg)))
			return -1;
	}
	return optind;
}

void cli_json_str(FILE *out, const char *s)
{
	struct buf b = BUF_INIT(1 << 20);

	/* lib/buf's writer: escapes, and valid UTF-8 whatever s holds */
	if (!s)
		s = "";
	if (buf_add_json_str(&b, s, strlen(s)) == 0)
		fwrite(b.ptr, 1, b.len, out);
	else
		fputs("\"\"", out);
	buf_release(&b);
}
