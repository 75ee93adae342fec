/* ack_read.h - reads the acknowledgments a partner sends back for our
 * deliveries: X12 997 and 999 (and TA1 interchange acknowledgments) and
 * EDIFACT CONTRL, through the X12 and EDIFACT readers (x12_reader.h,
 * edifact_reader.h): no second parser.
 *
 * The result is one record per acknowledged unit, each with the control
 * numbers it refers to, so the caller can match it to what was sent:
 *
 *	level    X12                         EDIFACT
 *	IC       TA1 (TA101 = ISA13)         UCI (UCI01 = UNB 0020)
 *	GROUP    AK1 + AK9 (AK102 = GS06)    UCF (UCF01 = UNG 0048)
 *	SET      AK2 + AK5/IK5 (AK202=ST02)  UCM (UCM01 = UNH 0062)
 *
 * and the partner's error details below each (AK3/IK3 and UCS: a segment;
 * AK4/IK4 and UCD: an element; the status segment's own codes: AK5/IK5
 * 02-06, AK9 05-09, UCI/UCM 04-06, TA105) in reading order.
 *
 * Strict: an acknowledgment that cannot be read whole is refused, never
 * half used. Any envelope error the readers report (a wrong count or
 * control number in a trailer, a missing trailer, a cut segment), a
 * transaction set that is no acknowledgment, a status code outside the
 * standard's list, a detail segment out of place (AK3 before AK2, AK2
 * without AK5, UCM before UCI) make ack_read_fd fail with E_PARSE naming
 * the file, the line and the reason. Warnings of the readers (zero
 * padding, wrapped lines) are not failures.
 */
#ifndef STOCKPIPE_ACK_READ_H
#define STOCKPIPE_ACK_READ_H

#include <stddef.h>

#include "lib/err.h"

enum ack_level { ACK_LVL_IC = 1, ACK_LVL_GROUP, ACK_LVL_SET };

/* Ordered by how bad: a later acknowledgment of the same unit replaces
 * an earlier one whatever its status. ACK_NONE is "no acknowledgment". */
enum ack_status {
	ACK_NONE = 0,
	ACK_ACCEPTED,         /* X12 A; EDIFACT 7 without errors, 8 */
	ACK_ACCEPTED_ERRORS,  /* X12 E; EDIFACT 7 with UCS/UCD or a code */
	ACK_PARTIAL,          /* X12 AK9 P: some sets of the group rejected */
	ACK_REJECTED          /* X12 R, M, W, X; EDIFACT 4 */
};

/* One error detail of the partner. Strings are "" and numbers 0 when the
 * segment does not carry them. */
struct ack_read_err {
	char kind[4];            /* the segment it came from: AK3 AK4 IK3 IK4
				  * UCS UCD, or AK5 IK5 AK9 TA1 UCI UCM UCF
				  * for the status segment's own codes */
	char seg_id[8];          /* AK301/IK301; UCI05/UCM05 service tag */
	unsigned long seg_pos;   /* AK302/IK302, UCS01: position in the set */
	char loop[8];            /* AK303/IK303 */
	unsigned elem, comp, rep;/* AK401/IK401 :1 :2 :3; UCD02 :1 :2;
				  * UCI06/UCM06 :1 :2 */
	char elem_ref[8];        /* AK402/IK402: data element number */
	char code[16];           /* the syntax error code */
	char value[100];         /* AK404/IK404: copy of the bad value */
	unsigned long line;      /* line of the detail in the ack file */
	size_t ack;              /* index in acks of the record it is about */
};

struct ack_read_ack {
	int level;               /* enum ack_level */
	int status;              /* enum ack_status */
	char type[8];            /* "997", "999", "TA1", "CONTRL" */
	char format[8];          /* "x12", "edifact" */
	char sender[40];         /* the ack's interchange sender (partner) */
	char receiver[40];
	char ic_control[16];     /* TA101, UCI01 (UCM/UCF: their UCI's) */
	char grp_id[8];          /* AK101 (functional id), "" for EDIFACT */
	char grp_control[16];    /* AK102, UCF01 */
	char set_type[8];        /* AK201, UCM02:1 */
	char set_control[16];    /* AK202, UCM01 */
	char code[4];            /* the status code as sent: A E R P, 4 7 8 */
	unsigned long line;      /* line of the segment that opened it */
	unsigned long nsets, nrecv, naccepted; /* AK902-04 (group level) */
	size_t nerr;             /* its details (errs[i].ack == its index) */
};

struct ack_read_result {
	struct ack_read_ack *acks;
	size_t nacks, acap;
	struct ack_read_err *errs;
	size_t nerrs, ecap;
};

/* Reads the acknowledgments of fd (borrowed, read from its position);
 * name is used in messages. *out is filled (release it with
 * ack_read_release, also after a failure). Returns 0, or -1 with err:
 * E_PARSE with err->file = name and err->line for a file that is no
 * readable acknowledgment, E_IO, E_NOMEM, E_TOOBIG. */
int ack_read_fd(int fd, const char *name, struct ack_read_result *out,
		struct err *err);
/* ack_read_fd on the file at path. */
int ack_read_path(const char *path, const char *name,
		  struct ack_read_result *out, struct err *err);
void ack_read_release(struct ack_read_result *r);

/* "accepted", "accepted with errors", "partially accepted", "rejected",
 * "none". */
const char *ack_read_status_name(int status);
/* "interchange", "group", "set". */
const char *ack_read_level_name(int level);
/* One line for a detail, e.g. "AK3 segment N1 at 5 (loop N1): code 8" or
 * "UCD element 3:2: code 12". */
void ack_read_err_format(const struct ack_read_err *e, char *out, size_t n);

#endif
