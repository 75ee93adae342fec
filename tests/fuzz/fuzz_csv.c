/* fuzz_csv.c - libFuzzer harness for the CSV reader (csv_reader.h).
 * Corpus: tests/corpus/csv/.
 *
 * Option bytes (the first two input bytes; the rest is the document):
 *	byte 0 bits 0-2  read chunk (fz_chunk_from_bits)
 *	       bits 3-4  delimiter: ',' ';' TAB '|'
 *	       bit  5    header
 *	       bit  6    trim
 *	       bit  7    comment '#'
 *	byte 1 bits 0-1  encoding: UTF-8, ISO-8859-1, UTF-16, WINDOWS-1252
 *	       bits 2-3  max_record: 1 MiB, 64, 1000, 70000
 *	       bit  4    max_field 16
 *	       bits 5-6  skip_lines 0..3
 * Invariants: fields, their lengths and the raw record agree (no field
 * longer than max_field, no record longer than max_record), records are
 * numbered 1, 2, 3... in increasing line order, header columns are found
 * by name; an error carries a code and ends the file.
 */
#include <string.h>
#include <unistd.h>

#include "transforms/formats/csv_reader.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delim[4] = { ',', ';', '\t', '|' };
	static const char *const enc[4] = { NULL, "ISO-8859-1", "UTF-16",
					    "WINDOWS-1252" };
	static const size_t maxrec[4] = { 0, 64, 1000, 70000 };
	struct csv_reader_opts o;
	struct csv_reader *r = NULL;
	const struct csv_row *row, *h;
	struct err err = ERR_INIT;
	unsigned long index = 0, line = 0;
	unsigned o0, o1;
	size_t skip, i;
	int fd, rc;

	if (size < 1)
		return 0;
	o0 = data[0];
	o1 = size > 1 ? data[1] : 0;
	skip = size > 1 ? 2 : 1;
	csv_reader_opts_init(&o);
	o.delimiter = delim[(o0 >> 3) & 3];
	o.header = (o0 >> 5) & 1;
	o.trim = (o0 >> 6) & 1;
	o.comment = (o0 >> 7) & 1 ? '#' : 0;
	o.encoding = enc[o1 & 3];
	o.max_record = maxrec[(o1 >> 2) & 3];
	o.max_field = (o1 >> 4) & 1 ? 16 : 0;
	o.skip_lines = (o1 >> 5) & 3;
	fd = fz_memfd(data + skip, size - skip);
	FZ_CHECK(fd >= 0);
	fz_set_chunk(fd, fz_chunk_from_bits(o0));
	if (csv_reader_open_fd(&r, fd, "fuzz.csv", &o, &err)) {
		FZ_CHECK(err.code != E_NONE);
		fz_set_chunk(-1, 0);
		close(fd);
		return 0;
	}
	if ((h = csv_reader_header(r)) != NULL) {
		FZ_CHECK(o.header);
		for (i = 0; i < h->n; i++) {
			int c = csv_reader_column(r, h->f[i]);

			/* The first column of that name. */
			FZ_CHECK(c >= 0 && (size_t)c <= i);
			FZ_CHECK(!strcmp(h->f[c], h->f[i]));
		}
		line = h->line;
	}
	for (i = 1; i <= o.skip_lines; i++)
		FZ_CHECK(csv_reader_preamble(r, (unsigned)i) != NULL);
	while ((rc = csv_reader_next(r, &row, &err)) == 1) {
		size_t max_field = o.max_field ? o.max_field
			: o.max_record ? o.max_record : (size_t)1 << 20;

		FZ_CHECK(row->index == ++index);
		FZ_CHECK(row->line > line);
		line = row->line;
		FZ_CHECK(row->raw && row->raw[row->raw_len] == '\0');
		for (i = 0; i < row->n; i++) {
			FZ_CHECK(row->f[i] && row->f[i][row->len[i]] == '\0');
			FZ_CHECK(row->len[i] <= max_field);
			if (!row->bad)
				FZ_CHECK(strlen(row->f[i]) == row->len[i]);
		}
	}
	if (rc != 0)
		FZ_CHECK(rc == -1 && err.code != E_NONE);
	else
		FZ_CHECK(err.code == E_NONE);
	csv_reader_free(r);
	fz_set_chunk(-1, 0);
	close(fd);
	return 0;
}
