/* cli.c - helpers shared by the subcommands; see cli.h. */
#include "cli.h"
#include "lib/log.h"

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
