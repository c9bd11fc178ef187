/* Timing driver of tests/bench/hook-latency: runs hook programs the way
 * libvirtd does (spawn with argv DOMAIN OP SUB -, the domain XML on stdin,
 * wait for the exit) and measures the wall time of each call, interleaving
 * the hooks under comparison so both see the same machine load.
 *
 *   hook-latency-run ROUNDS XMLFILE HOOK...
 *
 * Each round runs, for each HOOK in turn (the order alternates every round),
 * one domain lifecycle: prepare begin, start begin, started begin, stopped
 * end, release end. Prints per hook: calls, median, mean and p90 of one
 * call in µs, and the number of failed calls (non-zero exit). */
#include "config.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *const ops[][2] = {
    { "prepare", "begin" }, { "start", "begin" }, { "started", "begin" },
    { "stopped", "end" }, { "release", "end" },
};
#define N_OPS (sizeof(ops) / sizeof(ops[0]))

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One call; returns its wall time in µs, *failed set on a non-zero exit. */
static double
run_hook(const char *hook, const char *domain, const char *op, const char *sub,
         const char *xmlfile, int *failed)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = { (char *)hook, (char *)domain, (char *)op, (char *)sub, "-", NULL };
    double t0, t1;
    pid_t pid;
    int status;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, xmlfile, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    t0 = now_us();
    if (posix_spawn(&pid, hook, &fa, NULL, argv, environ) != 0) {
        perror(hook);
        exit(1);
    }
    waitpid(pid, &status, 0);
    t1 = now_us();
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        (*failed)++;
    return t1 - t0;
}

int
main(int argc, char **argv)
{
    int rounds, n_hooks, r, h, i;
    const char *xmlfile;
    double **samples;
    int *failed;

    if (argc < 4) {
        fprintf(stderr, "usage: %s ROUNDS XMLFILE HOOK...\n", argv[0]);
        return 2;
    }
    rounds = atoi(argv[1]);
    xmlfile = argv[2];
    n_hooks = argc - 3;
    samples = calloc(n_hooks, sizeof(*samples));
    failed = calloc(n_hooks, sizeof(*failed));
    for (h = 0; h < n_hooks; h++)
        samples[h] = calloc(rounds * N_OPS, sizeof(double));

    for (r = 0; r < rounds; r++) {
        for (i = 0; i < n_hooks; i++) {
            h = (r % 2) ? n_hooks - 1 - i : i;
            for (size_t o = 0; o < N_OPS; o++)
                samples[h][r * N_OPS + o] = run_hook(argv[3 + h], "bench", ops[o][0], ops[o][1],
                                                     xmlfile, &failed[h]);
        }
    }
    /* Per operation (comment lines): where the time goes. */
    for (h = 0; h < n_hooks; h++) {
        double *op_samples = calloc(rounds, sizeof(double));
        printf("#");
        for (size_t o = 0; o < N_OPS; o++) {
            for (r = 0; r < rounds; r++)
                op_samples[r] = samples[h][r * N_OPS + o];
            qsort(op_samples, rounds, sizeof(double), cmp_double);
            printf(" %s=%.0f", ops[o][0], op_samples[rounds / 2]);
        }
        printf(" (median us, %s)\n", argv[3 + h]);
        free(op_samples);
    }
    for (h = 0; h < n_hooks; h++) {
        int n = rounds * N_OPS;
        double sum = 0;
        for (i = 0; i < n; i++)
            sum += samples[h][i];
        qsort(samples[h], n, sizeof(double), cmp_double);
        printf("%s calls=%d median_us=%.1f mean_us=%.1f p90_us=%.1f failed=%d\n", argv[3 + h], n,
               samples[h][n / 2], sum / n, samples[h][n * 9 / 10], failed[h]);
    }
    return 0;
}
