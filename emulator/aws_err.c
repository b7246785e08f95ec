/*
 * The table behind aws_errors.def and the setters of struct aws_err.
 */
#include "common.h"
#include "aws_err.h"

#include <stdarg.h>

static const struct {
    const char *code;
    int status;
    bool sender;
} aws_codes[] = {
#define AWS_ERR(e, code, status, sender) { code, status, sender },
#include "aws_errors.def"
#undef AWS_ERR
};

const char *
aws_code_name(enum aws_code code)
{
    return aws_codes[code].code;
}

int
aws_code_status(enum aws_code code)
{
    return aws_codes[code].status;
}

void
aws_err_clear(struct aws_err *err)
{
    err->status = 0;
    err->code = NULL;
    err->sender = true;
    err->message[0] = '\0';
}

static void
aws_err_vset(struct aws_err *err, int status, const char *code, bool sender, const char *fmt,
             va_list ap)
{
    err->status = status;
    err->code = code;
    err->sender = sender;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int
aws_err_set(struct aws_err *err, enum aws_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aws_err_vset(err, aws_codes[code].status, aws_codes[code].code, aws_codes[code].sender, fmt,
                 ap);
    va_end(ap);
    return -1;
}

int
aws_err_setx(struct aws_err *err, int status, const char *code, bool sender, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aws_err_vset(err, status, code, sender, fmt, ap);
    va_end(ap);
    return -1;
}
