/* t_state_edi.c - the EDI ledgers of the state store (pipeline/store/
 * state.h, state_edi.c) on SQLite: interchanges seen (found by their full
 * key only, a replaced row), acknowledgments (found by their unit's key,
 * unsent ones oldest first with their bytes, sent ones gone from that
 * list, the walk stopped by its callback). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "t.h"

static void ic_fill(struct state_interchange *ic, const char *control,
		    const char *sha, const char *doc)
{
	memset(ic, 0, sizeof(*ic));
	snprintf(ic->format, sizeof(ic->format), "x12");
	snprintf(ic->sender, sizeof(ic->sender), "ACME");
	snprintf(ic->receiver, sizeof(ic->receiver), "SHOP");
	snprintf(ic->control, sizeof(ic->control), "%s", control);
	snprintf(ic->sha256, sizeof(ic->sha256), "%s", sha);
	snprintf(ic->source, sizeof(ic->source), "edi");
	snprintf(ic->doc, sizeof(ic->doc), "%s", doc);
	snprintf(ic->doc_sha, sizeof(ic->doc_sha), "d-%s", sha);
	ic->run_id = 3;
}

T_TEST(state_edi_interchange_found_by_its_full_key)
{
	struct state *st = NULL;
	struct state_interchange ic, got;
	struct err e = ERR_INIT;
	int found = -1;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_interchange_find(st, "x12", "ACME", "SHOP", "000000001",
				    &got, &found, &e), &e);
	T_EQ_INT(found, 0);
	ic_fill(&ic, "000000001", "aaa", "a.x12");
	T_OK(state_begin(st, &e), &e);
	T_OK(state_interchange_add(st, &ic, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_interchange_find(st, "x12", "ACME", "SHOP", "000000001",
				    &got, &found, &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_STR(got.sha256, "aaa");
	T_EQ_STR(got.doc, "a.x12");
	T_EQ_STR(got.source, "edi");
	T_EQ_INT(got.run_id, 3);
	/* Every part of the key counts: another control, receiver, sender or
	 * format is another interchange. */
	T_OK(state_interchange_find(st, "x12", "ACME", "SHOP", "000000002",
				    &got, &found, &e), &e);
	T_EQ_INT(found, 0);
	T_OK(state_interchange_find(st, "x12", "ACME", "OTHER", "000000001",
				    &got, &found, &e), &e);
	T_EQ_INT(found, 0);
	T_OK(state_interchange_find(st, "x12", "ACMX", "SHOP", "000000001",
				    &got, &found, &e), &e);
	T_EQ_INT(found, 0);
	T_OK(state_interchange_find(st, "edifact", "ACME", "SHOP",
				    "000000001", &got, &found, &e), &e);
	T_EQ_INT(found, 0);
	/* The same document mapped again replaces its row. */
	ic_fill(&ic, "000000001", "bbb", "b.x12");
	T_OK(state_begin(st, &e), &e);
	T_OK(state_interchange_add(st, &ic, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_interchange_find(st, "x12", "ACME", "SHOP", "000000001",
				    &got, &found, &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_STR(got.sha256, "bbb");
	T_EQ_STR(got.doc, "b.x12");
	state_close(st);
}

static void ack_fill(struct state_ack *a, const char *control,
		     const char *file, const char *content)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->source, sizeof(a->source), "edi");
	snprintf(a->format, sizeof(a->format), "x12");
	snprintf(a->sender, sizeof(a->sender), "ACME");
	snprintf(a->receiver, sizeof(a->receiver), "SHOP");
	snprintf(a->control, sizeof(a->control), "%s", control);
	snprintf(a->grp, sizeof(a->grp), "1");
	snprintf(a->doc, sizeof(a->doc), "in.x12");
	a->run_id = 2;
	snprintf(a->ack_type, sizeof(a->ack_type), "997");
	a->ack_control = 7;
	snprintf(a->file_name, sizeof(a->file_name), "%s", file);
	a->content = content;
	a->len = strlen(content);
}

struct unsent {
	int n, stop_after;
	char names[4][256];
	char bodies[4][64];
	int64_t ack_control[4];
};

static int collect(void *ud, const struct state_ack *a)
{
	struct unsent *u = ud;

	if (u->n < 4) {
		snprintf(u->names[u->n], sizeof(u->names[0]), "%s",
			 a->file_name);
		snprintf(u->bodies[u->n], sizeof(u->bodies[0]), "%.*s",
			 (int)a->len, (const char *)a->content);
		u->ack_control[u->n] = a->ack_control;
	}
	u->n++;
	return u->stop_after && u->n >= u->stop_after;
}

T_TEST(state_edi_acks_unsent_sent_and_found)
{
	struct state *st = NULL;
	struct state_ack a, key;
	struct unsent u;
	struct err e = ERR_INIT;
	char name[256];
	int found = -1;

	T_OK(state_open("st", &st, &e), &e);
	ack_fill(&a, "000000001", "997_1.x12", "ISA*first~");
	T_OK(state_begin(st, &e), &e);
	T_OK(state_ack_add(st, &a, &e), &e);
	ack_fill(&a, "000000002", "997_2.x12", "ISA*second~");
	T_OK(state_ack_add(st, &a, &e), &e);
	/* Another source's acknowledgment is not in edi's list. */
	ack_fill(&a, "000000003", "997_3.x12", "ISA*other~");
	snprintf(a.source, sizeof(a.source), "other");
	T_OK(state_ack_add(st, &a, &e), &e);
	T_OK(state_commit(st, &e), &e);

	memset(&u, 0, sizeof(u));
	T_OK(state_acks_unsent_each(st, "edi", collect, &u, &e), &e);
	T_EQ_INT(u.n, 2);
	T_EQ_STR(u.names[0], "997_1.x12");
	T_EQ_STR(u.bodies[0], "ISA*first~");
	T_EQ_STR(u.names[1], "997_2.x12");
	T_EQ_STR(u.bodies[1], "ISA*second~");
	T_EQ_INT(u.ack_control[1], 7);
	/* A callback that returns non-zero ends the walk without error. */
	memset(&u, 0, sizeof(u));
	u.stop_after = 1;
	T_OK(state_acks_unsent_each(st, "edi", collect, &u, &e), &e);
	T_EQ_INT(u.n, 1);

	T_OK(state_begin(st, &e), &e);
	T_OK(state_ack_sent(st, "edi", "997_1.x12", 1795154400, &e), &e);
	T_OK(state_commit(st, &e), &e);
	memset(&u, 0, sizeof(u));
	T_OK(state_acks_unsent_each(st, "edi", collect, &u, &e), &e);
	T_EQ_INT(u.n, 1);
	T_EQ_STR(u.names[0], "997_2.x12");

	/* Found by the unit's key (source, format, parties, control,
	 * group), sent or not. */
	ack_fill(&key, "000000001", "", "");
	T_OK(state_ack_find(st, &key, name, sizeof(name), &found, &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_STR(name, "997_1.x12");
	snprintf(key.grp, sizeof(key.grp), "2");
	T_OK(state_ack_find(st, &key, name, sizeof(name), &found, &e), &e);
	T_EQ_INT(found, 0);
	ack_fill(&key, "000000003", "", "");
	T_OK(state_ack_find(st, &key, name, sizeof(name), &found, &e), &e);
	T_EQ_INT(found, 0);
	state_close(st);
}

/* An empty acknowledgment body is stored and read back as empty bytes,
 * not as a missing one. */
T_TEST(state_edi_ack_empty_content)
{
	struct state *st = NULL;
	struct state_ack a;
	struct unsent u;
	struct err e = ERR_INIT;

	T_OK(state_open("st", &st, &e), &e);
	ack_fill(&a, "000000009", "empty.x12", "");
	a.content = NULL;
	T_OK(state_begin(st, &e), &e);
	T_OK(state_ack_add(st, &a, &e), &e);
	T_OK(state_commit(st, &e), &e);
	memset(&u, 0, sizeof(u));
	T_OK(state_acks_unsent_each(st, "edi", collect, &u, &e), &e);
	T_EQ_INT(u.n, 1);
	T_EQ_STR(u.bodies[0], "");
	state_close(st);
}
