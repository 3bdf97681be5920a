/* Video writer: every codec writes a file that ffprobe reads back with the
 * right size and frame count, output is byte-identical run to run, files
 * appear atomically, and bad arguments fail with a message naming the path. */
#include <libavutil/log.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/video_writer.h"

#define W 64
#define H 48
#define FRAMES 10

static char tmpdir[] = "/tmp/vidi_writer_XXXXXX";

/* A square sliding over a gradient: enough structure for every encoder. */
static void make_frame(uint8_t *rgb, int f) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + (y * W + x) * 3;
            int in = x >= 4 + 4 * f && x < 20 + 4 * f && y >= 16 && y < 32;
            p[0] = in ? 230 : (uint8_t)(x * 3);
            p[1] = in ? 40 : (uint8_t)(y * 4);
            p[2] = in ? 40 : 120;
        }
}

static vidi_status write_clip(const char *path, const char *codec) {
    vidi_video_writer_params p = vidi_video_writer_default_params();
    p.codec = codec;
    p.width = W;
    p.height = H;
    p.fps_num = 12;
    vidi_video_writer *w = NULL;
    vidi_status st = vidi_video_writer_open(path, &p, &w);
    if (st != VIDI_OK) return st;
    uint8_t rgb[W * H * 3];
    for (int f = 0; f < FRAMES && st == VIDI_OK; f++) {
        make_frame(rgb, f);
        st = vidi_video_writer_write_rgb(w, rgb, 0);
    }
    if (st != VIDI_OK) {
        vidi_video_writer_abort(w);
        return st;
    }
    CHECK(vidi_video_writer_frames(w) == FRAMES);
    return vidi_video_writer_close(w);
}

/* "WxH N" from ffprobe, or "" when it is not installed. */
static int probe(const char *path, char *out, size_t n) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=width,height,nb_read_frames "
             "-of csv=p=0 '%s' 2>/dev/null",
             path);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    out[0] = '\0';
    if (!fgets(out, (int)n, f)) out[0] = '\0';
    int rc = pclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return rc;
}

static int same_bytes(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    char *x = vidi_test_read_file(a, &na), *y = vidi_test_read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void test_codec(const char *codec) {
    if (vidi_video_codec_check(codec) != VIDI_OK) {
        printf("skip %s: %s\n", codec, vidi_last_error());
        return;
    }
    const char *ext = vidi_video_codec_extension(codec);
    char a[256], b[256], tmp[300];
    snprintf(a, sizeof a, "%s/a_%s.%s", tmpdir, codec, ext);
    snprintf(b, sizeof b, "%s/b_%s.%s", tmpdir, codec, ext);
    CHECK_MSG(write_clip(a, codec) == VIDI_OK, "%s: %s", codec, vidi_last_error());
    CHECK_MSG(write_clip(b, codec) == VIDI_OK, "%s: %s", codec, vidi_last_error());
    snprintf(tmp, sizeof tmp, "%s.tmp", a);
    CHECK_MSG(access(a, F_OK) == 0 && access(tmp, F_OK) != 0, "%s: file not moved into place", codec);
    CHECK_MSG(same_bytes(a, b), "%s: two runs differ", codec);
    char got[128], want[64];
    snprintf(want, sizeof want, "%d,%d,%d", W, H, FRAMES);
    if (probe(a, got, sizeof got) == 0 && got[0]) CHECK_MSG(!strcmp(got, want), "%s: ffprobe says %s, want %s", codec, got, want);
}

static void test_errors(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/x.mp4", tmpdir);
    CHECK(vidi_video_codec_check("h265x") == VIDI_ERR_UNSUPPORTED);
    CHECK(strstr(vidi_last_error(), "h265x") != NULL);
    CHECK(vidi_video_codec_extension("nope") == NULL);
    CHECK(write_clip(path, "h265x") == VIDI_ERR_UNSUPPORTED);
    CHECK(strstr(vidi_last_error(), path) != NULL);

    vidi_video_writer_params p = vidi_video_writer_default_params();
    vidi_video_writer *w = NULL;
    p.width = 63, p.height = 48; /* odd width: 4:2:0 cannot hold it */
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_ARG && !w);
    CHECK(strstr(vidi_last_error(), "even") != NULL);
    p.width = 0;
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_ARG);
    p.width = 64, p.fps_num = 0;
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_ARG);
    p.fps_num = 12, p.crf = 99;
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "quality") != NULL);
    p.crf = -1;

    snprintf(path, sizeof path, "%s/x.unknownext", tmpdir);
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "x.unknownext") != NULL);
    snprintf(path, sizeof path, "%s/no/such/dir/x.mp4", tmpdir);
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_IO);
    CHECK(strstr(vidi_last_error(), "no/such/dir") != NULL);
    /* The gif container holds only gif video. */
    snprintf(path, sizeof path, "%s/x.gif", tmpdir);
    CHECK(vidi_video_writer_open(path, &p, &w) == VIDI_ERR_UNSUPPORTED);

    /* Abort leaves nothing behind. */
    snprintf(path, sizeof path, "%s/aborted.mp4", tmpdir);
    if (vidi_video_writer_open(path, &p, &w) == VIDI_OK) {
        uint8_t rgb[64 * 48 * 3] = {0};
        CHECK(vidi_video_writer_write_rgb(w, rgb, 0) == VIDI_OK);
        vidi_video_writer_abort(w);
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        CHECK(access(path, F_OK) != 0 && access(tmp, F_OK) != 0);
    }
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    if (!mkdtemp(tmpdir)) return 1;
    test_codec("h264");
    test_codec("vp9");
    test_codec("mjpeg");
    test_codec("mpeg4");
    test_codec("gif");
    test_errors();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return vidi_test_summary("test_video_writer");
}
