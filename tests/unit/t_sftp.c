/* t_sftp.c - the parts of the sftp:// connector that need no server: URL
 * parsing, host key fingerprint comparison, remote name refusal and
 * escaping, the `ssh:` config map (refusals at file:line:col), and the
 * done_suffix convention on file://. The server side is tests/e2e/sftp.sh.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "connectors/sftp_kh.h"
#include "pipeline/config.h"
#include "t.h"

T_TEST(sftp_url_parse_forms)
{
	struct sftp_url u;
	struct err e = ERR_INIT;

	T_OK(sftp_url_parse("sftp://acme@files.example.com/out/stock", &u, &e),
	     &e);
	T_EQ_STR(u.user, "acme");
	T_EQ_STR(u.host, "files.example.com");
	T_EQ_INT(u.port, 22);
	T_EQ_STR(u.path, "/out/stock");
	T_OK(sftp_url_parse("sftp://root@127.0.0.1:2222/tmp/x/", &u, &e), &e);
	T_EQ_STR(u.host, "127.0.0.1");
	T_EQ_INT(u.port, 2222);
	T_EQ_STR(u.path, "/tmp/x"); /* trailing slash dropped */
	T_OK(sftp_url_parse("sftp://u@[::1]:2200/d", &u, &e), &e);
	T_EQ_STR(u.host, "::1");
	T_EQ_INT(u.port, 2200);
	T_OK(sftp_url_parse("sftp://u@h/~/drop", &u, &e), &e);
	T_EQ_STR(u.path, "drop"); /* relative to the login directory */
	T_OK(sftp_url_parse("sftp://u@h/~", &u, &e), &e);
	T_EQ_STR(u.path, "");
	T_OK(sftp_url_parse("sftp://u@h", &u, &e), &e);
	T_EQ_STR(u.path, "");
	T_OK(sftp_url_parse("sftp://u@h/", &u, &e), &e);
	T_EQ_STR(u.path, "/");
}

T_TEST(sftp_url_parse_refusals)
{
	static const char *const bad[] = {
		"sftp://host/dir",           /* no user */
		"sftp://@host/dir",          /* empty user */
		"sftp://u:secret@host/dir",  /* password in the URL */
		"sftp://u@/dir",             /* no host */
		"sftp://u@host:/dir",        /* empty port */
		"sftp://u@host:0/dir",       /* port 0 */
		"sftp://u@host:70000/dir",   /* port too big */
		"sftp://u@host:22x/dir",     /* junk port */
		"sftp://u@[::1/dir",         /* unclosed [ */
		"sftp://u@host/a\nb",        /* control character */
		"file:///x",                 /* not sftp */
	};
	struct sftp_url u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = ERR_INIT;

		if (sftp_url_parse(bad[i], &u, &e) != -1 || e.code != E_CONFIG)
			T_FAIL("accepted '%s'", bad[i]);
	}
	{
		struct err e = ERR_INIT;

		sftp_url_parse("sftp://u:hunter2@host/d", &u, &e);
		T_ASSERT(strstr(e.reason, "password_env") != NULL);
		T_ASSERT(strstr(e.reason, "hunter2") == NULL); /* no echo */
	}
}

T_TEST(sftp_fingerprint_compare)
{
	/* SHA-256 of "abc": base64 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0= */
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	char b64[48];

	T_ASSERT(sftp_fingerprint_match(
		"SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", abc, b64));
	T_EQ_STR(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
	T_ASSERT(sftp_fingerprint_match(
		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", abc, b64));
	T_ASSERT(sftp_fingerprint_match(
		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", abc, b64));
	/* one character off, truncated, empty, wrong case */
	T_ASSERT(!sftp_fingerprint_match(
		"SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa1", abc, b64));
	T_ASSERT(!sftp_fingerprint_match(
		"SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa", abc, b64));
	T_ASSERT(!sftp_fingerprint_match("", abc, b64));
	T_ASSERT(!sftp_fingerprint_match("SHA256:", abc, b64));
	T_ASSERT(!sftp_fingerprint_match(
		"sha256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", abc, b64));
}

T_TEST(sftp_remote_name_refusal)
{
	char longname[300], esc[64];

	T_ASSERT(conn_name_refusal("stock_01.csv") == NULL);
	T_ASSERT(conn_name_refusal("%2e%2e%2fx.csv") == NULL); /* literal */
	T_ASSERT(conn_name_refusal("evil\nname.csv") != NULL);
	T_ASSERT(conn_name_refusal("a\x01" "b") != NULL);
	T_ASSERT(conn_name_refusal("a\x7f" "b") != NULL);
	T_ASSERT(conn_name_refusal("a\tb") != NULL);
	T_ASSERT(conn_name_refusal("..") != NULL);
	T_ASSERT(conn_name_refusal("a/b") != NULL);
	T_ASSERT(conn_name_refusal("..\\x") != NULL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	T_EQ_STR(conn_name_refusal(longname), "name too long");
	conn_name_escape("evil\nname\\x\x01", esc, sizeof(esc));
	T_EQ_STR(esc, "evil\\x0aname\\x5cx\\x01");
	conn_name_escape("abcdefgh", esc, 6); /* truncated, terminated */
	T_ASSERT(strlen(esc) < 6);
	T_ASSERT(conn_is_marker("a.csv.done", ".done"));
	T_ASSERT(!conn_is_marker(".done", ".done"));
	T_ASSERT(!conn_is_marker("a.csv", ".done"));
	T_ASSERT(!conn_is_marker("a.csv.done", NULL));
}

T_TEST(sftp_opts_defaults)
{
	struct conn_opts o;

	conn_opts_init(&o);
	T_EQ_INT(o.timeout_ms, CONN_TIMEOUT_MS);
	T_EQ_INT(o.connect_timeout_ms, CONN_CONNECT_TIMEOUT_MS);
	T_EQ_INT(o.retries, CONN_RETRIES);
	T_ASSERT(o.key_file == NULL && o.known_hosts == NULL &&
		 o.host_fingerprint == NULL && o.done_suffix == NULL);
}

#define SFTP_SRC                                                     \
	"sources:\n"                                                 \
	"  - name: acme\n"                                           \
	"    url: sftp://acme@files.example.com:2222/out\n"          \
	"    mapping: m.yaml\n"

T_TEST(sftp_config_ssh_map)
{
	static const char y[] = SFTP_SRC
		"    done_suffix: .done\n"
		"    ssh:\n"
		"      key_file: keys/id_ed25519\n"
		"      passphrase_env: ACME_KEY_PASS\n"
		"      known_hosts: /etc/stockpipe/known_hosts\n"
		"      host_fingerprint: \"SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0\"\n"
		"      timeout: 45s\n"
		"      connect_timeout: 5s\n"
		"      keepalive: 0\n"
		"      retries: 4\n"
		"      retry_time: 2m\n"
		"      key_permissions: ignore\n"
		"targets:\n"
		"  - name: shop\n"
		"    url: sftp://shop@10.0.0.5/in\n"
		"    mapping: t.yaml\n"
		"    ssh:\n"
		"      password_env: SHOP_PASSWORD\n"
		"      host_fingerprint: ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0\n";
	struct config *c = NULL;
	struct err e = ERR_INIT;
	const struct conn_opts *o;
	char want[4200];

	T_ASSERT(t_write_file("stockpipe.yaml", y) == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &c, &e), &e);
	o = &c->sources[0].conn;
	snprintf(want, sizeof(want), "%s/keys/id_ed25519", t_dir);
	T_EQ_STR(o->key_file, want); /* relative to the config file */
	T_EQ_STR(o->passphrase_env, "ACME_KEY_PASS");
	T_EQ_STR(o->known_hosts, "/etc/stockpipe/known_hosts");
	T_EQ_INT(o->timeout_ms, 45000);
	T_EQ_INT(o->connect_timeout_ms, 5000);
	T_EQ_INT(o->keepalive_s, 0);
	T_EQ_INT(o->retries, 4);
	T_EQ_INT(o->retry_time_ms, 120000);
	T_EQ_STR(o->done_suffix, ".done");
	T_EQ_INT(o->key_perm_ignore, 1);
	o = &c->targets[0].conn;
	T_EQ_INT(o->key_perm_ignore, 0); /* strict unless said */
	T_EQ_STR(o->password_env, "SHOP_PASSWORD");
	T_ASSERT(o->key_file == NULL && o->known_hosts == NULL);
	T_EQ_INT(o->timeout_ms, CONN_TIMEOUT_MS);
	T_EQ_INT(o->retries, CONN_RETRIES);
	config_free(c);
}

/* The config is refused with E_CONFIG at line:col with why in the text. */
static int ssh_refused(const char *text, unsigned long line, unsigned col,
		       const char *why)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	char msg[1200];
	int rc;

	if (t_write_file("stockpipe.yaml", text) < 0)
		return -1;
	rc = config_load("stockpipe.yaml", NULL, &c, &e);
	err_format(&e, msg, sizeof(msg));
	if (rc != -1 || c || e.code != E_CONFIG || e.line != line ||
	    e.col != col || !strstr(e.reason, why)) {
		fprintf(stderr, "    ---\n%s    --- got '%s'\n"
				"    want %lu:%u ...%s...\n",
			text, msg, line, col, why);
		config_free(c);
		return -1;
	}
	return 0;
}

#define KEYS "      key_file: k\n      known_hosts: kh\n"

T_TEST(sftp_config_refusals)
{
	T_EQ_INT(ssh_refused(SFTP_SRC, 2, 5, "needs an 'ssh' map"), 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n" KEYS "      password: x\n",
			     8, 7, "unknown key 'password'"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n      key_file: k\n", 6, 7,
			     "known_hosts or host_fingerprint"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n      known_hosts: kh\n", 6,
			     7, "key_file or password_env"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n" KEYS
				      "      host_fingerprint: MD5:aa:bb\n",
			     8, 25, "SHA256 fingerprint"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n" KEYS
				      "      key_permissions: lax\n",
			     8, 24, "key_permissions must be strict"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n" KEYS "      timeout: 0\n", 8,
			     16, "timeout must be a duration"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n" KEYS "      retries: 99\n",
			     8, 16, "retries must be a number"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    ssh:\n      known_hosts: kh\n"
				      "      password_env: P\n"
				      "      passphrase_env: Q\n",
			     8, 23, "passphrase_env needs key_file"),
		 0);
	T_EQ_INT(ssh_refused("sources:\n  - name: a\n"
			     "    url: sftp://u:pw@h/d\n    mapping: m.yaml\n"
			     "    ssh:\n" KEYS,
			     3, 10, "must not carry a password"),
		 0);
	T_EQ_INT(ssh_refused("sources:\n  - name: a\n    path: in\n"
			     "    mapping: m.yaml\n    ssh:\n" KEYS,
			     6, 7, "need an sftp:// url"),
		 0);
	T_EQ_INT(ssh_refused(SFTP_SRC "    done_suffix: a/b\n    ssh:\n" KEYS,
			     5, 18, "done_suffix"),
		 0);
}

static int count_cb(void *ud, const struct conn_entry *e)
{
	int *n = ud;

	(void)e;
	(*n)++;
	return 0;
}

T_TEST(conn_local_done_suffix)
{
	struct conn_opts o;
	struct conn *c = NULL;
	struct err e = ERR_INIT;
	char url[4200];
	int n = 0;

	conn_opts_init(&o);
	o.done_suffix = ".done";
	T_ASSERT(mkdir("drop", 0755) == 0);
	T_ASSERT(mkdir("drop/processed", 0755) == 0);
	T_ASSERT(t_write_file("drop/a.csv", "a") == 0);
	T_ASSERT(t_write_file("drop/b.csv", "b") == 0);
	T_ASSERT(t_write_file("drop/b.csv.done", "") == 0);
	snprintf(url, sizeof(url), "file://%s/drop", t_dir);
	T_OK(conn_open(url, &o, &c, &e), &e);
	T_OK(c->scheme->ops->list(c, count_cb, &n, &e), &e);
	T_EQ_INT(n, 1); /* b.csv only: a has no marker, the marker is no data */
	T_OK(c->scheme->ops->move(c, "b.csv", "processed", &e), &e);
	T_ASSERT(access("drop/b.csv.done", F_OK) != 0); /* marker went too */
	T_ASSERT(access("drop/processed/b.csv", F_OK) == 0);
	conn_close(c);
}

/* known_hosts lines as ssh(1) reads them: markers recognised, the key
 * field found, unknown markers and short lines refused. */
T_TEST(sftp_kh_parse_lines)
{
	struct sftp_kh kh;

	T_EQ_INT(sftp_kh_parse("", 0, &kh), SFTP_KH_SKIP);
	T_EQ_INT(sftp_kh_parse("  # comment\n", 12, &kh), SFTP_KH_SKIP);
	T_EQ_INT(sftp_kh_parse("\n", 1, &kh), SFTP_KH_SKIP);
	T_EQ_INT(sftp_kh_parse("[h]:22 ssh-ed25519 QUJD c\n", 26, &kh),
		 SFTP_KH_PLAIN);
	T_EQ_INT(kh.key_len, 4);
	T_ASSERT(!memcmp(kh.key, "QUJD", 4));
	T_EQ_INT(sftp_kh_parse("@revoked * ssh-ed25519 QUJD\n", 28, &kh),
		 SFTP_KH_REVOKED);
	T_ASSERT(kh.key_len == 4 && !memcmp(kh.key, "QUJD", 4));
	T_EQ_INT(sftp_kh_parse("@cert-authority *.example.com ssh-ed25519 "
			       "QUJD\r\n",
			       48, &kh),
		 SFTP_KH_CA);
	T_ASSERT(kh.key_len == 4 && !memcmp(kh.key, "QUJD", 4));
	T_EQ_INT(sftp_kh_parse("@revoke * ssh-ed25519 QUJD", 26, &kh),
		 SFTP_KH_BAD);
	T_EQ_INT(sftp_kh_parse("@revoked ssh-ed25519 QUJD", 25, &kh),
		 SFTP_KH_BAD);
	T_EQ_INT(sftp_kh_parse("host ssh-ed25519", 16, &kh), SFTP_KH_BAD);
	T_EQ_INT(sftp_kh_parse("@revoked", 8, &kh), SFTP_KH_BAD);
}

/* The key comparison decodes base64 exactly: same bytes only, no prefix,
 * no longer blob, padding counted. */
T_TEST(sftp_kh_key_compare)
{
	static const unsigned char abc[] = "ABC", ab[] = "AB";
	struct sftp_kh kh;

	sftp_kh_parse("@revoked * t QUJD", 17, &kh); /* "ABC" */
	T_EQ_INT(sftp_kh_key_is(&kh, abc, 3), 1);
	T_EQ_INT(sftp_kh_key_is(&kh, abc, 2), 0);
	T_EQ_INT(sftp_kh_key_is(&kh, ab, 2), 0);
	sftp_kh_parse("@revoked * t QUI=", 17, &kh); /* "AB" */
	T_EQ_INT(sftp_kh_key_is(&kh, ab, 2), 1);
	T_EQ_INT(sftp_kh_key_is(&kh, abc, 3), 0);
	sftp_kh_parse("@revoked * t QUJ", 16, &kh); /* not base64 */
	T_EQ_INT(sftp_kh_key_is(&kh, abc, 3), 0);
}

static int kh_count(void *ud, const char *line, size_t len)
{
	(void)line;
	(void)len;
	++*(int *)ud;
	return 0;
}

/* A whole file: plain lines handed on, a revoked key found by its line,
 * CA lines counted; an unknown marker is an error with its line. */
T_TEST(sftp_kh_read_file)
{
	static const unsigned char abc[] = "ABC";
	struct sftp_kh_scan scan;
	struct err e = ERR_INIT;
	int plain = 0;

	T_ASSERT(t_write_file("kh", "# x\n[h]:22 ssh-ed25519 QUI=\n"
				    "@cert-authority * ssh-ed25519 QUI=\n"
				    "@revoked * ssh-ed25519 QUI=\n"
				    "@revoked * ssh-ed25519 QUJD\n") == 0);
	T_OK(sftp_kh_read("kh", abc, 3, kh_count, &plain, &scan, &e), &e);
	T_EQ_INT(plain, 1);
	T_EQ_INT(scan.revoked_line, 5);
	T_EQ_INT(scan.ca_line, 3);
	T_EQ_INT(scan.ca_count, 1);
	T_ASSERT(t_write_file("kh", "h t QUJD\n@markers * t QUJD\n") == 0);
	T_EQ_INT(sftp_kh_read("kh", abc, 3, kh_count, &plain, &scan, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "line 2: unknown marker") != NULL);
	err_clear(&e);
	T_EQ_INT(sftp_kh_read("no-such-kh", abc, 3, kh_count, &plain, &scan,
			      &e),
		 -1);
	T_ASSERT(strstr(e.reason, "No such file") != NULL);
}
