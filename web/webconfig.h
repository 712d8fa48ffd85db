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
 *     http2                        accepted (HTTP/1.1 only)
 *     headers                      NAME: VALUE, for the names exporter-toolkit
 *                                  allows: Strict-Transport-Security,
 *                                  X-Content-Type-Options (nosniff),
 *                                  X-Frame-Options (deny, sameorigin),
 *                                  X-XSS-Protection, Content-Security-Policy;
 *                                  each replaces twaudit's own value
 *   basic_auth_users:              USER: BCRYPT-HASH (cost 4..31)
 *
 * Any other key, a duplicate, or a second YAML document is an error. A
 * loaded config is immutable and reference counted, so SIGHUP can swap in
 * a new one while requests still use the old. Password checks live in
 * auth.h.
 */
#ifndef TWAUDIT_WEBCONFIG_H
#define TWAUDIT_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define WEBCONFIG_MAX_USERS 64
#define WEBCONFIG_MAX_HEADERS 16
#define WEBCONFIG_MAX_FILE (256 * 1024)	/* config, certificates, keys */

enum client_auth {
	CLIENT_AUTH_NONE,		/* NoClientCert */
	CLIENT_AUTH_REQUEST,		/* RequestClientCert */
	CLIENT_AUTH_REQUIRE_ANY,	/* RequireAnyClientCert */
	CLIENT_AUTH_VERIFY_IF_GIVEN,	/* VerifyClientCertIfGiven */
	CLIENT_AUTH_REQUIRE_VERIFY,	/* RequireAndVerifyClientCert */
};

struct webconfig;

/*
 * Read PATH (symlinks followed) into a NUL-terminated *BUF of *LEN bytes,
 * which the caller frees. Refuses without blocking what is not a regular
 * file (a FIFO, a device, a directory) and files over WEBCONFIG_MAX_FILE.
 * 0, or -1 with ERR.
 */
int webconfig_read_file(const char *path, char **buf, size_t *len, char *err,
    size_t errlen);
/*
 * Parse the LEN bytes of BUF, the text of the file PATH (PATH names it in
 * messages and is where relative PEM file names start). Opens no file: the
 * PEM files are only named (webconfig_load reads them), so the result is
 * not ready to serve TLS. NULL with ERR ("FILE: line N: ...") on any error.
 */
struct webconfig *webconfig_parse(const char *buf, size_t len,
    const char *path, char *err, size_t errlen);
/* Read and parse PATH, read and check its PEM files. NULL with ERR. */
struct webconfig *webconfig_load(const char *path, char *err, size_t errlen);
/* True when the file held no YAML document (empty or only comments). */
bool webconfig_empty(const struct webconfig *wc);
/*
 * True when going from OLD to NEW removes TLS, basic auth or verified
 * client certificates; WHAT ("TLS, basic auth") says which.
 */
int webconfig_weakens(const struct webconfig *old, const struct webconfig *nw,
    char *what, size_t whatlen);
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
/* USER's bcrypt hash, NULL for an unknown user. */
const char *webconfig_user_hash(const struct webconfig *wc, const char *user);
/* A hash to check unknown users against, so they cost a bcrypt too (no
 * timing oracle for user names); NULL without users. */
const char *webconfig_decoy_hash(const struct webconfig *wc);

#endif
