/* edi_ack.h - functional acknowledgments of received EDI: X12 997/999 per
 * functional group, EDIFACT CONTRL per interchange.
 *
 * The collector takes the syntax verdicts the mapping driver reports
 * (mapping_run_verdicts(), struct mapping_verdict) for one document and
 * keeps, per interchange, group and set, what an acknowledgment needs:
 * the envelope values, whether the unit was accepted, and the first error
 * with its standard code and location. Memory: one small record per set.
 * Skipped interchanges (duplicates the interchange ledger recognised) and
 * X12 DEX files (no functional group) are not acknowledged.
 *
 * edi_ack_render() then writes one acknowledgment document, with the
 * inbound envelope's own version, the sender and receiver reversed and
 * the given control number, in the standard's syntax (see docs/mapping.md
 * "Acknowledgments" for the segments and codes). Pure functions: the
 * pipeline records and publishes the result (pipeline/run.c).
 */
#ifndef STOCKPIPE_EDI_ACK_H
#define STOCKPIPE_EDI_ACK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "transforms/mapping/mapping.h"

/* Which X12 acknowledgment: by the group's version (GS08 005010... ->
 * 999, else 997), always 997, always 999, or none. */
enum { EDI_ACK_X12_AUTO = 0, EDI_ACK_997, EDI_ACK_999, EDI_ACK_X12_NONE };

struct edi_ack_coll;

int edi_ack_new(struct edi_ack_coll **out, int x12_kind, int edifact_on,
		struct err *err);
void edi_ack_free(struct edi_ack_coll *c);

/* The verdict callback for mapping_run_verdicts() (ud = the collector). */
int edi_ack_verdict(void *ud, const struct mapping_verdict *v,
		    struct err *err);

/* One acknowledgment to send: an X12 group or an EDIFACT interchange. */
struct edi_ack_key {
	const char *format;    /* "x12" or "edifact" */
	const char *sender;    /* the inbound interchange's sender */
	const char *receiver;  /* ... and receiver */
	const char *control;   /* ... and control number (ISA13, UNB05) */
	const char *group;     /* X12: GS06; EDIFACT: "" */
	const char *type;      /* "997", "999" or "CONTRL" */
	char counter[160];     /* state counter of our control numbers to
				* this partner (shared with outbound EDI:
				* "x12:OURQ:OURID:THEIRQ:THEIRID") */
	char partner[40];      /* the partner's id for file names */
	unsigned long sets, accepted; /* sets/messages received, accepted */
};

size_t edi_ack_count(const struct edi_ack_coll *c);
/* Key of acknowledgment i (valid until the collector is freed). */
void edi_ack_key(const struct edi_ack_coll *c, size_t i,
		 struct edi_ack_key *k);
/* Appends acknowledgment i with interchange control number control (>= 1;
 * X12 ISA13 and GS06, EDIFACT UNB05), dated at (UTC). *name receives the
 * file name "997_PARTNER_000000001.x12" / "CONTRL_PARTNER_1.edi". */
int edi_ack_render(const struct edi_ack_coll *c, size_t i, int64_t control,
		   time_t at, struct buf *out, char *name, size_t namen,
		   struct err *err);

#endif
