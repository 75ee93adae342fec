/* outbound_xml.c - XML output of outbound mappings: an XML declaration, a
 * root element with its namespace declarations and attributes (envelope
 * expressions: $now, $rows, $target...), one record element per row whose
 * columns are child elements or, named "@name", attributes of the record.
 * An absent value leaves its element or attribute out; an empty one is
 * written empty. Text is escaped (&amp; &lt; &gt;, and &quot; &#9; &#10;
 * &#13; in attributes); characters XML 1.0 cannot carry (control
 * characters, invalid UTF-8) fail the row naming it and the column. */
#include "outbound_int.h"

#include <stdio.h>
#include <string.h>

/* NCName, or prefix:NCName when qname. Returns the prefix length (0 when
 * none) or -1 when s is not a name. */
static int xml_name(const char *s, int qname)
{
	const unsigned char *p = (const unsigned char *)s;
	int colon = 0, start = 1, plen = 0;

	if (!*p)
		return -1;
	for (; *p; p++) {
		int letter = (*p >= 'a' && *p <= 'z') ||
			     (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			     *p >= 0x80;
		int other = (*p >= '0' && *p <= '9') || *p == '-' || *p == '.';

		if (*p == ':' && qname && !colon && !start) {
			colon = 1;
			start = 1;
			plen = (int)((const char *)p - s);
			continue;
		}
		if (!(letter || (!start && other)))
			return -1;
		start = 0;
	}
	return start ? -1 : plen;
}

/* Checks a (q)name written at node n and that its prefix is declared. */
static int check_name(struct outbound *o, const struct ynode *n,
		      const char *name, const char *what, struct err *err)
{
	const struct ob_xml *x = &o->xml;
	int pl = xml_name(name, 1);
	unsigned i;

	if (pl < 0)
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "'%s' is not an XML name (%s)", name, what);
	if (!pl || (pl == 3 && !strncmp(name, "xml", 3)))
		return 0;
	for (i = 0; i < x->nns; i++)
		if (strlen(x->ns_prefix[i]) == (size_t)pl &&
		    !strncmp(x->ns_prefix[i], name, (size_t)pl))
			return 0;
	return ynode_err(o->yt, n, err, E_CONFIG,
			 "namespace prefix '%.*s' of '%s' is not declared under xml: namespaces:",
			 pl, name, name);
}

int ob_xml_load(struct outbound *o, const struct ynode *root,
		struct err *err)
{
	static const char *const known[] = {"root", "record", "namespace",
					    "namespaces", "attributes",
					    "indent", NULL};
	struct ob_xml *x = &o->xml;
	const struct ynode *m = ynode_get(root, "xml"), *n, *cols;
	size_t i, j;

	if (!m || m->type != Y_MAP)
		return ynode_err(o->yt, m ? m : root, err, E_CONFIG,
				 "format xml needs xml: { root: NAME, record: NAME } (docs/mapping.md, section 10)");
	for (i = 0; i < m->n; i += 2) {
		for (j = 0; known[j] && strcmp(known[j], m->items[i]->value);
		     j++)
			;
		if (!known[j])
			return ynode_err(o->yt, m->items[i], err, E_CONFIG,
					 "unknown key '%s' in xml: (root, record, namespace, namespaces, attributes, indent)",
					 m->items[i]->value);
	}
	if ((n = ynode_get(m, "namespace"))) {
		if (n->type != Y_SCALAR || !n->len)
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "namespace: is the default namespace URI");
		x->default_ns = n->value;
	}
	if ((n = ynode_get(m, "namespaces"))) {
		if (n->type != Y_MAP || n->n / 2 > 16)
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "namespaces: is a map of up to 16 prefix: URI");
		for (i = 0; i < n->n; i += 2) {
			const struct ynode *k = n->items[i], *v = n->items[i + 1];

			if (xml_name(k->value, 0) < 0 ||
			    !strncmp(k->value, "xml", 3))
				return ynode_err(o->yt, k, err, E_CONFIG,
						 "'%s' is not a namespace prefix",
						 k->value);
			if (v->type != Y_SCALAR || !v->len)
				return ynode_err(o->yt, v, err, E_CONFIG,
						 "the namespace of '%s' is a URI",
						 k->value);
			x->ns_prefix[x->nns] = k->value;
			x->ns_uri[x->nns++] = v->value;
		}
	}
	n = ynode_get(m, "root");
	if (!n || n->type != Y_SCALAR)
		return ynode_err(o->yt, n ? n : m, err, E_CONFIG,
				 "xml: needs root: (the document element's name)");
	if (check_name(o, n, n->value, "root:", err))
		return -1;
	x->root = n->value;
	n = ynode_get(m, "record");
	if (!n || n->type != Y_SCALAR)
		return ynode_err(o->yt, n ? n : m, err, E_CONFIG,
				 "xml: needs record: (the element written per row)");
	if (check_name(o, n, n->value, "record:", err))
		return -1;
	x->record = n->value;
	x->indent = 1;
	if ((n = ynode_get(m, "indent"))) {
		if (n->type == Y_SCALAR && !strcmp(n->value, "false"))
			x->indent = 0;
		else if (n->type != Y_SCALAR || strcmp(n->value, "true"))
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "indent: is true or false");
	}
	if ((n = ynode_get(m, "attributes"))) {
		if (n->type != Y_MAP || n->n / 2 > 16)
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "attributes: is a map of up to 16 name: expression (the root's attributes)");
		for (i = 0; i < n->n; i += 2) {
			const struct ynode *k = n->items[i], *v = n->items[i + 1];
			struct expr_scope sc;

			if (check_name(o, k, k->value, "attribute", err))
				return -1;
			if (!strncmp(k->value, "xmlns", 5))
				return ynode_err(o->yt, k, err, E_CONFIG,
						 "declare namespaces under namespace:/namespaces:, not as attributes");
			if (v->type != Y_SCALAR)
				return ynode_err(o->yt, v, err, E_CONFIG,
						 "an attribute's value is an expression");
			ob_scope_env(o, &sc, v);
			if (expr_compile(&o->pool, &sc, v->value, v->len, 0,
					 &x->attrs[x->nattrs].e, err))
				return -1;
			x->attrs[x->nattrs++].name = k->value;
		}
	}
	cols = ynode_get(root, "columns");
	for (i = 0; cols && i < cols->n && i < o->ncols; i++) {
		const struct ynode *nm = ynode_get(cols->items[i], "name");
		const char *name = o->cols[i].name + o->cols[i].attr;

		if (check_name(o, nm, name,
			       o->cols[i].attr ? "an attribute of the record"
					       : "a child element of the record",
			       err))
			return -1;
	}
	return 0;
}

struct xw {
	const struct outbound *o;
	const struct ob_row *row;
	struct buf *out;
	struct err *err;
};

/* Escaped text (attr: attribute value). Fails on what XML 1.0 cannot
 * carry. */
/* 1 when c is written as it is (no entity, no UTF-8 check): printable
 * ASCII but & < > (and " in an attribute), and tab and newline in text. */
static int xml_plain(unsigned char c, int attr)
{
	if (c >= 0x80 || c == '&' || c == '<' || c == '>')
		return 0;
	if (c < 0x20)
		return !attr && (c == '\t' || c == '\n');
	return !attr || c != '"';
}

static int xml_text(struct xw *w, const char *s, size_t n, int attr,
		    const char *field, unsigned long line, unsigned col)
{
	size_t i = 0, l;
	unsigned cp;

	while (i < n) {
		unsigned char c;
		const char *bad = NULL;

		/* Most text needs no escape: the run up to the next byte
		 * that does is added at once, not byte by byte (every value
		 * of every row passes here). */
		for (l = i; l < n && xml_plain((unsigned char)s[l], attr); l++)
			;
		if (l > i) {
			buf_add(w->out, s + i, l - i);
			i = l;
			if (i == n)
				break;
		}
		c = (unsigned char)s[i];
		if (c >= 0x80) {
			if (!(l = utf8_char((const unsigned char *)s + i, n - i,
					  &cp)))
				bad = "is not valid UTF-8";
			else if (cp == 0xFFFE || cp == 0xFFFF)
				bad = "has a character XML cannot carry";
			if (bad)
				goto fail;
			buf_add(w->out, s + i, l);
			i += l;
			continue;
		}
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			bad = "has a control character XML 1.0 cannot carry";
			goto fail;
		}
		if (c == '&')
			buf_adds(w->out, "&amp;");
		else if (c == '<')
			buf_adds(w->out, "&lt;");
		else if (c == '>')
			buf_adds(w->out, "&gt;");
		else if (c == '"' && attr)
			buf_adds(w->out, "&quot;");
		else if (c == '\t' && attr)
			buf_adds(w->out, "&#9;");
		else if (c == '\n' && attr)
			buf_adds(w->out, "&#10;");
		else if (c == '\r')
			buf_adds(w->out, "&#13;");
		else
			buf_addc(w->out, (char)c);
		i++;
		continue;
	fail : {
		char who[300];

		ob_row_name(w->row, who, sizeof(who));
		err_at(w->err, E_MAP, w->o->path, line, col,
		       "%s: value '%.*s' %s", who, (int)(n > 80 ? 80 : n), s,
		       bad);
		err_locate(w->err, NULL, 0, 0, field);
		return -1;
	}
	}
	return 0;
}

int ob_xml_header(const struct outbound *o, const struct outbound_env *env,
		  struct buf *out, struct err *err)
{
	const struct ob_xml *x = &o->xml;
	struct ob_envvals ev;
	struct ob_row row = {o, NULL, NULL, NULL};
	struct xw w = {o, &row, out, err};
	struct expr_rt rt;
	struct arena a;
	unsigned i;
	int rc = 0;

	ob_envvals(env, &ev);
	row.vars = ev.v;
	buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
	buf_adds(out, x->root);
	if (x->default_ns) {
		buf_adds(out, " xmlns=\"");
		if (xml_text(&w, x->default_ns, strlen(x->default_ns), 1,
			     "namespace", 0, 0))
			return -1;
		buf_addc(out, '"');
	}
	for (i = 0; i < x->nns; i++) {
		buf_addf(out, " xmlns:%s=\"", x->ns_prefix[i]);
		if (xml_text(&w, x->ns_uri[i], strlen(x->ns_uri[i]), 1,
			     x->ns_prefix[i], 0, 0))
			return -1;
		buf_addc(out, '"');
	}
	arena_init(&a, 1024, 1 << 20);
	ob_rt_init(&rt, &row, &a);
	for (i = 0; i < x->nattrs && !rc; i++) {
		struct expr_val v;

		if (expr_eval(x->attrs[i].e, &rt, &v, err)) {
			err_locate(err, o->path, 0, 0, x->attrs[i].name);
			rc = -1;
			break;
		}
		if (!v.s)
			continue;
		buf_addf(out, " %s=\"", x->attrs[i].name);
		rc = xml_text(&w, v.s, v.n, 1, x->attrs[i].name, 0, 0);
		buf_addc(out, '"');
	}
	arena_release(&a);
	if (rc)
		return -1;
	buf_adds(out, ">\n");
	if (out->err)
		return err_set(err, out->err, "XML header too long");
	return 0;
}

int ob_xml_footer(const struct outbound *o, struct buf *out,
		  struct err *err)
{
	buf_addf(out, "</%s>\n", o->xml.root);
	if (out->err)
		return err_set(err, out->err, "XML footer too long");
	return 0;
}

int ob_xml_row(const struct outbound *o, const struct ob_row *row,
	       const struct expr_val *v, struct buf *out, struct err *err)
{
	const struct ob_xml *x = &o->xml;
	struct xw w = {o, row, out, err};
	size_t i;
	int children = 0;

	if (x->indent)
		buf_adds(out, "  ");
	buf_addc(out, '<');
	buf_adds(out, x->record);
	for (i = 0; i < o->ncols; i++) {
		const struct ob_col *c = &o->cols[i];

		if (!c->attr || !v[i].s)
			continue;
		/* Per row and column: no format string (buf_addf was 5 %
		 * of a render's instructions). */
		buf_addc(out, ' ');
		buf_adds(out, c->name + 1);
		buf_add(out, "=\"", 2);
		if (xml_text(&w, v[i].s, v[i].n, 1, c->name, c->line, c->col))
			return -1;
		buf_addc(out, '"');
	}
	for (i = 0; i < o->ncols; i++) {
		const struct ob_col *c = &o->cols[i];

		if (c->attr || !v[i].s)
			continue;
		if (!children++)
			buf_adds(out, x->indent ? ">\n" : ">");
		buf_adds(out, x->indent ? "    <" : "<");
		buf_adds(out, c->name);
		if (!v[i].n) {
			buf_adds(out, x->indent ? "/>\n" : "/>");
			continue;
		}
		buf_addc(out, '>');
		if (xml_text(&w, v[i].s, v[i].n, 0, c->name, c->line, c->col))
			return -1;
		buf_add(out, "</", 2);
		buf_adds(out, c->name);
		buf_adds(out, x->indent ? ">\n" : ">");
	}
	if (children) {
		buf_adds(out, x->indent ? "  </" : "</");
		buf_adds(out, x->record);
		buf_add(out, ">\n", 2);
	} else {
		buf_adds(out, "/>\n");
	}
	if (out->err)
		return err_set(err, out->err, "output line too long");
	return 0;
}
