/* metrics.h - one Prometheus text-format file per pipeline, for
 * node_exporter's textfile collector, rewritten atomically (lib/io: tmp +
 * fsync + rename, so the collector never reads half a file) at EVERY exit
 * of a pipeline command (run, resume, retry, rerun, replay, plan, work),
 * failed ones included: a config error leaves exit code 78 in the file,
 * not the last run's 1.
 *
 * Three kinds of series, every one with the label pipeline="NAME":
 *   - this invocation: exit code, write time, build info, whether the
 *     store could be read;
 *   - the last concluded run (stockpipe_last_run_*, stockpipe_run_*,
 *     stage durations, delivery latency);
 *   - the current state, read from the store, whatever the last run did:
 *     parked units by class, quarantined documents by source, negative
 *     positions, and per target the last delivery, the age of its data and
 *     the stale-source rule. A quarantined document stays in the gauge
 *     until it is released and mapped again.
 *
 * Where the file goes (docs/operations.md, "Metrics"):
 *   1. $STOCKPIPE_METRICS_PATH, when set (relative to the working folder);
 *   2. `metrics_path:` of the config (relative to the config file);
 *   3. STATE_DIR/metrics/stockpipe.prom.
 * When the config cannot be loaded (exit 78) or the command line is wrong
 * (64), the same rule is applied to what can still be read: the YAML's
 * top-level metrics_path, pipeline and state_dir when it parses, else
 * --state-dir, $STOCKPIPE_STATE_DIR or the default state folder next to
 * the config; and the file is then written only into a folder that
 * already exists (a typo in -c creates nothing). Such a file has only the
 * invocation's series and stockpipe_state_readable 0.
 *
 * Names, labels and alerts: docs/operations.md, ops/prometheus/alerts.yml.
 */
#ifndef STOCKPIPE_METRICS_H
#define STOCKPIPE_METRICS_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/cli/cli.h"
#include "pipeline/config.h"
#include "pipeline/store/state.h"
#include "report.h"

/* What one metrics file is made of. */
struct metrics_in {
	struct state *st;          /* NULL: the store could not be read */
	const struct config *cfg;  /* NULL: the config could not be read
				    * (then st is NULL too) */
	const char *pipeline;      /* the pipeline label's value */
	const struct report *rep;  /* the last concluded run, or NULL */
	int code;                  /* this invocation's exit code */
	int64_t now;               /* run clock (the stale-source rule) */
	int64_t written;           /* wall clock of the write */
};

/* The exposition text of in, appended to out. 0, or -1 with err (a store
 * query failed, or the text does not fit). */
int metrics_format(const struct metrics_in *in, struct buf *out,
		   struct err *err);

/* Writes in's text to path atomically (lib/io: tmp + fsync + rename; the
 * folder is made when missing). */
int metrics_publish(const char *path, const struct metrics_in *in,
		    struct err *err);

/* main()'s one hook: called with the exit code of command argv[0] (a
 * pipeline command; others and --help write nothing), writes the file as
 * described above and returns code unchanged. A failure to write is
 * logged as a warning: metrics never change an exit code. */
int metrics_exit(const struct cli_global *g, int argc, char **argv, int code);

#endif
