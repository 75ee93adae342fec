/* xml_reader.h - streaming XML events for untrusted documents.
 *
 * Built on libxml2's SAX2 push parser (never a tree, never a whole DOM):
 * the reader read()s the file descriptor in fixed chunks (so no filename
 * API ever gunzips or unxzes behind our back), hands each to
 * xmlParseChunk, and queues the events of one chunk (bounded memory: a
 * chunk's events plus one text node of at most max_text bytes). The
 * parser options are fixed: XML_PARSE_NONET, never NOENT, DTDLOAD,
 * DTDATTR, DTDVALID, XINCLUDE, RECOVER or HUGE; an external entity loader
 * and a SAX resolveEntity that refuse everything are installed, so no
 * file or URL named by a document is ever opened.
 *
 * A document with a DOCTYPE is refused by default: the prolog is scanned
 * as it streams and the read stops at "<!DOCTYPE" before libxml2 parses
 * the internal subset (so entity bombs never reach the parser); libxml2's
 * internalSubset callback is the second line for encodings the byte scan
 * cannot see (UTF-16). With allow_doctype the DTD is parsed but never
 * loaded, and any entity reference other than the five predefined ones
 * fails the document where libxml2 looks it up, before it parses the
 * entity's text (entities are never expanded).
 *
 * Declared encodings are honoured (libxml2 converts to UTF-8); a byte
 * that is invalid for the encoding fails the document at line:col.
 * Depth, text node size and name size are bounded. All errors are
 * collected through a structured handler (nothing is printed) and carry
 * file:line:col.
 */
#ifndef STOCKPIPE_XML_READER_H
#define STOCKPIPE_XML_READER_H

#include <stddef.h>

#include "lib/err.h"

struct xml_reader_opts {
	unsigned max_depth;      /* element nesting; 0 = 128 */
	size_t max_text;         /* bytes of one text node; 0 = 1 MiB
				  * (libxml2 caps at 10,000,000) */
	size_t max_name;         /* bytes of an element/attribute name; 0 = 1000 */
	unsigned max_attrs;      /* attributes per element; 0 = 256 */
	int allow_doctype;       /* accept (never load) a DOCTYPE */
	const char *encoding;    /* override the declared encoding; NULL = as declared */
};

void xml_reader_opts_init(struct xml_reader_opts *o);

enum xml_ev_type { XML_EV_START = 1, XML_EV_END, XML_EV_TEXT };

struct xml_attr {
	const char *ns;          /* namespace URI, NULL for none */
	const char *local;
	const char *qname;       /* as written, prefix:local */
	const char *value;       /* NUL-terminated, UTF-8 */
	size_t len;
};

/* Names (ns, local, qname) are interned in libxml2's dictionary: the
 * same name is the same pointer for the reader's lifetime, so callers may cache by
 * pointer. Everything else is valid until the next xml_reader_next(). */
struct xml_event {
	enum xml_ev_type type;
	const char *ns;          /* START/END: namespace URI, NULL for none */
	const char *local;
	const char *qname;
	size_t qlen;             /* START/END: strlen(qname) */
	unsigned depth;          /* 1 = the root element */
	unsigned long line;      /* START: line of the start tag; TEXT: its line */
	const struct xml_attr *attrs;   /* START */
	size_t nattrs;
	const char *text;        /* TEXT: UTF-8, NUL-terminated (whitespace-only
				  * text between elements is not reported) */
	size_t len;
};

struct xml_reader;

/* Starts reading fd (not closed by the reader). name is used in messages
 * (borrowed). Returns 0 or -1 with err (E_NOMEM). */
int xml_reader_open_fd(struct xml_reader **out, int fd, const char *name,
		       const struct xml_reader_opts *opts, struct err *err);

/* Returns 1 with *ev set, 0 at the end of a well-formed document, or -1
 * with err at name:line:col (E_PARSE malformed/refused, E_TOOBIG a bound,
 * E_IO a read error, E_NOMEM). After -1 the reader is done. */
int xml_reader_next(struct xml_reader *r, const struct xml_event **ev,
		    struct err *err);

/* Elements started so far (1 = the root). */
unsigned long xml_reader_elements(const struct xml_reader *r);

void xml_reader_free(struct xml_reader *r);

#endif
