/* safetensors reader/writer: every malicious header is refused with a message
 * naming the file and the reason; valid files (ours and the reference
 * library's) read back exactly. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/safetensors.h"

#define LABEL "m.safetensors"

/* A file image in memory: 8-byte length, header, data. */
typedef struct file_image {
    uint8_t bytes[4096];
    size_t len;
} file_image;

static file_image make_image(const char *header, size_t header_len, const void *data,
                             size_t data_len) {
    file_image im;
    memset(&im, 0, sizeof im);
    for (int i = 0; i < 8; i++) im.bytes[i] = (uint8_t)((uint64_t)header_len >> (8 * i));
    memcpy(im.bytes + 8, header, header_len);
    if (data_len) memcpy(im.bytes + 8 + header_len, data, data_len);
    im.len = 8 + header_len + data_len;
    return im;
}

/* Header text plus `data_len` zero bytes of data. */
static file_image image_of(const char *header, size_t data_len) {
    static const uint8_t zeros[1024];
    return make_image(header, strlen(header), zeros, data_len);
}

/* Parse must fail with `status` and a one-line message starting with the
 * label and containing each of the NULL-terminated `parts`. */
static void expect_fail_at(int line, const file_image *im, vidi_status status, ...) {
    vidi_safetensors *st = (vidi_safetensors *)1;
    vidi_clear_error();
    vidi_status got = vidi_safetensors_parse(im->bytes, im->len, LABEL, &st);
    const char *msg = vidi_last_error();
    CHECK_MSG(got == status, "line %d: status %s, expected %s (%s)", line, vidi_status_name(got),
              vidi_status_name(status), msg);
    CHECK_MSG(st == NULL, "line %d: handle not NULL on failure", line);
    CHECK_MSG(strncmp(msg, LABEL ": ", strlen(LABEL) + 2) == 0, "line %d: message '%s' does not start with the label",
              line, msg);
    CHECK_MSG(strchr(msg, '\n') == NULL, "line %d: message has a newline: '%s'", line, msg);
    va_list ap;
    va_start(ap, status);
    for (const char *part; (part = va_arg(ap, const char *)) != NULL;)
        CHECK_MSG(strstr(msg, part) != NULL, "line %d: message '%s' lacks '%s'", line, msg, part);
    va_end(ap);
    if (got == VIDI_OK) vidi_safetensors_close(st);
}
#define EXPECT_FAIL(im, status, ...) expect_fail_at(__LINE__, &(im), status, __VA_ARGS__, NULL)

static void expect_header_fail_at(int line, const char *header, size_t data_len, vidi_status status,
                                  const char *part) {
    file_image im = image_of(header, data_len);
    expect_fail_at(line, &im, status, part, NULL);
}
#define EXPECT_HEADER_FAIL(header, data_len, status, part) \
    expect_header_fail_at(__LINE__, header, data_len, status, part)

#define F32_ENTRY(name, shape, b, e) \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

static void test_framing(void) {
    file_image im = image_of("{}", 0);
    im.len = 0;
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "0 bytes", "too small");
    im.len = 7;
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "7 bytes", "too small");

    im = make_image("", 0, NULL, 0);
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "header length is 0");

    im = image_of("{}", 0);
    im.bytes[0] = 3; /* claims 3 bytes, has 2 */
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "header length 3", "past the end");

    im = image_of("{}", 0);
    memset(im.bytes, 0xff, 8); /* 2^64 - 1 */
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "header length 18446744073709551615", "limit");
    im = image_of("{}", 0);
    im.bytes[0] = 0;
    im.bytes[1] = 0xe2;
    im.bytes[2] = 0xf5;
    im.bytes[3] = 0x05; /* 100000256: just past 100 MB */
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "exceeds");

    /* Empty object: a valid file with no tensors. */
    im = image_of("{}", 0);
    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_parse(im.bytes, im.len, LABEL, &st) == VIDI_OK);
    CHECK(vidi_safetensors_count(st) == 0);
    CHECK(vidi_safetensors_metadata(st, "format") == NULL);
    CHECK(strcmp(vidi_safetensors_label(st), LABEL) == 0);
    vidi_safetensors_close(st);
}

static void test_bad_json(void) {
    EXPECT_HEADER_FAIL("{", 0, VIDI_ERR_FORMAT, "not valid JSON near byte");
    EXPECT_HEADER_FAIL("not json", 0, VIDI_ERR_FORMAT, "not valid JSON");
    EXPECT_HEADER_FAIL("[1, 2]", 0, VIDI_ERR_FORMAT, "not a JSON object");
    EXPECT_HEADER_FAIL("42", 0, VIDI_ERR_FORMAT, "not a JSON object");
    EXPECT_HEADER_FAIL("{} {}", 0, VIDI_ERR_FORMAT, "trailing bytes");
    EXPECT_HEADER_FAIL("{\"a\": \"\xff\"}", 0, VIDI_ERR_FORMAT, "not valid UTF-8 at byte 7");
    EXPECT_HEADER_FAIL("{\"a\": \"\xc0\x80\"}", 0, VIDI_ERR_FORMAT, "UTF-8"); /* overlong NUL */
    EXPECT_HEADER_FAIL("{\"a\": \"\xed\xa0\x80\"}", 0, VIDI_ERR_FORMAT, "UTF-8"); /* surrogate */

    static const char with_nul[] = "{\"a\0\": 1}";
    file_image im = make_image(with_nul, sizeof with_nul - 1, NULL, 0);
    EXPECT_FAIL(im, VIDI_ERR_FORMAT, "NUL byte at byte 3");

    /* Padding with spaces is part of the format. */
    im = image_of("{" F32_ENTRY("x", "[1]", 0, 4) "}        ", 4);
    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_parse(im.bytes, im.len, LABEL, &st) == VIDI_OK);
    CHECK(vidi_safetensors_count(st) == 1);
    vidi_safetensors_close(st);
}

static void test_bad_entries(void) {
    EXPECT_HEADER_FAIL("{\"x\": 5}", 0, VIDI_ERR_FORMAT, "tensor 'x': entry is not an object");
    EXPECT_HEADER_FAIL("{\"x\": {\"shape\":[1],\"data_offsets\":[0,4]}}", 4, VIDI_ERR_FORMAT,
                       "tensor 'x': missing 'dtype'");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, VIDI_ERR_FORMAT,
                       "tensor 'x': missing 'shape'");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"shape\":[1]}}", 4, VIDI_ERR_FORMAT,
                       "tensor 'x': missing 'data_offsets'");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                       VIDI_ERR_FORMAT, "'dtype' must be a string");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                       4, VIDI_ERR_FORMAT, "tensor 'x': duplicate key 'dtype'");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                       VIDI_ERR_UNSUPPORTED, "tensor 'x': unsupported dtype 'Q7'");

    /* Shapes. */
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,12]}}", 12,
                       VIDI_ERR_FORMAT, "'shape' must be an array");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[1,1,1,1,1,1]", 0, 4) "}", 4, VIDI_ERR_UNSUPPORTED,
                       "tensor 'x': shape has 6 dims");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[2,-1]", 0, 4) "}", 4, VIDI_ERR_FORMAT,
                       "tensor 'x': shape[1] is not a non-negative integer");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[1.5]", 0, 4) "}", 4, VIDI_ERR_FORMAT, "shape[0]");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[\"2\"]", 0, 4) "}", 4, VIDI_ERR_FORMAT, "shape[0]");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[1e300]", 0, 4) "}", 4, VIDI_ERR_FORMAT, "shape[0]");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[4294967296,4294967296,4]", 0, 4) "}", 4,
                       VIDI_ERR_FORMAT, "shape [4294967296, 4294967296, 4] of F32 is too large");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[9007199254740992,9007199254740992]", 0, 4) "}", 4,
                       VIDI_ERR_FORMAT, "too large");

    /* Offsets. */
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4}}", 4,
                       VIDI_ERR_FORMAT, "'data_offsets' must be two non-negative integers");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                       VIDI_ERR_FORMAT, "'data_offsets' must be two");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
                       VIDI_ERR_FORMAT, "'data_offsets' must be two");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[1]", -4, 0) "}", 4, VIDI_ERR_FORMAT,
                       "'data_offsets' must be two");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[1]", 0, 4.5) "}", 8, VIDI_ERR_FORMAT,
                       "'data_offsets' must be two");
    EXPECT_HEADER_FAIL("{\"x\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"4\"]}}", 4,
                       VIDI_ERR_FORMAT, "'data_offsets' must be two");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[0]", 8, 4) "}", 8, VIDI_ERR_FORMAT,
                       "tensor 'x': data_offsets [8, 4] begin after end");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[2]", 0, 8) "}", 4, VIDI_ERR_FORMAT,
                       "tensor 'x': data_offsets [0, 8] end beyond the data section (4 bytes)");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("x", "[1]", 18446744073709551612, 18446744073709551616) "}", 4,
                       VIDI_ERR_FORMAT, "'data_offsets' must be two");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("head.weight", "[2,3]", 0, 12) "}", 24, VIDI_ERR_FORMAT,
                       LABEL ": tensor 'head.weight': data_offsets [0, 12] hold 12 bytes, shape [2, 3] of F32 needs 24");
}

static void test_bad_layout(void) {
    EXPECT_HEADER_FAIL("{" F32_ENTRY("a", "[2]", 0, 8) "," F32_ENTRY("b", "[2]", 4, 12) "}", 12,
                       VIDI_ERR_FORMAT, "tensor 'b' data [4, 12] overlaps tensor 'a' [0, 8]");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("a", "[2]", 0, 8) "," F32_ENTRY("b", "[2]", 0, 8) "}", 8,
                       VIDI_ERR_FORMAT, "overlaps");
    EXPECT_HEADER_FAIL("{" F32_ENTRY("a", "[1]", 0, 4) "," F32_ENTRY("a", "[1]", 4, 8) "}", 8,
                       VIDI_ERR_FORMAT, "tensor 'a' appears twice");
    EXPECT_HEADER_FAIL("{\"__metadata__\": [1]}", 0, VIDI_ERR_FORMAT, "__metadata__ is not an object");
    EXPECT_HEADER_FAIL("{\"__metadata__\": {\"k\": 1}}", 0, VIDI_ERR_FORMAT,
                       "__metadata__ 'k' is not a string");
    EXPECT_HEADER_FAIL("{\"__metadata__\": {\"k\": \"a\", \"k\": \"b\"}}", 0, VIDI_ERR_FORMAT,
                       "duplicate key 'k'");
    EXPECT_HEADER_FAIL("{\"__metadata__\": {}, \"__metadata__\": {}}", 0, VIDI_ERR_FORMAT,
                       "__metadata__ appears twice");

    /* Gaps between tensors and empty tensors anywhere are fine. */
    file_image im = image_of("{" F32_ENTRY("a", "[1]", 0, 4) "," F32_ENTRY("b", "[1]", 8, 12) ","
                             F32_ENTRY("e", "[0,3]", 2, 2) "," F32_ENTRY("s", "[]", 12, 16) "}",
                             20);
    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_parse(im.bytes, im.len, LABEL, &st) == VIDI_OK);
    CHECK(vidi_safetensors_count(st) == 4);
    const vidi_st_tensor *e = vidi_safetensors_find(st, "e");
    CHECK(e && e->ndim == 2 && e->nbytes == 0);
    const vidi_st_tensor *s = vidi_safetensors_find(st, "s");
    CHECK(s && s->ndim == 0 && s->nbytes == 4);
    const float *p = NULL;
    CHECK(vidi_safetensors_get_f32(st, "e", 2, (const int64_t[]){0, 3}, &p) == VIDI_OK && p);
    CHECK(vidi_safetensors_get_f32(st, "s", 0, NULL, &p) == VIDI_OK && p);
    vidi_safetensors_close(st);

    /* Hostile names stay on one line and bounded in messages. */
    EXPECT_HEADER_FAIL("{\"bad\\nname\": 1}", 0, VIDI_ERR_FORMAT, "tensor 'bad?name'");
    char header[1024];
    char long_name[600];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    snprintf(header, sizeof header, "{\"%s\": 1}", long_name);
    EXPECT_HEADER_FAIL(header, 0, VIDI_ERR_FORMAT, "nnn...'");
}

static void test_other_dtypes(void) {
    /* Integer buffers are validated but not listed; get_f32 names the dtype. */
    file_image im = image_of("{\"pos\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                             F32_ENTRY("w", "[2]", 24, 32) "}", 32);
    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_parse(im.bytes, im.len, LABEL, &st) == VIDI_OK);
    CHECK(vidi_safetensors_count(st) == 1);
    CHECK(vidi_safetensors_find(st, "pos") == NULL);
    const float *p = NULL;
    CHECK(vidi_safetensors_get_f32(st, "pos", 1, (const int64_t[]){3}, &p) == VIDI_ERR_UNSUPPORTED);
    CHECK(strstr(vidi_last_error(), LABEL ": tensor 'pos': unsupported dtype 'I64'") != NULL);
    vidi_safetensors_close(st);
    /* ... and held to the same rules as float tensors. */
    EXPECT_HEADER_FAIL("{\"pos\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,12]}}", 24,
                       VIDI_ERR_FORMAT, "shape [3] of I64 needs 24");
}

static void test_get_f32(void) {
    /* F32 [2,3] at data offset 0, F16 [2] and BF16 [2] after it. */
    static const char header[] =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        F32_ENTRY("w", "[2,3]", 0, 24) ","
        "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[28,32]}}";
    uint8_t data[32];
    const float w[6] = {1, -2, 3.5f, 0.25f, 1e-3f, -1e6f};
    memcpy(data, w, sizeof w);
    const uint8_t halves[8] = {0x00, 0x3c, 0x00, 0xc0, /* F16 1, -2 */
                               0xc0, 0x3f, 0x80, 0xbf}; /* BF16 1.5, -1 */
    memcpy(data + 24, halves, 8);
    /* Header of 200 bytes puts the data at byte 208: aligned in `aligned`,
     * off by one in `shifted`. */
    char padded[201];
    snprintf(padded, sizeof padded, "%-200s", header);
    file_image im = make_image(padded, 200, data, sizeof data);
    static uint8_t shifted[sizeof im.bytes + 1];
    memcpy(shifted + 1, im.bytes, im.len);

    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *base = pass == 0 ? im.bytes : shifted + 1;
        vidi_safetensors *st = NULL;
        CHECK(vidi_safetensors_parse(base, im.len, LABEL, &st) == VIDI_OK);
        if (!st) return;
        CHECK(vidi_safetensors_count(st) == 3);
        CHECK(strcmp(vidi_safetensors_at(st, 0)->name, "w") == 0); /* header order */
        CHECK(strcmp(vidi_safetensors_at(st, 2)->name, "b") == 0);
        CHECK(vidi_safetensors_at(st, 3) == NULL && vidi_safetensors_at(st, -1) == NULL);
        CHECK(strcmp(vidi_safetensors_metadata(st, "format"), "pt") == 0);
        CHECK(vidi_safetensors_metadata(st, "other") == NULL);

        const float *p = NULL;
        CHECK(vidi_safetensors_get_f32(st, "w", 2, (const int64_t[]){2, 3}, &p) == VIDI_OK);
        CHECK(p && memcmp(p, w, sizeof w) == 0);
        /* In place when aligned, a copy otherwise. */
        if (pass == 0) CHECK((const uint8_t *)p == base + 208);
        else CHECK((const uint8_t *)p != base + 208);
        const float *again = NULL;
        CHECK(vidi_safetensors_get_f32(st, "w", 2, (const int64_t[]){2, 3}, &again) == VIDI_OK);
        CHECK(again == p);

        CHECK(vidi_safetensors_get_f32(st, "h", 1, (const int64_t[]){2}, &p) == VIDI_OK);
        CHECK(p && p[0] == 1.0f && p[1] == -2.0f);
        CHECK(vidi_safetensors_get_f32(st, "b", 1, (const int64_t[]){2}, &p) == VIDI_OK);
        CHECK(p && p[0] == 1.5f && p[1] == -1.0f);

        CHECK(vidi_safetensors_get_f32(st, "nope", 1, (const int64_t[]){2}, &p) == VIDI_ERR_SHAPE);
        CHECK(strcmp(vidi_last_error(), LABEL ": missing tensor 'nope'") == 0);
        CHECK(vidi_safetensors_get_f32(st, "w", 2, (const int64_t[]){3, 2}, &p) == VIDI_ERR_SHAPE);
        CHECK(strcmp(vidi_last_error(), LABEL ": tensor 'w' has shape [2, 3], expected [3, 2]") == 0);
        CHECK(vidi_safetensors_get_f32(st, "w", 1, (const int64_t[]){6}, &p) == VIDI_ERR_SHAPE);
        CHECK(strstr(vidi_last_error(), "expected [6]") != NULL);
        CHECK(vidi_safetensors_get_f32(st, "w", 9, (const int64_t[]){6}, &p) == VIDI_ERR_ARG);

        float all[6];
        CHECK(vidi_st_tensor_to_f32(vidi_safetensors_find(st, "w"), all) == VIDI_OK);
        CHECK(memcmp(all, w, sizeof w) == 0);
        vidi_safetensors_close(st);
    }
}

/* A temp file with the given bytes; returns its path in `path`. */
static int temp_file(char path[64], const void *bytes, size_t len) {
    snprintf(path, 64, "/tmp/vidi_st_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    int ok = write(fd, bytes, len) == (ssize_t)len;
    close(fd);
    return ok;
}

static void test_open(void) {
    vidi_safetensors *st = (vidi_safetensors *)1;
    CHECK(vidi_safetensors_open("/nonexistent/m.safetensors", &st) == VIDI_ERR_IO);
    CHECK(st == NULL);
    CHECK(strcmp(vidi_last_error(), "/nonexistent/m.safetensors: cannot open: No such file or directory") == 0);

    char path[64];
    CHECK(temp_file(path, "", 0));
    CHECK(vidi_safetensors_open(path, &st) == VIDI_ERR_FORMAT);
    CHECK(strncmp(vidi_last_error(), path, strlen(path)) == 0 && strstr(vidi_last_error(), "empty"));
    unlink(path);

    CHECK(vidi_safetensors_open("/tmp", &st) == VIDI_ERR_IO);
    CHECK(strstr(vidi_last_error(), "/tmp: not a regular file") != NULL);

    /* Errors from open carry the path, not a generic label. */
    file_image im = image_of("{" F32_ENTRY("x", "[2]", 0, 4) "}", 4);
    CHECK(temp_file(path, im.bytes, im.len));
    CHECK(vidi_safetensors_open(path, &st) == VIDI_ERR_FORMAT);
    CHECK(strncmp(vidi_last_error(), path, strlen(path)) == 0);
    CHECK(strstr(vidi_last_error(), "tensor 'x': data_offsets [0, 4] hold 4 bytes") != NULL);
    unlink(path);
}

static void test_write_roundtrip(void) {
    char dir[] = "/tmp/vidi_st_write_XXXXXX", path[64], tmp_path[80];
    if (!mkdtemp(dir)) {
        CHECK_MSG(0, "mkdtemp failed");
        return;
    }
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", path);
    const float a[6] = {1, 2, 3, 4, 5, 6}, s = 42.0f, b[3] = {-1, 0.5f, 1e-20f};
    const vidi_st_write_entry entries[] = {
        {"layer.0.a", 2, {2, 3}, a},
        {"scalar", 0, {0}, &s},
        {"empty", 2, {0, 4}, NULL},
        {"weird \"name\"\\", 1, {3}, b},
    };
    const char *meta[] = {"format", "pt", "config", "{\"hidden_size\": 8}\n\ttab", NULL};
    CHECK(vidi_safetensors_write_f32(path, entries, 4, meta) == VIDI_OK);
    CHECK(access(tmp_path, F_OK) != 0); /* renamed away */

    size_t len = 0;
    char *raw = vidi_test_read_file(path, &len);
    CHECK(raw && len > 8);
    if (raw) {
        uint64_t hlen = 0;
        for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | (uint8_t)raw[i];
        CHECK(hlen % 8 == 0);
        CHECK(len == 8 + hlen + sizeof a + sizeof s + sizeof b);
        CHECK(raw[8 + hlen - 1] == ' ' || raw[8 + hlen - 1] == '}');
        free(raw);
    }

    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_open(path, &st) == VIDI_OK);
    if (!st) return;
    CHECK(vidi_safetensors_count(st) == 4);
    CHECK(strcmp(vidi_safetensors_metadata(st, "format"), "pt") == 0);
    CHECK(strcmp(vidi_safetensors_metadata(st, "config"), "{\"hidden_size\": 8}\n\ttab") == 0);
    const float *p = NULL;
    CHECK(vidi_safetensors_get_f32(st, "layer.0.a", 2, (const int64_t[]){2, 3}, &p) == VIDI_OK);
    CHECK(p && memcmp(p, a, sizeof a) == 0);
    CHECK(vidi_safetensors_get_f32(st, "scalar", 0, NULL, &p) == VIDI_OK && p && *p == 42.0f);
    CHECK(vidi_safetensors_get_f32(st, "empty", 2, (const int64_t[]){0, 4}, &p) == VIDI_OK);
    CHECK(vidi_safetensors_get_f32(st, "weird \"name\"\\", 1, (const int64_t[]){3}, &p) == VIDI_OK);
    CHECK(p && memcmp(p, b, sizeof b) == 0);
    vidi_safetensors_close(st);

    /* No tensors, no metadata: still a valid file. */
    CHECK(vidi_safetensors_write_f32(path, NULL, 0, NULL) == VIDI_OK);
    CHECK(vidi_safetensors_open(path, &st) == VIDI_OK);
    CHECK(vidi_safetensors_count(st) == 0);
    vidi_safetensors_close(st);
    unlink(path);

    /* Bad requests write nothing. */
    const vidi_st_write_entry dup[] = {{"x", 1, {1}, a}, {"x", 1, {1}, a}};
    CHECK(vidi_safetensors_write_f32(path, dup, 2, NULL) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "tensor 'x' given twice") != NULL);
    const vidi_st_write_entry no_data[] = {{"x", 1, {2}, NULL}};
    CHECK(vidi_safetensors_write_f32(path, no_data, 1, NULL) == VIDI_ERR_ARG);
    const vidi_st_write_entry neg[] = {{"x", 1, {-2}, a}};
    CHECK(vidi_safetensors_write_f32(path, neg, 1, NULL) == VIDI_ERR_ARG);
    const char *odd_meta[] = {"k", NULL, NULL};
    CHECK(vidi_safetensors_write_f32(path, entries, 1, odd_meta) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "metadata key 'k' has no value") != NULL);
    CHECK(access(path, F_OK) != 0);
    CHECK(vidi_safetensors_write_f32("/nonexistent/dir/m.safetensors", entries, 1, NULL) == VIDI_ERR_IO);
    CHECK(strstr(vidi_last_error(), "/nonexistent/dir/m.safetensors") != NULL);
    rmdir(dir);
}

/* Files written by the reference Python library (tools/make_fuzz_seeds.py;
 * the values there and here must match). */
static void test_reference_files(void) {
    vidi_safetensors *st = NULL;
    const float *p = NULL;

    CHECK(vidi_safetensors_open("tests/fixtures/safetensors/f16.safetensors", &st) == VIDI_OK);
    if (st) {
        const float f16[8] = {0.0f, 1.0f, -2.0f, 0.5f, 65504.0f, 6.103515625e-05f,
                              5.960464477539063e-08f, -0.0f};
        CHECK(vidi_safetensors_find(st, "w")->dtype == VIDI_F16);
        CHECK(vidi_safetensors_get_f32(st, "w", 2, (const int64_t[]){2, 4}, &p) == VIDI_OK);
        for (int i = 0; p && i < 8; i++) CHECK_MSG(p[i] == f16[i], "f16[%d] = %g, expected %g", i, p[i], f16[i]);
        CHECK(p && memcmp(&p[7], &f16[7], 4) == 0); /* sign of -0 kept */
        CHECK(strcmp(vidi_safetensors_metadata(st, "dtype"), "f16") == 0);
        vidi_safetensors_close(st);
    }

    CHECK(vidi_safetensors_open("tests/fixtures/safetensors/bf16.safetensors", &st) == VIDI_OK);
    if (st) {
        const float bf16[8] = {1.0f, -1.5f, 3.140625f, 0.0078125f, -256.0f, 0x1p100f, 0x1p-100f, 0.0f};
        CHECK(vidi_safetensors_get_f32(st, "w", 2, (const int64_t[]){4, 2}, &p) == VIDI_OK);
        for (int i = 0; p && i < 8; i++) CHECK_MSG(p[i] == bf16[i], "bf16[%d] = %g, expected %g", i, p[i], bf16[i]);
        CHECK(vidi_safetensors_get_f32(st, "b", 1, (const int64_t[]){2}, &p) == VIDI_OK);
        CHECK(p && p[0] == 0.25f && p[1] == -4.0f);
        CHECK(strcmp(vidi_safetensors_metadata(st, "format"), "pt") == 0);
        vidi_safetensors_close(st);
    }

    CHECK(vidi_safetensors_open("tests/fixtures/safetensors/f32.safetensors", &st) == VIDI_OK);
    if (st) {
        const float f32[6] = {0.1f, -1.0f, 3.5f, 1e-30f, 1e30f, -0.0f};
        CHECK(vidi_safetensors_get_f32(st, "x", 2, (const int64_t[]){3, 2}, &p) == VIDI_OK);
        CHECK(p && memcmp(p, f32, sizeof f32) == 0);
        const vidi_st_tensor *x = vidi_safetensors_find(st, "x");
        CHECK(x && p == x->data); /* the reference writer aligns data: no copy */
        CHECK(vidi_safetensors_get_f32(st, "scalar", 0, NULL, &p) == VIDI_OK && p && *p == 7.0f);
        CHECK(vidi_safetensors_get_f32(st, "empty", 2, (const int64_t[]){0, 3}, &p) == VIDI_OK);
        vidi_safetensors_close(st);
    }
}

/* The fuzz seeds must be valid, or the fuzzer starts from nothing. */
static void test_fuzz_seeds(void) {
    static const struct { const char *name; int count; } seeds[] = {
        {"f32", 2}, {"f16", 1}, {"bf16", 1}, {"metadata", 1}, {"scalar", 1},
        {"empty_tensor", 3}, {"mixed", 3 /* + one I64, not listed */}, {"no_tensors", 0},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "tests/fuzz/corpus/fuzz_safetensors/%s.safetensors", seeds[i].name);
        vidi_safetensors *st = NULL;
        CHECK_MSG(vidi_safetensors_open(path, &st) == VIDI_OK, "%s", vidi_last_error());
        CHECK_MSG(vidi_safetensors_count(st) == seeds[i].count, "%s: %d tensors", path,
                  vidi_safetensors_count(st));
        vidi_safetensors_close(st);
    }
}

int main(void) {
    test_framing();
    test_bad_json();
    test_bad_entries();
    test_bad_layout();
    test_other_dtypes();
    test_get_f32();
    test_open();
    test_write_roundtrip();
    test_reference_files();
    test_fuzz_seeds();
    return vidi_test_summary("safetensors");
}
