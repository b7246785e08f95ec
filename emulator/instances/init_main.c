/*
 * main() of fogbank-init, the executable every instance boots as (see sup.h). It links
 * init.c and what init.c needs, and nothing of the server: no libuv, libmicrohttpd, sqlite,
 * libxml2, libcrypto or libarchive, so exec'ing it costs the dynamic loader only libc.
 */
#include "../common.h"
#include "sup.h"

int
main(int argc, char **argv)
{
    return sup_init_main(argc, argv);
}
