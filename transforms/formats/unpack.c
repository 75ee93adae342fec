/* unpack.c - see unpack.h. */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/io.h"

#define UNPACK_BUF (64 * 1024)
/* The ratio rule only applies past this many output bytes: partner files
 * of repeated text legitimately compress very well (a real 2.2 MB EDIFACT
 * file packs 222:1), and a bomb is only a bomb when it gets big. Size
 * limits (max_member, max_total) still apply from the first byte. */
#define RATIO_GRACE (8u << 20)

void unpack_limits_default(struct unpack_limits *l)
{
	l->max_members = 10000;
	l->max_total = (uint64_t)4 << 30;
	l->max_member = (uint64_t)2 << 30;
	l->max_ratio = 200;
	l->max_name = 1024;
}

enum unpack_kind unpack_sniff(const unsigned char *h, size_t n)
{
	if (n >= 4 && h[0] == 'P' && h[1] == 'K' &&
	    ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6)))
		return UNPACK_ZIP;
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return UNPACK_GZIP;
	if (n >= 3 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h')
		return UNPACK_BZIP2;
	if (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6))
		return UNPACK_XZ;
	if (n >= 262 && !memcmp(h + 257, "ustar", 5))
		return UNPACK_TAR;
	return UNPACK_PLAIN;
}

const char *unpack_kind_name(enum unpack_kind k)
{
	static const char *const names[] = {"plain", "zip", "tar",
					    "gzip",  "bzip2", "xz"};

	return (unsigned)k <= UNPACK_XZ ? names[k] : "?";
}

int unpack_sniff_file(const char *path, enum unpack_kind *kind,
		      struct err *err)
{
	unsigned char head[512];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(err, "cannot open '%s'", path);
	n = read(fd, head, sizeof(head));
	if (n < 0) {
		err_sys(err, "cannot read '%s'", path);
		close(fd);
		return -1;
	}
	close(fd);
	*kind = unpack_sniff(head, (size_t)n);
	return 0;
}

/* Why a member name is refused, or NULL. Backslashes count as
 * separators: Windows tools write them into zip files. */
static const char *name_refusal(const char *name, unsigned max)
{
	const char *p, *seg = name;
	size_t len = strlen(name);

	if (!len)
		return "empty member name";
	if (len > max)
		return "member name too long";
	if (name[0] == '/' || name[0] == '\\' ||
	    (len > 1 && name[1] == ':'))
		return "absolute member path";
	for (p = name;; p++) {
		if (*p == '/' || *p == '\\' || !*p) {
			if (p - seg == 2 && seg[0] == '.' && seg[1] == '.')
				return "member path contains '..'";
			if (!*p)
				break;
			seg = p + 1;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			return "control character in member name";
		}
	}
	return NULL;
}

/* The file name we write a member under: its index and its last path
 * component with anything but [A-Za-z0-9._-] replaced. */
static void member_file(char *out, size_t n, const char *dir, uint64_t idx,
			const char *name)
{
	const char *base = name, *p;
	char clean[200];
	size_t k = 0;

	for (p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (p = base; *p && k + 1 < sizeof(clean); p++) {
		char c = *p;

		clean[k++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
			      c == '_')
				     ? c
				     : '_';
	}
	clean[k] = '\0';
	if (!k || clean[0] == '.')
		snprintf(clean, sizeof(clean), "member");
	snprintf(out, n, "%s/%05llu_%s", dir, (unsigned long long)idx, clean);
}

static const char *raw_name(const char *path, char *buf, size_t n)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	snprintf(buf, n, "%s", base);
	len = strlen(buf);
	if (len > 3 && !strcmp(buf + len - 3, ".gz"))
		buf[len - 3] = '\0';
	return buf;
}

/* The member's path in UTF-8, or NULL when it has none. libarchive
 * converts names to the locale's charset, and in the C locale (cron,
 * systemd) a zip's UTF-8 name ("München") has no such form: the reader
 * then drops the name. unpack_archive therefore reads under a UTF-8
 * LC_CTYPE (utf8_locale); the UTF-8 form is asked for first, then the
 * bytes as stored (an old tar's). */
static const char *member_name(struct archive_entry *e)
{
	const char *name = archive_entry_pathname_utf8(e);

	return name ? name : archive_entry_pathname(e);
}

/* A UTF-8 LC_CTYPE for this thread while an archive is read (uselocale:
 * the process locale and other threads are untouched). (locale_t)0 when
 * the system has none; names are then read in the process locale. */
static locale_t utf8_locale(locale_t *prev)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

	if (!l)
		l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
	if (l)
		*prev = uselocale(l);
	return l;
}

/* Why member e (named name) is not unpacked, or NULL: a name that could
 * escape out_dir, and anything but a plain unencrypted file. */
static const char *member_refusal(struct archive_entry *e, const char *name,
				  unsigned max_name)
{
	const char *why = name_refusal(name, max_name);

	if (why)
		return why; /* the name alone rules it out */
	if (archive_entry_hardlink(e))
		return "hard link";
	if (archive_entry_filetype(e) == AE_IFLNK)
		return "symbolic link";
	if (archive_entry_filetype(e) != AE_IFREG)
		return "not a regular file (device, fifo or socket)";
	if (archive_entry_is_encrypted(e))
		return "encrypted member";
	return NULL;
}

/* Copies the current member's data into w, checking the size limits and
 * the compression ratio (decompression bombs) as it grows; *size counts
 * the member, *total the archive. Returns 1 when copied, 0 when the
 * member turned out to be encrypted (w aborted, m->refused set), -1 with
 * err (w aborted). */
static int copy_member(struct archive *a, struct archive_entry *e,
		       struct io_atomic *w, unsigned char *buf,
		       struct unpack_member *m,
		       const struct unpack_limits *lim, uint64_t *size,
		       uint64_t *total, struct err *err)
{
	const char *name = m->name;
	ssize_t got;
	int first = 1;

	while ((got = archive_read_data(a, buf, UNPACK_BUF)) > 0) {
		int64_t in = archive_filter_bytes(a, -1);

		if (first) {
			m->is_archive = unpack_sniff(buf, (size_t)got) !=
					UNPACK_PLAIN;
			first = 0;
		}
		*size += (uint64_t)got;
		*total += (uint64_t)got;
		if (*size > lim->max_member || *total > lim->max_total) {
			io_atomic_abort(w);
			err_set(err, E_PARSE,
				"member '%s' expands past the size "
				"limit (%llu bytes in all)",
				name, (unsigned long long)*total);
			return -1;
		}
		if (*total > RATIO_GRACE && in > 0 &&
		    *total / (uint64_t)in > lim->max_ratio) {
			io_atomic_abort(w);
			err_set(err, E_PARSE,
				"compression ratio over %u:1 at member "
				"'%s' (%llu bytes from %lld): refused "
				"as a decompression bomb",
				lim->max_ratio, name,
				(unsigned long long)*total, (long long)in);
			return -1;
		}
		if (io_atomic_write(w, buf, (size_t)got, err) < 0) {
			io_atomic_abort(w);
			return -1;
		}
	}
	if (got < 0) {
		io_atomic_abort(w);
		if (archive_entry_is_encrypted(e) ||
		    archive_read_has_encrypted_entries(a) > 0) {
			m->refused = "encrypted member";
			return 0;
		}
		err_set(err, E_PARSE, "cannot read member '%s': %s", name,
			archive_error_string(a));
		return -1;
	}
	return 1;
}

/* Zero blocks end a tar, so a compressed file of zeros (a damaged upload)
 * reads as a tar with nothing in it: never a silent nothing. A real
 * archive with no file in it has nothing to load either; both are set
 * aside (E_PARSE: quarantined) for a person to look at. */
static int no_member(struct archive *a, struct err *err)
{
	return err_set(err, E_PARSE, "no member to read: %s",
		       archive_filter_count(a) > 1
			       ? "the compressed content is no archive or "
				 "document (all zero bytes, or an empty "
				 "archive)"
			       : "an empty archive");
}

int unpack_archive(const char *path, const char *doc_name,
		   const char *out_dir,
		   const struct unpack_limits *lim,
		   int (*each)(void *ud, const struct unpack_member *m,
			       struct err *err),
		   void *ud, struct err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	unsigned char *buf = NULL;
	uint64_t nmembers = 0, total = 0;
	int rc = -1, r, fd = -1, raw, unreadable;
	char out[4352], rawbuf[512];
	locale_t prev = (locale_t)0, loc = utf8_locale(&prev);

	if (!a || !(buf = malloc(UNPACK_BUF))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	/* Exactly these formats and filters; nothing that runs a program. */
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_raw(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(err, "cannot open '%s'", path);
		goto out;
	}
	if (archive_read_open_fd(a, fd, UNPACK_BUF) != ARCHIVE_OK) {
		err_set(err, E_PARSE, "not a readable archive: %s",
			archive_error_string(a));
		goto out;
	}
	if (io_mkdirs(out_dir, err) < 0)
		goto out;
	for (;;) {
		struct unpack_member m;
		struct io_atomic w;
		char sha[SHA256_HEX_LEN];
		const char *name;
		uint64_t size = 0;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			err_set(err, E_PARSE, "corrupt archive after %llu "
					      "member(s): %s",
				(unsigned long long)nmembers,
				archive_error_string(a));
			goto out;
		}
		raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
		name = raw ? raw_name(doc_name, rawbuf, sizeof(rawbuf))
			   : member_name(e);
		unreadable = !name;
		if (!name)
			name = "";
		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (++nmembers > lim->max_members) {
			err_set(err, E_PARSE,
				"more than %llu members (limit)",
				(unsigned long long)lim->max_members);
			goto out;
		}
		memset(&m, 0, sizeof(m));
		m.name = name;
		m.refused = unreadable ? "member name not readable as UTF-8 "
					 "or bytes"
				       : member_refusal(e, name, lim->max_name);
		if (m.refused) {
			if (each(ud, &m, err) < 0)
				goto out;
			continue;
		}
		member_file(out, sizeof(out), out_dir, nmembers, name);
		if (io_atomic_open(&w, out, err) < 0)
			goto out;
		r = copy_member(a, e, &w, buf, &m, lim, &size, &total, err);
		if (r < 0)
			goto out;
		if (r == 0) {
			if (each(ud, &m, err) < 0)
				goto out;
			continue;
		}
		if (io_atomic_commit(&w, sha, err) < 0)
			goto out;
		m.path = out;
		m.size = size;
		m.sha256 = sha;
		if (each(ud, &m, err) < 0)
			goto out;
	}
	if (!nmembers) {
		no_member(a, err);
		goto out;
	}
	rc = 0;
out:
	if (a)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	free(buf);
	if (loc) {
		uselocale(prev);
		freelocale(loc);
	}
	return rc;
}
