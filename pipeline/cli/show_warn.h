/* show_warn.h - `show`'s warnings section (show_warn.c). */
#ifndef STOCKPIPE_SHOW_WARN_H
#define STOCKPIPE_SHOW_WARN_H

#include "lib/err.h"
#include "pipeline/store/state.h"

/* Prints the warnings of run run_id's documents after a blank line and a
 * heading; nothing when there are none. 0 or -1 with err. */
int show_warnings(struct state *st, long long run_id, struct err *err);

#endif
