/* vf-stream: a timestamped UDP packet stream in both directions between a
 * peer (in the test's physical-network namespace) and a guest, for
 * measuring what a live migration loses. Plain libc only: the guest copy is
 * linked statically and runs from the test guest's initramfs.
 *
 *   vf-stream reflect [--port N]
 *       Guest side. Records which peer packets arrive and sends its own
 *       stream back to the peer at the rate the peer asks for.
 *   vf-stream peer --to ADDR[:PORT] [--rate PPS] [--duration SEC]
 *                  [--raw FILE] [--ready-file FILE] [--label L]
 *                  [--window START,END]... [--window-file FILE] [--slack-ms MS]
 *       Peer side. Streams until --duration or SIGINT/SIGTERM, collects the
 *       guest's receive record, writes the raw record and prints the result.
 *   vf-stream analyze --raw FILE [--label L] [--window ...] [--window-file F]
 *       Prints the result for a raw record written by `peer --raw`.
 *
 * Times are CLOCK_REALTIME of the host (the clock QEMU stamps its QMP events
 * with), so windows from QEMU's STOP/RESUME events compare directly.
 * Result line (one, on stdout):
 *   vf-stream: label=L fwd_sent=N fwd_lost=N fwd_lost_outside=N
 *     fwd_longest_gap_ms=F fwd_ok_before=N fwd_ok_after=N rev_sent=N rev_lost=N
 *     rev_lost_outside=N rev_longest_gap_ms=F rev_ok_before=N rev_ok_after=N
 *     window_ms=F lost=N lost_outside=N
 * ("fwd" = peer to guest, "rev" = guest to peer; "outside" = not inside any
 * window; *_ok_before/after = packets delivered before the first window and
 * after the last one.) With --gaps, each run of consecutive lost packets is
 * printed first: "vf-stream: gap dir=fwd|rev from_ms=F to_ms=F lost=N",
 * times relative to the first window's start (or the stream's start).
 * Exit status: 0, 1 if the guest's receive record could not be fetched,
 * 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VFS_MAGIC 0x56465331u           /* "VFS1" */
#define VFS_DEFAULT_PORT 7100
#define VFS_MAX_SEQ (1u << 20)          /* ~2.9 h at 100 pps */
#define VFS_CHUNK_BYTES 1024            /* bitmap bytes per report packet */
#define VFS_MAX_WINDOWS 64
#define VFS_IDLE_STOP_NS (10LL * 1000000000LL)

enum {
    VFS_DATA_FWD = 1,   /* peer -> guest stream packet */
    VFS_DATA_REV = 2,   /* guest -> peer stream packet */
    VFS_REPORT_REQ = 3, /* peer asks for a bitmap chunk (aux = first seq) */
    VFS_REPORT = 4,     /* guest answers with one chunk */
    VFS_STOP = 5,       /* peer: stop sending the reverse stream */
};

/* On the wire, all fields big-endian. */
struct vfs_hdr {
    uint32_t magic;
    uint32_t type;
    uint32_t session;
    uint32_t seq;
    uint64_t tx_ns;
    uint32_t rate;      /* FWD: reverse rate asked for */
    uint32_t aux;       /* REPORT_REQ/REPORT: first seq of the chunk */
    uint32_t count_a;   /* REPORT: reverse packets sent by the guest */
    uint32_t count_b;   /* REPORT: forward packets received (distinct) */
    uint32_t len;       /* REPORT: bitmap bytes that follow */
    uint32_t pad;
};

struct vfs_window {
    double start;
    double end;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t
now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Waits until fd is readable or timeout_ns passes (< 0: forever), with
 * nanosecond resolution: poll()'s milliseconds cap the rate near 1,000 pps. */
static bool
wait_readable(int fd, int64_t timeout_ns)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    struct timespec ts;

    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
    }
    return ppoll(&pfd, 1, timeout_ns >= 0 ? &ts : NULL, NULL) > 0 && (pfd.revents & POLLIN);
}

static uint64_t
hton64(uint64_t v)
{
    return ((uint64_t)htonl((uint32_t)v) << 32) | htonl((uint32_t)(v >> 32));
}

static void
hdr_encode(struct vfs_hdr *h)
{
    h->magic = htonl(h->magic);
    h->type = htonl(h->type);
    h->session = htonl(h->session);
    h->seq = htonl(h->seq);
    h->tx_ns = hton64(h->tx_ns);
    h->rate = htonl(h->rate);
    h->aux = htonl(h->aux);
    h->count_a = htonl(h->count_a);
    h->count_b = htonl(h->count_b);
    h->len = htonl(h->len);
}

/* Decoding is the same byte swap. */
static bool
hdr_decode(struct vfs_hdr *h, size_t n)
{
    if (n < sizeof(*h))
        return false;
    hdr_encode(h);
    return h->magic == VFS_MAGIC;
}

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "vf-stream: out of memory\n");
        exit(1);
    }
    return p;
}

static bool
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- guest */

struct reflect_state {
    uint32_t session;
    uint8_t *bitmap;            /* forward seqs received */
    uint32_t fwd_rcvd;
    uint32_t rev_seq;           /* reverse packets sent */
    uint32_t rate;
    bool sending;
    int64_t last_rx;            /* CLOCK_MONOTONIC */
    int64_t next_tx;
    struct sockaddr_storage peer;
    socklen_t peer_len;
};

static void
reflect_send(int fd, struct reflect_state *st, const void *buf, size_t len)
{
    if (sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&st->peer, st->peer_len) < 0 &&
        errno != EAGAIN && errno != ENETUNREACH && errno != EHOSTUNREACH &&
        errno != ENOBUFS && errno != ECONNREFUSED)
        perror("vf-stream: sendto");
}

static void
reflect_packet(int fd, struct reflect_state *st, struct vfs_hdr *h,
               const struct sockaddr_storage *from, socklen_t fromlen)
{
    if (h->type != VFS_DATA_FWD && h->type != VFS_REPORT_REQ && h->type != VFS_STOP)
        return;
    if (h->session != st->session) {
        if (h->type != VFS_DATA_FWD)
            return;
        /* A new session: forget the old one. */
        st->session = h->session;
        memset(st->bitmap, 0, VFS_MAX_SEQ / 8);
        st->fwd_rcvd = 0;
        st->rev_seq = 0;
        st->sending = false;
    }
    memcpy(&st->peer, from, fromlen);
    st->peer_len = fromlen;
    st->last_rx = now_ns(CLOCK_MONOTONIC);

    if (h->type == VFS_DATA_FWD) {
        if (h->seq < VFS_MAX_SEQ && !(st->bitmap[h->seq / 8] & (1u << (h->seq % 8)))) {
            st->bitmap[h->seq / 8] |= 1u << (h->seq % 8);
            st->fwd_rcvd++;
        }
        if (!st->sending && h->rate > 0) {
            st->sending = true;
            st->next_tx = st->last_rx;
        }
        st->rate = h->rate;
    } else if (h->type == VFS_STOP) {
        st->sending = false;
    } else {
        unsigned char buf[sizeof(struct vfs_hdr) + VFS_CHUNK_BYTES];
        struct vfs_hdr *r = (struct vfs_hdr *)buf;
        uint32_t first = h->aux - h->aux % 8;
        uint32_t len = VFS_CHUNK_BYTES;

        if (first >= VFS_MAX_SEQ)
            return;
        if (first / 8 + len > VFS_MAX_SEQ / 8)
            len = VFS_MAX_SEQ / 8 - first / 8;
        memset(r, 0, sizeof(*r));
        r->magic = VFS_MAGIC;
        r->type = VFS_REPORT;
        r->session = st->session;
        r->aux = first;
        r->count_a = st->rev_seq;
        r->count_b = st->fwd_rcvd;
        r->len = len;
        hdr_encode(r);
        memcpy(buf + sizeof(*r), st->bitmap + first / 8, len);
        reflect_send(fd, st, buf, sizeof(*r) + len);
    }
}

static int
cmd_reflect(int argc, char **argv)
{
    unsigned long port = VFS_DEFAULT_PORT;
    struct reflect_state st;
    struct sockaddr_in6 addr;
    int fd, off = 0;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            if (!parse_uint(argv[++i], 65535, &port) || port == 0) {
                fprintf(stderr, "vf-stream: --port must be 1..65535, not '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "vf-stream: reflect: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }

    memset(&st, 0, sizeof(st));
    st.bitmap = xcalloc(VFS_MAX_SEQ / 8, 1);
    fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("vf-stream: socket");
        return 1;
    }
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    /* Room for a burst (FORCE: the guest runs this as root). The emulated
     * VF's tap keeps up to 500 frames for a guest whose driver is not up
     * yet (a real VF drops them) and hands them over at once when it is;
     * the default buffer holds ~75 of the e1000e's 2 KiB skbs, and such a
     * burst of duplicates then dropped the fresh frames behind it
     * (SOCKET_RCVBUFF) after a migration. */
    {
        int rcvbuf = 8 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    addr.sin6_addr = in6addr_any;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "vf-stream: cannot bind UDP port %lu: %s\n", port, strerror(errno));
        return 1;
    }

    for (;;) {
        int64_t now = now_ns(CLOCK_MONOTONIC);
        int64_t timeout = -1;

        if (st.sending && now - st.last_rx > VFS_IDLE_STOP_NS)
            st.sending = false;
        if (st.sending) {
            int64_t interval = 1000000000LL / st.rate;

            if (now >= st.next_tx) {
                struct vfs_hdr h;

                memset(&h, 0, sizeof(h));
                h.magic = VFS_MAGIC;
                h.type = VFS_DATA_REV;
                h.session = st.session;
                h.seq = st.rev_seq++;
                h.tx_ns = (uint64_t)now;
                h.rate = st.rate;
                hdr_encode(&h);
                reflect_send(fd, &st, &h, sizeof(h));
                st.next_tx += interval;
                /* Paused (migration) or starved: skip slots, never burst. */
                if (st.next_tx < now)
                    st.next_tx = now + interval;
            }
            timeout = st.next_tx - now_ns(CLOCK_MONOTONIC);
            if (timeout < 0)
                timeout = 0;
        }
        if (wait_readable(fd, timeout)) {
            unsigned char buf[2048];
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof(from);
            ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
            struct vfs_hdr h;

            if (n < (ssize_t)sizeof(h))
                continue;
            memcpy(&h, buf, sizeof(h));
            if (hdr_decode(&h, (size_t)n))
                reflect_packet(fd, &st, &h, &from, fromlen);
        }
    }
    return 0;
}

/* ----------------------------------------------------------- the record */

struct record {
    uint32_t session;
    uint32_t rate;
    uint32_t fwd_sent;
    int64_t *fwd_tx;            /* [fwd_sent] host realtime ns */
    uint8_t *fwd_ok;            /* [fwd_sent] 1 = the guest got it */
    bool have_report;
    uint32_t rev_sent;          /* from the guest's report */
    uint32_t rev_cap;
    int64_t *rev_rx;            /* [rev_cap] host realtime ns, 0 = not received */
    int64_t *rev_gtx;           /* [rev_cap] guest monotonic ns */
};

static void
record_init(struct record *r, uint32_t cap)
{
    memset(r, 0, sizeof(*r));
    r->fwd_tx = xcalloc(cap, sizeof(*r->fwd_tx));
    r->fwd_ok = xcalloc(cap, 1);
    r->rev_cap = cap;
    r->rev_rx = xcalloc(cap, sizeof(*r->rev_rx));
    r->rev_gtx = xcalloc(cap, sizeof(*r->rev_gtx));
}

static int
record_write(const struct record *r, const char *path)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "vf-stream: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# vf-stream raw record v1: fwd SEQ TX_NS GUEST_GOT; rev SEQ RX_NS GUEST_TX_NS\n");
    fprintf(f, "session %" PRIu32 " rate %" PRIu32 " report %d rev_sent %" PRIu32 "\n",
            r->session, r->rate, r->have_report ? 1 : 0, r->rev_sent);
    for (uint32_t i = 0; i < r->fwd_sent; i++)
        fprintf(f, "fwd %" PRIu32 " %" PRId64 " %d\n", i, r->fwd_tx[i], r->fwd_ok[i]);
    for (uint32_t i = 0; i < r->rev_cap; i++)
        if (r->rev_rx[i])
            fprintf(f, "rev %" PRIu32 " %" PRId64 " %" PRId64 "\n", i, r->rev_rx[i], r->rev_gtx[i]);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "vf-stream: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int
record_read(struct record *r, const char *path)
{
    char line[256];
    FILE *f = fopen(path, "r");
    unsigned lineno = 0;

    if (!f) {
        fprintf(stderr, "vf-stream: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    record_init(r, VFS_MAX_SEQ);
    while (fgets(line, sizeof(line), f)) {
        uint32_t seq;
        int64_t a, b;
        int ok, rep;

        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "session %" SCNu32 " rate %" SCNu32 " report %d rev_sent %" SCNu32,
                   &r->session, &r->rate, &rep, &r->rev_sent) == 4) {
            r->have_report = rep != 0;
        } else if (sscanf(line, "fwd %" SCNu32 " %" SCNd64 " %d", &seq, &a, &ok) == 3 &&
                   seq < VFS_MAX_SEQ) {
            r->fwd_tx[seq] = a;
            r->fwd_ok[seq] = ok != 0;
            if (seq + 1 > r->fwd_sent)
                r->fwd_sent = seq + 1;
        } else if (sscanf(line, "rev %" SCNu32 " %" SCNd64 " %" SCNd64, &seq, &a, &b) == 3 &&
                   seq < VFS_MAX_SEQ) {
            r->rev_rx[seq] = a;
            r->rev_gtx[seq] = b;
        } else {
            fprintf(stderr, "vf-stream: %s line %u: cannot parse '%.40s'\n", path, lineno, line);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* ----------------------------------------------------------- analysis */

static bool
in_windows(const struct vfs_window *w, int nw, int64_t lo, int64_t hi, int64_t slack)
{
    for (int i = 0; i < nw; i++) {
        int64_t s = (int64_t)(w[i].start * 1e9) - slack;
        int64_t e = (int64_t)(w[i].end * 1e9) + slack;
        if (hi >= s && lo <= e)
            return true;
    }
    return false;
}

/* Runs of consecutive lost packets, printed with --gaps as
 * "vf-stream: gap dir=fwd|rev from_ms=F to_ms=F lost=N" (times relative to
 * the first window's start, or to the stream's start without windows). */
struct gap_run {
    int64_t origin;
    bool active;
    int dir;
    uint32_t last_seq;
    uint32_t count;
    int64_t from;
    int64_t to;
};

static void
gap_flush(struct gap_run *g)
{
    if (!g->active)
        return;
    printf("vf-stream: gap dir=%s from_ms=%.1f to_ms=%.1f lost=%" PRIu32 "\n",
           g->dir ? "rev" : "fwd", (g->from - g->origin) / 1e6, (g->to - g->origin) / 1e6,
           g->count);
    g->active = false;
}

static void
gap_note(struct gap_run *g, int dir, uint32_t seq, int64_t lo, int64_t hi)
{
    if (g->active && (g->dir != dir || seq != g->last_seq + 1))
        gap_flush(g);
    if (!g->active) {
        g->active = true;
        g->dir = dir;
        g->count = 0;
        g->from = lo;
    }
    g->last_seq = seq;
    g->count++;
    g->to = hi;
}

static int
analyze(const struct record *r, const char *label, const struct vfs_window *w, int nw,
        double slack_ms, bool gaps)
{
    int64_t slack = (int64_t)(slack_ms * 1e6);
    int64_t first_w = INT64_MAX, last_w = INT64_MIN;
    uint32_t fwd_lost = 0, fwd_out = 0, fwd_before = 0, fwd_after = 0;
    uint32_t rev_rcvd = 0, rev_lost = 0, rev_out = 0, rev_before = 0, rev_after = 0;
    int64_t fwd_gap = 0, rev_gap = 0, prev = -1;
    uint32_t rev_top = 0;
    double window_ms = 0;
    struct gap_run g;

    for (int i = 0; i < nw; i++) {
        int64_t s = (int64_t)(w[i].start * 1e9), e = (int64_t)(w[i].end * 1e9);
        if (s < first_w)
            first_w = s;
        if (e > last_w)
            last_w = e;
        window_ms += (w[i].end - w[i].start) * 1e3;
    }

    memset(&g, 0, sizeof(g));
    g.origin = nw ? first_w : (r->fwd_sent ? r->fwd_tx[0] : 0);
    g.active = false;

    /* Forward: the peer's send time is when the packet was lost. */
    for (uint32_t i = 0; i < r->fwd_sent; i++) {
        int64_t t = r->fwd_tx[i];
        if (r->fwd_ok[i]) {
            if (prev >= 0 && t - prev > fwd_gap)
                fwd_gap = t - prev;
            prev = t;
            if (t < first_w)
                fwd_before++;
            if (t > last_w)
                fwd_after++;
        } else {
            fwd_lost++;
            if (!in_windows(w, nw, t, t, slack))
                fwd_out++;
            if (gaps)
                gap_note(&g, 0, i, t, t);
        }
    }
    if (gaps)
        gap_flush(&g);
    if (r->fwd_sent && prev >= 0 && r->fwd_tx[r->fwd_sent - 1] - prev > fwd_gap)
        fwd_gap = r->fwd_tx[r->fwd_sent - 1] - prev;

    /* Reverse: a lost packet's arrival time is estimated from its received
     * neighbours: guest send time interpolated by sequence, mapped to host
     * time with the clock offset seen before and after it (they differ by
     * the guest's pause), and counted inside a window if either fits. */
    for (uint32_t i = 0; i < r->rev_cap; i++)
        if (r->rev_rx[i]) {
            rev_rcvd++;
            rev_top = i + 1;
            if (r->rev_rx[i] < first_w)
                rev_before++;
            if (r->rev_rx[i] > last_w)
                rev_after++;
        }
    {
        uint32_t sent = r->have_report && r->rev_sent > rev_top ? r->rev_sent : rev_top;
        int64_t interval = r->rate ? 1000000000LL / r->rate : 10000000LL;
        uint32_t p = UINT32_MAX;            /* last received seq so far */
        uint32_t n = 0;                     /* next received seq after i */

        if (sent > r->rev_cap)
            sent = r->rev_cap;
        for (uint32_t i = 0; i < sent; i++) {
            int64_t lo, hi;

            if (r->rev_rx[i]) {
                p = i;
                continue;
            }
            rev_lost++;
            if (n <= i)
                for (n = i + 1; n < sent && !r->rev_rx[n]; n++)
                    ;
            if (p != UINT32_MAX && n < sent) {
                int64_t gtx = r->rev_gtx[p] +
                    (r->rev_gtx[n] - r->rev_gtx[p]) * (int64_t)(i - p) / (int64_t)(n - p);
                lo = gtx + (r->rev_rx[p] - r->rev_gtx[p]);
                hi = gtx + (r->rev_rx[n] - r->rev_gtx[n]);
            } else if (p != UINT32_MAX) {
                lo = hi = r->rev_rx[p] + interval * (int64_t)(i - p);
            } else if (n < sent) {
                lo = hi = r->rev_rx[n] - interval * (int64_t)(n - i);
            } else {
                lo = hi = 0;
            }
            if (lo > hi) {
                int64_t t = lo;
                lo = hi;
                hi = t;
            }
            if (!in_windows(w, nw, lo, hi, slack))
                rev_out++;
            if (gaps)
                gap_note(&g, 1, i, lo, hi);
        }
        if (gaps)
            gap_flush(&g);
        /* Longest gap between consecutive arrivals (in arrival order). */
        prev = -1;
        for (uint32_t i = 0; i < r->rev_cap; i++) {
            if (!r->rev_rx[i])
                continue;
            if (prev >= 0 && r->rev_rx[i] - prev > rev_gap)
                rev_gap = r->rev_rx[i] - prev;
            if (r->rev_rx[i] > prev)
                prev = r->rev_rx[i];
        }
        if (nw == 0) {
            rev_before = rev_rcvd;
            rev_after = rev_rcvd;
            fwd_before = r->fwd_sent - fwd_lost;
            fwd_after = fwd_before;
        }
        printf("vf-stream: label=%s fwd_sent=%" PRIu32 " fwd_lost=%" PRIu32
               " fwd_lost_outside=%" PRIu32 " fwd_longest_gap_ms=%.1f"
               " fwd_ok_before=%" PRIu32 " fwd_ok_after=%" PRIu32
               " rev_sent=%" PRIu32 " rev_lost=%" PRIu32 " rev_lost_outside=%" PRIu32
               " rev_longest_gap_ms=%.1f rev_ok_before=%" PRIu32 " rev_ok_after=%" PRIu32
               " window_ms=%.1f lost=%" PRIu32 " lost_outside=%" PRIu32 "%s\n",
               label, r->fwd_sent, fwd_lost, fwd_out, fwd_gap / 1e6, fwd_before, fwd_after,
               sent, rev_lost, rev_out, rev_gap / 1e6, rev_before, rev_after,
               window_ms, fwd_lost + rev_lost, fwd_out + rev_out,
               r->have_report ? "" : " report=missing");
    }
    fflush(stdout);
    return r->have_report ? 0 : 1;
}

static bool
parse_window(const char *s, struct vfs_window *w)
{
    char *end;

    errno = 0;
    w->start = strtod(s, &end);
    if (errno || end == s || (*end != ',' && *end != ' ' && *end != '\t'))
        return false;
    s = end + 1;
    while (*s == ' ' || *s == '\t')
        s++;
    w->end = strtod(s, &end);
    if (errno || end == s)
        return false;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    return *end == '\0' && w->end >= w->start;
}

/* One window per line, "START END" or "START,END" (epoch seconds). */
static int
read_window_file(const char *path, struct vfs_window *w, int *nw)
{
    char line[256];
    FILE *f = fopen(path, "r");
    unsigned lineno = 0;

    if (!f) {
        fprintf(stderr, "vf-stream: cannot read window file %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (*nw >= VFS_MAX_WINDOWS || !parse_window(line, &w[*nw])) {
            fprintf(stderr, "vf-stream: %s line %u: expected 'START END' (epoch seconds)\n",
                    path, lineno);
            fclose(f);
            return -1;
        }
        (*nw)++;
    }
    fclose(f);
    return 0;
}

struct analyze_opts {
    const char *label;
    const char *window_file;
    struct vfs_window windows[VFS_MAX_WINDOWS];
    int nwindows;
    double slack_ms;
    bool gaps;
};

/* Parses an option shared by `peer` and `analyze`; returns the number of
 * arguments used, 0 if not one of them, -1 on a bad value. */
static int
parse_analyze_opt(struct analyze_opts *o, int argc, char **argv, int i)
{
    if (!strcmp(argv[i], "--gaps")) {
        o->gaps = true;
        return 1;
    }
    if (i + 1 >= argc)
        return 0;
    if (!strcmp(argv[i], "--label")) {
        o->label = argv[i + 1];
        return 2;
    }
    if (!strcmp(argv[i], "--window-file")) {
        o->window_file = argv[i + 1];
        return 2;
    }
    if (!strcmp(argv[i], "--window")) {
        if (o->nwindows >= VFS_MAX_WINDOWS || !parse_window(argv[i + 1], &o->windows[o->nwindows])) {
            fprintf(stderr, "vf-stream: --window takes START,END in epoch seconds, not '%s'\n",
                    argv[i + 1]);
            return -1;
        }
        o->nwindows++;
        return 2;
    }
    if (!strcmp(argv[i], "--slack-ms")) {
        char *end;
        o->slack_ms = strtod(argv[i + 1], &end);
        if (end == argv[i + 1] || *end || o->slack_ms < 0 || o->slack_ms > 60000) {
            fprintf(stderr, "vf-stream: --slack-ms takes 0..60000, not '%s'\n", argv[i + 1]);
            return -1;
        }
        return 2;
    }
    return 0;
}

static int
run_analysis(const struct record *r, struct analyze_opts *o)
{
    if (o->window_file && read_window_file(o->window_file, o->windows, &o->nwindows) < 0)
        return 2;
    return analyze(r, o->label ? o->label : "-", o->windows, o->nwindows, o->slack_ms, o->gaps);
}

/* ---------------------------------------------------------------- peer */

static void
peer_send(int fd, struct vfs_hdr *h)
{
    hdr_encode(h);
    if (send(fd, h, sizeof(*h), MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != ECONNREFUSED && errno != ENETUNREACH && errno != EHOSTUNREACH &&
        errno != ENOBUFS)
        perror("vf-stream: send");
}

/* Receives what is queued (waiting up to timeout_ns for the first packet);
 * records reverse packets; returns true when a REPORT for chunk `want`
 * arrived (copied into the record). */
static bool
peer_receive(int fd, struct record *r, int64_t timeout_ns, uint32_t want, bool *first_rev)
{
    bool got = false;

    if (!wait_readable(fd, timeout_ns < 0 ? 0 : timeout_ns))
        return false;
    for (;;) {
        unsigned char buf[sizeof(struct vfs_hdr) + VFS_CHUNK_BYTES + 64];
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        int64_t now = now_ns(CLOCK_REALTIME);
        struct vfs_hdr h;

        if (n < 0)
            break;
        if (n < (ssize_t)sizeof(h))
            continue;
        memcpy(&h, buf, sizeof(h));
        if (!hdr_decode(&h, (size_t)n) || h.session != r->session)
            continue;
        if (h.type == VFS_DATA_REV && h.seq < r->rev_cap) {
            if (!r->rev_rx[h.seq]) {
                r->rev_rx[h.seq] = now;
                r->rev_gtx[h.seq] = (int64_t)h.tx_ns;
            }
            *first_rev = true;
        } else if (h.type == VFS_REPORT && h.aux == want && h.aux % 8 == 0 &&
                   h.len <= VFS_CHUNK_BYTES && (size_t)n >= sizeof(h) + h.len) {
            for (uint32_t b = 0; b < h.len * 8; b++) {
                uint32_t seq = h.aux + b;
                if (seq < r->fwd_sent)
                    r->fwd_ok[seq] = (buf[sizeof(h) + b / 8] >> (b % 8)) & 1;
            }
            r->rev_sent = h.count_a;
            got = true;
        }
    }
    return got;
}

static int
cmd_peer(int argc, char **argv)
{
    struct analyze_opts o;
    struct record r;
    struct sockaddr_in addr;
    const char *to = NULL, *raw = NULL, *ready = NULL;
    unsigned long rate = 100, duration = 0, port = VFS_DEFAULT_PORT;
    char host[64];
    int64_t interval, next, start, deadline;
    bool first_rev = false, ready_done = false, all = true;
    struct sigaction sa;
    int fd, rc;

    memset(&o, 0, sizeof(o));
    for (int i = 0; i < argc; i++) {
        int used = parse_analyze_opt(&o, argc, argv, i);
        if (used < 0)
            return 2;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to = argv[++i];
        } else if (!strcmp(argv[i], "--raw") && i + 1 < argc) {
            raw = argv[++i];
        } else if (!strcmp(argv[i], "--ready-file") && i + 1 < argc) {
            ready = argv[++i];
        } else if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
            if (!parse_uint(argv[++i], 10000, &rate) || rate == 0) {
                fprintf(stderr, "vf-stream: --rate takes 1..10000 packets/s, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
            if (!parse_uint(argv[++i], 86400, &duration)) {
                fprintf(stderr, "vf-stream: --duration takes 0..86400 seconds, not '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "vf-stream: peer: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!to) {
        fprintf(stderr, "vf-stream: peer needs --to ADDR[:PORT]\n");
        return 2;
    }
    snprintf(host, sizeof(host), "%s", to);
    if (strchr(host, ':')) {
        char *c = strchr(host, ':');
        *c = '\0';
        if (!parse_uint(c + 1, 65535, &port) || port == 0) {
            fprintf(stderr, "vf-stream: bad port in --to '%s'\n", to);
            return 2;
        }
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "vf-stream: --to takes an IPv4 address, not '%s'\n", host);
        return 2;
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "vf-stream: cannot open a UDP socket to %s: %s\n", to, strerror(errno));
        return 1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    record_init(&r, VFS_MAX_SEQ);
    r.session = (uint32_t)(now_ns(CLOCK_REALTIME) ^ ((int64_t)getpid() << 16)) | 1u;
    r.rate = (uint32_t)rate;
    interval = 1000000000LL / (int64_t)rate;
    start = next = now_ns(CLOCK_MONOTONIC);
    deadline = duration ? start + (int64_t)duration * 1000000000LL : INT64_MAX;
    fprintf(stderr, "vf-stream: streaming to %s:%lu at %lu pps (session %08x)\n",
            host, port, rate, r.session);

    while (!stop_requested) {
        int64_t now = now_ns(CLOCK_MONOTONIC);

        if (now >= deadline)
            break;
        if (now >= next) {
            struct vfs_hdr h;

            if (r.fwd_sent >= VFS_MAX_SEQ)
                break;
            memset(&h, 0, sizeof(h));
            h.magic = VFS_MAGIC;
            h.type = VFS_DATA_FWD;
            h.session = r.session;
            h.seq = r.fwd_sent;
            h.rate = r.rate;
            r.fwd_tx[r.fwd_sent] = now_ns(CLOCK_REALTIME);
            h.tx_ns = (uint64_t)r.fwd_tx[r.fwd_sent];
            r.fwd_sent++;
            peer_send(fd, &h);
            next += interval;
            if (next < now)     /* starved: skip slots rather than burst */
                next = now + interval;
        }
        peer_receive(fd, &r, next - now_ns(CLOCK_MONOTONIC), UINT32_MAX, &first_rev);
        if (first_rev && ready && !ready_done) {
            int rf = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (rf >= 0)
                close(rf);
            ready_done = true;
        }
    }

    /* Stop the guest's stream, let in-flight packets land, then fetch the
     * guest's receive bitmap chunk by chunk. */
    for (int k = 0; k < 3; k++) {
        struct vfs_hdr h;
        memset(&h, 0, sizeof(h));
        h.magic = VFS_MAGIC;
        h.type = VFS_STOP;
        h.session = r.session;
        peer_send(fd, &h);
        peer_receive(fd, &r, 100000000LL, UINT32_MAX, &first_rev);
    }
    for (uint32_t first = 0; first < r.fwd_sent; first += VFS_CHUNK_BYTES * 8) {
        bool got = false;
        for (int attempt = 0; attempt < 15 && !got; attempt++) {
            struct vfs_hdr h;
            memset(&h, 0, sizeof(h));
            h.magic = VFS_MAGIC;
            h.type = VFS_REPORT_REQ;
            h.session = r.session;
            h.aux = first;
            peer_send(fd, &h);
            got = peer_receive(fd, &r, 200000000LL, first, &first_rev);
        }
        if (!got) {
            fprintf(stderr, "vf-stream: the guest did not send its receive record (chunk at %u)\n", first);
            all = false;
            break;
        }
    }
    r.have_report = all && r.fwd_sent > 0;
    /* Reverse packets the guest sent after its report are not counted. */
    if (r.have_report)
        for (uint32_t i = r.rev_sent; i < r.rev_cap; i++)
            r.rev_rx[i] = 0;
    close(fd);

    if (raw && record_write(&r, raw) < 0)
        return 1;
    rc = run_analysis(&r, &o);
    return rc;
}

static int
cmd_analyze(int argc, char **argv)
{
    struct analyze_opts o;
    struct record r;
    const char *raw = NULL;

    memset(&o, 0, sizeof(o));
    for (int i = 0; i < argc; i++) {
        int used = parse_analyze_opt(&o, argc, argv, i);
        if (used < 0)
            return 2;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (!strcmp(argv[i], "--raw") && i + 1 < argc) {
            raw = argv[++i];
        } else {
            fprintf(stderr, "vf-stream: analyze: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!raw) {
        fprintf(stderr, "vf-stream: analyze needs --raw FILE\n");
        return 2;
    }
    if (record_read(&r, raw) < 0)
        return 2;
    return run_analysis(&r, &o);
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: vf-stream reflect [--port N]\n"
            "       vf-stream peer --to ADDR[:PORT] [--rate PPS] [--duration SEC] [--raw FILE]\n"
            "                      [--ready-file FILE] [--label L] [--window START,END]...\n"
            "                      [--window-file FILE] [--slack-ms MS] [--gaps]\n"
            "       vf-stream analyze --raw FILE [--label L] [--window START,END]...\n"
            "                      [--window-file FILE] [--slack-ms MS] [--gaps]\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "reflect"))
        return cmd_reflect(argc - 2, argv + 2);
    if (!strcmp(argv[1], "peer"))
        return cmd_peer(argc - 2, argv + 2);
    if (!strcmp(argv[1], "analyze"))
        return cmd_analyze(argc - 2, argv + 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "vf-stream: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
