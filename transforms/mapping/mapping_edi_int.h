/* mapping_edi_int.h - what the three files of the X12 and EDIFACT input
 * drivers share (see mapping_edi.c for the drivers themselves):
 * mapping_edi.c compiles input:, paths and each: into struct edi_map;
 * mapping_edi_set.c keeps the segments of one set (struct segstore),
 * reads paths from them and maps its loops, exploding them when asked;
 * mapping_edi_run.c drives the reader over a document: envelopes,
 * verdicts, rejects of sets that are not mapped. Private to
 * transforms/mapping/mapping_edi*.c. */
#ifndef STOCKPIPE_MAPPING_EDI_INT_H
#define STOCKPIPE_MAPPING_EDI_INT_H

#include <limits.h>
#include <stdint.h>

#include "lib/buf.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edifact_reader.h"
#include "mapping_int.h"
#include "transforms/formats/x12_reader.h"

#define E_MAX_PATHS 512
#define E_MAX_UNTIL 16
#define E_MAX_VALS 8
#define E_DEFAULT_MAX_SET_SEGMENTS 100000
#define E_DEFAULT_MAX_SET_BYTES (16u << 20)
#define E_REP_ALL UINT_MAX

#define TAGC(s)                                                           \
	((uint32_t)(unsigned char)(s)[0] |                                 \
	 (uint32_t)(unsigned char)(s)[1] << 8 |                            \
	 (uint32_t)(unsigned char)(s)[2] << 16)

/* ------------------------------------------------------------------ */
/* Compiled paths                                                        */

struct eref {
	unsigned elem;          /* 1-based element; 0 = none */
	unsigned comp;          /* 1-based component; 0 = the first */
	unsigned rep;           /* 1-based repeat; 0 = first; E_REP_ALL */
};

struct esel {
	char tag[4];
	uint32_t code;
	struct eref cond;       /* cond.elem 0: no condition */
	const char *vals[E_MAX_VALS];
	size_t vlen[E_MAX_VALS];
	size_t nvals;
	unsigned nth;           /* [N]: Nth occurrence in the loop, 0 = any */
	int pairs;              /* qualifier/value pairs (LIN, PO1, ...) */
};

enum { EP_SEG, EP_PAIR_ID, EP_PAIR_VALUE, EP_PAIR_INDEX };
/* A path read in a related loop of the same each: (docs/mapping.md,
 * "Parent, child and sibling loops"): the links are HL01/HL02 (X12),
 * CPS 7164/7166 and LIN 1082/C829.1082 (EDIFACT sub-lines). */
enum { REL_NONE, REL_PARENT, REL_CHILD, REL_SIBLING };
enum { ENV_NONE, ENV_IC, ENV_GRP };

struct epath {
	int kind;
	int has_parent;         /* rel != REL_NONE */
	int rel;
	struct esel parent;     /* the related loop's selector */
	struct esel sel;
	struct eref at;
	int env;                /* the segment is ISA/UNB or GS/UNG */
	int ctx;                /* compiled in context: no loop segments */
	int sid;                /* paths with the same sid find the same
				 * segment (ZA[01=QA].02 and .03) */
	const char *text;
	/* Resolved when the path is compiled (edi_path), so that a read
	 * does not work them out again: how map_edi_rt_path() reads it
	 * (PF_*), the bit of its tag in a loop's tag summary, and the
	 * repeat and component map_edi_note_read() records. */
	int fast;
	uint64_t tagbit;
	uint8_t note_rep, note_comp;
};

/* The read of a path, chosen once per path (edi_path()): PF_ENV an
 * envelope value (one per set), PF_LOOP a segment of the loop or of the
 * free segments before it, found by tag code and qualifier; PF_GENERIC
 * everything else (pair.*, [*], parent/child/sibling), and every read
 * when map_edi_compiled is 0 (the tests compare both ways). */
enum { PF_GENERIC, PF_ENV, PF_LOOP };
extern int map_edi_compiled;

/* A bit per tag code (of 64) for a loop's summary of the tags in it. */
static inline uint64_t map_edi_tag_bit(uint32_t code)
{
	return (uint64_t)1 << ((code * 0x9E3779B1u) >> 26);
}

enum { EX_NONE, EX_PAIRS, EX_SEG, EX_REPS };

struct eanchor {
	int whole_set;          /* each: ST / UNH: the whole set */
	struct esel sel;
	uint32_t until[E_MAX_UNTIL];
	size_t nuntil;
	int explode;
	struct esel xsel;
	struct eref xat;
	const char *t_each, *t_until, *t_explode;
};

struct edi_map {
	int x12;
	const char *want[E_MAX_VALS];   /* transaction: / message: */
	size_t nwant;
	struct edi_opts ro;
	size_t max_set_segments, max_set_bytes;
	struct epath paths[E_MAX_PATHS];
	size_t npaths;
	struct eanchor anchors[MAP_MAX_RECORDS];
	size_t nanchors;
	int cur_anchor;         /* while compiling a record's fields */
};

/* ------------------------------------------------------------------ */
/* The set buffer                                                        */

struct sseg {
	char tag[8];
	size_t data_off, tok_off, ef_off;
	size_t ntok;
	unsigned nelem;
	unsigned long num, num_in_set, line;
	uint64_t offset;        /* byte offset of the tag in the file */
};

struct segstore {
	char *data;
	size_t dlen, dcap;
	struct edi_tok *tok;
	size_t ntok, tokcap;
	uint32_t *ef;
	size_t nef, efcap;
	struct sseg *seg;
	size_t nseg, segcap;
	/* Per segment, apart from seg[] so that scans over a set touch 4
	 * bytes a segment: the tag code (TAGC, 0 for a tag shorter than 2)
	 * and bit a set when the segment is inside a loop of anchor a. */
	uint32_t *code, *loops;
	size_t codecap;
};

/* ------------------------------------------------------------------ */
/* Run                                                                  */

struct eloop {
	size_t start, end;      /* segment indexes [start, end) */
	int anchor;
	size_t nfree;           /* free segments of the anchor before start */
};

/* The segments of a set that are in no loop of one anchor, in order: what
 * a path that is not in the loop searches backward from the loop's start
 * (the set header, enclosing levels). Without this list that search
 * walked every earlier loop's segments for every path of every record,
 * which made a set of n lines cost O(n^2). */
struct efree {
	uint32_t *seg;
	size_t n, cap;
};

/* Where a path outside the loop was found (find_free) for one set,
 * anchor and free-segment prefix, and the value read there (anchor -1:
 * an envelope path, the same for the whole set). Values of [*] paths are
 * made per record, so only their segment is kept. */
struct efound {
	unsigned long set;      /* erun.nsets_mapped; 0 = nothing yet */
	int anchor;
	size_t nfree;
	long at;
	unsigned pair_at;
	int have_val;
	struct expr_val val;
	unsigned col;
};

struct erun {
	const struct edi_map *em;
	struct x12_reader *xr;
	struct edifact_reader *fr;
	struct segstore set, ic, grp;
	int set_open, set_over;
	char set_over_why[160];
	struct edi_issue set_issue, ic_issue, grp_issue, env_issue;
	/* for verdicts: the first group-level error of the open group, the
	 * first error of the interchange's own envelope (not in a set or
	 * group; kept from an ISA/UNB issue reported before the header) */
	int have_grp_issue, have_env_issue;
	/* data the reader skipped (unreadable headers, junk between
	 * interchanges): rejects at the end, or the document's failure when
	 * no interchange could be read at all */
	struct edi_issue lost[8];
	unsigned nlost, nlost_more;
	unsigned long nic_read;
	int have_set_issue, have_ic_issue;
	struct edi_delims delims;
	/* interchange */
	int ic_skip;
	unsigned long ic_num, ic_sets;
	struct mapping_interchange mic;
	char ic_sender[40], ic_receiver[40], ic_control[16];
	char set_control[16];
	/* loops of the set being mapped */
	struct eloop *loops;    /* grouped by anchor, in start order */
	size_t nloops, loopcap;
	struct eloop *order;    /* the same by (start, anchor) */
	size_t ordercap;
	struct efree free[MAP_MAX_RECORDS];
	struct efound found[E_MAX_PATHS];
	unsigned long nsets_mapped;
	/* per path sid: the segment found in the current scope */
	struct {
		unsigned long scope;    /* nscopes when found; 0 = never */
		long at;
		unsigned pair_at;
		int from_free;
	} sfound[E_MAX_PATHS];
	unsigned long nscopes;
	/* per path id: the value a compiled PF_LOOP read gave in the scope
	 * nscopes (a path read twice in a record, LIN[02=UP].03 in sku and
	 * in the txn_id, is read once), with the location it noted */
	struct {
		unsigned long scope;    /* 0 = never */
		struct expr_val val;
		unsigned col;
		struct map_dloc loc;
	} pv[E_MAX_PATHS];
	/* The context was evaluated for this anchor and free-segment prefix
	 * of the set being mapped (ctx_ok); it reads only the envelope and
	 * the free segments before the loop, so it is the same for every
	 * loop of the anchor that has the same free segments before it. */
	int ctx_ok, ctx_anchor;
	size_t ctx_nfree;
	/* the scope being mapped */
	const struct eloop *loop;
	uint64_t loop_tags;     /* tag_bit() of every segment in loop */
	size_t xs, xe;          /* explode item: segments [xs, xe) */
	int xkind;
	const char *pair_id, *pair_val;
	unsigned long pair_index;
	char pair_index_buf[24];
	unsigned long nscope[MAP_MAX_RECORDS];
	char where[96];
	size_t where_pre;       /* "ic X set Y " at the start of where */
	int where_pre_plain;    /* ... its JSON needs no escape */
	struct str_ulong_memo where_num; /* the segment number's text */
	unsigned long where_set; /* the nsets_mapped it was written for */
	struct buf raw, tmp;
	/* error locations (mapping_edi_err.c): the file's locator, the set
	 * segment the scope starts at, and what the next reject is about
	 * when the driver rejects on its own (an issue, or a segment of
	 * store rj_store) */
	struct edi_locator loc;
	size_t scope_seg;
	const struct edi_issue *rj_is;
	const struct segstore *rj_store;
	size_t rj_seg;
	/* warnings: paths whose cut value was reported (once per document);
	 * with strict: true the reason the open group's sets are rejected */
	unsigned char rep_warned[E_MAX_PATHS / 8];
	char grp_strict_why[400];
};

/* mapping_edi_set.c */
void map_edi_store_reset(struct segstore *s);
void map_edi_store_free(struct segstore *s);
/* Copies a reader segment into the store. */
int map_edi_store_add(struct segstore *s, const struct edi_seg *g,
		      struct err *err);
void map_edi_store_view(const struct segstore *s, size_t i,
			struct edi_seg *v);
/* Appends segment i of s to x->raw in the interchange's syntax. */
void map_edi_raw_seg(struct erun *x, const struct segstore *s, size_t i);
/* The run-time path hook (struct map_run.path). */
int map_edi_rt_path(struct map_run *run, int id, struct expr_val *out,
		    unsigned *col, struct err *err);
/* The set in x->set closed well-formed: find the loops, map them in
 * input order. */
int map_edi_map_set(struct map_run *run, struct err *err);

/* Notes in run->path_loc that path id read element e of segment i of
 * store s (NULL: found no segment). Inline: it runs per path read. */
static inline void map_edi_note_read(struct map_run *run, int id,
				     const struct segstore *s, size_t i,
				     unsigned e)
{
	const struct erun *x = run->drv;
	const struct epath *p = &x->em->paths[id];
	struct map_dloc *d = &run->path_loc;

	d->path = (uint16_t)(id + 1);
	d->store = !s ? 0 : s == &x->set ? 1 : s == &x->ic ? 2 : 3;
	d->seg = (uint32_t)i;
	d->elem = (uint16_t)(e > 0xFFFF ? 0xFFFF : e);
	d->rep = p->note_rep;
	d->comp = p->note_comp;
}

/* mapping_edi_err.c: the map_run locate() and explain() hooks. */
void map_edi_locate(struct map_run *run, const struct map_dloc *dl,
		    unsigned col, struct mapping_reject *rj);
int map_edi_explain(struct map_run *run, const struct map_dloc *dl,
		    char *out, size_t n);
/* Warnings: to the sink at loc (counted); at an issue's place; with
 * strict: true a reject of its own for a warning outside a set; the
 * ISA12/GS08 check at a GS; a value cut by the repetition separator. */
int map_edi_warn(struct map_run *run, const struct src_loc *loc,
		 const char *code, const char *msg, struct err *err);
int map_edi_warn_issue(struct map_run *run, const struct edi_issue *is,
		       const char *msg, struct err *err);
int map_edi_strict_reject(struct map_run *run, const struct edi_issue *is,
			  const char *msg, struct err *err);
int map_edi_check_versions(struct map_run *run, const struct edi_seg *g,
			   const struct edi_ctx *ctx, struct err *err);
int map_edi_rep_cut(struct map_run *run, const struct epath *p,
		    const struct segstore *sv, size_t i, unsigned e,
		    unsigned c, struct err *err);

/* mapping_edi_run.c: the driver's run(). */
int map_edi_run_doc(struct map_run *run, struct err *err);

#endif
