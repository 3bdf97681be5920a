#include "harness.h"

#include <stdlib.h>

int vidi_test_passed = 0;
int vidi_test_failed = 0;

int vidi_test_summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, vidi_test_passed, vidi_test_failed);
    return vidi_test_failed == 0 ? 0 : 1;
}

char *vidi_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = '\0'; if (len) *len = (size_t)n; }
    return buf;
}
