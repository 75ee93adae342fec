/* edi_env.h - the envelope walk of the X12 reader, moved here to become
 * the engine both readers share (interim: pure move). */
#ifndef STOCKPIPE_EDI_ENV_H
#define STOCKPIPE_EDI_ENV_H

#include "edi_core.h"

struct x12_reader {
	struct edi_core c;
	int in_garbage;            /* OUTSIDE reported for this junk run */
	int hdr_bad;               /* the current ISA was bad */
	int isa16_check;           /* next segment decides "ISA16 missing" */
	int wrap_warned;           /* WRAPPED reported in this interchange */
	unsigned long isa_seg;     /* seg_in_file of the current ISA */
	unsigned long isa_line;
	uint64_t isa_off;
	unsigned long ngroups, nsets; /* in the file */
};

int x_alnum(int ch);
void close_set_missing(struct x12_reader *r);
void close_group_missing(struct x12_reader *r);
void close_all_missing(struct x12_reader *r, const char *why);
int tag_ok(const struct edi_seg *s);
void check_segment(struct x12_reader *r, uint32_t tc, int truncated);
void on_gs(struct x12_reader *r);
void on_ge(struct x12_reader *r);
void on_st(struct x12_reader *r);
void on_se(struct x12_reader *r);
void on_ic_end(struct x12_reader *r);
void finish(struct x12_reader *r);

#endif
