/* The kernel's floor for one arrival of workload 9: a new loopback TCP connection making the two
 * requests of the script (GET /, GET /json) and closing, with nothing else around it.
 *
 *   arrival HOST PORT RATE SECONDS MODE
 *
 * MODE `blocking`: blocking socket calls (socket, setsockopt TCP_NODELAY, connect, 2 x send and recv,
 * close): the least any client can do. MODE `epoll`: the same through a non-blocking socket and an
 * epoll set, as an async runtime (tokio) does it: socket, connect (EINPROGRESS), epoll_ctl ADD, a wait
 * for writable, getsockopt SO_ERROR, setsockopt TCP_NODELAY, then each request as send + wait for
 * readable + recv, epoll_ctl DEL, close.
 *
 * Arrivals start on a fixed schedule of RATE per second (an absolute clock_nanosleep to the next
 * one; none when behind) for SECONDS, one at a time. Prints the arrivals, the failures and the
 * process's user and system CPU per arrival (getrusage). Loopback only: HOST must be in 127.0.0.0/8.
 * Bounded: at most RATE x SECONDS arrivals (RATE <= 100,000, SECONDS <= 600). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *requests[2] = {"GET / HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: floor\r\n\r\n",
                                  "GET /json HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: floor\r\n\r\n"};

/* Reads one whole response (headers and a Content-Length body) with blocking or epoll-waited
 * recv calls; 0 on a 200. */
static int read_response(int fd, int ep) {
    char buf[4096];
    size_t have = 0;
    for (;;) {
        if (ep >= 0) {
            struct epoll_event ev;
            if (epoll_wait(ep, &ev, 1, 5000) != 1) return -1;
        }
        ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (n < 0 && errno == EAGAIN) continue;
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
        if ((size_t)(end + 4 - buf) + body <= have) return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
        if (have >= sizeof buf - 1) return -1;
    }
}

static int arrival(const struct sockaddr_in *to, const char *host, int port, int use_epoll) {
    int one = 1, ep = -1, failed = -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (use_epoll ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    if (use_epoll) {
        static int set = -1;
        if (set < 0) set = epoll_create1(EPOLL_CLOEXEC);
        ep = set;
        if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0 && errno != EINPROGRESS) goto out;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) goto out;
        if (epoll_wait(ep, &ev, 1, 5000) != 1) goto del;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) goto del;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    } else {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0) goto out;
    }
    for (int r = 0; r < 2; r++) {
        char req[256];
        int n = snprintf(req, sizeof req, requests[r], host, port);
        if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) goto del;
        if (read_response(fd, ep) != 0) goto del;
    }
    failed = 0;
del:
    if (ep >= 0) epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
out:
    close(fd);
    return failed;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: arrival HOST PORT RATE SECONDS blocking|epoll\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long rate = atol(argv[3]), secs = atol(argv[4]);
    int use_epoll = strcmp(argv[5], "epoll") == 0;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || (ntohl(to.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "arrival: %s is not a loopback IPv4 address\n", host);
        return 2;
    }
    if (port <= 0 || port > 65535 || rate <= 0 || rate > 100000 || secs <= 0 || secs > 600 ||
        (!use_epoll && strcmp(argv[5], "blocking") != 0)) {
        fprintf(stderr, "arrival: bad port, rate (1..100000), seconds (1..600) or mode\n");
        return 2;
    }
    long total = rate * secs, failures = 0;
    struct timespec start, due;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < total; i++) {
        long long ns = (long long)start.tv_nsec + i * 1000000000LL / rate;
        due.tv_sec = start.tv_sec + (time_t)(ns / 1000000000LL);
        due.tv_nsec = (long)(ns % 1000000000LL);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        if (arrival(&to, host, port, use_epoll) != 0) failures++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double user = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec;
    double sys = ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
    printf("{\"mode\": \"%s\", \"arrivals\": %ld, \"failures\": %ld, \"user_us_per_arrival\": %.2f, "
           "\"sys_us_per_arrival\": %.2f, \"cpu_us_per_arrival\": %.2f}\n",
           argv[5], total, failures, user / total, sys / total, (user + sys) / total);
    return failures ? 1 : 0;
}
