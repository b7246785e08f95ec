/*
 * Tests of emulator/model.c and of the generated models it reads: every compiled-in model
 * parses and agrees with its index row, look-ups find what they should, and every service
 * table row names an operation its model implements (so a forgotten scripts/gen-models
 * fails here, not at the first request).
 */
#include "emulator/common.h"
#include "emulator/model.h"
#include "emulator/service.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void
assert_str_or_null_equal(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void
test_index_is_sorted_and_unique(void **state)
{
    (void)state;
    assert_true(model_index_len > 0);
    for (size_t i = 1; i < model_index_len; i++)
        assert_true(strcmp(model_index[i - 1].name, model_index[i].name) < 0);
}

static void
test_info_get_finds_every_row_and_nothing_else(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_index_len; i++)
        assert_ptr_equal(model_info_get(model_index[i].name), &model_index[i]);
    assert_null(model_info_get("nosuchservice"));
    assert_null(model_info_get(""));
    assert_null(model_info_get(NULL));
}

static void
test_every_compiled_in_model_parses(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_index_len; i++) {
        struct model *m = model_parse(model_index[i].json);
        assert_non_null(m);
        assert_non_null(model_ops(m));
        assert_non_null(model_unimplemented_ops(m));
        model_free(m);
        assert_non_null(model_get(model_index[i].name));
    }
    assert_null(model_get("nosuchservice"));
}

static void
test_get_caches_until_unload(void **state)
{
    (void)state;
    const struct model *a = model_get("ec2");
    assert_non_null(a);
    assert_ptr_equal(model_get("ec2"), a);
    model_unload_all();
    model_unload_all(); /* twice is harmless */
    const struct model *b = model_get("ec2");
    assert_non_null(b);
    assert_non_null(model_op(b, "DescribeRegions", NULL));
}

static void
test_index_metadata_matches_parsed_metadata(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_index_len; i++) {
        const struct model_info *info = &model_index[i];
        const struct model *m = model_get(info->name);
        assert_non_null(m);
        assert_string_equal(info->protocol, model_protocol(m));
        assert_string_equal(info->api_version, model_api_version(m));
        assert_string_equal(info->service_id, model_service_id(m));
        assert_str_or_null_equal(info->target_prefix, model_target_prefix(m));
        assert_str_or_null_equal(info->xml_namespace, model_xml_namespace(m));

        /* signingName has no accessor; read it from the text itself. */
        cJSON *root = cJSON_Parse(info->json);
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
        assert_non_null(info->signing_name);
        assert_string_equal(info->signing_name, model_str(md, "signingName"));
        cJSON_Delete(root);
    }
}

static void
test_protocol_specific_metadata_is_present(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_index_len; i++) {
        const struct model_info *info = &model_index[i];
        if (strcmp(info->protocol, "json") == 0)
            assert_non_null(info->target_prefix);
        else
            assert_non_null(info->xml_namespace);
    }
    assert_string_equal(model_info_get("elb")->signing_name, "elasticloadbalancing");
    assert_string_equal(model_info_get("codedeploy")->target_prefix, "CodeDeploy_20141006");
    assert_string_equal(model_info_get("route53")->xml_namespace,
                        "https://route53.amazonaws.com/doc/2013-04-01/");
}

static void
test_op_lookup_tells_implemented_from_unimplemented_from_unknown(void **state)
{
    (void)state;
    const struct model *m = model_get("sts");
    assert_non_null(m);
    bool impl = false;

    const cJSON *op = model_op(m, "GetCallerIdentity", &impl);
    assert_non_null(op);
    assert_true(impl);
    assert_string_equal(model_str(op, "name"), "GetCallerIdentity");
    assert_string_equal(model_str(model_ref_shape(m, cJSON_GetObjectItem(op, "input")), "type"),
                        "structure");
    assert_null(cJSON_GetObjectItemCaseSensitive(op, "documentation"));

    impl = true;
    op = model_op(m, "AssumeRole", &impl);
    assert_non_null(op);
    assert_false(impl);
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(op, "http");
    assert_string_equal(model_str(http, "method"), "POST");
    assert_null(cJSON_GetObjectItemCaseSensitive(op, "input"));
    assert_null(model_shape(m, "AssumeRoleRequest"));

    impl = true;
    assert_null(model_op(m, "NoSuchOperation", &impl));
    assert_false(impl);
    assert_null(model_op(m, "getcalleridentity", NULL)); /* names are case-sensitive */
    assert_null(model_op(m, NULL, NULL));
    assert_non_null(model_op(m, "AssumeRole", NULL));

    /* The first and the last names in sort order are found too. */
    const cJSON *first = NULL, *last = NULL, *it;
    cJSON_ArrayForEach(it, model_unimplemented_ops(m))
    {
        if (!first)
            first = it;
        last = it;
    }
    assert_ptr_equal(model_op(m, first->string, NULL), first);
    assert_ptr_equal(model_op(m, last->string, NULL), last);
}

static void
test_shape_lookups(void **state)
{
    (void)state;
    const struct model *m = model_get("sts");
    assert_non_null(m);
    assert_non_null(model_shape(m, "GetCallerIdentityResponse"));
    assert_null(model_shape(m, "NoSuchShape"));
    assert_null(model_shape(m, NULL));
    assert_null(model_ref_shape(m, NULL));
    cJSON *ref = cJSON_Parse("{\"shape\":\"GetCallerIdentityResponse\"}");
    assert_ptr_equal(model_ref_shape(m, ref), model_shape(m, "GetCallerIdentityResponse"));
    cJSON_Delete(ref);
    ref = cJSON_Parse("{\"type\":\"string\"}");
    assert_null(model_ref_shape(m, ref));
    cJSON_Delete(ref);
    assert_null(model_str(NULL, "shape"));
}

/* Asserts that every shape reference inside shape `name` resolves in m. */
static void
assert_shape_refs_resolve(const struct model *m, const char *name)
{
    const cJSON *shape = model_shape(m, name);
    assert_non_null(shape);
    assert_null(cJSON_GetObjectItemCaseSensitive(shape, "documentation"));
    const cJSON *mem;
    cJSON_ArrayForEach(mem, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        assert_non_null(model_ref_shape(m, mem));
        assert_null(cJSON_GetObjectItemCaseSensitive(mem, "documentation"));
    }
    static const char *const refs[] = { "member", "key", "value" };
    for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(shape, refs[i]);
        if (ref)
            assert_non_null(model_ref_shape(m, ref));
    }
}

static void
test_every_shape_reference_resolves(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_index_len; i++) {
        const struct model *m = model_get(model_index[i].name);
        /* The model has no "every shape" accessor: walk a second parse of the same text. */
        cJSON *root = cJSON_Parse(model_index[i].json);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "shapes"))
        {
            assert_shape_refs_resolve(m, s->string);
        }
        cJSON_Delete(root);
    }
}

/* Asserts that op `name` of service s is implemented in its model with resolvable shapes. */
static void
assert_op_implemented(const struct model *m, const char *service, const char *name)
{
    bool impl = false;
    const cJSON *op = model_op(m, name, &impl);
    if (!op || !impl)
        fail_msg("%s: %s is in the operation table but not implemented in the model: run "
                 "scripts/gen-models",
                 service, name);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(op, "input");
    if (in)
        assert_non_null(model_ref_shape(m, in));
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(op, "output");
    if (out)
        assert_non_null(model_ref_shape(m, out));
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(op, "errors"))
    {
        assert_non_null(model_ref_shape(m, e));
    }
}

static void
test_every_table_row_is_implemented_in_its_model(void **state)
{
    (void)state;
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service *s = service_table[i];
        const struct model *m = model_get(s->name);
        if (!m)
            fail_msg("service %s has no compiled-in model", s->name);
        for (size_t j = 0; j < s->n_ops; j++)
            assert_op_implemented(m, s->name, s->ops[j].name);
    }
}

static void
test_every_implemented_op_has_a_table_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_index_len; i++) {
        const struct model *m = model_get(model_index[i].name);
        const struct service *s = service_get(model_index[i].name);
        const cJSON *op;
        cJSON_ArrayForEach(op, model_ops(m))
        {
            if (!s || !service_find_op(s, op->string))
                fail_msg("%s: the model implements %s but no table row does: run "
                         "scripts/gen-models",
                         model_index[i].name, op->string);
        }
    }
}

static void
test_every_service_table_is_sorted_unique_and_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service *s = service_table[i];
        assert_non_null(s->name);
        assert_true(s->n_ops == 0 || s->ops != NULL);
        for (size_t j = 0; j < s->n_ops; j++) {
            assert_non_null(s->ops[j].name);
            if (!s->ops[j].fn)
                fail_msg("%s: %s has a NULL handler", s->name, s->ops[j].name);
            if (j > 0 && strcmp(s->ops[j - 1].name, s->ops[j].name) >= 0)
                fail_msg("%s: %s must come after %s (sorted, unique)", s->name, s->ops[j - 1].name,
                         s->ops[j].name);
            assert_ptr_equal(service_find_op(s, s->ops[j].name), &s->ops[j]);
        }
        for (size_t k = 0; k < i; k++)
            assert_true(strcmp(service_table[k]->name, s->name) != 0);
    }
}

static void
test_parse_rejects_bad_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "not json",
        "[]",
        "\"model\"",
        "{\"operations\":[]}",
        "{\"shapes\":1}",
        "{\"metadata\":\"x\"}",
        "{\"operations\":{\"A\":1}}",
        "{\"operations\":{\"A\":{}},\"unimplemented\":{\"A\":{}}}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (model_parse(bad[i]))
            fail_msg("model_parse accepted %s", bad[i]);
    assert_null(model_parse(NULL));
    model_free(NULL);
}

static void
test_parse_accepts_a_minimal_model(void **state)
{
    (void)state;
    struct model *m = model_parse("{}");
    assert_non_null(m);
    assert_null(model_protocol(m));
    assert_null(model_op(m, "A", NULL));
    assert_null(model_shape(m, "A"));
    model_free(m);

    m = model_parse("{\"metadata\":{\"xmlNamespace\":{\"uri\":\"urn:x\"}},"
                    "\"operations\":{\"B\":{\"input\":{\"shape\":\"In\"}}},"
                    "\"unimplemented\":{\"A\":{\"http\":{}},\"C\":{\"http\":{}}},"
                    "\"shapes\":{\"In\":{\"type\":\"structure\"}}}");
    assert_non_null(m);
    assert_string_equal(model_xml_namespace(m), "urn:x");
    bool impl = false;
    const cJSON *b = model_op(m, "B", &impl);
    assert_true(impl);
    assert_non_null(model_ref_shape(m, cJSON_GetObjectItem(b, "input")));
    assert_non_null(model_op(m, "A", &impl));
    assert_false(impl);
    assert_non_null(model_op(m, "C", &impl));
    assert_false(impl);
    model_free(m);
}

static int
teardown_models(void **state)
{
    (void)state;
    model_unload_all();
    return 0;
}

static void
test_member_index_keeps_declaration_order_and_finds_by_name(void **state)
{
    (void)state;
    struct model *m = model_parse(
            "{\"metadata\":{},\"operations\":{},\"unimplemented\":{},\"shapes\":{"
            "\"S\":{\"type\":\"structure\",\"members\":{"
            "\"Zeta\":{\"shape\":\"T\"},\"Alpha\":{\"shape\":\"T\",\"locationName\":\"a\"},"
            "\"Mid\":{\"shape\":\"Missing\"}}},"
            "\"T\":{\"type\":\"string\"},\"E\":{\"type\":\"structure\"}}}");
    assert_non_null(m);
    const cJSON *s = model_shape(m, "S");
    size_t n = 0;
    const struct model_member *mm = model_members(m, s, &n);
    assert_int_equal(n, 3);
    assert_string_equal(mm[0].name, "Zeta");
    assert_string_equal(mm[1].name, "Alpha");
    assert_string_equal(mm[2].name, "Mid");
    assert_ptr_equal(mm[1].shape, model_shape(m, "T"));
    assert_null(mm[2].shape);
    assert_string_equal(model_str(mm[1].ref, "locationName"), "a");
    /* Cached: the same index comes back, and look-ups by name find each member. */
    assert_ptr_equal(model_members(m, s, &n), mm);
    assert_ptr_equal(model_member(m, s, "Alpha"), &mm[1]);
    assert_ptr_equal(model_member(m, s, "Zeta"), &mm[0]);
    assert_null(model_member(m, s, "alpha"));
    assert_null(model_members(m, model_shape(m, "E"), &n));
    assert_int_equal(n, 0);
    model_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_is_sorted_and_unique),
        cmocka_unit_test(test_info_get_finds_every_row_and_nothing_else),
        cmocka_unit_test(test_every_compiled_in_model_parses),
        cmocka_unit_test(test_get_caches_until_unload),
        cmocka_unit_test(test_index_metadata_matches_parsed_metadata),
        cmocka_unit_test(test_protocol_specific_metadata_is_present),
        cmocka_unit_test(test_op_lookup_tells_implemented_from_unimplemented_from_unknown),
        cmocka_unit_test(test_shape_lookups),
        cmocka_unit_test(test_every_shape_reference_resolves),
        cmocka_unit_test(test_every_table_row_is_implemented_in_its_model),
        cmocka_unit_test(test_every_implemented_op_has_a_table_row),
        cmocka_unit_test(test_every_service_table_is_sorted_unique_and_complete),
        cmocka_unit_test(test_parse_rejects_bad_json),
        cmocka_unit_test(test_parse_accepts_a_minimal_model),
        cmocka_unit_test(test_member_index_keeps_declaration_order_and_finds_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_models);
}
