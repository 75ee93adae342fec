/* cmd_map_new.c - `stockpipe map new --input FILE [--kind K] [--output
 * FILE [--force]]`: a starting mapping written from what the file
 * contains (docs/mapping.md "Starting a mapping").
 *
 * The file is analysed once (transforms/formats/sniff.h), the analysis is
 * handed to mapgen (transforms/mapping/mapgen.h) as a struct mapgen_in,
 * and the YAML it writes is compiled and run on the file before anyone
 * sees it: a generated mapping that does not compile is a bug (exit 70),
 * one that makes no record from the very file it was written for is not
 * written at all (exit 78, with the first reason). With --output the
 * mapping gets a test case whose golden is exactly what `map test` will
 * compare, so the analyst starts from a mapping that runs and a test that
 * passes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/schedule.h"
#include "cli.h"
#include "cmd_map.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/io.h"
#include "lib/log.h"
#include "transforms/formats/sniff.h"
#include "transforms/mapping/mapgen.h"
#include "transforms/mapping/mapping.h"
#include "transforms/model/dt.h"

struct new_opts {
	const char *input, *kind, *output;
	int force;
};

/* What the analysis owns for mapgen: arrays built from the sniff (its
 * strings are borrowed from it). */
struct new_in {
	struct mapgen_in in;
	struct mapgen_col *cols;
	struct mapgen_seg *segs;
	struct mapgen_epos *pos;
	struct mapgen_xnode *nodes;
	struct buf codes;        /* the codes strings, NUL-separated */
	char today[11];
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ---- the analysis as mapgen wants it --------------------------------- */

static void fill_csv(const struct sniff *s, struct new_in *ni)
{
	const struct sniff_csv *c = &s->u.csv;
	struct mapgen_csv *o = &ni->in.csv;
	const char *enc = s->dialect.encoding;
	unsigned i, k;

	for (i = 0; i < c->ncols; i++) {
		ni->cols[i].name = c->cols[i].name && *c->cols[i].name
					   ? c->cols[i].name : NULL;
		for (k = 0; k < c->cols[i].nsamples && k < MAPGEN_SAMPLES; k++)
			ni->cols[i].sample[k] = c->cols[i].samples[k];
		ni->cols[i].nsample = k;
		ni->cols[i].nonempty = c->cols[i].nonempty;
	}
	o->col = ni->cols;
	o->ncol = c->ncols;
	o->rows = c->rows;
	o->delimiter = s->dialect.delimiter;
	o->quote = s->dialect.quote;
	o->header = s->dialect.header;
	/* iconv would keep a UTF-16 BOM as a character of the first
	 * column's name unless it reads the BOM itself */
	if (!strncasecmp(enc, "UTF-16", 6))
		o->encoding = s->dialect.bom ? "utf-16" : enc;
	else if (!strcasecmp(enc, "ISO-8859-1"))
		o->encoding = "iso-8859-1";
	else if (!strcasecmp(enc, "WINDOWS-1252"))
		o->encoding = "windows-1252";
	else if (*enc && strcasecmp(enc, "UTF-8") && strcasecmp(enc, "US-ASCII"))
		o->encoding = enc;
}

/* The codes of a qualifier position as one "A B C" string. */
static const char *codes_text(const struct sniff_elem *e, struct buf *b,
			      size_t *off)
{
	unsigned k;

	*off = b->len;
	for (k = 0; k < e->ncodes; k++) {
		if (k)
			buf_addc(b, ' ');
		buf_adds(b, e->codes[k].value);
	}
	buf_addc(b, 0);
	return NULL;
}

/* N101 and NAD 3035 are qualifiers by the standard: their codes are
 * wanted (for a location's type) even where each party occurs once and
 * the sniffer's repetition rule does not call them codes. */
static int party_qual(const struct sniff_segment *sg, const struct sniff_elem *e)
{
	return e->elem == 1 && e->comp == 1 &&
	       (!strcmp(sg->tag, "N1") || !strcmp(sg->tag, "NAD"));
}

static int fill_edi(const struct sniff *s, struct new_in *ni)
{
	const struct sniff_edi *e = &s->u.edi;
	struct mapgen_edi *o = &ni->in.edi;
	size_t npos = 0, i, k, *offs;
	unsigned j;

	o->x12 = s->format == SNIFF_X12;
	str_copy_cut(o->message, sizeof(o->message), s->message);
	str_copy_cut(o->version, sizeof(o->version), s->message_version);
	o->decimal_comma = !o->x12 && e->delims.dec == ',';
	/* the reader's first error, without the location prefix the
	 * finding's text repeats ("FILE: interchange 1, ..., error: ") */
	for (j = 0; j < e->nfindings && !o->first_error[0]; j++)
		if (e->findings[j].severity == EDI_ERROR && e->findings[j].text) {
			const char *t = strstr(e->findings[j].text, "error: ");

			snprintf(o->first_error, sizeof(o->first_error),
				 "line %lu: %.200s", e->findings[j].line,
				 t ? t + 7 : e->findings[j].text);
		}
	for (j = 0; j < e->nmessages; j++) {
		const struct sniff_message *m = &e->messages[j];
		size_t n = strlen(o->others);

		if (!strcmp(m->type, s->message))
			o->nsets += m->n;
		else if (n + 24 < sizeof(o->others))
			snprintf(o->others + n, sizeof(o->others) - n, "%s%sx%lu",
				 n ? " " : "", m->type, m->n);
	}
	for (j = 0; j < e->nsegs; j++)
		npos += e->segs[j].nelems;
	ni->segs = calloc(e->nsegs + 1, sizeof(*ni->segs));
	ni->pos = calloc(npos + 1, sizeof(*ni->pos));
	offs = calloc(npos + 1, sizeof(*offs));
	if (!ni->segs || !ni->pos || !offs) {
		free(offs);
		return -1;
	}
	for (j = 0, k = 0; j < e->nsegs; j++) {
		const struct sniff_segment *sg = &e->segs[j];
		unsigned q;

		str_copy_cut(ni->segs[j].tag, sizeof(ni->segs[j].tag), sg->tag);
		ni->segs[j].n = sg->n;
		ni->segs[j].first = sg->first_seg;
		ni->segs[j].pos = ni->pos + k;
		ni->segs[j].npos = sg->nelems;
		for (q = 0; q < sg->nelems; q++, k++) {
			ni->pos[k].elem = sg->elems[q].elem;
			ni->pos[k].comp = sg->elems[q].comp;
			ni->pos[k].n = sg->elems[q].n;
			ni->pos[k].sample = sg->elems[q].sample;
			offs[k] = (size_t)-1;
			if (sg->elems[q].ncodes &&
			    (sg->elems[q].is_code || party_qual(sg, &sg->elems[q])))
				codes_text(&sg->elems[q], &ni->codes, &offs[k]);
		}
	}
	/* the buffer may have moved while it grew: pointers last */
	for (i = 0; i < k && !ni->codes.err; i++)
		if (offs[i] != (size_t)-1)
			ni->pos[i].codes = ni->codes.ptr + offs[i];
	free(offs);
	o->seg = ni->segs;
	o->nseg = e->nsegs;
	return ni->codes.err ? -1 : 0;
}

/* The element tree from the paths ("/R/cac:L/cbc:ID", ".../@unitCode"),
 * each step's namespace from its own path entry. */
static int fill_xml(const struct sniff *s, struct new_in *ni)
{
	const struct sniff_xml *x = &s->u.xml;
	unsigned i, j;

	ni->nodes = calloc(x->npaths + 1, sizeof(*ni->nodes));
	if (!ni->nodes)
		return -1;
	for (i = 0; i < x->npaths; i++) {
		const char *p = x->paths[i].path;
		const char *last = strrchr(p, '/');
		const char *colon;
		struct mapgen_xnode *n = &ni->nodes[i];
		size_t plen = last ? (size_t)(last - p) : 0;

		n->parent = -1;
		for (j = i; plen && j-- > 0;)
			if (strlen(x->paths[j].path) == plen &&
			    !strncmp(x->paths[j].path, p, plen)) {
				n->parent = (long)j;
				break;
			}
		last = last ? last + 1 : p;
		n->attr = *last == '@';
		if (n->attr)
			last++;
		colon = strchr(last, ':');
		n->local = colon ? colon + 1 : last;
		n->uri = x->paths[i].ns && *x->paths[i].ns ? x->paths[i].ns : NULL;
		n->count = x->paths[i].n;
		n->sample = x->paths[i].sample;
		if (n->parent < 0 && i) {
			/* only the root has no parent; a path whose parent
			 * was not listed (past max_paths) is left out */
			n->local = NULL;
		}
	}
	ni->in.xml.node = ni->nodes;
	ni->in.xml.nnode = x->npaths;
	/* the planner wants no holes: cut at the first orphan */
	for (i = 1; i < x->npaths; i++)
		if (!ni->nodes[i].local) {
			ni->in.xml.nnode = i;
			break;
		}
	return 0;
}

/* mapgen_in from the sniff, or -1 with err (the file is no EDI, XML or
 * CSV, or memory ran out). */
static int fill_in(const struct sniff *s, const char *input,
		   struct new_in *ni, struct err *err)
{
	ni->in.file = base_name(input);
	ni->in.today = ni->today;
	switch (s->format) {
	case SNIFF_CSV:
		ni->in.format = "csv";
		if (s->u.csv.error)
			return err_set(err, E_PARSE, "%s: %s", ni->in.file,
				       s->u.csv.error);
		ni->cols = calloc(s->u.csv.ncols + 1, sizeof(*ni->cols));
		if (!ni->cols)
			break;
		fill_csv(s, ni);
		return 0;
	case SNIFF_X12:
	case SNIFF_EDIFACT:
		ni->in.format = s->format == SNIFF_X12 ? "x12" : "edifact";
		if (fill_edi(s, ni) < 0)
			break;
		return 0;
	case SNIFF_XML:
		ni->in.format = "xml";
		if (s->u.xml.error)
			return err_set(err, E_PARSE, "%s", s->u.xml.error);
		if (fill_xml(s, ni) < 0)
			break;
		return 0;
	case SNIFF_ARCHIVE:
		return err_set(err, E_PARSE,
			       "%s: an archive (%s): unpack it and run map new on a member",
			       ni->in.file, s->archive);
	case SNIFF_EMPTY:
		return err_set(err, E_PARSE, "%s: the file is empty",
			       ni->in.file);
	default:
		return err_set(err, E_PARSE,
			       "%s: not EDI, XML or CSV (stockpipe inspect tells more)",
			       ni->in.file);
	}
	return err_set(err, E_NOMEM, "out of memory");
}

static void new_in_free(struct new_in *ni)
{
	free(ni->cols);
	free(ni->segs);
	free(ni->pos);
	free(ni->nodes);
	buf_release(&ni->codes);
}

/* ---- paths ------------------------------------------------------------ */

/* The directory of path ("." when none) into dir. */
static void dir_of(const char *path, char *dir, size_t n)
{
	const char *s = strrchr(path, '/');

	if (!s)
		snprintf(dir, n, ".");
	else if (s == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(s - path), path);
}

/* realpath() of a folder that --output may still have to create: the
 * nearest existing ancestor resolved, the rest appended. */
static int resolve_dir(const char *dir, char *out, int depth)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(dir, '/');
	size_t n;

	if (realpath(dir, out))
		return 0;
	if (depth > 64 || strlen(dir) >= sizeof(parent))
		return -1;
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == dir)
		snprintf(parent, sizeof(parent), "/");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
	if (resolve_dir(parent, out, depth + 1) < 0)
		return -1;
	n = strlen(out);
	if (n + strlen(slash ? slash : dir) + 2 > PATH_MAX)
		return -1;
	snprintf(out + n, PATH_MAX - n, "%s%s", n > 1 ? "/" : "",
		 slash ? slash + 1 : dir);
	return 0;
}

/* target relative to the directory from (both resolved), so the test's
 * input: works wherever the checkout is; absolute when that fails. */
static int rel_to(const char *target, const char *from, char *out, size_t n)
{
	char t[PATH_MAX], f[PATH_MAX];
	size_t common = 0, i;
	int k = 0;

	if (!realpath(target, t))
		return -1;
	if (resolve_dir(from, f, 0) < 0)
		return snprintf(out, n, "%s", t) >= (int)n ? -1 : 0;
	for (i = 0; t[i] && t[i] == f[i]; i++)
		if (t[i] == '/')
			common = i;
	if (!f[i] && t[i] == '/')
		common = i;
	out[0] = 0;
	for (i = common; f[i]; i++)
		if (f[i] == '/' && (i > common || f[i + 1]))
			k += snprintf(out + k, n - (size_t)k, "../");
	if (f[common] && !f[common + 1])
		k = 0; /* from is "/" */
	if ((size_t)k >= n ||
	    snprintf(out + k, n - (size_t)k, "%s", t + common + 1) >= (int)(n - (size_t)k))
		return -1;
	return 0;
}

/* ---- checking the written mapping ------------------------------------- */

struct outcome {
	unsigned long records, rejects;
	int failed;              /* the document failed as a whole */
	char first[600];         /* the first reject or the failure */
};

/* The "reason" (a reject) or "message" (a failed document) of one
 * output line, with its line number, as text; JSON escapes other than
 * \" and \\ are kept as they are. */
static void first_reason(const char *s, size_t n, char *out, size_t size)
{
	const char *r, *end = s + n, *ln = strstr(s, "\"_line\":");
	size_t k = 0;

	if (!(r = strstr(s, "\"reason\":\"")) || r > end)
		r = strstr(s, "\"message\":\"");
	if (!r || r > end) {
		snprintf(out, size, "%.*s", (int)(n > 300 ? 300 : n), s);
		return;
	}
	if (ln && ln < end)
		k = (size_t)snprintf(out, size, "line %lu: ",
				     strtoul(ln + 8, NULL, 10));
	for (r = strchr(r + 9, '"') + 1; r < end && *r != '"' && k + 1 < size; r++) {
		if (*r == '\\' && r + 1 < end && (r[1] == '"' || r[1] == '\\'))
			r++;
		out[k++] = *r;
	}
	out[k < size ? k : size - 1] = 0;
}

/* Counts the lines of a `map test` output. */
static void count_output(const struct buf *act, struct outcome *oc)
{
	const char *s = act->ptr, *e;

	memset(oc, 0, sizeof(*oc));
	for (; s < act->ptr + act->len; s = e + 1) {
		e = memchr(s, '\n', (size_t)(act->ptr + act->len - s));
		if (!e)
			e = act->ptr + act->len;
		if (!strncmp(s, "{\"kind\":\"reject\"", 16) ||
		    !strncmp(s, "{\"kind\":\"error\"", 15)) {
			if (!oc->first[0])
				first_reason(s, (size_t)(e - s), oc->first,
					     sizeof(oc->first));
			if (s[9] == 'e')
				oc->failed = 1;
			else
				oc->rejects++;
		} else if (e > s) {
			oc->records++;
		}
	}
}

/* Compiles the mapping written at check and maps input through it as
 * `map test` does; act gets that output. 0, or an exit code. */
static int check_mapping(const char *check, const char *input,
			 struct buf *act, struct outcome *oc)
{
	struct mapping *m = NULL;
	struct err err = ERR_INIT;
	struct mapping_facts facts;
	struct filepat_caps caps;
	struct mapping_doc doc = {"", base_name(input), input, NULL, NULL};
	char msg[1400];

	if (mapping_load(check, &m, &err)) {
		err_format(&err, msg, sizeof(msg));
		log_msg("error", "stockpipe map new: the written mapping does not compile (a bug in map new): %s",
			msg);
		return EXIT_INTERNAL;
	}
	memset(&facts, 0, sizeof(facts));
	memset(&caps, 0, sizeof(caps));
	facts.caps = &caps;
	doc.facts = &facts;
	map_test_output(m, &doc, act);
	mapping_free(m);
	if (act->err) {
		log_msg("error", "stockpipe map new: %s: the records do not fit in memory",
			input);
		return EXIT_TEMPFAIL;
	}
	count_output(act, oc);
	return 0;
}

/* ---- the command ------------------------------------------------------- */

static const char new_usage[] =
	"usage: stockpipe map new --input FILE\n"
	"                         [--kind stock|item|price|location]\n"
	"                         [--output FILE [--force]]\n"
	"\n"
	"Writes a starting mapping for FILE (CSV, X12, EDIFACT or XML): the\n"
	"format and message, one records block of the kind (without --kind\n"
	"chosen from the file: stock for 846/852/INVRPT/SLSRPT-like\n"
	"quantities, price for 832/PRICAT-like catalogues with prices, item\n"
	"otherwise; the reason is a comment at the top), the fields filled\n"
	"where the file names them (GTIN/EAN/SKU/qty/price/location columns,\n"
	"also Menge, Bestand, Preis, Artikel...; X12 LIN/PO1 UP EN VN BP IN,\n"
	"QTY, CTP; EDIFACT LIN, PIA, QTY, PRI, LOC; UBL and openTRANS\n"
	"elements) and every other canonical field of the kind as a\n"
	"commented placeholder. Lines marked TODO only make it run.\n"
	"A file without item lines but with parties (X12 N1 loops, EDIFACT\n"
	"NAD, UBL cac:Party, openTRANS PARTY, IDoc E1ADRM1; a CSV with a\n"
	"store column and no item column) gets a location mapping: the\n"
	"party id, the type from its qualifier, name and region.\n"
	"\n"
	"The mapping is compiled and run on FILE first. On stdout by default;\n"
	"--output FILE writes it atomically, and beside it the golden of a\n"
	"test case (tests/NAME.expect.jsonl, declared under tests:) that\n"
	"`stockpipe map test` passes. An existing file is never replaced\n"
	"unless --force.\n"
	"\n"
	"  --input FILE    the partner's file\n"
	"  --kind KIND     stock, item, price or location\n"
	"  --output FILE   write the mapping (and its test golden) here\n"
	"  --force         replace an existing --output and golden\n"
	"\n"
	"Exit 0; 1 when the mapping also rejects some of FILE's records; 64\n"
	"usage, or --output exists; 70 a generated mapping that does not\n"
	"compile (a bug); 78 FILE cannot yield a record (a 997 or other\n"
	"message without item lines or parties, no item identifier, an\n"
	"unreadable or empty file; the reason is printed and nothing is\n"
	"written).\n"
	"See docs/mapping.md \"Starting a mapping\".\n";

static int new_opts_parse(int argc, char **argv, struct new_opts *o)
{
	const struct cli_opt opts[] = {
		{"input", 'i', &o->input, NULL},
		{"kind", 'k', &o->kind, NULL},
		{"output", 'o', &o->output, NULL},
		{"force", 'f', NULL, &o->force},
		{NULL, 0, NULL, NULL},
	};
	int i;

	if (cli_wants_help(argc, argv)) {
		cli_usage(stdout, "%s", new_usage);
		return EXIT_DONE + 1000;
	}
	i = cli_parse("map new", argc, argv, opts);
	if (i >= 0 && i < argc)
		log_msg("error", "stockpipe map new: unexpected '%s'", argv[i]);
	else if (i >= 0 && !o->input)
		log_msg("error", "stockpipe map new: --input is required");
	else if (i >= 0 && o->kind && mapgen_kind_parse(o->kind) < 0)
		log_msg("error", "stockpipe map new: --kind is stock, item, price or location, not '%s'",
			o->kind);
	else if (i >= 0 && o->force && !o->output)
		log_msg("error", "stockpipe map new: --force needs --output");
	else if (i >= 0)
		return 0;
	cli_usage(stderr, "%s", new_usage);
	return EXIT_USAGE;
}

/* The day the mapping is written ($STOCKPIPE_NOW when tests pin it): the
 * placeholder as_of of `map test`. */
static void today(char *out)
{
	char iso[DT_ISO_LEN];

	dt_format_iso(schedule_clock(), iso);
	snprintf(out, 11, "%.10s", iso);
}

/* Where the golden goes: DIR/tests/BASE.expect.jsonl next to the
 * mapping, with the paths the mapping's tests: names. */
struct paths {
	char dir[PATH_MAX];
	char golden[PATH_MAX];
	char test_input[PATH_MAX];
	char test_expect[PATH_MAX];
	char check[PATH_MAX];    /* the mapping as checked before publishing */
};

static int plan_paths(const struct new_opts *o, struct paths *p)
{
	const char *b = base_name(o->input);
	const char *dot = strrchr(b, '.');
	int bl = dot && dot != b ? (int)(dot - b) : (int)strlen(b);

	dir_of(o->output, p->dir, sizeof(p->dir));
	if (snprintf(p->test_expect, sizeof(p->test_expect),
		     "tests/%.*s.expect.jsonl", bl, b) >= (int)sizeof(p->test_expect) ||
	    snprintf(p->golden, sizeof(p->golden), "%s/%s", p->dir,
		     p->test_expect) >= (int)sizeof(p->golden) ||
	    snprintf(p->check, sizeof(p->check), "%s/.%s.map-new.%ld", p->dir,
		     base_name(o->output), (long)getpid()) >= (int)sizeof(p->check)) {
		log_msg("error", "stockpipe map new: --output path too long");
		return EXIT_USAGE;
	}
	if (rel_to(o->input, p->dir, p->test_input, sizeof(p->test_input)) < 0) {
		log_msg("error", "stockpipe map new: %s: cannot resolve the input's path from %s",
			o->input, p->dir);
		return EXIT_USAGE;
	}
	if (!o->force && (io_exists(o->output) || io_exists(p->golden))) {
		log_msg("error", "stockpipe map new: %s exists (--force replaces it and its golden %s)",
			io_exists(o->output) ? o->output : p->golden, p->golden);
		return EXIT_USAGE;
	}
	return 0;
}

/* Writes the checked mapping and its golden; 0, or an exit code. */
static int publish(const struct new_opts *o, const struct paths *p,
		   const struct buf *yaml, const struct buf *act)
{
	struct io_atomic a;
	struct err err = ERR_INIT;
	char dir[PATH_MAX];

	dir_of(p->golden, dir, sizeof(dir));
	if (io_mkdirs(dir, &err) ||
	    io_write_file(p->golden, act->ptr, act->len, NULL, &err) ||
	    io_atomic_open(&a, o->output, &err))
		goto fail;
	a.noreplace = !o->force;
	if (io_atomic_write(&a, yaml->ptr, yaml->len, &err)) {
		io_atomic_abort(&a);
		goto fail;
	}
	if (io_atomic_commit(&a, NULL, &err))
		goto fail;
	return 0;
fail:
	log_msg("error", "stockpipe map new: %s: %s", o->output, err.reason);
	return err.code == E_EXISTS ? EXIT_USAGE : err_exit_code(&err);
}

/* The YAML for the analysed file; 0, or an exit code after saying why. */
static int generate(const struct new_opts *o, const struct paths *p,
		    struct buf *yaml, enum mapgen_kind *kind)
{
	struct sniff_opts so;
	struct sniff *s = NULL;
	struct new_in ni;
	struct err err = ERR_INIT;
	char msg[1400];
	int rc = 0;

	memset(&ni, 0, sizeof(ni));
	buf_init(&ni.codes, 1 << 20);
	today(ni.today);
	sniff_opts_init(&so);
	so.max_samples = MAPGEN_SAMPLES;
	if (sniff_file(o->input, base_name(o->input), &so, &s, &err) ||
	    fill_in(s, o->input, &ni, &err))
		goto fail;
	if (o->output) {
		ni.in.test_input = p->test_input;
		ni.in.test_expect = p->test_expect;
	}
	if (mapgen_write(&ni.in, o->kind ? (enum mapgen_kind)mapgen_kind_parse(o->kind)
					 : MAPGEN_AUTO, kind, yaml, &err) == 0)
		goto cleanup;
fail:
	err_format(&err, msg, sizeof(msg));
	log_msg("error", "stockpipe map new: %s; no mapping written", msg);
	rc = err.code == E_PARSE || err.code == E_CONFIG ? EXIT_CONFIG
							 : err_exit_code(&err);
cleanup:
	new_in_free(&ni);
	sniff_free(s);
	return rc;
}

/* Writes yaml where `map test` can compile it: beside --output (its
 * tests: paths are relative to it), else in a private temporary folder. */
static int write_check(const struct new_opts *o, struct paths *p,
		       const struct buf *yaml, char *tmpdir)
{
	struct err err = ERR_INIT;
	const char *t = getenv("TMPDIR");

	if (!o->output) {
		if (snprintf(tmpdir, PATH_MAX, "%s/stockpipe-map-new.XXXXXX",
			     t && *t ? t : "/tmp") >= PATH_MAX || !mkdtemp(tmpdir)) {
			log_msg("error", "stockpipe map new: cannot create a folder under %s",
				t && *t ? t : "/tmp");
			tmpdir[0] = 0;
			return EXIT_TEMPFAIL;
		}
		if (strlen(tmpdir) + sizeof("/mapping.yaml") > sizeof(p->check)) {
			log_msg("error", "stockpipe map new: TMPDIR path too long");
			return EXIT_USAGE;
		}
		memcpy(p->check, tmpdir, strlen(tmpdir));
		memcpy(p->check + strlen(tmpdir), "/mapping.yaml",
		       sizeof("/mapping.yaml"));
	} else if (io_mkdirs(p->dir, &err)) {
		log_msg("error", "stockpipe map new: %s: %s", p->dir, err.reason);
		return err_exit_code(&err);
	}
	if (io_write_file(p->check, yaml->ptr, yaml->len, NULL, &err)) {
		log_msg("error", "stockpipe map new: %s: %s", p->check, err.reason);
		return err_exit_code(&err);
	}
	return 0;
}

int map_new(int argc, char **argv)
{
	struct new_opts o = {NULL, NULL, NULL, 0};
	struct paths *p = calloc(1, sizeof(*p));
	struct buf yaml = BUF_INIT(16u << 20), act = BUF_INIT(256u << 20);
	char tmpdir[PATH_MAX] = "";
	enum mapgen_kind kind = MAPGEN_AUTO;
	struct outcome oc;
	int rc;

	if (!p)
		return EXIT_TEMPFAIL;
	if ((rc = new_opts_parse(argc, argv, &o))) {
		rc = rc == EXIT_DONE + 1000 ? EXIT_DONE : rc;
		goto cleanup;
	}
	if ((o.output && (rc = plan_paths(&o, p))) ||
	    (rc = generate(&o, p, &yaml, &kind)) ||
	    (rc = write_check(&o, p, &yaml, tmpdir)) ||
	    (rc = check_mapping(p->check, o.input, &act, &oc)))
		goto cleanup;
	if (!oc.records) {
		log_msg("error", "stockpipe map new: %s: the mapping written for it makes no record (%lu reject(s)%s%s%s); no mapping written",
			o.input, oc.rejects, oc.failed ? ", the document fails" : "",
			oc.first[0] ? "; first: " : "", oc.first);
		rc = EXIT_CONFIG;
		goto cleanup;
	}
	if (o.output)
		rc = publish(&o, p, &yaml, &act);
	else if (fwrite(yaml.ptr, 1, yaml.len, stdout) != yaml.len || fflush(stdout))
		rc = EXIT_TEMPFAIL;
	if (rc)
		goto cleanup;
	log_msg("info", "%s: kind %s, %lu record(s), %lu reject(s) from %s%s%s",
		o.output ? o.output : "map new", mapgen_kind_name(kind),
		oc.records, oc.rejects, base_name(o.input),
		o.output ? "; test golden " : "", o.output ? p->golden : "");
	rc = oc.rejects ? EXIT_REJECTS : EXIT_DONE;
cleanup:
	if (p->check[0])
		unlink(p->check);
	if (tmpdir[0])
		rmdir(tmpdir);
	buf_release(&yaml);
	buf_release(&act);
	free(p);
	return rc;
}
