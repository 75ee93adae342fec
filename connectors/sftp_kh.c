/* sftp_kh.c - see sftp_kh.h. */
#include "sftp_kh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static size_t field(const char *s, size_t n, size_t *i)
{
	size_t start;

	while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
	start = *i;
	while (*i < n && s[*i] != ' ' && s[*i] != '\t' && s[*i] != '\n' &&
	       s[*i] != '\r')
		(*i)++;
	return start;
}

enum sftp_kh_kind sftp_kh_parse(const char *line, size_t n,
				struct sftp_kh *kh)
{
	size_t i = 0, f, hosts;

	memset(kh, 0, sizeof(*kh));
	f = field(line, n, &i);
	if (f == i || line[f] == '#')
		return kh->kind = SFTP_KH_SKIP;
	kh->kind = SFTP_KH_PLAIN;
	if (line[f] == '@') {
		if (i - f == 8 && !memcmp(line + f, "@revoked", 8))
			kh->kind = SFTP_KH_REVOKED;
		else if (i - f == 15 && !memcmp(line + f, "@cert-authority", 15))
			kh->kind = SFTP_KH_CA;
		else
			return kh->kind = SFTP_KH_BAD;
		f = field(line, n, &i); /* the host patterns */
	}
	hosts = i - f;
	f = field(line, n, &i); /* the key type */
	if (!hosts || f == i)
		return kh->kind = SFTP_KH_BAD;
	f = field(line, n, &i); /* the key */
	if (f == i)
		return kh->kind = SFTP_KH_BAD;
	kh->key = line + f;
	kh->key_len = i - f;
	return kh->kind;
}

int sftp_kh_key_is(const struct sftp_kh *kh, const unsigned char *blob,
		   size_t n)
{
	unsigned char *raw;
	size_t pad = 0;
	int len, same;

	/* Padded base64 only, as ssh-keygen and ssh-keyscan write it. */
	if (!kh->key_len || kh->key_len % 4 || kh->key_len > 65536)
		return 0;
	if (!(raw = malloc(kh->key_len / 4 * 3 + 1)))
		return 0;
	len = EVP_DecodeBlock(raw, (const unsigned char *)kh->key,
			      (int)kh->key_len);
	while (pad < 2 && kh->key[kh->key_len - 1 - pad] == '=')
		pad++;
	same = len >= 0 && (size_t)len >= pad && (size_t)len - pad == n &&
	       !memcmp(raw, blob, n);
	free(raw);
	return same;
}

int sftp_kh_read(const char *path, const unsigned char *blob, size_t n,
		 int (*add)(void *ud, const char *line, size_t len), void *ud,
		 struct sftp_kh_scan *scan, struct err *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned no = 0;
	struct sftp_kh kh;
	int rc = 0;

	memset(scan, 0, sizeof(*scan));
	if (!f)
		return err_set(err, E_CONFIG, "cannot read known_hosts '%s': %s",
			       path, strerror(errno));
	while ((len = getline(&line, &cap, f)) > 0) {
		no++;
		switch (sftp_kh_parse(line, (size_t)len, &kh)) {
		case SFTP_KH_SKIP:
			break;
		case SFTP_KH_BAD:
			rc = err_set(err, E_CONFIG,
				     "known_hosts '%s' line %u: unknown marker "
				     "or missing fields (expected [@revoked|"
				     "@cert-authority] hosts keytype key)",
				     path, no);
			goto cleanup;
		case SFTP_KH_REVOKED:
			if (!scan->revoked_line && sftp_kh_key_is(&kh, blob, n))
				scan->revoked_line = no;
			break;
		case SFTP_KH_CA:
			if (!scan->ca_count++)
				scan->ca_line = no;
			break;
		case SFTP_KH_PLAIN:
			if (add(ud, line, (size_t)len) < 0) {
				rc = err_set(err, E_CONFIG,
					     "known_hosts '%s' line %u: not a "
					     "host key line libssh2 can read "
					     "(unsupported key type?)",
					     path, no);
				goto cleanup;
			}
			break;
		}
	}
	if (ferror(f))
		rc = err_set(err, E_CONFIG, "cannot read known_hosts '%s': %s",
			     path, strerror(errno));
cleanup:
	free(line);
	fclose(f);
	return rc;
}
