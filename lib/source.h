/* Collector sources and their states. */
#ifndef TWAUDIT_SOURCE_H
#define TWAUDIT_SOURCE_H

#define SOURCE_ERR_LEN 256

#define SOURCE_LIST(X) \
	X(SYSCTL, "sysctl") \
	X(NETSTAT, "netstat") \
	X(SNMP, "snmp") \
	X(SOCKSTAT, "sockstat") \
	X(PERSIST, "persist") \
	X(SOCK_DIAG, "sock_diag") \
	X(TCP_METRICS, "tcp_metrics") \
	X(SAMPLER, "sampler")

enum source_id {
#define X(id, name) SRC_##id,
	SOURCE_LIST(X)
#undef X
	SRC_COUNT
};
extern const char *const source_name[SRC_COUNT];

enum source_state {
	SOURCE_OK,
	SOURCE_NOT_APPLICABLE,	/* this kernel has no such thing: not an error */
	SOURCE_UNAVAILABLE,	/* not permitted or not visible here */
	SOURCE_FAILED,		/* expected but unreadable or garbled */
	SOURCE_DISABLED,	/* switched off by a flag: never read */
	SOURCE_NSTATES
};
extern const char *const source_state_name[SOURCE_NSTATES];

struct source_status {
	enum source_state state;
	char error[SOURCE_ERR_LEN];	/* "" when ok */
	double duration_s;
};

/* Map a read_file_at() error to a state: EACCES/EPERM unavailable, ... */
enum source_state source_state_from_errno(int err);

#endif
