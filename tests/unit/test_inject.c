/*
 * test_inject.c - the injector's body-end finder, data-driven: every folder under
 * tests/data/inject/ holds input.html and expected.html (the input with the marker spliced
 * where the toolbar must go); a `content-type` file marks XHTML; a `no-oracle` file names why
 * libxml2's HTML4 parser cannot judge that case; a `skip-reason` file marks a page that must not
 * get the toolbar and holds the exact reason (expected.html is then the input). libxml2 is the
 * oracle for the rest: every expected page parses with exactly one marker element, whose parent
 * is body. The incremental scanner must give the buffered answer for every case page, a table of
 * pages ending in each of its states and the fuzzer's saved inputs, however they are cut into
 * chunks, and its streaming-safe offset must never pass the insertion point. It also holds the
 * finder to linear time on the pathological families of a quadratic scan, whole and fed one byte
 * at a time.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "internal.h"

static const char MARKER[] = "<dtb-toolbar id=\"dtb-root\"></dtb-toolbar>";

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int exists(const char *dir, const char *name)
{
    char path[1100];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f != NULL)
        fclose(f);
    return f != NULL;
}

/* The oracle: libxml2's HTML parser sees one marker element, directly under body. */
static void oracle(const char *name, const char *html, size_t len)
{
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "utf-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                        HTML_PARSE_RECOVER);
    ck_assert_msg(doc != NULL, "%s: libxml2 could not parse", name);
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    xmlXPathObjectPtr all = xmlXPathEvalExpression(BAD_CAST "//dtb-toolbar", x);
    xmlXPathObjectPtr under = xmlXPathEvalExpression(BAD_CAST "//body/dtb-toolbar", x);
    int n_all = all->nodesetval ? all->nodesetval->nodeNr : 0;
    int n_under = under->nodesetval ? under->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(all);
    xmlXPathFreeObject(under);
    xmlXPathFreeContext(x);
    xmlFreeDoc(doc);
    ck_assert_msg(n_all == 1, "%s: libxml2 sees %d toolbar roots", name, n_all);
    ck_assert_msg(n_under == 1, "%s: libxml2 does not see the toolbar under body", name);
}

static int ncases;

START_TEST(test_cases)
{
    const char *root = TEST_DATA_DIR "/inject";
    DIR *d = opendir(root);
    struct dirent *e;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char dir[1024], path[1100];
        size_t in_len, exp_len;
        if (e->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
        snprintf(path, sizeof(path), "%s/input.html", dir);
        char *in = slurp(path, &in_len);
        snprintf(path, sizeof(path), "%s/expected.html", dir);
        char *exp = slurp(path, &exp_len);
        ck_assert_msg(in != NULL && exp != NULL, "%s: missing input or expected", e->d_name);
        int xhtml = exists(dir, "content-type");
        const char *why = NULL;
        long at =
            xhtml ? dtbi_xhtml_body_end(in, in_len) : dtbi_html_insert_point(in, in_len, &why);
        size_t reason_len = 0;
        snprintf(path, sizeof(path), "%s/skip-reason", dir);
        char *reason = slurp(path, &reason_len);
        if (reason != NULL) {
            while (reason_len > 0 && reason[reason_len - 1] == '\n')
                reason[--reason_len] = '\0';
            ck_assert_msg(at < 0 && why != NULL && strcmp(why, reason) == 0,
                          "%s: want a skip for \"%s\", got %ld (%s)", e->d_name, reason, at,
                          why ? why : "no reason");
            free(reason);
        } else {
            ck_assert_msg(why == NULL, "%s: skipped: %s", e->d_name, why);
        }
        char *got;
        size_t got_len;
        if (at < 0) { /* not injected */
            got = malloc(in_len + 1);
            memcpy(got, in, in_len);
            got_len = in_len;
        } else {
            ck_assert_msg((size_t)at <= in_len, "%s: offset past the end", e->d_name);
            got_len = in_len + strlen(MARKER);
            got = malloc(got_len + 1);
            memcpy(got, in, (size_t)at);
            memcpy(got + at, MARKER, strlen(MARKER));
            memcpy(got + at + strlen(MARKER), in + at, in_len - (size_t)at);
        }
        got[got_len] = '\0';
        ck_assert_msg(got_len == exp_len && memcmp(got, exp, exp_len) == 0,
                      "%s: toolbar placed at %ld; got\n%s\nexpected\n%s", e->d_name, at, got, exp);
        if (!xhtml && !exists(dir, "no-oracle") && !exists(dir, "skip-reason"))
            oracle(e->d_name, exp, exp_len);
        free(in);
        free(exp);
        free(got);
        ncases++;
    }
    closedir(d);
    ck_assert_int_ge(ncases, 30);
}
END_TEST

/* ---- the incremental scanner ------------------------------------------------------------ */

/* Feeds page in the chunks whose sizes sizes[] gives (0 = the rest; a size past the end is cut),
 * checking after every chunk that the streaming-safe offset never decreases and never passes
 * the buffered insertion point; the whole stream's answer must be the buffered one. */
static void feed_chunks(const char *name, const char *page, size_t len, const size_t *sizes,
                        size_t nsizes, const char *how)
{
    const char *want_why = NULL, *why = NULL;
    long want = dtbi_html_insert_point(page, len, &want_why);
    size_t want_end = dtbi_find_body_end(page, len);
    struct dtbi_scan sc;
    size_t i = 0, k = 0, safe = 0;
    dtbi_scan_init(&sc);
    while (i < len) {
        size_t n = k < nsizes && sizes[k] > 0 ? sizes[k] : len - i;
        if (n > len - i)
            n = len - i;
        k++;
        dtbi_scan_feed(&sc, page + i, n);
        i += n;
        size_t now = dtbi_scan_safe(&sc);
        ck_assert_msg(now >= safe && now <= i, "%s (%s): safe offset %zu after %zu (was %zu)", name,
                      how, now, i, safe);
        ck_assert_msg(want < 0 || now <= (size_t)want,
                      "%s (%s): safe offset %zu after %zu bytes passes the insertion point %ld",
                      name, how, now, i, want);
        safe = now;
    }
    long got = dtbi_scan_finish(&sc, &why);
    ck_assert_msg(got == want && why == want_why, "%s (%s): streamed %ld (%s), buffered %ld (%s)",
                  name, how, got, why ? why : "-", want, want_why ? want_why : "-");
    ck_assert_msg(dtbi_scan_body_end(&sc) == want_end, "%s (%s): body end %zu, buffered %zu", name,
                  how, dtbi_scan_body_end(&sc), want_end);
    if (want >= 0) /* all of it can go out once the page is known to end */
        ck_assert_uint_le(dtbi_scan_safe(&sc), (size_t)want);
}

/* Every chunking the streaming test tries: whole, two chunks split at every byte (a sample of
 * splits past 4 KB), one byte at a time, and random chunk sizes from a fixed seed. */
static void every_chunking(const char *name, const char *page, size_t len)
{
    size_t sizes[2];
    unsigned seed = 4242;
    feed_chunks(name, page, len, NULL, 0, "whole");
    size_t step = len <= 4096 ? 1 : len / 4096;
    for (size_t cut = 0; cut <= len; cut += step) {
        sizes[0] = cut;
        sizes[1] = 0;
        /* a zero first size means "the rest": feed an empty chunk first instead */
        if (cut == 0) {
            struct dtbi_scan sc;
            const char *why = NULL, *want_why = NULL;
            dtbi_scan_init(&sc);
            dtbi_scan_feed(&sc, page, 0);
            dtbi_scan_feed(&sc, page, len);
            ck_assert_int_eq(dtbi_scan_finish(&sc, &why),
                             dtbi_html_insert_point(page, len, &want_why));
            ck_assert_ptr_eq(why, want_why);
            continue;
        }
        char how[64];
        snprintf(how, sizeof(how), "split at %zu", cut);
        feed_chunks(name, page, len, sizes, 2, how);
    }
    size_t *ones = malloc((len + 1) * sizeof(*ones));
    for (size_t i = 0; i <= len; i++)
        ones[i] = 1;
    feed_chunks(name, page, len, ones, len + 1, "1-byte chunks");
    for (int round = 0; round < 20; round++) {
        size_t n = 0;
        for (size_t total = 0; total < len && n <= len; n++) {
            seed = seed * 1103515245u + 12345u;
            ones[n] = 1 + (seed >> 16) % (round < 10 ? 8 : 64);
            total += ones[n];
        }
        char how[64];
        snprintf(how, sizeof(how), "random chunking %d", round);
        feed_chunks(name, page, len, ones, n, how);
    }
    free(ones);
}

/* Pages ending in every state of the scanner (and some </body>s), with the buffered answer:
 * the insertion offset, or -1 and the reason. */
static const struct {
    const char *page;
    long at;
    const char *why;
} table[] = {
    {"<html><body><p>x</p></body></html>", 20, NULL},
    {"<body>x", 7, NULL},
    {"<body>x<", 8, NULL},
    {"<body>x<!", 7, NULL},
    {"<body>x<!-", 7, NULL},
    {"<body>x<!--", 7, NULL},
    {"<body>x<!---", 7, NULL},
    {"<body>x<!-- a -- b --!", 7, NULL},
    {"<body>x<!-- a --!></body>", 18, NULL},
    {"<body>x<!---></body>", 13, NULL},
    {"<body>x<?php", 7, NULL},
    {"<body>x</", 7, NULL},
    {"<body>x</>y", 11, NULL},
    {"<body>x</bo", 7, NULL},
    {"<body>x</body", 7, NULL},
    {"<body>x</body a='>", 7, NULL},
    {"<body>x<p a=\"b", 7, NULL},
    {"<body>x<p a='b", 7, NULL},
    {"<body>x<p a=b", 7, NULL},
    {"<body>x<p a =", 7, NULL},
    {"<head><!--", -1, "page ends inside a comment"},
    {"<body><script>a</scr", -1, "page ends inside <script>"},
    {"<body><script>a</script", -1, "page ends inside <script>"},
    {"<body><script>a</script a='>", -1, "page ends inside <script>"},
    {"<body><script><!--<script></script></body>", -1, "page ends inside <script>"},
    {"<body><script><!--<script></script>--></script></body>", 47, NULL},
    {"<body><script><!--></script></body>", 28, NULL},
    {"<body><script><!---></script></body>", 29, NULL},
    {"<body><script><!-- </script>--></body>", 31, NULL},
    {"<body><textarea></body></textare", -1, "page ends inside <textarea>"},
    {"<body><title></title ", -1, "page ends inside <title>"},
    {"<body><plaintext></body>", -1, "page ends inside <plaintext>"},
    {"<body><select></body>", -1, "page ends inside <select>"},
    {"<body><template></body>", -1, "page ends inside <template>"},
    {"<body><svg><![CDATA[</body>", -1, "page ends inside <svg>"},
    {"<body><svg><![CDATA[</body>]]></svg></body>", 36, NULL},
    {"<body><svg><![CDA", -1, "page ends inside <svg>"},
    {"<body><math><p></body>", 15, NULL},
    {"<body><table><tr><td>x", -1, "page ends inside <table>"},
    {"<body><title\x01></title></body>", 22, NULL},
    {"<body><title\x00x></title></body>", 23, NULL}, /* a NUL makes it no title */
};

START_TEST(test_streaming)
{
    /* the table, buffered */
    for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
        const char *why = NULL;
        size_t len = strlen(table[k].page);
        if (k == sizeof(table) / sizeof(table[0]) - 1)
            len = 30; /* the NUL is part of that page */
        long at = dtbi_html_insert_point(table[k].page, len, &why);
        ck_assert_msg(at == table[k].at &&
                          (why == NULL ? table[k].why == NULL
                                       : table[k].why != NULL && strcmp(why, table[k].why) == 0),
                      "table %zu \"%s\": got %ld (%s)", k, table[k].page, at, why ? why : "-");
        every_chunking(table[k].page, table[k].page, len);
    }
    /* every case page and the fuzzer's saved inputs (after the byte that picks the type) */
    static const char *const dirs[] = {TEST_DATA_DIR "/inject", TEST_DATA_DIR "/fuzz/fuzz_inject"};
    int pages = 0;
    for (int d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *e;
        ck_assert_ptr_nonnull(dir);
        while ((e = readdir(dir)) != NULL) {
            char path[1100];
            size_t len;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), d == 0 ? "%s/%s/input.html" : "%s/%s", dirs[d], e->d_name);
            char *page = slurp(path, &len);
            ck_assert_msg(page != NULL, "%s: unreadable", path);
            if (d == 1 && len > 0)
                every_chunking(e->d_name, page + 1, len - 1);
            else
                every_chunking(e->d_name, page, len);
            free(page);
            pages++;
        }
        closedir(dir);
    }
    ck_assert_int_ge(pages, 30);
}
END_TEST

START_TEST(test_looks_like_html)
{
    ck_assert_int_eq(dtbi_looks_like_html("<!DOCTYPE html><html>", 21), 1);
    ck_assert_int_eq(dtbi_looks_like_html("\xEF\xBB\xBF  <!doctype html>", 20), 1);
    ck_assert_int_eq(dtbi_looks_like_html("\n<!-- c --> <html>", 18), 1);
    ck_assert_int_eq(dtbi_looks_like_html("<?xml version=\"1.0\"?>", 21), 1);
    ck_assert_int_eq(dtbi_looks_like_html("<p>x</p>", 8), 1);
    ck_assert_int_eq(dtbi_looks_like_html("{\"a\": 1}", 8), 0);
    ck_assert_int_eq(dtbi_looks_like_html("[1,2]", 5), 0);
    ck_assert_int_eq(dtbi_looks_like_html("plain text", 10), 0);
    ck_assert_int_eq(dtbi_looks_like_html("\x00\x01\x02\xff", 4), 0);
    ck_assert_int_eq(dtbi_looks_like_html("<", 1), 0);
    ck_assert_int_eq(dtbi_looks_like_html("", 0), 0);
    ck_assert_int_eq(dtbi_looks_like_html("< 3", 3), 0);
    ck_assert_int_eq(dtbi_looks_like_html("<!-- never closed", 17), 0);
}
END_TEST

START_TEST(test_random_robust)
{
    /* Mutated pages (fixed seed): the finder stays in bounds, is deterministic, and agrees
     * with itself on a copy without trailing bytes beyond the answer's reach. */
    static const char seed[] = "<!DOCTYPE html><html><head><title>t</title><script>var a='"
                               "</body>';<!--<script></script>--></script></head><body><p a="
                               "\"x>\"><!-- c --><textarea></body></textarea></body></html>";
    char buf[sizeof(seed)];
    unsigned s = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, seed, sizeof(seed));
        size_t len = sizeof(seed) - 1;
        for (int k = 0; k < 6; k++) {
            s = s * 1103515245u + 12345u;
            size_t pos = (s >> 8) % len;
            s = s * 1103515245u + 12345u;
            static const char alphabet[] = "<>/!-\"'=bodyscript \n\x00\xff";
            buf[pos] = alphabet[(s >> 8) % (sizeof(alphabet) - 1)];
        }
        s = s * 1103515245u + 12345u;
        size_t cut = len - (s >> 8) % 16;
        size_t a = dtbi_find_body_end(buf, cut);
        ck_assert_uint_le(a, cut);
        ck_assert_uint_eq(a, dtbi_find_body_end(buf, cut));
        if (a < cut)
            ck_assert(buf[a] == '<' && buf[a + 1] == '/');
        ck_assert_int_le(dtbi_looks_like_html(buf, cut), 1);
    }
}
END_TEST

START_TEST(test_large_page)
{
    size_t n = 1 << 20;
    char *page = malloc(n);
    static const char head[] = "<html><body>";
    static const char tail[] = "</body></html>";
    memset(page, 'a', n);
    memcpy(page, head, sizeof(head) - 1);
    for (size_t i = 100; i + 10 < n; i += 97)
        memcpy(page + i, "<p>x</p>", 8);
    memcpy(page + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    ck_assert_uint_eq(dtbi_find_body_end(page, n), n - (sizeof(tail) - 1));
    free(page);
}
END_TEST

/* ---- linear time ---------------------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* n bytes: prefix, then unit repeated, then spaces. */
static char *repeated(const char *prefix, const char *unit, size_t n)
{
    size_t k = strlen(prefix), u = strlen(unit);
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    memcpy(p, prefix, k);
    while (k + u <= n) {
        memcpy(p + k, unit, u);
        k += u;
    }
    memset(p + k, ' ', n - k);
    return p;
}

/* Best of several runs of the finder over a page, in ns. */
static double best_ns(const char *page, size_t n)
{
    double best = 1e300;
    for (int r = 0; r < 9; r++) {
        int64_t t0 = now_ns();
        volatile size_t at = dtbi_find_body_end(page, n);
        (void)at;
        double d = (double)(now_ns() - t0);
        if (d < best)
            best = d;
    }
    return best;
}

/* Best of runs of the incremental scanner fed one byte at a time, in ns. */
static double best_ns_bytewise(const char *page, size_t n, int runs)
{
    double best = 1e300;
    for (int r = 0; r < runs; r++) {
        struct dtbi_scan sc;
        int64_t t0 = now_ns();
        dtbi_scan_init(&sc);
        for (size_t i = 0; i < n; i++)
            dtbi_scan_feed(&sc, page + i, 1);
        volatile size_t at = dtbi_scan_body_end(&sc);
        (void)at;
        double d = (double)(now_ns() - t0);
        if (d < best)
            best = d;
    }
    return best;
}

START_TEST(test_linear_time)
{
    /* The pathological families of a quadratic scanner (each '-' of "<script><!--- - - ..."
     * once started a search over the rest of the page: 3.7 s for 1 MB), each timed against
     * plain text of the same size. Plain text for a family that holds no '<' is letters; for
     * one that does it is letters with as many ordinary tags ("<b>") as the family has '<',
     * since every tokenizer must look at every '<'. Fails when a family costs more than 3
     * times its plain twin (each figure the best of 9 runs, both measured in this run). */
    static const char *const families[][2] = {
        {"<script><!--", "- "},        {"<!--", "-"},
        {"<html><body>", "</textare"}, {"<textarea>", "</textare"},
        {"<title>", "</titl"},         {"<script>", "<script>"},
        {"<script><!--", "<script>"},  {"<script><!--<script>", "</script"},
        {"<svg><![CDATA[", "]]"},      {"<body>", "<svg><![CDATA["},
        {"<p title=\"", "- <!-- "},    {"<style>", "</styl"},
    };
    const size_t n = 1 << 20;
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        const char *unit = families[f][1];
        size_t u = strlen(unit);
        char plain_unit[32];
        ck_assert_uint_lt(u, sizeof(plain_unit));
        memset(plain_unit, 'x', u);
        plain_unit[u] = '\0';
        if (strchr(unit, '<') != NULL) {
            ck_assert_uint_ge(u, 3);
            memcpy(plain_unit, "<b>", 3);
        }
        char *page = repeated(families[f][0], unit, n);
        char *plain = repeated("<html><body>", plain_unit, n);
        double t_plain = best_ns(plain, n), t_page = best_ns(page, n);
        /* once more for both if the first look is over, so that a busy moment is not a failure */
        if (t_page > 3 * t_plain) {
            t_plain = best_ns(plain, n);
            t_page = best_ns(page, n);
        }
        ck_assert_msg(t_page <= 3 * t_plain,
                      "\"%s\" + \"%s\"... (1 MB) took %.0f us, plain text of that size %.0f us "
                      "(ratio %.1f > 3)",
                      families[f][0], unit, t_page / 1000, t_plain / 1000, t_page / t_plain);
        /* the same fed one byte at a time (128 KB of it): a construct that spans many chunks
         * must not be rescanned from its start on each one */
        const size_t m = n / 8;
        t_plain = best_ns_bytewise(plain, m, 9);
        t_page = best_ns_bytewise(page, m, 9);
        if (t_page > 3 * t_plain) {
            t_plain = best_ns_bytewise(plain, m, 9);
            t_page = best_ns_bytewise(page, m, 9);
        }
        ck_assert_msg(t_page <= 3 * t_plain,
                      "\"%s\" + \"%s\"... (128 KB, 1-byte chunks) took %.0f us, plain text %.0f "
                      "us (ratio %.1f > 3)",
                      families[f][0], unit, t_page / 1000, t_plain / 1000, t_page / t_plain);
        free(page);
        free(plain);
    }
}
END_TEST

int main(void)
{
    xmlInitParser();
    Suite *s = suite_create("inject");
    TCase *tc = tcase_create("scanner");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cases);
    tcase_add_test(tc, test_streaming);
    tcase_add_test(tc, test_looks_like_html);
    tcase_add_test(tc, test_random_robust);
    tcase_add_test(tc, test_large_page);
    tcase_add_test(tc, test_linear_time);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    xmlCleanupParser();
    return failed == 0 ? 0 : 1;
}
