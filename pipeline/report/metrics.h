/* metrics.h - one Prometheus text-format file per run, for node_exporter's
 * textfile collector: state_dir/metrics/stockpipe.prom, replaced
 * atomically (tmp + fsync + rename) after every run, so the collector
 * never reads half a file. Every value describes the last run (gauges),
 * plus the time of the last successful one. Names and alerts:
 * docs/operations.md and ops/prometheus/alerts.yml.
 */
#ifndef STOCKPIPE_METRICS_H
#define STOCKPIPE_METRICS_H

#include <stdint.h>

#include "lib/buf.h"
#include "pipeline/config.h"
#include "lib/err.h"
#include "report.h"
#include "pipeline/store/state.h"

/* Formats the metrics of rep's run into out. now = the run clock (the
 * delivery time recorded in the ledger is on the same clock). */
int metrics_format(struct state *st, const struct config *cfg,
		   const struct report *rep, struct buf *out,
		   struct err *err);
/* metrics_format, then io_write_file to state_dir/metrics/stockpipe.prom. */
int metrics_write(struct state *st, const struct config *cfg,
		  const struct report *rep, int64_t now, struct err *err);

#endif
