/* t_metrics.c - the Prometheus text of the small run of t_report.c,
 * checked by a strict parser (every sample after its HELP and TYPE, one
 * line per series, label values escaped, numeric values), then the values
 * that describe that run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/config.h"
#include "pipeline/report/metrics.h"
#include "pipeline/report/report.h"
#include "pipeline/store/state.h"
#include "t.h"

int t_small_run_store(struct state **st, int64_t *run, struct err *e);

/* Checks one sample line "name{k="v",...} value" against the family
 * announced last; returns NULL or why it is wrong. */
static const char *bad_sample(const char *line, const char *family)
{
	const char *p = line;
	char *end;
	size_t n = strlen(family);

	if (strncmp(p, family, n) || (p[n] != ' ' && p[n] != '{'))
		return "sample outside its HELP/TYPE family";
	p += n;
	if (*p == '{') {
		for (p++; *p != '}';) {
			while ((*p >= 'a' && *p <= 'z') || *p == '_')
				p++;
			if (*p++ != '=' || *p++ != '"')
				return "bad label";
			for (; *p != '"'; p++) {
				if (!*p || *p == '\n')
					return "unterminated label value";
				if (*p == '\\' && (p[1] == '\\' || p[1] == '"' ||
						   p[1] == 'n'))
					p++;
				else if (*p == '\\')
					return "bad escape in label value";
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return "bad label list";
		}
		p++;
	}
	if (*p++ != ' ')
		return "no value";
	strtod(p, &end);
	if (end == p || *end)
		return "value is not a number";
	return NULL;
}

/* Parses the whole text; NULL when valid, else the first problem. */
static const char *parse_prom(char *text, int *nsamples)
{
	static char why[300];
	char family[128] = "", typed[128] = "", *line, *save = NULL;
	char *seen[400];
	int nseen = 0, i;
	const char *b;

	*nsamples = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", family);
			typed[0] = '\0';
		} else if (!strncmp(line, "# TYPE ", 7)) {
			char kind[32] = "";

			sscanf(line + 7, "%127s %31s", typed, kind);
			if (strcmp(typed, family) || strcmp(kind, "gauge")) {
				snprintf(why, sizeof(why), "TYPE without HELP: %s", line);
				return why;
			}
		} else if (line[0] == '#') {
			return "unknown comment";
		} else {
			if (strcmp(typed, family) || !family[0])
				return "sample before TYPE";
			if ((b = bad_sample(line, family))) {
				snprintf(why, sizeof(why), "%s: %s", b, line);
				return why;
			}
			for (i = 0; i < nseen; i++)
				if (!strncmp(seen[i], line, strcspn(line, " ") + 1))
					return "duplicate series";
			if (nseen < 400)
				seen[nseen++] = line;
			++*nsamples;
		}
	}
	return NULL;
}

/* The value of the series named exactly (with its labels), or -1. */
static double value_of(const char *text, const char *series)
{
	char key[300];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", series);
	p = strstr(text, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

T_TEST(metrics_prometheus_text_of_small_run)
{
	struct cfg_source src[2];
	struct cfg_target tgt[1];
	struct config cfg;
	struct state *st = NULL;
	struct report rep;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 20);
	struct metrics_in in;
	char *copy;
	const char *why;
	int64_t run = 0;
	int n = 0, rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&in, 0, sizeof(in));
	memset(src, 0, sizeof(src));
	memset(tgt, 0, sizeof(tgt));
	src[0].name = "stores";
	src[1].name = "odd \"name\"\\";
	tgt[0].name = "webshop";
	cfg.sources = src;
	cfg.nsources = 2;
	cfg.targets = tgt;
	cfg.ntargets = 1;
	T_OK(t_small_run_store(&st, &run, &e), &e);
	T_OK(report_build(st, run, &rep, &e), &e);
	snprintf(rep.status, sizeof(rep.status), "failed");
	rep.exit_code = 75;
	in.st = st;
	in.cfg = &cfg;
	in.pipeline = "eu";
	in.rep = &rep;
	in.code = 75;
	in.now = in.written = 1790000000;
	rc = metrics_format(&in, &b, &e);
	state_close(st);
	report_release(&rep);
	T_OK(rc, &e);
	buf_addc(&b, '\0');
	T_ASSERT(!strncmp(b.ptr, "# HELP stockpipe_build_info ", 28));
	copy = strdup(b.ptr);
	T_ASSERT(copy != NULL);
	why = parse_prom(copy, &n);
	free(copy);
	if (why)
		T_FAIL("not valid exposition text: %s", why);
	T_ASSERT(n > 30);
#define P "{pipeline=\"eu\""
	T_ASSERT(strstr(b.ptr, "\nstockpipe_build_info" P ",version=\""));
	T_EQ_INT(value_of(b.ptr, "stockpipe_last_run_id" P "}"), 1);
	T_EQ_INT(value_of(b.ptr, "stockpipe_last_run_exit_code" P "}"), 75);
	T_EQ_INT(value_of(b.ptr, "stockpipe_last_run_timestamp_seconds" P "}"), 1790000000);
	T_EQ_INT(value_of(b.ptr, "stockpipe_state_readable" P "}"), 1);
	T_EQ_INT(value_of(b.ptr, "stockpipe_last_run_success" P "}"), 0);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_failed_units" P "}"), 1);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_files_fetched" P ",source=\"stores\"}"), 2);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_records_in" P ",source=\"stores\"}"), 10);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_records_out" P ",source=\"stores\"}"), 8);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_records_loaded" P ",source=\"stores\"}"), 7);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_rejects" P ",source=\"stores\"}"), 2);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_duplicates_skipped" P ",source=\"stores\"}"), 1);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_quarantined_documents" P ",source=\"stores\"}"), 1);
	/* the current state: the document is still in quarantine */
	T_EQ_INT(value_of(b.ptr, "stockpipe_quarantined_documents" P ",source=\"stores\"}"), 1);
	/* A label value with a quote and a backslash is escaped. */
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_rejects" P ",source=\"odd \\\"name\\\"\\\\\"}"), 0);
	T_EQ_INT(value_of(b.ptr, "stockpipe_run_deliveries" P ",target=\"webshop\"}"), 0);
	T_ASSERT(strstr(b.ptr, "\nstockpipe_stage_duration_seconds" P ",stage=\"fetch\"} 0.500\n"));
	/* No delivery: no latency series, no data age, last delivery 0. */
	T_ASSERT(!strstr(b.ptr, "\nstockpipe_delivery_latency_seconds{"));
	T_ASSERT(!strstr(b.ptr, "\nstockpipe_target_data_as_of_timestamp_seconds{"));
	T_EQ_INT(value_of(b.ptr, "stockpipe_target_last_delivery_timestamp_seconds" P ",target=\"webshop\"}"), 0);
	T_EQ_INT(value_of(b.ptr, "stockpipe_target_stale_source" P ",target=\"webshop\"}"), 0);
#undef P
	buf_release(&b);
}

/* The parser itself must refuse what Prometheus would. */
T_TEST(metrics_parser_refuses_broken_text)
{
	static const char *const broken[] = {
		"a 1\n",
		"# HELP a x\n# TYPE a gauge\na 1\na 2\n",
		"# HELP a x\n# TYPE a gauge\na{k=\"v} 1\n",
		"# HELP a x\n# TYPE a gauge\na{k=\"v\"} one\n",
		"# HELP a x\n# TYPE a gauge\nb 1\n",
		"# HELP a x\n# TYPE b gauge\na 1\n",
	};
	char buf[200];
	size_t i;
	int n;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", broken[i]);
		if (!parse_prom(buf, &n))
			T_FAIL("accepted broken text %zu", i);
	}
	snprintf(buf, sizeof(buf), "# HELP a x\n# TYPE a gauge\na{k=\"\\\"\"} 1\na 2\n");
	T_ASSERT(parse_prom(buf, &n) == NULL);
	T_EQ_INT(n, 2);
}

T_TEST(metrics_write_file)
{
	struct config cfg;
	struct state *st = NULL;
	struct report rep;
	struct metrics_in in;
	struct err e = ERR_INIT;
	int64_t run = 0;
	int rc;
	const char *got;

	memset(&cfg, 0, sizeof(cfg));
	memset(&in, 0, sizeof(in));
	cfg.state_dir = "st";
	T_OK(t_small_run_store(&st, &run, &e), &e);
	T_OK(report_build(st, run, &rep, &e), &e);
	snprintf(rep.status, sizeof(rep.status), "done");
	in.st = st;
	in.cfg = &cfg;
	in.pipeline = "stockpipe";
	in.rep = &rep;
	in.code = 1;
	rc = metrics_publish("st/metrics/x.prom", &in, &e);
	state_close(st);
	report_release(&rep);
	T_OK(rc, &e);
	got = t_read_file("st/metrics/x.prom");
	T_ASSERT(got != NULL);
	T_ASSERT(strstr(got, "\nstockpipe_last_run_success{pipeline=\"stockpipe\"} 1\n") != NULL);
	T_ASSERT(strstr(got, "\nstockpipe_negative_positions{pipeline=\"stockpipe\"} 0\n") != NULL);
}

/* Without a store (a config error): only this invocation's lines, the
 * state marked unreadable. */
T_TEST(metrics_without_store)
{
	struct metrics_in in;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 20);
	const char *why;
	char *copy;
	int n = 0;

	memset(&in, 0, sizeof(in));
	in.pipeline = "eu";
	in.code = 78;
	in.written = 1790000000;
	T_OK(metrics_format(&in, &b, &e), &e);
	buf_addc(&b, '\0');
	copy = strdup(b.ptr);
	T_ASSERT(copy != NULL);
	why = parse_prom(copy, &n);
	free(copy);
	if (why)
		T_FAIL("not valid exposition text: %s", why);
	T_EQ_INT(n, 4);
	T_EQ_INT(value_of(b.ptr, "stockpipe_last_run_exit_code{pipeline=\"eu\"}"), 78);
	T_EQ_INT(value_of(b.ptr, "stockpipe_state_readable{pipeline=\"eu\"}"), 0);
	buf_release(&b);
}
