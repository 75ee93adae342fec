/* xml_reader.c - see xml_reader.h. */
#include "xml_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/dict.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>

#include "lib/buf.h"
#include "lib/utf8.h"

/* Bytes read and handed to libxml2 at a time: the events of one chunk
 * are queued before the first is given out, so this bounds the queue.
 * Parsing a chunk and then mapping its events is faster than calling
 * the mapping from the callbacks (docs/performance.md: fewer
 * instructions, more CPU time, the two working sets taking turns). */
#define XR_CHUNK 16384
/* libxml2's own bound on a text node without XML_PARSE_HUGE (the tree
 * builder of xmlTextReader refused longer ones): counting stops here. */
#define XR_TEXT_CAP 10000000u
/* Slots of the prefix:local memo (a power of two; probed XR_QN_WAYS at
 * a time, so two names on one slot do not evict each other). */
#define XR_QN_MEMO 64
#define XR_QN_WAYS 4

/* Scanner of the prolog: finds "<!DOCTYPE" before the root element. */
enum { PS_TEXT, PS_LT, PS_BANG, PS_BANG_DASH, PS_COMMENT, PS_CM1, PS_CM2,
       PS_PI, PS_PI_Q, PS_MATCH, PS_DONE, PS_FOUND };

/* A queued event, given out as it is (no copy per event): its text and
 * attribute values are offsets into tbuf (it may move while a chunk is
 * parsed), made pointers when given out. */
struct qev {
	struct xml_event ev;    /* ev.nattrs attributes at qa[a0] */
	size_t off, a0;
};

struct open_el { const char *ns, *local, *qname; size_t qlen; };

struct xml_reader {
	int fd;
	const char *name;
	struct xml_reader_opts o;
	xmlSAXHandler sax;
	xmlParserCtxtPtr ctxt;
	unsigned char chunk[XR_CHUNK];
	int read_errno;
	int fed_end;                         /* the last chunk was pushed */
	int stop;                            /* no more parsing: say why */
	/* prolog scanner */
	int pstate;
	unsigned pmatch;
	unsigned long pline, pcol;           /* position of the next byte */
	unsigned long lt_line, lt_col;       /* of the last '<' */
	unsigned long dt_line, dt_col;       /* of "<!DOCTYPE", 0 = none */
	/* the first error reported by libxml2 */
	int have_err;
	unsigned long err_line;
	unsigned err_col;
	char err_msg[300];
	/* a bound or refusal found in a callback, given out after the
	 * events queued before it */
	int cb_fail;
	struct err cb_err;
	/* the queue */
	struct qev *q;
	size_t nq, qcap, qpos;
	struct xml_attr *qa;
	size_t qan, qacap;
	char *tbuf;
	size_t tlen, tcap;
	/* the text node being gathered */
	int in_text, t_blank;
	size_t t_off, t_count;
	unsigned long t_line;
	/* open elements, 1 .. depth */
	struct open_el *stack;
	unsigned depth;
	unsigned long elements;             /* STARTs given out */
	int done;
	/* prefix:local names asked of the dictionary (its strings live as
	 * long as the parser, so a pointer pair names one string) */
	struct qn_memo {
		const xmlChar *prefix, *local;
		const char *qname;
		size_t len;
	} qn[XR_QN_MEMO];
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
static int prolog_scan(struct xml_reader *r, const unsigned char *p, size_t n)
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

static struct xml_reader *rd_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static unsigned long cur_line(struct xml_reader *r)
{
	return r->ctxt->input ? (unsigned long)r->ctxt->input->line : 0;
}

/* A failure found in a callback: kept for after the queued events, and
 * the parser stops (no callback runs after this one). */
static void cb_fail(struct xml_reader *r, int code, unsigned long line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void cb_fail(struct xml_reader *r, int code, unsigned long line,
		    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (r->cb_fail)
		return;
	r->cb_fail = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_clear(&r->cb_err);
	if (code == E_NOMEM)
		err_set(&r->cb_err, E_NOMEM, "%s", msg);
	else
		err_at(&r->cb_err, code, r->name, line, 0, "%s", msg);
	xmlStopParser(r->ctxt);
}

/* The queue is full: more room, or the reader fails (out of memory). */
static __attribute__((noinline)) int q_grow(struct xml_reader *r)
{
	if (ALLOC_GROW(r->q, r->nq + 1, r->qcap)) {
		cb_fail(r, E_NOMEM, 0, "out of memory");
		return -1;
	}
	return 0;
}

/* A new event at the end of the queue (the growth out of line: once per
 * few thousand events). */
static inline struct qev *q_add(struct xml_reader *r, enum xml_ev_type type)
{
	struct qev *e;

	if (r->nq >= r->qcap && q_grow(r))
		return NULL;
	e = &r->q[r->nq++];
	e->ev.type = type;
	e->ev.attrs = NULL;
	e->ev.nattrs = 0;
	e->ev.text = NULL;
	e->ev.len = 0;
	return e;
}

/* Appends n bytes and a NUL to tbuf; returns the offset or -1. */
static int t_put(struct xml_reader *r, const void *p, size_t n, size_t *off)
{
	if (ALLOC_GROW(r->tbuf, r->tlen + n + 1, r->tcap)) {
		cb_fail(r, E_NOMEM, 0, "out of memory");
		return -1;
	}
	*off = r->tlen;
	memcpy(r->tbuf + r->tlen, p, n);
	r->tbuf[r->tlen + n] = '\0';
	r->tlen += n + 1;
	return 0;
}

/* A text node with more than blanks ends: checked and queued. */
static __attribute__((noinline)) void text_queue(struct xml_reader *r)
{
	struct qev *e;
	size_t n = r->t_count;

	if (n > r->o.max_text) {
		cb_fail(r, E_TOOBIG, r->t_line,
			"a text node of %zu bytes is longer than input.max_text (%zu)",
			n, r->o.max_text);
		return;
	}
	/* libxml2 decodes and checks the input; the same validator as the
	 * CSV and EDIFACT readers makes sure what it hands on is UTF-8 by
	 * our rule. */
	if (utf8_check((const unsigned char *)r->tbuf + r->t_off, n) != n) {
		cb_fail(r, E_PARSE, r->t_line,
			"invalid UTF-8 byte sequence in text");
		return;
	}
	r->tbuf[r->t_off + n] = '\0';
	r->tlen = r->t_off + n + 1;
	if (!(e = q_add(r, XML_EV_TEXT)))
		return;
	e->ev.depth = r->depth + 1;
	e->ev.line = r->t_line;
	e->ev.ns = e->ev.local = e->ev.qname = NULL;
	e->ev.qlen = 0;
	e->off = r->t_off;
	e->ev.len = n;
}

/* The text gathered since the last tag ends: queued unless it is only
 * blanks (xmlTextReader's WHITESPACE nodes, which were not reported).
 * The blank case (the indentation before most tags) stays in line. */
static inline void text_flush(struct xml_reader *r)
{
	if (!r->in_text)
		return;
	r->in_text = 0;
	if (r->t_blank) {
		r->tlen = r->t_off;
		return;
	}
	text_queue(r);
}

/* Whether the eight bytes of w are all XML blanks (space, tab, LF, CR). */
static int word_blank(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
	uint64_t m;

	if (w == 0x2020202020202020ull)
		return 1;
	/* XR_EQ sets a byte's top bit where it equals c (y = w ^ c is zero
	 * there; the exact test, no carries from one byte into the next). */
#define XR_EQ(c) (~((((w ^ (lo * (c))) & ~hi) + ~hi) | (w ^ (lo * (c)))) & hi)
	m = XR_EQ(' ') | XR_EQ('\n') | XR_EQ('\t') | XR_EQ('\r');
#undef XR_EQ
	return m == hi;
}

static uint64_t word_at(const xmlChar *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/* Whether p holds only XML blanks: the indentation between tags, most of
 * what characters() sees ("\n" and spaces), eight bytes a step. Text
 * mostly starts with a visible byte (one test); indentation's newline
 * is stepped over so that the words after it are all spaces, and the
 * last word overlaps the one before instead of a byte loop. */
static int all_blank(const xmlChar *p, size_t n)
{
	const uint64_t blanks = (1ull << ' ') | (1ull << '\t') |
				(1ull << '\n') | (1ull << '\r');
	size_t i;

	if (!n)
		return 1;
	if (p[0] > ' ' || !((blanks >> p[0]) & 1))
		return 0;
	i = p[0] == '\n';
	if (n - i < 8) {
		for (; i < n; i++)
			if (p[i] > ' ' || !((blanks >> p[i]) & 1))
				return 0;
		return 1;
	}
	for (; i + 8 < n; i += 8)
		if (!word_blank(word_at(p + i)))
			return 0;
	return word_blank(word_at(p + n - 8));
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
	struct xml_reader *r = rd_of(ctx);
	size_t n = (size_t)len, keep;

	if (r->cb_fail || len <= 0)
		return;
	if (!r->in_text) {
		r->in_text = 1;
		r->t_blank = 1;
		r->t_off = r->tlen;
		r->t_count = 0;
		r->t_line = cur_line(r);
	}
	if (r->t_blank && !all_blank(ch, n))
		r->t_blank = 0;
	/* Past the bound only the count goes on, for the message. */
	keep = r->t_count + n <= r->o.max_text ? n
	       : r->t_count >= r->o.max_text ? 0
					    : r->o.max_text - r->t_count;
	r->t_count += n;
	if (keep) {
		if (ALLOC_GROW(r->tbuf, r->tlen + keep + 1, r->tcap)) {
			cb_fail(r, E_NOMEM, 0, "out of memory");
			return;
		}
		memcpy(r->tbuf + r->tlen, ch, keep);
		r->tlen += keep;
	}
	if (r->t_count > XR_TEXT_CAP && !r->t_blank)
		cb_fail(r, E_TOOBIG, r->t_line,
			"a text node of %zu bytes is longer than input.max_text (%zu)",
			r->t_count, r->o.max_text);
}

/* prefix:local as one dictionary string, and its length. */
static const char *qname_of(struct xml_reader *r, const xmlChar *prefix,
			    const xmlChar *local, size_t *len)
{
	/* Dictionary strings sit a few bytes apart: mix all the bits. */
	uint64_t h = ((uint64_t)(uintptr_t)local * 31u +
		      (uint64_t)(uintptr_t)prefix) * 0x9e3779b97f4a7c15ull;
	size_t s0 = (size_t)(h >> 56) & (XR_QN_MEMO - 1), k;
	struct qn_memo *m;
	const xmlChar *q;

	for (k = 0; k < XR_QN_WAYS; k++) {
		m = &r->qn[(s0 + k) & (XR_QN_MEMO - 1)];
		if (m->local == local && m->prefix == prefix && m->qname) {
			*len = m->len;
			return m->qname;
		}
		if (!m->qname)
			break;
	}
	/* a free slot of the probe, else its first one */
	if (k == XR_QN_WAYS)
		m = &r->qn[s0];
	q = prefix ? xmlDictQLookup(r->ctxt->dict, prefix, local) : local;
	if (!q)
		return NULL;
	m->local = local;
	m->prefix = prefix;
	m->qname = (const char *)q;
	m->len = strlen(m->qname);
	*len = m->len;
	return m->qname;
}

/* An attribute value as xmlTextReader gave it: libxml2 hands the SAX
 * layer '&' as "&#38;" when entities are not substituted (any other
 * entity reference has failed the document by now). */
static int attr_value(struct xml_reader *r, const xmlChar *v,
		      const xmlChar *end, size_t *off, size_t *len)
{
	size_t n = (size_t)(end - v), i, o;
	char *d;

	if (t_put(r, v, n, off))
		return -1;
	d = r->tbuf + *off;
	if (!memchr(d, '&', n)) {
		*len = n;
		return 0;
	}
	for (i = o = 0; i < n; o++) {
		if (d[i] == '&' && n - i >= 5 && !memcmp(d + i, "&#38;", 5)) {
			d[o] = '&';
			i += 5;
		} else {
			d[o] = d[i++];
		}
	}
	d[o] = '\0';
	*len = o;
	return 0;
}

static int start_attrs(struct xml_reader *r, struct qev *e, int nattr,
		       const xmlChar **a, unsigned long line)
{
	int i;

	e->a0 = r->qan;
	e->ev.nattrs = 0;
	for (i = 0; i < nattr; i++, a += 5) {
		struct xml_attr *xa;
		const char *qn;
		size_t off, n;

		if (e->ev.nattrs == r->o.max_attrs) {
			cb_fail(r, E_TOOBIG, line,
				"an element has more than %u attributes (input.max_attrs)",
				r->o.max_attrs);
			return -1;
		}
		if (ALLOC_GROW(r->qa, r->qan + 1, r->qacap) ||
		    !(qn = qname_of(r, a[1], a[0], &n))) {
			cb_fail(r, E_NOMEM, 0, "out of memory");
			return -1;
		}
		if (n > r->o.max_name) {
			cb_fail(r, E_TOOBIG, line,
				"a name of %zu bytes is longer than input.max_name (%zu)",
				n, r->o.max_name);
			return -1;
		}
		if (attr_value(r, a[3], a[4], &off, &n))
			return -1;
		if (n > r->o.max_text) {
			cb_fail(r, E_TOOBIG, line,
				"attribute %s of %zu bytes is longer than input.max_text (%zu)",
				qn, n, r->o.max_text);
			return -1;
		}
		if (utf8_check((const unsigned char *)r->tbuf + off, n) != n) {
			cb_fail(r, E_PARSE, line,
				"attribute %s: invalid UTF-8 byte sequence", qn);
			return -1;
		}
		xa = &r->qa[r->qan++];
		xa->ns = (const char *)a[2];
		xa->local = (const char *)a[0];
		xa->qname = qn;
		xa->value = (const char *)(uintptr_t)off; /* made a pointer later */
		xa->len = n;
		e->ev.nattrs++;
	}
	return 0;
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
		     const xmlChar *uri, int nns, const xmlChar **nss,
		     int nattr, int ndef, const xmlChar **attrs)
{
	struct xml_reader *r = rd_of(ctx);
	unsigned long line;
	struct open_el *oe;
	struct qev *e;
	const char *qname;
	size_t qlen;

	(void)nns;
	(void)nss;
	(void)ndef;
	text_flush(r);
	if (r->cb_fail)
		return;
	line = cur_line(r);
	if (r->depth + 1 > r->o.max_depth) {
		cb_fail(r, E_TOOBIG, line,
			"elements nested deeper than %u levels (input.max_depth)",
			r->o.max_depth);
		return;
	}
	qname = qname_of(r, prefix, local, &qlen);
	if (!qname) {
		cb_fail(r, E_NOMEM, 0, "out of memory");
		return;
	}
	if (qlen > r->o.max_name) {
		cb_fail(r, E_TOOBIG, line,
			"a name of %zu bytes is longer than input.max_name (%zu)",
			qlen, r->o.max_name);
		return;
	}
	oe = &r->stack[++r->depth];
	oe->ns = (const char *)uri;
	oe->local = (const char *)local;
	oe->qname = qname;
	oe->qlen = qlen;
	if (!(e = q_add(r, XML_EV_START)))
		return;
	e->ev.ns = oe->ns;
	e->ev.local = oe->local;
	e->ev.qname = qname;
	e->ev.qlen = qlen;
	e->ev.depth = r->depth;
	e->ev.line = line;
	e->a0 = 0;
	/* An element whose attributes fail is not given out (it still
	 * counts as read, as it did with xmlTextReader). */
	if (nattr > 0 && start_attrs(r, e, nattr, attrs, line)) {
		r->nq--;
		r->elements++;
	}
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
		   const xmlChar *uri)
{
	struct xml_reader *r = rd_of(ctx);
	struct open_el *oe;
	struct qev *e;

	(void)local;
	(void)prefix;
	(void)uri;
	text_flush(r);
	if (r->cb_fail || !r->depth || !(e = q_add(r, XML_EV_END)))
		return;
	oe = &r->stack[r->depth];
	e->ev.ns = oe->ns;
	e->ev.local = oe->local;
	e->ev.qname = oe->qname;
	e->ev.qlen = oe->qlen;
	e->ev.depth = r->depth--;
	e->ev.line = 0;
}

/* Comments and processing instructions end a text node, as they did in
 * the tree xmlTextReader built; they are not reported. */
static void on_comment(void *ctx, const xmlChar *v)
{
	(void)v;
	text_flush(rd_of(ctx));
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	(void)data;
	text_flush(rd_of(ctx));
}

/* Called for every reference other than the five predefined entities:
 * a declared one fails the document before libxml2 parses its text
 * (which would run our callbacks on it); an undeclared one gets
 * libxml2's own error. */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
	struct xml_reader *r = rd_of(ctx);
	xmlEntityPtr ent = xmlSAX2GetEntity(ctx, name);

	/* In the DTD libxml2 asks while declaring (never expanding). */
	if (!ent || ent->etype == XML_INTERNAL_PREDEFINED_ENTITY ||
	    r->ctxt->inSubset)
		return ent;
	text_flush(r);
	cb_fail(r, E_PARSE, cur_line(r),
		"entity reference '&%s;' is not expanded (only &amp; &lt; &gt; &quot; &apos; and character references are read)",
		(const char *)name);
	return NULL;
}

static void on_reference(void *ctx, const xmlChar *name)
{
	struct xml_reader *r = rd_of(ctx);

	text_flush(r);
	cb_fail(r, E_PARSE, cur_line(r),
		"entity reference '&%s;' is not expanded (only &amp; &lt; &gt; &quot; &apos; and character references are read)",
		(const char *)name);
}

/* The second line against a DOCTYPE, for encodings the byte scan cannot
 * see (UTF-16): the internal subset is never parsed. */
static void on_internal_subset(void *ctx, const xmlChar *name,
			       const xmlChar *eid, const xmlChar *sid)
{
	struct xml_reader *r = rd_of(ctx);

	if (r->o.allow_doctype) {
		xmlSAX2InternalSubset(ctx, name, eid, sid);
		return;
	}
	r->dt_line = cur_line(r);
	r->dt_col = 0;
	r->stop = 1;
	xmlStopParser(r->ctxt);
}

static xmlParserInputPtr on_resolve(void *ctx, const xmlChar *pub,
				    const xmlChar *sys)
{
	(void)ctx;
	(void)pub;
	(void)sys;
	return NULL;
}

static void sax_init(xmlSAXHandler *s)
{
	xmlSAXVersion(s, 2);
	s->startElement = NULL;
	s->endElement = NULL;
	s->startElementNs = on_start;
	s->endElementNs = on_end;
	/* The same function for both: libxml2 then never sorts blanks. */
	s->characters = on_chars;
	s->ignorableWhitespace = on_chars;
	s->cdataBlock = NULL;  /* CDATA comes as characters */
	s->comment = on_comment;
	s->processingInstruction = on_pi;
	s->reference = on_reference;
	s->getEntity = on_get_entity;
	s->internalSubset = on_internal_subset;
	s->externalSubset = NULL;
	s->resolveEntity = on_resolve;
	s->setDocumentLocator = NULL;
	s->endDocument = NULL;
	s->serror = NULL;
	s->error = NULL;
	s->warning = NULL;
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
	r->stack = calloc((size_t)r->o.max_depth + 2, sizeof(*r->stack));
	if (!r->stack) {
		free(r);
		return err_set(err, E_NOMEM, "out of memory");
	}
	r->pline = 1;
	r->pcol = 1;
	r->pstate = PS_TEXT;
	sax_init(&r->sax);
	*out = r;
	return 0;
}

unsigned long xml_reader_elements(const struct xml_reader *r)
{
	return r->elements;
}

/* The parser stopped: say why. */
static int read_failed(struct xml_reader *r, struct err *err)
{
	xmlParserCtxtPtr c = r->ctxt;
	unsigned long line = c && c->input ? (unsigned long)c->input->line : 0;
	unsigned col = c && c->input && c->input->col > 0 ?
			       (unsigned)c->input->col : 0;

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
		return err_at(err, E_PARSE, r->name, line, col, "%s",
			      r->err_msg);
	return err_at(err, E_PARSE, r->name, line, col, "malformed XML");
}

/* Starts the parser on the first bytes, as xmlTextReader did: four
 * bytes for libxml2 to guess the encoding, then the override. */
static int ctxt_start(struct xml_reader *r, size_t n, struct err *err)
{
	size_t first = n >= 4 ? 4 : 0;

	r->ctxt = xmlCreatePushParserCtxt(&r->sax, NULL,
					  (const char *)r->chunk, (int)first,
					  r->name);
	if (!r->ctxt)
		return err_set(err, E_NOMEM,
			       "cannot start the XML parser (out of memory)");
	r->ctxt->_private = r;
	xmlCtxtUseOptions(r->ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA |
					   XML_PARSE_NOERROR |
					   XML_PARSE_NOWARNING |
					   XML_PARSE_BIG_LINES);
	r->ctxt->linenumbers = 1;
	if (r->o.encoding) {
		xmlCharEncodingHandlerPtr h =
			xmlFindCharEncodingHandler(r->o.encoding);

		if (h)
			xmlSwitchToEncoding(r->ctxt, h);
	}
	if (n > first)
		xmlParseChunk(r->ctxt, (const char *)r->chunk + first,
			      (int)(n - first), 0);
	return 0;
}

/* Reads one chunk and parses it (the last one with terminate). */
static int feed(struct xml_reader *r, struct err *err)
{
	ssize_t n;

	do
		n = read(r->fd, r->chunk, sizeof(r->chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->read_errno = errno;
		r->stop = 1;
		return 0;
	}
	if (r->pstate != PS_DONE && !r->o.allow_doctype &&
	    prolog_scan(r, r->chunk, (size_t)n)) {
		r->stop = 1; /* never hand the DOCTYPE to libxml2 */
		return 0;
	}
	/* Other sessions' readers may have set libxml2's global handler. */
	if (xmlStructuredError != on_error || xmlStructuredErrorContext != r)
		xmlSetStructuredErrorFunc(r, on_error);
	if (!r->ctxt) {
		if (ctxt_start(r, (size_t)n, err))
			return -1;
	} else if (n > 0) {
		xmlParseChunk(r->ctxt, (const char *)r->chunk, (int)n, 0);
	}
	if (n == 0 && !r->cb_fail && !r->stop) {
		xmlParseChunk(r->ctxt, NULL, 0, 1);
		r->fed_end = 1;
	}
	/* A fatal error, or the input could not be decoded (libxml2 halts
	 * then); other errors (namespaces) fail the document at its end,
	 * as xmlTextReader's did. */
	if (!r->ctxt->wellFormed ||
	    (r->ctxt->instate == XML_PARSER_EOF && !r->fed_end))
		r->stop = 1;
	return 0;
}

/* Before the next chunk: the given-out events are dropped, the text
 * node still open moves to the front of tbuf. */
static void q_reset(struct xml_reader *r)
{
	size_t keep = 0;

	r->nq = r->qpos = r->qan = 0;
	if (r->in_text) {
		keep = r->tlen - r->t_off;
		memmove(r->tbuf, r->tbuf + r->t_off, keep);
		r->t_off = 0;
	}
	r->tlen = keep;
}

static inline const struct xml_event *give(struct xml_reader *r,
					     struct qev *q)
{
	size_t i;

	if (q->ev.type == XML_EV_TEXT) {
		q->ev.text = r->tbuf + q->off;
	} else if (q->ev.type == XML_EV_START) {
		struct xml_attr *a;

		/* counted as given out: the mapping numbers records by it */
		r->elements++;
		if (q->ev.nattrs) {
			a = r->qa + q->a0;
			for (i = 0; i < q->ev.nattrs; i++)
				a[i].value = r->tbuf + (uintptr_t)a[i].value;
			q->ev.attrs = a;
		}
	}
	return &q->ev;
}

/* The queue is empty: the next chunk, or the end, or why not. Out of
 * line, so that handing out a queued event (every call but one a chunk)
 * saves no registers. */
static __attribute__((noinline)) int refill(struct xml_reader *r,
					    const struct xml_event **ev,
					    struct err *err)
{
	for (;;) {
		if (r->qpos < r->nq) {
			*ev = give(r, &r->q[r->qpos++]);
			return 1;
		}
		if (r->done)
			return 0;
		if (r->cb_fail) {
			r->done = 1;
			*err = r->cb_err;
			return -1;
		}
		if (r->stop)
			return read_failed(r, err);
		if (r->fed_end) {
			if (r->have_err)
				return read_failed(r, err);
			r->done = 1;
			return 0;
		}
		q_reset(r);
		if (feed(r, err)) {
			r->done = 1;
			return -1;
		}
	}
}

int xml_reader_next(struct xml_reader *r, const struct xml_event **ev,
		    struct err *err)
{
	if (r->qpos < r->nq) {
		*ev = give(r, &r->q[r->qpos++]);
		return 1;
	}
	return refill(r, ev, err);
}

void xml_reader_free(struct xml_reader *r)
{
	if (!r)
		return;
	if (r->ctxt) {
		if (r->ctxt->myDoc)
			xmlFreeDoc(r->ctxt->myDoc);
		r->ctxt->myDoc = NULL;
		xmlFreeParserCtxt(r->ctxt);
	}
	xmlSetStructuredErrorFunc(NULL, structured_silent);
	free(r->q);
	free(r->qa);
	free(r->tbuf);
	free(r->stack);
	free(r);
}
