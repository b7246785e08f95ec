/*
 * startprobe: measures exec-to-first-answer of an HTTP server without a client's own start-up
 * in the way. It forks, execs the given command, and from the moment before exec polls
 * 127.0.0.1:PORT with a raw HTTP GET of PATH every 0.2 ms until a complete status line comes
 * back; prints the milliseconds and the server's pid, then leaves the server running.
 *
 * Usage: startprobe PORT PATH TIMEOUT_S -- COMMAND [ARGS...]
 * Output: "<ms> <pid>" on stdout; exit 1 if it did not answer in time or died.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
answers(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        char req[512], resp[64];
        int n = snprintf(req, sizeof(req),
                "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
        if (send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
            ssize_t r = recv(fd, resp, sizeof(resp) - 1, 0);
            ok = r >= 12 && strncmp(resp, "HTTP/1.", 7) == 0;
        }
    }
    close(fd);
    return ok;
}

int
main(int argc, char **argv)
{
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: startprobe PORT PATH TIMEOUT_S -- COMMAND [ARGS...]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2];
    double limit = atof(argv[3]) * 1e3;
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        /* The server must not hold our stdout: the caller reads it to EOF. */
        dup2(2, 1);
        execvp(argv[5], argv + 5);
        _exit(127);
    }
    while (now_ms() - t0 < limit) {
        if (answers(port, path)) {
            printf("%.2f %d\n", now_ms() - t0, (int)pid);
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 1;
        usleep(200);
    }
    kill(pid, SIGKILL);
    return 1;
}
