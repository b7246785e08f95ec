/*
 * STS GetCallerIdentity: every caller is the root user of fogbank's one account.
 */
#include "emulator/common.h"
#include "services/sts/sts.h"
#include "emulator/buf.h"

static const struct service_op sts_ops[] = {
    { "GetCallerIdentity", sts_get_caller_identity, OP_READONLY },
};

const struct service sts_service = { "sts", sts_ops, ARRAY_SIZE(sts_ops), NULL };

int
sts_get_caller_identity(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)in;
    (void)err;
    struct buf arn = BUF_INIT;
    buf_addf(&arn, "arn:aws:iam::%s:root", call->account_id);
    /* For the root user AWS reports the account id as the UserId. */
    cJSON_AddStringToObject(out, "UserId", call->account_id);
    cJSON_AddStringToObject(out, "Account", call->account_id);
    cJSON_AddStringToObject(out, "Arn", arn.data);
    buf_release(&arn);
    return 0;
}
