/* sniff_doc.c - the X12/EDIFACT and XML passes of sniff_file(): the
 * file is read once through the pipeline's own readers, so what `inspect`
 * shows (and `map new` writes from) is what a mapping will see: the same
 * delimiters, the same issues, the same element paths.
 *
 * Memory: every table is capped by struct sniff_opts and lives in the
 * sniff's arena, so a large file costs the readers' bounded buffers plus
 * the tables, whatever its size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transforms/formats/edifact_reader.h"
#include "transforms/formats/sniff_int.h"
#include "transforms/formats/x12_reader.h"
#include "transforms/formats/xml_reader.h"

#define MAX_MESSAGES 64    /* distinct message type + version pairs */
#define MAX_ICS 100        /* interchanges listed */
#define MAX_NS 32          /* namespaces listed */

/* ---- X12 / EDIFACT ------------------------------------------------------ */

struct edi_acc {
	struct sniff *s;
	const struct sniff_opts *o;
	unsigned seg_cap;          /* segs[] room (max_tags) */
	unsigned *elem_cap;        /* per tag: elems[] room */
	long declared;             /* IEA01/UNZ01 of the open interchange */
	unsigned last;             /* segs[] index of the previous tag */
};

int sniff_is_envelope(const char *tag)
{
	static const char *const env[] = {"ISA", "IEA", "GS", "GE", "ST",
					  "SE", "UNA", "UNB", "UNZ", "UNG",
					  "UNE", "UNH", "UNT", "DXS", "DXE"};
	size_t i;

	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (!strcmp(tag, env[i]))
			return 1;
	return 0;
}

static int short_code(const char *v, size_t n)
{
	size_t i;

	if (!n || n > 3)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		      (v[i] >= 'a' && v[i] <= 'z')))
			return 0;
	return 1;
}

static int add_finding(struct edi_acc *a, const struct edi_issue *is,
		       const char *code, const char *text)
{
	struct sniff_edi *e = &a->s->u.edi;
	struct sniff_finding *f;

	if (is->severity == EDI_ERROR)
		e->nerrors++;
	else
		e->nwarnings++;
	if (e->nfindings >= a->o->max_findings) {
		e->nfindings_more++;
		return 0;
	}
	f = &e->findings[e->nfindings++];
	f->severity = is->severity;
	f->code = code;
	f->segment = is->seg_in_file;
	f->line = is->line;
	f->issue = *is;
	f->text = arena_strdup(&a->s->arena, text);
	return f->text ? 0 : -1;
}

/* A finding of ours (not the reader's) at the segment g. */
static int note(struct edi_acc *a, const struct edi_seg *g,
		const struct edi_ctx *x, unsigned elem, const char *code,
		const char *reason)
{
	struct edi_issue is;
	char text[1400];

	memset(&is, 0, sizeof(is));
	is.severity = EDI_WARNING;
	is.code = EDI_I_NOTE;
	is.ic_index = x->ic_index;
	snprintf(is.ic_control, sizeof(is.ic_control), "%s", x->ic_control);
	if (x->set_open)
		snprintf(is.set_control, sizeof(is.set_control), "%s",
			 x->set_control);
	is.seg_in_file = g->num;
	is.seg_in_ic = g->num_in_ic;
	is.seg_in_set = g->num_in_set;
	snprintf(is.seg_id, sizeof(is.seg_id), "%s", g->tag);
	is.elem = elem;
	is.line = g->line;
	is.offset = g->offset;
	snprintf(is.reason, sizeof(is.reason), "%s", reason);
	edi_issue_format(&is, a->s->path, text, sizeof(text));
	return add_finding(a, &is, code, text);
}

static struct sniff_segment *seg_entry(struct edi_acc *a, const char *tag,
				       unsigned long num)
{
	struct sniff_edi *e = &a->s->u.edi;
	struct sniff_segment *g;
	unsigned i;

	if (a->last < e->nsegs && !strcmp(e->segs[a->last].tag, tag))
		return &e->segs[a->last];
	for (i = 0; i < e->nsegs; i++)
		if (!strcmp(e->segs[i].tag, tag)) {
			a->last = i;
			return &e->segs[i];
		}
	if (e->nsegs >= a->seg_cap)
		return NULL;
	g = &e->segs[e->nsegs];
	memset(g, 0, sizeof(*g));
	snprintf(g->tag, sizeof(g->tag), "%s", tag);
	g->first_seg = num;
	a->last = e->nsegs++;
	return g;
}

static struct sniff_elem *elem_entry(struct edi_acc *a, unsigned si,
				     unsigned el, unsigned comp)
{
	struct sniff_segment *g = &a->s->u.edi.segs[si];
	struct sniff_elem *p;
	unsigned i;

	for (i = 0; i < g->nelems; i++)
		if (g->elems[i].elem == el && g->elems[i].comp == comp)
			return &g->elems[i];
	if (g->nelems == a->elem_cap[si]) {
		/* Arena arrays do not grow in place: copy to a block twice
		 * the size (the old one is wasted, at most as much again). */
		unsigned cap = a->elem_cap[si] ? 2 * a->elem_cap[si] : 16;
		struct sniff_elem *n = arena_alloc(&a->s->arena,
						   cap * sizeof(*n));

		if (!n)
			return NULL;
		if (g->nelems)
			memcpy(n, g->elems, g->nelems * sizeof(*n));
		g->elems = n;
		a->elem_cap[si] = cap;
	}
	p = &g->elems[g->nelems++];
	memset(p, 0, sizeof(*p));
	p->elem = el;
	p->comp = comp;
	p->is_code = 1; /* until a value says otherwise */
	return p;
}

static int elem_value(struct edi_acc *a, struct sniff_elem *p, const char *v,
		      size_t n)
{
	unsigned i;

	p->n++;
	if (!p->sample && !(p->sample = sniff_sample_dup(&a->s->arena, v, n)))
		return -1;
	if (!p->is_code)
		return 0;
	if (!short_code(v, n)) {
		p->is_code = 0;
		p->ncodes = 0;
		return 0;
	}
	for (i = 0; i < p->ncodes; i++)
		if (!strncmp(p->codes[i].value, v, n) && !p->codes[i].value[n]) {
			p->codes[i].n++;
			return 0;
		}
	if (p->ncodes == a->o->max_quals) {
		p->is_code = 0;
		p->ncodes = 0;
		return 0;
	}
	if (!p->codes && !(p->codes = arena_alloc(&a->s->arena,
						  a->o->max_quals *
							  sizeof(*p->codes))))
		return -1;
	p->codes[p->ncodes].value = arena_strndup(&a->s->arena, v, n);
	p->codes[p->ncodes].n = 1;
	return p->codes[p->ncodes++].value ? 0 : -1;
}

/* An element with several repeats: the repetition separator split it.
 * Correct by the standard where the element repeats; a surprise where a
 * partner used the character in data (REF*BM*999999-001 in 00406 with
 * '-' as separator reads 999999), so the first one per position is a
 * warning with the values. */
static int rep_split(struct edi_acc *a, struct sniff_elem *p,
		     const struct edi_seg *g, const struct edi_ctx *x,
		     unsigned el, unsigned nrep)
{
	char parts[600] = "", why[256];
	size_t k = 0;
	unsigned r;

	a->s->u.edi.rep_splits++;
	if (p->repeated)
		return 0;
	p->repeated = 1;
	for (r = 1; r <= nrep && k < sizeof(parts) - 64; r++) {
		const char *v = edi_seg_value(g, el, r, 1);
		int w = snprintf(parts + k, sizeof(parts) - k, "%s'%.40s'",
				 r > 1 ? ", " : "", v ? v : "");

		if (w > 0)
			k += (size_t)w;
	}
	snprintf(why, sizeof(why),
		 "%s%02u holds %u values split on the repetition separator "
		 "'%c': %s%s; a mapping reads the first one",
		 g->tag, el, nrep, x->delims.rep > 0x20 ? x->delims.rep : '?',
		 parts, r <= nrep ? ", ..." : "");
	return note(a, g, x, el, "repetition", why);
}

static int on_segment(struct edi_acc *a, const struct edi_seg *g,
		      const struct edi_ctx *x)
{
	struct sniff_edi *e = &a->s->u.edi;
	struct sniff_segment *sg = seg_entry(a, g->tag, g->num);
	unsigned el, c;

	if (!e->version && x->ic_open) {
		e->delims = x->delims;
		e->una = x->una;
		e->dex = x->dex;
		e->ebcdic = x->ebcdic;
		e->charset = arena_strdup(&a->s->arena,
					  x->format == EDI_FMT_X12
						  ? (x->ebcdic ? "EBCDIC-CP037" : "")
						  : x->charset);
		e->version = arena_strdup(&a->s->arena,
					  x->format == EDI_FMT_X12
						  ? x->ic_version
						  : x->syntax_version);
		if (!e->charset || !e->version)
			return -1;
	}
	if (!sg) {
		e->nsegs_more++;
		return 0;
	}
	sg->n++;
	for (el = 1; el <= g->nelem; el++) {
		unsigned nrep = edi_seg_nrep(g, el);
		unsigned ncomp = edi_seg_ncomp(g, el, 1);

		for (c = 1; c <= ncomp; c++) {
			size_t n;
			const char *v = edi_seg_value_len(g, el, 1, c, &n);
			struct sniff_elem *p;

			if (!v || !n)
				continue;
			if (!(p = elem_entry(a, a->last, el, c)) ||
			    elem_value(a, p, v, n) < 0)
				return -1;
		}
		if (nrep > 1 && !sniff_is_envelope(g->tag)) {
			struct sniff_elem *p = elem_entry(a, a->last, el, 1);

			if (!p || rep_split(a, p, g, x, el, nrep) < 0)
				return -1;
		}
	}
	return 0;
}

static int on_message(struct edi_acc *a, const struct edi_ctx *x)
{
	struct sniff_edi *e = &a->s->u.edi;
	const char *ver = x->format == EDI_FMT_X12 && x->grp_version[0]
				  ? x->grp_version
				  : x->set_version;
	unsigned i;

	for (i = 0; i < e->nmessages; i++)
		if (!strcmp(e->messages[i].type, x->set_type) &&
		    !strcmp(e->messages[i].version, ver)) {
			e->messages[i].n++;
			return 0;
		}
	if (e->nmessages == MAX_MESSAGES) {
		e->nmessages_more++;
		return 0;
	}
	snprintf(e->messages[i].type, sizeof(e->messages[i].type), "%s",
		 x->set_type[0] ? x->set_type : "?");
	snprintf(e->messages[i].version, sizeof(e->messages[i].version), "%s",
		 ver);
	e->messages[i].n = 1;
	e->nmessages++;
	return 0;
}

/* ISA12 says which envelope standard the interchange follows, GS08 which
 * version the group's sets are in; they normally agree in their first five
 * digits (00401 / 004010). A difference is legal but worth knowing before
 * writing a mapping for one of them. */
static int check_group_version(struct edi_acc *a, const struct edi_seg *g,
			       const struct edi_ctx *x)
{
	const char *gs08 = edi_seg_str(g, 8);
	char why[256];

	if (x->dex || !x->ic_version[0] || strlen(gs08) < 5 ||
	    !strncmp(gs08, x->ic_version, 5))
		return 0;
	snprintf(why, sizeof(why),
		 "version conflict: GS08 %s (the group's version) differs "
		 "from ISA12 %s (the interchange's)",
		 gs08, x->ic_version);
	return note(a, g, x, 8, "version", why);
}

static int on_ic_end(struct edi_acc *a, const struct edi_event *ev)
{
	struct sniff_edi *e = &a->s->u.edi;
	const struct edi_ctx *x = ev->ctx;
	struct sniff_interchange *ic;
	struct arena *ar = &a->s->arena;

	if (e->nics == MAX_ICS) {
		e->nics_more++;
		a->declared = -1;
		return 0;
	}
	ic = &e->ics[e->nics++];
	memset(ic, 0, sizeof(*ic));
	ic->control = arena_strdup(ar, x->ic_control);
	ic->sender = arena_strdup(ar, x->ic_sender);
	ic->sender_qual = arena_strdup(ar, x->ic_sender_qual);
	ic->receiver = arena_strdup(ar, x->ic_receiver);
	ic->receiver_qual = arena_strdup(ar, x->ic_receiver_qual);
	ic->date = arena_strdup(ar, x->ic_date);
	ic->time = arena_strdup(ar, x->ic_time);
	ic->test = arena_strdup(ar, x->ic_test);
	ic->sha256 = arena_strdup(ar, x->ic_sha256);
	ic->version = arena_strdup(ar, x->format == EDI_FMT_X12
					       ? x->ic_version
					       : x->syntax_version);
	ic->charset = arena_strdup(ar, x->format == EDI_FMT_X12
					       ? (x->ebcdic ? "EBCDIC-CP037" : "")
					       : x->charset);
	ic->delims = x->delims;
	ic->una = x->una;
	ic->groups = x->ic_ngroups;
	ic->sets = x->ic_nsets;
	ic->declared_groups = a->declared;
	ic->ok = ev->ok;
	a->declared = -1;
	if (!ic->control || !ic->sender || !ic->sender_qual ||
	    !ic->receiver || !ic->receiver_qual || !ic->date || !ic->time ||
	    !ic->test || !ic->sha256 || !ic->version || !ic->charset)
		return -1;
	return 0;
}

static int on_event(struct edi_acc *a, const struct edi_event *ev)
{
	const struct edi_seg *g = ev->seg;
	char text[1400];

	switch (ev->kind) {
	case EDI_EV_SEGMENT:
		if (!strcmp(g->tag, "ST") || !strcmp(g->tag, "UNH"))
			if (on_message(a, ev->ctx) < 0)
				return -1;
		if (!strcmp(g->tag, "GS") && check_group_version(a, g, ev->ctx))
			return -1;
		if (!strcmp(g->tag, "IEA") || !strcmp(g->tag, "UNZ"))
			a->declared = strtol(edi_seg_str(g, 1), NULL, 10);
		return on_segment(a, g, ev->ctx);
	case EDI_EV_ISSUE:
		edi_issue_format(ev->issue, a->s->path, text, sizeof(text));
		return add_finding(a, ev->issue, edi_issue_name(ev->issue->code),
				   text);
	case EDI_EV_IC_END:
		return on_ic_end(a, ev);
	default:
		return 0;
	}
}

/* Qualifier positions are known only at the end: values that repeat. */
static void edi_finish(struct sniff *s)
{
	struct sniff_edi *e = &s->u.edi;
	unsigned i, j, best = 0;

	for (i = 0; i < e->nsegs; i++)
		for (j = 0; j < e->segs[i].nelems; j++) {
			struct sniff_elem *p = &e->segs[i].elems[j];

			p->is_code = p->is_code && p->ncodes &&
				     (p->ncodes <= 2 || p->n >= 2 * p->ncodes);
		}
	for (i = 1; i < e->nmessages; i++)
		if (e->messages[i].n > e->messages[best].n)
			best = i;
	if (e->nmessages) {
		snprintf(s->message, sizeof(s->message), "%s",
			 e->messages[best].type);
		snprintf(s->message_version, sizeof(s->message_version), "%s",
			 e->messages[best].version);
	}
	if (!e->version)
		e->version = e->charset = "";
	s->valid = !e->nerrors;
}

static int edi_tables(struct edi_acc *a)
{
	struct sniff_edi *e = &a->s->u.edi;
	struct arena *ar = &a->s->arena;

	a->seg_cap = a->o->max_tags;
	e->segs = arena_alloc(ar, a->seg_cap * sizeof(*e->segs));
	a->elem_cap = calloc(a->seg_cap, sizeof(*a->elem_cap));
	e->messages = arena_alloc(ar, MAX_MESSAGES * sizeof(*e->messages));
	e->ics = arena_alloc(ar, MAX_ICS * sizeof(*e->ics));
	e->findings = arena_alloc(ar, a->o->max_findings * sizeof(*e->findings));
	return e->segs && a->elem_cap && e->messages && e->ics && e->findings
		       ? 0
		       : -1;
}

int sniff_doc_edi(struct sniff *s, int fd, const struct sniff_opts *o,
		  struct err *err)
{
	struct edi_acc a;
	struct x12_reader *xr = NULL;
	struct edifact_reader *fr = NULL;
	struct edi_opts ro = {o->max_segment, 0};
	struct sniff_edi *e = &s->u.edi;
	struct edi_event ev;
	struct err re = ERR_INIT;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.o = o;
	a.declared = -1;
	if (edi_tables(&a) < 0) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		err_sys(err, "seek %s", s->path);
		goto cleanup;
	}
	rc = s->format == SNIFF_X12
		     ? x12_reader_open_fd(&xr, fd, s->path, &ro, &re)
		     : edifact_reader_open_fd(&fr, fd, s->path, &ro, &re);
	while (rc == 0) {
		int n = xr ? x12_reader_next(xr, &ev, &re)
			   : edifact_reader_next(fr, &ev, &re);

		if (n <= 0) {
			rc = n;
			break;
		}
		if (on_event(&a, &ev) < 0) {
			err_set(err, E_NOMEM, "out of memory");
			rc = -2;
		}
	}
	if (xr)
		x12_reader_stats(xr, NULL, NULL, &e->ninterchanges, &e->ngroups,
				 &e->nsets);
	else if (fr)
		edifact_reader_stats(fr, NULL, NULL, &e->ninterchanges,
				     &e->ngroups, &e->nsets);
	if (rc == -2)
		goto cleanup;
	if (rc < 0) {
		/* A read failure is a finding of the file like the others
		 * (E_TOOBIG for a runaway segment), unless it is ours. */
		struct edi_issue is;
		char text[1400];

		if (re.code == E_NOMEM) {
			*err = re;
			goto cleanup;
		}
		memset(&is, 0, sizeof(is));
		is.severity = EDI_ERROR;
		is.code = EDI_I_UNREADABLE;
		is.seg_in_file = re.line;
		snprintf(is.reason, sizeof(is.reason), "%s: %.200s",
			 err_code_name(re.code), re.reason);
		edi_issue_format(&is, s->path, text, sizeof(text));
		if (add_finding(&a, &is, "unreadable", text) < 0) {
			err_set(err, E_NOMEM, "out of memory");
			goto cleanup;
		}
	}
	edi_finish(s);
	rc = 0;
cleanup:
	x12_reader_free(xr);
	edifact_reader_free(fr);
	free(a.elem_cap);
	return rc;
}

/* ---- XML ----------------------------------------------------------------- */

struct xml_acc {
	struct sniff *s;
	const struct sniff_opts *o;
	const char **qname;        /* per path: interned name (the key) */
	unsigned *parent;          /* per path: parent path or NONE */
	unsigned char *attr;       /* per path: it is an attribute */
	unsigned *slot;            /* hash: path index + 1, 0 = empty */
	size_t mask;
	unsigned stack[130];       /* open elements' paths, by depth */
	unsigned depth;
};

#define NONE 0xFFFFFFFFu   /* no parent (the root) */
#define LOST 0xFFFFFFFEu   /* path not stored: table full */

static size_t xhash(unsigned parent, const char *q, int attr)
{
	uint64_t h = (uint64_t)(uintptr_t)q * 0x9E3779B97F4A7C15ull;

	h ^= (uint64_t)parent * 0xC2B2AE3D27D4EB4Full + (uint64_t)attr;
	return (size_t)(h ^ (h >> 29));
}

/* The path of (parent, qname) - found, made, or LOST when the table is
 * full (then counted in npaths_more). */
static int xpath_of(struct xml_acc *a, unsigned parent, const char *q,
		    const char *ns, int attr, unsigned depth, unsigned *out)
{
	struct sniff_xml *x = &a->s->u.xml;
	size_t i = xhash(parent, q, attr) & a->mask;
	struct sniff_xpath *p;

	if (parent == LOST) {
		x->npaths_more++;
		*out = LOST;
		return 0;
	}
	for (; a->slot[i]; i = (i + 1) & a->mask) {
		unsigned k = a->slot[i] - 1;

		if (a->qname[k] == q && a->parent[k] == parent &&
		    a->attr[k] == attr) {
			x->paths[k].n++;
			*out = k;
			return 0;
		}
	}
	if (x->npaths == a->o->max_paths) {
		x->npaths_more++;
		*out = LOST;
		return 0;
	}
	p = &x->paths[x->npaths];
	memset(p, 0, sizeof(*p));
	p->path = parent == NONE
			  ? arena_printf(&a->s->arena, "/%s", q)
			  : arena_printf(&a->s->arena, "%s/%s%s",
					 x->paths[parent].path, attr ? "@" : "",
					 q);
	p->ns = arena_strdup(&a->s->arena, ns ? ns : "");
	if (!p->path || !p->ns)
		return -1;
	p->depth = depth;
	p->n = 1;
	a->qname[x->npaths] = q;
	a->parent[x->npaths] = parent;
	a->attr[x->npaths] = (unsigned char)attr;
	a->slot[i] = x->npaths + 1;
	*out = x->npaths++;
	return 0;
}

static int add_ns(struct xml_acc *a, const char *qname, const char *uri)
{
	struct sniff_xml *x = &a->s->u.xml;
	const char *colon;
	size_t plen;
	unsigned i;

	if (!uri)
		return 0;
	colon = strchr(qname, ':');
	plen = colon ? (size_t)(colon - qname) : 0;
	for (i = 0; i < x->nns; i++)
		if (!strcmp(x->ns[i].uri, uri) &&
		    !strncmp(x->ns[i].prefix, qname, plen) &&
		    !x->ns[i].prefix[plen])
			return 0;
	if (x->nns == MAX_NS) {
		x->nns_more++;
		return 0;
	}
	x->ns[i].prefix = arena_strndup(&a->s->arena, qname, plen);
	x->ns[i].uri = arena_strdup(&a->s->arena, uri);
	if (!x->ns[i].prefix || !x->ns[i].uri)
		return -1;
	x->nns++;
	return 0;
}

static int xml_start(struct xml_acc *a, const struct xml_event *ev)
{
	struct sniff_xml *x = &a->s->u.xml;
	unsigned parent = ev->depth > 1 ? a->stack[ev->depth - 1] : NONE;
	unsigned k, ak;
	size_t i;

	if (ev->depth >= sizeof(a->stack) / sizeof(a->stack[0]))
		return 0; /* the reader's depth bound stops it first */
	if (ev->depth == 1) {
		x->root = arena_strdup(&a->s->arena, ev->qname);
		x->root_ns = arena_strdup(&a->s->arena, ev->ns ? ev->ns : "");
		snprintf(a->s->message, sizeof(a->s->message), "%s", ev->local);
		snprintf(a->s->message_version, sizeof(a->s->message_version),
			 "%s", ev->ns ? ev->ns : "");
		if (!x->root || !x->root_ns)
			return -1;
	}
	if (add_ns(a, ev->qname, ev->ns) < 0 ||
	    xpath_of(a, parent, ev->qname, ev->ns, 0, ev->depth, &k) < 0)
		return -1;
	a->stack[ev->depth] = k;
	a->depth = ev->depth;
	for (i = 0; i < ev->nattrs; i++) {
		const struct xml_attr *at = &ev->attrs[i];

		if (add_ns(a, at->qname, at->ns) < 0 ||
		    xpath_of(a, k, at->qname, at->ns, 1, ev->depth + 1, &ak) < 0)
			return -1;
		if (ak != LOST && !x->paths[ak].sample &&
		    !(x->paths[ak].sample = sniff_sample_dup(
			      &a->s->arena, at->value, at->len)))
			return -1;
	}
	return 0;
}

/* The encoding an XML declaration names in head, or NULL. */
static char *declared_encoding(struct arena *ar, const unsigned char *p,
			       size_t n)
{
	const unsigned char *end, *e;
	size_t i = 0;

	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	if (n - i < 6 || memcmp(p + i, "<?xml", 5))
		return NULL;
	end = memchr(p + i, '>', n - i);
	if (!end)
		return NULL;
	for (e = p + i; e + 9 < end; e++)
		if (!memcmp(e, "encoding", 8)) {
			const unsigned char *v = e + 8, *w;

			while (v < end && (*v == ' ' || *v == '='))
				v++;
			if (v >= end || (*v != '"' && *v != '\''))
				return NULL;
			w = memchr(v + 1, *v, (size_t)(end - v - 1));
			return w ? arena_strndup(ar, (const char *)v + 1,
						 (size_t)(w - v - 1))
				 : NULL;
		}
	return NULL;
}

static int xml_tables(struct xml_acc *a)
{
	struct sniff_xml *x = &a->s->u.xml;
	size_t cap = 16;

	while (cap < 2 * (size_t)a->o->max_paths)
		cap *= 2;
	a->mask = cap - 1;
	a->slot = calloc(cap, sizeof(*a->slot));
	a->qname = calloc(a->o->max_paths, sizeof(*a->qname));
	a->parent = calloc(a->o->max_paths, sizeof(*a->parent));
	a->attr = calloc(a->o->max_paths, 1);
	x->paths = arena_alloc(&a->s->arena,
			       a->o->max_paths * sizeof(*x->paths));
	x->ns = arena_alloc(&a->s->arena, MAX_NS * sizeof(*x->ns));
	return a->slot && a->qname && a->parent && a->attr && x->paths && x->ns
		       ? 0
		       : -1;
}

int sniff_doc_xml(struct sniff *s, int fd, const struct sniff_opts *o,
		  const unsigned char *head, size_t n, struct err *err)
{
	struct sniff_xml *x = &s->u.xml;
	struct xml_acc a;
	struct xml_reader_opts ro;
	struct xml_reader *r = NULL;
	const struct xml_event *ev;
	struct err re = ERR_INIT;
	char msg[1200];
	int rc = -1, got;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.o = o;
	x->encoding = declared_encoding(&s->arena, head, n);
	if (!x->encoding)
		x->encoding = s->dialect.encoding;
	if (xml_tables(&a) < 0) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		err_sys(err, "seek %s", s->path);
		goto cleanup;
	}
	xml_reader_opts_init(&ro);
	got = xml_reader_open_fd(&r, fd, s->path, &ro, &re);
	while (got == 0 && (got = xml_reader_next(r, &ev, &re)) == 1) {
		int bad = 0;

		got = 0;
		if (ev->type == XML_EV_START) {
			bad = xml_start(&a, ev);
		} else if (ev->type == XML_EV_END) {
			a.depth = ev->depth ? ev->depth - 1 : 0;
		} else if (ev->type == XML_EV_TEXT && a.depth) {
			unsigned k = a.stack[a.depth];

			if (k != LOST && !x->paths[k].sample &&
			    !(x->paths[k].sample = sniff_sample_dup(
				      &s->arena, ev->text, ev->len)))
				bad = -1;
		}
		if (bad < 0) {
			err_set(err, E_NOMEM, "out of memory");
			goto cleanup;
		}
	}
	x->elements = r ? xml_reader_elements(r) : 0;
	if (got < 0) {
		if (re.code == E_NOMEM) {
			*err = re;
			goto cleanup;
		}
		err_format(&re, msg, sizeof(msg));
		if (!(x->error = arena_strdup(&s->arena, msg))) {
			err_set(err, E_NOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (!x->root)
		x->root = x->root_ns = "";
	s->valid = !x->error;
	rc = 0;
cleanup:
	xml_reader_free(r);
	free(a.slot);
	free(a.qname);
	free(a.parent);
	free(a.attr);
	return rc;
}
