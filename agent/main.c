/* twaudit: entry point. */
#include <stdio.h>
#include "config.h"

int
main(void)
{
	printf("twaudit %s\n", TWAUDIT_VERSION);
	return 0;
}
