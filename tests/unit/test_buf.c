/*
 * test_buf.c - unit tests for toolbar/buf.c: growth, formatting, HTML escaping, failure latch.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

START_TEST(test_append_and_grow)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(dtb_buf_append_str(&b, "abc"), 0);
    ck_assert_uint_eq(b.len, 3000);
    ck_assert_uint_eq(strlen(b.data), 3000);
    ck_assert_int_eq(dtb_buf_appendf(&b, "%d-%s", 42, "x"), 0);
    ck_assert_str_eq(b.data + 3000, "42-x");
    dtb_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.data, "");
    dtb_buf_free(&b);
}
END_TEST

START_TEST(test_appendf_long)
{
    struct dtb_buf b;
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    dtb_buf_init(&b);
    ck_assert_int_eq(dtb_buf_appendf(&b, "[%s]", big), 0);
    ck_assert_uint_eq(b.len, 1001);
    ck_assert_int_eq(b.data[0], '[');
    ck_assert_int_eq(b.data[1000], ']');
    dtb_buf_free(&b);
}
END_TEST

START_TEST(test_html_escape)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    dtb_buf_append_html_str(&b, "<script>alert('x' & \"y\")</script>");
    ck_assert_str_eq(b.data, "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;");
    dtb_buf_reset(&b);
    dtb_buf_append_html_str(&b, "caf\xC3\xA9 \xE2\x82\xAC");
    ck_assert_str_eq(b.data, "caf\xC3\xA9 \xE2\x82\xAC");
    dtb_buf_reset(&b);
    dtb_buf_append_html(&b,
                        "a\xFF"
                        "b\xC3",
                        4); /* invalid byte, truncated sequence */
    ck_assert_str_eq(b.data, "a\xEF\xBF\xBD"
                             "b\xEF\xBF\xBD");
    dtb_buf_reset(&b);
    dtb_buf_append_html(&b, "a\0b", 3);
    ck_assert_str_eq(b.data, "a\xEF\xBF\xBD"
                             "b");
    dtb_buf_reset(&b);
    dtb_buf_append_html_str(&b, "\xED\xA0\x80"); /* a UTF-16 surrogate is not UTF-8 */
    ck_assert_str_eq(b.data, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    dtb_buf_free(&b);
}
END_TEST

START_TEST(test_steal)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    char *s = dtb_buf_steal(&b);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    free(s);
    dtb_buf_append_str(&b, "hello");
    s = dtb_buf_steal(&b);
    ck_assert_str_eq(s, "hello");
    ck_assert_ptr_null(b.data);
    free(s);
}
END_TEST

START_TEST(test_failure_latch)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    ck_assert_int_eq(dtb_buf_reserve(&b, SIZE_MAX - 2), -1);
    ck_assert_int_eq(b.failed, 1);
    ck_assert_int_eq(dtb_buf_append_str(&b, "x"), -1);
    ck_assert_ptr_null(dtb_buf_steal(&b));
}
END_TEST

START_TEST(test_error_first_wins)
{
    struct dtb_error err;
    char out[256];
    dtb_error_clear(&err);
    dtbi_error_set(&err, DTB_ECONFIG, "a.json", 3, 14, "hosts", "bad %s", "cidr");
    dtbi_error_set(&err, DTB_ENOMEM, "b.json", 1, 1, "x", "second");
    ck_assert_int_eq(err.code, DTB_ECONFIG);
    ck_assert_str_eq(dtb_error_format(&err, out, sizeof(out)),
                     "a.json:3:14: key 'hosts': bad cidr");
    ck_assert_int_eq(dtbi_error_set(NULL, DTB_EIO, NULL, 0, 0, NULL, "x"), DTB_EIO);
    ck_assert_str_eq(dtb_strerror(DTB_ENOMEM), "out of memory");
    ck_assert_str_eq(dtb_strerror((dtb_rc)999), "unknown error");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_append_and_grow);
    tcase_add_test(tc, test_appendf_long);
    tcase_add_test(tc, test_html_escape);
    tcase_add_test(tc, test_steal);
    tcase_add_test(tc, test_failure_latch);
    tcase_add_test(tc, test_error_first_wins);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
