/*
 * Build information (meson.build puts it into config.h at configure time)
 * and the linked libraries' own idea of their versions, read at run time
 * where the library can tell it (a shared library may be newer than the
 * headers it was built with), else the headers' version.
 */
#include "cmd/version.h"

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netlink/version.h>
#include <pcap/pcap.h>
#include <seccomp.h>
#include <yaml.h>
#include <zlib.h>

#include "config.h"

const char *
version_string(void)
{
	return TWAUDIT_VERSION;
}

const char *
version_revision(void)
{
	return TWAUDIT_REVISION;
}

void
version_print(FILE *f)
{
	const struct scmp_version *sv = seccomp_version();

	fprintf(f, "twaudit, version %s (branch: %s, revision: %s)\n",
	    TWAUDIT_VERSION, TWAUDIT_BRANCH, TWAUDIT_REVISION);
	fprintf(f, "  build user:       %s\n", TWAUDIT_BUILD_USER);
	fprintf(f, "  build date:       %s\n", TWAUDIT_BUILD_DATE);
	fprintf(f, "  compiler:         %s\n", TWAUDIT_COMPILER);
	fprintf(f, "  platform:         %s\n", TWAUDIT_PLATFORM);
	fprintf(f, "  libmicrohttpd:    %s\n", MHD_get_version());
	fprintf(f, "  jansson:          %s\n", jansson_version_str());
	fprintf(f, "  libpcap:          %s\n", pcap_lib_version());
	fprintf(f, "  gnutls:           %s\n", gnutls_check_version(NULL));
	fprintf(f, "  zlib:             %s\n", zlibVersion());
	fprintf(f, "  libyaml:          %s\n", yaml_get_version_string());
	fprintf(f, "  libnl:            %d.%d.%d\n", nl_ver_maj, nl_ver_min,
	    nl_ver_mic);
	if (sv != NULL)
		fprintf(f, "  libseccomp:       %u.%u.%u\n", sv->major, sv->minor,
		    sv->micro);
}
