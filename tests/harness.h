/* Minimal test harness: CHECK records a failure and keeps going; main() in
 * each test returns vidi_test_summary(), which prints "N passed, N failed". */
#ifndef VIDI_TEST_HARNESS_H
#define VIDI_TEST_HARNESS_H

#include <stdio.h>

extern int vidi_test_passed;
extern int vidi_test_failed;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            vidi_test_passed++;                                                     \
        } else {                                                                    \
            vidi_test_failed++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do {                                                                   \
        if (cond) {                                                        \
            vidi_test_passed++;                                            \
        } else {                                                           \
            vidi_test_failed++;                                            \
            fprintf(stderr, "%s:%d: CHECK failed: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* Prints the summary line and returns the process exit code. */
int vidi_test_summary(const char *suite);

/* Reads a whole file (NUL-terminated); NULL on failure. Caller frees. */
char *vidi_test_read_file(const char *path, size_t *len);

#endif
