/* config.c - see config.h. */
#include "config.h"
#include "config_int.h"
#include "lib/io.h"
#include "schedule.h"

#include "connectors/connector.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transforms/model/canon.h"
#include "transforms/model/stock.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/filepat.h"

#define DEFAULT_STATE_DIR "stockpipe-state"
#define SYSTEM_STATE_DIR "/var/lib/stockpipe"

char *config_adup(struct loader *l, const char *s)
{
	return arena_strdup(&l->t->arena, s);
}

/* Absolute path for p relative to the config directory. */
const char *config_resolve(struct loader *l, const char *p)
{
	if (p[0] == '/')
		return config_adup(l, p);
	return arena_printf(&l->t->arena, "%s/%s", l->c->dir, p);
}

const char *config_resolve_url(struct loader *l, const struct ynode *n)
{
	const char *v = n->value;

	if (!strncmp(v, "file://", 7)) {
		v += 7;
		return arena_printf(&l->t->arena, "file://%s",
				    config_resolve(l, v));
	}
	if (strstr(v, "://"))
		return config_adup(l, v); /* other schemes: the connector checks */
	return arena_printf(&l->t->arena, "file://%s", config_resolve(l, v));
}

int config_want_scalar(struct loader *l, const struct ynode *m,
		       const char *key, int required, const char **out)
{
	struct ynode *v = ynode_get(m, key);

	if (!v) {
		if (required)
			return ynode_err(l->t, m, l->err, E_CONFIG,
					 "missing required key '%s'", key);
		return 0;
	}
	if (v->type != Y_SCALAR)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'%s' must be a single value", key);
	*out = v->value;
	return 0;
}

/* Parses "15m", "2h", "30s", "1d", "90" (seconds). */
int config_parse_duration(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	int64_t mul = 1;

	if (end == s || v < 0)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	/* v == LLONG_MAX also catches strtoll's ERANGE saturation. */
	if (*end || v == LLONG_MAX || v > INT64_MAX / mul)
		return -1;
	*out = (int64_t)v * mul;
	return 0;
}

int config_parse_pct(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || (*end && strcmp(end, "%")) || v < 0 || v > 100)
		return -1;
	*out = (int)v;
	return 0;
}

/* A list value: a sequence of scalars, or one scalar. */
int config_string_list(struct loader *l, const struct ynode *v,
		       const char ***out, size_t *n)
{
	size_t i;
	const char **a;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (v->type == Y_SCALAR) {
		a = arena_alloc(&l->t->arena, sizeof(*a));
		if (!a)
			return err_set(l->err, E_NOMEM, "out of memory");
		a[0] = v->value;
		*out = a;
		*n = 1;
		return 0;
	}
	if (v->type != Y_SEQ)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "expected a list of values");
	a = arena_alloc(&l->t->arena, (v->n ? v->n : 1) * sizeof(*a));
	if (!a)
		return err_set(l->err, E_NOMEM, "out of memory");
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->type != Y_SCALAR)
			return ynode_err(l->t, v->items[i], l->err, E_CONFIG,
					 "expected a plain value");
		a[i] = v->items[i]->value;
	}
	*out = a;
	*n = v->n;
	return 0;
}

int config_check_keys(struct loader *l, const struct ynode *m,
		      const char *const *allowed)
{
	return ynode_check_keys(l->t, m, allowed, NULL, 0, l->err);
}

int config_check_keys_in(struct loader *l, const struct ynode *m,
			 const char *const *allowed, const char *what)
{
	return ynode_check_keys(l->t, m, allowed, what, 0, l->err);
}

const char *config_what(struct loader *l, const char *kind,
			const struct ynode *m)
{
	const char *name = ynode_str(m, "name", NULL);
	const char *w = name ? arena_printf(&l->t->arena, "%s '%s'", kind,
					    name)
			     : arena_printf(&l->t->arena, "a %s", kind);

	/* out of memory: the message loses its "in ..." only */
	return w;
}

int config_check_name(struct loader *l, const struct ynode *m,
		      const char *name)
{
	const char *p;

	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return ynode_err(l->t, ynode_get(m, "name"), l->err,
					 E_CONFIG,
					 "name '%s' may only use letters, "
					 "digits, '_' and '-'",
					 name);
	if (!*name)
		return ynode_err(l->t, m, l->err, E_CONFIG, "empty name");
	/* A name is the scope of its units (char scope[128] in state.h):
	 * longer, and it would be cut there. */
	if (strlen(name) > 127)
		return ynode_err(l->t, ynode_get(m, "name"), l->err, E_CONFIG,
				 "name '%.40s...' is longer than 127 bytes",
				 name);
	return 0;
}

/* key_permissions: strict (the default) or ignore. */
static int ssh_key_permissions(struct loader *l, const struct ynode *v,
			       struct conn_opts *o)
{
	static const char *const perms[] = {"strict", "ignore", NULL};
	const char *s = NULL;
	char hint[128];

	if (config_want_scalar(l, v, "key_permissions", 0, &s) < 0)
		return -1;
	if (s && strcmp(s, "strict") && strcmp(s, "ignore"))
		return ynode_err(l->t, ynode_get(v, "key_permissions"), l->err,
				 E_CONFIG,
				 "key_permissions must be strict (the default: "
				 "a key file group or others can read is not "
				 "used) or ignore%s",
				 ynode_hint(s, perms, hint, sizeof(hint)));
	o->key_perm_ignore = s && !strcmp(s, "ignore");
	return 0;
}

/* The `ssh:` map of an sftp:// source or target. Secrets are never in the
 * file: only the names of the environment variables that hold them. The
 * host key must be pinned or listed: there is no "trust on first use". */
int config_load_ssh(struct loader *l, const struct ynode *m, const char *what,
		    const char *name, const char *url, struct conn_opts *o)
{
	static const char *const keys[] = {
		"key_file", "passphrase_env", "password_env", "known_hosts",
		"host_fingerprint", "timeout", "connect_timeout", "keepalive",
		"retries", "retry_time", "key_permissions", NULL};
	const struct ynode *v = ynode_get(m, "ssh");
	const char *s;
	int is_sftp = !strncmp(url, "sftp://", 7);
	struct sftp_url u;
	struct err ue = ERR_INIT;
	const char *durations[] = {"timeout", "connect_timeout", "keepalive",
				   "retry_time"};
	int64_t *dfields[4];
	size_t i;

	conn_opts_init(o);
	dfields[0] = &o->timeout_ms;
	dfields[1] = &o->connect_timeout_ms;
	dfields[2] = &o->keepalive_s;
	dfields[3] = &o->retry_time_ms;
	if (!v) {
		if (!is_sftp)
			return 0;
		return ynode_err(l->t, m, l->err, E_CONFIG,
				 "%s '%s' uses sftp:// and needs an 'ssh' map "
				 "(key_file or password_env, and known_hosts "
				 "or host_fingerprint)",
				 what, name);
	}
	if (!is_sftp)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'ssh' settings need an sftp:// url");
	if (v->type != Y_MAP)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'ssh' must be a map of settings");
	if (config_check_keys_in(l, v, keys, "ssh") < 0 ||
	    config_want_scalar(l, v, "key_file", 0, &o->key_file) < 0 ||
	    config_want_scalar(l, v, "passphrase_env", 0, &o->passphrase_env) < 0 ||
	    config_want_scalar(l, v, "password_env", 0, &o->password_env) < 0 ||
	    config_want_scalar(l, v, "known_hosts", 0, &o->known_hosts) < 0 ||
	    config_want_scalar(l, v, "host_fingerprint", 0, &o->host_fingerprint) < 0)
		return -1;
	if ((o->key_file && !(o->key_file = config_resolve(l, o->key_file))) ||
	    (o->known_hosts && !(o->known_hosts = config_resolve(l, o->known_hosts))))
		return err_set(l->err, E_NOMEM, "out of memory");
	for (i = 0; i < 4; i++) {
		int64_t secs;

		s = NULL;
		if (config_want_scalar(l, v, durations[i], 0, &s) < 0)
			return -1;
		if (!s)
			continue;
		/* keepalive may be 0 (off); the timeouts may not. */
		if (config_parse_duration(s, &secs) < 0 || secs > 86400 ||
		    (secs == 0 && i != 2))
			return ynode_err(l->t, ynode_get(v, durations[i]),
					 l->err, E_CONFIG,
					 "%s must be a duration like 30s or 2m "
					 "(at most 1d%s)",
					 durations[i],
					 i == 2 ? "" : ", not 0");
		*dfields[i] = i == 2 ? secs : secs * 1000;
	}
	s = NULL;
	if (config_want_scalar(l, v, "retries", 0, &s) < 0)
		return -1;
	if (s) {
		char *end;
		long n = strtol(s, &end, 10);

		if (end == s || *end || n < 0 || n > 20)
			return ynode_err(l->t, ynode_get(v, "retries"), l->err,
					 E_CONFIG,
					 "retries must be a number 0-20");
		o->retries = (int)n;
	}
	if (ssh_key_permissions(l, v, o) < 0)
		return -1;
	if (!o->key_file && !o->password_env)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'ssh' needs key_file or password_env");
	if (o->passphrase_env && !o->key_file)
		return ynode_err(l->t, ynode_get(v, "passphrase_env"), l->err,
				 E_CONFIG, "passphrase_env needs key_file");
	if (!o->known_hosts && !o->host_fingerprint)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'ssh' needs known_hosts or host_fingerprint: "
				 "an unknown host key is never trusted");
	if (o->host_fingerprint) {
		const char *p = o->host_fingerprint;

		if (!strncmp(p, "SHA256:", 7))
			p += 7;
		if (strlen(p) < 43 || strlen(p) > 44 ||
		    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789+/=") != strlen(p))
			return ynode_err(l->t, ynode_get(v, "host_fingerprint"),
					 l->err, E_CONFIG,
					 "host_fingerprint must be a SHA256 "
					 "fingerprint as `ssh-keygen -l -E "
					 "sha256` prints it (SHA256:...)");
	}
	if (sftp_url_parse(url, &u, &ue) < 0)
		return ynode_err(l->t, ynode_get(m, "url"), l->err, E_CONFIG,
				 "%s", ue.reason);
	return 0;
}

static int route_value_ok(const char *v, size_t max, int colon)
{
	size_t i, n = strlen(v);

	if (!n || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		      (colon && v[i] == ':')))
			return 0;
	return 1;
}

/* A route's message:, version: and sender: (EDI envelope values): each
 * checked for the form the standard gives it, so a typo fails at load
 * instead of matching nothing. */
static int load_route_envelope(struct loader *l, const struct ynode *r,
			       const char *fmt, struct cfg_route *rt)
{
	const char *msg = NULL, *ver = NULL, *snd = NULL;
	size_t n;

	if (config_want_scalar(l, r, "message", 0, &msg) < 0 ||
	    config_want_scalar(l, r, "version", 0, &ver) < 0 ||
	    config_want_scalar(l, r, "sender", 0, &snd) < 0)
		return -1;
	if ((msg || ver || snd) && fmt && strcmp(fmt, "x12") &&
	    strcmp(fmt, "edifact"))
		return ynode_err(l->t, ynode_get(r, "format"), l->err, E_CONFIG,
				 "message:, version: and sender: select EDI "
				 "documents (format x12 or edifact), not '%s'",
				 fmt);
	if (msg) {
		n = strlen(msg);
		if (!route_value_ok(msg, 6, 0) ||
		    !(n == 3 || (n == 6 && msg[0] >= 'A' && msg[0] <= 'Z')) ||
		    (n == 3 && strspn(msg, "0123456789") != 3) ||
		    (fmt && !strcmp(fmt, "x12") && n != 3) ||
		    (fmt && !strcmp(fmt, "edifact") && n != 6))
			return ynode_err(l->t, ynode_get(r, "message"), l->err,
					 E_CONFIG,
					 "message: is an EDIFACT message type "
					 "(6 capital letters, UNH 0065: DESADV, "
					 "PRICAT) or an X12 transaction set id "
					 "(3 digits, ST01: 856)%s, not '%s'",
					 fmt ? (!strcmp(fmt, "x12")
						? " (format x12: 3 digits)"
						: " (format edifact: 6 letters)")
					     : "",
					 msg);
	}
	if (ver && !route_value_ok(ver, 12, 1))
		return ynode_err(l->t, ynode_get(r, "version"), l->err,
				 E_CONFIG,
				 "version: is an EDIFACT directory (UNH "
				 "0052+0054: D96A, D01B) or an X12 version "
				 "(GS08: 004010, 005010), not '%s'",
				 ver);
	if (snd && (!*snd || strlen(snd) > 35))
		return ynode_err(l->t, ynode_get(r, "sender"), l->err,
				 E_CONFIG,
				 "sender: is the interchange sender (ISA06 "
				 "or GS02; UNB 0004), 1 to 35 characters");
	rt->message = msg;
	/* D:96A is written as UNH carries it; matched as D96A */
	if (ver && strchr(ver, ':')) {
		char *v = arena_alloc(&l->t->arena, strlen(ver) + 1), *o = v;

		if (!v)
			return err_set(l->err, E_NOMEM, "out of memory");
		for (; *ver; ver++)
			if (*ver != ':')
				*o++ = *ver;
		*o = '\0';
		ver = v;
	}
	rt->version = ver;
	rt->sender = snd;
	return 0;
}

/* routes: [{pattern: "*.csv", mapping: ...}, ...] */
static int load_routes(struct loader *l, const struct ynode *m,
		       struct cfg_source *s)
{
	static const char *const keys[] = {"pattern", "format", "mapping",
					   "message", "version", "sender",
					   NULL};
	static const char *const formats[] = {"x12", "edifact", "xml", "csv",
					      NULL};
	char hint[128];
	const struct ynode *v = ynode_get(m, "routes");
	size_t i;

	if (!v)
		return 0;
	if (v->type != Y_SEQ || !v->n)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "routes must be a list of {pattern, "
				 "mapping}");
	s->routes = arena_alloc(&l->t->arena, v->n * sizeof(*s->routes));
	if (!s->routes)
		return err_set(l->err, E_NOMEM, "out of memory");
	for (i = 0; i < v->n; i++) {
		const struct ynode *r = v->items[i];
		const char *pat = NULL, *map = NULL;

		if (r->type != Y_MAP)
			return ynode_err(l->t, r, l->err, E_CONFIG,
					 "a route is {pattern, mapping}");
		const char *fmt = NULL;

		if (config_check_keys_in(l, r, keys, "a route") < 0 ||
		    config_want_scalar(l, r, "pattern", 0, &pat) < 0 ||
		    config_want_scalar(l, r, "format", 0, &fmt) < 0 ||
		    config_want_scalar(l, r, "mapping", 1, &map) < 0)
			return -1;
		if (load_route_envelope(l, r, fmt, &s->routes[i]) < 0)
			return -1;
		if (!pat && !fmt && !s->routes[i].message &&
		    !s->routes[i].version && !s->routes[i].sender)
			return ynode_err(l->t, r, l->err, E_CONFIG,
					 "a route needs a pattern, a format, "
					 "a message, a version or a sender");
		if (fmt && strcmp(fmt, "x12") && strcmp(fmt, "edifact") &&
		    strcmp(fmt, "xml") && strcmp(fmt, "csv"))
			return ynode_err(l->t, ynode_get(r, "format"), l->err,
					 E_CONFIG,
					 "format must be x12, edifact, xml or "
					 "csv, not '%s'%s",
					 fmt, ynode_hint(fmt, formats, hint,
							 sizeof(hint)));
		s->routes[i].pattern = pat;
		s->routes[i].format = fmt;
		if (!(s->routes[i].mapping = config_resolve(l, map)))
			return err_set(l->err, E_NOMEM, "out of memory");
	}
	s->nroutes = v->n;
	return 0;
}

static int parse_size(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	uint64_t mul = 1;

	if (end == v || v[0] == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'G')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (mul > 1 && n > UINT64_MAX / mul))
		return -1;
	*out = (uint64_t)n * mul;
	return 0;
}

/* archive: {max_members, max_total, max_member, max_ratio, max_name} */
static int load_archive(struct loader *l, const struct ynode *m,
			struct cfg_source *s)
{
	static const char *const keys[] = {"max_members", "max_total",
					   "max_member", "max_ratio",
					   "max_name", NULL};
	const struct ynode *v = ynode_get(m, "archive");
	uint64_t n;
	size_t i;

	unpack_limits_default(&s->archive);
	if (!v)
		return 0;
	if (v->type != Y_MAP)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "archive must be a map of limits");
	if (config_check_keys_in(l, v, keys, "archive") < 0)
		return -1;
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *k = v->items[i], *val = v->items[i + 1];

		if (val->type != Y_SCALAR || parse_size(val->value, &n) < 0 ||
		    n == 0)
			return ynode_err(l->t, val, l->err, E_CONFIG,
					 "'%s' must be a positive number "
					 "(sizes may end in K, M or G)",
					 k->value);
		if (!strcmp(k->value, "max_members"))
			s->archive.max_members = n;
		else if (!strcmp(k->value, "max_total"))
			s->archive.max_total = n;
		else if (!strcmp(k->value, "max_member"))
			s->archive.max_member = n;
		else if (!strcmp(k->value, "max_ratio"))
			s->archive.max_ratio = n > 1000000 ? 1000000
							   : (unsigned)n;
		else
			s->archive.max_name = n > 4096 ? 4096 : (unsigned)n;
	}
	return 0;
}

const char *config_mapping_for(const struct cfg_source *s, const char *name,
			       const char *format)
{
	struct cfg_doc_facts f = {format, NULL, NULL, NULL, NULL};

	return config_mapping_for_doc(s, name, &f);
}

int config_routes_sniff(const struct cfg_source *s, int *envelope)
{
	size_t i;
	int any = 0;

	*envelope = 0;
	for (i = 0; i < s->nroutes; i++) {
		const struct cfg_route *r = &s->routes[i];

		if (r->message || r->version || r->sender)
			*envelope = any = 1;
		if (r->format)
			any = 1;
	}
	return any;
}

/* X12 versions match by prefix (004010 matches 004010VICS); others whole. */
static int route_env_match(const struct cfg_route *r,
			   const struct cfg_doc_facts *f)
{
	int x12 = f->format && !strcmp(f->format, "x12");

	if ((r->message || r->version || r->sender) && f->format &&
	    strcmp(f->format, "x12") && strcmp(f->format, "edifact"))
		return 0;
	if (r->message && (!f->message || strcmp(r->message, f->message)))
		return 0;
	if (r->version &&
	    (!f->version ||
	     (x12 ? strncmp(r->version, f->version, strlen(r->version))
		  : strcmp(r->version, f->version))))
		return 0;
	if (r->sender && (!f->sender || strcmp(r->sender, f->sender)) &&
	    (!f->grp_sender || strcmp(r->sender, f->grp_sender)))
		return 0;
	return 1;
}

const char *config_mapping_for_doc(const struct cfg_source *s,
				   const char *name,
				   const struct cfg_doc_facts *f)
{
	const char *base = name, *p, *format = f->format;
	size_t i;

	for (p = name; *p; p++)
		if (*p == '/' || *p == '!')
			base = p + 1;
	for (i = 0; i < s->nroutes; i++) {
		const struct cfg_route *r = &s->routes[i];

		if (r->pattern && !conn_glob_match(r->pattern, base))
			continue;
		if (r->format && (!format || strcmp(r->format, format)))
			continue;
		if (!route_env_match(r, f))
			continue;
		return r->mapping;
	}
	return s->mapping;
}

/* acks: { path|url: DIR, x12: auto|997|999|none, edifact: contrl|none,
 *         ssh: {...} } */
static int load_acks(struct loader *l, const struct ynode *m,
		     struct cfg_source *s)
{
	static const char *const keys[] = {"url", "path", "x12", "edifact",
					   "ssh", NULL};
	static const char *const x12_acks[] = {"auto", "997", "999", "none",
					       NULL};
	static const char *const edi_acks[] = {"contrl", "none", NULL};
	char hint[128];
	const struct ynode *a = ynode_get(m, "acks");
	const char *url = NULL, *path = NULL, *v = NULL;

	s->ack_url = NULL;
	s->ack_x12 = EDI_ACK_X12_AUTO;
	s->ack_edifact = 1;
	if (!a)
		return 0;
	if (a->type != Y_MAP)
		return ynode_err(l->t, a, l->err, E_CONFIG,
				 "'acks' must be a map like { path: DIR, x12: "
				 "auto|997|999|none, edifact: contrl|none }");
	if (config_check_keys_in(l, a, keys, "acks") < 0 ||
	    config_want_scalar(l, a, "url", 0, &url) < 0 ||
	    config_want_scalar(l, a, "path", 0, &path) < 0 ||
	    config_want_scalar(l, a, "x12", 0, &v) < 0)
		return -1;
	if (!url && !path)
		return ynode_err(l->t, a, l->err, E_CONFIG,
				 "'acks' of source '%s' needs a 'url' or "
				 "'path' (the folder acknowledgments go to)",
				 s->name);
	if (!(s->ack_url = config_resolve_url(l, ynode_get(a, url ? "url" : "path"))))
		return err_set(l->err, E_NOMEM, "out of memory");
	if (v) {
		if (!strcmp(v, "auto"))
			s->ack_x12 = EDI_ACK_X12_AUTO;
		else if (!strcmp(v, "997"))
			s->ack_x12 = EDI_ACK_997;
		else if (!strcmp(v, "999"))
			s->ack_x12 = EDI_ACK_999;
		else if (!strcmp(v, "none"))
			s->ack_x12 = EDI_ACK_X12_NONE;
		else
			return ynode_err(l->t, ynode_get(a, "x12"), l->err,
					 E_CONFIG,
					 "acks x12 must be auto (999 for "
					 "005010 groups, else 997), 997, 999 "
					 "or none, not '%s'%s",
					 v, ynode_hint(v, x12_acks, hint,
						       sizeof(hint)));
	}
	v = NULL;
	if (config_want_scalar(l, a, "edifact", 0, &v) < 0)
		return -1;
	if (v) {
		if (!strcmp(v, "contrl") || !strcmp(v, "CONTRL"))
			s->ack_edifact = 1;
		else if (!strcmp(v, "none"))
			s->ack_edifact = 0;
		else
			return ynode_err(l->t, ynode_get(a, "edifact"), l->err,
					 E_CONFIG,
					 "acks edifact must be contrl or none, "
					 "not '%s'%s",
					 v, ynode_hint(v, edi_acks, hint,
						       sizeof(hint)));
	}
	return config_load_ssh(l, a, "acks of source", s->name, s->ack_url,
			&s->ack_conn);
}

/* Patterns with {name} captures (transforms/filepat.h) are checked here,
 * so a typo is a configuration error at its line, not a source that
 * silently lists nothing. */
static int check_patterns(struct loader *l, const struct ynode *m,
			  const struct cfg_source *s)
{
	const struct ynode *v = ynode_get(m, "patterns")
					? ynode_get(m, "patterns")
					: ynode_get(m, "pattern");
	size_t i;

	for (i = 0; i < s->npatterns; i++) {
		struct err pe = ERR_INIT;

		if (filepat_check(s->patterns[i], &pe) < 0)
			return ynode_err(l->t,
					 v->type == Y_SEQ ? v->items[i] : v,
					 l->err, E_CONFIG,
					 "source '%s': pattern '%s': %s",
					 s->name, s->patterns[i], pe.reason);
	}
	return 0;
}

/* ---- key-table setters (lib/ytree.h): c->ud is the loader ----------- */

struct loader *config_ld(const struct ykey_ctx *c)
{
	return c->ud;
}

/* A list of names; k->arg points at the offset of its count in c->obj. */
int config_set_list(const struct ykey_ctx *c, const struct ykey *k,
		    const struct ynode *v, void *field)
{
	size_t *n = (size_t *)((char *)c->obj + *(const size_t *)k->arg);

	return config_string_list(config_ld(c), v, field, n);
}

/* A percentage 0-100 into an int; k->arg is the message otherwise. */
int config_set_pct(const struct ykey_ctx *c, const struct ykey *k,
		   const struct ynode *v, void *field)
{
	const char *s = NULL;

	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	if (config_parse_pct(s, field) < 0)
		return ynode_err(c->t, v, c->err, E_CONFIG, "%s",
				 (const char *)k->arg);
	return 0;
}

/* A duration in seconds into an int64_t; k->arg is the message. */
int config_set_duration(const struct ykey_ctx *c, const struct ykey *k,
			const struct ynode *v, void *field)
{
	const char *s = NULL;

	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	if (config_parse_duration(s, field) < 0)
		return ynode_err(c->t, v, c->err, E_CONFIG, "%s",
				 (const char *)k->arg);
	return 0;
}

#define SRC(f) offsetof(struct cfg_source, f)

static const char *const after_load_names[] = {"leave", "move", "delete",
					       NULL};
static const int after_load_values[] = {CFG_AFTER_LEAVE, CFG_AFTER_MOVE,
					CFG_AFTER_DELETE};
static const char *const warn_reject[] = {"warn", "reject", NULL};

static const struct ychoice ch_after_load = {
	after_load_names, after_load_values,
	"after_load must be leave, move or delete", 1};
/* on_stale: warn (count and report) or reject (also to the document's
 * reject file, counted as rejects). */
static const struct ychoice ch_on_stale = {
	warn_reject, NULL, "on_stale must be warn or reject", 1};

/* strict: true turns the mapping's warnings (envelope counts, versions,
 * values cut by a repetition separator) into rejects (issue 17). */
static const char *const false_true[] = {"false", "true", NULL};
static const struct ychoice ch_strict = {
	false_true, NULL, "strict must be true or false", 1};

/* A source's keys, in the order they are checked; the rows without a
 * setter are read by load_source and its helpers. */
/* detect_changes: metadata (the default) takes a listed file whose name,
 * size and mtime are in the file ledger as seen; content hashes it and
 * fetches it again when its SHA-256 is not there. Only for a local folder:
 * over SFTP every known file would be read in full on every listing. */
static const char *const detect_names[] = {"metadata", "content", NULL};
static const struct ychoice detect_choice = {
	detect_names, NULL, "detect_changes must be metadata or content", 1};

static int set_detect_changes(const struct ykey_ctx *c, const struct ykey *k,
		       const struct ynode *v, void *field)
{
	const struct cfg_source *s = c->obj;
	struct ykey choice = *k;

	choice.arg = &detect_choice;
	if (ykey_choice(c, &choice, v, field) < 0)
		return -1;
	/* The url is resolved before the keys are applied (load_source). */
	if (*(int *)field && strncmp(s->url, "file://", 7))
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "source '%s': detect_changes: content needs a "
				 "local folder (file://); over SFTP it would "
				 "read every known file in full on every "
				 "listing", s->name);
	return 0;
}

static const struct ykey source_keys[] = {
	{"name", NULL, 0, NULL},
	{"url", NULL, 0, NULL},
	{"path", NULL, 0, NULL},
	{"pattern", NULL, 0, NULL},
	{"patterns", NULL, 0, NULL},
	{"mapping", NULL, 0, NULL},
	{"routes", NULL, 0, NULL},
	{"archive", NULL, 0, NULL},
	{"acks", NULL, 0, NULL},
	{"ssh", NULL, 0, NULL},
	{"done_suffix", NULL, 0, NULL},
	{"after_load", ykey_choice, SRC(after_load), &ch_after_load},
	{"processed_dir", ykey_str, SRC(processed_dir), NULL},
	{"on_stale", ykey_choice, SRC(stale_reject), &ch_on_stale},
	{"reject_threshold", config_set_pct, SRC(reject_threshold_pct),
	 "reject_threshold must be a percentage 0-100, like 20%"},
	{"min_age", config_set_duration, SRC(min_age),
	 "min_age must be a duration like 30s, 5m"},
	{"detect_changes", set_detect_changes, SRC(detect_content), NULL},
	{"strict", ykey_choice, SRC(strict), &ch_strict},
	{NULL, NULL, 0, NULL}};

static int load_source(struct loader *l, const struct ynode *m,
		       struct cfg_source *s)
{
	const char *url = NULL, *path = NULL, *mapping = NULL;
	const struct ynode *un;
	struct ykey_ctx kc = {l->t, m, s, l, l->err};

	if (m->type != Y_MAP)
		return ynode_err(l->t, m, l->err, E_CONFIG,
				 "a source must be a map of settings");
	if (ykey_check(l->t, m, source_keys, config_what(l, "source", m),
		       l->err) < 0 ||
	    config_want_scalar(l, m, "name", 1, &s->name) < 0 ||
	    config_check_name(l, m, s->name) < 0 ||
	    config_want_scalar(l, m, "url", 0, &url) < 0 ||
	    config_want_scalar(l, m, "path", 0, &path) < 0 ||
	    config_want_scalar(l, m, "mapping", !ynode_get(m, "routes"), &mapping) < 0)
		return -1;
	s->node = m;
	if (!url && !path)
		return ynode_err(l->t, m, l->err, E_CONFIG,
				 "source '%s' needs a 'url' or 'path'",
				 s->name);
	un = ynode_get(m, url ? "url" : "path");
	if (!(s->url = config_resolve_url(l, un)) ||
	    (mapping && !(s->mapping = config_resolve(l, mapping))))
		return err_set(l->err, E_NOMEM, "out of memory");
	if (load_routes(l, m, s) < 0 || load_archive(l, m, s) < 0 ||
	    load_acks(l, m, s) < 0)
		return -1;
	if (config_string_list(l, ynode_get(m, "patterns") ? ynode_get(m, "patterns")
						      : ynode_get(m, "pattern"),
			&s->patterns, &s->npatterns) < 0 ||
	    check_patterns(l, m, s) < 0)
		return -1;
	if (!s->npatterns) {
		static const char *star[] = {"*"};

		s->patterns = star;
		s->npatterns = 1;
	}
	s->after_load = CFG_AFTER_LEAVE;
	s->processed_dir = "processed";
	s->reject_threshold_pct = l->c->reject_threshold_pct;
	if (ykey_apply(&kc, source_keys) < 0)
		return -1;
	if (config_load_ssh(l, m, "source", s->name, s->url, &s->conn) < 0 ||
	    config_want_scalar(l, m, "done_suffix", 0, &s->conn.done_suffix) < 0)
		return -1;
	if (s->conn.done_suffix && (!*s->conn.done_suffix ||
				    strchr(s->conn.done_suffix, '/')))
		return ynode_err(l->t, ynode_get(m, "done_suffix"), l->err,
				 E_CONFIG,
				 "done_suffix must be a non-empty name "
				 "suffix like .done");
	return 0;
}

int config_state_index(const char *name)
{
	return stock_state_from_name(name);
}

const char *config_state_hint(const char *name, char *out, size_t n)
{
	const char *names[STOCK_NSTATES + 1];
	int i;

	for (i = 0; i < STOCK_NSTATES; i++)
		names[i] = stock_state_name((enum stock_state)i);
	names[STOCK_NSTATES] = NULL;
	return ynode_hint(name, names, out, n);
}

static int dir_of(const char *path, char *out, size_t n)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(tmp, sizeof(tmp), ".");
	else if (slash == path)
		snprintf(tmp, sizeof(tmp), "/");
	else
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - path), path);
	if (!realpath(tmp, out))
		return -1;
	(void)n;
	return 0;
}

/* authority: {on_hand: [erp], in_transit: [wms, erp]} */
static int load_authority(struct loader *l, const struct ynode *v)
{
	size_t i, j, k;

	if (!v)
		return 0;
	if (v->type != Y_MAP)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "authority must map stock states to lists of "
				 "sources");
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->items[i];
		int st = config_state_index(key->value);
		char hint[128];

		if (st < 0 || st >= 8)
			return ynode_err(l->t, key, l->err, E_CONFIG,
					 "'%s' is not a stock state (%s)%s",
					 key->value, CANON_STATES,
					 config_state_hint(key->value, hint,
							   sizeof(hint)));
		if (config_string_list(l, v->items[i + 1], &l->c->authority[st],
				&l->c->nauthority[st]) < 0)
			return -1;
		for (j = 0; j < l->c->nauthority[st]; j++) {
			for (k = 0; k < l->c->nsources; k++)
				if (!strcmp(l->c->sources[k].name,
					    l->c->authority[st][j]))
					break;
			if (k == l->c->nsources)
				return ynode_err(l->t, v->items[i + 1], l->err,
						 E_CONFIG,
						 "authority for '%s' names "
						 "'%s', which is not a source",
						 key->value,
						 l->c->authority[st][j]);
		}
	}
	return 0;
}

int config_authorized(const struct config *c, int st, const char *source)
{
	size_t i;

	if (st < 0 || st >= 8 || !c->nauthority[st])
		return 1;
	for (i = 0; i < c->nauthority[st]; i++)
		if (source && !strcmp(c->authority[st][i], source))
			return 1;
	return 0;
}

/* state_db: a postgres:// URL without a password; "" (e.g. from
 * ${VAR:-}) means the SQLite file in state_dir. */
static int load_state_db(struct loader *l, const struct ynode *root)
{
	const char *url = NULL, *pwenv = NULL, *auth, *end, *q;
	const struct ynode *n = ynode_get(root, "state_db");

	if (config_want_scalar(l, root, "state_db", 0, &url) < 0 ||
	    config_want_scalar(l, root, "state_db_password_env", 0, &pwenv) < 0)
		return -1;
	if (pwenv) {
		for (q = pwenv; *q; q++)
			if (!(*q == '_' || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= 'a' && *q <= 'z') ||
			      (q > pwenv && *q >= '0' && *q <= '9')))
				break;
		if (!*pwenv || *q)
			return ynode_err(l->t,
					 ynode_get(root,
						   "state_db_password_env"),
					 l->err, E_CONFIG,
					 "state_db_password_env must name an "
					 "environment variable");
		l->c->state_db_password_env = pwenv;
	}
	if (!url || !*url)
		return 0;
	if (strncmp(url, "postgres://", 11) &&
	    strncmp(url, "postgresql://", 13))
		return ynode_err(l->t, n, l->err, E_CONFIG,
				 "state_db must be a postgres:// URL "
				 "(leave it out for SQLite in state_dir)");
	/* The password never lives in the file (nor in messages). */
	auth = strstr(url, "://") + 3;
	end = auth + strcspn(auth, "/?#");
	for (q = end; q > auth && q[-1] != '@'; q--)
		;
	if ((q > auth && memchr(auth, ':', (size_t)(q - auth))) ||
	    strstr(url, "password="))
		return ynode_err(l->t, n, l->err, E_CONFIG,
				 "state_db must not carry a password; put it "
				 "in an environment variable and name that "
				 "variable in state_db_password_env");
	l->c->state_db = url;
	return 0;
}

/* retries: N (0-10, default 2) and retry_backoff: DURATION (default 5s,
 * 0 allowed); $STOCKPIPE_RETRY_BACKOFF (seconds) overrides the file, for
 * tests and one-off runs. */
static int load_retries(struct loader *l, const struct ynode *root)
{
	const char *v = NULL, *env = getenv("STOCKPIPE_RETRY_BACKOFF");
	char *end;
	long n;

	l->c->retries = 2;
	l->c->retry_backoff = 5;
	if (config_want_scalar(l, root, "retries", 0, &v) < 0)
		return -1;
	if (v) {
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 0 || n > 10)
			return ynode_err(l->t, ynode_get(root, "retries"),
					 l->err, E_CONFIG,
					 "retries must be a number from 0 to "
					 "10");
		l->c->retries = (int)n;
	}
	v = NULL;
	if (config_want_scalar(l, root, "retry_backoff", 0, &v) < 0)
		return -1;
	if (v && (config_parse_duration(v, &l->c->retry_backoff) < 0 ||
		  l->c->retry_backoff > 3600))
		return ynode_err(l->t, ynode_get(root, "retry_backoff"),
				 l->err, E_CONFIG,
				 "retry_backoff must be a duration like 5s or "
				 "1m, at most 1h");
	if (env && *env) {
		if (config_parse_duration(env, &l->c->retry_backoff) < 0 ||
		    l->c->retry_backoff > 3600)
			return err_set(l->err, E_CONFIG,
				       "STOCKPIPE_RETRY_BACKOFF must be a "
				       "duration like 5s, at most 1h");
	}
	return 0;
}

/* retention: {runs: 10, age: 30d} (gc.h). */
static int load_retention(struct loader *l, const struct ynode *root)
{
	static const char *const keys[] = {"runs", "age", NULL};
	const struct ynode *m = ynode_get(root, "retention");
	struct cfg_retention *r = &l->c->retention;
	const char *v = NULL;
	char *end;
	long long n;

	if (!m)
		return 0;
	if (m->type != Y_MAP)
		return ynode_err(l->t, m, l->err, E_CONFIG,
				 "retention must be a map like {runs: 10, "
				 "age: 30d}");
	if (config_check_keys_in(l, m, keys, "retention") < 0 ||
	    config_want_scalar(l, m, "runs", 0, &v) < 0)
		return -1;
	r->on = 1;
	r->runs = 1;
	if (v) {
		n = strtoll(v, &end, 10);
		if (end == v || *end || n < 1 || n > 1000000)
			return ynode_err(l->t, ynode_get(m, "runs"), l->err,
					 E_CONFIG,
					 "retention: runs must be a number of "
					 "runs, at least 1 (the last run is "
					 "always kept)");
		r->runs = n;
	}
	v = NULL;
	if (config_want_scalar(l, m, "age", 0, &v) < 0)
		return -1;
	if (v && config_parse_duration(v, &r->age) < 0)
		return ynode_err(l->t, ynode_get(m, "age"), l->err, E_CONFIG,
				 "retention: age must be a duration like 30d "
				 "or 12h");
	return 0;
}

/* sources: a non-empty list, names unique. */
static int load_sources(struct loader *l, const struct ynode *root)
{
	struct config *c = l->c;
	const struct ynode *v = ynode_get(root, "sources");
	size_t i, j;

	if (!v || v->type != Y_SEQ || v->n == 0)
		return ynode_err(l->t, v ? v : root, l->err, E_CONFIG,
				 "'sources' must be a non-empty list");
	c->nsources = v->n;
	c->sources = arena_alloc(&l->t->arena, v->n * sizeof(*c->sources));
	if (!c->sources)
		return err_set(l->err, E_NOMEM, "out of memory");
	memset(c->sources, 0, v->n * sizeof(*c->sources));
	for (i = 0; i < v->n; i++) {
		if (load_source(l, v->items[i], &c->sources[i]) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (!strcmp(c->sources[j].name, c->sources[i].name))
				return ynode_err(l->t, v->items[i], l->err,
						 E_CONFIG,
						 "duplicate source name '%s'",
						 c->sources[i].name);
	}
	return 0;
}

/* targets: a list (may be absent), names unique. */
static int load_targets(struct loader *l, const struct ynode *root)
{
	struct config *c = l->c;
	const struct ynode *v = ynode_get(root, "targets");
	size_t i, j;

	if (v && v->type != Y_SEQ)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'targets' must be a list");
	c->ntargets = v ? v->n : 0;
	if (c->ntargets) {
		c->targets = arena_alloc(&l->t->arena,
					 v->n * sizeof(*c->targets));
		if (!c->targets)
			return err_set(l->err, E_NOMEM, "out of memory");
		memset(c->targets, 0, v->n * sizeof(*c->targets));
	}
	for (i = 0; i < c->ntargets; i++) {
		if (config_load_target(l, v->items[i], &c->targets[i]) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (!strcmp(c->targets[j].name, c->targets[i].name))
				return ynode_err(l->t, v->items[i], l->err,
						 E_CONFIG,
						 "duplicate target name '%s'",
						 c->targets[i].name);
	}
	return 0;
}

/* metrics_path: (a .prom file: node_exporter's textfile collector reads
 * no other) and pipeline: (a label value), see config.h. */
static int load_metrics(struct loader *l, const struct ynode *root)
{
	const char *s = NULL, *base;
	size_t n;

	if (config_want_scalar(l, root, "metrics_path", 0, &s) < 0)
		return -1;
	n = s ? strlen(s) : 0;
	if (s && (n < 6 || strcmp(s + n - 5, ".prom")))
		return ynode_err(l->t, ynode_get(root, "metrics_path"), l->err,
				 E_CONFIG, "metrics_path must name a .prom file "
				 "(the textfile collector reads no other)");
	if (s && !(l->c->metrics_path = config_resolve(l, s)))
		return err_set(l->err, E_NOMEM, "out of memory");
	s = NULL;
	if (config_want_scalar(l, root, "pipeline", 0, &s) < 0)
		return -1;
	if (s) {
		/* the same rule as source and target names: a label value
		 * people type in queries */
		if (!*s || strlen(s) > 127 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789_-") != strlen(s))
			return ynode_err(l->t, ynode_get(root, "pipeline"),
					 l->err, E_CONFIG,
					 "pipeline must be 1-127 letters, digits, "
					 "'_' or '-'");
		l->c->pipeline = s;
		return 0;
	}
	base = strrchr(l->c->path, '/');
	base = base ? base + 1 : l->c->path;
	n = strrchr(base, '.') && strrchr(base, '.') != base
		    ? (size_t)(strrchr(base, '.') - base)
		    : strlen(base);
	l->c->pipeline = arena_printf(&l->t->arena, "%.*s", (int)n, base);
	if (!l->c->pipeline)
		return err_set(l->err, E_NOMEM, "out of memory");
	return 0;
}

/* A config under /etc is a system install (the Debian package, the
 * systemd unit): state belongs under /var/lib (FHS), not next to the
 * config, where a read-only /etc or ProtectSystem=strict would refuse it. */
const char *config_default_state_dir(const char *config_dir)
{
	if (!strcmp(config_dir, "/etc") || !strncmp(config_dir, "/etc/", 5))
		return SYSTEM_STATE_DIR;
	return DEFAULT_STATE_DIR;
}

int config_load(const char *path, const char *state_dir_override,
		struct config **out, struct err *err)
{
	static const char *const keys[] = {"state_dir", "reject_threshold",
					    "sources", "targets", "authority",
					    "state_db", "state_db_password_env",
					    "retries", "retry_backoff",
					    "retention", "metrics_path", "pipeline",
					    NULL};
	struct loader l;
	struct config *c;
	char dir[PATH_MAX];
	const struct ynode *root;
	const char *s = NULL, *env;

	*out = NULL;
	if (!(c = calloc(1, sizeof(*c))))
		return err_set(err, E_NOMEM, "out of memory");
	l.c = c;
	l.err = err;
	if (ytree_load_file(path, &c->tree, err) < 0)
		goto fail;
	l.t = c->tree;
	if (sha256_file(path, c->sha256, NULL, err) < 0)
		goto fail;
	c->path = config_adup(&l, path);
	if (dir_of(path, dir, sizeof(dir)) < 0) {
		err_sys(err, "cannot resolve directory of '%s'", path);
		goto fail;
	}
	c->dir = config_adup(&l, dir);
	root = c->tree->root;
	if (!root || root->type != Y_MAP) {
		err_at(err, E_CONFIG, path, root ? root->line : 1,
		       root ? root->col : 1,
		       "the config must be a map with sources and targets");
		goto fail;
	}
	if (ytree_interpolate_env(c->tree, c->tree->root, l.err) < 0 ||
	    config_check_keys_in(&l, root, keys, "the top level") < 0)
		goto fail;
	c->reject_threshold_pct = 20;
	if (config_want_scalar(&l, root, "reject_threshold", 0, &s) < 0)
		goto fail;
	if (s && config_parse_pct(s, &c->reject_threshold_pct) < 0) {
		ynode_err(l.t, ynode_get(root, "reject_threshold"), err,
			  E_CONFIG, "reject_threshold must be a percentage");
		goto fail;
	}
	if (load_retries(&l, root) < 0 || load_retention(&l, root) < 0)
		goto fail;
	s = NULL;
	if (config_want_scalar(&l, root, "state_dir", 0, &s) < 0)
		goto fail;
	env = getenv("STOCKPIPE_STATE_DIR");
	if (state_dir_override)
		s = state_dir_override;
	else if (env && *env)
		s = env;
	else if (!s)
		s = config_default_state_dir(c->dir);
	/* A state dir given on the command line or in the environment is
	 * relative to the working directory; one in the file to the file. */
	if ((state_dir_override || (env && *env)) && s[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd))) {
			err_sys(err, "cannot get working directory");
			goto fail;
		}
		c->state_dir = arena_printf(&l.t->arena, "%s/%s", cwd, s);
	} else {
		c->state_dir = config_resolve(&l, s);
	}
	if (load_state_db(&l, root) < 0 || load_metrics(&l, root) < 0)
		goto fail;
	if (load_sources(&l, root) < 0 ||
	    load_authority(&l, ynode_get(root, "authority")) < 0 ||
	    load_targets(&l, root) < 0)
		goto fail;
	if (!c->state_dir)
		goto nomem;
	*out = c;
	return 0;
nomem:
	err_set(err, E_NOMEM, "out of memory");
fail:
	config_free(c);
	return -1;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntargets && c->targets; i++)
		schedule_free(c->targets[i].cron);
	ytree_free(c->tree);
	free(c);
}

const struct cfg_source *config_source(const struct config *c,
				       const char *name)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (!strcmp(c->sources[i].name, name))
			return &c->sources[i];
	return NULL;
}

const struct cfg_target *config_target(const struct config *c,
				       const char *name)
{
	size_t i;

	for (i = 0; i < c->ntargets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}
