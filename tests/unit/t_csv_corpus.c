/* t_csv_corpus.c - every real-world CSV file in ../shared/data/csv read
 * by the streaming reader: the record and column counts agree with
 * Python's csv module on the same files (measured when this table was
 * written), ragged rows are counted, and the one file with a NUL byte has
 * that record refused with the reason. Skips cleanly when the shared
 * folder is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/formats/csv_reader.h"
#include "t.h"

static const struct {
	const char *file;
	char delim;
	const char *encoding;
	size_t cols;
	long rows;     /* data records after the header */
	long uneven;   /* records refused or of another width */
	const char *why; /* reason of the first refused record, or NULL */
} files[] = {
	{"encoding/csvkit_test_latin1.csv", ',', "iso-8859-1", 3, 2, 0, NULL},
	{"encoding/csvkit_test_utf8_bom.csv", ',', NULL, 3, 2, 0, NULL},
	{"errors/csvkit_bad_ragged_rows.csv", ',', NULL, 3, 3, 2, NULL},
	{"errors/shopware6_products_with_invalid_rows.csv", ';', NULL, 21, 10,
	 0, NULL},
	{"item-master/bots_articledata_pricat-source_semicolon.csv", ';', NULL,
	 10, 3, 0, NULL},
	{"item-master/magento_products_gear_watches_qty_embedded-newline.csv",
	 ',', NULL, 17, 9, 0, NULL},
	{"item-master/shopware6_products_semicolon_stock.csv", ';', NULL, 46,
	 60, 0, NULL},
	{"item-master/shopware6_products_with_variants_utf8.csv", ';', NULL, 47,
	 2, 0, NULL},
	{"other/bots_alto_ETRDTL_headerless.csv", ',', NULL, 6, 4, 0, NULL},
	{"other/bots_alto_ETRHDR_headerless.csv", ',', NULL, 9, 3, 0, NULL},
	{"other/magento_orders_json-in-csv.csv", ',', NULL, 6, 2, 0, NULL},
	{"pos/bots_slsrpt_sales_semicolon_decimal-comma.csv", ';', NULL, 5,
	 195, 0, NULL},
	{"quirks/csvkit_locale_decimal-comma.csv", ',', NULL, 3, 1, 0, NULL},
	{"quirks/csvkit_null_byte.csv", ',', NULL, 3, 1, 1,
	 "field contains a NUL byte"},
};

T_TEST(csv_corpus_shared_files)
{
	const char *src = getenv("STOCKPIPE_SRCDIR");
	char dir[4096], path[4300];
	size_t i;
	FILE *probe;

	snprintf(dir, sizeof(dir), "%s/../shared/data/csv", src ? src : ".");
	snprintf(path, sizeof(path), "%s/%s", dir, files[0].file);
	if (!(probe = fopen(path, "rb")))
		T_SKIP("%s not present", dir);
	fclose(probe);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct csv_reader_opts o;
		struct csv_reader *r = NULL;
		struct err e = ERR_INIT;
		const struct csv_row *row;
		const char *why = NULL;
		long rows = 0, uneven = 0;
		int rc;

		csv_reader_opts_init(&o);
		o.delimiter = files[i].delim;
		o.header = 1;
		o.encoding = files[i].encoding;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
		T_OK(csv_reader_open(&r, path, files[i].file, &o, &e), &e);
		while ((rc = csv_reader_next(r, &row, &e)) == 1) {
			rows++;
			if (row->bad && !why)
				why = row->bad;
			if (row->bad || row->n != files[i].cols)
				uneven++;
		}
		if (rc < 0) {
			csv_reader_free(r);
			T_OK(rc, &e);
		}
		if (csv_reader_header(r)->n != files[i].cols ||
		    rows != files[i].rows || uneven != files[i].uneven ||
		    (files[i].why && (!why || strcmp(why, files[i].why)))) {
			fprintf(stderr, "  %s: %zu cols, %ld rows, %ld uneven\n",
				files[i].file, csv_reader_header(r)->n, rows,
				uneven);
			csv_reader_free(r);
			T_FAIL("counts differ for %s", files[i].file);
		}
		csv_reader_free(r);
	}
}
