/*
 * The table of every service fogbank serves. The router reaches services only through it,
 * so emulator/ never includes a service header. A service with no operation yet still has
 * a row: the router then answers each of its operations with NotImplemented.
 */
#include "emulator/common.h"
#include "emulator/service.h"
#include "services/autoscaling/autoscaling.h"
#include "services/ec2/ec2.h"
#include "services/elb/elb.h"
#include "services/route53/route53.h"
#include "services/sts/sts.h"

static const struct service cloudformation_service = { "cloudformation", NULL, 0, NULL };
static const struct service codedeploy_service = { "codedeploy", NULL, 0, NULL };
static const struct service elbv2_service = { "elbv2", NULL, 0, NULL };
static const struct service s3_service = { "s3", NULL, 0, NULL };

/* One row per service, sorted (clang-format would pack the rows onto two lines). */
/* clang-format off */
const struct service *const service_table[] = {
    &autoscaling_service,
    &cloudformation_service,
    &codedeploy_service,
    &ec2_service,
    &elb_service,
    &elbv2_service,
    &route53_service,
    &s3_service,
    &sts_service,
};
/* clang-format on */

const size_t service_table_len = ARRAY_SIZE(service_table);
