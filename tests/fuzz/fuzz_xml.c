/* fuzz_xml.c - libFuzzer harness for the streaming XML reader
 * (xml_reader.h) with the production options. Corpus: tests/corpus/xml/.
 *
 * Option byte (first input byte; the rest is the document):
 *	bits 0-2  read chunk (fz_chunk_from_bits)
 *	bit  3    allow_doctype
 *	bit  4    tight bounds (depth 8, text 256, name 32, attrs 4)
 *	bits 5-6  encoding override: none, ISO-8859-1, UTF-16, none
 * Invariants: START/END balance and their depth matches our own stack,
 * END names the element START opened, text has the length it says and no
 * NUL, attributes are NUL-terminated; a clean end closes the root and
 * xml_reader_elements() counts the START events; an error carries a code
 * and no event follows it.
 */
#include <string.h>
#include <unistd.h>

#include "transforms/formats/xml_reader.h"
#include "fuzz.h"

#define STACK 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const enc[4] = { NULL, "ISO-8859-1", "UTF-16",
					    NULL };
	const char *stack[STACK];
	struct xml_reader_opts o;
	struct xml_reader *r = NULL;
	const struct xml_event *ev;
	struct err err = ERR_INIT;
	unsigned long starts = 0;
	unsigned depth = 0, opt;
	int fd, rc;

	if (size < 1)
		return 0;
	opt = data[0];
	xml_reader_opts_init(&o);
	o.allow_doctype = (opt >> 3) & 1;
	if ((opt >> 4) & 1) {
		o.max_depth = 8;
		o.max_text = 256;
		o.max_name = 32;
		o.max_attrs = 4;
	}
	o.encoding = enc[(opt >> 5) & 3];
	fd = fz_memfd(data + 1, size - 1);
	FZ_CHECK(fd >= 0);
	fz_set_chunk(fd, fz_chunk_from_bits(opt));
	if (xml_reader_open_fd(&r, fd, "fuzz.xml", &o, &err)) {
		FZ_CHECK(err.code != E_NONE);
		fz_set_chunk(-1, 0);
		close(fd);
		return 0;
	}
	while ((rc = xml_reader_next(r, &ev, &err)) == 1) {
		size_t i;

		switch (ev->type) {
		case XML_EV_START:
			FZ_CHECK(ev->local && ev->qname);
			FZ_CHECK(depth < STACK && depth < o.max_depth);
			stack[depth++] = ev->qname;
			FZ_CHECK(ev->depth == depth);
			starts++;
			FZ_CHECK(ev->nattrs <= o.max_attrs);
			for (i = 0; i < ev->nattrs; i++) {
				const struct xml_attr *a = &ev->attrs[i];

				FZ_CHECK(a->local && a->qname && a->value);
				FZ_CHECK(strlen(a->value) == a->len);
			}
			break;
		case XML_EV_END:
			FZ_CHECK(depth > 0 && ev->depth == depth);
			/* Names are interned: the same pointer. */
			FZ_CHECK(ev->qname == stack[depth - 1]);
			depth--;
			break;
		case XML_EV_TEXT:
			FZ_CHECK(depth > 0 && ev->text);
			FZ_CHECK(strlen(ev->text) == ev->len);
			FZ_CHECK(ev->len <= o.max_text);
			break;
		default:
			FZ_CHECK(!"unknown event type");
		}
	}
	if (rc == 0) {
		FZ_CHECK(err.code == E_NONE);
		FZ_CHECK(depth == 0 && starts > 0);
		FZ_CHECK(xml_reader_elements(r) == starts);
	} else {
		struct err err2 = ERR_INIT;

		FZ_CHECK(rc == -1 && err.code != E_NONE);
		/* "After -1 the reader is done": no event after an error. */
		FZ_CHECK(xml_reader_next(r, &ev, &err2) != 1);
	}
	xml_reader_free(r);
	fz_set_chunk(-1, 0);
	close(fd);
	return 0;
}
