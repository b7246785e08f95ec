/*
 * `fogbank ctl`: the command-line client of the control API (/_fogbank/ over HTTP, via
 * libcurl). It talks to a running server only through that API and never touches its state.
 */
#ifndef FB_CTL_H
#define FB_CTL_H

#include "common.h"

#define CTL_DEFAULT_ENDPOINT "http://127.0.0.1:4566"

/*
 * Runs `fogbank ctl ARGS...`; argv[0] is "ctl". The endpoint is --endpoint, else
 * $FOGBANK_ENDPOINT, else CTL_DEFAULT_ENDPOINT. Returns the exit status: 0 success,
 * 1 failure (server unreachable or an error answer), 2 usage error.
 */
int ctl_main(int argc, char **argv);

#endif
