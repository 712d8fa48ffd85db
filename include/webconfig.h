/*
 * --web.config.file: the exporter-toolkit web configuration (YAML).
 *
 *   tls_server_config:
 *     cert_file, key_file          PEM, paths relative to the config file
 *     client_auth_type             NoClientCert (default), RequestClientCert,
 *                                  RequireAnyClientCert, VerifyClientCertIfGiven,
 *                                  RequireAndVerifyClientCert
 *     client_ca_file               PEM bundle for client certificates
 *     min_version, max_version     TLS10, TLS11, TLS12 (default min), TLS13
 *     prefer_server_cipher_suites  accepted, GnuTLS always prefers the server's
 *   http_server_config:
 *     http2                        accepted (HTTP/1.1 only), headers: NAME: VALUE
 *   basic_auth_users:              USER: BCRYPT-HASH
 *
 * Any other key is an error. A loaded config is immutable apart from its
 * bcrypt cache and is reference counted, so SIGHUP can swap in a new one
 * while requests still use the old.
 */
#ifndef TWAUDIT_WEBCONFIG_H
#define TWAUDIT_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define WEBCONFIG_MAX_USERS 64
#define WEBCONFIG_MAX_HEADERS 16
#define WEBCONFIG_MAX_FILE (256 * 1024)	/* config, certificates, keys */
#define WEBCONFIG_CACHE_SLOTS 32	/* remembered bcrypt verdicts */
#define WEBCONFIG_CACHE_SECONDS 60.0

enum client_auth {
	CLIENT_AUTH_NONE,		/* NoClientCert */
	CLIENT_AUTH_REQUEST,		/* RequestClientCert */
	CLIENT_AUTH_REQUIRE_ANY,	/* RequireAnyClientCert */
	CLIENT_AUTH_VERIFY_IF_GIVEN,	/* VerifyClientCertIfGiven */
	CLIENT_AUTH_REQUIRE_VERIFY,	/* RequireAndVerifyClientCert */
};

struct webconfig;

/* Parse PATH. NULL with ERR ("FILE: line N: ...") on any error. */
struct webconfig *webconfig_load(const char *path, char *err, size_t errlen);
/* An empty config: plain HTTP, no authentication. */
struct webconfig *webconfig_none(void);
struct webconfig *webconfig_ref(struct webconfig *wc);
void webconfig_unref(struct webconfig *wc);

bool webconfig_tls(const struct webconfig *wc);
/* PEM text (NUL-terminated), NULL when not configured. */
const char *webconfig_cert_pem(const struct webconfig *wc);
const char *webconfig_key_pem(const struct webconfig *wc);
const char *webconfig_ca_pem(const struct webconfig *wc);
/* GnuTLS priority string for min/max_version. */
const char *webconfig_priorities(const struct webconfig *wc);
enum client_auth webconfig_client_auth(const struct webconfig *wc);
/* True when A and B need different listening daemons (TLS material). */
bool webconfig_tls_differs(const struct webconfig *a, const struct webconfig *b);

size_t webconfig_header_count(const struct webconfig *wc);
void webconfig_header(const struct webconfig *wc, size_t i, const char **name,
    const char **value);

/* True when basic_auth_users is not empty. */
bool webconfig_auth_required(const struct webconfig *wc);
/*
 * Check USER/PASSWORD against the bcrypt hashes. Verdicts are cached for
 * WEBCONFIG_CACHE_SECONDS under a SHA-256 of the credentials, so a scrape
 * every second costs one bcrypt a minute. Unknown users cost a bcrypt too
 * (no timing oracle for user names).
 */
bool webconfig_check_password(struct webconfig *wc, const char *user,
    const char *password);

#endif
