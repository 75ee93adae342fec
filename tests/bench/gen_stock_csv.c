/* gen_stock_csv.c - deterministic store stock CSV for benchmarks.
 *
 *   gen_stock_csv ROWS [SEED [STORES]] > stock.csv
 *
 * Writes a UTF-8 byte order mark, a header and ROWS records in the POS
 * store stock export format of mappings/stores/store_stock_csv.yaml,
 * `store,sku,qty,status,counted_at`: STORES stores (default 50, codes
 * F001.., which the bench's stores lookup maps), each with ROWS/STORES
 * distinct SKUs, status OK (90%), RES (7%) or DMG (3%), counted_at in
 * local "YYYY-MM-DD HH:MM". About one row in eight quotes its SKU and one
 * in twenty quotes the timestamp, so the CSV reader's quoted path is
 * exercised. The same arguments always give the same bytes (splitmix64).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int usage(void)
{
	fprintf(stderr, "usage: gen_stock_csv ROWS [SEED [STORES]]\n");
	return 64;
}

int main(int argc, char **argv)
{
	uint64_t rows, stores = 50, per_store, skus, i;
	static char out[1 << 16];

	if (argc < 2 || argc > 4)
		return usage();
	rows = strtoull(argv[1], NULL, 10);
	rng = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	if (argc > 3)
		stores = strtoull(argv[3], NULL, 10);
	if (!stores || stores > 999)
		return usage();
	setvbuf(stdout, out, _IOFBF, sizeof(out));
	per_store = (rows + stores - 1) / stores;
	/* A SKU range with no factor 7919 so i * 7919 % skus is a
	 * permutation: every (store, sku) pair appears at most once. */
	skus = per_store < 1000 ? 1000 : per_store;
	if (skus % 7919 == 0)
		skus++;
	fputs("\xef\xbb\xbfstore,sku,qty,status,counted_at\n", stdout);
	for (i = 0; i < rows; i++) {
		uint64_t store = i / per_store + 1;
		uint64_t k = i % per_store;
		uint64_t sku = (k * 7919 + store * 13) % skus + 1;
		uint64_t r = next();
		unsigned qty = (unsigned)(r % 500);
		unsigned pick = (unsigned)((r >> 16) % 100);
		const char *status = pick < 90 ? "OK" : pick < 97 ? "RES" : "DMG";
		unsigned hour = 6 + (unsigned)((r >> 24) % 4);
		unsigned min = (unsigned)((r >> 32) % 60);
		int qsku = ((r >> 40) % 8) == 0;
		int qts = ((r >> 44) % 20) == 0;

		if (pick >= 90)
			qty %= 20;
		printf("F%03" PRIu64 ",%sKW-%07" PRIu64 "%s,%u,%s,"
		       "%s2026-11-20 %02u:%02u%s\n",
		       store, qsku ? "\"" : "", sku, qsku ? "\"" : "", qty,
		       status, qts ? "\"" : "", hour, min, qts ? "\"" : "");
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen_stock_csv");
		return 74;
	}
	return 0;
}
