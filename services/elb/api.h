/*
 * What other services may ask of the Classic Load Balancer, as plain C calls: Auto Scaling
 * registers and deregisters its instances and reads the load balancer's health verdict;
 * Route53 resolves alias targets. Every function runs on the loop thread inside the
 * caller's open transaction and never opens its own.
 */
#ifndef FB_SERVICES_ELB_API_H
#define FB_SERVICES_ELB_API_H

#include "emulator/common.h"
#include "emulator/aws_err.h"
#include "emulator/service.h"

/* True when load balancer `name` exists in the call's region. */
bool elb_api_exists(struct aws_call *call, const char *name);

/*
 * RegisterInstancesWithLoadBalancer of one instance (already registered: 0). -1 + err
 * (LoadBalancerNotFound, InvalidInstance).
 */
int elb_api_register(struct aws_call *call, const char *name, const char *instance_id,
                     struct aws_err *err);

/*
 * DeregisterInstancesFromLoadBalancer of one instance, with connection draining: new
 * connections stop at once; *drain_ms receives how long (virtual ms) in-flight requests may
 * still run (the draining timeout when draining is enabled, else 0), so a caller about to
 * terminate the instance can wait that long first. Not registered: 0 and *drain_ms = 0.
 * -1 + err (LoadBalancerNotFound).
 */
int elb_api_deregister(struct aws_call *call, const char *name, const char *instance_id,
                       int64_t *drain_ms, struct aws_err *err);

/* The load balancer's verdict on a registered instance: 1 InService, 0 OutOfService or
   Unknown, -1 when the balancer or the registration does not exist. */
int elb_api_in_service(struct aws_call *call, const char *name, const char *instance_id);

/*
 * The load balancer whose DNS name is `dns_name` (case-insensitive, a trailing dot allowed),
 * in any region: 1 found (its name into name_out), 0 none, -1 on failure. Route53 uses it
 * for alias targets and for answering the balancer's own name.
 */
int elb_api_find_by_dns(struct aws_call *call, const char *dns_name, char *name_out,
                        size_t name_sz);

/*
 * How many instances registered with the load balancer whose DNS name is `dns_name` (matched
 * as elb_api_find_by_dns does) are InService and take new requests (a draining one does
 * not): >= 0, or -1 when there is no such load balancer or the state failed. Route53 asks it
 * for alias targets that evaluate target health.
 */
int elb_api_in_service_count_by_dns(struct aws_call *call, const char *dns_name);

#endif
