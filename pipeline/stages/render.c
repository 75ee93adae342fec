/* render.c - see render.h. */
#include "render.h"
#include "render_share.h"
#include "render_uom.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "lib/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transforms/model/dt.h"
#include "transforms/model/stock.h"

struct row {
	char sku[512];
	char location[512];
	dec by_state[STOCK_NSTATES]; /* by enum stock_state */
	int64_t as_of;
	int has;
};

struct rctx {
	struct state *st;
	const struct cfg_target *t;
	const struct outbound *ob;
	struct io_atomic out;  /* the final file, when direct */
	int out_open;
	/* The rows of an enveloped format (the header needs the row count
	 * or a control number): a scratch file read back once and removed,
	 * so neither hashed nor fsynced nor renamed; -1 when direct. */
	int body_fd;
	/* The rows' SHA-256 (the content key's part), taken 64 KiB at a
	 * time from obuf, which then goes to out. */
	struct sha256 rows_sha;
	int rows_sha_open;
	int rows_also;         /* rows_sha is taken by out's writer thread */
	size_t olen;
	char obuf[65536];
	struct buf line;
	struct arena a;
	struct row cur;
	struct render_stats *rs;
	int64_t segments;       /* EDI segments of the rows (SE01/UNT01) */
	struct err *err;
	/* values exposed to the outbound mapping for the current row; the
	 * numbers and the time are formatted when the mapping first asks
	 * (most mappings use two or three of them) */
	char available[32], on_hand[32], reserved[32], in_transit[32];
	char as_of[DT_ISO_LEN];
	dec atp;
	unsigned formatted;     /* F_* bits: which of the above are current */
	int64_t as_of_day;      /* the day whose date as_of holds, if any */
	int as_of_day_set;
	const char *item[ITEM_NFIELDS];
	int item_found;
	char uom[24];           /* the row's unit (render_uom.h) */
	/* the current row's item fields, copied at the row's first position
	 * (state_positions_items_each lends them for one callback) */
	char item_buf[ITEM_NFIELDS][512];
	/* The published picture: every row's key and value goes to pub (the
	 * full picture as of this snapshot); a delta compares against prev,
	 * the picture of the last delivery, merged in key order. */
	struct io_atomic pub;
	int pub_open;
	struct gz_in *prev_gz; /* it may be compacted (lib/gz.h) */
	FILE *prev;
	int prev_ok;
	char prev_sku[512], prev_loc[512];
	dec prev_qty;
	int64_t now;
	/* Rows left out (on_bad_row: reject) go to rej when a path is
	 * given, opened at the first one: a snapshot without bad rows
	 * writes no file (and no crash point). */
	const char *reject_path;
	struct io_atomic rej;
	int rej_open;
	/* A render in two halves (render_part_rows on a thread of its own,
	 * render_part_publish on the store's): the positions come from src
	 * and st is NULL; the picture and the rejects wait (defer) until the
	 * publishing half, as the rest of what the render makes public. */
	struct render_share_src *src;
	int defer;
	int settled;            /* render_settle_rejects done */
	int direct, counted;    /* as render_once decided them */
	int64_t counted_rows;
	char body[4200];
	char key[SHA256_HEX_LEN];
	struct render_stats rs_own; /* the stats of a part */
};

enum { F_AVAILABLE = 1, F_ON_HAND = 2, F_RESERVED = 4, F_IN_TRANSIT = 8,
       F_AS_OF = 16 };

/* The target's available-to-sell rule for stock_atp (stock.h). */
static void atp_rule(const struct cfg_target *t, struct stock_atp *r)
{
	r->sellable = t->sellable_mask;
	r->subtract = t->subtract_mask;
	r->safety_abs = t->safety_abs;
	r->safety_pct = t->safety_pct;
	r->allocation_pct = t->allocation_pct;
	r->cap = t->cap;
	r->has_cap = t->has_cap;
	r->round_pack = t->round_pack;
}

dec render_atp_ex(const struct cfg_target *t, const dec *by_state,
		  dec extra_abs, int extra_pct, dec pack, int *was_negative)
{
	struct stock_atp r;

	atp_rule(t, &r);
	return stock_atp(&r, by_state, extra_abs, extra_pct, pack,
			 was_negative);
}

dec render_atp(const struct cfg_target *t, const dec *by_state,
	       int *was_negative)
{
	return render_atp_ex(t, by_state, 0, 0, 0, was_negative);
}

/* Extra safety stock for a row from the target's per-category and
 * per-location tables. */
static void row_safety(const struct cfg_target *t, const char *category,
		       const char *location, dec *abs, int *pct)
{
	size_t i;

	*abs = 0;
	*pct = 0;
	for (i = 0; category && i < t->nsafety_by_category; i++)
		if (!strcmp(t->safety_by_category[i].key, category)) {
			*abs += t->safety_by_category[i].abs;
			*pct += t->safety_by_category[i].pct;
		}
	for (i = 0; location && i < t->nsafety_by_location; i++)
		if (!strcmp(t->safety_by_location[i].key, location)) {
			*abs += t->safety_by_location[i].abs;
			*pct += t->safety_by_location[i].pct;
		}
}

static int location_wanted(const struct cfg_target *t,
			   const struct state_position *p)
{
	size_t i;

	if (t->nlocations) {
		for (i = 0; i < t->nlocations; i++)
			if (!strcmp(t->locations[i], p->location))
				break;
		if (i == t->nlocations)
			return 0;
	}
	if (t->nlocation_types) {
		for (i = 0; i < t->nlocation_types; i++)
			if (!strcmp(t->location_types[i], p->location_type))
				break;
		if (i == t->nlocation_types)
			return 0;
	}
	return 1;
}

/* A number of the current row, formatted on first use. */
static const char *row_dec(struct rctx *c, unsigned bit, dec v, char *out)
{
	if (!(c->formatted & bit)) {
		dec_format(v, out);
		c->formatted |= bit;
	}
	return out;
}

/* The current row's as_of in ISO 8601 ("YYYY-MM-DDTHH:MM:SSZ"). The
 * date part is computed once per day: rows of one count share it. */
static const char *row_as_of(struct rctx *c)
{
	int64_t t = c->cur.as_of;
	int64_t day = (t >= 0 ? t : t - 86399) / 86400;
	int secs;

	if (c->formatted & F_AS_OF)
		return c->as_of;
	c->formatted |= F_AS_OF;
	if (!c->as_of_day_set || day != c->as_of_day) {
		dt_format_iso(t, c->as_of);
		c->as_of_day = day;
		c->as_of_day_set = 1;
		return c->as_of;
	}
	secs = (int)(t - day * 86400);
	c->as_of[11] = (char)('0' + secs / 36000);
	c->as_of[12] = (char)('0' + secs / 3600 % 10);
	c->as_of[14] = (char)('0' + secs / 600 % 6);
	c->as_of[15] = (char)('0' + secs / 60 % 10);
	c->as_of[17] = (char)('0' + secs % 60 / 10);
	c->as_of[18] = (char)('0' + secs % 10);
	return c->as_of;
}

static const char *stock_get(void *ud, const char *name)
{
	struct rctx *c = ud;
	int i;

	/* Called for every column of every row: one strcmp per name. */
	switch (name[0]) {
	case 's':
		if (!strcmp(name, "sku"))
			return c->cur.sku;
		break;
	case 'l':
		if (!strcmp(name, "location"))
			return c->cur.location;
		break;
	case 'a':
		if (!strcmp(name, "available"))
			return row_dec(c, F_AVAILABLE, c->atp, c->available);
		if (!strcmp(name, "as_of"))
			return row_as_of(c);
		break;
	case 'o':
		if (!strcmp(name, "on_hand"))
			return row_dec(c, F_ON_HAND,
				       c->cur.by_state[STOCK_ST_ON_HAND],
				       c->on_hand);
		break;
	case 'r':
		if (!strcmp(name, "reserved"))
			return row_dec(c, F_RESERVED,
				       c->cur.by_state[STOCK_ST_RESERVED],
				       c->reserved);
		break;
	case 'i':
		if (!strcmp(name, "in_transit"))
			return row_dec(c, F_IN_TRANSIT,
				       c->cur.by_state[STOCK_ST_IN_TRANSIT],
				       c->in_transit);
		break;
	case 'u':
		if (!strcmp(name, "uom"))
			return c->uom;
		break;
	}
	if (!c->item_found)
		return NULL;
	i = canon_field_index(CANON_ITEM, name);
	return i >= 0 ? c->item[i] : NULL;
}

/* Keys in the picture files are escaped so a tab or newline in a SKU
 * cannot break the line format. */
static void pub_key(struct buf *b, const char *s)
{
	size_t n = strcspn(s, "\\\t\n");

	buf_add(b, s, n);
	for (s += n; *s; s++) {
		if (*s == '\\')
			buf_add(b, "\\\\", 2);
		else if (*s == '\t')
			buf_add(b, "\\t", 2);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else
			buf_addc(b, *s);
	}
}

static void unescape_key(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int render_pub_next(FILE *f, char *sku, size_t nsku, char *loc, size_t nloc,
		    dec *qty, struct err *err)
{
	char line[1100], *tab1, *tab2;

	if (!fgets(line, sizeof(line), f))
		return ferror(f) ? err_sys(err, "cannot read a published "
					      "picture")
				 : 0;
	line[strcspn(line, "\n")] = '\0';
	if (!(tab1 = strchr(line, '\t')) || !(tab2 = strchr(tab1 + 1, '\t')))
		return err_set(err, E_INTERNAL, "bad published-picture line");
	*tab1 = *tab2 = '\0';
	unescape_key(line);
	unescape_key(tab1 + 1);
	if (str_copy(sku, nsku, line) < 0)
		return err_set(err, E_INTERNAL,
			       "published-picture sku too long");
	if (str_copy(loc, nloc, tab1 + 1) < 0)
		return err_set(err, E_INTERNAL,
			       "published-picture location too long");
	if (dec_parse(tab2 + 1, strlen(tab2 + 1), '.', 0, qty) < 0)
		return err_set(err, E_INTERNAL, "bad published quantity");
	return 1;
}

/* Reads the next key/value of the previous picture; prev_ok = 0 at end. */
static int prev_next(struct rctx *c)
{
	int rc;

	c->prev_ok = 0;
	if (!c->prev)
		return 0;
	rc = render_pub_next(c->prev, c->prev_sku, sizeof(c->prev_sku),
			     c->prev_loc, sizeof(c->prev_loc), &c->prev_qty,
			     c->err);
	if (rc < 0)
		return -1;
	c->prev_ok = rc;
	return 0;
}

static int key_cmp(const char *sku, const char *loc, const char *sku2,
		   const char *loc2)
{
	int r = strcmp(sku, sku2);

	return r ? r : strcmp(loc, loc2);
}

static int emit_stock_row(struct rctx *c);

/* Empties the current row (its sku and location are overwritten when the
 * next one starts). */
static void row_clear(struct rctx *c)
{
	c->cur.has = 0;
	c->cur.as_of = 0;
	memset(c->cur.by_state, 0, sizeof(c->cur.by_state));
}

/* Copies s into dst of size n, cut to fit as snprintf would; returns 1
 * when it was cut. */
static int copy_cut(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);
	int cut = len >= n;

	if (cut)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return cut;
}

/* A key the last delivery had and this picture lacks: tell the target it
 * is now 0. */
static int emit_vanished(struct rctx *c)
{
	struct row saved = c->cur;
	char uom[sizeof(c->uom)];
	const char *item[ITEM_NFIELDS];
	int found = c->item_found;

	memcpy(item, c->item, sizeof(item));
	memset(&c->cur, 0, sizeof(c->cur));
	if (str_copy(c->cur.sku, sizeof(c->cur.sku), c->prev_sku) < 0)
		return err_set(c->err, E_INTERNAL, "vanished sku too long");
	if (str_copy(c->cur.location, sizeof(c->cur.location), c->prev_loc) < 0)
		return err_set(c->err, E_INTERNAL,
			       "vanished location too long");
	c->cur.has = 1;
	c->cur.as_of = c->now;
	/* every number 0, as_of now */
	c->atp = 0;
	c->formatted = 0;
	memcpy(uom, c->uom, sizeof(uom));
	if (state_item_get(c->st, c->cur.sku, c->item, &c->item_found,
			   c->err) < 0 ||
	    render_uom_row(c->st, c->t, c->cur.sku,
			   c->item_found ? c->item[ITEM_BASE_UOM] : NULL,
			   &c->atp, c->cur.by_state, STOCK_NSTATES, c->uom,
			   c->err) < 0 ||
	    emit_stock_row(c) < 0)
		return -1;
	memcpy(c->uom, uom, sizeof(uom));
	/* The current row's item fields live in c->item_buf, untouched. */
	c->cur = saved;
	memcpy(c->item, item, sizeof(item));
	c->item_found = found;
	return prev_next(c);
}

/* Takes the item fields of a row that starts at position p. A SKU longer
 * than the row's buffer was looked up by its cut spelling before the
 * items were joined into the positions query: kept, so that output does
 * not change. */
static int row_item(struct rctx *c, const struct state_position *p,
		    int sku_cut)
{
	const char *const *v = p->item;
	const char *got[ITEM_NFIELDS];
	int i;

	if (sku_cut) {
		if (!c->st)
			return err_set(c->err, E_BUSY,
				       "sku '%.100s...' needs the store",
				       c->cur.sku);
		if (state_item_get(c->st, c->cur.sku, got, &c->item_found,
				   c->err) < 0)
			return -1;
		v = c->item_found ? got : NULL;
	}
	c->item_found = v != NULL;
	for (i = 0; i < ITEM_NFIELDS; i++) {
		c->item[i] = NULL;
		if (v && v[i]) {
			copy_cut(c->item_buf[i], sizeof(c->item_buf[i]), v[i]);
			c->item[i] = c->item_buf[i];
		}
	}
	return 0;
}

/* Adds the current row's key and value to the published picture. */
static int pub_row(struct rctx *c, dec atp)
{
	char q[32];
	size_t qn;

	if (!c->pub_open)
		return 0;
	buf_reset(&c->line);
	pub_key(&c->line, c->cur.sku);
	buf_addc(&c->line, '\t');
	pub_key(&c->line, c->cur.location);
	buf_addc(&c->line, '\t');
	qn = dec_format(atp, q);
	buf_add(&c->line, q, qn);
	buf_addc(&c->line, '\n');
	return io_atomic_write(&c->pub, c->line.ptr, c->line.len, c->err);
}

static int flush_row(struct rctx *c)
{
	int neg, cmp = 1, rc;
	dec atp;

	if (!c->cur.has)
		return 0;
	{
		dec extra, pack = 0;
		int pct;

		row_safety(c->t, c->item_found ? c->item[ITEM_CATEGORY] : NULL,
			   c->cur.location, &extra, &pct);
		if (c->item_found && c->item[ITEM_PACK_SIZE])
			dec_parse(c->item[ITEM_PACK_SIZE],
				  strlen(c->item[ITEM_PACK_SIZE]), '.', 0,
				  &pack);
		atp = render_atp_ex(c->t, c->cur.by_state, extra, pct, pack,
				    &neg);
	}
	if (render_uom_row(c->st, c->t, c->cur.sku,
			   c->item_found ? c->item[ITEM_BASE_UOM] : NULL, &atp,
			   c->cur.by_state, STOCK_NSTATES, c->uom, c->err) < 0)
		return -1;
	if (neg)
		c->rs->negative++;
	if (c->t->delta) {
		while (c->prev_ok &&
		       (cmp = key_cmp(c->prev_sku, c->prev_loc, c->cur.sku,
				      c->cur.location)) < 0)
			if (emit_vanished(c) < 0)
				return -1;
		if (c->prev_ok && cmp == 0) {
			int same = c->prev_qty == atp;

			if (prev_next(c) < 0)
				return -1;
			if (same) {
				/* The target has this value: not sent, still
				 * in the picture. */
				rc = pub_row(c, atp);
				row_clear(c);
				return rc;
			}
		}
	}
	c->atp = atp;
	c->formatted = 0;
	if ((rc = emit_stock_row(c)) < 0)
		return -1;
	/* A row left out (rc 1) stays out of the picture too: the target
	 * never got it, so once its value is fixed the next delta sends it
	 * as a change. */
	if (rc == 0 && pub_row(c, atp) < 0)
		return -1;
	row_clear(c);
	return 0;
}

/* Writes p to the body file, or to the final file when direct. */
static int out_write(struct rctx *c, const char *p, size_t n)
{
	if (c->body_fd < 0)
		return io_atomic_write(&c->out, p, n, c->err);
	while (n) {
		ssize_t w = write(c->body_fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(c->err, "cannot write the rows' "
					       "scratch file");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Hashes and writes what obuf holds. */
static int row_flush(struct rctx *c)
{
	size_t n = c->olen;

	if (!n)
		return 0;
	c->olen = 0;
	if (!c->rows_also)
		sha256_update(&c->rows_sha, c->obuf, n);
	return out_write(c, c->obuf, n);
}

/* Appends a rendered row (or rows) to the output. */
static int row_out(struct rctx *c, const char *p, size_t n)
{
	if (n > sizeof(c->obuf) - c->olen && row_flush(c) < 0)
		return -1;
	if (n > sizeof(c->obuf)) {
		if (!c->rows_also)
			sha256_update(&c->rows_sha, p, n);
		return out_write(c, p, n);
	}
	memcpy(c->obuf + c->olen, p, n);
	c->olen += n;
	return 0;
}

/* What a row's own values can cause (a value its format cannot carry, a
 * function refusing a value, a row past the length bound); anything else
 * (memory, I/O, a bug) stops the render whatever on_bad_row says. */
static int row_error(int code)
{
	return code == E_MAP || code == E_VALIDATE || code == E_PARSE ||
	       code == E_TOOBIG;
}

/* Copies the formatted s into dst (n bytes), ending in "..." when cut so
 * a reader knows. */
static void set_cut(char *dst, size_t n, const char *s)
{
	if (copy_cut(dst, n, s) && n > 4)
		memcpy(dst + n - 4, "...", 4);
}

/* Appends s as a JSON string, bytes that are not UTF-8 written as U+FFFD:
 * the reject file stays valid JSON even for the value refused for not
 * being UTF-8 (its reason says so). A failure sets b->err. */
static void json_text(struct buf *b, const char *s)
{
	struct buf t = BUF_INIT(1 << 16);
	size_t n = strlen(s), i, l;
	unsigned cp;

	for (i = 0; i < n; i += l)
		if (!(l = utf8_char((const unsigned char *)s + i, n - i,
					&cp)))
			break;
	if (i == n) {
		buf_add_json_str(b, s, n);
		return;
	}
	buf_add(&t, s, i);
	while (i < n) {
		l = utf8_char((const unsigned char *)s + i, n - i, &cp);
		buf_add(&t, l ? s + i : "\xEF\xBF\xBD", l ? l : 3);
		i += l ? l : 1;
	}
	if (t.err)
		b->err = t.err;
	else
		buf_add_json_str(b, t.ptr, t.len);
	buf_release(&t);
}

/* One JSON line for a row left out, shaped like the inbound reject files
 * (kind, _file/_line/_col, field, reason) plus the target, the row's key
 * and every row field the mapping could have read. */
static int reject_line(struct rctx *c, const char *(*get)(void *, const char *),
		       const struct err *e, const char *sku, const char *loc)
{
	const char *const *names;
	size_t i, nn;
	int first = 1;

	buf_reset(&c->line);
	buf_adds(&c->line, "{\"kind\":\"reject\",\"target\":");
	json_text(&c->line, c->t->name);
	buf_adds(&c->line, ",\"_file\":");
	json_text(&c->line, e->file);
	if (e->line)
		buf_addf(&c->line, ",\"_line\":%lu", e->line);
	if (e->col)
		buf_addf(&c->line, ",\"_col\":%u", e->col);
	buf_adds(&c->line, ",\"sku\":");
	json_text(&c->line, sku);
	buf_adds(&c->line, ",\"location\":");
	json_text(&c->line, loc);
	buf_adds(&c->line, ",\"field\":");
	json_text(&c->line, e->field);
	buf_adds(&c->line, ",\"reason\":");
	json_text(&c->line, e->reason);
	buf_adds(&c->line, ",\"values\":{");
	names = outbound_fields(c->ob, &nn);
	for (i = 0; i < nn; i++) {
		const char *v = get(c, names[i]);

		if (!v)
			continue;
		if (!first)
			buf_addc(&c->line, ',');
		first = 0;
		buf_add_json_str(&c->line, names[i], strlen(names[i]));
		buf_addc(&c->line, ':');
		json_text(&c->line, v);
	}
	buf_adds(&c->line, "}}\n");
	if (c->line.err)
		return err_set(c->err, E_TOOBIG, "reject line too long");
	return 0;
}

/* A row outbound_row() refused, with c->err saying why. on_bad_row: fail
 * turns the error into the render's own (a data error, not the
 * configuration's: the mapping is right, a value is not) and returns -1;
 * reject records the row and returns 1 (left out). Errors that are not
 * about the row return -1 as they are. */
static int bad_row(struct rctx *c, const char *(*get)(void *, const char *))
{
	struct err *e = c->err;
	const char *sku = get(c, "sku"), *loc = get(c, "location");
	char row[1000], who[1300], why[sizeof(e->reason)];
	struct err keep;

	if (!row_error(e->code))
		return -1;
	sku = sku ? sku : "";
	loc = loc ? loc : "";
	/* outbound's own messages name the row ("row sku 'X'..."); the
	 * rest (a CSV number column, a lookup miss) get it here. */
	if (!strncmp(e->reason, "row sku '", 9))
		snprintf(row, sizeof(row), "%s", e->reason);
	else if (*loc)
		snprintf(row, sizeof(row),
			 "row sku '%.100s', location '%.100s': %s", sku, loc,
			 e->reason);
	else
		snprintf(row, sizeof(row), "row sku '%.200s': %s", sku,
			 e->reason);
	if (c->t->bad_row_fail) {
		snprintf(who, sizeof(who), "target '%.100s', %s", c->t->name,
			 row);
		set_cut(why, sizeof(why), who);
		e->code = E_VALIDATE;
		memcpy(e->reason, why, sizeof(why));
		return -1;
	}
	if (!c->rs->rejects) {
		snprintf(who, sizeof(who), "%s%s%s", e->field,
			 e->field[0] ? ": " : "", row);
		set_cut(c->rs->first_reject, sizeof(c->rs->first_reject),
			who);
	}
	c->rs->rejects++;
	keep = *e;
	err_clear(e);
	if (c->reject_path) {
		if (reject_line(c, get, &keep, sku, loc) < 0)
			return -1;
		if (!c->rej_open) {
			if (io_atomic_open(&c->rej, c->reject_path, e) < 0)
				return -1;
			c->rej.no_hash = 1;
			c->rej_open = 1;
		}
		if (io_atomic_write(&c->rej, c->line.ptr, c->line.len, e) < 0)
			return -1;
	}
	return 1;
}

/* Writes the current row; its item fields must be fetched already.
 * Returns 0, 1 when the row was left out (bad_row), or -1. */
static int emit_stock_row(struct rctx *c)
{
	int nseg;

	buf_reset(&c->line);
	arena_reset(&c->a);
	if ((nseg = outbound_row(c->ob, stock_get, c, &c->a, &c->line,
				 c->err)) < 0)
		return bad_row(c, stock_get);
	if (c->line.err) {
		err_set(c->err, E_TOOBIG, "rendered row too long");
		return bad_row(c, stock_get);
	}
	c->segments += nseg;
	if (row_out(c, c->line.ptr, c->line.len) < 0)
		return -1;
	c->rs->rows++;
	return 0;
}

static int on_position(void *ud, const struct state_position *p)
{
	struct rctx *c = ud;
	const char *loc = c->t->per_location ? p->location : "";

	if (!location_wanted(c->t, p))
		return 0;
	if (c->cur.has &&
	    (strcmp(c->cur.sku, p->sku) || strcmp(c->cur.location, loc)))
		if (flush_row(c) < 0)
			return -1;
	if (!c->cur.has) {
		int cut = copy_cut(c->cur.sku, sizeof(c->cur.sku), p->sku);

		copy_cut(c->cur.location, sizeof(c->cur.location), loc);
		c->cur.has = 1;
		if (row_item(c, p, cut) < 0)
			return -1;
	}
	if (p->state >= 0 && p->state < STOCK_NSTATES)
		c->cur.by_state[p->state] += p->qty;
	if (p->as_of > c->cur.as_of)
		c->cur.as_of = p->as_of;
	return 0;
}

static const char *item_get(void *ud, const char *name)
{
	struct rctx *c = ud;
	int i;

	if (!strcmp(name, "price"))
		return c->available[0] ? c->available : NULL;
	if (!strcmp(name, "currency"))
		return c->on_hand[0] ? c->on_hand : NULL;
	i = canon_field_index(CANON_ITEM, name);
	return i >= 0 ? c->item[i] : NULL;
}

static int on_item(void *ud, const char *const *item, const char *price,
		   const char *currency)
{
	struct rctx *c = ud;
	int i;

	for (i = 0; i < ITEM_NFIELDS; i++)
		c->item[i] = item[i];
	/* Reuse the fixed row buffers for price and currency. */
	snprintf(c->available, sizeof(c->available), "%s", price ? price : "");
	snprintf(c->on_hand, sizeof(c->on_hand), "%s",
		 currency ? currency : "");
	buf_reset(&c->line);
	arena_reset(&c->a);
	if ((i = outbound_row(c->ob, item_get, c, &c->a, &c->line,
			      c->err)) < 0)
		return bad_row(c, item_get) < 0 ? -1 : 0;
	c->segments += i;
	if (row_out(c, c->line.ptr, c->line.len) < 0)
		return -1;
	c->rs->rows++;
	return 0;
}

/* Appends the body file (fd, read from its start) to a, through buf
 * (n bytes); 0 or -1. */
static int append_body(struct io_atomic *a, int fd, const char *path,
		       char *buf, size_t n, struct err *err)
{
	ssize_t got;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_sys(err, "cannot rewind '%s'", path);
	for (;;) {
		got = read(fd, buf, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return err_sys(err, "cannot read '%s'", path);
		if (!got)
			return 0;
		if (io_atomic_write(a, buf, (size_t)got, err) < 0)
			return -1;
	}
}

/* The folder of out_path, where the positions' scratch copy goes. */
static int share_dir(const char *out_path, char *dir, size_t n,
		     struct err *err)
{
	char *slash;

	if (copy_cut(dir, n, out_path))
		return err_set(err, E_IO, "path too long: '%s'", out_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		snprintf(dir, n, ".");
	return 0;
}

/* The rows a stock target gets, counted before they are rendered: one
 * per (sku[, location]) group on_position starts, compared as it
 * compares them. */
struct rcount {
	const struct cfg_target *t;
	char sku[sizeof(((struct row *)0)->sku)];
	char loc[sizeof(((struct row *)0)->location)];
	int has;
	int64_t n;
};

static int count_position(void *ud, const struct state_position *p)
{
	struct rcount *k = ud;
	const char *loc = k->t->per_location ? p->location : "";

	if (!location_wanted(k->t, p))
		return 0;
	if (k->has && !strcmp(k->sku, p->sku) && !strcmp(k->loc, loc))
		return 0;
	copy_cut(k->sku, sizeof(k->sku), p->sku);
	copy_cut(k->loc, sizeof(k->loc), loc);
	k->has = 1;
	k->n++;
	return 0;
}

/* An enveloped format whose header needs only the row count (xml: no
 * control number) on a full stock snapshot, when the run's renders
 * share the positions: the rows are counted first (a replay of the
 * copy, no formatting), so the header goes first and the rows straight
 * after it, with no body file written and read back. A row left out
 * (on_bad_row: reject) makes the count wrong: render_target then
 * renders again with the body file. */
static int count_first(const struct rctx *c)
{
	const struct outbound *ob = c->ob;

	return !outbound_header_fixed(ob) && !outbound_counter(ob) &&
	       !c->t->delta && !strcmp(outbound_kind(ob), "stock") &&
	       (c->src || render_share_on());
}

/* The positions, from the store (or the run's copy: render_share.h) or,
 * for a part, from the copy being written. */
static int positions(struct rctx *c, const char *dir,
		     int (*cb)(void *ud, const struct state_position *p),
		     void *ud)
{
	if (c->src)
		return render_share_src_replay(c->src, cb, ud, c->err);
	return render_share_positions(c->st, c->t->nlocation_types != 0, dir,
				      cb, ud, c->err);
}

static int count_rows(struct rctx *c, const char *out_path, int64_t *n)
{
	struct rcount k;
	char dir[4200];

	memset(&k, 0, sizeof(k));
	k.t = c->t;
	if (share_dir(out_path, dir, sizeof(dir), c->err) < 0 ||
	    positions(c, dir, count_position, &k) < 0)
		return -1;
	*n = k.n;
	return 0;
}

/* Writes the rows: the items, or the positions with their published
 * picture and, for a delta, the rows gone since prev_pub; 0 or -1. */
static int render_rows(struct rctx *c, const char *out_path,
		       const char *prev_pub)
{
	const struct cfg_target *t = c->t;
	struct err *err = c->err;
	char pub[4300], dir[4200];

	if (!strcmp(outbound_kind(c->ob), "item"))
		return state_items_each(c->st, on_item, c, err) < 0 ? -1 : 0;
	snprintf(pub, sizeof(pub), "%s.pub", out_path);
	if (io_atomic_open(&c->pub, pub, err) < 0)
		return -1;
	/* read by the next delta, `show --html` and gc, never by its hash */
	c->pub.no_hash = 1;
	if (io_atomic_async(&c->pub, err) < 0)
		return -1;
	c->pub_open = 1;
	if (t->delta && prev_pub) {
		if (gz_open(&c->prev_gz, prev_pub, err) < 0) {
			err_set(err, E_IO, "cannot open the last published "
					   "picture '%s'",
				prev_pub);
			return -1;
		}
		c->prev = c->prev_gz->f;
		if (prev_next(c) < 0)
			return -1;
	}
	/* Location types are looked up only when the target
	 * selects locations by type. The run's other targets replay this
	 * read (render_share.h); its scratch copy goes beside the picture. */
	if (share_dir(out_path, dir, sizeof(dir), err) < 0)
		return -1;
	if (positions(c, dir, on_position, c) < 0 || flush_row(c) < 0)
		return -1;
	while (t->delta && c->prev_ok)
		if (emit_vanished(c) < 0)
			return -1;
	c->prev = NULL;
	/* a damaged .gz ends the picture early: the delta would be wrong */
	if (gz_close(c->prev_gz, err) < 0) {
		c->prev_gz = NULL;
		return -1;
	}
	c->prev_gz = NULL;
	/* a part publishes its picture with its file (render_publish) */
	if (c->defer)
		return 0;
	c->pub_open = 0;
	if (io_atomic_commit(&c->pub, NULL, err) < 0)
		return -1;
	return 0;
}

/* Decides what becomes of the reject file once the rows are known:
 * committed when rows were rejected, else an earlier one removed; 0 or -1. */
static int render_settle_rejects(struct rctx *c, const char *reject_path)
{
	c->settled = 1;
	/* The rows are known: their rejects are final whether or not the
	 * target needs the file. */
	if (c->rej_open) {
		c->rej_open = 0;
		if (io_atomic_commit(&c->rej, NULL, c->err) < 0)
			return -1;
	} else if (reject_path && unlink(reject_path) < 0 &&
		   errno != ENOENT) {
		/* An earlier attempt's rejects must not outlive it. */
		return err_sys(c->err, "cannot remove '%s'", reject_path);
	}
	return 0;
}

/* Computes the content key into key_hex from the outbound mapping's hash,
 * the delta's base and the rows' hash bsha; 0 or -1. */
static int render_content_key(const struct rctx *c, const char *prev_pub,
			      const char *bsha, char *key_hex)
{
	struct sha256 key;

	if (sha256_init(&key, c->err) < 0)
		return -1;
	sha256_update(&key, outbound_sha256(c->ob),
		      strlen(outbound_sha256(c->ob)));
	/* A delta means something only against its base: the same changed
	 * rows against another base are another delivery. */
	if (c->t->delta && prev_pub)
		sha256_update(&key, prev_pub, strlen(prev_pub));
	sha256_update(&key, bsha, strlen(bsha));
	sha256_final(&key, key_hex);
	return 0;
}

/* Creates the body file (and its folder, as io_atomic_open would);
 * 0 or -1. */
static int body_open(struct rctx *c, const char *body)
{
	char dir[4200];
	const char *slash = strrchr(body, '/');

	if (slash && slash != body) {
		if ((size_t)(slash - body) >= sizeof(dir))
			return err_set(c->err, E_IO, "path too long: '%s'",
				       body);
		memcpy(dir, body, (size_t)(slash - body));
		dir[slash - body] = '\0';
		if (io_mkdirs(dir, c->err) < 0)
			return -1;
	}
	c->body_fd = open(body, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
	if (c->body_fd < 0)
		return err_sys(c->err, "cannot create '%s'", body);
	return 0;
}

/* Publishes out_path as header, the body file, footer, now that the
 * envelope is known; 0 or -1. */
static int render_enveloped(struct rctx *c, struct outbound_env *env,
			    const char *out_path, const char *body,
			    char *sha_hex)
{
	struct io_atomic fin;
	struct err *err = c->err;

	if (io_atomic_open(&fin, out_path, err) < 0)
		return -1;
	buf_reset(&c->line);
	if (outbound_header(c->ob, env, &c->line, err) < 0 ||
	    io_atomic_write(&fin, c->line.ptr, c->line.len, err) < 0 ||
	    append_body(&fin, c->body_fd, body, c->obuf, sizeof(c->obuf),
			err) < 0)
		goto abort_fin;
	buf_reset(&c->line);
	if (outbound_footer(c->ob, env, &c->line, err) < 0 ||
	    io_atomic_write(&fin, c->line.ptr, c->line.len, err) < 0)
		goto abort_fin;
	return io_atomic_commit(&fin, sha_hex, err);
abort_fin:
	io_atomic_abort(&fin);
	return -1;
}

/* Opens where the rows go: the final file after its header when the
 * header is known before the rows (head_first: a fixed header, or the
 * rows counted), else the body file; 0 or -1. */
static int rows_open(struct rctx *c, struct outbound_env *env,
		     const char *out_path, const char *body, int head_first)
{
	if (!head_first)
		return body_open(c, body);
	/* The file and the rows are hashed, and the file written, by a
	 * thread of its own (io_wq.h) while this one formats: the rows are
	 * the bytes between the header and the footer. */
	if (io_atomic_open(&c->out, out_path, c->err) < 0 ||
	    io_atomic_async(&c->out, c->err) < 0)
		return -1;
	c->out_open = 1;
	buf_reset(&c->line);
	if (outbound_header(c->ob, env, &c->line, c->err) < 0 ||
	    io_atomic_write(&c->out, c->line.ptr, c->line.len, c->err) < 0)
		return -1;
	io_atomic_hash_also(&c->out, &c->rows_sha);
	c->rows_also = 1;
	return 0;
}

/* A render of t through ob into out_path: its context, or NULL with err.
 * st may be NULL when src is set (render_part_rows). */
static struct rctx *rctx_new(struct state *st, const struct cfg_target *t,
			     const struct outbound *ob, const char *out_path,
			     const char *reject_path, struct render_stats *rs,
			     struct err *err)
{
	static struct rctx zero;
	struct rctx *c;

	if (!(c = malloc(sizeof(*c)))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	*c = zero;
	c->body_fd = -1;
	c->st = st;
	c->t = t;
	c->ob = ob;
	c->rs = rs ? rs : &c->rs_own;
	memset(c->rs, 0, sizeof(*c->rs));
	c->err = err;
	c->reject_path = reject_path;
	c->direct = outbound_header_fixed(ob);
	buf_init(&c->line, 1 << 20);
	arena_init(&c->a, 8192, 1 << 20);
	/* The rows' hash (with the outbound mapping's) is the content key:
	 * envelopes carry control numbers and times that change every time,
	 * the rows only when the stock does. When the header and footer do
	 * not depend on the envelope (csv, jsonl), the rows go straight to
	 * the file after its header; otherwise to NAME.body first, copied
	 * between header and footer once the envelope is known. */
	if ((size_t)snprintf(c->body, sizeof(c->body), "%s.body", out_path) >=
	    sizeof(c->body)) {
		err_set(err, E_IO, "path too long: '%s'", out_path);
		goto fail;
	}
	if (sha256_init(&c->rows_sha, err) < 0)
		goto fail;
	c->rows_sha_open = 1;
	return c;
fail:
	buf_release(&c->line);
	arena_release(&c->a);
	free(c);
	return NULL;
}

/* Takes back whatever c did not publish and frees it. */
static void rctx_free(struct rctx *c)
{
	if (!c)
		return;
	if (c->out_open)
		io_atomic_abort(&c->out);
	if (c->body_fd >= 0)
		close(c->body_fd);
	if (c->pub_open)
		io_atomic_abort(&c->pub);
	if (c->rej_open)
		io_atomic_abort(&c->rej);
	if (c->prev_gz)
		gz_close(c->prev_gz, &(struct err)ERR_INIT);
	if (c->rows_sha_open)
		sha256_release(&c->rows_sha);
	if (!c->direct)
		unlink(c->body);
	buf_release(&c->line);
	arena_release(&c->a);
	free(c);
}

/* The first half of a render: the rows written (the file after its
 * header when direct or counted, else the body file), their picture and
 * rejects, the content key in c->key; nothing published unless c->defer
 * is off (then the picture and the rejects are). 0 or -1. */
static int render_rows_half(struct rctx *c, struct outbound_env *env,
			    const char *out_path, const char *prev_pub,
			    int may_count)
{
	char bsha[SHA256_HEX_LEN];

	c->now = env->now;
	c->counted = may_count && count_first(c);
	if (c->counted) {
		if (count_rows(c, out_path, &c->counted_rows) < 0)
			return -1;
		env->rows = c->counted_rows;
	}
	if (rows_open(c, env, out_path, c->body, c->direct || c->counted) < 0 ||
	    render_rows(c, out_path, prev_pub) < 0 || row_flush(c) < 0)
		return -1;
	if (!c->defer && render_settle_rejects(c, c->reject_path) < 0)
		return -1;
	if (c->rows_also) {
		c->rows_also = 0;
		if (io_atomic_hash_also_end(&c->out, c->err) < 0)
			return -1;
	}
	c->rows_sha_open = 0;
	sha256_final(&c->rows_sha, bsha);
	if (render_content_key(c, prev_pub, bsha, c->key) < 0)
		return -1;
	env->rows = c->rs->rows;
	env->segments = c->segments;
	return 0;
}

/* The second half, on the store's thread: the picture and the rejects
 * (when deferred), ready(), then the file published. 1 when the counted
 * rows were not the rows rendered (nothing published but the picture
 * and the rejects, which the next attempt publishes again), else 0 or
 * -1. */
static int render_publish_half(struct rctx *c, struct outbound_env *env,
			       const char *out_path, render_ready_fn ready,
			       void *ud, char *key_hex, char *sha_hex)
{
	struct err *err = c->err;
	int skip = 0;

	if (c->pub_open) {
		c->pub_open = 0;
		if (io_atomic_commit(&c->pub, NULL, err) < 0)
			return -1;
	}
	if (!c->settled && render_settle_rejects(c, c->reject_path) < 0)
		return -1;
	memcpy(key_hex, c->key, sizeof(c->key));
	env->rows = c->rs->rows;
	env->segments = c->segments;
	if (ready && ready(ud, key_hex, env, &skip, err) < 0)
		return -1;
	if (skip)
		return 0;
	if (c->counted && c->rs->rows != c->counted_rows)
		return 1; /* a row was left out: its header says one too many */
	if (c->direct || c->counted) {
		buf_reset(&c->line);
		if (outbound_footer(c->ob, env, &c->line, err) < 0 ||
		    io_atomic_write(&c->out, c->line.ptr, c->line.len, err) < 0)
			return -1;
		c->out_open = 0;
		return io_atomic_commit(&c->out, sha_hex, err);
	}
	return render_enveloped(c, env, out_path, c->body, sha_hex);
}

/* render_target's one attempt; may_count: count_first may be used.
 * As render_publish_half. */
static int render_once(struct state *st, const struct cfg_target *t,
		       const struct outbound *ob, struct outbound_env *env,
		       const char *out_path, const char *prev_pub,
		       const char *reject_path, render_ready_fn ready,
		       void *ud, char *key_hex, char *sha_hex,
		       struct render_stats *rs, struct err *err, int may_count)
{
	struct rctx *c = rctx_new(st, t, ob, out_path, reject_path, rs, err);
	int rc = -1;

	if (!c)
		return -1;
	if (render_rows_half(c, env, out_path, prev_pub, may_count) == 0)
		rc = render_publish_half(c, env, out_path, ready, ud, key_hex,
					 sha_hex);
	rctx_free(c);
	return rc;
}

/* ---- a render in two halves (render_par.h) ------------------------------ */

struct render_part {
	struct rctx *c;
	char out_path[4096];
};

int render_part_ok(const struct cfg_target *t, const struct outbound *ob)
{
	/* The rows of an item target, the delta's vanished rows and unit
	 * conversions read the store as they go. */
	return !strcmp(outbound_kind(ob), "stock") && !t->delta && !t->uom;
}

int render_part_rows(struct render_share_src *src, const struct cfg_target *t,
		     const struct outbound *ob, struct outbound_env *env,
		     const char *out_path, const char *reject_path,
		     struct render_part **out, struct err *err)
{
	struct render_part *p;

	*out = NULL;
	if (!render_part_ok(t, ob))
		return err_set(err, E_BUSY, "target '%s' needs the store to "
					    "render",
			       t->name);
	if (!(p = calloc(1, sizeof(*p))))
		return err_set(err, E_NOMEM, "out of memory");
	if (str_copy(p->out_path, sizeof(p->out_path), out_path) < 0) {
		free(p);
		return err_set(err, E_IO, "path too long: '%s'", out_path);
	}
	if (!(p->c = rctx_new(NULL, t, ob, out_path, reject_path, NULL,
			      err))) {
		free(p);
		return -1;
	}
	p->c->src = src;
	p->c->defer = 1;
	if (render_rows_half(p->c, env, out_path, NULL, 1) < 0) {
		render_part_free(p);
		return -1;
	}
	/* the source is the copy; it is not read again */
	p->c->src = NULL;
	*out = p;
	return 0;
}

int render_part_publish(struct render_part *p, struct outbound_env *env,
			render_ready_fn ready, void *ud, char *key_hex,
			char *sha_hex, struct render_stats *rs,
			struct err *err)
{
	struct rctx *c = p->c;
	int rc;

	*rs = c->rs_own;
	c->rs = rs;
	c->err = err;
	rc = render_publish_half(c, env, p->out_path, ready, ud, key_hex,
				 sha_hex);
	render_part_free(p);
	return rc;
}

void render_part_free(struct render_part *p)
{
	if (!p)
		return;
	rctx_free(p->c);
	free(p);
}

int render_target(struct state *st, const struct cfg_target *t,
		  const struct outbound *ob, struct outbound_env *env,
		  const char *out_path, const char *prev_pub,
		  const char *reject_path, render_ready_fn ready, void *ud,
		  char *key_hex, char *sha_hex, struct render_stats *rs,
		  struct err *err)
{
	int rc = render_once(st, t, ob, env, out_path, prev_pub, reject_path,
			     ready, ud, key_hex, sha_hex, rs, err, 1);

	/* The counted rows were wrong (rows left out): the body file, as
	 * every enveloped format had it before count_first. */
	if (rc == 1)
		rc = render_once(st, t, ob, env, out_path, prev_pub,
				 reject_path, ready, ud, key_hex, sha_hex, rs,
				 err, 0);
	return rc;
}

int render_source_stale(struct state *st, const struct config *cfg,
			const struct cfg_target *t, int64_t now, int *stale,
			char *why, size_t n, struct err *err)
{
	unsigned mask = t->sellable_mask | t->subtract_mask;
	int s;
	size_t i;

	*stale = 0;
	if (!t->stale_after)
		return 0;
	for (s = 0; s < 8; s++) {
		if (!(mask & (1u << s)))
			continue;
		for (i = 0; i < cfg->nauthority[s]; i++) {
			const char *src = cfg->authority[s][i];
			int64_t last;
			char iso[DT_ISO_LEN];
			int w;

			if (state_source_last_fetch(st, src, &last, err) < 0)
				return -1;
			if (last && now - last <= t->stale_after)
				continue;
			*stale = 1;
			if (last)
				dt_format_iso(last, iso);
			w = snprintf(why, n,
				     "source '%s' (system of record for %s) "
				     "has not delivered since %s",
				     src, stock_state_name(s),
				     last ? iso : "ever");
			if (w >= 0 && (size_t)w >= n && n > 4)
				memcpy(why + n - 4, "...", 4);
			return 0;
		}
	}
	return 0;
}

int render_stale_rule(struct state *st, const struct config *cfg,
		      const struct cfg_target *t, int64_t now,
		      struct cfg_target *tt, enum render_stale *verdict,
		      char *why, size_t n, struct err *err)
{
	int stale;

	*verdict = RENDER_FRESH;
	if (render_source_stale(st, cfg, t, now, &stale, why, n, err) < 0)
		return -1;
	if (!stale)
		return 0;
	if (t->stale_hold) {
		/* Hold the last published values: the target keeps what it
		 * has rather than receive a truth missing a source. */
		*verdict = RENDER_STALE_HOLD;
		return 0;
	}
	*verdict = RENDER_STALE_BUFFER;
	tt->safety_pct += t->stale_buffer_pct;
	if (tt->safety_pct > 100)
		tt->safety_pct = 100;
	return 0;
}
