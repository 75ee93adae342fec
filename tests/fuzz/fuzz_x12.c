/* fuzz_x12.c - libFuzzer harness for the X12 reader (x12_reader.h); the
 * checks are in fuzz_edi.h. Corpus: tests/corpus/x12/. */
#include "transforms/formats/x12_reader.h"
#include "fuzz_edi.h"

static int op_open(void **r, int fd, const char *name,
		   const struct edi_opts *o, struct err *err)
{
	return x12_reader_open_fd((struct x12_reader **)r, fd, name, o, err);
}

static int op_next(void *r, struct edi_event *ev, struct err *err)
{
	return x12_reader_next(r, ev, err);
}

static void op_stats(const void *r, unsigned long *a, unsigned long *b,
		     unsigned long *c, unsigned long *d, unsigned long *e)
{
	x12_reader_stats(r, a, b, c, d, e);
}

static void op_free(void *r)
{
	x12_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fz_edi_ops ops = { op_open, op_next, op_stats,
					       op_free };

	return fz_edi_run(&ops, data, size);
}
