/* sniff_int.h - shared between sniff.c (head, CSV, dispatch) and
 * sniff_doc.c (X12/EDIFACT and XML analysis). Not for other modules.
 */
#ifndef STOCKPIPE_SNIFF_INT_H
#define STOCKPIPE_SNIFF_INT_H

#include "transforms/formats/sniff.h"

/* Longest sample value kept; a longer one is cut and ends in "..." so the
 * cut shows. */
#define SNIFF_SAMPLE_MAX 120

/* Arena copy of s[0..n) cut to SNIFF_SAMPLE_MAX bytes (at a UTF-8
 * character boundary) with "..." appended when cut; NULL when out of
 * memory. */
char *sniff_sample_dup(struct arena *a, const char *s, size_t n);

/* The whole-file passes of sniff_doc.c: 0, or -1 with err (E_IO,
 * E_NOMEM); a file that is not valid still returns 0 with s->valid = 0. */
int sniff_doc_edi(struct sniff *s, int fd, const struct sniff_opts *o,
		  struct err *err);
int sniff_doc_xml(struct sniff *s, int fd, const struct sniff_opts *o,
		  const unsigned char *head, size_t n, struct err *err);

#endif
