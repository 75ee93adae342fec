/* fuzz_unpack.c - libFuzzer harness for the archive walker (unpack.h)
 * with the production format and filter set. Corpus: tests/corpus/unpack/.
 *
 * The input is written to a temporary file (unpack_archive reads a path)
 * and unpacked into an empty temporary folder with tight limits, which is
 * emptied again afterwards. The whole input is the archive: seeds are
 * plain zip/tar/gz/bz2/xz files.
 * Invariants: a written member has a path inside the output folder, its
 * file has the size reported and the SHA-256 is 64 hex digits; a refused
 * member has a reason and no path; members stay within max_members and
 * their sizes within max_member/max_total; a failure carries a code.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "transforms/formats/unpack.h"
#include "fuzz.h"

struct seen {
	const char *dir;
	const struct unpack_limits *lim;
	uint64_t n, total;
};

static int each(void *ud, const struct unpack_member *m, struct err *err)
{
	struct seen *s = ud;
	size_t dl = strlen(s->dir);
	struct stat sb;

	(void)err;
	s->n++;
	FZ_CHECK(m->name != NULL);
	if (m->path) {
		FZ_CHECK(!m->refused);
		FZ_CHECK(!strncmp(m->path, s->dir, dl) && m->path[dl] == '/');
		FZ_CHECK(!strstr(m->path + dl, "/../"));
		FZ_CHECK(strchr(m->path + dl + 1, '/') == NULL);
		FZ_CHECK(stat(m->path, &sb) == 0 && S_ISREG(sb.st_mode));
		FZ_CHECK((uint64_t)sb.st_size == m->size);
		FZ_CHECK(m->size <= s->lim->max_member);
		FZ_CHECK(m->sha256 && strlen(m->sha256) == 64);
		s->total += m->size;
		FZ_CHECK(s->total <= s->lim->max_total);
	} else {
		FZ_CHECK(m->refused && *m->refused);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unpack_limits lim;
	struct err err = ERR_INIT;
	char in[512], out[512];
	struct seen s;
	enum unpack_kind k;
	int rc;

	snprintf(in, sizeof(in), "%s/in.bin", fz_tmpdir());
	snprintf(out, sizeof(out), "%s/out", fz_tmpdir());
	FZ_CHECK(fz_write_file(in, data, size) == 0);
	FZ_CHECK(unpack_sniff_file(in, &k, &err) == 0);
	FZ_CHECK(k == unpack_sniff(data, size));
	(void)unpack_kind_name(k);
	unpack_limits_default(&lim);
	lim.max_members = 16;
	lim.max_total = 1 << 20;
	lim.max_member = 256 << 10;
	lim.max_name = 256;
	memset(&s, 0, sizeof(s));
	s.dir = out;
	s.lim = &lim;
	rc = unpack_archive(in, "fuzz.bin.gz", out, &lim, each, &s, &err);
	if (rc)
		FZ_CHECK(rc == -1 && err.code != E_NONE);
	else
		FZ_CHECK(err.code == E_NONE);
	FZ_CHECK(s.n <= lim.max_members);
	fz_empty_dir(fz_tmpdir());
	return 0;
}
