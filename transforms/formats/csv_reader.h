/* csv_reader.h - streaming CSV records with their physical line numbers.
 *
 * Built on libcsv in strict mode. The reader decodes the input to UTF-8 as
 * it streams (iconv for legacy encodings, UTF-8 validated otherwise, a
 * leading BOM dropped), hands out one record at a time together with the
 * 1-based physical line where the record STARTS (a quoted field may span
 * lines) and the raw decoded bytes of the record for reject files. Memory is
 * bounded by the configured record size, independent of the file size; all
 * buffers are reused, so the steady state allocates nothing per record.
 *
 * Problems with one record (a strict-mode quoting error the reader can
 * resynchronise from at the end of the line, a NUL byte in a field) are
 * reported on that record (row->bad) and the file goes on. Problems that
 * make the rest of the file unreadable (invalid bytes for the encoding, a
 * record past the size bound, an unterminated quoted field at the end of
 * the file, a read error) fail csv_reader_next() with the line number.
 */
#ifndef STOCKPIPE_CSV_READER_H
#define STOCKPIPE_CSV_READER_H

#include <stddef.h>

#include "lib/err.h"

struct csv_reader_opts {
	char delimiter;          /* ',' by default */
	char quote;              /* '"' by default */
	int header;              /* first record names the columns */
	const char *encoding;    /* iconv name; NULL/"utf-8" = UTF-8 */
	size_t max_record;       /* bytes per record (raw); 0 = 1 MiB */
	size_t max_field;        /* bytes per field; 0 = max_record */
	int trim;                /* strip blanks around unquoted fields */
	int skip_blank;          /* skip blank lines (always on: libcsv) */
	char comment;            /* lines starting with this are skipped; 0 = off */
	unsigned skip_lines;     /* physical lines kept as preamble, before header */
};

/* Fills the defaults above. */
void csv_reader_opts_init(struct csv_reader_opts *o);

struct csv_row {
	size_t n;                /* number of fields */
	const char **f;          /* NUL-terminated field values */
	const size_t *len;       /* field lengths */
	unsigned long line;      /* physical line where the record starts */
	unsigned long index;     /* 1-based data record number (header excluded) */
	const char *raw;         /* raw decoded bytes, line end excluded, NUL-terminated */
	size_t raw_len;
	const char *bad;         /* NULL, or why the record is unusable */
};

struct csv_reader;

/* Opens path for reading with opts (copied). name is used in messages
 * (borrowed for the reader's lifetime). When opts->header is set the
 * header is read here and is available from csv_reader_header(). Returns
 * 0, or -1 with err (E_IO, E_CONFIG for an unknown encoding, or a
 * csv_reader_next() failure while reading the header). */
int csv_reader_open(struct csv_reader **out, const char *path,
		    const char *name, const struct csv_reader_opts *opts,
		    struct err *err);
/* Same on an already open descriptor; the reader does not close it. */
int csv_reader_open_fd(struct csv_reader **out, int fd, const char *name,
		       const struct csv_reader_opts *opts, struct err *err);

/* Returns 1 and points *row at the next record (valid until the next
 * call), 0 at the end of the input, or -1 with err located at name:line
 * (E_PARSE, E_TOOBIG, E_IO, E_NOMEM). */
int csv_reader_next(struct csv_reader *r, const struct csv_row **row,
		    struct err *err);

/* The header record, or NULL when opts->header is off or the file is
 * empty. Valid until csv_reader_free(). */
const struct csv_row *csv_reader_header(const struct csv_reader *r);
/* Raw text of preamble line i (1-based, <= skip_lines), "" if absent. */
const char *csv_reader_preamble(const struct csv_reader *r, unsigned i);
/* Index of the header column called name, or -1. */
int csv_reader_column(const struct csv_reader *r, const char *name);

void csv_reader_free(struct csv_reader *r);

#endif
