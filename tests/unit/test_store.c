/*
 * test_store.c - unit tests for the memory history store: order, eviction by count and by
 * bytes, lookups of evicted ids, a concurrent writer run that must stay exactly bounded, and
 * a record being built on a history read while the app's requests keep storing theirs.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static void put(struct dtbi_store *s, const char *id, const char *record)
{
    json_t *sum = json_pack("{s:s}", "id", id);
    ck_assert_int_eq(s->ops->put(s, id, sum, record), DTB_OK);
    json_decref(sum);
}

START_TEST(test_order_and_evict)
{
    struct dtbi_store *s = dtbi_store_mem_create(3, 1 << 20);
    char id[17];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "%016d", i);
        put(s, id, "{\"x\":1}");
    }
    json_t *list = s->ops->list(s);
    ck_assert_int_eq(json_array_size(list), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "id")),
                     "0000000000000004");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 2), "id")),
                     "0000000000000002");
    json_decref(list);
    ck_assert_ptr_null(s->ops->get(s, "0000000000000001"));
    char *r = s->ops->get(s, "0000000000000003");
    ck_assert_str_eq(r, "{\"x\":1}");
    free(r);
    s->ops->destroy(s);
}
END_TEST

START_TEST(test_byte_cap)
{
    struct dtbi_store *s = dtbi_store_mem_create(100, 8192);
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char id[17];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "%016d", i);
        put(s, id, big);
    }
    json_t *list = s->ops->list(s);
    ck_assert_int_le(json_array_size(list), 2);
    ck_assert_int_ge(json_array_size(list), 1);
    json_decref(list);
    /* a record larger than the whole store is refused, not stored */
    char *huge = malloc(20000);
    memset(huge, 'b', 19999);
    huge[19999] = '\0';
    json_t *sum = json_object();
    ck_assert_int_eq(s->ops->put(s, "ffffffffffffffff", sum, huge), DTB_ESTORE);
    json_decref(sum);
    free(huge);
    s->ops->destroy(s);
}
END_TEST

struct writer {
    struct dtbi_store *s;
    int base;
};

static void *write_many(void *arg)
{
    struct writer *w = arg;
    char id[17];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof(id), "%08d%08d", w->base, i);
        json_t *sum = json_pack("{s:s}", "id", id);
        w->s->ops->put(w->s, id, sum, "{}");
        json_decref(sum);
        if (i % 50 == 0)
            json_decref(w->s->ops->list(w->s));
    }
    return NULL;
}

START_TEST(test_concurrent_bounded)
{
    struct dtbi_store *s = dtbi_store_mem_create(25, 1 << 20);
    pthread_t t[4];
    struct writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i].s = s;
        w[i].base = i;
        pthread_create(&t[i], NULL, write_many, &w[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    json_t *list = s->ops->list(s);
    ck_assert_int_eq(json_array_size(list), 25);
    json_decref(list);
    s->ops->destroy(s);
}
END_TEST

/* A panel whose to_json waits (10 s at most) until the test has stored another record. */
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static int slow_building, slow_put_done, slow_put_seen;

static json_t *slow_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&slow_lock);
    slow_building = 1;
    pthread_cond_broadcast(&slow_cond);
    while (!slow_put_done && pthread_cond_timedwait(&slow_cond, &slow_lock, &until) != ETIMEDOUT) {
    }
    slow_put_seen = slow_put_done;
    pthread_mutex_unlock(&slow_lock);
    return json_object();
}

static const struct dtb_panel_ops slow_panel = {
    .abi = DTB_PANEL_ABI, .id = "slow", .title = "Slow", .to_json = slow_to_json};

static void *list_thread(void *arg)
{
    struct dtbi_store *s = arg;
    return s->ops->list(s);
}

START_TEST(test_build_outside_lock)
{
    static struct dtb_toolbar tb;
    const struct dtb_panel_ops *panels[] = {&slow_panel};
    void *states[] = {NULL};
    struct dtb_error err = {0};
    ck_assert_int_eq(dtbi_config_load(&tb.cfg, NULL, "test", &err), DTB_OK);
    tb.enabled_panels = panels;
    tb.panel_states = states;
    tb.nenabled = 1;
    struct dtbi_store *s = dtbi_store_mem_create(25, 1 << 20);
    struct dtb_request *rq = calloc(1, sizeof(*rq));
    rq->tb = &tb;
    snprintf(rq->id, sizeof(rq->id), "00000000000000aa");
    ck_assert_int_eq(s->ops->put_request(s, rq), DTB_OK);
    /* a history read builds that record; meanwhile the app stores another one */
    pthread_t t;
    pthread_create(&t, NULL, list_thread, s);
    pthread_mutex_lock(&slow_lock);
    while (!slow_building)
        pthread_cond_wait(&slow_cond, &slow_lock);
    pthread_mutex_unlock(&slow_lock);
    put(s, "00000000000000bb", "{}");
    pthread_mutex_lock(&slow_lock);
    slow_put_done = 1;
    pthread_cond_broadcast(&slow_cond);
    pthread_mutex_unlock(&slow_lock);
    json_t *list;
    pthread_join(t, (void **)&list);
    ck_assert_msg(slow_put_seen, "storing a record waited for a history read to build another");
    ck_assert_int_ge(json_array_size(list), 1);
    json_decref(list);
    list = s->ops->list(s);
    ck_assert_int_eq(json_array_size(list), 2);
    json_decref(list);
    char *r = s->ops->get(s, "00000000000000aa");
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(strstr(r, "\"slow\":{}"));
    free(r);
    s->ops->destroy(s);
    dtbi_config_free(&tb.cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("memory");
    tcase_add_test(tc, test_order_and_evict);
    tcase_add_test(tc, test_byte_cap);
    tcase_add_test(tc, test_concurrent_bounded);
    tcase_add_test(tc, test_build_outside_lock);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
