/* state_warn.h - the warnings of a map unit's document (issue 17,
 * "warnings that do not stop work"): what the mapping found that did not
 * stop the data (envelope counts, versions, values cut by a repetition
 * separator, the EDI reader's warnings), each with its place, kept per
 * unit so `show` lists them. Table unit_warnings (schema version 8).
 */
#ifndef STOCKPIPE_STATE_WARN_H
#define STOCKPIPE_STATE_WARN_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

struct state_warning {
	const char *code;       /* "count", "version", "repetition", ... */
	const char *file;       /* document name */
	struct src_loc loc;     /* physical line:col, segment, byte */
	const char *message;
	/* state_warn_run_each: the map unit's scope (source) and key */
	const char *scope, *ukey;
};

/* Replaces the warnings of unit (a map unit) with w[0..n). In one
 * transaction of its own. */
int state_warn_set(struct state *s, int64_t unit,
		   const struct state_warning *w, size_t n, struct err *err);

/* Calls cb with each warning of unit in order (strings valid for the
 * call) until it returns nonzero. */
int state_warn_each(struct state *s, int64_t unit,
		    int (*cb)(void *ud, const struct state_warning *w),
		    void *ud, struct err *err);

/* The same over every unit of run run_id, unit by unit. */
int state_warn_run_each(struct state *s, int64_t run_id,
			int (*cb)(void *ud, const struct state_warning *w),
			void *ud, struct err *err);

#endif
