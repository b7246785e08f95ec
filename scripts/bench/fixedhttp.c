/*
 * A tiny HTTP/1.1 server for the load-balancer benchmark (scripts/bench/elb): it answers every
 * request on 127.0.0.1:PORT with the same small 200 response, keep-alive, from one epoll loop,
 * so the backend costs next to nothing and the benchmark measures the proxy in front of it.
 * Requests are GETs without a body (what wrk sends); a request ends at its blank line.
 *
 * Usage: fixedhttp PORT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 4096

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 13\r\n\r\nhello, world\n";

/* Per connection: how far into "\r\n\r\n" the bytes read so far have matched. */
static unsigned char matched[MAX_FD];

static void
serve(int fd)
{
    char in[16384], out[sizeof(answer) * 64];
    for (;;) {
        ssize_t n = read(fd, in, sizeof(in));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            close(fd);
            return;
        }
        if (n < 0)
            return;
        size_t len = 0;
        for (ssize_t i = 0; i < n; i++) {
            static const char end[] = "\r\n\r\n";
            matched[fd] = in[i] == end[matched[fd]] ? matched[fd] + 1 : in[i] == '\r' ? 1 : 0;
            if (matched[fd] == 4) {
                matched[fd] = 0;
                if (len + sizeof(answer) - 1 > sizeof(out)) {
                    if (write(fd, out, len) != (ssize_t)len) {
                        close(fd);
                        return;
                    }
                    len = 0;
                }
                memcpy(out + len, answer, sizeof(answer) - 1);
                len += sizeof(answer) - 1;
            }
        }
        /* Small answers into an empty socket buffer: a short write does not happen here. */
        if (len && write(fd, out, len) != (ssize_t)len) {
            close(fd);
            return;
        }
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fixedhttp PORT\n");
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port = htons((unsigned short)atoi(argv[1])),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 512) < 0) {
        perror("fixedhttp: bind/listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd != lfd) {
                serve(fd);
                continue;
            }
            int c;
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                if (c >= MAX_FD) {
                    close(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                matched[c] = 0;
                struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
            }
        }
    }
}
