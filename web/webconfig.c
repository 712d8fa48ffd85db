/* The exporter-toolkit web configuration file (see webconfig.h). */
#include "web/webconfig.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/util.h"

struct webconfig {
	atomic_int refs;
	bool tls;
	bool empty;			/* the file held no YAML document */
	char *cert_path, *key_path, *ca_path;	/* as resolved, until loaded */
	char *cert, *key, *ca;		/* PEM text */
	enum client_auth client_auth;
	int min_version, max_version;	/* 10..13 */
	char priorities[128];
	size_t nusers;
	char *user[WEBCONFIG_MAX_USERS], *hash[WEBCONFIG_MAX_USERS];
	size_t nheaders;
	char *hname[WEBCONFIG_MAX_HEADERS], *hvalue[WEBCONFIG_MAX_HEADERS];
};

/* Parsing state: the document, the file name and directory for messages. */
struct ctx {
	yaml_document_t doc;
	const char *path;
	char dir[4096];
	char *err;
	size_t errlen;
	const yaml_node_t *key;		/* the key each_pair is visiting */
};

static const struct {
	const char *name;
	enum client_auth v;
} client_auth_names[] = {
	{ "NoClientCert", CLIENT_AUTH_NONE },
	{ "RequestClientCert", CLIENT_AUTH_REQUEST },
	{ "RequireAnyClientCert", CLIENT_AUTH_REQUIRE_ANY },
	{ "VerifyClientCertIfGiven", CLIENT_AUTH_VERIFY_IF_GIVEN },
	{ "RequireAndVerifyClientCert", CLIENT_AUTH_REQUIRE_VERIFY },
};

static struct webconfig *
wc_new(void)
{
	struct webconfig *wc = calloc(1, sizeof(*wc));

	if (wc == NULL)
		return NULL;
	atomic_init(&wc->refs, 1);
	wc->min_version = 12;
	wc->max_version = 13;
	return wc;
}

struct webconfig *
webconfig_none(void)
{
	return wc_new();
}

static void
wc_free(struct webconfig *wc)
{
	free(wc->cert);
	if (wc->key != NULL) {
		explicit_bzero(wc->key, strlen(wc->key));
		free(wc->key);
	}
	free(wc->ca);
	free(wc->cert_path);
	free(wc->key_path);
	free(wc->ca_path);
	for (size_t i = 0; i < wc->nusers; i++) {
		free(wc->user[i]);
		free(wc->hash[i]);
	}
	for (size_t i = 0; i < wc->nheaders; i++) {
		free(wc->hname[i]);
		free(wc->hvalue[i]);
	}
	free(wc);
}

struct webconfig *
webconfig_ref(struct webconfig *wc)
{
	atomic_fetch_add(&wc->refs, 1);
	return wc;
}

void
webconfig_unref(struct webconfig *wc)
{
	if (wc != NULL && atomic_fetch_sub(&wc->refs, 1) == 1)
		wc_free(wc);
}

/* "FILE: line N: MESSAGE" for NODE (NULL: no line). */
static int bad(struct ctx *c, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node != NULL)
		set_error(c->err, c->errlen, "%s: line %zu: %s", c->path,
		    node->start_mark.line + 1, msg);
	else
		set_error(c->err, c->errlen, "%s: %s", c->path, msg);
	return -1;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *v = NULL;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *
scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

/* A string value: a scalar with no embedded NUL. */
static int
want_string(struct ctx *c, const yaml_node_t *n, const char *key,
    const char **out)
{
	if (n->type != YAML_SCALAR_NODE ||
	    strlen(scalar(n)) != n->data.scalar.length)
		return bad(c, n, "%s: want a string", key);
	*out = scalar(n);
	return 0;
}

static int
want_bool(struct ctx *c, const yaml_node_t *n, const char *key, bool *out)
{
	const char *v = scalar(n);

	if (v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0)) {
		*out = true;
		return 0;
	}
	if (v != NULL && (strcmp(v, "false") == 0 || strcmp(v, "False") == 0)) {
		*out = false;
		return 0;
	}
	return bad(c, n, "%s: want true or false", key);
}

/*
 * Iterate the pairs of mapping N, rejecting duplicate and non-scalar keys.
 * FN returns 0 or -1.
 */
static int
each_pair(struct ctx *c, const yaml_node_t *n, const char *what,
    int (*fn)(struct ctx *, const char *, yaml_node_t *, void *), void *arg)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(c, n, "%s: want a mapping", what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	    p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);

		if (k == NULL || v == NULL || scalar(k) == NULL)
			return bad(c, k, "%s: keys must be strings", what);
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p;
		    q++) {
			yaml_node_t *k2 = yaml_document_get_node(&c->doc, q->key);

			if (k2 != NULL && scalar(k2) != NULL &&
			    strcmp(scalar(k2), scalar(k)) == 0)
				return bad(c, k, "duplicate key '%s'", scalar(k));
		}
		c->key = k;
		if (fn(c, scalar(k), v, arg) < 0)
			return -1;
	}
	return 0;
}

/* Record a PEM file name, resolved against the config file's directory;
 * webconfig_load() reads it (the parser never opens files). */
static int
pem_path(struct ctx *c, const yaml_node_t *n, const char *key, char **out)
{
	const char *name = NULL;
	char path[4096];

	if (want_string(c, n, key, &name) < 0)
		return -1;
	if (name[0] == '\0')
		return 0;
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else if (path_join(path, sizeof(path), c->dir, name) < 0)
		return bad(c, n, "%s: path too long", key);
	free(*out);
	if ((*out = strdup(path)) == NULL)
		return bad(c, n, "out of memory");
	return 0;
}

static int
parse_version(struct ctx *c, const yaml_node_t *n, const char *key, int *out)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12", "TLS13" };
	const char *v = NULL;

	if (want_string(c, n, key, &v) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = 10 + i;
			return 0;
		}
	}
	{
		char msg[300];

		snprintf(msg, sizeof(msg), "%s: unknown TLS version '%.100s' "
		    "(TLS10, TLS11, TLS12 or TLS13)", key, v);
		return bad(c, n, "%s", msg);
	}
}

static int
tls_key(struct ctx *c, const char *k, yaml_node_t *v, void *arg)
{
	struct webconfig *wc = arg;
	const char *s = NULL;
	bool b;

	if (strcmp(k, "cert_file") == 0)
		return pem_path(c, v, k, &wc->cert_path);
	if (strcmp(k, "key_file") == 0)
		return pem_path(c, v, k, &wc->key_path);
	if (strcmp(k, "client_ca_file") == 0)
		return pem_path(c, v, k, &wc->ca_path);
	if (strcmp(k, "min_version") == 0)
		return parse_version(c, v, k, &wc->min_version);
	if (strcmp(k, "max_version") == 0)
		return parse_version(c, v, k, &wc->max_version);
	if (strcmp(k, "prefer_server_cipher_suites") == 0)
		return want_bool(c, v, k, &b);
	if (strcmp(k, "client_auth_type") == 0) {
		if (want_string(c, v, k, &s) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(client_auth_names) /
		    sizeof(client_auth_names[0]); i++) {
			if (strcmp(s, client_auth_names[i].name) == 0) {
				wc->client_auth = client_auth_names[i].v;
				return 0;
			}
		}
		return bad(c, v, "client_auth_type: unknown value '%.100s' "
		    "(NoClientCert, RequestClientCert, RequireAnyClientCert, "
		    "VerifyClientCertIfGiven, RequireAndVerifyClientCert)", s);
	}
	if (strcmp(k, "cipher_suites") == 0 ||
	    strcmp(k, "curve_preferences") == 0 ||
	    strcmp(k, "client_allowed_sans") == 0 ||
	    strcmp(k, "cert") == 0 || strcmp(k, "key") == 0)
		return bad(c, c->key, "tls_server_config: '%s' is not supported by "
		    "twaudit", k);
	return bad(c, c->key, "tls_server_config: unknown key '%.100s'", k);
}

/*
 * The headers exporter-toolkit lets http_server_config.headers set, with
 * the values it allows (NULL: any value without a line break). Anything
 * else (Connection, Transfer-Encoding, Content-Length...) could break the
 * framing of our responses.
 */
static const struct {
	const char *name;
	const char *values[3];
} allowed_headers[] = {
	{ "Strict-Transport-Security", { NULL } },
	{ "X-Content-Type-Options", { "nosniff", NULL } },
	{ "X-Frame-Options", { "deny", "sameorigin", NULL } },
	{ "X-XSS-Protection", { NULL } },
	{ "Content-Security-Policy", { NULL } },
};

static int
header_key(struct ctx *c, const char *k, yaml_node_t *v, void *arg)
{
	struct webconfig *wc = arg;
	const char *s = NULL, *name = NULL;
	size_t i;

	for (i = 0; i < sizeof(allowed_headers) / sizeof(allowed_headers[0]);
	    i++)
		if (strcasecmp(k, allowed_headers[i].name) == 0)
			break;
	if (i == sizeof(allowed_headers) / sizeof(allowed_headers[0]))
		return bad(c, c->key, "headers: '%.100s' cannot be configured "
		    "(Strict-Transport-Security, X-Content-Type-Options, "
		    "X-Frame-Options, X-XSS-Protection, Content-Security-Policy)",
		    k);
	name = allowed_headers[i].name;
	for (size_t j = 0; j < wc->nheaders; j++)
		if (strcmp(wc->hname[j], name) == 0)
			return bad(c, c->key, "headers: %s given twice", name);
	if (want_string(c, v, k, &s) < 0)
		return -1;
	if (s[0] == '\0' || strpbrk(s, "\r\n") != NULL)
		return bad(c, v, "headers: %s: empty value or line break", name);
	if (allowed_headers[i].values[0] != NULL) {
		bool found = false;

		for (size_t j = 0; allowed_headers[i].values[j] != NULL; j++)
			found |= strcasecmp(s, allowed_headers[i].values[j]) == 0;
		if (!found)
			return bad(c, v, "headers: %s: value '%.100s' not allowed",
			    name, s);
	}
	if (wc->nheaders >= WEBCONFIG_MAX_HEADERS)
		return bad(c, v, "headers: more than %d", WEBCONFIG_MAX_HEADERS);
	wc->hname[wc->nheaders] = strdup(name);
	wc->hvalue[wc->nheaders] = strdup(s);
	if (wc->hname[wc->nheaders] == NULL || wc->hvalue[wc->nheaders] == NULL) {
		free(wc->hname[wc->nheaders]);
		free(wc->hvalue[wc->nheaders]);
		return bad(c, v, "out of memory");
	}
	wc->nheaders++;
	return 0;
}

static int
http_key(struct ctx *c, const char *k, yaml_node_t *v, void *arg)
{
	bool b;

	if (strcmp(k, "http2") == 0)
		return want_bool(c, v, k, &b);
	if (strcmp(k, "headers") == 0)
		return each_pair(c, v, "headers", header_key, arg);
	return bad(c, c->key, "http_server_config: unknown key '%.100s'", k);
}

/* $2a$, $2b$ or $2y$, two-digit cost, 53 characters of salt and hash. */
static bool
bcrypt_shaped(const char *h)
{
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' ||
	    strchr("aby", h[2]) == NULL || h[3] != '$' ||
	    h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	for (const char *p = h + 7; *p; p++)
		if (strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789", *p) == NULL)
			return false;
	return true;
}

static int
user_key(struct ctx *c, const char *k, yaml_node_t *v, void *arg)
{
	struct webconfig *wc = arg;
	const char *s = NULL;
	int cost;

	if (wc->nusers >= WEBCONFIG_MAX_USERS)
		return bad(c, v, "basic_auth_users: more than %d users", WEBCONFIG_MAX_USERS);
	if (k[0] == '\0' || strchr(k, ':') != NULL)
		return bad(c, v, "basic_auth_users: invalid user name '%.100s'", k);
	if (want_string(c, v, k, &s) < 0)
		return -1;
	if (!bcrypt_shaped(s))
		return bad(c, v, "basic_auth_users: %.100s: not a bcrypt hash "
		    "($2b$... / $2y$..., e.g. from htpasswd -nBC 10 USER)", k);
	/* libxcrypt refuses costs outside 4..31 at every login: say so now. */
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < 4 || cost > 31)
		return bad(c, v, "basic_auth_users: %.100s: bcrypt cost %d is "
		    "outside 4..31 (no password could ever match)", k, cost);
	wc->user[wc->nusers] = strdup(k);
	wc->hash[wc->nusers] = strdup(s);
	if (wc->user[wc->nusers] == NULL || wc->hash[wc->nusers] == NULL) {
		free(wc->user[wc->nusers]);
		free(wc->hash[wc->nusers]);
		return bad(c, v, "out of memory");
	}
	wc->nusers++;
	return 0;
}

static int
top_key(struct ctx *c, const char *k, yaml_node_t *v, void *arg)
{
	if (strcmp(k, "tls_server_config") == 0)
		return each_pair(c, v, k, tls_key, arg);
	if (strcmp(k, "http_server_config") == 0)
		return each_pair(c, v, k, http_key, arg);
	if (strcmp(k, "basic_auth_users") == 0)
		return each_pair(c, v, k, user_key, arg);
	return bad(c, c->key, "unknown key '%.100s' (want tls_server_config, "
	    "http_server_config, basic_auth_users)", k);
}

/* The TLS settings that need no file: which files go together. */
static int
check_tls_shape(struct ctx *c, struct webconfig *wc)
{
	if (wc->cert_path == NULL && wc->key_path == NULL) {
		if (wc->ca_path != NULL || wc->client_auth != CLIENT_AUTH_NONE)
			return bad(c, NULL, "tls_server_config: client "
			    "certificates need cert_file and key_file");
		return 0;
	}
	if (wc->cert_path == NULL || wc->key_path == NULL)
		return bad(c, NULL, "tls_server_config: cert_file and key_file "
		    "go together");
	if (wc->client_auth != CLIENT_AUTH_NONE && wc->ca_path == NULL)
		return bad(c, NULL, "tls_server_config: client_auth_type other "
		    "than NoClientCert needs client_ca_file");
	if (wc->min_version > wc->max_version)
		return bad(c, NULL, "tls_server_config: min_version is above "
		    "max_version");
	return 0;
}

/* Certificate, key and CA must load in GnuTLS, and the key fit the cert. */
static int
check_tls(struct ctx *c, struct webconfig *wc)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cd, kd;
	int rc;

	if (wc->cert == NULL)
		return 0;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return bad(c, NULL, "out of memory");
	cd.data = (unsigned char *)wc->cert;
	cd.size = (unsigned)strlen(wc->cert);
	kd.data = (unsigned char *)wc->key;
	kd.size = (unsigned)strlen(wc->key);
	rc = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd,
	    GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		gnutls_certificate_free_credentials(cred);
		return bad(c, NULL, "tls_server_config: cert_file/key_file: %s",
		    gnutls_strerror(rc));
	}
	if (wc->ca != NULL) {
		cd.data = (unsigned char *)wc->ca;
		cd.size = (unsigned)strlen(wc->ca);
		rc = gnutls_certificate_set_x509_trust_mem(cred, &cd,
		    GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			gnutls_certificate_free_credentials(cred);
			return bad(c, NULL, "tls_server_config: client_ca_file: "
			    "%s", rc < 0 ? gnutls_strerror(rc) :
			    "no certificate in the file");
		}
	}
	gnutls_certificate_free_credentials(cred);
	wc->tls = true;
	snprintf(wc->priorities, sizeof(wc->priorities), "NORMAL:-VERS-ALL");
	for (int v = wc->min_version; v <= wc->max_version; v++) {
		size_t l = strlen(wc->priorities);

		snprintf(wc->priorities + l, sizeof(wc->priorities) - l,
		    ":+VERS-TLS1.%d", v - 10);
	}
	return 0;
}

int
webconfig_read_file(const char *path, char **buf, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	size_t used = 0;
	char *data;
	int fd, e;

	*buf = NULL;
	*len = 0;
	/*
	 * Symlinks are followed (Kubernetes mounts secrets through them), but
	 * what they lead to must be a regular file: O_NONBLOCK makes opening
	 * a FIFO return at once, and fstat refuses it before any read.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		set_error(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_size > WEBCONFIG_MAX_FILE) {
		close(fd);
		set_error(err, errlen, "%s: larger than %d bytes", path,
		    WEBCONFIG_MAX_FILE);
		return -1;
	}
	if ((data = malloc(WEBCONFIG_MAX_FILE + 2)) == NULL) {
		close(fd);
		set_error(err, errlen, "out of memory");
		return -1;
	}
	/* The size may change while we read: bound the read, not the stat. */
	while (used <= WEBCONFIG_MAX_FILE) {
		ssize_t n = read(fd, data + used, WEBCONFIG_MAX_FILE + 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			free(data);
			set_error(err, errlen, "%s: %s", path, strerror(e));
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (used > WEBCONFIG_MAX_FILE) {
		free(data);
		set_error(err, errlen, "%s: larger than %d bytes", path,
		    WEBCONFIG_MAX_FILE);
		return -1;
	}
	data[used] = '\0';
	*buf = data;
	*len = used;
	return 0;
}

/* One YAML document, or none (empty); a second one is an error. */
static int
load_document(struct ctx *c, yaml_parser_t *parser, bool *loaded)
{
	yaml_document_t extra;
	bool more;

	*loaded = false;
	if (!yaml_parser_load(parser, &c->doc))
		goto syntax;
	*loaded = true;
	if (yaml_document_get_root_node(&c->doc) == NULL)
		return 0;
	if (!yaml_parser_load(parser, &extra))
		goto syntax;
	more = yaml_document_get_root_node(&extra) != NULL;
	yaml_document_delete(&extra);
	if (more)
		return bad(c, NULL, "more than one YAML document (a second "
		    "'---'): the file must hold one");
	return 0;
syntax:
	set_error(c->err, c->errlen, "%s: line %zu: %s", c->path,
	    parser->problem_mark.line + 1,
	    parser->problem ? parser->problem : "YAML syntax error");
	return -1;
}

struct webconfig *
webconfig_parse(const char *buf, size_t len, const char *path, char *err,
    size_t errlen)
{
	struct ctx c = { .path = path, .err = err, .errlen = errlen };
	struct webconfig *wc;
	yaml_parser_t parser;
	yaml_node_t *root;
	char tmp[4096];
	bool loaded;
	int rc;

	if (buf == NULL) {	/* an empty file */
		buf = "";
		len = 0;
	}
	if (memchr(buf, '\0', len) != NULL) {
		set_error(err, errlen, "%s: NUL byte in the file", path);
		return NULL;
	}
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(c.dir, sizeof(c.dir), "%s", dirname(tmp));
	if ((wc = wc_new()) == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	rc = load_document(&c, &parser, &loaded);
	root = rc == 0 ? yaml_document_get_root_node(&c.doc) : NULL;
	wc->empty = rc == 0 && root == NULL;
	if (root != NULL)
		rc = each_pair(&c, root, "top level", top_key, wc);
	if (rc == 0)
		rc = check_tls_shape(&c, wc);
	if (loaded)
		yaml_document_delete(&c.doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		wc_free(wc);
		return NULL;
	}
	return wc;
}

/* Read the PEM file PATH into OUT. */
static int
load_pem(struct ctx *c, const char *key, const char *path, char **out)
{
	char e[4200];
	size_t len;

	if (path == NULL)
		return 0;
	if (webconfig_read_file(path, out, &len, e, sizeof(e)) < 0)
		return bad(c, NULL, "%s: cannot read %s", key, e);
	return 0;
}

struct webconfig *
webconfig_load(const char *path, char *err, size_t errlen)
{
	struct ctx c = { .path = path, .err = err, .errlen = errlen };
	struct webconfig *wc;
	char *text;
	size_t len;

	if (webconfig_read_file(path, &text, &len, err, errlen) < 0)
		return NULL;
	wc = webconfig_parse(text, len, path, err, errlen);
	explicit_bzero(text, len);
	free(text);
	if (wc == NULL)
		return NULL;
	if (load_pem(&c, "cert_file", wc->cert_path, &wc->cert) < 0 ||
	    load_pem(&c, "key_file", wc->key_path, &wc->key) < 0 ||
	    load_pem(&c, "client_ca_file", wc->ca_path, &wc->ca) < 0 ||
	    check_tls(&c, wc) < 0) {
		wc_free(wc);
		return NULL;
	}
	return wc;
}

bool
webconfig_empty(const struct webconfig *wc)
{
	return wc->empty;
}

int
webconfig_weakens(const struct webconfig *old, const struct webconfig *nw,
    char *what, size_t whatlen)
{
	const char *tls = old->tls && !nw->tls ? "TLS" : NULL;
	const char *auth = old->nusers > 0 && nw->nusers == 0 ?
	    "basic auth" : NULL;
	const char *cc = old->client_auth > CLIENT_AUTH_REQUEST &&
	    nw->client_auth <= CLIENT_AUTH_REQUEST ? "client certificates" :
	    NULL;
	size_t n = 0;

	what[0] = '\0';
	if (tls != NULL)
		n += (size_t)snprintf(what + n, whatlen - n, "TLS");
	if (auth != NULL && n < whatlen)
		n += (size_t)snprintf(what + n, whatlen - n, "%s%s",
		    n ? ", " : "", auth);
	if (cc != NULL && n < whatlen)
		n += (size_t)snprintf(what + n, whatlen - n, "%s%s",
		    n ? ", " : "", cc);
	return n > 0;
}

bool
webconfig_tls(const struct webconfig *wc)
{
	return wc->tls;
}

const char *
webconfig_cert_pem(const struct webconfig *wc)
{
	return wc->cert;
}

const char *
webconfig_key_pem(const struct webconfig *wc)
{
	return wc->key;
}

const char *
webconfig_ca_pem(const struct webconfig *wc)
{
	return wc->ca;
}

const char *
webconfig_priorities(const struct webconfig *wc)
{
	return wc->priorities;
}

enum client_auth
webconfig_client_auth(const struct webconfig *wc)
{
	return wc->client_auth;
}

static bool
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

bool
webconfig_tls_differs(const struct webconfig *a, const struct webconfig *b)
{
	return a->tls != b->tls || str_differs(a->cert, b->cert) ||
	    str_differs(a->key, b->key) || str_differs(a->ca, b->ca) ||
	    strcmp(a->priorities, b->priorities) != 0 ||
	    (a->client_auth == CLIENT_AUTH_NONE) !=
	    (b->client_auth == CLIENT_AUTH_NONE);
}

size_t
webconfig_header_count(const struct webconfig *wc)
{
	return wc->nheaders;
}

void
webconfig_header(const struct webconfig *wc, size_t i, const char **name,
    const char **value)
{
	*name = wc->hname[i];
	*value = wc->hvalue[i];
}

bool
webconfig_auth_required(const struct webconfig *wc)
{
	return wc->nusers > 0;
}

const char *
webconfig_user_hash(const struct webconfig *wc, const char *user)
{
	for (size_t i = 0; i < wc->nusers; i++)
		if (strcmp(wc->user[i], user) == 0)
			return wc->hash[i];
	return NULL;
}

const char *
webconfig_decoy_hash(const struct webconfig *wc)
{
	return wc->nusers > 0 ? wc->hash[0] : NULL;
}
