/* fuzz_edi.h - the body shared by fuzz_x12.c and fuzz_edifact.c: one
 * reader driven to its end over a memfd, every event checked.
 *
 * Option byte (first input byte; the rest is the document):
 *	bits 0-2  read chunk (fz_chunk_from_bits: 0 = whole reads)
 *	bits 3-4  max_segment: default 64 KiB, 64, 300, 4096
 *	bit  5    no_hash
 * Invariants: every token of a segment lies inside its data and is
 * NUL-terminated, elements have at least one token in (repeat, component)
 * order, the tag is NUL-terminated, issues have a known severity/code;
 * when the reader ends cleanly the end events balance the units the
 * reader counted (sets, groups, interchanges) and the issue/error totals
 * match the ISSUE events; after the end or an error no call is made.
 */
#ifndef STOCKPIPE_FUZZ_EDI_H
#define STOCKPIPE_FUZZ_EDI_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "transforms/formats/edi.h"
#include "fuzz.h"

struct fz_edi_ops {
	int (*open_fd)(void **r, int fd, const char *name,
		       const struct edi_opts *o, struct err *err);
	int (*next)(void *r, struct edi_event *ev, struct err *err);
	void (*stats)(const void *r, unsigned long *nissues,
		      unsigned long *nerrors, unsigned long *nic,
		      unsigned long *ngroups, unsigned long *nsets);
	void (*free_)(void *r);
};

static void fz_edi_check_seg(const struct edi_seg *s)
{
	unsigned e, r, c;
	size_t i;

	FZ_CHECK(memchr(s->tag, '\0', sizeof(s->tag)) != NULL);
	FZ_CHECK(s->elem_first[0] == 0);
	FZ_CHECK(s->elem_first[s->nelem + 1] == s->ntok);
	for (e = 0; e <= s->nelem; e++) {
		FZ_CHECK(s->elem_first[e] < s->elem_first[e + 1]);
		for (i = s->elem_first[e]; i < s->elem_first[e + 1]; i++) {
			const struct edi_tok *t = &s->tok[i];

			FZ_CHECK(t->elem == e && t->rep >= 1 && t->comp >= 1);
			FZ_CHECK(s->data[t->off + t->len] == '\0');
			if (i > s->elem_first[e]) {
				const struct edi_tok *p = t - 1;

				FZ_CHECK(p->rep < t->rep ||
					 (p->rep == t->rep && p->comp < t->comp));
			}
		}
	}
	/* The accessors agree with the token table. */
	for (e = 0; e <= s->nelem && e < 64; e++) {
		unsigned nrep = edi_seg_nrep(s, e);

		FZ_CHECK(nrep >= 1);
		for (r = 1; r <= nrep && r < 16; r++) {
			unsigned nc = edi_seg_ncomp(s, e, r);

			for (c = 1; c <= nc && c < 16; c++) {
				size_t len = 0;
				const char *v = edi_seg_value_len(s, e, r, c,
								  &len);
				if (v)
					FZ_CHECK(v[len] == '\0');
			}
		}
	}
	FZ_CHECK(edi_seg_value(s, s->nelem + 1, 1, 1) == NULL);
	FZ_CHECK(edi_seg_nrep(s, s->nelem + 1) == 0);
	(void)edi_seg_str(s, 1);
}

static int fz_edi_run(const struct fz_edi_ops *ops, const uint8_t *data,
		      size_t size)
{
	static const size_t maxseg[4] = { 0, 64, 300, 4096 };
	struct edi_opts o;
	struct err err = ERR_INIT;
	struct edi_event ev;
	unsigned long sets = 0, groups = 0, ics = 0, issues = 0, errors = 0;
	unsigned long nissues, nerrors, nic, ngroups, nsets;
	void *r = NULL;
	char line[1024];
	unsigned opt;
	int fd, rc;

	if (size < 1)
		return 0;
	opt = data[0];
	(void)edi_sniff(data + 1, size - 1);
	memset(&o, 0, sizeof(o));
	o.max_segment = maxseg[(opt >> 3) & 3];
	o.no_hash = (opt >> 5) & 1;
	fd = fz_memfd(data + 1, size - 1);
	FZ_CHECK(fd >= 0);
	fz_set_chunk(fd, fz_chunk_from_bits(opt));
	if (ops->open_fd(&r, fd, "fuzz.edi", &o, &err)) {
		FZ_CHECK(err.code != E_NONE);
		close(fd);
		return 0;
	}
	while ((rc = ops->next(r, &ev, &err)) == 1) {
		FZ_CHECK(ev.ctx != NULL);
		switch (ev.kind) {
		case EDI_EV_SEGMENT:
			FZ_CHECK(ev.seg != NULL);
			fz_edi_check_seg(ev.seg);
			break;
		case EDI_EV_ISSUE:
			FZ_CHECK(ev.issue != NULL);
			FZ_CHECK(ev.issue->severity == EDI_WARNING ||
				 ev.issue->severity == EDI_ERROR);
			FZ_CHECK(ev.issue->code >= EDI_I_BAD_HEADER &&
				 ev.issue->code <= EDI_I_NOTE);
			FZ_CHECK(memchr(ev.issue->reason, '\0',
					sizeof(ev.issue->reason)) != NULL);
			issues++;
			if (ev.issue->severity == EDI_ERROR)
				errors++;
			edi_issue_format(ev.issue, "fuzz.edi", line,
					 sizeof(line));
			break;
		case EDI_EV_SET_END:
			sets++;
			break;
		case EDI_EV_GROUP_END:
			groups++;
			break;
		case EDI_EV_IC_END:
			ics++;
			break;
		default:
			FZ_CHECK(!"unknown event kind");
		}
	}
	ops->stats(r, &nissues, &nerrors, &nic, &ngroups, &nsets);
	FZ_CHECK(nerrors <= nissues);
	if (rc == 0) {
		/* A clean end: every issue was delivered, every unit the
		 * reader opened was closed by an end event. */
		FZ_CHECK(err.code == E_NONE);
		FZ_CHECK(issues == nissues && errors == nerrors);
		FZ_CHECK(ics == nic);
		FZ_CHECK(groups == ngroups);
		FZ_CHECK(sets == nsets);
	} else {
		FZ_CHECK(rc == -1 && err.code != E_NONE);
	}
	ops->free_(r);
	fz_set_chunk(-1, 0);
	close(fd);
	return 0;
}

#endif
