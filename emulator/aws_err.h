/*
 * struct aws_err: how every fallible function reports an AWS-visible failure (STYLE rule 3).
 * A function that takes `struct aws_err *err` sets it exactly when it returns -1 (or NULL).
 * The codes come from aws_errors.def; the protocol layer turns an aws_err into the
 * service's own error envelope. Nothing here knows about HTTP or XML.
 */
#ifndef FB_AWS_ERR_H
#define FB_AWS_ERR_H

#include "common.h"

enum aws_code {
#define AWS_ERR(e, code, status, sender) AWS_E_##e,
#include "aws_errors.def"
#undef AWS_ERR
    AWS_E__COUNT
};

#define AWS_ERR_MESSAGE_MAX 1024

struct aws_err {
    int status;                        /* HTTP status to answer with */
    const char *code;                  /* wire code; static string */
    bool sender;                       /* client fault (Sender) vs server fault (Receiver) */
    char message[AWS_ERR_MESSAGE_MAX]; /* human text, truncated if longer */
};

/* Fills err from the table row for code with a formatted message; returns -1. */
int aws_err_set(struct aws_err *err, enum aws_code code, const char *fmt, ...) FB_PRINTF(3, 4);
/*
 * Fills err with a code that is not in the table (a service-specific wire code such as
 * "InvalidInstanceID.NotFound"); `code` must be a static string. Returns -1.
 */
int aws_err_setx(struct aws_err *err, int status, const char *code, bool sender, const char *fmt,
                 ...) FB_PRINTF(5, 6);
/* The wire code / HTTP status of a table row. */
const char *aws_code_name(enum aws_code code);
int aws_code_status(enum aws_code code);
void aws_err_clear(struct aws_err *err);

#endif
