/*
 * stream.c - the toolbar in a streamed HTML page: a content reader that passes the app's bytes
 * through as they come while the incremental scanner (inject.c) watches them, and puts the
 * toolbar's markup right before the real </body>, or at the end when there is none.
 *
 * The reader reads the app's stream (its reader, its closure: held in respmap.c until this
 * response is freed) into MHD's buffer and gives MHD at once every byte before the scanner's
 * safe offset: the insertion point can no longer be before it. What follows (in practice
 * "</body></html>" and a newline, or an unclosed construct at the end of what came so far) is
 * held back until more bytes move the safe offset on, or the stream ends and the scanner says
 * where the markup goes, or that it goes nowhere (the page ends inside a comment, a script...):
 * then the held bytes go out as they are. With a known size the response says the app's size
 * plus the markup's length; when the end says no toolbar, as many spaces go out at the very end
 * in its place (the only change to the page then), so Content-Length holds either way.
 *
 * Unless the request is a browser navigation, the page must start like an HTML document: its
 * first bytes (up to START_BYTES) are held until that can be told. More than HOLD_CAP held
 * bytes (a page with a long tail after its </body>) end the attempt: the bytes go through, the
 * record says why. Every call runs on the connection's thread; the record's fields are set
 * before the request completes (the last read comes first), never after.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define HOLD_CAP (1u << 20)
#define START_BYTES 512

struct stream {
    void *hold; /* on the app's reader and its closure (respmap.c) */
    struct dtbi_stream_src src;
    struct dtb_request *rq; /* NULL once the stream has ended and the record is told */
    struct dtbi_scan sc;
    uint64_t in; /* bytes read from the app */
    char *held;  /* app bytes not given to MHD yet, from held_at */
    size_t nheld, held_off, held_cap;
    uint64_t held_at; /* the app's offset of held[held_off] */
    int through;      /* no toolbar any more: the app's bytes go straight through */
    int check_start;  /* the first bytes must look like an HTML document */
    int known_size;   /* the response says its size: the markup's length is owed at the end */
    char *tail;       /* after the app's end: what is left to give, then the end */
    size_t ntail, tail_pos;
    int ended;
    size_t mlen;
    char markup[];
};

static void stream_free(void *cls)
{
    struct stream *s = cls;
    dtbi_respmap_release(s->hold);
    free(s->held);
    free(s->tail);
    free(s);
}

/* Appends n bytes to the held ones. 0, or -1 when out of memory. */
static int hold_bytes(struct stream *s, const char *p, size_t n)
{
    if (s->held_off > 0 && s->held_off == s->nheld) {
        s->nheld = s->held_off = 0;
    }
    if (s->nheld + n > s->held_cap) {
        if (s->held_off > 0) { /* move the rest to the front first */
            memmove(s->held, s->held + s->held_off, s->nheld - s->held_off);
            s->nheld -= s->held_off;
            s->held_off = 0;
        }
        size_t cap = s->held_cap ? s->held_cap : 4096;
        while (cap < s->nheld + n)
            cap *= 2;
        if (cap > s->held_cap) {
            char *h = realloc(s->held, cap);
            if (h == NULL)
                return -1;
            s->held = h;
            s->held_cap = cap;
        }
    }
    memcpy(s->held + s->nheld, p, n);
    s->nheld += n;
    return 0;
}

/* The record's answer, once: the toolbar is in the page, or why not. */
static void tell(struct stream *s, const char *why)
{
    if (s->rq == NULL)
        return;
    s->rq->resp.injected = why == NULL;
    s->rq->resp.skip_reason = why;
    if (why != NULL)
        dtbi_log_once(why, "toolbar not injected into a streamed HTML page: %s (e.g. %s %s)", why,
                      dtb_request_method(s->rq), dtb_request_path(s->rq));
    s->rq = NULL;
}

/* No toolbar in this page after all: what is held goes out as it is, then the app's bytes. */
static void give_up(struct stream *s, const char *why)
{
    s->through = 1;
    tell(s, why);
}

/* The app's stream ended: the tail is the held bytes with the markup at its place, or the held
 * bytes and (for a known size) spaces in place of the markup. 0, or -1 out of memory. */
static int make_tail(struct stream *s)
{
    size_t n = s->nheld - s->held_off;
    const char *h = s->held != NULL ? s->held + s->held_off : ""; /* n is 0 when NULL */
    long at = -1;
    const char *why = NULL;
    if (!s->through) {
        if (s->check_start && !dtbi_looks_like_html(h, n))
            why = "body does not start like an HTML document";
        else
            at = dtbi_scan_finish(&s->sc, &why);
        if (at >= 0 && ((uint64_t)at < s->held_at || (uint64_t)at > s->held_at + n)) {
            at = -1; /* cannot happen: the safe offset is never past the insertion point */
            why = "streamed page: the insertion point was already sent";
        }
    }
    s->tail = malloc(n + s->mlen + 1);
    if (s->tail == NULL)
        return -1;

    if (at >= 0) {
        size_t k = (size_t)((uint64_t)at - s->held_at);
        memcpy(s->tail, h, k);
        memcpy(s->tail + k, s->markup, s->mlen);
        memcpy(s->tail + k + s->mlen, h + k, n - k);
        s->ntail = n + s->mlen;
        tell(s, NULL);
    } else {
        memcpy(s->tail, h, n);
        s->ntail = n;
        if (s->known_size) { /* the markup's length is owed: spaces, at the very end */
            memset(s->tail + n, ' ', s->mlen);
            s->ntail += s->mlen;
        }
        tell(s, why);
    }
    s->nheld = s->held_off = 0;
    s->ended = 1;
    return 0;
}

/* Gives MHD up to max held bytes that may go out now. Returns how many. */
static size_t give_held(struct stream *s, char *buf, size_t max)
{
    size_t n = s->nheld - s->held_off;
    if (!s->through) {
        if (s->check_start)
            return 0; /* the start is not told yet */
        uint64_t safe = dtbi_scan_safe(&s->sc);
        n = safe > s->held_at ? (size_t)(safe - s->held_at) : 0;
        if (n > s->nheld - s->held_off)
            n = s->nheld - s->held_off;
    }
    if (n > max)
        n = max;
    if (n == 0)
        return 0;
    memcpy(buf, s->held + s->held_off, n);
    s->held_off += n;
    s->held_at += n;
    return n;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    (void)pos; /* MHD asks for the bytes after those it has: this reader keeps its own place */
    for (;;) {
        if (s->ended) {
            size_t n = s->ntail - s->tail_pos;
            if (n == 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
            if (n > max)
                n = max;
            memcpy(buf, s->tail + s->tail_pos, n);
            s->tail_pos += n;
            return (ssize_t)n;
        }
        size_t given = give_held(s, buf, max);
        if (given > 0)
            return (ssize_t)given;
        /* a known size: MHD's own response would not call the reader past it */
        ssize_t r = s->known_size && s->in >= s->src.size
                        ? MHD_CONTENT_READER_END_OF_STREAM
                        : s->src.reader(s->src.cls, s->in, buf, max);
        if (r == MHD_CONTENT_READER_END_OF_STREAM) {
            if (make_tail(s) != 0) {
                tell(s, "out of memory while streaming");
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            continue;
        }
        if (r < 0) { /* the app's error: the response ends as it would have */
            tell(s, "the app's stream ended with an error");
            return r;
        }
        if (r == 0)
            return 0; /* the app has nothing yet */
        size_t n = (size_t)r;
        s->in += n;
        if (!s->through) {
            int64_t t0 = dtb_now_ns();
            dtbi_scan_feed(&s->sc, buf, n);
            if (s->rq != NULL)
                s->rq->times.inject_ns += dtb_now_ns() - t0;
        }
        if (s->nheld == s->held_off &&
            (s->through || (!s->check_start && dtbi_scan_safe(&s->sc) >= s->in))) {
            s->held_at = s->in; /* all of it may go, as MHD already has it */
            return r;
        }
        /* keep what must wait (in order after what is held), then give what may go */
        if (hold_bytes(s, buf, n) != 0) {
            /* out of memory: what was held goes first, these bytes are lost otherwise */
            tell(s, "out of memory while streaming");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (s->check_start && (s->nheld - s->held_off >= START_BYTES)) {
            s->check_start = 0;
            if (!dtbi_looks_like_html(s->held + s->held_off, s->nheld - s->held_off))
                give_up(s, "body does not start like an HTML document");
        }
        if (!s->through && s->nheld - s->held_off > HOLD_CAP)
            give_up(s, "streamed page: more than 1 MiB held back at its end");
    }
}

struct MHD_Response *dtbi_stream_response(struct dtb_request *rq, void *hold,
                                          const struct dtbi_stream_src *src, const char *markup,
                                          size_t mlen, int check_start)
{
    struct stream *s = calloc(1, sizeof(*s) + mlen);
    struct MHD_Response *r;
    if (s == NULL)
        return NULL;
    s->hold = hold;
    s->src = *src;
    s->rq = rq;
    s->check_start = check_start;
    s->known_size = src->size != MHD_SIZE_UNKNOWN;
    s->mlen = mlen;
    memcpy(s->markup, markup, mlen);
    dtbi_scan_init(&s->sc);
    uint64_t size = s->known_size ? src->size + mlen : MHD_SIZE_UNKNOWN;
    r = dtbi_real()->from_callback(size, src->block > 0 ? src->block : 4096, stream_read, s,
                                   stream_free);
    if (r == NULL) {
        s->hold = NULL; /* the caller keeps it */
        stream_free(s);
    }
    return r;
}
