/* Config JSON helpers and label lists: values read right, every error names
 * the file and the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nn/io/json_file.h"
#include "nn/io/labels.h"

static char temp_dir[] = "/tmp/vidi_json_XXXXXX";

/* Writes `text` to temp_dir/name and returns the path (static buffer per call site). */
static const char *write_temp(const char *name, const char *text, size_t len, char path[256]) {
    snprintf(path, 256, "%s/%s", temp_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return path;
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}
#define TEMP(name, text, buf) write_temp(name, text, sizeof(text) - 1, buf)

static int msg_is(const char *expected) {
    if (strcmp(vidi_last_error(), expected) == 0) return 1;
    fprintf(stderr, "  message: '%s'\n  expected '%s'\n", vidi_last_error(), expected);
    return 0;
}

static int msg_has(const char *a, const char *b) {
    const char *m = vidi_last_error();
    if (strstr(m, a) && (!b || strstr(m, b))) return 1;
    fprintf(stderr, "  message: '%s' lacks '%s' / '%s'\n", m, a, b ? b : "");
    return 0;
}

static void test_load(void) {
    char path[256], expect[400];
    cJSON *j = (cJSON *)1;
    CHECK(vidi_json_load_file("/nonexistent/config.json", &j) == VIDI_ERR_IO);
    CHECK(j == NULL);
    CHECK(msg_is("/nonexistent/config.json: cannot open: No such file or directory"));

    TEMP("bad.json", "{\"a\": 1,\n \"b\": tru}", path);
    CHECK(vidi_json_load_file(path, &j) == VIDI_ERR_FORMAT);
    snprintf(expect, sizeof expect, "%s: invalid JSON near byte ", path);
    CHECK(msg_has(expect, "(line 2)"));

    TEMP("trailing.json", "{} x", path);
    CHECK(vidi_json_load_file(path, &j) == VIDI_ERR_FORMAT);
    snprintf(expect, sizeof expect, "%s: invalid JSON near byte 3 (line 1)", path);
    CHECK(msg_is(expect));

    TEMP("empty.json", "", path);
    CHECK(vidi_json_load_file(path, &j) == VIDI_ERR_FORMAT);
    CHECK(msg_has("invalid JSON near byte 0", NULL));

    TEMP("nul.json", "{\"a\": 1}\0garbage", path);
    CHECK(vidi_json_load_file(path, &j) == VIDI_ERR_FORMAT);
    CHECK(msg_has("invalid JSON near byte 8", NULL));

    CHECK(vidi_json_load_file(temp_dir, &j) == VIDI_ERR_IO); /* a directory */
    CHECK(msg_has(temp_dir, "cannot"));

    TEMP("bom.json", "\xEF\xBB\xBF{\"a\": 1}\n", path);
    CHECK(vidi_json_load_file(path, &j) == VIDI_OK);
    int a = 0;
    CHECK(vidi_json_get_int(j, "a", path, &a, 0, 1) == VIDI_OK && a == 1);
    cJSON_Delete(j);
}

static void test_getters(void) {
    char path[256], expect[400];
    TEMP("config.json",
         "{\"hidden_size\": 768, \"as_float\": 768.0, \"neg\": -3, \"half\": 1.5, \"big\": 3e9,"
         " \"name\": \"vit\", \"flag\": true, \"off\": false, \"one\": 1, \"nothing\": null,"
         " \"eps\": 1e-12, \"mean\": [0.5, 0.25, 0], \"short\": [1, 2], \"mixed\": [1, \"2\", 3]}",
         path);
    cJSON *j = NULL;
    CHECK(vidi_json_load_file(path, &j) == VIDI_OK);
    if (!j) return;
    const char *F = "config.json";
    int i = -1;
    CHECK(vidi_json_get_int(j, "hidden_size", F, &i, 0, 1) == VIDI_OK && i == 768);
    CHECK(vidi_json_get_int(j, "as_float", F, &i, 0, 1) == VIDI_OK && i == 768);
    CHECK(vidi_json_get_int(j, "neg", F, &i, 0, 1) == VIDI_OK && i == -3);
    CHECK(vidi_json_get_int(j, "absent", F, &i, 12, 0) == VIDI_OK && i == 12);
    CHECK(vidi_json_get_int(j, "nothing", F, &i, 7, 0) == VIDI_OK && i == 7); /* null = absent */
    i = 99;
    CHECK(vidi_json_get_int(j, "absent", F, &i, 12, 1) == VIDI_ERR_FORMAT && i == 99);
    CHECK(msg_is("config.json: missing key 'absent'"));
    CHECK(vidi_json_get_int(j, "name", F, &i, 0, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'name' must be an integer"));
    CHECK(vidi_json_get_int(j, "half", F, &i, 0, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'half' must be an integer"));
    CHECK(vidi_json_get_int(j, "big", F, &i, 0, 1) == VIDI_ERR_FORMAT);
    CHECK(vidi_json_get_int(j, "flag", F, &i, 0, 1) == VIDI_ERR_FORMAT);

    double d = 0;
    CHECK(vidi_json_get_float(j, "eps", F, &d, 0, 1) == VIDI_OK && d == 1e-12);
    CHECK(vidi_json_get_float(j, "hidden_size", F, &d, 0, 1) == VIDI_OK && d == 768.0);
    CHECK(vidi_json_get_float(j, "absent", F, &d, 1e-6, 0) == VIDI_OK && d == 1e-6);
    CHECK(vidi_json_get_float(j, "name", F, &d, 0, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'name' must be a number"));

    const char *s = NULL;
    CHECK(vidi_json_get_string(j, "name", F, &s, NULL, 1) == VIDI_OK && s && !strcmp(s, "vit"));
    CHECK(vidi_json_get_string(j, "absent", F, &s, "gelu", 0) == VIDI_OK && !strcmp(s, "gelu"));
    CHECK(vidi_json_get_string(j, "one", F, &s, NULL, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'one' must be a string"));

    int b = -1;
    CHECK(vidi_json_get_bool(j, "flag", F, &b, 0, 1) == VIDI_OK && b == 1);
    CHECK(vidi_json_get_bool(j, "off", F, &b, 1, 1) == VIDI_OK && b == 0);
    CHECK(vidi_json_get_bool(j, "absent", F, &b, 1, 0) == VIDI_OK && b == 1);
    CHECK(vidi_json_get_bool(j, "one", F, &b, 0, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'one' must be true or false"));

    double v[3] = {0}, def[3] = {9, 8, 7};
    CHECK(vidi_json_get_float_array(j, "mean", F, v, 3, NULL, 1) == VIDI_OK);
    CHECK(v[0] == 0.5 && v[1] == 0.25 && v[2] == 0.0);
    CHECK(vidi_json_get_float_array(j, "absent", F, v, 3, def, 0) == VIDI_OK && v[2] == 7);
    CHECK(vidi_json_get_float_array(j, "short", F, v, 3, NULL, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'short' must be an array of 3 numbers"));
    CHECK(vidi_json_get_float_array(j, "mixed", F, v, 3, NULL, 1) == VIDI_ERR_FORMAT);
    CHECK(vidi_json_get_float_array(j, "eps", F, v, 1, NULL, 1) == VIDI_ERR_FORMAT);
    CHECK(msg_is("config.json: key 'eps' must be an array of 1 number"));
    CHECK(vidi_json_get_float_array(j, "absent", F, v, 3, NULL, 1) == VIDI_ERR_FORMAT);

    /* Not an object: an error, not a crash. */
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "mean");
    CHECK(vidi_json_get_int(arr, "x", F, &i, 0, 0) == VIDI_ERR_FORMAT);
    CHECK(vidi_json_get_int(NULL, "x", F, &i, 0, 0) == VIDI_ERR_FORMAT);
    snprintf(expect, sizeof expect, "config.json: expected a JSON object holding key 'x'");
    CHECK(msg_is(expect));
    cJSON_Delete(j);
}

static void test_id2label(void) {
    char path[256], expect[400];
    vidi_labels l = {0, NULL};
    TEMP("labels.json", "{\"id2label\": {\"1\": \"dog\", \"0\": \"cat\", \"2\": \"crane\", \"3\": \"crane\"}}", path);
    CHECK(vidi_labels_load_config(path, &l) == VIDI_OK);
    CHECK(l.count == 4);
    CHECK(vidi_labels_get(&l, 0) && !strcmp(vidi_labels_get(&l, 0), "cat"));
    CHECK(vidi_labels_get(&l, 1) && !strcmp(vidi_labels_get(&l, 1), "dog"));
    CHECK(vidi_labels_get(&l, 3) && !strcmp(vidi_labels_get(&l, 3), "crane"));
    CHECK(vidi_labels_get(&l, 4) == NULL && vidi_labels_get(&l, -1) == NULL);
    vidi_labels_free(&l);
    CHECK(l.count == 0 && l.names == NULL);
    vidi_labels_free(&l); /* twice is harmless */

    CHECK(vidi_labels_load(path, &l) == VIDI_OK && l.count == 4); /* by extension */
    vidi_labels_free(&l);

    struct { const char *json, *part; } bad[] = {
        {"{\"id2label\": {\"0\": \"a\", \"2\": \"c\"}}", "id2label key '2' is not an index 0..1 (2 entries)"},
        {"{\"id2label\": {\"0\": \"a\", \"0\": \"b\"}}", "id2label key '0' appears twice"},
        {"{\"id2label\": {\"0\": \"a\", \"01\": \"b\"}}", "id2label key '01' is not an index"},
        {"{\"id2label\": {\"0\": \"a\", \"-1\": \"b\"}}", "id2label key '-1' is not an index"},
        {"{\"id2label\": {\"x\": \"a\"}}", "id2label key 'x' is not an index 0..0 (1 entry)"},
        {"{\"id2label\": {\"0\": 5}}", "id2label key '0' must map to a string"},
        {"{\"id2label\": {}}", "key 'id2label' is empty"},
        {"{\"id2label\": [\"a\"]}", "key 'id2label' must be an object"},
        {"{\"label2id\": {}}", "missing key 'id2label'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        write_temp("bad_labels.json", bad[k].json, strlen(bad[k].json), path);
        l.count = 5;
        CHECK_MSG(vidi_labels_load_config(path, &l) == VIDI_ERR_FORMAT, "case %zu", k);
        CHECK(l.count == 0 && l.names == NULL);
        snprintf(expect, sizeof expect, "%s: %s", path, bad[k].part);
        CHECK_MSG(strncmp(vidi_last_error(), expect, strlen(expect)) == 0, "case %zu: '%s'", k,
                  vidi_last_error());
    }
    CHECK(vidi_labels_load_config("/nonexistent/config.json", &l) == VIDI_ERR_IO);
}

static void test_text_labels(void) {
    char path[256], expect[400];
    vidi_labels l = {0, NULL};
    TEMP("labels.txt", "\xEF\xBB\xBF" "abseiling\r\nair drumming  \r\nanswering questions\n\n\n", path);
    CHECK(vidi_labels_load_text(path, &l) == VIDI_OK);
    CHECK(l.count == 3);
    CHECK(l.count == 3 && !strcmp(l.names[0], "abseiling") && !strcmp(l.names[1], "air drumming") &&
          !strcmp(l.names[2], "answering questions"));
    vidi_labels_free(&l);

    TEMP("nonl.txt", "a\nb", path); /* no final newline */
    CHECK(vidi_labels_load(path, &l) == VIDI_OK && l.count == 2 && !strcmp(l.names[1], "b"));
    vidi_labels_free(&l);

    TEMP("gap.txt", "a\n\nb\n", path);
    CHECK(vidi_labels_load_text(path, &l) == VIDI_ERR_FORMAT);
    snprintf(expect, sizeof expect, "%s: line 2 is empty (labels are one per line)", path);
    CHECK(msg_is(expect));
    CHECK(l.count == 0 && l.names == NULL);

    TEMP("blank.txt", "\n  \n", path);
    CHECK(vidi_labels_load_text(path, &l) == VIDI_ERR_FORMAT);
    CHECK(msg_has(path, "no labels"));

    TEMP("nul.txt", "a\nb\0c\n", path);
    CHECK(vidi_labels_load_text(path, &l) == VIDI_ERR_FORMAT);
    CHECK(msg_has(path, "line 2 contains a NUL byte"));

    CHECK(vidi_labels_load_text("/nonexistent/labels.txt", &l) == VIDI_ERR_IO);
    CHECK(msg_is("/nonexistent/labels.txt: cannot open: No such file or directory"));
}

static void remove_temp_dir(void) {
    static const char *names[] = {"bad.json", "trailing.json", "empty.json", "nul.json",
                                  "bom.json", "config.json", "labels.json", "bad_labels.json",
                                  "labels.txt", "nonl.txt", "gap.txt", "blank.txt", "nul.txt"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", temp_dir, names[i]);
        unlink(path);
    }
    rmdir(temp_dir);
}

int main(void) {
    if (!mkdtemp(temp_dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    test_load();
    test_getters();
    test_id2label();
    test_text_labels();
    remove_temp_dir();
    return vidi_test_summary("json");
}
