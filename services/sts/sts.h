/*
 * STS: only GetCallerIdentity, so SDK tools that ask who they are get an answer naming
 * fogbank's account.
 */
#ifndef FB_SERVICES_STS_H
#define FB_SERVICES_STS_H

#include "emulator/service.h"

extern const struct service sts_service;

int sts_get_caller_identity(struct aws_call *call, const cJSON *in, cJSON *out,
                            struct aws_err *err);

#endif
