/* state_positions.c - the state store's read-outs of the canonical
 * tables: positions (with their items and locations), items and prices,
 * and stock_events (a run's oldest event). Writing them is state_load.c's.
 * Every read of positions or events first applies the waiting load batch
 * (state_lb_apply). See state.h; the SQL is in state.c's statement table.
 */
#include "state.h"
#include "state_int.h"

#include <stdio.h>
#include <string.h>


int state_positions_each(struct state *s,
			 int (*cb)(void *ud, const struct state_position *p),
			 void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_POSITIONS, err);
	struct state_position pos;
	int rc, cbrc = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		pos.sku = db_col_text(p, 0);
		pos.location = db_col_text(p, 1);
		pos.location_type = db_col_text(p, 2);
		pos.state = (int)db_col_int64(p, 3);
		pos.qty = db_col_int64(p, 4);
		pos.as_of = db_col_int64(p, 5);
		pos.item = NULL;
		if ((cbrc = cb(ud, &pos)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

/* Copies v into a 512-byte item buffer, cut like state_item_get's. */
static const char *item_copy(char *buf, size_t n, const char *v)
{
	size_t k;

	if (!v)
		return NULL;
	k = strlen(v);
	if (k >= n)
		k = n - 1;
	memcpy(buf, v, k);
	buf[k] = '\0';
	return buf;
}

int state_positions_items_each(struct state *s, int with_type,
			       int (*cb)(void *ud,
					 const struct state_position *p),
			       void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, with_type ? S_POSITIONS_ITEMS
						      : S_POSITIONS_ITEMS_NOTYPE,
					 err);
	struct state_position pos;
	int rc, cbrc = 0, i, have = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		pos.sku = db_col_text(p, 0);
		pos.location = db_col_text(p, 1);
		pos.location_type = db_col_text(p, 2);
		pos.state = (int)db_col_int64(p, 3);
		pos.qty = db_col_int64(p, 4);
		pos.as_of = db_col_int64(p, 5);
		pos.item = NULL;
		if (!db_col_null(p, 6)) {
			/* Rows come by sku: read an item's columns once. */
			if (!have ||
			    strcmp(s->row_item_buf[ITEM_SKU], pos.sku)) {
				for (i = 0; i < ITEM_NFIELDS; i++)
					s->row_item[i] = item_copy(
						s->row_item_buf[i],
						sizeof(s->row_item_buf[i]),
						db_col_text(p, 6 + i));
				have = s->row_item[ITEM_SKU] != NULL;
			}
			pos.item = s->row_item;
		}
		if ((cbrc = cb(ud, &pos)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

int state_items_each(struct state *s,
		     int (*cb)(void *ud, const char *const *item,
			       const char *price, const char *currency),
		     void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ITEMS, err);
	const char *v[ITEM_NFIELDS];
	int rc, i, cbrc = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		for (i = 0; i < ITEM_NFIELDS; i++)
			v[i] = db_col_text(p, i);
		if ((cbrc = cb(ud, v, db_col_text(p, ITEM_NFIELDS),
			       db_col_text(p, ITEM_NFIELDS + 1))) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

int state_item_get(struct state *s, const char *sku, const char **fields,
		   int *found, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ITEM_GET, err);
	int rc, i;

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	rc = db_step(p, err);
	*found = rc == 1;
	for (i = 0; i < ITEM_NFIELDS; i++) {
		const char *v = *found ? db_col_text(p, i) : NULL;

		if (v) {
			snprintf(s->item_buf[i], sizeof(s->item_buf[i]), "%s",
				 v);
			fields[i] = s->item_buf[i];
		} else {
			fields[i] = NULL;
		}
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_positions_negative(struct state *s, int64_t *n, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_POS_NEGATIVE, err);

	if (!p)
		return -1;
	return state_one_int(p, n, NULL, err);
}

int state_run_oldest_event(struct state *s, int64_t run_id, int64_t *as_of,
			   int *found, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_RUN_OLDEST_EV, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	return state_one_int(p, as_of, found, err);
}

int state_reconcile_each(struct state *s, int state, const char *source_a,
			 const char *source_b,
			 int (*cb)(void *ud, const struct state_recon_pair *r),
			 void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_RECONCILE, err);
	struct state_recon_pair r;
	int rc, cbrc = 0;

	if (!p)
		return -1;
	db_bind_int64(p, 1, state);
	db_bind_text(p, 2, source_a);
	db_bind_text(p, 3, source_b);
	while ((rc = db_step(p, err)) == 1) {
		r.sku = db_col_text(p, 0);
		r.location = db_col_text(p, 1);
		r.has_a = !db_col_null(p, 2);
		r.qty_a = db_col_int64(p, 2);
		r.as_of_a = db_col_int64(p, 3);
		r.has_b = !db_col_null(p, 4);
		r.qty_b = db_col_int64(p, 4);
		r.as_of_b = db_col_int64(p, 5);
		if (!r.sku)
			r.sku = "";
		if (!r.location)
			r.location = "";
		if ((cbrc = cb(ud, &r)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}
