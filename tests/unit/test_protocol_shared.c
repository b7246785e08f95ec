/*
 * Tests of emulator/protocol/shared.c (form decoding, timestamps, protocol lookup) and
 * emulator/protocol/validate.c (model constraints on a typed tree).
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void
test_params_parse_decodes_plus_and_percent(void **state)
{
    (void)state;
    struct params p = PARAMS_INIT;
    const char *s = "Action=Run&Name=a+b%2Bc&Empty=&Bare&&Tag.1.Key=%E2%9C%93";
    assert_int_equal(params_parse(&p, s, strlen(s)), 0);
    assert_int_equal(p.n, 5);
    assert_string_equal(params_get(&p, "Action"), "Run");
    assert_string_equal(params_get(&p, "Name"), "a b+c");
    assert_string_equal(params_get(&p, "Empty"), "");
    assert_string_equal(params_get(&p, "Bare"), "");
    assert_string_equal(params_get(&p, "Tag.1.Key"), "\xE2\x9C\x93");
    assert_null(params_get(&p, "Missing"));
    params_release(&p);
    params_release(&p);
}

static void
test_params_get_returns_the_last_duplicate(void **state)
{
    (void)state;
    struct params p = PARAMS_INIT;
    const char *s = "A=1&A=2";
    assert_int_equal(params_parse(&p, s, strlen(s)), 0);
    assert_string_equal(params_get(&p, "A"), "2");
    params_release(&p);
}

static void
test_params_parse_rejects_bad_escape_and_keeps_earlier_pairs(void **state)
{
    (void)state;
    struct params p = PARAMS_INIT;
    const char *s = "A=1&B=%zz&C=3";
    assert_int_equal(params_parse(&p, s, strlen(s)), -1);
    assert_int_equal(p.n, 1);
    assert_string_equal(params_get(&p, "A"), "1");
    params_release(&p);
    const char *t = "A=%4";
    assert_int_equal(params_parse(&p, t, strlen(t)), -1);
    params_release(&p);
}

static void
test_params_parse_stops_at_n(void **state)
{
    (void)state;
    struct params p = PARAMS_INIT;
    assert_int_equal(params_parse(&p, "A=12345", 3), 0);
    assert_string_equal(params_get(&p, "A"), "1");
    params_release(&p);
}

static void
test_url_decode_keeps_plus(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(url_decode(&b, "/a+b%20c%2F", 11), 0);
    assert_string_equal(b.data, "/a+b c/");
    buf_reset(&b);
    assert_int_equal(url_decode(&b, "%", 1), -1);
    buf_release(&b);
}

static void
test_time_format_iso8601(void **state)
{
    (void)state;
    char out[32];
    time_format_iso8601(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    time_format_iso8601(1795860000000 + 123, out);
    assert_string_equal(out, "2026-11-28T10:00:00.123Z");
    time_format_iso8601(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    time_format_iso8601(951782400000, out); /* a leap day of a century year */
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
}

static void
test_time_format_rfc1123(void **state)
{
    (void)state;
    char out[40];
    time_format_rfc1123(1795860000000, out);
    assert_string_equal(out, "Sat, 28 Nov 2026 10:00:00 GMT");
    time_format_rfc1123(0, out);
    assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void
test_time_parse_accepts_every_wire_form(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        { "2026-11-28T10:00:00Z", 1795860000000 },
        { "2026-11-28T10:00:00.123Z", 1795860000123 },
        { "2026-11-28T10:00:00.123456Z", 1795860000123 },
        { "2026-11-28T10:00:00.5Z", 1795860000500 },
        { "2026-11-28T11:30:00+01:30", 1795860000000 },
        { "2026-11-28T08:00:00-0200", 1795860000000 },
        { "2026-11-28T10:00:00", 1795860000000 },
        { "2026-11-28T10:00Z", 1795860000000 },
        { "2026-11-28", 1795824000000 },
        { "Sat, 28 Nov 2026 10:00:00 GMT", 1795860000000 },
        { "1795860000", 1795860000000 },
        { "1795860000.25", 1795860000250 },
        { "-1", -1000 },
        { "2000-02-29T00:00:00Z", 951782400000 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int64_t ms = 0;
        assert_int_equal(time_parse(ok[i].text, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
    }
}

static void
test_time_parse_rejects_garbage_and_impossible_dates(void **state)
{
    (void)state;
    static const char *const bad[] = { "",
                                       "abc",
                                       "2026-13-01T00:00:00Z",
                                       "2026-02-29T00:00:00Z",
                                       "1900-02-29",
                                       "2026-11-28T24:00:00Z",
                                       "2026-11-28T10:60:00Z",
                                       "2026-11-28T10:00:00Zjunk",
                                       "2026-11-28T10:00:00.Z",
                                       "Sat, 28 Nov 2026 10:00:00",
                                       "1e5",
                                       "12abc",
                                       "0x10" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int64_t ms = 42;
        assert_int_equal(time_parse(bad[i], &ms), -1);
    }
    int64_t ms;
    assert_int_equal(time_parse(NULL, &ms), -1);
}

static void
test_time_round_trips(void **state)
{
    (void)state;
    static const int64_t samples[] = {
        0, 1, 999, 86399999, 1795860000123, -86400001, 253402300799999
    };
    for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
        char out[32];
        int64_t back = 0;
        time_format_iso8601(samples[i], out);
        assert_int_equal(time_parse(out, &back), 0);
        assert_int_equal(back, samples[i]);
    }
}

static void
test_protocol_for_names_all_four(void **state)
{
    (void)state;
    assert_ptr_equal(protocol_for("query"), &proto_query);
    assert_ptr_equal(protocol_for("ec2"), &proto_ec2);
    assert_ptr_equal(protocol_for("json"), &proto_json);
    assert_ptr_equal(protocol_for("rest-xml"), &proto_restxml);
    assert_null(protocol_for("rest-json"));
    assert_null(protocol_for(NULL));
}

/* ---- validate_input ---- */

static const char validate_model[] =
        "{\"metadata\":{\"protocol\":\"query\"},"
        "\"operations\":{},\"unimplemented\":{},\"shapes\":{"
        "\"In\":{\"type\":\"structure\",\"required\":[\"Name\",\"Size\"],"
        "\"members\":{"
        "\"Name\":{\"shape\":\"Name\"},"
        "\"Size\":{\"shape\":\"Size\"},"
        "\"Mode\":{\"shape\":\"Mode\"},"
        "\"Tags\":{\"shape\":\"Tags\"},"
        "\"Attrs\":{\"shape\":\"Attrs\"},"
        "\"Data\":{\"shape\":\"Data\"},"
        "\"Ratio\":{\"shape\":\"Ratio\"}}},"
        "\"Name\":{\"type\":\"string\",\"min\":1,\"max\":4},"
        "\"Size\":{\"type\":\"integer\",\"min\":0,\"max\":10},"
        "\"Ratio\":{\"type\":\"double\",\"min\":0.5},"
        "\"Mode\":{\"type\":\"string\",\"enum\":[\"A\",\"B\"]},"
        "\"Data\":{\"type\":\"blob\",\"max\":2},"
        "\"Tags\":{\"type\":\"list\",\"member\":{\"shape\":\"Tag\"},"
        "\"max\":2},"
        "\"Tag\":{\"type\":\"structure\",\"required\":[\"Key\"],"
        "\"members\":{\"Key\":{\"shape\":\"Name\"}}},"
        "\"Attrs\":{\"type\":\"map\",\"key\":{\"shape\":\"Name\"},"
        "\"value\":{\"shape\":\"Size\"}}"
        "}}";

static size_t
validate_text(const char *json, struct violation *v, size_t max)
{
    struct model *m = model_parse(validate_model);
    assert_non_null(m);
    cJSON *tree = cJSON_Parse(json);
    assert_non_null(tree);
    size_t n = validate_input(m, "In", tree, v, max);
    cJSON_Delete(tree);
    model_free(m);
    return n;
}

static void
test_validate_accepts_a_valid_tree(void **state)
{
    (void)state;
    struct violation v[4];
    assert_int_equal(validate_text("{\"Name\":\"ab\",\"Size\":3,\"Mode\":\"B\",\"Tags\":[{\"Key\":"
                                   "\"k\"}],\"Attrs\":{\"x\":1},\"Data\":\"aGk=\",\"Ratio\":0.5}",
                                   v, 4),
                     0);
}

static void
test_validate_reports_missing_members_in_shape_order(void **state)
{
    (void)state;
    struct violation v[4];
    assert_int_equal(validate_text("{\"Size\":null}", v, 4), 2);
    assert_int_equal(v[0].kind, VIOLATION_MISSING);
    assert_string_equal(v[0].path, "Name");
    assert_string_equal(v[0].member, "Name");
    assert_string_equal(v[0].value, "null");
    assert_string_equal(v[1].path, "Size");
}

static void
test_validate_checks_enum_lengths_and_ranges(void **state)
{
    (void)state;
    struct violation v[8];
    size_t n = validate_text("{\"Name\":\"\",\"Size\":11,\"Mode\":\"C\",\"Data\":\"aGVsbG8=\","
                             "\"Ratio\":0.1,\"Tags\":[{},{\"Key\":\"k\"},{\"Key\":\"toolong\"}]}",
                             v, 8);
    assert_int_equal(n, 8);
    assert_int_equal(v[0].kind, VIOLATION_MIN);
    assert_string_equal(v[0].path, "Name");
    assert_string_equal(v[0].value, "");
    assert_int_equal(v[1].kind, VIOLATION_MAX);
    assert_string_equal(v[1].value, "11");
    assert_int_equal(v[2].kind, VIOLATION_ENUM);
    assert_string_equal(v[2].value, "C");
    assert_int_equal(v[3].kind, VIOLATION_MAX);
    assert_string_equal(v[3].path, "Tags");
    assert_string_equal(v[3].value, "[{}, {Key=k}, {Key=toolong}]");
    assert_int_equal(v[4].kind, VIOLATION_MISSING);
    assert_string_equal(v[4].path, "Tags.1.Key");
    assert_string_equal(v[4].member, "Key");
    assert_int_equal(v[5].kind, VIOLATION_MAX);
    assert_string_equal(v[5].path, "Tags.3.Key");
    assert_string_equal(v[6].path, "Data");
    assert_int_equal(v[7].kind, VIOLATION_MIN);
    assert_string_equal(v[7].path, "Ratio");
    assert_string_equal(v[7].value, "0.1");
}

static void
test_validate_checks_map_keys_and_values(void **state)
{
    (void)state;
    struct violation v[4];
    assert_int_equal(validate_text("{\"Name\":\"a\",\"Size\":1,\"Attrs\":{\"\":20}}", v, 4), 2);
    assert_string_equal(v[0].path, "Attrs.");
    assert_int_equal(v[0].kind, VIOLATION_MIN);
    assert_int_equal(v[1].kind, VIOLATION_MAX);
    assert_string_equal(v[1].value, "20");
}

static void
test_validate_counts_beyond_max(void **state)
{
    (void)state;
    struct violation v[1];
    assert_int_equal(validate_text("{}", v, 1), 2);
    assert_string_equal(v[0].path, "Name");
}

static void
test_validate_counts_utf16_units(void **state)
{
    (void)state;
    struct violation v[2];
    /* Four characters of which one is outside the BMP: five UTF-16 units, over max 4. */
    assert_int_equal(validate_text("{\"Name\":\"abc\xF0\x9F\x98\x80\",\"Size\":1}", v, 2), 1);
    assert_int_equal(
            validate_text("{\"Name\":\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\",\"Size\":1}", v, 2), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_parse_decodes_plus_and_percent),
        cmocka_unit_test(test_params_get_returns_the_last_duplicate),
        cmocka_unit_test(test_params_parse_rejects_bad_escape_and_keeps_earlier_pairs),
        cmocka_unit_test(test_params_parse_stops_at_n),
        cmocka_unit_test(test_url_decode_keeps_plus),
        cmocka_unit_test(test_time_format_iso8601),
        cmocka_unit_test(test_time_format_rfc1123),
        cmocka_unit_test(test_time_parse_accepts_every_wire_form),
        cmocka_unit_test(test_time_parse_rejects_garbage_and_impossible_dates),
        cmocka_unit_test(test_time_round_trips),
        cmocka_unit_test(test_protocol_for_names_all_four),
        cmocka_unit_test(test_validate_accepts_a_valid_tree),
        cmocka_unit_test(test_validate_reports_missing_members_in_shape_order),
        cmocka_unit_test(test_validate_checks_enum_lengths_and_ranges),
        cmocka_unit_test(test_validate_checks_map_keys_and_values),
        cmocka_unit_test(test_validate_counts_beyond_max),
        cmocka_unit_test(test_validate_counts_utf16_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
