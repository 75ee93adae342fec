/* mapping_xml.c - the XML input driver of the mapping engine (see
 * mapping_int.h for the driver interface, docs/mapping.md section 4 for
 * the path syntax).
 *
 * Paths are compiled into steps over interned names (namespace URI plus
 * local name; prefixes exist only in the mapping). While the document
 * streams:
 *
 *  - a stack of open elements knows, per level, the name and how many
 *    same-named siblings came before (for positions, cac:X[2]);
 *  - absolute paths (/inv:InventoryReport/cbc:IssueDate) capture the
 *    first matching element's text or attribute as it passes and keep it
 *    until the element they share with the record anchor closes (a group
 *    header is forgotten when its group ends; a document header lasts
 *    the whole document); nothing after the record's end is visible;
 *  - inside an each: element the subtree is kept in an arena (reset per
 *    record), so relative paths can look anywhere below the record; the
 *    record is mapped when its element closes.
 *
 * Memory is one record subtree (bounded by input.max_record) plus the
 * captured absolute values (each bounded by input.max_text).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/suggest.h"
#include "mapping_int.h"
#include "transforms/formats/xml_reader.h"

#define X_MAX_NS 64
#define X_MAX_NAMES 512
#define X_MAX_PATHS 512
#define X_MAX_STEPS 32
/* Slots of the (namespace, name) -> id memo: a document has a few dozen
 * names; small enough to stay in the first-level cache next to the
 * parser's own tables. */
#define X_CACHE 128

static const char xml_ns_uri[] = "http://www.w3.org/XML/1998/namespace";

struct xname {
	const char *ns;          /* NULL: no namespace */
	const char *local;
};

struct xstep {
	int name;
	unsigned pos;            /* 0 = first / any for absolute */
};

struct xpath {
	int absolute;
	struct xstep steps[X_MAX_STEPS];
	unsigned nsteps;
	const char *attr_ns;     /* attribute at the end */
	const char *attr_local;  /* NULL: the element's text */
	const char *text;        /* as written */
	unsigned scope;          /* absolute: forget at the close of this depth */
};

struct xml_map {
	const char *prefix[X_MAX_NS];
	const char *uri[X_MAX_NS];
	size_t nns;
	struct xname names[X_MAX_NAMES];
	size_t nnames;
	struct xpath paths[X_MAX_PATHS];
	size_t npaths;
	struct xpath anchors[MAP_MAX_RECORDS];
	const struct ynode *anchor_node[MAP_MAX_RECORDS];
	size_t nanchors;
	/* per name id: 1 when an absolute path's last step is that name
	 * (the others never start a capture); per depth (bit d, d < 64, the
	 * last bit for deeper ones): an absolute path is forgotten there */
	unsigned char abs_last[X_MAX_NAMES];
	uint64_t scope_mask;
	/* an absolute path has a position (/R/H[2]/X): only then are the
	 * sibling counters kept while streaming (relative paths count in
	 * the record's tree, each: takes none) */
	int abs_pos;
	struct xml_reader_opts ro;
	size_t max_record;
};

/* ------------------------------------------------------------------ */
/* Compile                                                              */

static int is_name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       c >= 0x80;
}

static int is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static size_t name_len(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !is_name_start((unsigned char)s[0]))
		return 0;
	while (i < n && is_name_char((unsigned char)s[i]))
		i++;
	return i;
}

static const char *ns_lookup(const struct xml_map *xm, const char *p,
			     size_t n)
{
	size_t i;

	if (n == 3 && !memcmp(p, "xml", 3))
		return xml_ns_uri;
	for (i = 0; i < xm->nns; i++)
		if (strlen(xm->prefix[i]) == n && !memcmp(xm->prefix[i], p, n))
			return xm->uri[i];
	return NULL;
}

static int intern(struct xml_map *xm, const char *ns, const char *local)
{
	size_t i;

	for (i = 0; i < xm->nnames; i++)
		if (!strcmp(xm->names[i].local, local) &&
		    ((!ns && !xm->names[i].ns) ||
		     (ns && xm->names[i].ns && !strcmp(ns, xm->names[i].ns))))
			return (int)i;
	if (xm->nnames == X_MAX_NAMES)
		return -1;
	xm->names[xm->nnames].ns = ns;
	xm->names[xm->nnames].local = local;
	return (int)xm->nnames++;
}

/* "unknown namespace prefix 'cbx' in cbx:Quantity (namespaces: cac,
 * cbc; did you mean cbc?)": the prefixes input.namespaces declares and
 * the nearest. s holds the prefix (a bytes) and the name (n bytes). */
static void unknown_prefix(const struct xml_map *xm, const char *s,
			   size_t a, size_t n, char *msg, size_t msgn)
{
	char word[64], list[300], hint[120] = "";
	const char *near;

	if (!xm->nns) {
		snprintf(msg, msgn,
			 "unknown namespace prefix '%.*s' in %.*s (declare it under input.namespaces)",
			 (int)a, s, (int)n, s);
		return;
	}
	snprintf(word, sizeof(word), "%.*s", (int)a, s);
	suggest_list(list, sizeof(list), xm->prefix, xm->nns, ", ");
	near = suggest_nearest(word, xm->prefix, xm->nns,
			       suggest_max_edits(word));
	if (near)
		snprintf(hint, sizeof(hint), "; did you mean %s?", near);
	snprintf(msg, msgn,
		 "unknown namespace prefix '%.*s' in %.*s (namespaces: %s%s)",
		 (int)a, s, (int)n, s, list, hint);
}

/* Parses prefix:local or local at s; returns bytes used (0 = none, -1 =
 * error in msg). */
static int parse_qname(struct mapping *m, struct xml_map *xm, const char *s,
		       size_t n, const char **ns, const char **local,
		       char *msg, size_t msgn)
{
	size_t a = name_len(s, n), b;

	*ns = NULL;
	if (!a) {
		snprintf(msg, msgn, "expected an element or attribute name in the path");
		return -1;
	}
	if (a < n && s[a] == ':') {
		b = name_len(s + a + 1, n - a - 1);
		if (!b) {
			snprintf(msg, msgn, "expected a name after '%.*s:'", (int)a, s);
			return -1;
		}
		if (!(*ns = ns_lookup(xm, s, a))) {
			unknown_prefix(xm, s, a, a + 1 + b, msg, msgn);
			return -1;
		}
		*local = arena_strndup(&m->pool.arena, s + a + 1, b);
		a += 1 + b;
	} else {
		*local = arena_strndup(&m->pool.arena, s, a);
	}
	if (!*local) {
		snprintf(msg, msgn, "out of memory");
		return -1;
	}
	return (int)a;
}

/* Parses a path at s into *p. Returns bytes used or -1 with msg. */
static int parse_path(struct mapping *m, struct xml_map *xm, const char *s,
		      size_t n, struct xpath *p, char *msg, size_t msgn)
{
	size_t i = 0;

	memset(p, 0, sizeof(*p));
	if (s[0] == '/') {
		p->absolute = 1;
		i = 1;
	} else if (s[0] == '.') {
		if (n == 1 || s[1] != '/')
			return 1; /* the record element itself */
		i = 2;
	}
	for (;;) {
		const char *ns, *local;
		int k;

		if (i < n && s[i] == '/') {
			snprintf(msg, msgn,
				 "'//' (any depth) is not supported: write each step of the path");
			return -1;
		}
		if (i < n && s[i] == '@') {
			k = parse_qname(m, xm, s + i + 1, n - i - 1, &ns, &local,
					msg, msgn);
			if (k < 0)
				return -1;
			if (!memchr(s + i + 1, ':', (size_t)k))
				ns = NULL; /* unprefixed attributes have no namespace */
			p->attr_ns = ns;
			p->attr_local = local;
			i += 1 + (size_t)k;
			if (i < n && (s[i] == '/' || s[i] == '[')) {
				snprintf(msg, msgn,
					 "an attribute (@%s) ends the path",
					 local);
				return -1;
			}
			break;
		}
		if (p->nsteps == X_MAX_STEPS) {
			snprintf(msg, msgn, "a path has at most %d steps",
				 X_MAX_STEPS);
			return -1;
		}
		k = parse_qname(m, xm, s + i, n - i, &ns, &local, msg, msgn);
		if (k < 0)
			return -1;
		i += (size_t)k;
		p->steps[p->nsteps].name = intern(xm, ns, local);
		if (p->steps[p->nsteps].name < 0) {
			snprintf(msg, msgn, "too many element names in the mapping");
			return -1;
		}
		if (i < n && s[i] == '[') {
			unsigned long v = 0;
			size_t j = i + 1;

			while (j < n && s[j] >= '0' && s[j] <= '9' && v < 100000)
				v = v * 10 + (unsigned long)(s[j++] - '0');
			if (j == i + 1 || j >= n || s[j] != ']' || v < 1) {
				snprintf(msg, msgn,
					 "a position is written [N] with N from 1 (cac:X[2])");
				return -1;
			}
			p->steps[p->nsteps].pos = (unsigned)v;
			i = j + 1;
		}
		p->nsteps++;
		if (i < n && s[i] == '/') {
			i++;
			continue;
		}
		break;
	}
	if (p->absolute && !p->nsteps) {
		snprintf(msg, msgn, "an absolute path names the root element first (/Root/...)");
		return -1;
	}
	return (int)i;
}

/* Is the text at s a relative path? (see docs/mapping.md: a
 * prefix, a '/', an '@', or a leading "./") */
static int looks_relative(const char *s, size_t n)
{
	size_t a;

	if (s[0] == '@')
		return 1;
	if (s[0] == '.')
		return n == 1 || s[1] == '/' || s[1] == ' ' || s[1] == '|' ||
		       s[1] == ')' || s[1] == ',';
	a = name_len(s, n);
	if (!a || a >= n)
		return 0;
	/* prefix:name is a path even when the prefix is not declared, so
	 * that parse_qname() can say which prefixes are (a typo would
	 * otherwise be a bare word followed by "unexpected ':'"). */
	if (s[a] == ':' && a + 1 < n && is_name_start((unsigned char)s[a + 1]))
		return 1;
	if (s[a] == '/' && a + 1 < n &&
	    (is_name_start((unsigned char)s[a + 1]) || s[a + 1] == '@'))
		return 1;
	if (s[a] == '[' && a + 1 < n && s[a + 1] >= '0' && s[a + 1] <= '9')
		return 1;
	return 0;
}

static int xml_path(void *ud, const char *s, size_t n, int *id, char *msg,
		    size_t msgn)
{
	struct mapping *m = ud;
	struct xml_map *xm = m->drv;
	struct xpath p;
	size_t i;
	int used;

	if (!n || (s[0] != '/' && !looks_relative(s, n)))
		return 0;
	used = parse_path(m, xm, s, n, &p, msg, msgn);
	if (used < 0)
		return -1;
	if (!p.absolute && m->in_context) {
		snprintf(msg, msgn,
			 "context can only read absolute paths (/Root/...): a relative path reads the record element, which context does not have");
		return -1;
	}
	for (i = 0; i < xm->npaths; i++)
		if (strlen(xm->paths[i].text) == (size_t)used &&
		    !memcmp(xm->paths[i].text, s, (size_t)used)) {
			*id = (int)i;
			return used;
		}
	if (xm->npaths == X_MAX_PATHS) {
		snprintf(msg, msgn, "too many paths in one mapping (%d)",
			 X_MAX_PATHS);
		return -1;
	}
	if (!(p.text = arena_strndup(&m->pool.arena, s, (size_t)used))) {
		snprintf(msg, msgn, "out of memory");
		return -1;
	}
	xm->paths[xm->npaths] = p;
	*id = (int)xm->npaths++;
	return used;
}

static int xml_compile_input(struct mapping *m, const struct ynode *in,
			     struct err *err)
{
	struct xml_map *xm = calloc(1, sizeof(*xm));
	const struct ynode *ns, *n;
	unsigned long v;
	size_t i;

	if (!xm)
		return err_set(err, E_NOMEM, "out of memory");
	m->drv = xm;
	xml_reader_opts_init(&xm->ro);
	xm->max_record = 1u << 20;
	ns = ynode_get(in, "namespaces");
	if (ns) {
		if (ns->type != Y_MAP)
			return ynode_err(m->yt, ns, err, E_CONFIG,
					 "namespaces: maps prefixes to namespace URIs (cbc: urn:oasis:...)");
		for (i = 0; i < ns->n; i += 2) {
			const struct ynode *k = ns->items[i], *u = ns->items[i + 1];
			size_t j;

			if (xm->nns == X_MAX_NS)
				return ynode_err(m->yt, k, err, E_CONFIG,
						 "too many namespaces (%d)", X_MAX_NS);
			if (name_len(k->value, k->len) != k->len ||
			    memchr(k->value, '.', k->len) || !strcmp(k->value, "xml"))
				return ynode_err(m->yt, k, err, E_CONFIG,
						 "'%s' is not a usable namespace prefix",
						 k->value);
			if (u->type != Y_SCALAR || !u->len)
				return ynode_err(m->yt, u, err, E_CONFIG,
						 "namespace '%s' needs its URI",
						 k->value);
			for (j = 0; j < xm->nns; j++)
				if (!strcmp(xm->prefix[j], k->value))
					return ynode_err(m->yt, k, err, E_CONFIG,
							 "prefix '%s' is declared twice",
							 k->value);
			xm->prefix[xm->nns] = k->value;
			xm->uri[xm->nns++] = u->value;
		}
	}
	n = ynode_get(in, "encoding");
	if (n) {
		if (n->type != Y_SCALAR)
			return ynode_err(m->yt, n, err, E_CONFIG,
					 "encoding: is one name");
		xm->ro.encoding = n->value;
	}
	if (map_parse_bool(m, in, "allow_doctype", &xm->ro.allow_doctype, err))
		return -1;
	v = xm->ro.max_depth;
	if (map_parse_uint(m, in, "max_depth", 256, &v, err))
		return -1;
	xm->ro.max_depth = v ? (unsigned)v : xm->ro.max_depth;
	v = xm->ro.max_text;
	if (map_parse_uint(m, in, "max_text", 10000000, &v, err))
		return -1;
	xm->ro.max_text = v ? v : xm->ro.max_text;
	v = xm->ro.max_name;
	if (map_parse_uint(m, in, "max_name", 50000, &v, err))
		return -1;
	xm->ro.max_name = v ? v : xm->ro.max_name;
	v = xm->max_record;
	if (map_parse_uint(m, in, "max_record", 1ul << 30, &v, err))
		return -1;
	xm->max_record = v ? v : xm->max_record;
	return 0;
}

static int xml_each(struct mapping *m, const struct ynode *en, int *anchor,
		    struct err *err)
{
	struct xml_map *xm = m->drv;
	struct xpath p;
	char msg[300];
	size_t i;
	int used;

	if (!en || en->type != Y_SCALAR || en->value[0] != '/')
		return ynode_err(m->yt, en ? en : ynode_get(m->yt->root, "records"),
				 err, E_CONFIG,
				 "for xml input each: is the absolute path of the repeated element (each: /Root/Line)");
	used = parse_path(m, xm, en->value, en->len, &p, msg, sizeof(msg));
	if (used < 0)
		return ynode_err(m->yt, en, err, E_CONFIG, "%s", msg);
	if ((size_t)used != en->len)
		return ynode_err(m->yt, en, err, E_CONFIG,
				 "each: is one path, not an expression ('%s')",
				 en->value + used);
	if (p.attr_local)
		return ynode_err(m->yt, en, err, E_CONFIG,
				 "each: names an element, not an attribute");
	for (i = 0; i < p.nsteps; i++)
		if (p.steps[i].pos)
			return ynode_err(m->yt, en, err, E_CONFIG,
					 "each: takes no positions: it names every matching element");
	p.text = en->value;
	for (i = 0; i < xm->nanchors; i++)
		if (!strcmp(xm->anchors[i].text, en->value)) {
			*anchor = (int)i;
			return 0;
		}
	for (i = 0; i < xm->nanchors; i++) {
		const struct xpath *a = &xm->anchors[i];
		const struct xpath *in = a->nsteps < p.nsteps ? a : &p;
		const struct xpath *out = in == a ? &p : a;
		unsigned k;

		for (k = 0; k < in->nsteps; k++)
			if (in->steps[k].name != out->steps[k].name)
				break;
		if (k == in->nsteps)
			return ynode_err(m->yt, en, err, E_CONFIG,
					 "each: elements cannot be nested: %s is inside %s (read the outer element with absolute paths)",
					 out->text, in->text);
	}
	xm->anchors[xm->nanchors] = p;
	xm->anchor_node[xm->nanchors] = en;
	*anchor = (int)xm->nanchors++;
	return 0;
}

/* Bit of depth d in xml_map.scope_mask (deep ones share the last bit:
 * the mask only spares looking). */
static uint64_t depth_bit(unsigned d)
{
	return 1ull << (d < 63 ? d : 63);
}

/* Each absolute path is forgotten when the element it shares with the
 * deepest record anchor closes. */
static int xml_finish(struct mapping *m, struct err *err)
{
	struct xml_map *xm = m->drv;
	size_t i, j;

	(void)err;
	for (i = 0; i < xm->npaths; i++) {
		struct xpath *p = &xm->paths[i];

		if (!p->absolute)
			continue;
		p->scope = 0;
		for (j = 0; j < xm->nanchors; j++) {
			const struct xpath *a = &xm->anchors[j];
			unsigned k;

			for (k = 0; k < p->nsteps && k < a->nsteps; k++)
				if (p->steps[k].name != a->steps[k].name)
					break;
			if (k > p->scope)
				p->scope = k;
		}
		xm->abs_last[p->steps[p->nsteps - 1].name] = 1;
		xm->scope_mask |= depth_bit(p->scope);
		for (j = 0; j < p->nsteps; j++)
			if (p->steps[j].pos)
				xm->abs_pos = 1;
	}
	return 0;
}

static void xml_free(struct mapping *m)
{
	free(m->drv);
	m->drv = NULL;
}

/* ------------------------------------------------------------------ */
/* Run                                                                  */

struct xnode {
	int name;
	const char *qname;
	struct xnode *parent, *first, *last, *next;
	struct xml_attr *attrs;
	size_t nattrs;
	char *text;
	size_t tlen, tcap;
	unsigned long line;
};

struct xabs {
	char *buf;
	size_t len, cap;
	int set;
	unsigned capturing;       /* depth being captured, 0 = none */
};

struct xcache {
	const char *ns, *local;
	int id;
};

struct xrun {
	const struct xml_map *xm;
	struct xml_reader *xr;
	struct map_run *run;
	/* an absolute value changed since the last record's context was
	 * made: context (which reads only absolute paths, never $line or
	 * $row) is made again; otherwise the record keeps it */
	int ctx_dirty;
	unsigned max_depth;
	int *lvl_name;             /* per depth (1-based) */
	unsigned *lvl_pos;         /* position among same-named siblings */
	unsigned *counts;          /* per depth: nnames sibling counters */
	struct xabs *abs;
	/* the absolute paths' ids, ascending: the per-element loops visit
	 * only these, not every path of the mapping */
	unsigned *absi;
	size_t nabs;
	unsigned ncapturing;
	struct xcache cache[X_CACHE];
	/* the record being read */
	int active;                /* anchor id, -1 */
	unsigned adepth;
	struct xnode *root, *cur;
	const struct xnode *xitem; /* explode: element paths read first */
	struct arena tree;
	size_t rec_bytes;
	unsigned long rec_line;
	unsigned long nrec[MAP_MAX_RECORDS];
	struct buf raw;
};

static int name_id(struct xrun *x, const char *ns, const char *local)
{
	size_t h = (((uintptr_t)local >> 4) ^ ((uintptr_t)ns * 31u)) &
		   (X_CACHE - 1);
	size_t i, k;
	int id = -1;

	for (k = 0; k < 8; k++) {
		struct xcache *c = &x->cache[(h + k) & (X_CACHE - 1)];

		if (!c->local)
			break;
		if (c->local == local && c->ns == ns)
			return c->id;
	}
	for (i = 0; i < x->xm->nnames; i++) {
		const struct xname *n = &x->xm->names[i];

		if (!strcmp(n->local, local) &&
		    ((!n->ns && !ns) || (n->ns && ns && !strcmp(n->ns, ns)))) {
			id = (int)i;
			break;
		}
	}
	if (k < 8) {
		struct xcache *c = &x->cache[(h + k) & (X_CACHE - 1)];

		c->ns = ns;
		c->local = local;
		c->id = id;
	}
	return id;
}

static int abs_put(struct xabs *a, const char *s, size_t n, size_t max,
		   struct err *err)
{
	if (a->len + n > max)
		return err_set(err, E_TOOBIG,
			       "a value read by an absolute path is longer than input.max_text (%zu)",
			       max);
	if (ALLOC_GROW(a->buf, a->len + n + 1, a->cap))
		return err_set(err, E_NOMEM, "out of memory");
	memcpy(a->buf + a->len, s, n);
	a->len += n;
	a->buf[a->len] = '\0';
	return 0;
}

static int attr_match(const struct xml_attr *a, const char *ns,
		      const char *local)
{
	return !strcmp(a->local, local) &&
	       ((!ns && !a->ns) || (ns && a->ns && !strcmp(ns, a->ns)));
}

/* Does the open element stack (depth d) match path p's element steps? */
static int stack_matches(const struct xrun *x, const struct xpath *p,
			 unsigned d)
{
	unsigned k;

	if (p->nsteps != d)
		return 0;
	for (k = d; k-- > 0;)
		if (x->lvl_name[k + 1] != p->steps[k].name ||
		    (p->steps[k].pos && p->steps[k].pos != x->lvl_pos[k + 1]))
			return 0;
	return 1;
}

static int tree_text(struct xrun *x, struct xnode *nd, const char *s,
		     size_t n, struct err *err)
{
	if (nd->tlen + n + 1 > nd->tcap) {
		size_t cap = nd->tcap ? nd->tcap * 2 : 32;
		char *t;

		while (cap < nd->tlen + n + 1)
			cap *= 2;
		if (!(t = arena_alloc(&x->tree, cap)))
			return err_set(err, E_NOMEM, "out of memory");
		if (nd->tlen)
			memcpy(t, nd->text, nd->tlen);
		nd->text = t;
		nd->tcap = cap;
	}
	memcpy(nd->text + nd->tlen, s, n);
	nd->tlen += n;
	nd->text[nd->tlen] = '\0';
	return 0;
}

static int tree_start(struct xrun *x, const struct xml_event *ev, int id,
		      struct err *err)
{
	struct xnode *nd = arena_alloc(&x->tree, sizeof(*nd));
	size_t i;

	if (!nd)
		return err_set(err, E_NOMEM, "out of memory");
	memset(nd, 0, sizeof(*nd));
	nd->name = id;
	nd->qname = ev->qname;
	nd->line = ev->line;
	x->rec_bytes += ev->qlen + 16;
	if (ev->nattrs) {
		nd->attrs = arena_alloc(&x->tree, ev->nattrs * sizeof(*nd->attrs));
		if (!nd->attrs)
			return err_set(err, E_NOMEM, "out of memory");
		for (i = 0; i < ev->nattrs; i++) {
			nd->attrs[i] = ev->attrs[i];
			nd->attrs[i].value = arena_strndup(&x->tree,
							   ev->attrs[i].value,
							   ev->attrs[i].len);
			if (!nd->attrs[i].value)
				return err_set(err, E_NOMEM, "out of memory");
			x->rec_bytes += ev->attrs[i].len + strlen(ev->attrs[i].qname);
		}
		nd->nattrs = ev->nattrs;
	}
	nd->parent = x->cur;
	if (x->cur) {
		if (x->cur->last)
			x->cur->last->next = nd;
		else
			x->cur->first = nd;
		x->cur->last = nd;
	} else {
		x->root = nd;
	}
	x->cur = nd;
	return 0;
}

static void raw_esc(struct buf *b, const char *s, size_t n, int attr)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *rep = NULL;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = attr ? NULL : "&gt;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		default: break;
		}
		if (rep) {
			buf_add(b, s + from, i - from);
			buf_adds(b, rep);
			from = i + 1;
		}
	}
	buf_add(b, s + from, n - from);
}

static void raw_node(struct buf *b, const struct xnode *nd)
{
	const struct xnode *c;
	size_t i;

	buf_addc(b, '<');
	buf_adds(b, nd->qname);
	for (i = 0; i < nd->nattrs; i++) {
		buf_addc(b, ' ');
		buf_adds(b, nd->attrs[i].qname);
		buf_adds(b, "=\"");
		raw_esc(b, nd->attrs[i].value, nd->attrs[i].len, 1);
		buf_addc(b, '"');
	}
	if (!nd->tlen && !nd->first) {
		buf_adds(b, "/>");
		return;
	}
	buf_addc(b, '>');
	raw_esc(b, nd->text ? nd->text : "", nd->tlen, 0);
	for (c = nd->first; c; c = c->next)
		raw_node(b, c);
	buf_adds(b, "</");
	buf_adds(b, nd->qname);
	buf_addc(b, '>');
}

/* The record element as compact XML, for the reject file. */
static const char *xml_raw(struct map_run *run, size_t *len)
{
	struct xrun *x = run->drv;

	buf_reset(&x->raw);
	if (x->root)
		raw_node(&x->raw, x->root);
	if (x->raw.err) {
		*len = 0;
		return NULL;
	}
	*len = x->raw.len;
	return x->raw.ptr;
}

static size_t text_len(const struct xnode *nd)
{
	const struct xnode *c;
	size_t n = nd->tlen;

	for (c = nd->first; c; c = c->next)
		n += text_len(c);
	return n;
}

static char *text_copy(const struct xnode *nd, char *o)
{
	const struct xnode *c;

	memcpy(o, nd->text ? nd->text : "", nd->tlen);
	o += nd->tlen;
	for (c = nd->first; c; c = c->next)
		o = text_copy(c, o);
	return o;
}

/* The node relative path p names below nd, or NULL. */
static const struct xnode *rel_node(const struct xpath *p,
				    const struct xnode *nd)
{
	unsigned k;

	for (k = 0; nd && k < p->nsteps; k++) {
		const struct xnode *c;
		unsigned seen = 0, want = p->steps[k].pos ? p->steps[k].pos : 1;

		for (c = nd->first; c; c = c->next)
			if (c->name == p->steps[k].name && ++seen == want)
				break;
		nd = c;
	}
	return nd;
}

static int has_attr(const struct xpath *p, const struct xnode *nd)
{
	size_t i;

	for (i = 0; i < nd->nattrs; i++)
		if (attr_match(&nd->attrs[i], p->attr_ns, p->attr_local))
			return 1;
	return 0;
}

static int xml_rt_path(struct map_run *run, int id, struct expr_val *out,
		       unsigned *col, struct err *err)
{
	struct xrun *x = run->drv;
	const struct xpath *p = &x->xm->paths[id];
	const struct xnode *nd = x->root;

	*col = 0;
	out->s = NULL;
	out->n = 0;
	if (p->absolute) {
		if (x->abs[id].set) {
			out->s = x->abs[id].buf ? x->abs[id].buf : "";
			out->n = x->abs[id].len;
		}
		return 0;
	}
	if (x->xitem) {
		/* an explode: element first, then the record element */
		const struct xnode *in = rel_node(p, x->xitem);

		if (in && (!p->attr_local || has_attr(p, in)))
			nd = in;
	}
	if (nd == x->root)
		nd = rel_node(p, nd);
	if (!nd)
		return 0;
	if (p->attr_local) {
		size_t i;

		for (i = 0; i < nd->nattrs; i++)
			if (attr_match(&nd->attrs[i], p->attr_ns, p->attr_local)) {
				out->s = nd->attrs[i].value;
				out->n = nd->attrs[i].len;
				break;
			}
		return 0;
	}
	if (!nd->first) {
		out->s = nd->text ? nd->text : "";
		out->n = nd->tlen;
		return 0;
	} else {
		size_t n = text_len(nd);
		char *s = arena_alloc(&run->row_arena, n + 1);

		if (!s)
			return err_set(err, E_NOMEM, "out of memory");
		text_copy(nd, s);
		s[n] = '\0';
		out->s = s;
		out->n = n;
	}
	return 0;
}

static int on_start(struct map_run *run, struct xrun *x,
		    const struct xml_event *ev, struct err *err)
{
	const struct xml_map *xm = x->xm;
	unsigned d = ev->depth;
	int id = name_id(x, ev->ns, ev->local);
	size_t i, k;

	if (d > x->max_depth)
		return err_set(err, E_INTERNAL, "depth beyond the reader's bound");
	x->lvl_name[d] = id;
	x->lvl_pos[d] = 0;
	if (xm->abs_pos) {
		if (id >= 0)
			x->lvl_pos[d] = ++x->counts[(size_t)(d - 1) * xm->nnames +
						    (size_t)id];
		memset(x->counts + (size_t)d * xm->nnames, 0,
		       xm->nnames * sizeof(*x->counts));
	}
	if (d == 1) {
		for (i = 0; i < xm->nanchors; i++)
			if (xm->anchors[i].steps[0].name == id)
				break;
		if (i == xm->nanchors)
			return err_at(err, E_PARSE, run->doc->name, ev->line, 0,
				      "the root element is %s%s%s%s, but the mapping reads %s (is this the right mapping, and the right namespace?)",
				      ev->ns ? "{" : "", ev->ns ? ev->ns : "",
				      ev->ns ? "}" : "", ev->local,
				      xm->anchors[0].text);
	}
	if (x->active >= 0) {
		if (tree_start(x, ev, id, err))
			return -1;
	} else if (id >= 0) {
		for (i = 0; i < xm->nanchors; i++)
			if (stack_matches(x, &xm->anchors[i], d))
				break;
		if (i < xm->nanchors) {
			x->active = (int)i;
			x->adepth = d;
			x->rec_line = ev->line;
			x->rec_bytes = 0;
			x->root = x->cur = NULL;
			arena_reset(&x->tree);
			run->scope.seq = xml_reader_elements(x->xr);
			if (tree_start(x, ev, id, err))
				return -1;
		}
	}
	if (id >= 0 && xm->abs_last[id]) {
		for (k = 0; k < x->nabs; k++) {
			const struct xpath *p = &xm->paths[x->absi[k]];
			struct xabs *a = &x->abs[x->absi[k]];
			size_t j;

			if (a->set || a->capturing ||
			    !stack_matches(x, p, d))
				continue;
			a->len = 0;
			if (!p->attr_local) {
				a->capturing = d;
				x->ncapturing++;
				continue;
			}
			for (j = 0; j < ev->nattrs; j++)
				if (attr_match(&ev->attrs[j], p->attr_ns,
					       p->attr_local)) {
					if (abs_put(a, ev->attrs[j].value,
						    ev->attrs[j].len,
						    xm->ro.max_text, err))
						return -1;
					a->set = 1;
					x->ctx_dirty = 1;
					break;
				}
		}
	}
	if (x->active >= 0 && x->rec_bytes > xm->max_record)
		return err_at(err, E_TOOBIG, run->doc->name, x->rec_line, 0,
			      "the record element starting at line %lu is larger than input.max_record (%zu bytes)",
			      x->rec_line, xm->max_record);
	return 0;
}

static int on_text(struct map_run *run, struct xrun *x,
		   const struct xml_event *ev, struct err *err)
{
	const struct xml_map *xm = x->xm;
	size_t i, k;

	if (x->active >= 0 && x->cur) {
		x->rec_bytes += ev->len;
		if (x->rec_bytes > xm->max_record)
			return err_at(err, E_TOOBIG, run->doc->name, x->rec_line, 0,
				      "the record element starting at line %lu is larger than input.max_record (%zu bytes)",
				      x->rec_line, xm->max_record);
		if (tree_text(x, x->cur, ev->text, ev->len, err))
			return -1;
	}
	if (x->ncapturing)
		for (k = 0; k < x->nabs; k++)
			if (x->abs[i = x->absi[k]].capturing &&
			    abs_put(&x->abs[i], ev->text, ev->len,
				    xm->ro.max_text, err)) {
				err_locate(err, run->doc->name, ev->line, 0,
					   NULL);
				return -1;
			}
	return 0;
}

static int on_end(struct map_run *run, struct xrun *x,
		  const struct xml_event *ev, struct err *err)
{
	const struct xml_map *xm = x->xm;
	unsigned d = ev->depth;
	size_t i, k;

	if (x->ncapturing)
		for (k = 0; k < x->nabs; k++)
			if (x->abs[i = x->absi[k]].capturing == d) {
				x->abs[i].capturing = 0;
				x->abs[i].set = 1;
				x->ncapturing--;
				x->ctx_dirty = 1;
			}
	if (x->active >= 0) {
		if (d == x->adepth) {
			int a = x->active;

			run->scope.line = x->rec_line;
			run->scope.index = ++x->nrec[a];
			run->scope.raw = NULL;
			run->scope.raw_len = 0;
			run->scope.raw_fn = xml_raw;
			if (map_scope(run, a, x->ctx_dirty, err))
				return -1;
			x->ctx_dirty = 0;
			x->active = -1;
			x->cur = x->root = NULL;
		} else if (x->cur) {
			x->cur = x->cur->parent;
		}
	}
	if (xm->scope_mask & depth_bit(d))
		for (k = 0; k < x->nabs; k++)
			if (xm->paths[i = x->absi[k]].scope == d) {
				if (x->abs[i].set || x->abs[i].len)
					x->ctx_dirty = 1;
				x->abs[i].set = 0;
				x->abs[i].len = 0;
			}
	return 0;
}

/* What the record held where path id read (map_explain_paths):
 * "cac:Item/cbc:ID is absent in this record", "cbc:ID is present but
 * empty", "@unit: the element is there without the attribute". */
static int xml_describe(struct map_run *run, int id, const char *src,
			size_t srcn, char *out, size_t n)
{
	struct xrun *x = run->drv;
	const struct xpath *p = &x->xm->paths[id];
	struct expr_val v;
	struct err e = ERR_INIT;
	char val[80];
	unsigned col = 0;

	(void)src;
	(void)srcn;
	if (xml_rt_path(run, id, &v, &col, &e))
		return 0;
	if (v.s && v.n) {
		map_explain_value(v.s, v.n, val, sizeof(val));
		snprintf(out, n, "%s holds %s", p->text, val);
	} else if (v.s) {
		snprintf(out, n, "%s is present but empty", p->text);
	} else if (p->absolute) {
		snprintf(out, n, "%s is absent (nothing read for it before "
			 "this record)", p->text);
	} else if (p->attr_local && rel_node(p, x->root)) {
		snprintf(out, n, "%s is absent: the element has no attribute "
			 "%s", p->text, p->attr_local);
	} else {
		snprintf(out, n, "%s is absent in this record", p->text);
	}
	return 1;
}

static int xml_explain(struct map_run *run, const struct map_dloc *dl,
		       char *out, size_t n)
{
	(void)dl; /* the XML path hook keeps no notes: the record is here */
	return map_explain_paths(run, xml_describe, out, n);
}

static int on_event(struct xrun *x, const struct xml_event *ev,
		    struct err *err)
{
	return ev->type == XML_EV_START ? on_start(x->run, x, ev, err)
	       : ev->type == XML_EV_END ? on_end(x->run, x, ev, err)
					: on_text(x->run, x, ev, err);
}

static int xml_run_doc(struct map_run *run, struct err *err)
{
	const struct mapping *m = run->m;
	const struct xml_map *xm = m->drv;
	struct xrun *x = calloc(1, sizeof(*x));
	const struct xml_event *ev;
	size_t i, nn;
	int fd = -1, rc = -1, n;

	if (!x)
		return err_set(err, E_NOMEM, "out of memory");
	x->xm = xm;
	x->run = run;
	x->ctx_dirty = 1;
	x->active = -1;
	x->max_depth = xm->ro.max_depth;
	nn = xm->nnames ? xm->nnames : 1;
	arena_init(&x->tree, 16384, 0);
	buf_init(&x->raw, 4 * xm->max_record + 4096);
	x->lvl_name = calloc(x->max_depth + 2, sizeof(*x->lvl_name));
	x->lvl_pos = calloc(x->max_depth + 2, sizeof(*x->lvl_pos));
	x->counts = calloc((size_t)(x->max_depth + 2) * nn, sizeof(*x->counts));
	x->abs = calloc(xm->npaths + 1, sizeof(*x->abs));
	x->absi = calloc(xm->npaths + 1, sizeof(*x->absi));
	if (!x->lvl_name || !x->lvl_pos || !x->counts || !x->abs || !x->absi) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < xm->npaths; i++)
		if (xm->paths[i].absolute)
			x->absi[x->nabs++] = (unsigned)i;
	run->drv = x;
	run->path = xml_rt_path;
	run->explain = xml_explain;
	/* XML text and attribute values hold no NUL: U+0000 is no XML
	 * character, libxml2 fails the document at a raw one or at &#0;
	 * before any callback sees it (t_xml_reader xml_nul_never_read),
	 * so the record keeps each value's length as for CSV */
	run->nul_free = 1;
	fd = open(run->doc->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(err, "open %s", run->doc->path);
		goto cleanup;
	}
	if (xml_reader_open_fd(&x->xr, fd, run->doc->name, &xm->ro, err))
		goto cleanup;
	/* Pulled a chunk's events at a time: calling the mapping from the
	 * parser's callbacks ran fewer instructions but took more CPU time
	 * (docs/performance.md). */
	while ((n = xml_reader_next(x->xr, &ev, err)) == 1)
		if (on_event(x, ev, err))
			goto cleanup;
	if (n < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (rc && !err->file[0])
		err_locate(err, run->doc->name,
			   x->active >= 0 ? x->rec_line : 0, 0, NULL);
	xml_reader_free(x->xr);
	if (fd >= 0)
		close(fd);
	if (x->abs)
		for (i = 0; i < xm->npaths; i++)
			free(x->abs[i].buf);
	free(x->abs);
	free(x->absi);
	free(x->lvl_name);
	free(x->lvl_pos);
	free(x->counts);
	buf_release(&x->raw);
	arena_release(&x->tree);
	free(x);
	run->drv = NULL;
	run->nul_free = 0;
	run->explain = NULL;
	return rc;
}

/* explode: Stores/Store - the path of a repeated element below the
 * record element: one scope per element (mapping_explode.c). */
static int xml_explode_path(struct mapping *m, const char *s, size_t n,
			    int *id, char *msg, size_t msgn)
{
	struct xml_map *xm = m->drv;
	int used = xml_path(m, s, n, id, msg, msgn);

	if (used < 0)
		return -1;
	if (!used || xm->paths[*id].absolute || xm->paths[*id].attr_local ||
	    !xm->paths[*id].nsteps) {
		snprintf(msg, msgn,
			 "explode: is the path of a repeated element below the record (./Store, Stores/Store, cac:Store) or a value and a split (./Stores | split(\",\"))");
		return -1;
	}
	return used;
}

/* Calls back for the elements path id finds below the record element:
 * the first (or [N]th) of each step but the last, every one of the
 * last. Returns the count; *kth the k-th (1-based) when k > 0. */
static size_t each_item(const struct xrun *x, int id, size_t k,
			const struct xnode **kth)
{
	const struct xpath *p = &x->xm->paths[id];
	struct xpath head = *p;
	const struct xnode *nd, *c;
	const struct xstep *last = &p->steps[p->nsteps - 1];
	size_t n = 0;
	unsigned seen = 0;

	head.nsteps = p->nsteps - 1;
	head.attr_local = NULL;
	nd = x->root ? rel_node(&head, x->root) : NULL;
	for (c = nd ? nd->first : NULL; c; c = c->next) {
		if (c->name != last->name)
			continue;
		seen++;
		if (last->pos && seen != last->pos)
			continue;
		if (++n == k)
			*kth = c;
	}
	return n;
}

static size_t xml_explode_count(struct map_run *run, int id)
{
	return each_item(run->drv, id, 0, NULL);
}

static int xml_explode_select(struct map_run *run, int id, size_t k,
			      struct expr_val *text, struct err *err)
{
	struct xrun *x = run->drv;
	const struct xnode *nd = NULL;
	char *t;
	size_t n;

	text->s = NULL;
	text->n = 0;
	x->xitem = NULL;
	if (!k || each_item(x, id, k, &nd) < k || !nd)
		return 0;
	x->xitem = nd;
	/* the element's text lives in the record's arena, through all
	 * the scopes of this record (the row arena is reset per scope) */
	n = text_len(nd);
	if (!(t = arena_alloc(&x->tree, n + 1)))
		return err_set(err, E_NOMEM, "out of memory");
	text_copy(nd, t);
	t[n] = '\0';
	text->s = t;
	text->n = n;
	return 0;
}

const struct map_driver map_driver_xml = {
	"xml",
	",format,namespaces,encoding,allow_doctype,max_depth,max_text,max_name,max_record,",
	xml_compile_input,
	xml_path,
	xml_each,
	xml_finish,
	xml_run_doc,
	xml_free,
	xml_explode_path,
	xml_explode_count,
	xml_explode_select,
	NULL, /* path_dep: none kept per context (yet) */
};
