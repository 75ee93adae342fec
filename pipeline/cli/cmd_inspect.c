/* cmd_inspect.c - `stockpipe inspect FILE...`: an analyst's first look at
 * a file from a new partner.
 *
 * One analysis (transforms/formats/sniff.h, the same one content routes
 * and `map try` use) read out for a person or, with --json, for a tool:
 * CSV dialect (delimiter, quote, escape, encoding, BOM, line ends), the
 * header with sample values per column, the row count and the rows that
 * do not fit; for X12 and EDIFACT the delimiters, envelope values and
 * counts, every envelope or syntax problem with its location, message
 * types with versions, segment tags with the qualifier codes seen per
 * element; for XML the root, namespaces and element paths with counts and
 * a sample value; archives list their members. No config, no mapping, no
 * state. Exit 0 when every file is valid, 1 when a file has errors (or
 * cannot be read, or is no EDI/CSV/XML), 64 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/buf.h"
#include "lib/utf8.h"
#include "cli.h"
#include "lib/err.h"
#include "pipeline/cli/cmd_inspect_int.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/sniff.h"
#include "transforms/formats/unpack.h"

static const char inspect_usage[] =
	"usage: stockpipe inspect [--json] [--max-segment BYTES] FILE...\n"
	"\n"
	"Detects the format of each file (archive, x12, edifact, xml, csv,\n"
	"unknown) and shows what a mapping needs to know about it.\n"
	"CSV: encoding, byte order mark, line ends, delimiter, quote and\n"
	"escape, whether the first record is a header, the columns with a few\n"
	"sample values each, the record count and the records that do not\n"
	"fit (another field count, a NUL byte, bad quoting).\n"
	"X12 and EDIFACT files are read through: delimiters (with what the\n"
	"repetition separator split), character set, envelope values (sender,\n"
	"receiver, control numbers, dates, versions) and counts against the\n"
	"trailers, every envelope or syntax error with its location\n"
	"(interchange, segment number in the file and in the interchange,\n"
	"segment id, element, line), message types with versions, and every\n"
	"segment tag with the qualifier codes (or a sample) per element.\n"
	"XML files report their root element, namespaces, every element and\n"
	"attribute path with its count and a sample value, and the first\n"
	"error with line and column. Archives (zip, tar, tar.gz/.bz2/.xz,\n"
	".gz) list their members with size, format and whether the pipeline\n"
	"would accept or refuse each, and why.\n"
	"\n"
	"  --json               one JSON object per file on stdout\n"
	"  --max-segment BYTES  longest segment accepted (default 65536)\n"
	"\n"
	"Exit 0 when every file is valid, 1 when errors were found, 64 usage.\n";

struct inspect {
	int json;
	const char *path;
	struct buf out;            /* JSON object being built */
};

void inspect_delim_text(char *o, size_t n, const char *name, int v)
{
	if (v < 0)
		snprintf(o, n, "%s none", name);
	else if (v == '\n')
		snprintf(o, n, "%s LF (0A)", name);
	else if (v == '\r')
		snprintf(o, n, "%s CR (0D)", name);
	else if (v == '\t')
		snprintf(o, n, "%s TAB (09)", name);
	else if (v > 0x20 && v < 0x7F)
		snprintf(o, n, "%s '%c' (%02X)", name, v, v);
	else
		snprintf(o, n, "%s %02X", name, v);
}

void inspect_json_kv(struct buf *b, const char *k, const char *v, int comma)
{
	if (comma)
		buf_addc(b, ',');
	buf_add_json_str(b, k, strlen(k));
	buf_addc(b, ':');
	buf_add_json_str(b, v ? v : "", v ? strlen(v) : 0);
}

void inspect_json_delim(struct buf *b, const char *k, int v)
{
	buf_addf(b, ",\"%s\":", k);
	if (v < 0)
		buf_adds(b, "null");
	else
		buf_addf(b, "\"%02X\"", v);
}

void inspect_put_value(FILE *f, const char *v)
{
	fputc('\'', f);
	if (v)
		utf8_put_term(f, v, strlen(v), 0);
	fputc('\'', f);
}

/* ",\"k\":\";\"" for a dialect character; null when there is none. */
static void json_char(struct buf *b, const char *k, char c)
{
	buf_addf(b, ",\"%s\":", k);
	if (c)
		buf_add_json_str(b, &c, 1);
	else
		buf_adds(b, "null");
}

static const char *char_name(char c, char *o, size_t n)
{
	if (!c)
		snprintf(o, n, "none");
	else if (c == '\t')
		snprintf(o, n, "TAB (09)");
	else
		snprintf(o, n, "'%c' (%02X)", c, (unsigned char)c);
	return o;
}

/* ---- encoding line, shared by every text format ------------------------ */

static void text_json(const struct sniff *s, struct buf *b)
{
	buf_addf(b, ",\"size\":%llu", (unsigned long long)s->size);
	inspect_json_kv(b, "encoding", s->dialect.encoding, 1);
	buf_addf(b, ",\"bom\":%s", s->dialect.bom ? "true" : "false");
	inspect_json_kv(b, "line_ends", sniff_eol_name(s->dialect.eol), 1);
}

static void text_line(const struct sniff *s)
{
	printf("  text: %llu bytes, encoding %s, %s, line ends %s\n",
	       (unsigned long long)s->size,
	       s->dialect.encoding[0] ? s->dialect.encoding : "-",
	       s->dialect.bom ? "with byte order mark" : "no byte order mark",
	       sniff_eol_name(s->dialect.eol));
}

/* ---- CSV ----------------------------------------------------------------- */

static void csv_json(const struct sniff *s, struct buf *b)
{
	const struct sniff_dialect *d = &s->dialect;
	const struct sniff_csv *c = &s->u.csv;
	unsigned i, j;

	json_char(b, "delimiter", d->delimiter);
	json_char(b, "quote", d->quote);
	json_char(b, "escape", d->escape);
	buf_addf(b, ",\"quoted_newlines\":%s,\"header\":%s,\"columns\":%u,"
		 "\"column_list\":[",
		 d->quoted_newlines ? "true" : "false",
		 d->header ? "true" : "false", c->ncols);
	for (i = 0; i < c->ncols - c->ncols_more; i++) {
		const struct sniff_column *col = &c->cols[i];

		buf_adds(b, i ? ",{" : "{");
		inspect_json_kv(b, "name", col->name, 0);
		buf_addf(b, ",\"nonempty\":%lu,\"samples\":[", col->nonempty);
		for (j = 0; j < col->nsamples; j++) {
			buf_adds(b, j ? "," : "");
			buf_add_json_str(b, col->samples[j],
					 strlen(col->samples[j]));
		}
		buf_adds(b, "]}");
	}
	buf_addf(b, "],\"columns_not_listed\":%u,\"rows\":%lu,\"lines\":%lu,"
		 "\"rows_not_fitting\":%lu,\"bad_rows\":[",
		 c->ncols_more, c->rows, c->lines, c->nbad);
	for (i = 0; i < c->nbad_listed; i++) {
		const struct sniff_bad_row *r = &c->bad[i];

		buf_addf(b, "%s{\"line\":%lu,\"record\":%lu,\"fields\":%u",
			 i ? "," : "", r->line, r->index, r->nfields);
		inspect_json_kv(b, "why", r->why, 1);
		buf_addc(b, '}');
	}
	buf_adds(b, "]");
	if (c->error)
		inspect_json_kv(b, "error", c->error, 1);
	buf_addf(b, ",\"valid\":%s", s->valid ? "true" : "false");
}

static void csv_columns_text(const struct sniff_csv *c, int header)
{
	unsigned i, j, w = 4;

	for (i = 0; i < c->ncols - c->ncols_more; i++)
		if (strlen(c->cols[i].name) > w && strlen(c->cols[i].name) < 40)
			w = (unsigned)strlen(c->cols[i].name);
	printf("  columns (%s; filled in how many records; first values):\n",
	       header ? "name from the header" : "no header: by number");
	for (i = 0; i < c->ncols - c->ncols_more; i++) {
		const struct sniff_column *col = &c->cols[i];

		printf("    %3u  ", i + 1);
		if (header) {
			utf8_put_term(stdout, col->name, strlen(col->name), 0);
			printf("%*s", (int)(w > strlen(col->name)
						    ? w - strlen(col->name)
						    : 0),
			       "");
		}
		printf("  %lu/%lu ", col->nonempty, c->rows);
		for (j = 0; j < col->nsamples; j++) {
			printf("%s", j ? ", " : " ");
			inspect_put_value(stdout, col->samples[j]);
		}
		printf("\n");
	}
	if (c->ncols_more)
		printf("    ... %u more columns not shown\n", c->ncols_more);
}

static int csv_text(const struct sniff *s)
{
	const struct sniff_dialect *d = &s->dialect;
	const struct sniff_csv *c = &s->u.csv;
	char q[24], dl[24], es[24];
	unsigned i;

	text_line(s);
	printf("  dialect: delimiter %s, quote %s, escape %s%s\n",
	       char_name(d->delimiter, dl, sizeof(dl)),
	       char_name(d->quote, q, sizeof(q)),
	       d->escape == '"' ? "doubled quote (\"\")"
			       : char_name(d->escape, es, sizeof(es)),
	       d->quoted_newlines ? ", line breaks inside quoted fields" : "");
	printf("  header: %s; %u column%s\n",
	       d->header ? "yes (first record names the columns)"
			 : "no (first record is data)",
	       c->ncols, c->ncols == 1 ? "" : "s");
	printf("  records: %lu (header excluded) on %lu physical line%s\n",
	       c->rows, c->lines, c->lines == 1 ? "" : "s");
	if (c->ncols)
		csv_columns_text(c, d->header);
	if (c->nbad) {
		printf("  records that do not fit: %lu\n", c->nbad);
		for (i = 0; i < c->nbad_listed; i++)
			printf("    %s:%lu: record %lu: %s\n", s->path,
			       c->bad[i].line, c->bad[i].index, c->bad[i].why);
		if (c->nbad > c->nbad_listed)
			printf("    ... %lu more not shown\n",
			       c->nbad - c->nbad_listed);
	}
	if (c->error)
		printf("  error: %s\n", c->error);
	printf("  result: %s\n",
	       s->valid ? "valid (every record has the header's field count)"
			: "INVALID (see above)");
	return s->valid ? 0 : 1;
}

/* ---- XML ----------------------------------------------------------------- */

static void xml_json(const struct sniff *s, struct buf *b)
{
	const struct sniff_xml *x = &s->u.xml;
	unsigned i, first = 1;

	inspect_json_kv(b, "root", x->root, 1);
	inspect_json_kv(b, "namespace", x->root_ns, 1);
	inspect_json_kv(b, "declared_encoding", x->encoding, 1);
	buf_addf(b, ",\"elements\":%lu,\"children\":{", x->elements);
	for (i = 0; i < x->npaths; i++) {
		const struct sniff_xpath *p = &x->paths[i];
		const char *last = strrchr(p->path, '/');

		if (p->depth != 2 || !last || last[1] == '@')
			continue;
		buf_adds(b, first ? "" : ",");
		first = 0;
		buf_add_json_str(b, last + 1, strlen(last + 1));
		buf_addf(b, ":%lu", p->n);
	}
	buf_adds(b, "},\"namespaces\":[");
	for (i = 0; i < x->nns; i++) {
		buf_adds(b, i ? ",{" : "{");
		inspect_json_kv(b, "prefix", x->ns[i].prefix, 0);
		inspect_json_kv(b, "uri", x->ns[i].uri, 1);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"paths\":[");
	for (i = 0; i < x->npaths; i++) {
		const struct sniff_xpath *p = &x->paths[i];

		buf_adds(b, i ? ",{" : "{");
		inspect_json_kv(b, "path", p->path, 0);
		inspect_json_kv(b, "ns", p->ns, 1);
		buf_addf(b, ",\"n\":%lu", p->n);
		if (p->sample)
			inspect_json_kv(b, "sample", p->sample, 1);
		buf_addc(b, '}');
	}
	buf_addf(b, "],\"paths_not_listed\":%lu", x->npaths_more);
	buf_addf(b, ",\"valid\":%s", s->valid ? "true" : "false");
	if (x->error)
		inspect_json_kv(b, "error", x->error, 1);
}

static int xml_text(const struct sniff *s)
{
	const struct sniff_xml *x = &s->u.xml;
	unsigned i;

	text_line(s);
	printf("  root: %s%s%s%s\n", x->root, x->root_ns[0] ? " (" : "",
	       x->root_ns, x->root_ns[0] ? ")" : "");
	printf("  elements: %lu\n", x->elements);
	for (i = 0; i < x->npaths; i++) {
		const char *last = strrchr(x->paths[i].path, '/');

		if (x->paths[i].depth == 2 && last && last[1] != '@')
			printf("  %lu x %s\n", x->paths[i].n, last + 1);
	}
	for (i = 0; i < x->nns; i++)
		printf("%s%s%s%s", i ? ", " : "  namespaces: ",
		       x->ns[i].prefix[0] ? x->ns[i].prefix : "(default)",
		       " = ", x->ns[i].uri);
	if (x->nns_more)
		printf(", %u more", x->nns_more);
	if (x->nns)
		printf("\n");
	printf("  paths (count, first value):\n");
	for (i = 0; i < x->npaths; i++) {
		const struct sniff_xpath *p = &x->paths[i];

		printf("    %6lu  %s", p->n, p->path);
		if (p->sample) {
			printf("  ");
			inspect_put_value(stdout, p->sample);
		}
		printf("\n");
	}
	if (x->npaths_more)
		printf("    ... %lu more occurrences of paths not listed (over "
		       "the path limit)\n", x->npaths_more);
	if (x->error) {
		printf("  error: %s\n", x->error);
		return 1;
	}
	printf("  valid: well-formed, no DOCTYPE\n");
	return 0;
}

/* ---- archives: members, sizes, formats, accepted or refused --------- */

struct arch_ctx {
	struct inspect *in;
	unsigned long members, refused;
	int first;
};

static int arch_member(void *ud, const struct unpack_member *m,
		       struct err *err)
{
	struct arch_ctx *c = ud;
	const char *fmt = "-", *why = m->refused;
	struct err se = ERR_INIT;

	(void)err;
	c->members++;
	if (m->path) {
		int f = m->is_archive ? SNIFF_ARCHIVE
				      : sniff_path_head(m->path, NULL, &se);

		fmt = f < 0 ? "unreadable" : sniff_format_name(f);
	}
	if (!why && m->is_archive)
		why = "archive inside an archive (only one level is unpacked)";
	if (why)
		c->refused++;
	if (c->in->json) {
		buf_adds(&c->in->out, c->first ? "" : ",");
		buf_adds(&c->in->out, "{");
		inspect_json_kv(&c->in->out, "name", m->name, 0);
		buf_addf(&c->in->out, ",\"size\":%llu",
			 (unsigned long long)m->size);
		inspect_json_kv(&c->in->out, "format", fmt, 1);
		buf_addf(&c->in->out, ",\"accepted\":%s",
			 why ? "false" : "true");
		if (why)
			inspect_json_kv(&c->in->out, "reason", why, 1);
		buf_adds(&c->in->out, "}");
	} else {
		printf("  %-40s %10llu  %-8s %s%s\n", m->name,
		       (unsigned long long)m->size, fmt,
		       why ? "refused: " : "accepted", why ? why : "");
	}
	c->first = 0;
	if (m->path)
		unlink(m->path);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int inspect_archive(struct inspect *in, const char *kind)
{
	struct unpack_limits lim;
	struct arch_ctx c = {in, 0, 0, 1};
	struct err e = ERR_INIT;
	char dir[256], msg[1200];
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(dir, sizeof(dir), "%s/stockpipe-inspect.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		log_msg("error", "stockpipe inspect: cannot make a temporary "
			"folder: %s", strerror(errno));
		return 1;
	}
	unpack_limits_default(&lim);
	if (in->json) {
		inspect_json_kv(&in->out, "archive", kind, 1);
		buf_adds(&in->out, ",\"members\":[");
	} else {
		printf("  %s archive; members (name, bytes, format, verdict):\n",
		       kind);
	}
	rc = unpack_archive(in->path, in->path, dir, &lim, arch_member, &c,
			    &e);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (in->json)
		buf_adds(&in->out, "]");
	if (rc < 0) {
		err_format(&e, msg, sizeof(msg));
		if (in->json) {
			buf_adds(&in->out, ",\"valid\":false");
			inspect_json_kv(&in->out, "error", msg, 1);
		} else {
			printf("  error: the whole archive would be "
			       "quarantined: %s\n", msg);
		}
		return 1;
	}
	if (in->json)
		buf_addf(&in->out, ",\"valid\":%s",
			 c.refused ? "false" : "true");
	else
		printf("  %lu member%s, %lu would be refused\n", c.members,
		       c.members == 1 ? "" : "s", c.refused);
	return c.refused ? 1 : 0;
}

static int inspect_unknown(struct inspect *in, const struct sniff *s)
{
	const char *why = s->format == SNIFF_EMPTY
				  ? "empty file"
				  : "unrecognized format (not EDI, XML or CSV)";

	if (in->json) {
		text_json(s, &in->out);
		buf_adds(&in->out, ",\"valid\":false");
		inspect_json_kv(&in->out, "error", why, 1);
	} else {
		if (s->format != SNIFF_EMPTY)
			text_line(s);
		printf("  error: %s\n", why);
	}
	return 1;
}

static int inspect_file(const char *path, int json, const struct edi_opts *o)
{
	struct inspect in;
	struct sniff_opts so;
	struct sniff *s = NULL;
	struct err e = ERR_INIT;
	struct stat st;
	int rc = 0;

	memset(&in, 0, sizeof(in));
	in.json = json;
	in.path = path;
	buf_init(&in.out, (size_t)64 << 20);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		log_msg("error", "stockpipe inspect: '%s' is not a regular file",
			path);
		rc = 1;
		goto out;
	}
	sniff_opts_init(&so);
	so.max_segment = o->max_segment;
	if (sniff_file(path, path, &so, &s, &e) < 0) {
		char msg[1200];

		err_format(&e, msg, sizeof(msg));
		if (json) {
			buf_adds(&in.out, "{");
			inspect_json_kv(&in.out, "file", path, 0);
			inspect_json_kv(&in.out, "format", "unreadable", 1);
			inspect_json_kv(&in.out, "error",
					e.os_code ? strerror(e.os_code) : msg, 1);
			buf_adds(&in.out, ",\"valid\":false}\n");
			fwrite(in.out.ptr, 1, in.out.len, stdout);
		} else {
			log_msg("error", "stockpipe inspect: cannot read '%s': %s",
				path, msg);
		}
		rc = 1;
		goto out;
	}
	if (json) {
		buf_adds(&in.out, "{");
		inspect_json_kv(&in.out, "file", path, 0);
		inspect_json_kv(&in.out, "format", sniff_format_name(s->format), 1);
	} else {
		printf("%s: %s", path, sniff_format_name(s->format));
		if (s->message[0])
			printf(" %s%s%s", s->message,
			       s->message_version[0] ? " " : "",
			       s->message_version);
		printf("\n");
	}
	switch (s->format) {
	case SNIFF_ARCHIVE:
		rc = inspect_archive(&in, s->archive);
		break;
	case SNIFF_X12:
	case SNIFF_EDIFACT:
		if (json)
			text_json(s, &in.out);
		else
			text_line(s);
		rc = inspect_edi(s, json, &in.out);
		break;
	case SNIFF_XML:
		if (json) {
			text_json(s, &in.out);
			xml_json(s, &in.out);
			rc = s->valid ? 0 : 1;
		} else {
			rc = xml_text(s);
		}
		break;
	case SNIFF_CSV:
		if (json) {
			text_json(s, &in.out);
			csv_json(s, &in.out);
			rc = s->valid ? 0 : 1;
		} else {
			rc = csv_text(s);
		}
		break;
	default:
		rc = inspect_unknown(&in, s);
		break;
	}
	if (json) {
		if (s->message[0] || s->format == SNIFF_XML) {
			inspect_json_kv(&in.out, "message", s->message, 1);
			inspect_json_kv(&in.out, "message_version",
					s->message_version, 1);
		}
		buf_adds(&in.out, "}\n");
		if (in.out.err)
			log_msg("error", "stockpipe inspect: report for '%s' too "
				"large", path);
		else
			fwrite(in.out.ptr, 1, in.out.len, stdout);
	}
out:
	sniff_free(s);
	buf_release(&in.out);
	return rc;
}

int cmd_inspect(int argc, char **argv, const struct cli_global *g)
{
	struct edi_opts o = {0, 0};
	int json = 0, i, nfiles = 0, bad = 0;

	(void)g;
	if (cli_wants_help(argc, argv)) {
		cli_usage(stdout, "%s", inspect_usage);
		return EXIT_DONE;
	}
	{
		const char *maxseg = NULL;
		long long v;
		const struct cli_opt opts[] = {
			{"json", 'j', NULL, &json},
			{"max-segment", 0, &maxseg, NULL},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("inspect", argc, argv, opts)) < 0) {
			cli_usage(stderr, "%s", inspect_usage);
			return EXIT_USAGE;
		}
		if (maxseg) {
			if (cli_number(maxseg, 256, 1LL << 30, &v) < 0) {
				log_msg("error", "stockpipe inspect: "
					"--max-segment needs 256..1073741824");
				return EXIT_USAGE;
			}
			o.max_segment = (unsigned long)v;
		}
	}
	for (; i < argc; i++) {
		nfiles++;
		if (inspect_file(argv[i], json, &o))
			bad = 1;
		fflush(stdout);
	}
	if (!nfiles) {
		cli_usage(stderr, "%s", inspect_usage);
		return EXIT_USAGE;
	}
	return bad ? EXIT_REJECTS : EXIT_DONE;
}
