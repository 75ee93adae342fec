/* t_report_html.c - `show --html` of the small run of t_report.c: the
 * heading with a red badge (exit 75) and counts, the stage table, the
 * quarantined and parked units with their reasons and next steps, names
 * escaped, the failed delivery told apart from a published one, nothing
 * delivered said so. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/config.h"
#include "pipeline/report/report.h"
#include "pipeline/store/state.h"
#include "t.h"

int t_small_run_store(struct state **st, int64_t *run, struct err *e);

T_TEST(report_html_small_run)
{
	struct cfg_source src[2];
	struct cfg_target tgt[1];
	struct config cfg;
	struct state_run run;
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(4 << 20);
	int64_t id = 0;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(src, 0, sizeof(src));
	memset(tgt, 0, sizeof(tgt));
	memset(&run, 0, sizeof(run));
	src[0].name = "stores";
	src[1].name = "<x&\"y>";
	tgt[0].name = "webshop";
	cfg.sources = src;
	cfg.nsources = 2;
	cfg.targets = tgt;
	cfg.ntargets = 1;
	cfg.state_dir = "st";
	T_OK(t_small_run_store(&st, &id, &e), &e);
	run.run_id = id;
	run.exit_code = 75;
	snprintf(run.status, sizeof(run.status), "failed");
	snprintf(run.started_at, sizeof(run.started_at), "2026-11-20T06:00:00Z");
	rc = report_html(st, &cfg, &run, &b, &e);
	state_close(st);
	T_OK(rc, &e);
	buf_addc(&b, '\0');
	T_ASSERT(!strncmp(b.ptr, "<!DOCTYPE html>\n", 16));
	T_ASSERT(strstr(b.ptr, "<h1>stockpipe run 1 <span class=\"status "
			       "s-bad\" title=\"exit 75\">failed (exit 75)"
			       "</span></h1>\n<p>exit code 75 "
			       "&middot; started 2026-11-20T06:00:00Z &middot; "
			       "finished - &middot; 2 rejected, 1 quarantined, "
			       "1 duplicates skipped, 1 failed units, 0 "
			       "delivered</p>"));
	T_ASSERT(strstr(b.ptr, "<tr><td>map</td><td class=\"n\">1</td><td "
			       "class=\"n\">0</td><td class=\"n\">1</td><td "
			       "class=\"n\">0</td><td class=\"n\">10</td><td "
			       "class=\"n\">8</td><td class=\"n\">2</td>"));
	T_ASSERT(strstr(b.ptr, "<tr class=\"bad\"><td>4</td><td>map</td><td>"
			       "stores</td><td>b.csv</td><td>quarantined</td>"
			       "<td>no column &#39;qty&#39;</td><td class=\"next\">"
			       "See why: <code class=\"cmd\">stockpipe "
			       "--state-dir st quarantine show 4</code>"));
	T_ASSERT(strstr(b.ptr, "<td>deliver</td><td>webshop</td><td>snapshot"
			       "</td><td>parked (transient)</td><td>connection "
			       "refused</td><td class=\"next\">Retryable (a "
			       "temporary failure, exit 75 class)"));
	T_ASSERT(strstr(b.ptr, "&lt;x&amp;&quot;y&gt;") != NULL);
	T_ASSERT(strstr(b.ptr, "<x&") == NULL);
	T_ASSERT(strstr(b.ptr, "<td>webshop</td><td>FAILED: not delivered"
			       "</td>"));
	T_ASSERT(strstr(b.ptr, "<p>Nothing delivered in this run.</p>"));
	T_ASSERT(strstr(b.ptr, "Stock published") == NULL);
	T_EQ_STR(b.ptr + strlen(b.ptr) - 15, "</body></html>\n");
	buf_release(&b);
}
