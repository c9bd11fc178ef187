/* The hook protocol in plain libc (see hook-wire.h): the request writer,
 * the reply reader, the socket exchange and the three config keys. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hook-wire.h"

#define PROTO_VERSION 1   /* VF_PROTO_VERSION */

static int __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void
hook_reply_clear(HookReply *reply)
{
    free(reply->error);
    free(reply->xml);
    reply->error = reply->xml = NULL;
}

/* ---- request: one JSON object with string members ---- */

typedef struct {
    char *buf;
    size_t len, cap;
} Buf;

static void
buf_put(Buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->buf = realloc(b->buf, b->cap);
        if (!b->buf)
            abort();
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static void
buf_put_json_string(Buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    buf_put(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            esc[1] = c;
            buf_put(b, esc, 2);
        } else if (c == '\n') {
            buf_put(b, "\\n", 2);
        } else if (c == '\t') {
            buf_put(b, "\\t", 2);
        } else if (c == '\r') {
            buf_put(b, "\\r", 2);
        } else {
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            buf_put(b, esc, 6);
        }
    }
    buf_put(b, s + run, n - run);
    buf_put(b, "\"", 1);
}

static void
buf_put_member(Buf *b, const char *name, const char *value, size_t len)
{
    buf_put(b, ",\"", 2);
    buf_put(b, name, strlen(name));
    buf_put(b, "\":", 2);
    buf_put_json_string(b, value, len);
}

/* ---- reply: the members ok, error and xml of one JSON object ---- */

typedef struct {
    const char *p, *end;
} Cursor;

static void
skip_ws(Cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' || *c->p == '\r'))
        c->p++;
}

static int
hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

static bool
read_hex4(Cursor *c, unsigned *out)
{
    int i;
    *out = 0;
    if (c->end - c->p < 4)
        return false;
    for (i = 0; i < 4; i++) {
        int v = hexval(*c->p++);
        if (v < 0)
            return false;
        *out = *out * 16 + v;
    }
    return true;
}

static void
put_utf8(Buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = 0xc0 | (cp >> 6);
        u[1] = 0x80 | (cp & 0x3f);
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = 0xe0 | (cp >> 12);
        u[1] = 0x80 | ((cp >> 6) & 0x3f);
        u[2] = 0x80 | (cp & 0x3f);
        n = 3;
    } else {
        u[0] = 0xf0 | (cp >> 18);
        u[1] = 0x80 | ((cp >> 12) & 0x3f);
        u[2] = 0x80 | ((cp >> 6) & 0x3f);
        u[3] = 0x80 | (cp & 0x3f);
        n = 4;
    }
    buf_put(b, u, n);
}

/* Parse a JSON string at the cursor; *out (NUL-terminated) if @out. */
static bool
parse_string(Cursor *c, char **out)
{
    Buf b = { 0 };

    if (c->p >= c->end || *c->p != '"')
        return false;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        const char *run = c->p;
        while (c->p < c->end && *c->p != '"' && *c->p != '\\')
            c->p++;
        buf_put(&b, run, c->p - run);
        if (c->p < c->end && *c->p == '\\') {
            char e;
            unsigned cp, lo;
            if (++c->p >= c->end)
                goto bad;
            e = *c->p++;
            switch (e) {
            case '"': case '\\': case '/': buf_put(&b, &e, 1); break;
            case 'b': buf_put(&b, "\b", 1); break;
            case 'f': buf_put(&b, "\f", 1); break;
            case 'n': buf_put(&b, "\n", 1); break;
            case 'r': buf_put(&b, "\r", 1); break;
            case 't': buf_put(&b, "\t", 1); break;
            case 'u':
                if (!read_hex4(c, &cp))
                    goto bad;
                if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->p >= 6 && c->p[0] == '\\' &&
                    c->p[1] == 'u') {
                    c->p += 2;
                    if (!read_hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
                        goto bad;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                put_utf8(&b, cp);
                break;
            default:
                goto bad;
            }
        }
    }
    if (c->p >= c->end)
        goto bad;
    c->p++;
    buf_put(&b, "", 1);
    if (out)
        *out = b.buf;
    else
        free(b.buf);
    return true;
bad:
    free(b.buf);
    return false;
}

/* Skip any JSON value (nested objects/arrays by depth, bounded). */
static bool
skip_value(Cursor *c, int depth)
{
    skip_ws(c);
    if (c->p >= c->end || depth > 64)
        return false;
    if (*c->p == '"')
        return parse_string(c, NULL);
    if (*c->p == '{' || *c->p == '[') {
        char close = *c->p == '{' ? '}' : ']';
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return true;
        }
        for (;;) {
            if (close == '}') {
                skip_ws(c);
                if (!parse_string(c, NULL))
                    return false;
                skip_ws(c);
                if (c->p >= c->end || *c->p++ != ':')
                    return false;
            }
            if (!skip_value(c, depth + 1))
                return false;
            skip_ws(c);
            if (c->p >= c->end)
                return false;
            if (*c->p == close) {
                c->p++;
                return true;
            }
            if (*c->p++ != ',')
                return false;
        }
    }
    /* number, true, false, null */
    while (c->p < c->end && strchr("+-.0123456789eEtrufalsn", *c->p))
        c->p++;
    return true;
}

static bool
parse_reply(const char *data, size_t len, HookReply *reply)
{
    Cursor c = { data, data + len };
    bool have_ok = false;

    skip_ws(&c);
    if (c.p >= c.end || *c.p++ != '{')
        return false;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}')
        return false;
    for (;;) {
        char *name = NULL;
        skip_ws(&c);
        if (!parse_string(&c, &name))
            return false;
        skip_ws(&c);
        if (c.p >= c.end || *c.p++ != ':') {
            free(name);
            return false;
        }
        skip_ws(&c);
        if (strcmp(name, "ok") == 0) {
            if (c.end - c.p >= 4 && memcmp(c.p, "true", 4) == 0) {
                reply->ok = true;
                c.p += 4;
            } else if (c.end - c.p >= 5 && memcmp(c.p, "false", 5) == 0) {
                reply->ok = false;
                c.p += 5;
            } else {
                free(name);
                return false;
            }
            have_ok = true;
        } else if (strcmp(name, "error") == 0 && !reply->error && c.p < c.end && *c.p == '"') {
            if (!parse_string(&c, &reply->error)) {
                free(name);
                return false;
            }
        } else if (strcmp(name, "xml") == 0 && !reply->xml && c.p < c.end && *c.p == '"') {
            if (!parse_string(&c, &reply->xml)) {
                free(name);
                return false;
            }
        } else if (!skip_value(&c, 0)) {
            free(name);
            return false;
        }
        free(name);
        skip_ws(&c);
        if (c.p >= c.end)
            return false;
        if (*c.p == '}')
            return have_ok;
        if (*c.p++ != ',')
            return false;
    }
}

/* ---- the exchange ---- */

static void
put_be32(unsigned char *p, uint32_t n)
{
    p[0] = n >> 24;
    p[1] = n >> 16;
    p[2] = n >> 8;
    p[3] = n;
}

static long
ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static int
wait_fd(int fd, short events, const struct timespec *deadline)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    long left = ms_left(deadline);
    int rc;

    if (left <= 0)
        return 0;
    do
        rc = poll(&pfd, 1, left);
    while (rc < 0 && errno == EINTR);
    return rc;
}

static int
send_all(int fd, const char *p, size_t n, const struct timespec *deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            if (wait_fd(fd, POLLOUT, deadline) <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        p += w;
        n -= w;
    }
    return 0;
}

/* 0 = done, -1 = error (errno; 0 = peer closed early). */
static int
recv_all(int fd, char *p, size_t n, const struct timespec *deadline)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r == 0) {
            errno = 0;
            return -1;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            if (wait_fd(fd, POLLIN, deadline) <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        p += r;
        n -= r;
    }
    return 0;
}

int
hook_wire_call(const char *path, const HookRequest *req, size_t max_bytes,
               unsigned timeout_ms, HookReply *reply, char *err, size_t errlen)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct timespec deadline;
    Buf b = { 0 };
    unsigned char hdr[4];
    uint32_t n;
    char *payload;
    int fd, rc = -1, send_errno;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }

    static const char head[] = "\0\0\0\0{\"protocol\":1";  /* room for the length */

    buf_put(&b, head, sizeof(head) - 1);
    buf_put_member(&b, "object", req->object, strlen(req->object));
    buf_put_member(&b, "operation", req->operation, strlen(req->operation));
    buf_put_member(&b, "sub_operation", req->sub_operation, strlen(req->sub_operation));
    buf_put_member(&b, "extra", req->extra, strlen(req->extra));
    buf_put(&b, "}", 1);
    n = b.len - 4;
    put_be32((unsigned char *)b.buf, n);
    /* Frame 2: the domain XML, raw. */
    if (req->xml_len > max_bytes) {
        free(b.buf);
        return set_err(err, errlen, "the domain XML (%zu bytes) is larger than max-message-bytes (%zu)",
                       req->xml_len, max_bytes);
    }
    put_be32(hdr, req->xml_len);
    buf_put(&b, (const char *)hdr, 4);
    buf_put(&b, req->xml, req->xml_len);

    if (strlen(path) >= sizeof(addr.sun_path)) {
        free(b.buf);
        return set_err(err, errlen, "socket path %s is too long", path);
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        if (fd >= 0 && (errno == EAGAIN || errno == EINPROGRESS) && wait_fd(fd, POLLOUT, &deadline) > 0) {
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            errno = soerr;
        }
        if (errno) {
            set_err(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
            goto out;
        }
    }
    /* hookd may refuse (e.g. the peer check) and close before reading the
     * request: its reply is still waiting to be read after a failed send. */
    send_errno = send_all(fd, b.buf, b.len, &deadline) < 0 ? errno : 0;
    if (recv_all(fd, (char *)hdr, 4, &deadline) < 0) {
        if (send_errno)
            set_err(err, errlen, "cannot send to %s: %s", path, strerror(send_errno));
        else
            set_err(err, errlen, "no reply from %s: %s", path, errno ? strerror(errno) : "connection closed");
        goto out;
    }
    n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (n == 0 || n > max_bytes) {
        set_err(err, errlen, "reply from %s announces %u bytes (limit %zu)", path, n, max_bytes);
        goto out;
    }
    payload = malloc(n);
    if (!payload)
        abort();
    if (recv_all(fd, payload, n, &deadline) < 0) {
        set_err(err, errlen, "truncated reply from %s: %s", path, errno ? strerror(errno) : "connection closed");
        free(payload);
        goto out;
    }
    if (!parse_reply(payload, n, reply)) {
        hook_reply_clear(reply);
        set_err(err, errlen, "malformed reply from %s", path);
        free(payload);
        goto out;
    }
    free(payload);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(b.buf);
    return rc;
}

/* ---- configuration: three keys of [hookd] ---- */

static char *
trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

int
hook_config_load(const char *path, HookConfig *cfg, char *err, size_t errlen)
{
    /* Defaults: keep in step with the key table in common/vf-config.c. */
    const char *file = path ? path : SYSCONFDIR "/vfailover/vfailover.conf";
    bool in_hookd = false;
    char line[1024];
    FILE *f;

    snprintf(cfg->socket, sizeof(cfg->socket), "%s", RUNSTATEDIR "/vfailover/hook.sock");
    cfg->timeout_ms = 10000;
    cfg->max_bytes = 4194304;

    f = fopen(file, "re");
    if (!f) {
        if (errno == ENOENT && !path)
            return 0;
        return set_err(err, errlen, "cannot read configuration %s: %s", file, strerror(errno));
    }
    while (fgets(line, sizeof(line), f)) {
        char *l = trim(line), *eq, *key, *value, *end;
        unsigned long long v;

        if (*l == '[') {
            in_hookd = strcmp(l, "[hookd]") == 0;
            continue;
        }
        if (!in_hookd || *l == '#' || !(eq = strchr(l, '=')))
            continue;
        *eq = '\0';
        key = trim(l);
        value = trim(eq + 1);
        if (strcmp(key, "socket") == 0) {
            if (strlen(value) >= sizeof(cfg->socket)) {
                fclose(f);
                return set_err(err, errlen, "%s: [hookd] socket is too long", file);
            }
            snprintf(cfg->socket, sizeof(cfg->socket), "%s", value);
            continue;
        }
        if (strcmp(key, "hook-timeout-ms") != 0 && strcmp(key, "max-message-bytes") != 0)
            continue;
        errno = 0;
        v = strtoull(value, &end, 10);
        if (errno || end == value || *end || v < 100 || v > 67108864) {
            fclose(f);
            return set_err(err, errlen, "%s: [hookd] %s has an invalid value '%s'", file, key, value);
        }
        if (key[0] == 'h')
            cfg->timeout_ms = v;
        else
            cfg->max_bytes = v;
    }
    fclose(f);
    return 0;
}
