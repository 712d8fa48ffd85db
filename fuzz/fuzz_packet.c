/*
 * libFuzzer target for the packet decoder. The first byte picks the link
 * type (and whether the wire length equals the captured length); the rest
 * is the frame. The decoder must never read past the frame: the data is
 * copied into an exact-size heap buffer so ASan sees any over-read.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Ibuild \
 *       fuzz/fuzz_packet.c collectors/packet.c lib/util.c
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4,
	DLT_IPV6, DLT_NULL, DLT_LOOP, 101 /* LINKTYPE_RAW */,
	105 /* unsupported */,
};
#define NLINK (sizeof(linktypes) / sizeof(linktypes[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_event ev;
	enum packet_skip why;
	uint8_t *frame;
	size_t caplen, wirelen;
	int r;

	if (size < 1)
		return 0;
	caplen = size - 1;
	/* Low bits: link type; high bit: a wire length beyond the capture. */
	wirelen = data[0] & 0x80 ? caplen + 1500 : caplen;
	frame = malloc(caplen ? caplen : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, caplen);
	r = packet_decode(linktypes[(data[0] & 0x7f) % NLINK], frame, caplen,
	    wirelen, 1, &ev, &why);
	if (r == 1) {
		if (why != PACKET_SKIP_NONE || (ev.family != 4 && ev.family != 6))
			abort();
	} else if (r != 0 || why == PACKET_SKIP_NONE ||
	    why >= PACKET_SKIP_COUNT) {
		abort();
	}
	(void)packet_skip_name(why);
	free(frame);
	return 0;
}
