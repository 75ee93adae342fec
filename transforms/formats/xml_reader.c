/* xml_reader.c - see xml_reader.h. */
#include "xml_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlreader.h>

#include "lib/buf.h"
#include "lib/utf8.h"

/* Scanner of the prolog: finds "<!DOCTYPE" before the root element. */
enum { PS_TEXT, PS_LT, PS_BANG, PS_BANG_DASH, PS_COMMENT, PS_CM1, PS_CM2,
       PS_PI, PS_PI_Q, PS_MATCH, PS_DONE, PS_FOUND };

struct xml_reader {
	int fd;
	const char *name;
	struct xml_reader_opts o;
	xmlTextReaderPtr xr;
	/* read callback */
	int read_errno;
	int pstate;
	unsigned pmatch;
	unsigned long pline, pcol;          /* position of the next byte */
	unsigned long lt_line, lt_col;      /* of the last '<' */
	unsigned long dt_line, dt_col;      /* of "<!DOCTYPE", 0 = none */
	/* the first error reported by libxml2 */
	int have_err;
	unsigned long err_line;
	unsigned err_col;
	char err_msg[300];
	/* the event */
	struct xml_event ev;
	struct xml_attr *attrs;
	size_t capattrs;
	char *vbuf;                          /* attribute values */
	size_t vlen, vcap;
	int pending_end;                     /* an empty element's END */
	const char *end_ns, *end_local, *end_qname;
	unsigned end_depth;
	unsigned long elements;
	int done;
	/* Names already asked of libxml2, whose xmlTextReaderConstName
	 * and ConstNamespaceUri hash their string into the dictionary on
	 * every call (a tenth of the XML map stage); the strings given back
	 * are the dictionary's, alive as long as the reader. */
	struct qn_memo { const xmlChar *local; const char *qname; } qn[64];
	struct ns_memo { const xmlChar *href; const char *uri; } ns[8];
};

void xml_reader_opts_init(struct xml_reader_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_depth = 128;
	o->max_text = 1u << 20;
	o->max_name = 1000;
	o->max_attrs = 256;
}

static xmlParserInputPtr deny_loader(const char *url, const char *id,
				     xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

static void silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void on_error(void *arg, xmlErrorPtr e)
{
	struct xml_reader *r = arg;
	size_t i, o = 0;
	const char *m;

	if (!r || !e || e->level < XML_ERR_ERROR)
		return;
	if (r->have_err) {
		/* Encoding errors come without a position; the parser's
		 * error that follows has it. */
		if (!r->err_line && e->line > 0) {
			r->err_line = (unsigned long)e->line;
			r->err_col = e->int2 > 0 ? (unsigned)e->int2 : 0;
		}
		return;
	}
	r->have_err = 1;
	r->err_line = e->line > 0 ? (unsigned long)e->line : 0;
	r->err_col = e->int2 > 0 ? (unsigned)e->int2 : 0;
	m = e->message ? e->message : "malformed XML";
	/* One line: newlines become spaces, no trailing blanks. */
	for (i = 0; m[i] && o + 1 < sizeof(r->err_msg); i++) {
		char c = m[i] == '\n' || m[i] == '\r' ? ' ' : m[i];

		if (c == ' ' && (o == 0 || r->err_msg[o - 1] == ' '))
			continue;
		r->err_msg[o++] = c;
	}
	while (o && r->err_msg[o - 1] == ' ')
		o--;
	r->err_msg[o] = '\0';
}

static void structured_silent(void *arg, xmlErrorPtr e)
{
	(void)arg;
	(void)e;
}

static void lib_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	xmlInitParser();
	xmlSetExternalEntityLoader(deny_loader);
	xmlSetGenericErrorFunc(NULL, silent_generic);
	xmlSetStructuredErrorFunc(NULL, structured_silent);
	xmlLineNumbersDefault(1);
}

/* Feeds the prolog scanner; returns 1 when "<!DOCTYPE" starts here. */
static int prolog_scan(struct xml_reader *r, const unsigned char *p, size_t n,
		       size_t *at)
{
	static const char dt[] = "DOCTYPE";
	size_t i;

	for (i = 0; i < n && r->pstate != PS_DONE; i++) {
		unsigned char c = p[i];

		switch (r->pstate) {
		case PS_TEXT:
			if (c == '<') {
				r->pstate = PS_LT;
				r->lt_line = r->pline;
				r->lt_col = r->pcol;
			}
			break;
		case PS_LT:
			r->pstate = c == '?' ? PS_PI : c == '!' ? PS_BANG : PS_DONE;
			break;
		case PS_BANG:
			if (c == '-') {
				r->pstate = PS_BANG_DASH;
			} else if (c == 'D') {
				r->pstate = PS_MATCH;
				r->pmatch = 1;
			} else {
				r->pstate = PS_DONE;
			}
			break;
		case PS_BANG_DASH:
			r->pstate = c == '-' ? PS_COMMENT : PS_DONE;
			break;
		case PS_COMMENT:
			if (c == '-')
				r->pstate = PS_CM1;
			break;
		case PS_CM1:
			r->pstate = c == '-' ? PS_CM2 : PS_COMMENT;
			break;
		case PS_CM2:
			r->pstate = c == '>' ? PS_TEXT : c == '-' ? PS_CM2 : PS_COMMENT;
			break;
		case PS_PI:
			if (c == '?')
				r->pstate = PS_PI_Q;
			break;
		case PS_PI_Q:
			r->pstate = c == '>' ? PS_TEXT : c == '?' ? PS_PI_Q : PS_PI;
			break;
		case PS_MATCH:
			if (c != (unsigned char)dt[r->pmatch]) {
				r->pstate = PS_DONE;
				break;
			}
			if (++r->pmatch == sizeof(dt) - 1) {
				r->pstate = PS_FOUND;
				r->dt_line = r->lt_line;
				r->dt_col = r->lt_col;
				*at = i;
				return 1;
			}
			break;
		default:
			break;
		}
		if (c == '\n') {
			r->pline++;
			r->pcol = 1;
		} else {
			r->pcol++;
		}
	}
	return 0;
}

static int read_cb(void *ctx, char *buf, int len)
{
	struct xml_reader *r = ctx;
	ssize_t n;
	size_t at;

	if (r->pstate == PS_FOUND)
		return -1;
	do
		n = read(r->fd, buf, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->read_errno = errno;
		return -1;
	}
	if (r->pstate != PS_DONE && !r->o.allow_doctype &&
	    prolog_scan(r, (const unsigned char *)buf, (size_t)n, &at))
		return -1; /* never hand the DOCTYPE to libxml2 */
	return (int)n;
}

static int close_cb(void *ctx)
{
	(void)ctx;
	return 0;
}

int xml_reader_open_fd(struct xml_reader **out, int fd, const char *name,
		       const struct xml_reader_opts *opts, struct err *err)
{
	struct xml_reader *r;

	*out = NULL;
	lib_init();
	r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(err, E_NOMEM, "out of memory");
	r->fd = fd;
	r->name = name;
	xml_reader_opts_init(&r->o);
	if (opts) {
		if (opts->max_depth)
			r->o.max_depth = opts->max_depth;
		if (opts->max_text)
			r->o.max_text = opts->max_text;
		if (opts->max_name)
			r->o.max_name = opts->max_name;
		if (opts->max_attrs)
			r->o.max_attrs = opts->max_attrs;
		r->o.allow_doctype = opts->allow_doctype;
		r->o.encoding = opts->encoding;
	}
	r->pline = 1;
	r->pcol = 1;
	r->pstate = PS_TEXT;
	xmlSetStructuredErrorFunc(r, on_error);
	r->xr = xmlReaderForIO(read_cb, close_cb, r, name, r->o.encoding,
			       XML_PARSE_NONET | XML_PARSE_NOCDATA |
				       XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				       XML_PARSE_BIG_LINES | XML_PARSE_COMPACT);
	if (!r->xr) {
		xmlSetStructuredErrorFunc(NULL, structured_silent);
		free(r);
		return err_set(err, E_NOMEM,
			       "cannot start the XML reader (out of memory)");
	}
	xmlTextReaderSetStructuredErrorHandler(r->xr, on_error, r);
	*out = r;
	return 0;
}

unsigned long xml_reader_elements(const struct xml_reader *r)
{
	return r->elements;
}

static int fail(struct xml_reader *r, struct err *err, int code,
		unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct xml_reader *r, struct err *err, int code,
		unsigned long line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	r->done = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_at(err, code, r->name, line, 0, "%s", msg);
}

static unsigned long node_line(struct xml_reader *r)
{
	xmlNodePtr nd = xmlTextReaderCurrentNode(r->xr);
	long l = nd ? xmlGetLineNo(nd) : -1;

	return l > 0 ? (unsigned long)l
		     : (unsigned long)xmlTextReaderGetParserLineNumber(r->xr);
}

/* The reader stopped: say why. */
static int read_failed(struct xml_reader *r, struct err *err)
{
	r->done = 1;
	if (r->dt_line)
		return err_at(err, E_PARSE, r->name, r->dt_line,
			      (unsigned)r->dt_col,
			      "document type declarations (<!DOCTYPE>) are not accepted: they can load files and expand entities (input.allow_doctype: true accepts one; it is still never loaded)");
	if (r->read_errno)
		return err_at(err, E_IO, r->name, 0, 0, "read: %s",
			      strerror(r->read_errno));
	if (r->have_err && r->err_line)
		return err_at(err, E_PARSE, r->name, r->err_line, r->err_col,
			      "%s", r->err_msg);
	if (r->have_err) /* an encoding error: where the parser stopped */
		return err_at(err, E_PARSE, r->name,
			      (unsigned long)xmlTextReaderGetParserLineNumber(r->xr),
			      (unsigned)xmlTextReaderGetParserColumnNumber(r->xr),
			      "%s", r->err_msg);
	return err_at(err, E_PARSE, r->name,
		      (unsigned long)xmlTextReaderGetParserLineNumber(r->xr),
		      (unsigned)xmlTextReaderGetParserColumnNumber(r->xr),
		      "malformed XML");
}

static int check_name(struct xml_reader *r, const char *qname,
		      unsigned long line, struct err *err)
{
	size_t n = strlen(qname);

	if (n > r->o.max_name)
		return fail(r, err, E_TOOBIG, line,
			    "a name of %zu bytes is longer than input.max_name (%zu)",
			    n, r->o.max_name);
	return 0;
}

static int read_attrs(struct xml_reader *r, unsigned long line,
		      struct err *err)
{
	size_t i, na = 0;
	int rc;

	r->vlen = 0;
	while ((rc = xmlTextReaderMoveToNextAttribute(r->xr)) == 1) {
		const char *v, *qn;
		size_t n;

		if (xmlTextReaderIsNamespaceDecl(r->xr) == 1)
			continue;
		if (na == r->o.max_attrs)
			return fail(r, err, E_TOOBIG, line,
				    "an element has more than %u attributes (input.max_attrs)",
				    r->o.max_attrs);
		if (ALLOC_GROW(r->attrs, na + 1, r->capattrs))
			return err_set(err, E_NOMEM, "out of memory");
		qn = (const char *)xmlTextReaderConstName(r->xr);
		if (!qn)
			return err_set(err, E_NOMEM, "out of memory");
		if (check_name(r, qn, line, err))
			return -1;
		v = (const char *)xmlTextReaderConstValue(r->xr);
		if (!v)
			v = "";
		n = strlen(v);
		if (n > r->o.max_text)
			return fail(r, err, E_TOOBIG, line,
				    "attribute %s of %zu bytes is longer than input.max_text (%zu)",
				    qn, n, r->o.max_text);
		if (utf8_check((const unsigned char *)v, n) != n)
			return fail(r, err, E_PARSE, line,
				    "attribute %s: invalid UTF-8 byte sequence",
				    qn);
		if (ALLOC_GROW(r->vbuf, r->vlen + n + 1, r->vcap))
			return err_set(err, E_NOMEM, "out of memory");
		memcpy(r->vbuf + r->vlen, v, n + 1);
		r->attrs[na].ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
		r->attrs[na].local = (const char *)xmlTextReaderConstLocalName(r->xr);
		r->attrs[na].qname = qn;
		r->attrs[na].value = NULL;
		r->attrs[na].len = n;
		/* value pointers are fixed below: vbuf may still move */
		r->attrs[na].value = (const char *)(uintptr_t)r->vlen;
		r->vlen += n + 1;
		na++;
	}
	if (rc < 0)
		return read_failed(r, err);
	xmlTextReaderMoveToElement(r->xr);
	for (i = 0; i < na; i++)
		r->attrs[i].value = r->vbuf + (uintptr_t)r->attrs[i].value;
	r->ev.attrs = r->attrs;
	r->ev.nattrs = na;
	return 0;
}

/* Whether q is prefix ":" local. */
static int qname_is(const char *q, const xmlChar *prefix,
		    const xmlChar *local)
{
	while (*prefix)
		if (*q++ != (char)*prefix++)
			return 0;
	if (*q++ != ':')
		return 0;
	while (*local)
		if (*q++ != (char)*local++)
			return 0;
	return *q == '\0';
}

/* The current element's names as xmlTextReaderConstName,
 * ConstLocalName and ConstNamespaceUri give them, from the memo when a
 * name was seen before: an entry is used only when its text is the
 * node's (a freed name or namespace whose address was reused can never
 * give a wrong answer). */
static void elem_names(struct xml_reader *r, struct xml_event *e)
{
	xmlNodePtr nd = xmlTextReaderCurrentNode(r->xr);
	xmlNsPtr ns = nd ? nd->ns : NULL;

	e->local = (const char *)xmlTextReaderConstLocalName(r->xr);
	if (!nd || !e->local || nd->type != XML_ELEMENT_NODE) {
		e->qname = (const char *)xmlTextReaderConstName(r->xr);
		e->ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
		return;
	}
	if (!ns || !ns->prefix) {
		e->qname = e->local;
	} else {
		struct qn_memo *m =
			&r->qn[((uintptr_t)nd->name >> 4) % (sizeof(r->qn) / sizeof(r->qn[0]))];

		if (m->local != nd->name || !m->qname ||
		    !qname_is(m->qname, ns->prefix, nd->name)) {
			m->local = nd->name;
			m->qname = (const char *)xmlTextReaderConstName(r->xr);
		}
		e->qname = m->qname;
	}
	if (!ns || !ns->href) {
		e->ns = NULL;
	} else {
		struct ns_memo *m =
			&r->ns[((uintptr_t)ns->href >> 4) % (sizeof(r->ns) / sizeof(r->ns[0]))];

		if (m->href != ns->href || !m->uri ||
		    strcmp(m->uri, (const char *)ns->href)) {
			m->href = ns->href;
			m->uri = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
		}
		e->ns = m->uri;
	}
}

int xml_reader_next(struct xml_reader *r, const struct xml_event **ev,
		    struct err *err)
{
	int rc;

	if (r->done)
		return 0;
	if (r->pending_end) {
		r->pending_end = 0;
		memset(&r->ev, 0, sizeof(r->ev));
		r->ev.type = XML_EV_END;
		r->ev.ns = r->end_ns;
		r->ev.local = r->end_local;
		r->ev.qname = r->end_qname;
		r->ev.depth = r->end_depth;
		*ev = &r->ev;
		return 1;
	}
	/* Setting the handler goes through libxml2's global state on every
	 * call (2-3% of the XML map stage); reading it back is cheaper. */
	if (xmlStructuredError != on_error || xmlStructuredErrorContext != r)
		xmlSetStructuredErrorFunc(r, on_error);
	while ((rc = xmlTextReaderRead(r->xr)) == 1) {
		int type = xmlTextReaderNodeType(r->xr);
		unsigned depth = (unsigned)xmlTextReaderDepth(r->xr) + 1;

		memset(&r->ev, 0, sizeof(r->ev));
		switch (type) {
		case XML_READER_TYPE_ELEMENT: {
			unsigned long line = node_line(r);

			if (depth > r->o.max_depth)
				return fail(r, err, E_TOOBIG, line,
					    "elements nested deeper than %u levels (input.max_depth)",
					    r->o.max_depth);
			r->ev.type = XML_EV_START;
			elem_names(r, &r->ev);
			if (!r->ev.qname || !r->ev.local)
				return err_set(err, E_NOMEM, "out of memory");
			if (check_name(r, r->ev.qname, line, err))
				return -1;
			r->ev.depth = depth;
			r->ev.line = line;
			r->elements++;
			if (xmlTextReaderIsEmptyElement(r->xr) == 1) {
				r->pending_end = 1;
				r->end_ns = r->ev.ns;
				r->end_local = r->ev.local;
				r->end_qname = r->ev.qname;
				r->end_depth = depth;
			}
			if (xmlTextReaderHasAttributes(r->xr) == 1) {
				if (read_attrs(r, line, err))
					return -1;
			}
			*ev = &r->ev;
			return 1;
		}
		case XML_READER_TYPE_END_ELEMENT:
			r->ev.type = XML_EV_END;
			elem_names(r, &r->ev);
			r->ev.depth = depth;
			*ev = &r->ev;
			return 1;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA: {
			const char *t = (const char *)xmlTextReaderConstValue(r->xr);
			size_t n = t ? strlen(t) : 0;

			if (n > r->o.max_text)
				return fail(r, err, E_TOOBIG, node_line(r),
					    "a text node of %zu bytes is longer than input.max_text (%zu)",
					    n, r->o.max_text);
			/* libxml2 decodes and checks the input; the same
			 * validator as the CSV and EDIFACT readers makes
			 * sure what it hands on is UTF-8 by our rule. */
			if (n && utf8_check((const unsigned char *)t, n) != n)
				return fail(r, err, E_PARSE, node_line(r),
					    "invalid UTF-8 byte sequence in text");
			r->ev.type = XML_EV_TEXT;
			r->ev.text = t ? t : "";
			r->ev.len = n;
			r->ev.depth = depth;
			r->ev.line = node_line(r);
			*ev = &r->ev;
			return 1;
		}
		case XML_READER_TYPE_DOCUMENT_TYPE:
			if (!r->o.allow_doctype) {
				r->dt_line = (unsigned long)
					xmlTextReaderGetParserLineNumber(r->xr);
				r->dt_col = 0;
				return read_failed(r, err);
			}
			break;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			return fail(r, err, E_PARSE, node_line(r),
				    "entity reference '&%s;' is not expanded (only &amp; &lt; &gt; &quot; &apos; and character references are read)",
				    (const char *)xmlTextReaderConstName(r->xr));
		default:
			break;  /* whitespace, comments, PIs */
		}
	}
	if (rc < 0 || r->have_err || r->read_errno || r->dt_line)
		return read_failed(r, err);
	r->done = 1;
	return 0;
}

void xml_reader_free(struct xml_reader *r)
{
	if (!r)
		return;
	if (r->xr)
		xmlFreeTextReader(r->xr);
	xmlSetStructuredErrorFunc(NULL, structured_silent);
	free(r->attrs);
	free(r->vbuf);
	free(r);
}
