/* connector.c - registry of connector schemes. */
#include "connector.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct conn_scheme *const schemes[] = {
	&conn_scheme_file,
	&conn_scheme_sftp,
};

void conn_opts_init(struct conn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = CONN_TIMEOUT_MS;
	o->connect_timeout_ms = CONN_CONNECT_TIMEOUT_MS;
	o->keepalive_s = CONN_KEEPALIVE_S;
	o->retries = CONN_RETRIES;
	o->retry_time_ms = CONN_RETRY_TIME_MS;
}

const struct conn_scheme *conn_find(const char *url)
{
	const char *colon = strstr(url, "://");
	size_t i, n;

	if (!colon)
		return NULL;
	n = (size_t)(colon - url);
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i]->scheme) == n &&
		    !strncmp(schemes[i]->scheme, url, n))
			return schemes[i];
	return NULL;
}

int conn_open(const char *url, const struct conn_opts *opts,
	      struct conn **out, struct err *err)
{
	const struct conn_scheme *s = conn_find(url);
	struct conn *c;

	*out = NULL;
	if (!s)
		return err_set(err, E_CONFIG,
			       "no connector for '%s' (this build knows: "
			       "file://, sftp://)",
			       url);
	if (!(c = calloc(1, sizeof(*c))))
		return err_set(err, E_NOMEM, "out of memory");
	c->scheme = s;
	snprintf(c->url, sizeof(c->url), "%s", url);
	if (opts)
		c->opts = *opts;
	else
		conn_opts_init(&c->opts);
	if (s->state_size && !(c->state = calloc(1, s->state_size))) {
		free(c);
		return err_set(err, E_NOMEM, "out of memory");
	}
	if (s->ops->open(c, url, &c->opts, err) < 0) {
		conn_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	c->scheme->ops->close(c);
	free(c->state);
	free(c);
}

int conn_name_ok(const char *name)
{
	return name[0] && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/') && !strchr(name, '\\') &&
	       strlen(name) < 256;
}

const char *conn_name_refusal(const char *name)
{
	const unsigned char *p;

	if (strlen(name) >= 256)
		return "name too long";
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "control character in name";
	if (!conn_name_ok(name))
		return "not a plain file name";
	return NULL;
}

void conn_name_escape(const char *name, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = 0;

	if (!n)
		return;
	for (; *p && len + 5 < n; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			len += (size_t)snprintf(out + len, n - len, "\\x%02x",
						*p);
		else
			out[len++] = (char)*p;
	}
	out[len] = '\0';
}

int conn_is_marker(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = suffix ? strlen(suffix) : 0;

	return k && n > k && !strcmp(name + n - k, suffix);
}

int conn_glob_match(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, FNM_PERIOD) == 0;
}

int conn_list(struct conn *c,
	      int (*each)(void *ud, const struct conn_entry *e), void *ud,
	      struct err *err)
{
	return c->scheme->ops->list(c, each, ud, err);
}

int conn_fetch(struct conn *c, const char *name, const char *local_path,
	       char *sha_hex, uint64_t *size, struct err *err)
{
	return c->scheme->ops->fetch(c, name, local_path, sha_hex, size, err);
}

int conn_put(struct conn *c, const char *local_path, const char *name,
	     struct err *err)
{
	return c->scheme->ops->put(c, local_path, name, err);
}

int conn_move(struct conn *c, const char *name, const char *subdir,
	      struct err *err)
{
	return c->scheme->ops->move(c, name, subdir, err);
}

int conn_remove(struct conn *c, const char *name, struct err *err)
{
	return c->scheme->ops->remove(c, name, err);
}

int conn_stat(struct conn *c, const char *name, struct conn_entry *out,
	      struct err *err)
{
	return c->scheme->ops->stat(c, name, out, err);
}

int conn_digest(struct conn *c, const char *name, char *sha_hex,
		struct err *err)
{
	if (c->scheme != &conn_scheme_file)
		return 1;
	return conn_local_digest(c, name, sha_hex, err) < 0 ? -1 : 0;
}
