/* cmd_inspect.c - `stockpipe inspect FILE...`: an analyst's first look at
 * a file from a new partner.
 *
 * Sniffs the format; for X12 and EDIFACT runs the streaming reader over
 * the whole file and reports delimiters, character set, envelope values
 * (sender, receiver, control numbers, dates, versions), the number of
 * interchanges, groups and transaction sets/messages with their types,
 * and every envelope or syntax problem with its location. No config, no
 * mapping, no state. Exit 0 when every file is valid, 1 when a file has
 * errors (or cannot be read, or is no EDI/CSV/XML), 64 usage.
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
#include "cli.h"
#include "lib/err.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edifact_reader.h"
#include "transforms/formats/x12_reader.h"
#include "transforms/formats/unpack.h"
#include "transforms/formats/xml_reader.h"

static const char inspect_usage[] =
	"usage: stockpipe inspect [--json] [--max-segment BYTES] FILE...\n"
	"\n"
	"Detects the format of each file (archive, x12, edifact, xml, csv,\n"
	"unknown). Archives (zip, tar, tar.gz/.bz2/.xz, .gz) list their\n"
	"members with size, format and whether the pipeline would accept or\n"
	"refuse each, and why. XML files report their root element,\n"
	"namespace, element counts and the first error with line and column.\n"
	"X12 and EDIFACT files are read through: delimiters, character\n"
	"set, envelope values (sender, receiver, control numbers, dates,\n"
	"version), the number of interchanges, groups and transaction\n"
	"sets/messages with their types, and every envelope or syntax error\n"
	"with its location (interchange, segment number in the file and in\n"
	"the interchange, segment id, element).\n"
	"\n"
	"  --json               one JSON object per file on stdout\n"
	"  --max-segment BYTES  longest segment accepted (default 65536)\n"
	"\n"
	"Exit 0 when every file is valid, 1 when errors were found, 64 usage.\n";

#define MAX_TYPES 32
#define MAX_LISTED 200 /* issues shown per file; the rest are counted */

struct type_count {
	char type[8];
	unsigned long n;
};

struct inspect {
	int json;
	const char *path;
	struct buf out;            /* JSON object being built */
	struct buf ics;            /* JSON array of interchanges */
	struct buf issues;         /* JSON array of issues */
	struct type_count types[MAX_TYPES];
	unsigned ntypes;
	unsigned long nlisted, nerrors, nwarnings;
	int first_ic, first_issue;
};

static void add_type(struct inspect *in, const char *t)
{
	unsigned i;

	for (i = 0; i < in->ntypes; i++)
		if (!strcmp(in->types[i].type, t)) {
			in->types[i].n++;
			return;
		}
	if (in->ntypes == MAX_TYPES)
		return;
	snprintf(in->types[in->ntypes].type, sizeof(in->types[0].type), "%s",
		 t[0] ? t : "?");
	in->types[in->ntypes++].n = 1;
}

static void delim_text(char *o, size_t n, const char *name, int v)
{
	if (v < 0)
		snprintf(o, n, "%s none", name);
	else if (v == '\n')
		snprintf(o, n, "%s LF (0A)", name);
	else if (v == '\r')
		snprintf(o, n, "%s CR (0D)", name);
	else if (v > 0x20 && v < 0x7F)
		snprintf(o, n, "%s '%c' (%02X)", name, v, v);
	else
		snprintf(o, n, "%s %02X", name, v);
}

static void json_kv(struct buf *b, const char *k, const char *v, int comma)
{
	if (comma)
		buf_addc(b, ',');
	buf_add_json_str(b, k, strlen(k));
	buf_addc(b, ':');
	buf_add_json_str(b, v, strlen(v));
}

static void json_delim(struct buf *b, const char *k, int v)
{
	buf_addf(b, ",\"%s\":", k);
	if (v < 0)
		buf_adds(b, "null");
	else
		buf_addf(b, "\"%02X\"", v);
}

static void on_ic_end(struct inspect *in, const struct edi_event *ev)
{
	const struct edi_ctx *x = ev->ctx;
	const struct edi_delims *d = &x->delims;
	char e[32], c[32], r[32], s[32];

	if (in->json) {
		struct buf *b = &in->ics;

		buf_adds(b, in->first_ic ? "{" : ",{");
		in->first_ic = 0;
		buf_addf(b, "\"index\":%lu", x->ic_index);
		json_kv(b, "control", x->ic_control, 1);
		json_kv(b, "sender", x->ic_sender, 1);
		json_kv(b, "sender_qualifier", x->ic_sender_qual, 1);
		json_kv(b, "receiver", x->ic_receiver, 1);
		json_kv(b, "receiver_qualifier", x->ic_receiver_qual, 1);
		json_kv(b, "date", x->ic_date, 1);
		json_kv(b, "time", x->ic_time, 1);
		json_kv(b, "version", x->format == EDI_FMT_X12
					      ? x->ic_version
					      : x->syntax_version,
			1);
		json_kv(b, "charset", x->format == EDI_FMT_X12
					      ? (x->ebcdic ? "EBCDIC-CP037" : "")
					      : x->charset,
			1);
		json_kv(b, "test", x->ic_test, 1);
		json_delim(b, "elem", d->elem);
		json_delim(b, "comp", d->comp);
		json_delim(b, "rep", d->rep);
		json_delim(b, "seg", d->seg);
		if (x->format == EDI_FMT_EDIFACT) {
			json_delim(b, "rel", d->rel);
			json_delim(b, "dec", d->dec);
		}
		buf_addf(b, ",\"groups\":%lu,\"sets\":%lu,\"ok\":%s",
			 x->ic_ngroups, x->ic_nsets, ev->ok ? "true" : "false");
		json_kv(b, "sha256", x->ic_sha256, 1);
		buf_addc(b, '}');
		return;
	}
	printf("  interchange %lu: control %s, sender %s%s%s, receiver %s%s%s, "
	       "date %s %s",
	       x->ic_index, x->ic_control[0] ? x->ic_control : "-",
	       x->ic_sender_qual, x->ic_sender_qual[0] ? ":" : "",
	       x->ic_sender, x->ic_receiver_qual,
	       x->ic_receiver_qual[0] ? ":" : "", x->ic_receiver, x->ic_date,
	       x->ic_time);
	if (x->format == EDI_FMT_X12)
		printf(", version %s%s%s%s\n",
		       x->ic_version[0] ? x->ic_version : "-",
		       x->dex ? " (DEX envelope)" : "",
		       x->ic_test[0] ? ", usage " : "", x->ic_test);
	else
		printf(", syntax %s:%s%s%s\n", x->charset, x->syntax_version,
		       x->ic_test[0] ? ", test " : "", x->ic_test);
	delim_text(e, sizeof(e), "element", d->elem);
	delim_text(c, sizeof(c), "component", d->comp);
	delim_text(r, sizeof(r), "repetition", d->rep);
	delim_text(s, sizeof(s), "segment", d->seg);
	printf("    delimiters: %s, %s, %s, %s", e, c, r, s);
	if (d->nseg_tail) {
		unsigned i;

		for (i = 0; i < d->nseg_tail; i++)
			printf(" %02X", d->seg_tail[i]);
	}
	if (x->format == EDI_FMT_EDIFACT) {
		delim_text(e, sizeof(e), "release", d->rel);
		delim_text(c, sizeof(c), "decimal", d->dec);
		printf(", %s, %s%s", e, c, x->una ? " (UNA)" : " (defaults)");
	}
	printf("\n    charset: %s\n",
	       x->format == EDI_FMT_X12
		       ? (x->ebcdic ? "EBCDIC CP037 (translated)"
				    : "bytes as in the file")
		       : x->charset[0] ? x->charset : "-");
	printf("    %lu group%s, %lu set%s, %s, sha256 %s\n", x->ic_ngroups,
	       x->ic_ngroups == 1 ? "" : "s", x->ic_nsets,
	       x->ic_nsets == 1 ? "" : "s", ev->ok ? "ok" : "ERRORS",
	       x->ic_sha256[0] ? x->ic_sha256 : "-");
}

static void on_issue(struct inspect *in, const struct edi_issue *is)
{
	char m[1400];

	if (is->severity == EDI_ERROR)
		in->nerrors++;
	else
		in->nwarnings++;
	if (in->nlisted++ >= MAX_LISTED)
		return;
	if (in->json) {
		struct buf *b = &in->issues;

		buf_adds(b, in->first_issue ? "{" : ",{");
		in->first_issue = 0;
		json_kv(b, "severity",
			is->severity == EDI_ERROR ? "error" : "warning", 0);
		json_kv(b, "code", edi_issue_name(is->code), 1);
		buf_addf(b,
			 ",\"interchange\":%lu,\"segment\":%lu,"
			 "\"segment_in_interchange\":%lu,"
			 "\"segment_in_set\":%lu,\"element\":%u,\"line\":%lu",
			 is->ic_index, is->seg_in_file, is->seg_in_ic,
			 is->seg_in_set, is->elem, is->line);
		json_kv(b, "interchange_control", is->ic_control, 1);
		json_kv(b, "set_control", is->set_control, 1);
		json_kv(b, "segment_id", is->seg_id, 1);
		json_kv(b, "reason", is->reason, 1);
		buf_addc(b, '}');
		return;
	}
	edi_issue_format(is, in->path, m, sizeof(m));
	printf("  %s\n", m);
}

/* Reads an EDI file through. Returns 0 valid, 1 errors. */
static int inspect_edi(struct inspect *in, int fd, int fmt,
		       const struct edi_opts *o)
{
	struct x12_reader *xr = NULL;
	struct edifact_reader *er = NULL;
	struct err err = ERR_INIT;
	struct edi_event ev;
	unsigned long nic = 0, ng = 0, ns = 0;
	int rc;

	rc = fmt == EDI_FMT_X12
		     ? x12_reader_open_fd(&xr, fd, in->path, o, &err)
		     : edifact_reader_open_fd(&er, fd, in->path, o, &err);
	if (rc < 0)
		goto fail;
	for (;;) {
		rc = xr ? x12_reader_next(xr, &ev, &err)
			: edifact_reader_next(er, &ev, &err);
		if (rc <= 0)
			break;
		switch (ev.kind) {
		case EDI_EV_SEGMENT:
			if (!strcmp(ev.seg->tag, "ST") ||
			    !strcmp(ev.seg->tag, "UNH"))
				add_type(in, ev.ctx->set_type);
			break;
		case EDI_EV_ISSUE:
			on_issue(in, ev.issue);
			break;
		case EDI_EV_IC_END:
			on_ic_end(in, &ev);
			break;
		default:
			break;
		}
	}
	if (xr)
		x12_reader_stats(xr, NULL, NULL, &nic, &ng, &ns);
	else
		edifact_reader_stats(er, NULL, NULL, &nic, &ng, &ns);
	x12_reader_free(xr);
	edifact_reader_free(er);
	if (rc < 0)
		goto fail;
	goto done;
fail:
	/* A read failure is an error of the file, listed like the others. */
	{
		struct edi_issue is;

		memset(&is, 0, sizeof(is));
		is.severity = EDI_ERROR;
		is.code = EDI_I_UNREADABLE;
		is.seg_in_file = err.line;
		snprintf(is.reason, sizeof(is.reason), "%s: %.200s",
			 err_code_name(err.code), err.reason);
		on_issue(in, &is);
	}
done:
	if (in->json) {
		unsigned i;

		buf_addf(&in->out,
			 ",\"valid\":%s,\"interchanges\":%lu,\"groups\":%lu,"
			 "\"sets\":%lu,\"set_types\":{",
			 in->nerrors ? "false" : "true", nic, ng, ns);
		for (i = 0; i < in->ntypes; i++) {
			buf_addf(&in->out, "%s", i ? "," : "");
			buf_add_json_str(&in->out, in->types[i].type,
					 strlen(in->types[i].type));
			buf_addf(&in->out, ":%lu", in->types[i].n);
		}
		buf_adds(&in->out, "},\"interchange_list\":[");
		buf_add(&in->out, in->ics.ptr, in->ics.len);
		buf_adds(&in->out, "],\"issues\":[");
		buf_add(&in->out, in->issues.ptr, in->issues.len);
		buf_addf(&in->out, "],\"errors\":%lu,\"warnings\":%lu",
			 in->nerrors, in->nwarnings);
	} else {
		unsigned i;

		printf("  total: %lu interchange%s, %lu group%s, %lu set%s",
		       nic, nic == 1 ? "" : "s", ng, ng == 1 ? "" : "s", ns,
		       ns == 1 ? "" : "s");
		for (i = 0; i < in->ntypes; i++)
			printf("%s%sx%lu", i ? "," : " (", in->types[i].type,
			       in->types[i].n);
		printf("%s\n", in->ntypes ? ")" : "");
		if (in->nlisted > MAX_LISTED)
			printf("  ... %lu more issues not shown\n",
			       in->nlisted - MAX_LISTED);
		printf("  result: %s (%lu error%s, %lu warning%s)\n",
		       in->nerrors ? "INVALID" : "valid", in->nerrors,
		       in->nerrors == 1 ? "" : "s", in->nwarnings,
		       in->nwarnings == 1 ? "" : "s");
	}
	return in->nerrors ? 1 : 0;
}

/* ---- XML: root, namespaces, records, first error ------------------- */

struct xml_count {
	const char *qname;      /* interned by libxml2 */
	unsigned long n;
};

static int inspect_xml(struct inspect *in, int fd)
{
	struct xml_reader_opts o;
	struct xml_reader *r = NULL;
	const struct xml_event *ev;
	struct err e = ERR_INIT;
	struct xml_count kids[16];
	size_t nkids = 0, i;
	char root[256] = "", root_ns[512] = "", msg[1200];
	int rc, bad = 0;

	xml_reader_opts_init(&o);
	if (xml_reader_open_fd(&r, fd, in->path, &o, &e) < 0)
		goto fail;
	while ((rc = xml_reader_next(r, &ev, &e)) == 1) {
		if (ev->type != XML_EV_START)
			continue;
		if (ev->depth == 1) {
			snprintf(root, sizeof(root), "%s", ev->qname);
			snprintf(root_ns, sizeof(root_ns), "%s",
				 ev->ns ? ev->ns : "");
		} else if (ev->depth == 2) {
			/* The children of the root are the records (or the
			 * header and the records) of most business XML. */
			for (i = 0; i < nkids && kids[i].qname != ev->qname; i++)
				;
			if (i < nkids)
				kids[i].n++;
			else if (nkids < sizeof(kids) / sizeof(kids[0]))
				kids[nkids++] = (struct xml_count){ev->qname, 1};
		}
	}
	if (rc < 0)
		bad = 1;
	if (in->json) {
		json_kv(&in->out, "root", root, 1);
		json_kv(&in->out, "namespace", root_ns, 1);
		buf_addf(&in->out, ",\"elements\":%lu,\"children\":{",
			 xml_reader_elements(r));
		for (i = 0; i < nkids; i++) {
			if (i)
				buf_addc(&in->out, ',');
			buf_add_json_str(&in->out, kids[i].qname,
					 strlen(kids[i].qname));
			buf_addf(&in->out, ":%lu", kids[i].n);
		}
		buf_addc(&in->out, '}');
	} else {
		printf("  root: %s%s%s%s\n", root, root_ns[0] ? " (" : "",
		       root_ns, root_ns[0] ? ")" : "");
		printf("  elements: %lu\n", xml_reader_elements(r));
		for (i = 0; i < nkids; i++)
			printf("  %lu x %s\n", kids[i].n, kids[i].qname);
	}
	xml_reader_free(r);
	if (!bad) {
		if (in->json)
			buf_adds(&in->out, ",\"valid\":true");
		else
			printf("  valid: well-formed, no DOCTYPE\n");
		return 0;
	}
fail:
	err_format(&e, msg, sizeof(msg));
	if (in->json) {
		buf_adds(&in->out, ",\"valid\":false");
		json_kv(&in->out, "error", msg, 1);
	} else {
		printf("  error: %s\n", msg);
	}
	return 1;
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
	unsigned char head[4096];
	ssize_t n = 0;
	int fd;

	(void)err;
	c->members++;
	if (m->path && (fd = open(m->path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
		fmt = m->is_archive ? "archive"
				    : edi_format_name(edi_sniff(
					      head, n > 0 ? (size_t)n : 0));
	}
	if (!why && m->is_archive)
		why = "archive inside an archive (only one level is unpacked)";
	if (why)
		c->refused++;
	if (c->in->json) {
		buf_adds(&c->in->out, c->first ? "" : ",");
		buf_adds(&c->in->out, "{");
		json_kv(&c->in->out, "name", m->name, 0);
		buf_addf(&c->in->out, ",\"size\":%llu",
			 (unsigned long long)m->size);
		json_kv(&c->in->out, "format", fmt, 1);
		buf_addf(&c->in->out, ",\"accepted\":%s",
			 why ? "false" : "true");
		if (why)
			json_kv(&c->in->out, "reason", why, 1);
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

static int inspect_archive(struct inspect *in, enum unpack_kind kind)
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
		json_kv(&in->out, "archive", unpack_kind_name(kind), 1);
		buf_adds(&in->out, ",\"members\":[");
	} else {
		printf("  %s archive; members (name, bytes, format, verdict):\n",
		       unpack_kind_name(kind));
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
			json_kv(&in->out, "error", msg, 1);
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

static int inspect_file(const char *path, int json, const struct edi_opts *o)
{
	struct inspect in;
	unsigned char head[4096];
	ssize_t n;
	size_t got = 0;
	int fd, fmt, rc = 0;

	memset(&in, 0, sizeof(in));
	in.json = json;
	in.path = path;
	in.first_ic = in.first_issue = 1;
	buf_init(&in.out, (size_t)64 << 20);
	buf_init(&in.ics, (size_t)32 << 20);
	buf_init(&in.issues, (size_t)32 << 20);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (json) {
			buf_adds(&in.out, "{");
			json_kv(&in.out, "file", path, 0);
			json_kv(&in.out, "format", "unreadable", 1);
			json_kv(&in.out, "error", strerror(e), 1);
			buf_adds(&in.out, ",\"valid\":false}\n");
			fwrite(in.out.ptr, 1, in.out.len, stdout);
		} else {
			log_msg("error", "stockpipe inspect: cannot open '%s': %s",
				path, strerror(e));
		}
		rc = 1;
		goto out;
	}
	{
		struct stat st;

		if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
			log_msg("error", "stockpipe inspect: '%s' is not a "
				"regular file", path);
			close(fd);
			rc = 1;
			goto out;
		}
	}
	while (got < sizeof(head) &&
	       (n = read(fd, head + got, sizeof(head) - got)) > 0)
		got += (size_t)n;
	if (unpack_sniff(head, got) != UNPACK_PLAIN) {
		enum unpack_kind kind = unpack_sniff(head, got);

		if (json) {
			buf_adds(&in.out, "{");
			json_kv(&in.out, "file", path, 0);
			json_kv(&in.out, "format", "archive", 1);
		} else {
			printf("%s: archive\n", path);
		}
		rc = inspect_archive(&in, kind);
		close(fd);
		goto emit;
	}
	fmt = edi_sniff(head, got);
	if (json) {
		buf_adds(&in.out, "{");
		json_kv(&in.out, "file", path, 0);
		json_kv(&in.out, "format", edi_format_name(fmt), 1);
	} else {
		printf("%s: %s\n", path, edi_format_name(fmt));
	}
	if (fmt == EDI_FMT_X12 || fmt == EDI_FMT_EDIFACT) {
		if (lseek(fd, 0, SEEK_SET) < 0) {
			rc = 1;
		} else {
			rc = inspect_edi(&in, fd, fmt, o);
		}
	} else if (fmt == EDI_FMT_XML) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			rc = 1;
		else
			rc = inspect_xml(&in, fd);
	} else if (fmt == EDI_FMT_CSV) {
		/* Not EDI: nothing to validate here (`map try` reads them). */
		if (json)
			buf_adds(&in.out, ",\"valid\":null");
		else
			printf("  not EDI; use `stockpipe map try` to read it "
			       "with a mapping\n");
	} else {
		const char *why = fmt == EDI_FMT_EMPTY
					  ? "empty file"
					  : "unrecognized format (not EDI, XML "
					    "or CSV)";

		if (json) {
			buf_adds(&in.out, ",\"valid\":false");
			json_kv(&in.out, "error", why, 1);
		} else {
			printf("  error: %s\n", why);
		}
		rc = 1;
	}
	close(fd);
emit:
	if (json) {
		buf_adds(&in.out, "}\n");
		if (in.out.err)
			log_msg("error", "stockpipe inspect: report for '%s' too "
				"large", path);
		else
			fwrite(in.out.ptr, 1, in.out.len, stdout);
	}
out:
	buf_release(&in.out);
	buf_release(&in.ics);
	buf_release(&in.issues);
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
