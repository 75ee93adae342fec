/* show_warn.c - the warnings section of `stockpipe show RUN_ID` (issue
 * 17): what the run's documents gave that did not stop their data, each
 * at the place an editor opens (file:line:col, then the EDI segment and
 * byte). Nothing is printed for a run without warnings. */
#include <stdio.h>
#include <string.h>

#include "lib/utf8.h"
#include "pipeline/store/state_warn.h"
#include "show_warn.h"

static int print_warning(void *ud, const struct state_warning *w)
{
	int *n = ud;
	char key[1024], file[1024], msg[2048];

	/* names and messages come from partner files: \xNN, never raw
	 * control bytes to the terminal */
	utf8_term_copy(key, sizeof(key), w->ukey ? w->ukey : "",
		       w->ukey ? strlen(w->ukey) : 0, 0);
	utf8_term_copy(file, sizeof(file), w->file, strlen(w->file), 0);
	utf8_term_copy(msg, sizeof(msg), w->message, strlen(w->message), 0);
	if (!(*n)++)
		printf("\nwarnings (data loaded):\n");
	if (w->loc.seg)
		printf("  %s '%s': %s:%lu:%u: %s: %s (segment %lu, byte %llu)\n",
		       w->scope ? w->scope : "", key, file, w->loc.line,
		       w->loc.col, w->code, msg, w->loc.seg, w->loc.offset);
	else if (w->loc.line)
		printf("  %s '%s': %s:%lu:%u: %s: %s\n", w->scope ? w->scope : "",
		       key, file, w->loc.line, w->loc.col, w->code, msg);
	else
		printf("  %s '%s': %s: %s: %s\n", w->scope ? w->scope : "", key,
		       file, w->code, msg);
	return 0;
}

int show_warnings(struct state *st, long long run_id, struct err *err)
{
	int n = 0;

	return state_warn_run_each(st, (int64_t)run_id, print_warning, &n,
				   err);
}
