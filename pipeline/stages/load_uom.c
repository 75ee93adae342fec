/* load_uom.c - see load_uom.h. */
#include "load_uom.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "pipeline/store/state_uom.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "lib/log.h"
#include "pipeline/run_int.h"
#include "transforms/model/dec.h"
#include "transforms/mapping/mapping.h"
#include "transforms/model/uom.h"

/* Rejects shown on stderr per document, as the map stage does. */
#define LU_SHOWN 5
/* Items remembered per document (base unit and pack sizes): slots of
 * the open-addressing table (48 bytes each, allocated on first use). */
#define LU_CACHE 65536

struct lu_item {
	char *sku; /* NULL: free slot */
	int found; /* an item master row exists */
	char base[UOM_CODE_MAX + 1];
	struct uom_pack *packs; /* malloc'd, npacks of them */
	size_t npacks;
};

struct load_uom {
	struct state *st;
	int64_t doc;
	int cleared; /* stock_event_units of doc deleted */
	const struct mapping_units *mu;
	char rpath[4400]; /* the document's reject file */
	struct buf rej;	  /* this load's reject lines */
	int64_t nrej, converted, rounded;
	int have_items;	       /* the items table has a row (or gets one) */
	struct lu_item *cache; /* LU_CACHE slots, open addressing */
	size_t ncache;
};

static const char *const origin_names[] = {"same", "record", "item", "table"};

int load_uom_open(struct src_ctx *sc, const struct state_unit *u,
		  struct load_uom **out, struct err *err)
{
	struct load_uom *l = calloc(1, sizeof(*l));
	struct state_unit *mu = malloc(sizeof(*mu));
	const struct mapping *m;
	int rc = -1;

	*out = NULL;
	if (!l || !mu) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	l->st = sc->r->st;
	l->doc = u->parent;
	buf_init(&l->rej, 256u << 20);
	/* The mapping the document was mapped with, chosen as the map
	 * stage chose it (routes, sniffing its inbox copy). */
	if (state_unit_get(l->st, u->parent, mu, err) < 0 ||
	    !(m = run_mapping_for(sc, mu->ukey, mu->input_path, err)))
		goto cleanup;
	l->mu = mapping_units(m);
	if (state_uom_items_any(l->st, &l->have_items, err) < 0)
		goto cleanup;
	if ((size_t)snprintf(
		    l->rpath, sizeof(l->rpath), "%s/rejects/%lld/%s/%lld.jsonl",
		    sc->r->cfg->state_dir, (long long)mu->run_id, mu->scope,
		    (long long)mu->id) >= sizeof(l->rpath)) {
		err_set(err, E_CONFIG, "reject file path too long");
		goto cleanup;
	}
	*out = l;
	l = NULL;
	rc = 0;
cleanup:
	free(mu);
	load_uom_close(l);
	return rc;
}

static void cache_clear(struct load_uom *l);

void load_uom_close(struct load_uom *l)
{
	if (!l)
		return;
	cache_clear(l);
	free(l->cache);
	buf_release(&l->rej);
	free(l);
}

/* Forgets what an earlier load of the document recorded (inside the
 * load's transaction, like state_unload_doc). */
static int clear_doc(struct load_uom *l, struct err *err)
{
	if (l->cleared)
		return 0;
	if (state_uom_doc_clear(l->st, l->doc, err) < 0)
		return -1;
	l->cleared = 1;
	return 0;
}

static void cache_clear(struct load_uom *l)
{
	size_t i;

	for (i = 0; l->cache && i < LU_CACHE; i++) {
		free(l->cache[i].sku);
		free(l->cache[i].packs);
		l->cache[i].sku = NULL;
		l->cache[i].packs = NULL;
	}
	l->ncache = 0;
}

static size_t sku_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The cache slot of sku (found or free); the cache is emptied when it
 * is three quarters full. */
static struct lu_item *slot(struct load_uom *l, const char *sku,
			    struct err *err)
{
	size_t i;

	if (!l->cache && !(l->cache = calloc(LU_CACHE, sizeof(*l->cache)))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	if (l->ncache >= LU_CACHE / 4 * 3)
		cache_clear(l);
	for (i = sku_hash(sku) % LU_CACHE;; i = (i + 1) % LU_CACHE)
		if (!l->cache[i].sku || !strcmp(l->cache[i].sku, sku))
			return &l->cache[i];
}

/* The item master's base unit and pack sizes of sku. */
static const struct lu_item *item_of(struct load_uom *l, const char *sku,
				     struct err *err)
{
	struct lu_item *it = slot(l, sku, err);
	struct uom_pack packs[UOM_PACKS_MAX];

	if (!it)
		return NULL;
	if (it->sku)
		return it;
	memset(it, 0, sizeof(*it));
	if (!(it->sku = strdup(sku)))
		return err_set(err, E_NOMEM, "out of memory"), NULL;
	l->ncache++;
	if (!l->have_items)
		return it; /* the store holds no item master yet */
	if (state_uom_item(l->st, sku, it->base, packs, UOM_PACKS_MAX,
			   &it->npacks, &it->found, err) < 0)
		return NULL;
	if (it->npacks) {
		if (!(it->packs = malloc(it->npacks * sizeof(*packs))))
			return err_set(err, E_NOMEM, "out of memory"), NULL;
		memcpy(it->packs, packs, it->npacks * sizeof(*packs));
	}
	return it;
}

static void forget(struct load_uom *l, const char *sku)
{
	size_t i;

	if (!l->cache)
		return;
	/* Clearing the whole cache keeps the probe chains intact. */
	for (i = sku_hash(sku) % LU_CACHE; l->cache[i].sku;
	     i = (i + 1) % LU_CACHE)
		if (!strcmp(l->cache[i].sku, sku)) {
			cache_clear(l);
			return;
		}
}

/* An item record: its pack sizes replace the item's rows in item_units,
 * under the items table's rule (an older as_of does not overwrite). */
static int load_item(struct load_uom *l, const struct canon_record *r,
		     struct err *err)
{
	struct uom_pack packs[UOM_PACKS_MAX];
	size_t n = 0;
	const char *sku = r->v[ITEM_SKU], *as_of = r->v[ITEM_AS_OF];
	int stale;

	if (!sku)
		return 0;
	if (r->v[ITEM_PACK_SIZES] &&
	    uom_packs_parse(r->v[ITEM_PACK_SIZES], packs, UOM_PACKS_MAX, &n,
			    err) < 0)
		return -1;
	forget(l, sku);
	l->have_items = 1;
	if (state_uom_item_newer(l->st, sku, as_of, &stale, err) < 0)
		return -1;
	if (stale)
		return 0;
	return state_uom_packs_set(l->st, sku, packs, n, as_of, l->doc, err);
}

/* Queues the reject line of r for the document's reject file. */
static int reject(struct load_uom *l, const struct canon_record *r,
		  const char *line, size_t n, const struct err *why,
		  struct err *err)
{
	struct mapping_reject rj;
	char reason[700];

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	snprintf(reason, sizeof(reason), "field '%s': %s",
		 why->field[0] ? why->field : "uom", why->reason);
	memset(&rj, 0, sizeof(rj));
	rj.file = r->lin.file;
	rj.line = r->lin.line;
	rj.field = why->field[0] ? why->field : "uom";
	rj.reason = reason;
	rj.raw = line;
	rj.raw_len = n;
	mapping_reject_to_jsonl(&rj, &l->rej);
	/* "...}\n" -> "...,"stage":"load"}\n": what a redone load replaces */
	if (!l->rej.err)
		buf_setlen(&l->rej, l->rej.len - 2);
	buf_adds(&l->rej, ",\"stage\":\"load\"}\n");
	if (l->rej.err)
		return err_set(err, l->rej.err,
			       "the load's reject lines exceed %zu bytes",
			       l->rej.max);
	if (++l->nrej <= LU_SHOWN) {
		struct log_at at = {rj.file, rj.line, 0, rj.field, EC_DATA,
				    why->code ? why->code : E_VALIDATE};

		log_at("warn", &at, "    %s:%lu: %s",
		       r->lin.file ? r->lin.file : "", r->lin.line, reason);
	}
	return 1;
}

int load_uom_record(struct load_uom *l, struct canon_record *r,
		    const char *line, size_t n, struct arena *a,
		    struct err *err)
{
	int iq = r->kind == CANON_STOCK ? STOCK_QUANTITY : PRICE_AMOUNT;
	int iu = r->kind == CANON_STOCK ? STOCK_UOM : PRICE_UOM;
	int ip = r->kind == CANON_STOCK ? STOCK_PACK_SIZE : PRICE_PACK_SIZE;
	struct uom_sources src;
	struct uom_conv cv;
	const struct lu_item *it;
	struct err why = ERR_INIT;
	dec q, out;
	int rounded;
	char num[24], *v;

	if (r->kind == CANON_ITEM)
		return load_item(l, r, err);
	if (r->kind != CANON_STOCK && r->kind != CANON_PRICE)
		return 0;
	/* No unit and no pack size: the record is in base units. */
	if (!r->v[iu] && !r->v[ip])
		return 0;
	if (!r->v[STOCK_SKU])
		return 0; /* the store refuses it (NOT NULL), as before */
	/* No item master at all: the base unit is the mapping's or EA. */
	if (!l->have_items && !r->v[ip] &&
	    !strcmp(r->v[iu], l->mu && l->mu->base_uom ? l->mu->base_uom
							: UOM_DEFAULT_BASE))
		return 0;
	if (!(it = item_of(l, r->v[STOCK_SKU], err)))
		return -1;
	memset(&src, 0, sizeof(src));
	src.sku = r->v[STOCK_SKU];
	src.item_base = it->found && it->base[0] ? it->base : NULL;
	src.packs = it->packs;
	src.npacks = it->npacks;
	src.map_base = l->mu ? l->mu->base_uom : NULL;
	src.table = l->mu ? l->mu->table : NULL;
	if (uom_resolve(r->v[iu], r->v[ip], &src, &cv, &why) < 0)
		return reject(l, r, line, n, &why, err);
	if (cv.origin == UOM_SAME && (!r->v[iu] || !strcmp(r->v[iu], cv.base)))
		return 0;
	if (!r->v[iq] || dec_parse(r->v[iq], strlen(r->v[iq]), '.', 0, &q))
		return err_set(err, E_VALIDATE,
			       "%s record not in canonical form",
			       canon_kind_name(r->kind));
	if ((r->kind == CANON_STOCK
		     ? uom_qty(q, cv.factor, &out, &rounded)
		     : uom_price(q, cv.factor, &out, &rounded)) < 0) {
		err_set(&why, E_VALIDATE,
			"'%s' in '%s' is too large in base unit '%s'", r->v[iq],
			r->v[iu] ? r->v[iu] : cv.unit, cv.base);
		return reject(l, r, line, n, &why, err);
	}
	if (r->kind == CANON_STOCK && clear_doc(l, err) < 0)
		return -1;
	if (r->kind == CANON_STOCK && r->v[STOCK_TXN_ID]) {
		struct state_uom_event ev;

		ev.txn_id = r->v[STOCK_TXN_ID];
		ev.doc = l->doc;
		ev.sku = r->v[STOCK_SKU];
		ev.uom = cv.base;
		ev.in_uom = r->v[iu] ? r->v[iu] : cv.unit;
		ev.in_qty = q;
		ev.factor = cv.factor;
		ev.origin = origin_names[cv.origin];
		if (state_uom_event_add(l->st, &ev, err) < 0)
			return -1;
	}
	dec_format(out, num);
	if (!(v = arena_strdup(a, num)) ||
	    !(r->v[iu] = arena_strdup(a, cv.base)))
		return err_set(err, E_NOMEM, "out of memory");
	r->v[iq] = v;
	r->v[ip] = NULL;
	/* canon.h: who changes v[i] sets len[i] again (0: strlen) */
	r->len[iq] = r->len[iu] = r->len[ip] = 0;
	l->converted++;
	l->rounded += rounded;
	return 0;
}

/* Rewrites the reject file: the map stage's lines, then this load's
 * (lines of an earlier attempt of this load are dropped). */
static int publish_rejects(struct load_uom *l, struct err *err)
{
	static const char mark[] = ",\"stage\":\"load\"}";
	struct io_atomic fa;
	struct err oe = ERR_INIT;
	struct gz_in *g = NULL;
	char *line = NULL;
	size_t cap = 0, ml = sizeof(mark) - 1;
	ssize_t n;
	int had_ours = 0, opened = 0, rc = -1;

	/* The map's lines are kept: from the .gz when the run was
	 * compacted (lib/gz.h; `rerun --from load`). */
	if (gz_open(&g, l->rpath, &oe) < 0) {
		if (oe.os_code != ENOENT) {
			*err = oe;
			return -1;
		}
		if (!l->nrej)
			return 0;
	} else if (!l->nrej && g->size == 0) {
		return gz_close(g, err);
	}
	/* Only a file that holds load lines, or gets some, is rewritten. */
	if (g && !l->nrej) {
		while ((n = gz_getline(&line, &cap, g)) > 0) {
			size_t k = (size_t)n;

			while (k && line[k - 1] == '\n')
				k--;
			if (k >= ml && !memcmp(line + k - ml, mark, ml)) {
				had_ours = 1;
				break;
			}
		}
		rc = gz_close(g, err);
		g = NULL;
		if (rc < 0 || !had_ours)
			goto cleanup;
		rc = -1;
		/* again from the start (a .gz stream does not seek) */
		if (gz_open(&g, l->rpath, err) < 0)
			goto cleanup;
	}
	if (io_atomic_open(&fa, l->rpath, err) < 0)
		goto cleanup;
	opened = 1;
	while (g && (n = gz_getline(&line, &cap, g)) > 0) {
		size_t k = (size_t)n;

		while (k && line[k - 1] == '\n')
			k--;
		if (k >= ml && !memcmp(line + k - ml, mark, ml))
			continue;
		if (io_atomic_write(&fa, line, (size_t)n, err) < 0)
			goto cleanup;
	}
	rc = gz_close(g, err);
	g = NULL;
	if (rc < 0)
		goto cleanup;
	rc = -1;
	if (io_atomic_write(&fa, l->rej.ptr, l->rej.len, err) < 0)
		goto cleanup;
	opened = 0;
	if (io_atomic_commit(&fa, NULL, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (opened)
		io_atomic_abort(&fa);
	free(line);
	gz_close(g, &oe);
	return rc;
}

/* Appends to the note dst (n bytes); a cut note ends in "...". */
static void note(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(char *dst, size_t n, const char *fmt, ...)
{
	size_t dl = strlen(dst);
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(dst + dl, n - dl, fmt, ap);
	va_end(ap);
	if (w >= 0 && (size_t)w >= n - dl && n > 4)
		memcpy(dst + n - 4, "...", 4);
}

int load_uom_finish(struct load_uom *l, struct state_unit *u, struct err *err)
{
	size_t dl = strlen(u->detail);
	int rc = -1;

	if (clear_doc(l, err) < 0 || publish_rejects(l, err) < 0)
		goto cleanup;
	u->rejects += l->nrej;
	u->converted += l->converted;
	if (l->converted)
		note(u->detail, sizeof(u->detail),
		     "%s%lld record(s) converted to base units", dl ? "; " : "",
		     (long long)l->converted);
	if (l->rounded)
		note(u->detail, sizeof(u->detail),
		     " (%lld rounded half to even at %d decimals)",
		     (long long)l->rounded, DEC_DIGITS);
	dl = strlen(u->detail);
	if (l->nrej)
		note(u->detail, sizeof(u->detail),
		     "%s%lld record(s) rejected: unit not convertible, see %s",
		     dl ? "; " : "", (long long)l->nrej, l->rpath);
	rc = 0; /* u->converted is saved with the unit */
cleanup:
	load_uom_close(l);
	return rc;
}
