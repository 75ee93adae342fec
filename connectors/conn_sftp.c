/* conn_sftp.c - the sftp:// connector (libssh2 1.10, blocking mode).
 *
 * sftp://user@host:port/abs/dir names one remote folder. One SSH session
 * serves every operation of a conn_open()..conn_close() (the stage engine
 * opens one per source and run), and is rebuilt only after a network error.
 *
 * Trust: the server's host key is checked against a known_hosts file and/or
 * a pinned SHA-256 fingerprint right after the key exchange, before any
 * authentication request, so a wrong or unknown server never sees a user
 * name, a key signature or a password (E_AUTH, exit 78). Nothing is ever
 * added to known_hosts. known_hosts is read as ssh(1) reads it
 * (sftp_kh.c): a key on a "@revoked" line is refused, "@cert-authority"
 * lines are not supported and a host known only through one is told so.
 * A private key file that group or others can read is not used (as ssh
 * refuses it) unless ssh.key_permissions: ignore.
 *
 * Time: blocking calls are bounded by libssh2_session_set_timeout() (1.10
 * has no separate read timeout); the TCP connect is non-blocking with its
 * own deadline, and that deadline also bounds the banner and key exchange,
 * so a listener that accepts and never speaks cannot hang a run.
 *
 * Exactly once: fetch publishes through io_atomic_* after checking the
 * byte count against the remote size; put uploads ".NAME.part", checks the
 * remote size, then renames without overwrite. OpenSSH renames with link(),
 * which fails when the final name exists (a crash between the remote rename
 * and our ledger commit): the existing file is read back and hashed, and
 * the same bytes count as delivered, different bytes are E_EXISTS.
 *
 * Ownership: the state owns exactly one of each libssh2 object (session,
 * sftp, at most one open file or directory handle); sftp_drop() frees them
 * in reverse order of creation.
 */
#include "connector.h"
#include "sftp_kh.h"
#include "lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/evp.h>

#include "lib/io.h"
#include "lib/log.h"

#define IO_CHUNK (256 * 1024) /* libssh2 pipelines reads/writes this big */

struct sftp_state {
	struct sftp_url u;
	int sock;                    /* -1 when not connected */
	LIBSSH2_SESSION *session;    /* owned; freed last */
	LIBSSH2_SFTP *sftp;          /* owned; freed before session */
	LIBSSH2_SFTP_HANDLE *handle; /* the one open file/dir, or NULL */
	int lib_init;                /* libssh2_init() succeeded */
	int dead;                    /* connection failed: drop, reconnect */
	size_t chunk;                /* transfer chunk size */
	long slow_ms;                /* test hook: pause per upload chunk */
	unsigned char *buf;          /* chunk bytes */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- URL and fingerprint helpers (pure, unit tested) ----------------- */

int sftp_url_parse(const char *url, struct sftp_url *u, struct err *err)
{
	const char *p, *at, *slash, *hend, *colon = NULL;
	size_t n;

	memset(u, 0, sizeof(*u));
	u->port = 22;
	if (strncmp(url, "sftp://", 7))
		return err_set(err, E_CONFIG, "'%s' is not an sftp:// url",
			       url);
	p = url + 7;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	at = memchr(p, '@', (size_t)(slash - p));
	if (!at || at == p)
		return err_set(err, E_CONFIG,
			       "sftp url '%s' needs a user: "
			       "sftp://user@host/dir",
			       url);
	if (memchr(p, ':', (size_t)(at - p)))
		return err_set(err, E_CONFIG,
			       "sftp url must not carry a password; use "
			       "ssh.password_env");
	if ((size_t)(at - p) >= sizeof(u->user))
		return err_set(err, E_CONFIG, "sftp url: user name too long");
	memcpy(u->user, p, (size_t)(at - p));
	p = at + 1;
	if (*p == '[') { /* [v6 address] */
		hend = memchr(p, ']', (size_t)(slash - p));
		if (!hend)
			return err_set(err, E_CONFIG,
				       "sftp url '%s': unclosed '['", url);
		n = (size_t)(hend - p - 1);
		if (n == 0 || n >= sizeof(u->host))
			return err_set(err, E_CONFIG, "sftp url '%s': bad host",
				       url);
		memcpy(u->host, p + 1, n);
		if (hend + 1 < slash) {
			if (hend[1] != ':')
				return err_set(err, E_CONFIG,
					       "sftp url '%s': bad host", url);
			colon = hend + 1;
		}
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		n = (size_t)((colon ? colon : slash) - p);
		if (n == 0 || n >= sizeof(u->host))
			return err_set(err, E_CONFIG,
				       "sftp url '%s' needs a host", url);
		memcpy(u->host, p, n);
	}
	if (colon) {
		char *end;
		unsigned long port;

		if (colon + 1 == slash)
			return err_set(err, E_CONFIG,
				       "sftp url '%s': empty port", url);
		port = strtoul(colon + 1, &end, 10);
		if (end != slash || port == 0 || port > 65535)
			return err_set(err, E_CONFIG,
				       "sftp url '%s': bad port", url);
		u->port = (unsigned)port;
	}
	p = slash;
	if (!strcmp(p, "/~") || !strncmp(p, "/~/", 3))
		p += p[2] ? 3 : 2; /* relative to the login directory */
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--; /* "dir/" and "dir" are the same folder */
	if (n >= sizeof(u->path))
		return err_set(err, E_CONFIG, "sftp url: path too long");
	memcpy(u->path, p, n);
	for (p = u->path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, E_CONFIG,
				       "sftp url: control character in path");
	return 0;
}

/* Base64 without '=' padding, as OpenSSH prints fingerprints. */
static void b64_unpadded(const unsigned char *raw, size_t n, char *out,
			 size_t outn)
{
	unsigned char tmp[128];
	size_t len;

	if (n > 64 || outn < 4) {
		if (outn)
			out[0] = '\0';
		return;
	}
	EVP_EncodeBlock(tmp, raw, (int)n);
	len = strlen((char *)tmp);
	while (len && tmp[len - 1] == '=')
		len--;
	if (len >= outn)
		len = outn - 1;
	memcpy(out, tmp, len);
	out[len] = '\0';
}

int sftp_fingerprint_match(const char *pin, const unsigned char raw[32],
			   char b64[48])
{
	size_t n;

	b64_unpadded(raw, 32, b64, 48);
	if (!strncmp(pin, "SHA256:", 7))
		pin += 7;
	n = strlen(pin);
	while (n && pin[n - 1] == '=')
		n--;
	return n == strlen(b64) && !memcmp(pin, b64, n);
}

/* ---- errors: the one translation table ------------------------------- */

static const char *fx_text(unsigned long fx)
{
	static const char *const text[] = {
		"ok", "end of file", "no such file", "permission denied",
		"failure", "bad message", "no connection", "connection lost",
		"operation unsupported", "invalid handle", "no such path",
		"file already exists", "write protected", "no media",
		"no space on filesystem", "quota exceeded", "unknown principal",
		"lock conflict", "directory not empty", "not a directory",
		"invalid filename", "link loop"};

	return fx < sizeof(text) / sizeof(text[0]) ? text[fx] : "sftp error";
}

/* libssh2 return code (and SFTP status for LIBSSH2_ERROR_SFTP_PROTOCOL) to
 * our code, as curl's sftp_libssh2_error_to_CURLE. The SFTP statuses are
 * answers on a working connection; every other libssh2 failure leaves the
 * session unusable, so it is a network error unless it is about trust,
 * credentials or memory. Permission problems are E_CONFIG: a person has to
 * fix the remote folder's rights, a retry cannot (exit 78). */
static int ssh_code(int rc, unsigned long fx)
{
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		switch (fx) {
		case LIBSSH2_FX_NO_SUCH_FILE:
		case LIBSSH2_FX_NO_SUCH_PATH:
			return E_NOTFOUND;
		case LIBSSH2_FX_PERMISSION_DENIED:
		case LIBSSH2_FX_WRITE_PROTECT:
			return E_CONFIG;
		case LIBSSH2_FX_FAILURE:
		case LIBSSH2_FX_QUOTA_EXCEEDED:
		case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
			return E_NOSPACE;
		case LIBSSH2_FX_FILE_ALREADY_EXISTS:
			return E_EXISTS;
		case LIBSSH2_FX_NO_CONNECTION:
		case LIBSSH2_FX_CONNECTION_LOST:
			return E_NET;
		default:
			return E_IO;
		}
	}
	switch (rc) {
	case LIBSSH2_ERROR_ALLOC:
		return E_NOMEM;
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
	case LIBSSH2_ERROR_FILE:
	case LIBSSH2_ERROR_PASSWORD_EXPIRED:
	case LIBSSH2_ERROR_HOSTKEY_INIT:
	case LIBSSH2_ERROR_HOSTKEY_SIGN:
		return E_AUTH;
	case LIBSSH2_ERROR_METHOD_NONE:
	case LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
		return E_CONFIG;
	default:
		return E_NET;
	}
}

/* Records the current libssh2 error of st as err (rc: the failed call's
 * return, or 0 to read it from the session). Always returns -1. */
static int ssh_fail(struct sftp_state *st, int rc, struct err *err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int ssh_fail(struct sftp_state *st, int rc, struct err *err,
		    const char *fmt, ...)
{
	char what[600], detail[300];
	unsigned long fx = 0;
	char *msg = NULL;
	int code;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (st->session) {
		int last = libssh2_session_last_error(st->session, &msg, NULL,
						      0);

		if (!rc)
			rc = last;
	}
	if (!rc)
		rc = LIBSSH2_ERROR_SOCKET_DISCONNECT;
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && st->sftp)
		fx = libssh2_sftp_last_error(st->sftp);
	/* A failed call whose SFTP status is still FX_OK (0) failed in
	 * libssh2, not on the server: say that, never "...: ok". */
	if (fx)
		snprintf(detail, sizeof(detail), "%s", fx_text(fx));
	else
		snprintf(detail, sizeof(detail), "%s (libssh2 error %d)",
			 msg && *msg ? msg : "ssh error", rc);
	code = ssh_code(rc, fx);
	if (code == E_NET)
		st->dead = 1;
	if (err && err->code == E_NONE) {
		err_set(err, code, "%s: %s", what, detail);
		err->os_code = fx ? (int)fx : rc;
	}
	return -1;
}

/* ---- connection ------------------------------------------------------ */

static int close_handle(struct sftp_state *st)
{
	int rc;

	if (!st->handle)
		return 0;
	/* On a dead connection the FXP_CLOSE would wait out the timeout a
	 * second time; a shut socket makes it fail (and free) at once. */
	if (st->dead && st->sock >= 0)
		shutdown(st->sock, SHUT_RDWR);
	rc = libssh2_sftp_close_handle(st->handle);
	if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_EAGAIN) {
		/* A timed-out wait leaves the handle with libssh2, half
		 * closed: cut the socket so the second call fails at once
		 * and frees it. */
		st->dead = 1;
		shutdown(st->sock, SHUT_RDWR);
		libssh2_sftp_close_handle(st->handle);
	}
	st->handle = NULL;
	return rc;
}

/* Frees every libssh2 object in reverse order of creation. A dead
 * connection's socket is shut down first, so the goodbyes below fail at
 * once instead of each waiting out the timeout. Idempotent. */
static void sftp_drop(struct sftp_state *st)
{
	if (st->dead && st->sock >= 0)
		shutdown(st->sock, SHUT_RDWR);
	close_handle(st);
	if (st->sftp) {
		int rc = libssh2_sftp_shutdown(st->sftp);

		if (rc == LIBSSH2_ERROR_TIMEOUT ||
		    rc == LIBSSH2_ERROR_EAGAIN) {
			st->dead = 1;
			shutdown(st->sock, SHUT_RDWR);
			libssh2_sftp_shutdown(st->sftp);
		}
		st->sftp = NULL;
	}
	if (st->session) {
		if (!st->dead)
			libssh2_session_disconnect(st->session,
						   "stockpipe done");
		libssh2_session_free(st->session);
		st->session = NULL;
	}
	if (st->sock >= 0) {
		close(st->sock);
		st->sock = -1;
	}
	st->dead = 0;
}

static int net_fail(struct err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int net_fail(struct err *err, int errnum, const char *fmt, ...)
{
	char what[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err && err->code == E_NONE) {
		err_set(err, E_NET, "%s: %s", what, strerror(errnum));
		err->os_code = errnum;
	}
	return -1;
}

/* Non-blocking connect bounded by timeout_ms; 0 or -1 with *errnum. */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len,
			  int64_t timeout_ms, int *errnum)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd;
	socklen_t elen = sizeof(*errnum);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		*errnum = errno;
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0) {
			*errnum = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR) {
			*errnum = errno;
			return -1;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, errnum, &elen) < 0)
		*errnum = errno;
	return *errnum ? -1 : 0;
}

static int tcp_connect(struct sftp_state *st, const struct conn_opts *o,
		       struct err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int rc, fd = -1, errnum = ECONNREFUSED, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", st->u.port);
	rc = getaddrinfo(st->u.host, port, &hints, &res);
	if (rc)
		return err_set(err, E_NET, "cannot resolve '%s': %s",
			       st->u.host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			errnum = errno;
			continue;
		}
		if (connect_within(fd, ai->ai_addr, ai->ai_addrlen,
				   o->connect_timeout_ms, &errnum) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return net_fail(err, errnum, "cannot connect to %s:%u",
				st->u.host, st->u.port);
	/* libssh2 sets its own socket flags; keepalive makes the kernel
	 * notice a peer that vanished without a FIN. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	st->sock = fd;
	return 0;
}

static int known_host_type(int hostkey_type)
{
	switch (hostkey_type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default:
		return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

static int kh_add(void *ud, const char *line, size_t len)
{
	return libssh2_knownhost_readline(ud, line, len,
					  LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0
		       ? -1
		       : 0;
}

/* known_hosts as ssh(1) reads it (sftp_kh.h): a @revoked key is refused
 * before anything else, and a host known only through @cert-authority
 * lines is told so, not reported as unknown. */
static int check_known_hosts(struct sftp_state *st, const struct conn_opts *o,
			     const char *key, size_t klen, int ktype,
			     const char *b64, struct err *err)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(st->session);
	struct sftp_kh_scan scan;
	int rc;

	if (!kh)
		return err_set(err, E_NOMEM, "out of memory");
	if (sftp_kh_read(o->known_hosts, (const unsigned char *)key, klen,
			 kh_add, kh, &scan, err) < 0) {
		libssh2_knownhost_free(kh);
		return -1;
	}
	rc = libssh2_knownhost_checkp(kh, st->u.host, (int)st->u.port, key,
				      klen,
				      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					      LIBSSH2_KNOWNHOST_KEYENC_RAW |
					      known_host_type(ktype),
				      NULL);
	libssh2_knownhost_free(kh);
	if (scan.revoked_line)
		return err_set(err, E_AUTH,
			       "host key of %s:%u (SHA256:%s) is marked "
			       "@revoked in known_hosts '%s' line %u: refusing "
			       "it, not authenticating",
			       st->u.host, st->u.port, b64, o->known_hosts,
			       scan.revoked_line);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		return err_set(err, E_AUTH,
			       "host key of %s:%u (SHA256:%s) does not "
			       "match known_hosts '%s': possible "
			       "man-in-the-middle, not authenticating",
			       st->u.host, st->u.port, b64, o->known_hosts);
	if (rc != LIBSSH2_KNOWNHOST_CHECK_MATCH && scan.ca_count)
		return err_set(err, E_AUTH,
			       "host %s:%u (key SHA256:%s) has no plain entry "
			       "in known_hosts '%s'; its @cert-authority "
			       "line(s) (first: line %u) are not supported "
			       "(stockpipe does not check host certificates): "
			       "add the host's own key after checking the "
			       "fingerprint, or pin it with host_fingerprint",
			       st->u.host, st->u.port, b64, o->known_hosts,
			       scan.ca_line);
	if (rc != LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return err_set(err, E_AUTH,
			       "host %s:%u (key SHA256:%s) is not in "
			       "known_hosts '%s'; add it only after "
			       "checking the fingerprint",
			       st->u.host, st->u.port, b64, o->known_hosts);
	return 0;
}

/* Strict host key check, run after the key exchange and before any
 * authentication request. Both sources must agree when both are set. */
static int check_host_key(struct sftp_state *st, const struct conn_opts *o,
			  struct err *err)
{
	const unsigned char *sha;
	const char *key;
	size_t klen = 0;
	int ktype = 0;
	char b64[48];

	key = libssh2_session_hostkey(st->session, &klen, &ktype);
	sha = (const unsigned char *)libssh2_hostkey_hash(
		st->session, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (!key || !sha)
		return ssh_fail(st, 0, err, "no host key from %s:%u",
				st->u.host, st->u.port);
	b64_unpadded(sha, 32, b64, sizeof(b64));
	if (!o->known_hosts && !o->host_fingerprint)
		return err_set(err, E_AUTH,
			       "no known_hosts or host_fingerprint for %s:%u "
			       "(offers SHA256:%s); refusing an unverified "
			       "server",
			       st->u.host, st->u.port, b64);
	if (o->host_fingerprint &&
	    !sftp_fingerprint_match(o->host_fingerprint, sha, b64))
		return err_set(err, E_AUTH,
			       "host key of %s:%u is SHA256:%s, not the pinned "
			       "%s: possible man-in-the-middle, not "
			       "authenticating",
			       st->u.host, st->u.port, b64,
			       o->host_fingerprint);
	if (o->known_hosts)
		return check_known_hosts(st, o, key, klen, ktype, b64, err);
	return 0;
}

static int env_secret(const char *var, const char *what, const char **out,
		      struct err *err)
{
	const char *v = getenv(var);

	if (!v)
		return err_set(err, E_CONFIG,
			       "environment variable '%s' (%s) is not set", var,
			       what);
	*out = v;
	return 0;
}

/* Public key first, then password, as configured. No secret is ever put
 * in a message. */
static int authenticate(struct sftp_state *st, const struct conn_opts *o,
			struct err *err)
{
	const char *user = st->u.user, *secret = "";
	unsigned ulen = (unsigned)strlen(user);
	int rc = LIBSSH2_ERROR_AUTHENTICATION_FAILED;

	if (o->key_file) {
		if (o->passphrase_env &&
		    env_secret(o->passphrase_env, "key passphrase", &secret,
			       err) < 0)
			return -1;
		rc = libssh2_userauth_publickey_fromfile_ex(
			st->session, user, ulen, NULL, o->key_file, secret);
		if (!rc)
			return 0;
		if (ssh_code(rc, 0) == E_NET)
			return ssh_fail(st, rc, err,
					"public key login to %s:%u failed",
					st->u.host, st->u.port);
		if (!o->password_env) {
			if (rc == LIBSSH2_ERROR_FILE)
				return err_set(err, E_AUTH,
					       "cannot use key file '%s' "
					       "(unreadable, unsupported or "
					       "wrong passphrase)",
					       o->key_file);
			return err_set(err, E_AUTH,
				       "%s:%u refused key '%s' for user '%s'",
				       st->u.host, st->u.port, o->key_file,
				       user);
		}
	}
	if (o->password_env) {
		if (env_secret(o->password_env, "password", &secret, err) < 0)
			return -1;
		rc = libssh2_userauth_password_ex(st->session, user, ulen,
						  secret,
						  (unsigned)strlen(secret),
						  NULL);
		if (!rc)
			return 0;
		if (ssh_code(rc, 0) == E_NET)
			return ssh_fail(st, rc, err,
					"password login to %s:%u failed",
					st->u.host, st->u.port);
		return err_set(err, E_AUTH,
			       "%s:%u refused the password for user '%s'%s",
			       st->u.host, st->u.port, user,
			       o->key_file ? " (and the key)" : "");
	}
	return err_set(err, E_CONFIG, "no key_file or password_env for %s",
		       st->u.host);
}

/* Like ssh(1): a private key that group or others may read is not used
 * (someone else may have copied it), unless ssh.key_permissions: ignore.
 * Checked before connecting, so nothing is sent with it. */
static int key_file_ok(const struct conn_opts *o, struct err *err)
{
	struct stat sb;

	if (!o->key_file)
		return 0;
	if (stat(o->key_file, &sb) < 0)
		return err_set(err, E_AUTH, "cannot use key file '%s': %s",
			       o->key_file, strerror(errno));
	if ((sb.st_mode & 077) && !o->key_perm_ignore)
		return err_set(err, E_AUTH,
			       "key file '%s' has permissions %04o: group or "
			       "others may read it, so it is not used (as ssh "
			       "does); chmod 600 it, or set "
			       "ssh.key_permissions: ignore",
			       o->key_file, (unsigned)(sb.st_mode & 07777));
	return 0;
}

static int sftp_connect(struct conn *c, struct err *err)
{
	struct sftp_state *st = c->state;
	const struct conn_opts *o = &c->opts;
	int rc;

	if (key_file_ok(o, err) < 0 || tcp_connect(st, o, err) < 0)
		return -1;
	st->session = libssh2_session_init_ex(NULL, NULL, NULL, NULL);
	if (!st->session)
		return err_set(err, E_NOMEM, "out of memory");
	libssh2_session_set_blocking(st->session, 1);
	/* The connect deadline covers the banner and key exchange: a
	 * stopped server accepts (the kernel does) but never answers. */
	libssh2_session_set_timeout(st->session, (long)o->connect_timeout_ms);
	/* No CBC ciphers, no SHA-1 or MD5 MACs (reliability.md, libssh2). */
	if (libssh2_session_method_pref(st->session, LIBSSH2_METHOD_CRYPT_CS,
					"aes256-ctr,aes192-ctr,aes128-ctr") ||
	    libssh2_session_method_pref(st->session, LIBSSH2_METHOD_CRYPT_SC,
					"aes256-ctr,aes192-ctr,aes128-ctr") ||
	    libssh2_session_method_pref(st->session, LIBSSH2_METHOD_MAC_CS,
					"hmac-sha2-256,hmac-sha2-512") ||
	    libssh2_session_method_pref(st->session, LIBSSH2_METHOD_MAC_SC,
					"hmac-sha2-256,hmac-sha2-512"))
		return ssh_fail(st, 0, err, "cannot set ssh algorithms");
	rc = libssh2_session_handshake(st->session, st->sock);
	if (rc)
		return ssh_fail(st, rc, err, "ssh handshake with %s:%u failed",
				st->u.host, st->u.port);
	if (check_host_key(st, o, err) < 0)
		return -1;
	libssh2_session_set_timeout(st->session, (long)o->timeout_ms);
	if (o->keepalive_s > 0)
		libssh2_keepalive_config(st->session, 1,
					 (unsigned)o->keepalive_s);
	if (authenticate(st, o, err) < 0)
		return -1;
	st->sftp = libssh2_sftp_init(st->session);
	if (!st->sftp)
		return ssh_fail(st, 0, err, "cannot start sftp on %s:%u",
				st->u.host, st->u.port);
	return 0;
}

/* ---- paths ------------------------------------------------------------ */

static const char *base_dir(const struct sftp_state *st)
{
	return st->u.path[0] ? st->u.path : ".";
}

static int remote_path(struct sftp_state *st, const char *name, char *out,
		       size_t n, struct err *err)
{
	const char *why = conn_name_refusal(name);
	const char *base = st->u.path;
	const char *sep = base[0] && strcmp(base, "/") ? "/" : "";
	int w;

	if (why) {
		char esc[1100];

		conn_name_escape(name, esc, sizeof(esc));
		return err_set(err, E_PARSE, "refusing unsafe file name '%s'",
			       esc);
	}
	w = snprintf(out, n, "%s%s%s", base, sep, name);
	if (w < 0 || (size_t)w >= n)
		return err_set(err, E_IO, "remote path too long for '%s'",
			       name);
	return 0;
}

static void slow_down(const struct sftp_state *st)
{
	if (st->slow_ms > 0)
		sleep_ms(st->slow_ms);
}

static size_t put_chunk(const struct sftp_state *st)
{
	return st->slow_ms > 0 ? 16 * 1024 : st->chunk;
}

/* ---- operations (one attempt each; run_op retries) -------------------- */

struct entry_list {
	struct conn_entry *a;
	size_t n, cap;
};

static int cmp_entry(const void *x, const void *y)
{
	return strcmp(((const struct conn_entry *)x)->name,
		      ((const struct conn_entry *)y)->name);
}

static void warn_name(const struct conn *c, const char *name,
		      const char *why)
{
	char esc[1100];

	conn_name_escape(name, esc, sizeof(esc));
	log_msg("warn", "stockpipe: warning: %s: skipping remote file '%s': %s",
		c->url, esc, why);
}

static int op_list(struct conn *c, struct entry_list *l, struct err *err)
{
	struct sftp_state *st = c->state;
	char name[4096];
	LIBSSH2_SFTP_ATTRIBUTES at;
	const char *dir = base_dir(st);
	int rc;

	l->n = 0;
	st->handle = libssh2_sftp_open_ex(st->sftp, dir, (unsigned)strlen(dir),
					  0, 0, LIBSSH2_SFTP_OPENDIR);
	if (!st->handle)
		return ssh_fail(st, 0, err, "cannot list '%s'", dir);
	while ((rc = libssh2_sftp_readdir_ex(st->handle, name,
					     sizeof(name) - 1, NULL, 0,
					     &at)) > 0) {
		struct conn_entry *e;
		const char *why;

		name[rc] = '\0';
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		/* Hidden names are uploads in progress (ours: .NAME.part). */
		if (name[0] == '.' && !conn_name_refusal(name))
			continue;
		if ((why = conn_name_refusal(name)) ||
		    (size_t)rc != strlen(name)) {
			warn_name(c, name, why ? why : "NUL byte in name");
			continue;
		}
		if (!(at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS))
			continue;
		if (LIBSSH2_SFTP_S_ISLNK(at.permissions)) {
			/* readdir attributes are lstat's: a link is never
			 * followed out of the folder. */
			warn_name(c, name, "symbolic link, not followed");
			continue;
		}
		if (!LIBSSH2_SFTP_S_ISREG(at.permissions))
			continue;
		if (ALLOC_GROW(l->a, l->n + 1, l->cap)) {
			close_handle(st);
			return err_set(err, E_NOMEM, "out of memory");
		}
		e = &l->a[l->n++];
		memset(e, 0, sizeof(*e));
		/* conn_name_refusal() above bounds the length. */
		if (str_copy(e->name, sizeof(e->name), name) < 0) {
			close_handle(st);
			return err_set(err, E_INTERNAL,
				       "file name '%.80s...' "
				       "longer than its bound",
				       name);
		}
		e->size = (at.flags & LIBSSH2_SFTP_ATTR_SIZE) ? at.filesize : 0;
		e->mtime = (at.flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
				   ? (int64_t)at.mtime
				   : 0;
	}
	if (rc < 0) {
		ssh_fail(st, rc, err, "cannot list '%s'", dir);
		close_handle(st);
		return -1;
	}
	if (close_handle(st) < 0)
		return ssh_fail(st, 0, err, "cannot list '%s'", dir);
	return 0;
}

/* Streams the open handle through sha256 (and into a when non-NULL);
 * *bytes gets the count. */
static int read_all(struct sftp_state *st, const char *what,
		    struct io_atomic *a, struct sha256 *sha, uint64_t *bytes,
		    struct err *err)
{
	ssize_t got;

	*bytes = 0;
	while ((got = libssh2_sftp_read(st->handle, (char *)st->buf,
					st->chunk)) > 0) {
		if (a && io_atomic_write(a, st->buf, (size_t)got, err) < 0)
			return -1;
		if (sha)
			sha256_update(sha, st->buf, (size_t)got);
		*bytes += (uint64_t)got;
	}
	if (got < 0)
		return ssh_fail(st, (int)got, err, "cannot read '%s'", what);
	return 0;
}

static int remote_lstat(struct sftp_state *st, const char *path,
			LIBSSH2_SFTP_ATTRIBUTES *at, int how, struct err *err)
{
	int rc = libssh2_sftp_stat_ex(st->sftp, path, (unsigned)strlen(path),
				      how, at);

	if (rc)
		return ssh_fail(st, rc, err, "cannot stat '%s'", path);
	return 0;
}

static int op_fetch(struct conn *c, const char *name, const char *local,
		    char *sha_hex, uint64_t *size, struct err *err)
{
	struct sftp_state *st = c->state;
	struct io_atomic a;
	LIBSSH2_SFTP_ATTRIBUTES at;
	char path[4096];
	uint64_t got;

	memset(&a, 0, sizeof(a));
	a.fd = -1;
	if (remote_path(st, name, path, sizeof(path), err) < 0 ||
	    remote_lstat(st, path, &at, LIBSSH2_SFTP_LSTAT, err) < 0)
		return -1;
	if (!(at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
	    !LIBSSH2_SFTP_S_ISREG(at.permissions))
		return err_set(err, E_PARSE,
			       "refusing '%s': not a regular file", name);
	st->handle = libssh2_sftp_open_ex(st->sftp, path,
					  (unsigned)strlen(path),
					  LIBSSH2_FXF_READ, 0,
					  LIBSSH2_SFTP_OPENFILE);
	if (!st->handle)
		return ssh_fail(st, 0, err, "cannot open '%s'", path);
	/* The size of what we opened, not of what we listed: the engine
	 * compares the listing; this catches a short read. */
	if (libssh2_sftp_fstat_ex(st->handle, &at, 0) ||
	    !(at.flags & LIBSSH2_SFTP_ATTR_SIZE)) {
		ssh_fail(st, 0, err, "cannot stat '%s'", path);
		goto fail;
	}
	if (io_atomic_open(&a, local, err) < 0)
		goto fail;
	/* A large file: hashed and written by a thread of its own while
	 * this one reads and decrypts (lib/io_wq.h). */
	if (at.filesize >= IO_ASYNC_MIN && io_atomic_async(&a, err) < 0)
		goto fail;
	if (read_all(st, path, &a, NULL, &got, err) < 0)
		goto fail;
	if (close_handle(st) < 0) {
		ssh_fail(st, 0, err, "cannot close '%s'", path);
		goto fail;
	}
	if (got != at.filesize) {
		err_set(err, E_IO,
			"'%s': read %llu bytes but the server says %llu", name,
			(unsigned long long)got,
			(unsigned long long)at.filesize);
		goto fail;
	}
	if (io_atomic_commit(&a, sha_hex, err) < 0)
		return -1;
	*size = got;
	return 0;
fail:
	close_handle(st);
	io_atomic_abort(&a);
	return -1;
}

/* Reads the remote file back and compares size and SHA-256 with the
 * local one: 1 same, 0 different, -1 error. */
static int remote_same(struct sftp_state *st, const char *path,
		       const char *want_sha, uint64_t want_size,
		       struct err *err)
{
	struct sha256 sha;
	char have[SHA256_HEX_LEN];
	uint64_t got;

	st->handle = libssh2_sftp_open_ex(st->sftp, path,
					  (unsigned)strlen(path),
					  LIBSSH2_FXF_READ, 0,
					  LIBSSH2_SFTP_OPENFILE);
	if (!st->handle)
		return ssh_fail(st, 0, err, "cannot open '%s'", path);
	if (sha256_init(&sha, err) < 0) {
		close_handle(st);
		return -1;
	}
	if (read_all(st, path, NULL, &sha, &got, err) < 0) {
		sha256_release(&sha);
		close_handle(st);
		return -1;
	}
	sha256_final(&sha, have);
	if (close_handle(st) < 0)
		return ssh_fail(st, 0, err, "cannot close '%s'", path);
	return got == want_size && !strcmp(have, want_sha);
}

/* The final name exists: ours from an earlier attempt (same bytes, the
 * delivery is done) or someone else's (refused, never overwritten). */
static int existing_final(struct sftp_state *st, const char *name,
			  const char *final, const char *part,
			  const char *sha, uint64_t size, struct err *err)
{
	int same = remote_same(st, final, sha, size, err);

	if (same < 0)
		return -1;
	libssh2_sftp_unlink_ex(st->sftp, part, (unsigned)strlen(part));
	if (same)
		return 0;
	return err_set(err, E_EXISTS,
		       "'%s' already exists in the target folder with "
		       "different content; not overwritten",
		       name);
}

static int write_all(struct sftp_state *st, const char *local,
		     const char *part, uint64_t *sent, struct err *err)
{
	FILE *f = fopen(local, "rb");
	size_t n;

	*sent = 0;
	if (!f)
		return err_sys(err, "cannot open '%s'", local);
	while ((n = fread(st->buf, 1, put_chunk(st), f)) > 0) {
		size_t off = 0;

		/* A short write leaves the rest in flight: send the rest,
		 * never change those bytes (libssh2_sftp_write docs). */
		while (off < n) {
			ssize_t w = libssh2_sftp_write(
				st->handle, (char *)st->buf + off, n - off);

			if (w < 0) {
				fclose(f);
				return ssh_fail(st, (int)w, err,
						"cannot write '%s'", part);
			}
			off += (size_t)w;
		}
		*sent += n;
		slow_down(st);
	}
	if (ferror(f)) {
		fclose(f);
		return err_sys(err, "cannot read '%s'", local);
	}
	fclose(f);
	return 0;
}

static int op_put(struct conn *c, const char *local, const char *name,
		  struct err *err)
{
	struct sftp_state *st = c->state;
	LIBSSH2_SFTP_ATTRIBUTES at;
	char final[4096], part[4096], pname[300], sha[SHA256_HEX_LEN];
	uint64_t size, sent;
	struct err e = ERR_INIT;
	int rc;

	snprintf(pname, sizeof(pname), ".%s.part", name);
	if (remote_path(st, name, final, sizeof(final), err) < 0 ||
	    remote_path(st, pname, part, sizeof(part), err) < 0 ||
	    sha256_file(local, sha, &size, err) < 0)
		return -1;
	if (remote_lstat(st, final, &at, LIBSSH2_SFTP_LSTAT, &e) == 0)
		return existing_final(st, name, final, part, sha, size, err);
	if (e.code != E_NOTFOUND) {
		*err = e;
		return -1;
	}
	io_crash_point("sftp put");
	st->handle = libssh2_sftp_open_ex(
		st->sftp, part, (unsigned)strlen(part),
		LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
		LIBSSH2_SFTP_S_IRUSR | LIBSSH2_SFTP_S_IWUSR |
			LIBSSH2_SFTP_S_IRGRP | LIBSSH2_SFTP_S_IROTH,
		LIBSSH2_SFTP_OPENFILE);
	if (!st->handle)
		return ssh_fail(st, 0, err, "cannot create '%s'", part);
	if (write_all(st, local, part, &sent, err) < 0)
		goto fail;
	/* fsync@openssh.com when the server has it; older servers answer
	 * "unsupported", which leaves durability to them. */
	rc = libssh2_sftp_fsync(st->handle);
	if (rc && !(rc == LIBSSH2_ERROR_SFTP_PROTOCOL &&
		    libssh2_sftp_last_error(st->sftp) ==
			    LIBSSH2_FX_OP_UNSUPPORTED)) {
		ssh_fail(st, rc, err, "cannot fsync '%s'", part);
		goto fail;
	}
	if ((rc = libssh2_sftp_fstat_ex(st->handle, &at, 0))) {
		ssh_fail(st, rc, err, "cannot stat '%s'", part);
		goto fail;
	}
	if (!(at.flags & LIBSSH2_SFTP_ATTR_SIZE) || at.filesize != size ||
	    sent != size) {
		err_set(err, E_IO,
			"'%s': uploaded %llu bytes, the server has %llu, "
			"expected %llu",
			part, (unsigned long long)sent,
			(unsigned long long)at.filesize,
			(unsigned long long)size);
		goto fail;
	}
	/* the target's mode: set on the part file, so the final name never
	 * has another (the creation mode is cut by the server's umask) */
	if (c->opts.file_mode) {
		memset(&at, 0, sizeof(at));
		at.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
		at.permissions = (unsigned long)c->opts.file_mode;
		if ((rc = libssh2_sftp_fsetstat(st->handle, &at))) {
			ssh_fail(st, rc, err, "cannot chmod '%s' to %04o",
				 part, (unsigned)c->opts.file_mode);
			goto fail;
		}
	}
	if ((rc = close_handle(st)) < 0) {
		ssh_fail(st, rc, err, "cannot close '%s'", part);
		goto fail;
	}
	io_crash_point("sftp rename");
	/* No OVERWRITE flag: a file already under the final name is never
	 * replaced (OpenSSH refuses anyway; it renames with link()). */
	rc = libssh2_sftp_rename_ex(st->sftp, part, (unsigned)strlen(part),
				    final, (unsigned)strlen(final), 0);
	if (rc) {
		err_clear(&e);
		ssh_fail(st, rc, &e, "cannot rename '%s' to '%s'", part,
			 final);
		if (!st->dead &&
		    remote_lstat(st, final, &at, LIBSSH2_SFTP_LSTAT, NULL) ==
			    0)
			return existing_final(st, name, final, part, sha,
					      size, err);
		*err = e;
		return -1;
	}
	return 0;
fail:
	close_handle(st);
	if (!st->dead)
		libssh2_sftp_unlink_ex(st->sftp, part, (unsigned)strlen(part));
	return -1;
}

static int ensure_dir(struct sftp_state *st, const char *path,
		      struct err *err)
{
	LIBSSH2_SFTP_ATTRIBUTES at;
	int rc = libssh2_sftp_mkdir_ex(st->sftp, path, (unsigned)strlen(path),
				       0755);

	if (!rc)
		return 0;
	/* mkdir on an existing folder fails with a generic FAILURE. */
	if (remote_lstat(st, path, &at, LIBSSH2_SFTP_STAT, NULL) == 0 &&
	    (at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	    LIBSSH2_SFTP_S_ISDIR(at.permissions))
		return 0;
	return ssh_fail(st, rc, err, "cannot create folder '%s'", path);
}

static void drop_marker(struct conn *c, const char *path)
{
	struct sftp_state *st = c->state;
	char marker[4200];

	if (!c->opts.done_suffix || st->dead)
		return;
	snprintf(marker, sizeof(marker), "%s%s", path, c->opts.done_suffix);
	libssh2_sftp_unlink_ex(st->sftp, marker, (unsigned)strlen(marker));
}

static int op_move(struct conn *c, const char *name, const char *subdir,
		   struct err *err)
{
	struct sftp_state *st = c->state;
	LIBSSH2_SFTP_ATTRIBUTES at;
	char from[4096], dir[4096], to[4400], alt[300];
	int rc, i;

	if (!*subdir || subdir[0] == '/' || strstr(subdir, "..") ||
	    strchr(subdir, '\\'))
		return err_set(err, E_CONFIG, "bad processed folder '%s'",
			       subdir);
	if (remote_path(st, name, from, sizeof(from), err) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s%s%s", st->u.path,
		 st->u.path[0] && strcmp(st->u.path, "/") ? "/" : "", subdir);
	if (ensure_dir(st, dir, err) < 0)
		return -1;
	/* A partner may send the same name twice; the earlier one stays
	 * in processed/ and the later one gets a numbered name. */
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	for (i = 1; remote_lstat(st, to, &at, LIBSSH2_SFTP_LSTAT, NULL) == 0;
	     i++) {
		if (i > 999)
			return err_set(err, E_EXISTS,
				       "'%s': too many copies in '%s'", name,
				       dir);
		snprintf(alt, sizeof(alt), "%s.%d", name, i);
		snprintf(to, sizeof(to), "%s/%s", dir, alt);
	}
	if (st->dead)
		return ssh_fail(st, 0, err, "cannot stat '%s'", to);
	io_crash_point("sftp move");
	rc = libssh2_sftp_rename_ex(st->sftp, from, (unsigned)strlen(from), to,
				    (unsigned)strlen(to), 0);
	if (rc)
		return ssh_fail(st, rc, err, "cannot move '%s' to '%s'", from,
				to);
	drop_marker(c, from);
	return 0;
}

static int op_remove(struct conn *c, const char *name, struct err *err)
{
	struct sftp_state *st = c->state;
	char path[4096];
	struct err e = ERR_INIT;
	int rc;

	if (remote_path(st, name, path, sizeof(path), err) < 0)
		return -1;
	io_crash_point("remove");
	rc = libssh2_sftp_unlink_ex(st->sftp, path, (unsigned)strlen(path));
	if (rc) {
		ssh_fail(st, rc, &e, "cannot remove '%s'", path);
		if (e.code != E_NOTFOUND) { /* gone already: idempotent */
			*err = e;
			return -1;
		}
	}
	drop_marker(c, path);
	return 0;
}

static int op_stat(struct conn *c, const char *name, struct conn_entry *out,
		   struct err *err)
{
	struct sftp_state *st = c->state;
	LIBSSH2_SFTP_ATTRIBUTES at;
	char path[4096];

	if (remote_path(st, name, path, sizeof(path), err) < 0 ||
	    remote_lstat(st, path, &at, LIBSSH2_SFTP_LSTAT, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->size = (at.flags & LIBSSH2_SFTP_ATTR_SIZE) ? at.filesize : 0;
	out->mtime = (at.flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
			     ? (int64_t)at.mtime
			     : 0;
	return 0;
}

static int op_open(struct conn *c, struct err *err)
{
	struct sftp_state *st = c->state;
	LIBSSH2_SFTP_ATTRIBUTES at;
	struct err e = ERR_INIT;
	const char *dir = base_dir(st);

	if (remote_lstat(st, dir, &at, LIBSSH2_SFTP_STAT, &e) < 0) {
		if (e.code == E_NOTFOUND)
			e.code = E_CONFIG;
		*err = e;
		return -1;
	}
	if (!(at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
	    !LIBSSH2_SFTP_S_ISDIR(at.permissions))
		return err_set(err, E_CONFIG, "'%s' on %s is not a folder",
			       dir, st->u.host);
	return 0;
}

/* ---- retry driver ----------------------------------------------------- */

enum op_kind { OP_OPEN, OP_LIST, OP_FETCH, OP_PUT, OP_MOVE, OP_REMOVE,
	       OP_STAT };

struct op {
	enum op_kind kind;
	const char *name;      /* remote name */
	const char *arg;       /* local path or subdir */
	char *sha_hex;         /* fetch */
	uint64_t *size;        /* fetch */
	struct conn_entry *st; /* stat */
	struct entry_list *list;
};

static int dispatch(struct conn *c, struct op *op, struct err *err)
{
	switch (op->kind) {
	case OP_OPEN:
		return op_open(c, err);
	case OP_LIST:
		return op_list(c, op->list, err);
	case OP_FETCH:
		return op_fetch(c, op->name, op->arg, op->sha_hex, op->size,
				err);
	case OP_PUT:
		return op_put(c, op->arg, op->name, err);
	case OP_MOVE:
		return op_move(c, op->name, op->arg, err);
	case OP_REMOVE:
		return op_remove(c, op->name, err);
	case OP_STAT:
		return op_stat(c, op->name, op->st, err);
	}
	return err_set(err, E_INTERNAL, "unknown sftp operation");
}

/* Runs op, reconnecting and retrying after network errors (E_NET: lost
 * connection, timeout, refused connect) with exponential backoff, at most
 * opts.retries more times and never starting an attempt after
 * opts.retry_time. Other errors are answers, not accidents: no retry. */
static int run_op(struct conn *c, struct op *op, struct err *err)
{
	struct sftp_state *st = c->state;
	const struct conn_opts *o = &c->opts;
	int64_t start = now_ms(), backoff = 1000;
	int attempt;

	for (attempt = 0;; attempt++) {
		struct err e = ERR_INIT;
		int rc;

		if (st->dead)
			sftp_drop(st);
		if (!st->session && sftp_connect(c, &e) < 0) {
			sftp_drop(st); /* a half-made session is no session */
			rc = -1;
		} else {
			rc = dispatch(c, op, &e);
		}
		if (!rc)
			return 0;
		if (e.code != E_NET || attempt >= o->retries ||
		    now_ms() - start + backoff > o->retry_time_ms) {
			if (e.code == E_NET)
				st->dead = 1;
			if (err->code == E_NONE)
				*err = e;
			return -1;
		}
		log_msg("warn",
			"stockpipe: warning: %s: %s; retry %d of %d in "
			"%llds",
			c->url, e.reason, attempt + 1, o->retries,
			(long long)(backoff / 1000));
		st->dead = 1;
		sftp_drop(st);
		sleep_ms(backoff);
		if (backoff < 16000)
			backoff *= 2;
	}
}

/* ---- vtable ------------------------------------------------------------ */

static int s_open(struct conn *c, const char *url,
		  const struct conn_opts *opts, struct err *err)
{
	struct sftp_state *st = c->state;
	struct op op = {OP_OPEN, NULL, NULL, NULL, NULL, NULL, NULL};

	(void)opts; /* the copy in c->opts is what the operations read */
	st->sock = -1;
	if (sftp_url_parse(url, &st->u, err) < 0)
		return -1;
	st->chunk = IO_CHUNK;
#ifdef STOCKPIPE_TEST_HOOKS
	/* Test builds: STOCKPIPE_SFTP_SLOW_PUT_MS=N uploads in 16 KiB chunks
	 * and pauses N ms after each, so a test can kill the server while a
	 * small file is in flight. */
	{
		const char *slow = getenv("STOCKPIPE_SFTP_SLOW_PUT_MS");

		if (slow && *slow)
			st->slow_ms = strtol(slow, NULL, 10);
	}
#endif
	if (!(st->buf = malloc(IO_CHUNK)))
		return err_set(err, E_NOMEM, "out of memory");
	if (libssh2_init(0))
		return err_set(err, E_NOMEM, "cannot initialise libssh2");
	st->lib_init = 1;
	return run_op(c, &op, err);
}

static int s_list(struct conn *c,
		  int (*each)(void *ud, const struct conn_entry *e), void *ud,
		  struct err *err)
{
	struct entry_list l = {NULL, 0, 0};
	struct op op = {OP_LIST, NULL, NULL, NULL, NULL, NULL, &l};
	const char *suffix = c->opts.done_suffix;
	size_t i;
	int rc = 0;

	/* The whole listing first, callbacks after: a retried listing never
	 * reports a file twice, and no callback runs with a handle open. */
	if (run_op(c, &op, err) < 0) {
		free(l.a);
		return -1;
	}
	if (l.n)
		qsort(l.a, l.n, sizeof(*l.a), cmp_entry);
	for (i = 0; i < l.n && !rc; i++) {
		if (suffix) {
			struct conn_entry key;

			/* done_suffix: X only once X<suffix> exists; the
			 * markers themselves are never data. */
			if (conn_is_marker(l.a[i].name, suffix))
				continue;
			memset(&key, 0, sizeof(key));
			if ((size_t)snprintf(key.name, sizeof(key.name), "%s%s",
					     l.a[i].name, suffix) >=
				    sizeof(key.name) ||
			    !bsearch(&key, l.a, l.n, sizeof(*l.a), cmp_entry))
				continue;
		}
		rc = each(ud, &l.a[i]);
	}
	free(l.a);
	return rc < 0 ? -1 : 0;
}

static int s_fetch(struct conn *c, const char *name, const char *local_path,
		   char *sha_hex, uint64_t *size, struct err *err)
{
	struct op op = {OP_FETCH, name, local_path, sha_hex, size, NULL, NULL};

	return run_op(c, &op, err);
}

static int s_put(struct conn *c, const char *local_path, const char *name,
		 struct err *err)
{
	struct op op = {OP_PUT, name, local_path, NULL, NULL, NULL, NULL};

	return run_op(c, &op, err);
}

static int s_move(struct conn *c, const char *name, const char *subdir,
		  struct err *err)
{
	struct op op = {OP_MOVE, name, subdir, NULL, NULL, NULL, NULL};

	return run_op(c, &op, err);
}

static int s_remove(struct conn *c, const char *name, struct err *err)
{
	struct op op = {OP_REMOVE, name, NULL, NULL, NULL, NULL, NULL};

	return run_op(c, &op, err);
}

static int s_stat(struct conn *c, const char *name, struct conn_entry *out,
		  struct err *err)
{
	struct op op = {OP_STAT, name, NULL, NULL, NULL, out, NULL};

	return run_op(c, &op, err);
}

static void s_close(struct conn *c)
{
	struct sftp_state *st = c->state;

	if (!st)
		return;
	sftp_drop(st);
	free(st->buf);
	st->buf = NULL;
	if (st->lib_init)
		libssh2_exit();
	st->lib_init = 0;
}

static const struct conn_ops sftp_ops = {
	s_open,   /* open */
	s_list,   /* list */
	s_fetch,  /* fetch */
	s_put,    /* put */
	s_move,   /* move */
	s_remove, /* remove */
	s_stat,   /* stat */
	s_close,  /* close */
};

const struct conn_scheme conn_scheme_sftp = {
	"sftp",                     /* scheme */
	&sftp_ops,                  /* ops */
	sizeof(struct sftp_state),  /* state_size */
};
