/* t_state_ic.c - interchanges claimed inside the serialized load
 * (pipeline/store/state_ic.h) on SQLite: a document claims its
 * interchanges, a second document with the same ones gets them back as
 * duplicates (same bytes or other content, the first document and run
 * named), in record order; a document loaded again keeps its claims; an
 * unload frees them for the next document. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_ic.h"
#include "t.h"

static void ic(struct state_interchange *x, const char *control,
	       const char *sha, int64_t first, int64_t last)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->format, sizeof(x->format), "x12");
	snprintf(x->sender, sizeof(x->sender), "ACME");
	snprintf(x->receiver, sizeof(x->receiver), "SHOP");
	snprintf(x->control, sizeof(x->control), "%s", control);
	snprintf(x->sha256, sizeof(x->sha256), "%s", sha);
	x->first_rec = first;
	x->last_rec = last;
}

/* Sets doc's interchanges and claims them in one transaction. */
static int set_and_claim(struct state *st, int64_t doc, const char *name,
			 int64_t run, const struct state_interchange *ics,
			 size_t n, struct state_ic_dup **dups, size_t *nd,
			 struct err *e)
{
	if (state_begin(st, e) < 0)
		return -1;
	if (state_ic_doc_set(st, doc, ics, n, e) < 0 ||
	    state_ic_load_claim(st, doc, "edi", name, run, dups, nd, e) < 0) {
		state_rollback(st);
		return -1;
	}
	return state_commit(st, e);
}

T_TEST(state_ic_second_document_gets_duplicates)
{
	struct state *st = NULL;
	struct state_interchange a[2], b[3];
	struct state_ic_dup *d = NULL;
	size_t n = 99;
	struct err e = ERR_INIT;

	T_OK(state_open("st", &st, &e), &e);
	ic(&a[0], "000000001", "s1", 1, 4);
	ic(&a[1], "000000002", "s2", 5, 9);
	T_OK(set_and_claim(st, 10, "first.x12", 1, a, 2, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	T_ASSERT(d == NULL);
	/* b: control 2 with other bytes, a new control 3, control 1 with the
	 * same bytes; listed out of record order. */
	ic(&b[0], "000000002", "other", 1, 3);
	ic(&b[1], "000000003", "s3", 4, 6);
	ic(&b[2], "000000001", "s1", 7, 8);
	T_OK(set_and_claim(st, 11, "second.x12", 2, b, 3, &d, &n, &e), &e);
	T_EQ_INT(n, 2);
	T_ASSERT(d != NULL);
	T_EQ_STR(d[0].control, "000000002");
	T_EQ_INT(d[0].same, 0);
	T_EQ_STR(d[0].prev_doc, "first.x12");
	T_EQ_INT(d[0].prev_run, 1);
	T_EQ_INT(d[0].first_rec, 1);
	T_EQ_INT(d[0].last_rec, 3);
	T_EQ_STR(d[1].control, "000000001");
	T_EQ_INT(d[1].same, 1);
	T_EQ_INT(d[1].first_rec, 7);
	T_EQ_STR(d[1].sender, "ACME");
	T_EQ_STR(d[1].receiver, "SHOP");
	T_EQ_STR(d[1].format, "x12");
	free(d);
	/* A third document with control 3 finds it claimed by the second. */
	ic(&b[0], "000000003", "s3", 1, 2);
	T_OK(set_and_claim(st, 12, "third.x12", 3, b, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 1);
	T_EQ_STR(d[0].prev_doc, "second.x12");
	T_EQ_INT(d[0].prev_run, 2);
	T_EQ_INT(d[0].same, 1);
	free(d);
	state_close(st);
}

T_TEST(state_ic_reload_keeps_claims_and_unload_frees_them)
{
	struct state *st = NULL;
	struct state_interchange a[1];
	struct state_ic_dup *d = NULL;
	size_t n = 99;
	struct err e = ERR_INIT;

	T_OK(state_open("st", &st, &e), &e);
	ic(&a[0], "000000001", "s1", 1, 4);
	T_OK(set_and_claim(st, 10, "first.x12", 1, a, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	/* The same document loaded again (a redone load): still its own. */
	T_OK(set_and_claim(st, 10, "first.x12", 2, a, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	T_ASSERT(d == NULL);
	/* Taken back: the next document with that interchange claims it. */
	T_OK(state_begin(st, &e), &e);
	T_OK(state_ic_unload(st, 10, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(set_and_claim(st, 11, "copy.x12", 3, a, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	/* And now the first one is the duplicate. */
	T_OK(set_and_claim(st, 10, "first.x12", 4, a, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 1);
	T_EQ_STR(d[0].prev_doc, "copy.x12");
	free(d);
	state_close(st);
}

/* doc_set replaces a document's list: an interchange it no longer lists
 * is not claimed; an empty list claims nothing. */
T_TEST(state_ic_doc_set_replaces_the_list)
{
	struct state *st = NULL;
	struct state_interchange a[2];
	struct state_ic_dup *d = NULL;
	size_t n = 99;
	struct err e = ERR_INIT;

	T_OK(state_open("st", &st, &e), &e);
	ic(&a[0], "000000001", "s1", 1, 4);
	ic(&a[1], "000000002", "s2", 5, 6);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_ic_doc_set(st, 10, a, 2, &e), &e);
	T_OK(state_ic_doc_set(st, 10, a + 1, 1, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(set_and_claim(st, 10, "x.x12", 1, a + 1, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	/* Control 1 was dropped from doc 10's list: doc 11 claims it. */
	T_OK(set_and_claim(st, 11, "y.x12", 1, a, 1, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	T_OK(set_and_claim(st, 12, "z.x12", 1, NULL, 0, &d, &n, &e), &e);
	T_EQ_INT(n, 0);
	state_close(st);
}
