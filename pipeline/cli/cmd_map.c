/* cmd_map.c - `stockpipe map try|test|check|new`: the analysts' tools
 * (map new is in cmd_map_new.c).
 *
 * None of these touch the state directory: they compile mappings, read
 * sample files and print. Exit codes follow err.h: 0 fine, 1 rejects or
 * failed tests, 64 usage, 78 a mapping that does not compile.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/schedule.h"
#include "lib/buf.h"
#include "cli.h"
#include "pipeline/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/io.h"
#include "lib/ytree.h"
#include "transforms/formats/sniff.h"
#include "transforms/model/canon.h"
#include "transforms/model/dt.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "cmd_map.h"

static const char map_usage[] =
	"usage: stockpipe map try --mapping FILE --input FILE [--source NAME]\n"
	"                         [--pattern PATTERN] [--file-name NAME]\n"
	"                         [--mtime TIME] [--fetched-at TIME]\n"
	"                         [--run-started TIME]\n"
	"       stockpipe map test [--update] [MAPPING...]\n"
	"       stockpipe map check FILE...\n"
	"       stockpipe map new --input FILE\n"
	"                         [--kind stock|item|price|location]\n"
	"                         [--output FILE [--force]]\n"
	"\n"
	"  try    map one input file and print the canonical records (JSON Lines)\n"
	"         on stdout and the rejects on stderr; changes no state.\n"
	"         Exit 0, 1 when there were rejects, 78 when the mapping is wrong.\n"
	"         The file's facts ($file.name, $file.mtime, $file.fetched_at,\n"
	"         $run.started_at = $now) default to the input's name, its mtime\n"
	"         and now ($STOCKPIPE_NOW when set); TIME is ISO 8601. $file.NAME\n"
	"         captures come from --pattern, or the pattern: of --source in\n"
	"         the configuration (-c).\n"
	"  test   run the golden tests (tests: in each mapping; by default every\n"
	"         mappings/**/*.yaml that has tests:) and show a diff on mismatch.\n"
	"         --update rewrites the expected files from the actual output.\n"
	"         Exit 0 all pass, 1 a test failed, 78 a mapping is wrong.\n"
	"  check  compile inbound and outbound mapping files without data.\n"
	"         Exit 0, or 78 with file:line:col of the first mistake.\n"
	"  new    write a starting mapping for a partner file: the format and\n"
	"         message, one records block of --kind (default: chosen from\n"
	"         the file, the reason in a comment at the top) with the fields\n"
	"         filled where the file names them (columns, LIN/QTY/PRI\n"
	"         qualifiers, UBL and openTRANS elements) and the others as\n"
	"         commented placeholders. The mapping is compiled and run on\n"
	"         FILE before it is shown: on stdout, or with --output written\n"
	"         atomically (never over an existing file unless --force) with\n"
	"         a test case whose golden (tests/NAME.expect.jsonl beside it)\n"
	"         is the records it makes. Exit 0; 1 when FILE also gave\n"
	"         rejects; 64 usage or --output exists; 78 when FILE cannot\n"
	"         yield a record (a 997, no item lines, unreadable).\n"
	"\n"
	"See docs/mapping.md.\n";

static void print_err(const char *prefix, const struct err *e)
{
	char m[1400];

	err_format(e, m, sizeof(m));
	log_err("error", e, "%s%s", prefix, m);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ---- try ------------------------------------------------------------- */

struct try_out {
	struct buf line;
	unsigned long rejects;
};

/* Records are gathered in t->line and handed to stdio 64 KiB at a
 * time: a 4 KiB stdio buffer per record line meant a write(2) per 4 KiB
 * of output, a tenth of the CSV map stage's CPU (the JSON is about six
 * times the input). try_flush runs before every reject or warning line,
 * so stdout and stderr keep the order they had. */
#define TRY_FLUSH_AT (64u * 1024u)

static int try_flush(struct try_out *t, struct err *err)
{
	size_t n = t->line.len;

	/* a closed pipe or a full disk stops the try here, named */
	if (n && fwrite(t->line.ptr, 1, n, stdout) != n)
		return err_sys(err, "cannot write the records to stdout");
	buf_reset(&t->line);
	return 0;
}

static int try_record(void *ud, const struct canon_record *r, struct err *err)
{
	struct try_out *t = ud;
	size_t at;

	if (t->line.len >= TRY_FLUSH_AT && try_flush(t, err) < 0)
		return -1;
	at = t->line.len;
	canon_to_jsonl(r, &t->line);
	if (t->line.err && at) {
		/* the pending lines took the room: out with them, retry */
		t->line.len = at;
		t->line.err = 0;
		if (try_flush(t, err) < 0)
			return -1;
		canon_to_jsonl(r, &t->line);
	}
	if (t->line.err)
		return err_set(err, E_TOOBIG, "record too large to print");
	return 0;
}

static int try_reject(void *ud, const struct mapping_reject *rj,
		      struct err *err)
{
	struct try_out *t = ud;

	if (try_flush(t, err) < 0)
		return -1;
	t->rejects++;
	if (rj->seg)
		/* EDI: line:col of the element, then the segment and byte */
		log_msg("warn", "%s:%lu:%u: %s (segment %lu, byte %llu)",
			rj->file, rj->line, rj->col, rj->reason, rj->seg,
			rj->offset);
	else if (rj->col)
		log_msg("warn", "%s:%lu:%u: %s", rj->file, rj->line, rj->col,
			rj->reason);
	else if (rj->line)
		log_msg("warn", "%s:%lu: %s", rj->file, rj->line, rj->reason);
	else
		log_msg("warn", "%s: %s", rj->file, rj->reason);
	log_msg("warn", "    | %.*s", (int)(rj->raw_len > 300 ? 300 : rj->raw_len),
		rj->raw ? rj->raw : "");
	return 0;
}

/* A warning: where (an editor's file:line:col, then the segment and
 * byte) and what; the data it concerns was mapped. */
static int try_warning(void *ud, const struct mapping_warning *w,
		       struct err *err)
{
	if (try_flush(ud, err) < 0)
		return -1;
	if (w->loc.seg)
		log_msg("warn", "%s:%lu:%u: warning: %s (segment %lu, byte %llu)",
			w->file, w->loc.line, w->loc.col, w->message,
			w->loc.seg, w->loc.offset);
	else
		log_msg("warn", "%s: warning: %s", w->file, w->message);
	return 0;
}

/* An ISO 8601 option value as canonical UTC text, or -1. */
static int iso_opt(const char *opt, const char *v, char *out)
{
	int64_t t;

	if (dt_parse_iso(v, strlen(v), &t) < 0) {
		log_msg("error", "stockpipe map try: %s '%s' is not an ISO 8601 time (2026-11-20T06:00:00Z)",
			opt, v);
		return -1;
	}
	dt_format_iso(t, out);
	return 0;
}

/* The file patterns that give $file.NAME captures: --pattern, or the
 * configured source's. *cfg is set when the configuration was loaded
 * (the patterns point into it). Returns 0, or an exit code. */
static int try_patterns(const struct cli_global *g, const struct mapping *m,
			const char *source, const char **pattern,
			struct config **cfg, const char *const **pats,
			size_t *npats)
{
	struct err err = ERR_INIT;
	const struct cfg_source *s;
	/* Only a mapping that reads captures needs the source; others keep
	 * working without a configuration, with --source naming $source. */
	int need = mapping_check_patterns(m, NULL, 0, NULL, &err) < 0;

	*npats = 0;
	if (*pattern) {
		if (filepat_check(*pattern, &err) < 0) {
			log_msg("error", "stockpipe map try: --pattern '%s': %s",
				*pattern, err.reason);
			return EXIT_USAGE;
		}
		*pats = pattern;
		*npats = 1;
		return 0;
	}
	if (!*source || (!need && !g->config_given))
		return 0;
	err_clear(&err);
	if (config_load(g->config_path, g->state_dir, cfg, &err) < 0) {
		print_err("stockpipe map try: ", &err);
		return err_exit_code(&err);
	}
	if (!(s = config_source(*cfg, source))) {
		if (!need)
			return 0;
		log_msg("error", "stockpipe map try: no source '%s' in %s",
			source, (*cfg)->path);
		return EXIT_USAGE;
	}
	*pats = s->patterns;
	*npats = s->npatterns;
	return 0;
}

/* The options of map try; the times are canonical UTC text, "" when
 * not given. */
struct try_opts {
	const char *mpath, *input, *source, *pattern, *fname;
	char mtime[DT_ISO_LEN], fetched[DT_ISO_LEN], started[DT_ISO_LEN];
};

/* The clock map try shows as "now": STOCKPIPE_NOW when tests pin it. */
static void try_now(char *now)
{
	dt_format_iso(schedule_clock(), now);
}

/* Reads map try's options into o; 0, or EXIT_USAGE when one is unknown,
 * lacks its value or is not a time where a time is due. */
static int try_opts_parse(int argc, char **argv, struct try_opts *o)
{
	const char *mtime = NULL, *fetched = NULL, *started = NULL;
	const struct cli_opt opts[] = {
		{"mapping", 'm', &o->mpath, NULL},
		{"input", 'i', &o->input, NULL},
		{"source", 0, &o->source, NULL},
		{"pattern", 0, &o->pattern, NULL},
		{"file-name", 0, &o->fname, NULL},
		{"mtime", 0, &mtime, NULL},
		{"fetched-at", 0, &fetched, NULL},
		{"run-started", 0, &started, NULL},
		{NULL, 0, NULL, NULL},
	};
	int i = cli_parse("map try", argc, argv, opts);

	if (i >= 0 && i < argc)
		log_msg("error", "stockpipe map try: unexpected '%s'",
			argv[i]);
	if (i < 0 || i < argc) {
		cli_usage(stderr, "%s", map_usage);
		return EXIT_USAGE;
	}
	if ((mtime && iso_opt("--mtime", mtime, o->mtime) < 0) ||
	    (fetched && iso_opt("--fetched-at", fetched, o->fetched) < 0) ||
	    (started && iso_opt("--run-started", started, o->started) < 0))
		return EXIT_USAGE;
	return 0;
}

/* Takes the captures of the first pattern fname matches, as the
 * pipeline's listing takes a file for the first that matches; 0, or an
 * exit code when a pattern fails or none matches. */
static int try_match_name(const char *const *pats, size_t npats,
			  const char *fname, struct filepat_caps *caps,
			  struct err *err)
{
	size_t k;

	for (k = 0; k < npats; k++) {
		int r = filepat_match(pats[k], fname, caps, err);

		if (r < 0) {
			print_err("stockpipe map try: ", err);
			return EXIT_REJECTS;
		}
		if (r)
			break;
	}
	if (npats && k == npats) {
		log_msg("error", "stockpipe map try: file name '%s' does not match the file pattern%s '%s'%s (give the name with --file-name)",
			fname, npats > 1 ? "s" : "", pats[0],
			npats > 1 ? ", ..." : "");
		return EXIT_USAGE;
	}
	return 0;
}

/* The facts line of `map try`, built whole so it is one log line. */
static void log_facts(const struct mapping_facts *f,
		      const struct filepat_caps *caps)
{
	struct buf b = BUF_INIT(64 << 10);
	size_t k;

	buf_addf(&b, "facts: $file.name=%s $file.mtime=%s $file.fetched_at=%s $run.started_at=%s",
		 f->file_name, f->mtime ? f->mtime : "(unknown)",
		 f->fetched_at, f->run_started);
	for (k = 0; k < caps->n; k++)
		buf_addf(&b, " $file.%s=%s", caps->name[k], caps->value[k]);
	log_msg("info", "%s", b.ptr);
	buf_release(&b);
}

/* After a failed try: what the input is, by the analysis inspect and
 * content routes use, so a UTF-16 export, a zip or a CSV given to an EDI
 * mapping is named instead of guessed at. */
static void try_input_note(const char *input, const struct mapping *m)
{
	struct sniff_dialect d;
	struct err e = ERR_INIT;
	char seen[300];
	int f = sniff_path_head(input, &d, &e);

	if (f < 0)
		return; /* the run's own error already names the file */
	sniff_describe(f, &d, seen, sizeof(seen));
	log_msg("info", "stockpipe map try: the input is %s; the mapping "
		"reads %s (`stockpipe inspect` shows the file)", seen,
		mapping_format(m));
}

static int map_try(int argc, char **argv, const struct cli_global *g)
{
	struct try_opts o = {NULL, NULL, "", NULL, NULL, "", "", ""};
	const char *const *pats = NULL;
	struct mapping *m = NULL;
	struct config *cfg = NULL;
	struct err err = ERR_INIT;
	struct try_out t = {BUF_INIT(1 << 22), 0};
	struct mapping_sink sink = {try_record, try_reject, &t, NULL,
				    try_warning, 0};
	struct mapping_doc doc;
	struct mapping_facts facts;
	struct filepat_caps caps;
	struct mapping_stats st;
	char now[DT_ISO_LEN];
	size_t npats = 0;
	struct stat sb;
	int rc;

	try_now(now);
	if ((rc = try_opts_parse(argc, argv, &o)))
		return rc;
	if (!o.mpath || !o.input) {
		log_msg("error", "stockpipe map try: --mapping and --input are required");
		cli_usage(stderr, "%s", map_usage);
		return EXIT_USAGE;
	}
	if (mapping_load(o.mpath, &m, &err)) {
		print_err("", &err);
		return err_exit_code(&err);
	}
	if (!o.fname)
		o.fname = base_name(o.input);
	if (!o.mtime[0] && stat(o.input, &sb) == 0)
		dt_format_iso((int64_t)sb.st_mtime, o.mtime);
	if (!o.fetched[0])
		memcpy(o.fetched, now, sizeof(now));
	if (!o.started[0])
		memcpy(o.started, now, sizeof(now));
	memset(&caps, 0, sizeof(caps));
	rc = try_patterns(g, m, o.source, &o.pattern, &cfg, &pats, &npats);
	if (rc)
		goto out;
	if (cfg && *o.source && config_source(cfg, o.source))
		sink.strict = config_source(cfg, o.source)->strict;
	if (mapping_check_patterns(m, pats, npats,
				   "map try: give --source NAME or --pattern PATTERN",
				   &err) < 0) {
		print_err("", &err);
		rc = err_exit_code(&err);
		goto out;
	}
	if ((rc = try_match_name(pats, npats, o.fname, &caps, &err)))
		goto out;
	memset(&facts, 0, sizeof(facts));
	facts.file_name = o.fname;
	facts.mtime = o.mtime[0] ? o.mtime : NULL;
	facts.fetched_at = o.fetched;
	facts.run_started = o.started;
	facts.caps = &caps;
	if (mapping_reads_facts(m)) {
		log_facts(&facts, &caps);
	}
	memset(&doc, 0, sizeof(doc));
	doc.source = o.source;
	doc.name = base_name(o.input);
	doc.path = o.input;
	doc.facts = &facts;
	rc = mapping_run(m, &doc, &sink, &st, &err);
	/* the records mapped before an error are printed too; err keeps
	 * the first error (lib/err.h) */
	if (try_flush(&t, &err) < 0)
		rc = -1;
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = err_sys(&err, "cannot write the records to stdout");
	if (rc) {
		print_err("stockpipe map try: ", &err);
		try_input_note(o.input, m);
		rc = err_exit_code(&err);
		if (rc == EXIT_DONE)
			rc = EXIT_REJECTS;
	} else {
		char nw[40] = "";

		if (st.warnings)
			snprintf(nw, sizeof(nw), ", %lu warning(s)",
				 st.warnings);
		log_msg("info",
			"%s: %lu input record(s), %lu canonical record(s), %lu reject(s), %lu filtered%s",
			doc.name, st.input_records, st.records_out, st.rejects,
			st.filtered, nw);
		rc = t.rejects ? EXIT_REJECTS : EXIT_DONE;
	}
out:
	buf_release(&t.line);
	mapping_free(m);
	config_free(cfg);
	return rc;
}

/* ---- test ------------------------------------------------------------ */

static int test_record(void *ud, const struct canon_record *r, struct err *err)
{
	struct buf *b = ud;

	canon_to_jsonl(r, b);
	return b->err ? err_set(err, b->err, "test output too large") : 0;
}

static int test_reject(void *ud, const struct mapping_reject *rj,
		       struct err *err)
{
	struct buf *b = ud;

	mapping_reject_to_jsonl(rj, b);
	return b->err ? err_set(err, b->err, "test output too large") : 0;
}

/* The output `map test` compares for doc: the records and rejects as
 * JSON Lines, or one "error" line when the document fails as a whole (a
 * golden may expect that too). `map new` writes its goldens with it. */
void map_test_output(const struct mapping *m, const struct mapping_doc *doc,
		     struct buf *act)
{
	struct mapping_sink sink = {test_record, test_reject, act, NULL, NULL, 0};
	struct err e = ERR_INIT;

	if (mapping_run(m, doc, &sink, NULL, &e)) {
		char msg[1400];

		err_format(&e, msg, sizeof(msg));
		buf_adds(act, "{\"kind\":\"error\",\"message\":");
		buf_add_json_str(act, msg, strlen(msg));
		buf_adds(act, "}\n");
	}
}

static int read_all(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char tmp[65536];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(b, tmp, n);
	fclose(f);
	return b->err ? -1 : 0;
}

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int split_lines(const struct buf *b, struct lines *l)
{
	size_t i, start = 0, k = 0, cnt = 0;

	for (i = 0; i < b->len; i++)
		cnt += b->ptr[i] == '\n';
	cnt += 1;
	l->p = calloc(cnt, sizeof(*l->p));
	l->len = calloc(cnt, sizeof(*l->len));
	if (!l->p || !l->len)
		return -1;
	for (i = 0; i <= b->len; i++) {
		if (i == b->len || b->ptr[i] == '\n') {
			if (i == b->len && i == start)
				break;
			l->p[k] = b->ptr + start;
			l->len[k++] = i - start;
			start = i + 1;
		}
	}
	l->n = k;
	return 0;
}

static int line_eq(const struct lines *a, size_t i, const struct lines *b,
		   size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->p[i], b->p[j], a->len[i]);
}

/* A line diff from the longest common subsequence: goldens are small
 * (tens to hundreds of lines), so the quadratic table is fine; above a
 * bound the first differing lines are shown instead. */
static void show_diff(const struct buf *exp, const struct buf *act,
		      const char *exp_name)
{
	struct lines a = {0}, b = {0};
	unsigned short *t = NULL;
	size_t i, j, w;

	printf("    --- expected %s\n    +++ actual\n", exp_name);
	if (split_lines(exp, &a) || split_lines(act, &b))
		goto out;
	w = b.n + 1;
	if ((a.n + 1) * w <= 4000000 && a.n < 60000 && b.n < 60000)
		t = calloc((a.n + 1) * w, sizeof(*t));
	if (!t) {
		for (i = 0; i < a.n || i < b.n; i++) {
			if (i < a.n && i < b.n && line_eq(&a, i, &b, i))
				continue;
			if (i < a.n)
				printf("    -%zu: %.*s\n", i + 1, (int)a.len[i], a.p[i]);
			if (i < b.n)
				printf("    +%zu: %.*s\n", i + 1, (int)b.len[i], b.p[i]);
			break;
		}
		goto out;
	}
	for (i = a.n; i-- > 0;)
		for (j = b.n; j-- > 0;)
			t[i * w + j] = line_eq(&a, i, &b, j)
					       ? (unsigned short)(t[(i + 1) * w + j + 1] + 1)
				       : t[(i + 1) * w + j] > t[i * w + j + 1]
					       ? t[(i + 1) * w + j]
					       : t[i * w + j + 1];
	i = j = 0;
	while (i < a.n || j < b.n) {
		if (i < a.n && j < b.n && line_eq(&a, i, &b, j)) {
			/* Context: only next to a change. */
			int near = (i + 1 < a.n && j + 1 < b.n &&
				    !line_eq(&a, i + 1, &b, j + 1)) ||
				   (i + 1 == a.n) != (j + 1 == b.n) ||
				   (i && j && !line_eq(&a, i - 1, &b, j - 1));

			if (near)
				printf("     %zu: %.*s\n", i + 1, (int)a.len[i], a.p[i]);
			i++;
			j++;
		} else if (j < b.n && (i == a.n || t[i * w + j + 1] > t[(i + 1) * w + j])) {
			printf("    +%zu: %.*s\n", j + 1, (int)b.len[j], b.p[j]);
			j++;
		} else {
			printf("    -%zu: %.*s\n", i + 1, (int)a.len[i], a.p[i]);
			i++;
		}
	}
out:
	free(t);
	free(a.p);
	free(a.len);
	free(b.p);
	free(b.len);
}

/* Runs the tests of one mapping; returns 0 all passed, 1 a failure,
 * 78 the mapping does not compile. */
static int test_mapping(const char *path, int update, int *npass, int *nfail)
{
	struct mapping *m = NULL;
	struct err err = ERR_INIT;
	size_t i;
	int rc = 0;

	if (mapping_load(path, &m, &err)) {
		printf("FAIL %s: the mapping does not compile\n", path);
		print_err("    ", &err);
		(*nfail)++;
		return EXIT_CONFIG;
	}
	if (!mapping_ntests(m))
		printf("--   %s: no tests: in this mapping\n", path);
	for (i = 0; i < mapping_ntests(m); i++) {
		const struct mapping_test *t = mapping_get_test(m, i);
		struct buf act = BUF_INIT(64u << 20), exp = BUF_INIT(64u << 20);
		struct mapping_doc doc = {t->source, base_name(t->input),
					  t->input, NULL, NULL};
		struct mapping_facts facts;
		struct filepat_caps caps;
		struct err e = ERR_INIT;

		/* Only the name and its captures: times would make goldens
		 * depend on the clock and the checkout. */
		memset(&facts, 0, sizeof(facts));
		memset(&caps, 0, sizeof(caps));
		facts.caps = &caps;
		doc.facts = &facts;
		if (mapping_check_patterns(m, &t->pattern, t->pattern ? 1 : 0,
					   "add pattern: to the test",
					   &e) < 0 ||
		    (t->pattern &&
		     filepat_match(t->pattern, doc.name, &caps, &e) == 0))
			err_set(&e, E_CONFIG,
				"file name '%s' does not match the test's pattern '%s'",
				doc.name, t->pattern);
		if (e.code) {
			printf("FAIL %s: %s (declared at line %lu)\n", path,
			       base_name(t->input), t->line);
			print_err("    ", &e);
			(*nfail)++;
			rc = 1;
			buf_release(&act);
			continue;
		}
		map_test_output(m, &doc, &act);
		if (update) {
			if (io_write_file(t->expect, act.ptr, act.len, NULL, &e)) {
				printf("FAIL %s: %s\n", path, t->expect);
				print_err("    ", &e);
				(*nfail)++;
				rc = 1;
			} else {
				printf("upd  %s: %s\n", path, t->expect);
				(*npass)++;
			}
		} else if (read_all(t->expect, &exp)) {
			printf("FAIL %s: %s -> %s: cannot read the expected file (create it with: stockpipe map test --update %s)\n",
			       path, t->input, t->expect, path);
			(*nfail)++;
			rc = 1;
		} else if (exp.len == act.len && !memcmp(exp.ptr, act.ptr, act.len)) {
			printf("ok   %s: %s\n", path, base_name(t->input));
			(*npass)++;
		} else {
			printf("FAIL %s: %s (declared at line %lu)\n", path,
			       base_name(t->input), t->line);
			show_diff(&exp, &act, t->expect);
			(*nfail)++;
			rc = 1;
		}
		buf_release(&act);
		buf_release(&exp);
	}
	mapping_free(m);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct pathlist {
	char **p;
	size_t n, cap;
};

static int has_tests(const char *path)
{
	struct ytree *t = NULL;
	struct err e = ERR_INIT;
	int yes;

	if (ytree_load_file(path, &t, &e))
		return 1; /* let test_mapping report the error */
	yes = t->root && ynode_get(t->root, "tests") &&
	      !ynode_get(t->root, "outbound");
	ytree_free(t);
	return yes;
}

static void find_yaml(const char *dir, struct pathlist *l, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d || depth > 8) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d))) {
		char p[4096];
		struct stat st;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			find_yaml(p, l, depth + 1);
		} else if (n > 5 && (!strcmp(de->d_name + n - 5, ".yaml") ||
				     (n > 4 && !strcmp(de->d_name + n - 4, ".yml"))) &&
			   has_tests(p)) {
			if (ALLOC_GROW(l->p, l->n + 1, l->cap))
				break;
			if ((l->p[l->n] = strdup(p)))
				l->n++;
		}
	}
	closedir(d);
}

static int map_test(int argc, char **argv)
{
	struct pathlist l = {0};
	int i, update = 0, worst = 0, pass = 0, fail = 0;
	size_t k;

	const struct cli_opt opts[] = {
		{"update", 'u', NULL, &update},
		{NULL, 0, NULL, NULL},
	};

	if ((i = cli_parse("map test", argc, argv, opts)) < 0) {
		cli_usage(stderr, "%s", map_usage);
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		if (ALLOC_GROW(l.p, l.n + 1, l.cap))
			return EXIT_TEMPFAIL;
		if ((l.p[l.n] = strdup(argv[i])))
			l.n++;
	}
	if (!l.n) {
		find_yaml("mappings", &l, 0);
		qsort(l.p, l.n, sizeof(*l.p), cmp_str);
		if (!l.n) {
			log_msg("error", "stockpipe map test: no mapping with tests: under ./mappings");
			free(l.p);
			return EXIT_USAGE;
		}
	}
	for (k = 0; k < l.n; k++) {
		int rc = test_mapping(l.p[k], update, &pass, &fail);

		if (rc == EXIT_CONFIG || (rc == 1 && worst != EXIT_CONFIG))
			worst = rc;
		free(l.p[k]);
	}
	free(l.p);
	printf("%d passed, %d failed\n", pass, fail);
	return worst;
}

/* ---- check ----------------------------------------------------------- */

static int map_check(int argc, char **argv)
{
	int i, rc = EXIT_DONE;

	if ((i = cli_parse("map check", argc, argv, NULL)) < 0) {
		cli_usage(stderr, "%s", map_usage);
		return EXIT_USAGE;
	}
	argc -= i - 1;
	argv += i - 1;
	if (argc < 2) {
		log_msg("error", "stockpipe map check: which files?");
		cli_usage(stderr, "%s", map_usage);
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		struct err err = ERR_INIT;

		if (mapping_check(argv[i], &err)) {
			print_err("", &err);
			if (err_exit_code(&err) == EXIT_CONFIG || rc == EXIT_DONE)
				rc = err_exit_code(&err);
		} else {
			printf("ok   %s\n", argv[i]);
		}
	}
	return rc;
}

int cmd_map(int argc, char **argv, const struct cli_global *g)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help") ||
	    !strcmp(sub, "help")) {
		cli_usage(sub ? stdout : stderr, "%s", map_usage);
		return sub ? EXIT_DONE : EXIT_USAGE;
	}
	/* map new has its own help (the man page is made from it) */
	if (!strcmp(sub, "new"))
		return map_new(argc - 1, argv + 1);
	if (cli_wants_help(argc - 1, argv + 1)) {
		cli_usage(stdout, "%s", map_usage);
		return EXIT_DONE;
	}
	if (!strcmp(sub, "try"))
		return map_try(argc - 1, argv + 1, g);
	if (!strcmp(sub, "test"))
		return map_test(argc - 1, argv + 1);
	if (!strcmp(sub, "check"))
		return map_check(argc - 1, argv + 1);

	log_msg("error", "stockpipe map: unknown subcommand '%s'", sub);
	cli_usage(stderr, "%s", map_usage);
	return EXIT_USAGE;
}
