/* t_connector.c - the file:// connector on a temporary folder: list, fetch,
 * put, move, remove, stat; unsafe names refused; symlinks and subfolders
 * never listed; glob. */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "lib/io.h"
#include "t.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct listing {
	char names[32][256];
	uint64_t sizes[32];
	int n;
	int stop_after; /* return 1 from the callback after this many */
};

static int collect(void *ud, const struct conn_entry *e)
{
	struct listing *l = ud;

	if (l->n < 32) {
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", e->name);
		l->sizes[l->n] = e->size;
	}
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? 1 : 0;
}

/* Every entry in dir, hidden ones included. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Opens file://<t_dir>/<sub>. */
static int open_dir(const char *sub, struct conn **c, struct err *e)
{
	char url[1024];

	snprintf(url, sizeof(url), "file://%s/%s", t_dir, sub);
	return conn_open(url, NULL, c, e);
}

T_TEST(conn_find_and_open_errors)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	char url[1024];

	T_ASSERT(conn_find("file:///x") == &conn_scheme_file);
	T_ASSERT(conn_find("ftp://host/x") == NULL);
	T_ASSERT(conn_find("fil://x") == NULL);
	T_ASSERT(conn_find("files://x") == NULL);
	T_ASSERT(conn_find("/plain/path") == NULL);
	T_EQ_INT(conn_open("gopher://x/y", NULL, &c, &e), -1);
	T_ASSERT(c == NULL);
	T_EQ_INT(e.code, E_CONFIG);
	/* A missing folder is a config error, a file is not a folder. */
	err_clear(&e);
	T_EQ_INT(open_dir("missing", &c, &e), -1);
	T_ASSERT(c == NULL);
	T_EQ_INT(e.code, E_CONFIG);
	err_clear(&e);
	T_ASSERT(t_write_file("plainfile", "x") == 0);
	T_EQ_INT(open_dir("plainfile", &c, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "not a folder") != NULL);
	/* Open and close, with the url kept. */
	err_clear(&e);
	T_ASSERT(mkdir("d", 0755) == 0);
	T_OK(open_dir("d", &c, &e), &e);
	snprintf(url, sizeof(url), "file://%s/d", t_dir);
	T_EQ_STR(c->url, url);
	T_ASSERT(c->scheme == &conn_scheme_file);
	conn_close(c);
	conn_close(NULL);
}

T_TEST(conn_name_ok_rules)
{
	char longname[300];

	T_ASSERT(conn_name_ok("stock.csv"));
	T_ASSERT(conn_name_ok("..hidden-ish"));
	T_ASSERT(conn_name_ok("a..b"));
	T_ASSERT(conn_name_ok(".profile")); /* no '/', so still inside */
	T_ASSERT(!conn_name_ok(""));
	T_ASSERT(!conn_name_ok("."));
	T_ASSERT(!conn_name_ok(".."));
	T_ASSERT(!conn_name_ok("../x"));
	T_ASSERT(!conn_name_ok("a/b"));
	T_ASSERT(!conn_name_ok("/etc/passwd"));
	T_ASSERT(!conn_name_ok("dir/"));
	T_ASSERT(!conn_name_ok("..\\x"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	T_ASSERT(!conn_name_ok(longname));
	longname[255] = '\0';
	T_ASSERT(conn_name_ok(longname));
	longname[255] = 'a';
	longname[256] = '\0';
	T_ASSERT(!conn_name_ok(longname));
}

T_TEST(conn_local_list)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	struct listing l;
	int i;

	memset(&l, 0, sizeof(l));
	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(t_write_file("drop/a.csv", "abc") == 0);
	T_ASSERT(t_write_file("drop/b.csv", "") == 0);
	T_ASSERT(t_write_file("drop/c.txt", "hello") == 0);
	T_ASSERT(t_write_file("drop/.hidden.csv", "x") == 0);
	T_ASSERT(t_write_file("drop/.d.csv.tmp", "partial") == 0);
	T_ASSERT(mkdir("drop/subdir", 0755) == 0);
	T_ASSERT(t_write_file("drop/subdir/inner.csv", "x") == 0);
	T_ASSERT(t_write_file("secret", "outside") == 0);
	T_ASSERT(symlink("../secret", "drop/link.csv") == 0);
	T_ASSERT(symlink("subdir", "drop/dirlink") == 0);
	T_ASSERT(symlink("nowhere", "drop/dangling.csv") == 0);
	T_ASSERT(mkfifo("drop/fifo.csv", 0644) == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	T_OK(c->scheme->ops->list(c, collect, &l, &e), &e);
	T_EQ_INT(l.n, 3);
	qsort(l.names, (size_t)l.n, sizeof(l.names[0]), cmp_names);
	T_EQ_STR(l.names[0], "a.csv");
	T_EQ_STR(l.names[1], "b.csv");
	T_EQ_STR(l.names[2], "c.txt");
	for (i = 0; i < 3; i++)
		if (!strcmp(l.names[i], "c.txt") && l.sizes[i] != 5)
			T_FAIL("c.txt size %llu", (unsigned long long)l.sizes[i]);
	/* A callback can stop the listing early. */
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	T_OK(c->scheme->ops->list(c, collect, &l, &e), &e);
	T_EQ_INT(l.n, 1);
	conn_close(c);
}

static int fail_cb(void *ud, const struct conn_entry *e)
{
	(void)ud;
	(void)e;
	return -1;
}

T_TEST(conn_local_list_errors)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(t_write_file("drop/a.csv", "abc") == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	/* A failing callback makes list fail. */
	T_EQ_INT(c->scheme->ops->list(c, fail_cb, NULL, &e), -1);
	/* The folder vanishing after open is an I/O error. */
	err_clear(&e);
	T_ASSERT(unlink("drop/a.csv") == 0 && rmdir("drop") == 0);
	T_EQ_INT(c->scheme->ops->list(c, fail_cb, NULL, &e), -1);
	T_EQ_INT(e.code, E_IO);
	conn_close(c);
}

T_TEST(conn_local_fetch)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];
	uint64_t size = 0;

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(t_write_file("drop/a.csv", "abc") == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	T_OK(c->scheme->ops->fetch(c, "a.csv", "staging/in/a.csv", hex, &size,
				   &e),
	     &e);
	T_EQ_STR(hex, SHA_ABC);
	T_EQ_INT(size, 3);
	T_EQ_STR(t_read_file("staging/in/a.csv"), "abc");
	T_EQ_STR(t_read_file("drop/a.csv"), "abc"); /* source untouched */
	/* Missing name: an error and no local file. */
	T_EQ_INT(c->scheme->ops->fetch(c, "zz.csv", "staging/zz.csv", hex,
				       &size, &e),
		 -1);
	T_ASSERT(!io_exists("staging/zz.csv"));
	conn_close(c);
}

T_TEST(conn_local_put_publishes)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	struct listing l;
	struct stat a, b;

	memset(&l, 0, sizeof(l));
	T_ASSERT(mkdir("out", 0755) == 0);
	T_ASSERT(t_write_file("local.csv", "sku,qty\nA,1\n") == 0);
	T_OK(open_dir("out", &c, &e), &e);
	T_OK(c->scheme->ops->put(c, "local.csv", "webshop_1.csv", &e), &e);
	T_EQ_STR(t_read_file("out/webshop_1.csv"), "sku,qty\nA,1\n");
	/* The same file system: the target's name is a link to the local
	 * file, not a copy (io_link_noreplace). */
	T_ASSERT(stat("local.csv", &a) == 0 &&
		 stat("out/webshop_1.csv", &b) == 0);
	T_EQ_INT(a.st_ino, b.st_ino);
	/* A redone delivery of the same bytes is done already (a crash
	 * between rename and ledger commit); different bytes are refused,
	 * never written over a target's file (matrix S7). The new bytes
	 * come as a new file, as the render publishes them (io_atomic), not
	 * written into the delivered one. */
	T_OK(c->scheme->ops->put(c, "local.csv", "webshop_1.csv", &e), &e);
	T_ASSERT(unlink("local.csv") == 0);
	T_ASSERT(t_write_file("local.csv", "sku,qty\n") == 0);
	T_EQ_INT(c->scheme->ops->put(c, "local.csv", "webshop_1.csv", &e), -1);
	T_EQ_INT(e.code, E_EXISTS);
	T_EQ_STR(t_read_file("out/webshop_1.csv"), "sku,qty\nA,1\n");
	err_clear(&e);
	T_OK(c->scheme->ops->list(c, collect, &l, &e), &e);
	T_EQ_INT(l.n, 1);
	T_EQ_INT(count_entries("out"), 1); /* no (hidden) temporaries */
	/* Missing local file: error, nothing published. */
	T_EQ_INT(c->scheme->ops->put(c, "nope.csv", "x.csv", &e), -1);
	T_ASSERT(!io_exists("out/x.csv"));
	conn_close(c);
}

/* A target whose mode: lets group or others write gets a copy: whoever
 * may write the delivered file must not reach the outbox's. */
T_TEST(conn_local_put_group_writable_copies)
{
	struct conn_opts o;
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	struct stat a, b;
	char url[1024];

	T_ASSERT(mkdir("out", 0755) == 0);
	T_ASSERT(t_write_file("local.csv", "sku,qty\nA,1\n") == 0);
	conn_opts_init(&o);
	o.file_mode = 0664;
	snprintf(url, sizeof(url), "file://%s/out", t_dir);
	T_OK(conn_open(url, &o, &c, &e), &e);
	T_OK(c->scheme->ops->put(c, "local.csv", "w.csv", &e), &e);
	T_ASSERT(stat("local.csv", &a) == 0 && stat("out/w.csv", &b) == 0);
	T_ASSERT(a.st_ino != b.st_ino);
	T_EQ_INT((int)(b.st_mode & 07777), 0664);
	T_EQ_INT((int)(a.st_mode & 07777) & 022, 0);
	T_EQ_STR(t_read_file("out/w.csv"), "sku,qty\nA,1\n");
	conn_close(c);
	/* 0640: nobody but the owner writes; a link, with that mode */
	o.file_mode = 0640;
	T_OK(conn_open(url, &o, &c, &e), &e);
	T_OK(c->scheme->ops->put(c, "local.csv", "r.csv", &e), &e);
	T_ASSERT(stat("out/r.csv", &b) == 0);
	T_EQ_INT(a.st_ino, b.st_ino);
	T_EQ_INT((int)(b.st_mode & 07777), 0640);
	conn_close(c);
}

T_TEST(conn_local_move_remove_stat)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	struct conn_entry st;
	struct listing l;

	memset(&l, 0, sizeof(l));
	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(t_write_file("drop/a.csv", "abcd") == 0);
	T_ASSERT(t_write_file("drop/b.csv", "b") == 0);
	T_OK(open_dir("drop", &c, &e), &e);

	T_OK(c->scheme->ops->stat(c, "a.csv", &st, &e), &e);
	T_EQ_STR(st.name, "a.csv");
	T_EQ_INT(st.size, 4);
	T_ASSERT(st.mtime > 0);
	T_EQ_INT(c->scheme->ops->stat(c, "zz.csv", &st, &e), -1);
	T_EQ_INT(e.code, E_NOTFOUND);

	/* move: into a subfolder created on demand; not listed after. */
	err_clear(&e);
	T_OK(c->scheme->ops->move(c, "a.csv", "processed", &e), &e);
	T_ASSERT(!io_exists("drop/a.csv"));
	T_EQ_STR(t_read_file("drop/processed/a.csv"), "abcd");
	T_OK(c->scheme->ops->list(c, collect, &l, &e), &e);
	T_EQ_INT(l.n, 1);
	T_EQ_STR(l.names[0], "b.csv");
	T_EQ_INT(c->scheme->ops->move(c, "a.csv", "processed", &e), -1);

	/* remove: gone; removing again is not an error (idempotent). */
	err_clear(&e);
	T_OK(c->scheme->ops->remove(c, "b.csv", &e), &e);
	T_ASSERT(!io_exists("drop/b.csv"));
	T_OK(c->scheme->ops->remove(c, "b.csv", &e), &e);
	conn_close(c);
}

T_TEST(conn_local_unsafe_names_refused)
{
	static const char *const bad[] = {"../x", "a/b", ".", "..", "",
					  "/etc/passwd", "..\\x"};
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	struct conn_entry st;
	char hex[SHA256_HEX_LEN];
	uint64_t size;
	size_t i;

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(mkdir("drop/a", 0755) == 0);
	T_ASSERT(t_write_file("drop/a/b", "inner") == 0);
	T_ASSERT(t_write_file("x", "outside") == 0);
	T_ASSERT(t_write_file("local", "payload") == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct conn_ops *o = c->scheme->ops;
		int rc[5];

		err_clear(&e);
		rc[0] = o->fetch(c, bad[i], "fetched", hex, &size, &e);
		rc[1] = o->put(c, "local", bad[i], &e);
		rc[2] = o->move(c, bad[i], "processed", &e);
		rc[3] = o->remove(c, bad[i], &e);
		rc[4] = o->stat(c, bad[i], &st, &e);
		if (rc[0] != -1 || rc[1] != -1 || rc[2] != -1 || rc[3] != -1 ||
		    rc[4] != -1)
			T_FAIL("name '%s' accepted: %d %d %d %d %d", bad[i],
			       rc[0], rc[1], rc[2], rc[3], rc[4]);
		T_ASSERT(strstr(e.reason, "unsafe") != NULL);
	}
	/* Nothing outside (or nested inside) was read, written or moved. */
	T_ASSERT(!io_exists("fetched"));
	T_EQ_STR(t_read_file("x"), "outside");
	T_EQ_STR(t_read_file("drop/a/b"), "inner");
	T_ASSERT(!io_exists("drop/processed"));
	conn_close(c);
}

T_TEST(conn_local_fetch_refuses_symlink)
{
	/* list never shows a symlink; fetch must not follow one either (a
	 * name can be swapped for a link between list and fetch). */
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];
	uint64_t size = 0;

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(t_write_file("secret", "outside") == 0);
	T_ASSERT(symlink("../secret", "drop/a.csv") == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	T_EQ_INT(c->scheme->ops->fetch(c, "a.csv", "got.csv", hex, &size, &e),
		 -1);
	T_ASSERT(!io_exists("got.csv"));
	conn_close(c);
}

/* A fifo swapped in under a listed name: refused at once (an open that
 * waited for a writer would hang the run). */
T_TEST(conn_local_fetch_refuses_fifo_without_blocking)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];
	uint64_t size = 0;

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(mkfifo("drop/a.csv", 0600) == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	T_EQ_INT(c->scheme->ops->fetch(c, "a.csv", "got.csv", hex, &size, &e),
		 -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "not a regular file") != NULL);
	T_ASSERT(!io_exists("got.csv"));
	conn_close(c);
}

/* move onto a processed/NAME that exists: the older copy is kept, the
 * new one goes to STEM~1.EXT, then STEM~2.EXT. */
T_TEST(conn_local_move_never_overwrites)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(mkdir("drop/processed", 0755) == 0);
	T_ASSERT(t_write_file("drop/processed/a.csv", "older") == 0);
	T_ASSERT(t_write_file("drop/a.csv", "newer") == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	T_OK(c->scheme->ops->move(c, "a.csv", "processed", &e), &e);
	T_EQ_STR(t_read_file("drop/processed/a.csv"), "older");
	T_EQ_STR(t_read_file("drop/processed/a~1.csv"), "newer");
	T_ASSERT(t_write_file("drop/a.csv", "newest") == 0);
	T_OK(c->scheme->ops->move(c, "a.csv", "processed", &e), &e);
	T_EQ_STR(t_read_file("drop/processed/a~2.csv"), "newest");
	T_ASSERT(!io_exists("drop/a.csv"));
	conn_close(c);
}

/* conn_digest: the content as it is now (local), refused on a symlink,
 * "cannot tell" (1) for a remote scheme is covered by the post stage. */
T_TEST(conn_local_digest)
{
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN];

	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(t_write_file("drop/a.csv", "abc") == 0);
	T_ASSERT(t_write_file("secret", "abc") == 0);
	T_ASSERT(symlink("../secret", "drop/l.csv") == 0);
	T_OK(open_dir("drop", &c, &e), &e);
	T_EQ_INT(conn_digest(c, "a.csv", hex, &e), 0);
	T_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	T_EQ_INT(conn_digest(c, "l.csv", hex, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	conn_close(c);
}

T_TEST(conn_glob)
{
	T_ASSERT(conn_glob_match("*.csv", "stock.csv"));
	T_ASSERT(!conn_glob_match("*.csv", "stock.csv.gz"));
	T_ASSERT(!conn_glob_match("*.csv", "stock.CSV"));
	T_ASSERT(conn_glob_match("*", "anything"));
	T_ASSERT(conn_glob_match("store_??.csv", "store_07.csv"));
	T_ASSERT(!conn_glob_match("store_??.csv", "store_7.csv"));
	T_ASSERT(conn_glob_match("store_[0-9]*.csv", "store_12.csv"));
	T_ASSERT(!conn_glob_match("store_[0-9]*.csv", "store_x.csv"));
	T_ASSERT(conn_glob_match("[!.]*", "a"));
	T_ASSERT(conn_glob_match("", "") == 1);
	T_ASSERT(!conn_glob_match("", "a"));
	/* A leading dot must be matched explicitly. */
	T_ASSERT(!conn_glob_match("*.csv", ".hidden.csv"));
	T_ASSERT(conn_glob_match(".*.csv", ".hidden.csv"));
}
