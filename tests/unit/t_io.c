/* t_io.c - atomic publish, hashing, mkdirs, temp cleanup, crash points. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/io.h"
#include "t.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* 200001 bytes of (i * 31 + 7) % 251: crosses the 64 KiB write buffer. */
#define SHA_PATTERN "5f265f758b4de007cc61b28b03b7abc1d8299a442ebfa8d6563b274d3e4dfa21"
#define PATTERN_LEN 200001

static unsigned char *pattern(void)
{
	unsigned char *p = malloc(PATTERN_LEN);
	size_t i;

	if (p)
		for (i = 0; i < PATTERN_LEN; i++)
			p[i] = (unsigned char)((i * 31 + 7) % 251);
	return p;
}

/* Number of temporary files (".NAME.tmp") in dir. */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' && len > 4 &&
		    !strcmp(e->d_name + len - 4, ".tmp"))
			n++;
	}
	closedir(d);
	return n;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

T_TEST(io_sha256_vectors)
{
	char hex[SHA256_HEX_LEN];
	struct sha256 s;
	struct err e = ERR_INIT;
	unsigned char *p = pattern();
	size_t i;

	T_ASSERT(p != NULL);
	T_OK(sha256_hex_of("", 0, hex, &e), &e);
	T_EQ_STR(hex, SHA_EMPTY);
	T_OK(sha256_hex_of("abc", 3, hex, &e), &e);
	T_EQ_STR(hex, SHA_ABC);
	T_OK(sha256_hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
			   56, hex, &e), &e);
	T_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* Incremental in odd pieces equals one-shot. */
	T_OK(sha256_init(&s, &e), &e);
	for (i = 0; i < PATTERN_LEN; i += 4093)
		sha256_update(&s, p + i,
			      PATTERN_LEN - i < 4093 ? PATTERN_LEN - i : 4093);
	sha256_update(&s, p, 0);
	sha256_final(&s, hex);
	free(p);
	T_EQ_STR(hex, SHA_PATTERN);
	T_ASSERT(s.ctx == NULL);
	sha256_release(&s); /* after final: harmless */
}

T_TEST(io_sha256_file_matches_sha256sum)
{
	char hex[SHA256_HEX_LEN], line[200];
	struct err e = ERR_INIT;
	unsigned char *p = pattern();
	uint64_t size = 0;
	FILE *f;

	T_ASSERT(p != NULL);
	f = fopen("data.bin", "wb");
	T_ASSERT(f != NULL);
	T_EQ_INT(fwrite(p, 1, PATTERN_LEN, f), PATTERN_LEN);
	fclose(f);
	free(p);
	T_OK(sha256_file("data.bin", hex, &size, &e), &e);
	T_EQ_INT(size, PATTERN_LEN);
	T_EQ_STR(hex, SHA_PATTERN);
	/* And the same digest as the system tool says. */
	f = popen("sha256sum data.bin", "r");
	T_ASSERT(f != NULL);
	T_ASSERT(fgets(line, sizeof(line), f) != NULL);
	pclose(f);
	line[64] = '\0';
	T_EQ_STR(line, hex);

	T_ASSERT(t_write_file("empty", "") == 0);
	T_OK(sha256_file("empty", hex, &size, &e), &e);
	T_EQ_INT(size, 0);
	T_EQ_STR(hex, SHA_EMPTY);

	T_EQ_INT(sha256_file("missing", hex, &size, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_EQ_INT(e.os_code, ENOENT);
}

T_TEST(io_write_file_publishes_atomically)
{
	char hex[SHA256_HEX_LEN], hex2[SHA256_HEX_LEN];
	struct err e = ERR_INIT;

	/* Parent folders are created. */
	T_OK(io_write_file("out/a/b/snap.csv", "abc", 3, hex, &e), &e);
	T_EQ_STR(hex, SHA_ABC);
	T_EQ_STR(t_read_file("out/a/b/snap.csv"), "abc");
	T_EQ_INT(count_tmp("out/a/b"), 0);
	T_OK(sha256_file("out/a/b/snap.csv", hex2, NULL, &e), &e);
	T_EQ_STR(hex2, SHA_ABC);
	/* Overwrite replaces the whole content. */
	T_OK(io_write_file("out/a/b/snap.csv", "x", 1, NULL, &e), &e);
	T_EQ_STR(t_read_file("out/a/b/snap.csv"), "x");
	T_EQ_INT(count_tmp("out/a/b"), 0);
	/* A bare name (no folder) and an empty file. */
	T_OK(io_write_file("bare.txt", "", 0, hex, &e), &e);
	T_EQ_STR(hex, SHA_EMPTY);
	T_EQ_INT(file_size("bare.txt"), 0);
	T_EQ_INT(count_tmp("."), 0);
	/* Absolute paths work too. */
	{
		char abs[4200];

		snprintf(abs, sizeof(abs), "%s/abs/f.txt", t_dir);
		T_OK(io_write_file(abs, "abc", 3, NULL, &e), &e);
		T_EQ_STR(t_read_file("abs/f.txt"), "abc");
	}
}

T_TEST(io_atomic_large_in_pieces)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN], disk[SHA256_HEX_LEN];
	unsigned char *p = pattern();
	size_t i, k;

	T_ASSERT(p != NULL);
	T_OK(io_atomic_open(&a, "out/big.bin", &e), &e);
	/* While open: a temporary beside the final name, no final file. */
	T_EQ_INT(count_tmp("out"), 1);
	T_ASSERT(!io_exists("out/big.bin"));
	T_EQ_STR(a.tmp, "out/.big.bin.tmp");
	for (i = 0; i < PATTERN_LEN; i += k) {
		k = (i % 3 == 0) ? 70000 : 1; /* bigger than the buffer, and tiny */
		if (k > PATTERN_LEN - i)
			k = PATTERN_LEN - i;
		if (io_atomic_write(&a, p + i, k, &e) < 0) {
			io_atomic_abort(&a);
			free(p);
			T_FAIL("write failed: %s", e.reason);
		}
	}
	free(p);
	T_EQ_INT(a.bytes, PATTERN_LEN);
	T_ASSERT(!io_exists("out/big.bin"));
	T_OK(io_atomic_commit(&a, hex, &e), &e);
	T_EQ_STR(hex, SHA_PATTERN);
	T_EQ_INT(file_size("out/big.bin"), PATTERN_LEN);
	T_OK(sha256_file("out/big.bin", disk, NULL, &e), &e);
	T_EQ_STR(disk, SHA_PATTERN);
	T_EQ_INT(count_tmp("out"), 0);
}

T_TEST(io_abort_leaves_nothing)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	char big[100000];

	memset(big, 'z', sizeof(big));
	T_OK(io_atomic_open(&a, "out/never.csv", &e), &e);
	T_OK(io_atomic_write(&a, big, sizeof(big), &e), &e); /* flushed */
	T_EQ_INT(count_tmp("out"), 1);
	io_atomic_abort(&a);
	T_EQ_INT(count_tmp("out"), 0);
	T_ASSERT(!io_exists("out/never.csv"));
	io_atomic_abort(&a); /* twice is safe */
	T_EQ_INT(a.fd, -1);
	/* Writes and commits after abort fail instead of publishing. */
	T_EQ_INT(io_atomic_write(&a, "x", 1, &e), -1);
	err_clear(&e);
	T_EQ_INT(io_atomic_commit(&a, NULL, &e), -1);
	T_ASSERT(!io_exists("out/never.csv"));

	/* Aborting a rewrite keeps the old file intact. */
	err_clear(&e);
	T_OK(io_write_file("out/keep.csv", "old", 3, NULL, &e), &e);
	T_OK(io_atomic_open(&a, "out/keep.csv", &e), &e);
	T_OK(io_atomic_write(&a, big, sizeof(big), &e), &e);
	io_atomic_abort(&a);
	T_EQ_STR(t_read_file("out/keep.csv"), "old");
	T_EQ_INT(count_tmp("out"), 0);
}

T_TEST(io_atomic_open_errors)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	char longp[5000];

	/* A parent that is a regular file. */
	T_ASSERT(t_write_file("file", "x") == 0);
	T_EQ_INT(io_atomic_open(&a, "file/sub/x.csv", &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, "file/sub") != NULL);
	/* The final name is a folder: commit's rename must fail cleanly. */
	err_clear(&e);
	T_ASSERT(mkdir("adir", 0755) == 0);
	T_ASSERT(t_write_file("adir/inside", "x") == 0);
	T_EQ_INT(io_write_file("adir", "data", 4, NULL, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_EQ_INT(count_tmp("."), 0);
	T_EQ_STR(t_read_file("adir/inside"), "x");
	/* Too long a path. */
	err_clear(&e);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	T_EQ_INT(io_atomic_open(&a, longp, &e), -1);
	T_ASSERT(strstr(e.reason, "too long") != NULL);
}

/* The test pattern written to path; 0, or -1 when it could not be. */
static int write_pattern(const char *path)
{
	unsigned char *p = pattern();
	FILE *f = fopen(path, "wb");
	int rc = p && f && fwrite(p, 1, PATTERN_LEN, f) == PATTERN_LEN ? 0 : -1;

	if (f && fclose(f) != 0)
		rc = -1;
	free(p);
	return rc;
}

T_TEST(io_copy)
{
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];
	uint64_t size = 0;

	T_ASSERT(write_pattern("src.bin") == 0);
	T_OK(io_copy("src.bin", "dst/copy.bin", hex, &size, &e), &e);
	T_EQ_STR(hex, SHA_PATTERN);
	T_EQ_INT(size, PATTERN_LEN);
	T_EQ_INT(file_size("dst/copy.bin"), PATTERN_LEN);
	T_EQ_INT(system("cmp -s src.bin dst/copy.bin"), 0);
	T_EQ_INT(count_tmp("dst"), 0);

	/* Missing source: error, no destination, no temp. */
	T_EQ_INT(io_copy("missing", "dst/none.bin", hex, &size, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_EQ_INT(e.os_code, ENOENT);
	T_ASSERT(!io_exists("dst/none.bin"));
	T_EQ_INT(count_tmp("dst"), 0);
	/* Source is a folder: refused before anything is created. */
	err_clear(&e);
	T_EQ_INT(io_copy("dst", "dst2/x", hex, &size, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(!io_exists("dst2/x"));
	T_ASSERT(!io_exists("dst2"));
}

/* Without a hash wanted, none is taken: the same bytes, the size,
 * nothing left behind; an empty file too. A writer that asked for no
 * hash cannot commit with one. */
T_TEST(io_copy_without_hash)
{
	struct io_atomic a;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];
	uint64_t size = 0;

	T_ASSERT(write_pattern("src.bin") == 0);
	T_OK(io_copy_noreplace("src.bin", "dst/k.bin", NULL, &size, &e), &e);
	T_EQ_INT(size, PATTERN_LEN);
	T_OK(sha256_file("dst/k.bin", hex, NULL, &e), &e);
	T_EQ_STR(hex, SHA_PATTERN);
	T_EQ_INT(count_tmp("dst"), 0);
	T_OK(io_write_file("empty", "", 0, NULL, &e), &e);
	T_OK(io_copy_noreplace("empty", "dst/e.bin", NULL, &size, &e), &e);
	T_EQ_INT(size, 0);
	T_EQ_INT(file_size("dst/e.bin"), 0);
	T_EQ_INT(io_copy_noreplace("src.bin", "dst/k.bin", NULL, NULL, &e),
		 -1);
	T_EQ_INT(e.code, E_EXISTS);
	err_clear(&e);

	T_OK(io_atomic_open(&a, "dst/n.bin", &e), &e);
	a.no_hash = 1;
	T_OK(io_atomic_write(&a, "abc", 3, &e), &e);
	T_EQ_INT(io_atomic_commit(&a, hex, &e), -1);
	T_EQ_INT(e.code, E_INTERNAL);
	T_ASSERT(!io_exists("dst/n.bin"));
	T_EQ_INT(count_tmp("dst"), 0);
}

/* A symlink or a fifo where a regular file was listed: refused by what
 * the descriptor is, never followed, never waited on. */
T_TEST(io_open_regular_refuses_links_and_fifos)
{
	struct err e = ERR_INIT;
	struct stat st;
	int fd;

	T_OK(io_write_file("secret", "top secret\n", 11, NULL, &e), &e);
	T_EQ_INT(symlink("secret", "link"), 0);
	T_EQ_INT(mkfifo("fifo", 0600), 0);
	fd = io_open_regular("secret", &st, &e);
	T_ASSERT(fd >= 0);
	T_EQ_INT(st.st_size, 11);
	close(fd);
	T_EQ_INT(io_open_regular("link", &st, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "symbolic link") != NULL);
	err_clear(&e);
	/* no writer on the fifo: a blocking open would hang here */
	T_EQ_INT(io_open_regular("fifo", &st, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "a fifo") != NULL);
	err_clear(&e);
	T_EQ_INT(io_copy("link", "out/copy", NULL, NULL, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(!io_exists("out/copy"));
}

/* A symlink planted under the predictable temporary name of a file we
 * publish: removed, never written through; the file outside is intact. */
T_TEST(io_atomic_tmp_symlink_not_followed)
{
	struct err e = ERR_INIT;
	char buf[64];
	FILE *f;
	size_t n;

	T_EQ_INT(mkdir("outside", 0755), 0);
	T_EQ_INT(mkdir("tgt", 0755), 0);
	T_OK(io_write_file("outside/victim", "precious\n", 9, NULL, &e), &e);
	T_EQ_INT(symlink("../outside/victim", "tgt/.snap.csv.tmp"), 0);
	T_OK(io_write_file("tgt/snap.csv", "new,data\n", 9, NULL, &e), &e);
	f = fopen("outside/victim", "rb");
	T_ASSERT(f != NULL);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	T_EQ_INT(n, 9);
	T_ASSERT(!memcmp(buf, "precious\n", 9));
	T_EQ_INT(file_size("tgt/snap.csv"), 9);
	T_EQ_INT(count_tmp("tgt"), 0);
	/* a dangling link (to a file that does not exist yet) as well */
	T_EQ_INT(symlink("../outside/created", "tgt/.b.tmp"), 0);
	T_OK(io_write_file("tgt/b", "x", 1, NULL, &e), &e);
	T_ASSERT(!io_exists("outside/created"));
}

/* RENAME_NOREPLACE: an existing final name is kept, and said so. */
T_TEST(io_noreplace_keeps_existing)
{
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];

	T_OK(io_write_file("a", "aaa", 3, NULL, &e), &e);
	T_OK(io_write_file("b", "bb", 2, NULL, &e), &e);
	T_EQ_INT(io_rename_noreplace("a", "b", &e), -1);
	T_EQ_INT(e.code, E_EXISTS);
	T_EQ_INT(file_size("a"), 3);
	T_EQ_INT(file_size("b"), 2);
	err_clear(&e);
	T_EQ_INT(io_copy_noreplace("a", "b", hex, NULL, &e), -1);
	T_EQ_INT(e.code, E_EXISTS);
	T_EQ_INT(file_size("b"), 2);
	T_EQ_INT(count_tmp("."), 0);
	err_clear(&e);
	T_OK(io_copy_noreplace("a", "c", hex, NULL, &e), &e);
	T_EQ_INT(file_size("c"), 3);
	T_OK(io_rename_noreplace("c", "d", &e), &e);
	T_ASSERT(!io_exists("c"));
	T_EQ_INT(file_size("d"), 3);
}

T_TEST(io_mkdirs)
{
	struct err e = ERR_INIT;
	struct stat st;
	char abs[4200];

	T_OK(io_mkdirs("a/b/c", &e), &e);
	T_ASSERT(stat("a/b/c", &st) == 0 && S_ISDIR(st.st_mode));
	T_OK(io_mkdirs("a/b/c", &e), &e); /* exists already */
	T_OK(io_mkdirs("a/b/d/", &e), &e);
	T_ASSERT(stat("a/b/d", &st) == 0 && S_ISDIR(st.st_mode));
	T_OK(io_mkdirs("x//y", &e), &e);
	T_ASSERT(stat("x/y", &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(abs, sizeof(abs), "%s/p/q", t_dir);
	T_OK(io_mkdirs(abs, &e), &e);
	T_ASSERT(stat("p/q", &st) == 0 && S_ISDIR(st.st_mode));
	/* A regular file in the way is an error, at any depth. */
	T_ASSERT(t_write_file("a/f", "x") == 0);
	T_EQ_INT(io_mkdirs("a/f/g", &e), -1);
	T_EQ_INT(e.code, E_IO);
	err_clear(&e);
	T_EQ_INT(io_mkdirs("a/f", &e), -1);
	T_EQ_INT(e.code, E_IO);
}

T_TEST(io_clean_tmp)
{
	T_ASSERT(mkdir("d", 0755) == 0);
	T_ASSERT(t_write_file("d/out.csv", "keep") == 0);
	T_ASSERT(t_write_file("d/.out.csv.tmp", "partial") == 0);
	T_ASSERT(t_write_file("d/.x.tmp", "partial") == 0);
	T_ASSERT(t_write_file("d/notes.tmp", "keep") == 0); /* not hidden */
	T_ASSERT(t_write_file("d/.hidden", "keep") == 0);
	T_ASSERT(t_write_file("d/tmpfile", "keep") == 0);
	T_ASSERT(mkdir("d/sub", 0755) == 0);
	T_ASSERT(t_write_file("d/sub/.y.tmp", "other folder") == 0);
	io_clean_tmp("d");
	T_EQ_INT(count_tmp("d"), 0);
	T_ASSERT(io_exists("d/out.csv"));
	T_ASSERT(io_exists("d/notes.tmp"));
	T_ASSERT(io_exists("d/tmpfile"));
	T_ASSERT(io_exists("d/.hidden"));
	T_ASSERT(io_exists("d/sub/.y.tmp")); /* not recursive */
	io_clean_tmp("no-such-dir"); /* harmless */
}

T_TEST(io_rename_and_exists)
{
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("from", "data") == 0);
	T_ASSERT(mkdir("to", 0755) == 0);
	T_ASSERT(io_exists("from"));
	T_OK(io_rename("from", "to/name", &e), &e);
	T_ASSERT(!io_exists("from"));
	T_EQ_STR(t_read_file("to/name"), "data");
	T_EQ_INT(io_rename("from", "to/name2", &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_EQ_INT(e.os_code, ENOENT);
	T_ASSERT(!io_exists("to/name2"));
	err_clear(&e);
	T_OK(io_fsync_dir("to", &e), &e);
	T_EQ_INT(io_fsync_dir("nope", &e), -1);
	err_clear(&e);
	T_OK(io_fsync_parent("/etc", &e), &e);
	T_OK(io_fsync_parent("to/name", &e), &e);
	T_OK(io_fsync_parent("name", &e), &e);
}

/* Helper run in a child process by io_crash_points (selected by name
 * through /proc/self/exe). Alone it just publishes a file and checks it. */
/* A target's mode is on the file when it appears under the final name:
 * the bits come from the temporary file, whatever the umask. */
T_TEST(io_copy_mode_before_publish)
{
	struct err e = ERR_INIT;
	struct stat st;
	mode_t old = umask(077);

	T_OK(io_write_file("src", "abc", 3, NULL, &e), &e);
	T_OK(io_copy_noreplace_mode("src", "m644", 0644, NULL, NULL, &e), &e);
	T_OK(io_copy_noreplace_mode("src", "m0", 0, NULL, NULL, &e), &e);
	umask(old);
	T_ASSERT(stat("m644", &st) == 0);
	T_EQ_INT((int)(st.st_mode & 07777), 0644);
	T_ASSERT(stat("m0", &st) == 0);
	T_EQ_INT((int)(st.st_mode & 07777), 0600);
	T_EQ_INT(io_copy_noreplace_mode("src", "m644", 0640, NULL, NULL, &e),
		 -1);
	T_EQ_INT(e.code, E_EXISTS);
	T_EQ_INT(count_tmp("."), 0);
}

/* A published file given a second name: the same file (inode), its
 * mode set, nothing copied, no temporary left; never over an existing
 * name; a symlink is never linked. */
T_TEST(io_link_noreplace_shares_the_file)
{
	struct err e = ERR_INIT;
	struct stat a, b;
	char hex[SHA256_HEX_LEN];

	T_ASSERT(write_pattern("src.bin") == 0);
	T_ASSERT(mkdir("out", 0755) == 0);
	/* a killed delivery's leftover under the temporary name */
	T_OK(io_write_file("out/.k.bin.tmp", "old", 3, NULL, &e), &e);
	T_OK(io_link_noreplace("src.bin", "out/k.bin", 0640, &e), &e);
	T_ASSERT(stat("src.bin", &a) == 0 && stat("out/k.bin", &b) == 0);
	T_EQ_INT(a.st_ino, b.st_ino);
	T_EQ_INT(b.st_nlink, 2);
	T_EQ_INT((int)(b.st_mode & 07777), 0640);
	T_OK(sha256_file("out/k.bin", hex, NULL, &e), &e);
	T_EQ_STR(hex, SHA_PATTERN);
	T_EQ_INT(count_tmp("out"), 0);
	/* an existing name is never replaced, whatever it holds */
	T_OK(io_write_file("other", "xy", 2, NULL, &e), &e);
	T_EQ_INT(io_link_noreplace("other", "out/k.bin", 0, &e), -1);
	T_EQ_INT(e.code, E_EXISTS);
	T_EQ_INT(file_size("out/k.bin"), PATTERN_LEN);
	T_EQ_INT(count_tmp("out"), 0);
	err_clear(&e);
	/* a symlink or a missing file: not linked, left to the copy */
	T_EQ_INT(symlink("src.bin", "sym"), 0);
	T_EQ_INT(io_link_noreplace("sym", "out/s.bin", 0, &e), 1);
	T_EQ_INT(io_link_noreplace("gone", "out/s.bin", 0, &e), 1);
	T_EQ_INT(e.code, E_NONE);
	T_ASSERT(!io_exists("out/s.bin"));
	T_EQ_INT(count_tmp("out"), 0);
}

/* Another file system (/dev/shm, a tmpfs, when the test folder is not
 * on one): 1, nothing done, so the caller copies. */
T_TEST(io_link_noreplace_other_fs)
{
	struct err e = ERR_INIT;
	struct stat here, shm;
	char dst[256];
	int rc;

	if (stat(".", &here) < 0 || stat("/dev/shm", &shm) < 0 ||
	    here.st_dev == shm.st_dev || access("/dev/shm", W_OK) < 0)
		T_SKIP("no writable /dev/shm on another file system");
	T_OK(io_write_file("src", "abc", 3, NULL, &e), &e);
	snprintf(dst, sizeof(dst), "/dev/shm/sp-link-%ld", (long)getpid());
	rc = io_link_noreplace("src", dst, 0, &e);
	unlink(dst);
	T_EQ_INT(rc, 1);
	T_EQ_INT(e.code, E_NONE);
	T_EQ_INT(count_tmp("/dev/shm"), 0);
}

T_TEST(io_crash_child)
{
	struct err e = ERR_INIT;
	const char *out = getenv("SP_T_CRASH_OUT");

	T_OK(io_write_file(out ? out : "out/final.txt", "payload\n", 8, NULL,
			    &e),
	     &e);
	T_EQ_STR(t_read_file(out ? out : "out/final.txt"), "payload\n");
}

/* Runs the crash child with env; returns its wait status. */
static int run_child(const char *crash_at, const char *log, const char *out)
{
	pid_t pid;
	int status;

	fflush(stdout); /* or the child repeats what is buffered */
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = {"unit", "io_crash_child", NULL};

		if (!freopen("child.out", "a", stdout) ||
		    !freopen("child.out", "a", stderr))
			_exit(120);
		setenv("TMPDIR", t_dir, 1);
		setenv("SP_T_CRASH_OUT", out, 1);
		if (crash_at)
			setenv("STOCKPIPE_CRASH_AT", crash_at, 1);
		if (log)
			setenv("STOCKPIPE_CRASH_LOG", log, 1);
		execv("/proc/self/exe", argv);
		_exit(121);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

T_TEST(io_crash_points)
{
	char out[4200], log[4200], odir[4200];
	int st;

	snprintf(odir, sizeof(odir), "%s/out", t_dir);
	snprintf(out, sizeof(out), "%s/out/final.txt", t_dir);
	snprintf(log, sizeof(log), "%s/ops.log", t_dir);
#ifdef STOCKPIPE_TEST_HOOKS
	/* The durable operations of one publish, in the F2 order. */
	st = run_child(NULL, log, out);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_STR(t_read_file("ops.log"),
		 "1 write\n2 fsync\n3 rename\n4 fsync-dir\n");
	T_EQ_STR(t_read_file("out/final.txt"), "payload\n");
	T_ASSERT(unlink(out) == 0);

	/* Killed before the write: an empty temporary, no final file. */
	st = run_child("1", NULL, out);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	T_ASSERT(!io_exists(out));
	T_EQ_INT(count_tmp(odir), 1);
	io_clean_tmp(odir);
	T_EQ_INT(count_tmp(odir), 0);

	/* Killed before the rename: data is only under the temp name. */
	st = run_child("3", NULL, out);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	T_ASSERT(!io_exists(out));
	T_EQ_INT(count_tmp(odir), 1);
	io_clean_tmp(odir);

	/* Killed after the rename: the final file is complete. */
	st = run_child("4", NULL, out);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	T_EQ_STR(t_read_file("out/final.txt"), "payload\n");
	T_EQ_INT(count_tmp(odir), 0);
#else
	/* Builds without test hooks ignore the crash variables. */
	st = run_child("1", log, out);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_STR(t_read_file("out/final.txt"), "payload\n");
	T_ASSERT(!io_exists(log));
#endif
}
