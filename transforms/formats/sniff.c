/* sniff.c - the content analysis of sniff.h.
 *
 * First version: the head sniff delegates to edi_sniff() and sniff_file()
 * fills only the format and the size; the full analysis follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "transforms/formats/sniff.h"
#include "transforms/formats/unpack.h"

const char *sniff_format_name(int format)
{
	if (format == SNIFF_ARCHIVE)
		return "archive";
	return edi_format_name(format);
}

const char *sniff_eol_name(int eol)
{
	static const char *const names[] = {"none", "LF", "CRLF", "CR",
					    "mixed"};

	if (eol < 0 || (size_t)eol >= sizeof(names) / sizeof(names[0]))
		return "none";
	return names[eol];
}

int sniff_head(const unsigned char *head, size_t n, struct sniff_dialect *d)
{
	if (d)
		memset(d, 0, sizeof(*d));
	return edi_sniff(head, n);
}

/* Reads up to max bytes from the start of fd into p. */
static ssize_t read_head(int fd, unsigned char *p, size_t max)
{
	size_t got = 0;

	while (got < max) {
		ssize_t n = read(fd, p + got, max - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int sniff_path_head(const char *path, struct sniff_dialect *d,
		    struct err *err)
{
	unsigned char *head = malloc(SNIFF_HEAD_MAX);
	ssize_t n;
	int fd, fmt = -1;

	if (d)
		memset(d, 0, sizeof(*d));
	if (!head)
		return err_set(err, E_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(err, "open %s", path);
		goto cleanup;
	}
	n = read_head(fd, head, SNIFF_HEAD_MAX);
	close(fd);
	if (n < 0) {
		err_sys(err, "read %s", path);
		goto cleanup;
	}
	if (unpack_sniff(head, (size_t)n) != UNPACK_PLAIN)
		fmt = SNIFF_ARCHIVE;
	else
		fmt = sniff_head(head, (size_t)n, d);
cleanup:
	free(head);
	return fmt;
}

void sniff_opts_init(struct sniff_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_samples = 3;
	o->max_columns = 256;
	o->max_bad_rows = 20;
	o->max_tags = 256;
	o->max_quals = 24;
	o->max_paths = 1000;
}

int sniff_file(const char *path, const char *name,
	       const struct sniff_opts *o, struct sniff **out,
	       struct err *err)
{
	struct sniff *s;
	struct stat st;

	(void)o;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, E_NOMEM, "out of memory");
	arena_init(&s->arena, 0, 0);
	s->path = arena_strdup(&s->arena, name ? name : path);
	if (stat(path, &st) == 0)
		s->size = (uint64_t)st.st_size;
	s->format = sniff_path_head(path, &s->dialect, err);
	if (s->format < 0 || !s->path) {
		if (!s->path)
			err_set(err, E_NOMEM, "out of memory");
		sniff_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void sniff_free(struct sniff *s)
{
	if (!s)
		return;
	arena_release(&s->arena);
	free(s);
}

const struct sniff_elem *sniff_edi_elem(const struct sniff *s,
					const char *tag, unsigned elem,
					unsigned comp)
{
	unsigned i, j;

	if (!s || (s->format != SNIFF_X12 && s->format != SNIFF_EDIFACT))
		return NULL;
	for (i = 0; i < s->u.edi.nsegs; i++) {
		const struct sniff_segment *g = &s->u.edi.segs[i];

		if (strcmp(g->tag, tag))
			continue;
		for (j = 0; j < g->nelems; j++)
			if (g->elems[j].elem == elem && g->elems[j].comp == comp)
				return &g->elems[j];
	}
	return NULL;
}
