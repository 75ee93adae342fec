/* edi_peek.h - what routes select an EDI document by (pipeline routes:
 * message:, version:, sender:, docs/configuration.md): the first
 * message's type and version and the sender, read with the real readers
 * from the start of the file and bounded (EDI_PEEK_MAX_SEGMENTS), so a
 * route never reads a whole file before the map stage does. */
#ifndef STOCKPIPE_EDI_PEEK_H
#define STOCKPIPE_EDI_PEEK_H

#include "lib/err.h"

#define EDI_PEEK_MAX_SEGMENTS 2000

struct edi_peek {
	int format;             /* EDI_FMT_X12 / EDI_FMT_EDIFACT; 0 none */
	char message[8];        /* the first set's ST01 / UNH 0065 */
	char version[24];       /* X12 GS08 (ST03, ISA12 without GS);
				 * EDIFACT 0052 and 0054 joined: D96A */
	char sender[40];        /* ISA06 / UNB 0004 */
	char grp_sender[40];    /* GS02 / UNG 0040; "" without a group */
	/* other message types of the file within the bound, comma
	 * separated (for the warning that a route took the first) */
	char others[64];
	unsigned nsets;         /* sets seen within the bound */
	int bounded;            /* the bound was reached before the end */
};

/* Peeks at the file at path, which sniffed as format (EDI_FMT_X12 or
 * EDI_FMT_EDIFACT). Returns 0 (out->message "" when no set was found
 * within the bound), or -1 with err when the file cannot be read. */
int edi_peek_file(const char *path, int format, struct edi_peek *out,
		  struct err *err);

#endif
