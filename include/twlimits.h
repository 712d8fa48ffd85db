/* Resource limits of the HTTP endpoint, in one place. */
#ifndef TWAUDIT_TWLIMITS_H
#define TWAUDIT_TWLIMITS_H

#define HTTP_MAX_LISTEN 8		/* --web.listen-address given at most */
#define HTTP_MAX_CONNECTIONS 1024	/* all clients together */
#define HTTP_MAX_PER_CLIENT 32		/* connections from one address */
#define HTTP_TIMEOUT_SECONDS 10		/* idle or slow connection */
#define HTTP_CONNECTION_MEMORY (32 * 1024) /* request line + headers */
#define HTTP_THREADS 2			/* polling threads */

#endif
