/* sftp_kh.h - an OpenSSH known_hosts file read the way ssh(1) reads it,
 * for conn_sftp.c.
 *
 * libssh2 1.10 knows no markers: a "@revoked" line is not a refusal to it
 * and "@cert-authority" is not a host key. So the file is read here, line
 * by line: plain lines go to libssh2's matcher (hashed host names and
 * patterns stay its job), a key on a "@revoked" line is refused for every
 * host (stricter than ssh, which scopes it to the line's host patterns:
 * a revoked key is revoked), and "@cert-authority" lines are counted so
 * that a host found only through one is reported as "host certificates
 * are not supported", not as "not in known_hosts".
 */
#ifndef STOCKPIPE_SFTP_KH_H
#define STOCKPIPE_SFTP_KH_H

#include <stddef.h>

#include "lib/err.h"

enum sftp_kh_kind {
	SFTP_KH_SKIP,    /* blank or comment */
	SFTP_KH_PLAIN,   /* hosts keytype key [comment] */
	SFTP_KH_REVOKED, /* @revoked hosts keytype key */
	SFTP_KH_CA,      /* @cert-authority hosts keytype key */
	SFTP_KH_BAD      /* unknown marker or too few fields */
};

struct sftp_kh {
	enum sftp_kh_kind kind;
	const char *key; /* the base64 key field, not NUL-terminated */
	size_t key_len;
};

/* Classifies one line (n bytes, newline optional) and points kh->key at
 * its key field. */
enum sftp_kh_kind sftp_kh_parse(const char *line, size_t n,
				struct sftp_kh *kh);
/* 1 when the base64 key of kh decodes to exactly blob[0..n). */
int sftp_kh_key_is(const struct sftp_kh *kh, const unsigned char *blob,
		   size_t n);

/* What sftp_kh_read found. */
struct sftp_kh_scan {
	unsigned revoked_line; /* line of a @revoked entry for blob, 0 = none */
	unsigned ca_line;      /* first @cert-authority line, 0 = none */
	unsigned ca_count;
};

/* Reads known_hosts path: each plain line goes to add(ud, line, len)
 * (libssh2_knownhost_readline in conn_sftp.c; < 0 = it cannot parse the
 * line), revoked keys are compared with the server's key blob. E_CONFIG
 * for an unreadable file, an unknown marker or a line add() refuses,
 * each with the line number. */
int sftp_kh_read(const char *path, const unsigned char *blob, size_t n,
		 int (*add)(void *ud, const char *line, size_t len), void *ud,
		 struct sftp_kh_scan *scan, struct err *err);

#endif
