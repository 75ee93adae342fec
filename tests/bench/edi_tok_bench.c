/* edi_tok_bench.c - reader throughput on one file, against a plain
 * memchr scan for the terminator over the same bytes (the floor any
 * tokenizer pays: read() plus looking at every byte once).
 *
 *   edi_tok_bench x12|edifact FILE [--hash|--reader-only]
 * Prints "scan MB/s", "reader MB/s", segment and set counts. The reader
 * runs with the per-interchange SHA-256 off unless --hash is given.
 * --reader-only skips the scan (bench.sh times the process and runs the
 * scan as its own reference) and also prints "records N" (segments). Times
 * are CPU time of this process, so a busy machine skews them less.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "transforms/formats/edifact_reader.h"
#include "transforms/formats/x12_reader.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char buf[64 * 1024];
	struct edi_opts o = {0, 1};
	struct err err = ERR_INIT;
	struct x12_reader *xr = NULL;
	struct edifact_reader *er = NULL;
	struct edi_event ev;
	struct stat st;
	unsigned long long nterm = 0, nseg = 0, nsets = 0, nerr = 0;
	double t0, t1, mb;
	int fd, x12, rc, reader_only = 0;
	ssize_t n;
	char term;

	if (argc < 3) {
		fprintf(stderr, "usage: edi_tok_bench x12|edifact FILE [--hash]\n");
		return 64;
	}
	x12 = !strcmp(argv[1], "x12");
	term = x12 ? '~' : '\'';
	if (argc > 3 && !strcmp(argv[3], "--hash"))
		o.no_hash = 0;
	if (argc > 3 && !strcmp(argv[3], "--reader-only"))
		reader_only = 1;
	if ((fd = open(argv[2], O_RDONLY)) < 0 || fstat(fd, &st)) {
		perror(argv[2]);
		return 66;
	}
	mb = (double)st.st_size / (1024.0 * 1024.0);
	t0 = now();
	while (!reader_only && (n = read(fd, buf, sizeof(buf))) > 0) {
		const char *p = buf, *end = buf + n;

		while ((p = memchr(p, term, (size_t)(end - p)))) {
			nterm++;
			p++;
		}
	}
	t1 = now();
	if (!reader_only)
		printf("scan   %8.1f MB/s  (%llu terminators, %.1f MB)\n",
		       mb / (t1 - t0), nterm, mb);
	lseek(fd, 0, SEEK_SET);
	t0 = now();
	rc = x12 ? x12_reader_open_fd(&xr, fd, argv[2], &o, &err)
		 : edifact_reader_open_fd(&er, fd, argv[2], &o, &err);
	while (rc == 0) {
		rc = x12 ? x12_reader_next(xr, &ev, &err)
			 : edifact_reader_next(er, &ev, &err);
		if (rc <= 0)
			break;
		rc = 0;
		if (ev.kind == EDI_EV_SEGMENT)
			nseg++;
		else if (ev.kind == EDI_EV_SET_END)
			nsets++;
		else if (ev.kind == EDI_EV_ISSUE &&
			 ev.issue->severity == EDI_ERROR)
			nerr++;
	}
	t1 = now();
	x12_reader_free(xr);
	edifact_reader_free(er);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "reader failed: %s\n", err.reason);
		return 1;
	}
	printf("reader %8.1f MB/s  (%llu segments, %llu sets, %llu errors%s)\n",
	       mb / (t1 - t0), nseg, nsets, nerr,
	       o.no_hash ? "" : ", with SHA-256");
	if (reader_only)
		printf("records %llu\n", nseg);
	return nerr ? 1 : 0;
}
