/* Bad input to the decoder: every case fails with the right status and one
 * line that names the input, quickly (network cases within a few seconds). */
#include <arpa/inet.h>
#include <libavutil/log.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/decode.h"

#define DIR "tests/fixtures/video/"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void expect_fail(const char *url, const vidi_decoder_params *p, vidi_status want, const char *reason) {
    vidi_decoder *dec = (vidi_decoder *)&dec; /* must be reset to NULL */
    vidi_status st = vidi_decoder_open(url, p, &dec);
    const char *msg = vidi_last_error();
    CHECK_MSG(st == want, "%s: status %s, expected %s (%s)", url, vidi_status_name(st), vidi_status_name(want), msg);
    CHECK_MSG(dec == NULL, "%s: handle left on failure", url);
    CHECK_MSG(strstr(msg, url) != NULL, "%s: message does not name the input: %s", url, msg);
    CHECK_MSG(strstr(msg, reason) != NULL, "%s: message lacks '%s': %s", url, reason, msg);
    CHECK_MSG(strchr(msg, '\n') == NULL, "%s: message is not one line", url);
    if (st == VIDI_OK) vidi_decoder_close(dec);
}

/* A TCP port on 127.0.0.1 that refuses connections (bound, then closed). */
static int closed_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

/* A listener that completes the TCP handshake (the kernel does, from the
 * backlog) and never sends a byte. */
static int silent_listener(int *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) {
        close(s);
        return -1;
    }
    getsockname(s, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return s;
}

static void test_files(void) {
    expect_fail("tests/fixtures/video/no_such_file.mp4", NULL, VIDI_ERR_IO, "No such file");
    expect_fail("tests/fixtures/video", NULL, VIDI_ERR_IO, "directory");
    expect_fail(DIR "garbage.mp4", NULL, VIDI_ERR_FORMAT, "not a readable video file");
    expect_fail(DIR "audio_only.mp4", NULL, VIDI_ERR_UNSUPPORTED, "no video stream (audio only)");
    expect_fail(DIR "zero_frames.y4m", NULL, VIDI_ERR_FORMAT, "no video frames");
    expect_fail(DIR "zero_size.y4m", NULL, VIDI_ERR_FORMAT, "not a readable video file");
    expect_fail(DIR "huge.y4m", NULL, VIDI_ERR_FORMAT, "not a readable video file");
    expect_fail(DIR "unsupported_codec.avi", NULL, VIDI_ERR_UNSUPPORTED, "unsupported video codec");
    vidi_decoder_params p = vidi_decoder_default_params();
    p.max_pixels = 1000; /* 96x64 is over it */
    expect_fail(DIR "cfr.mp4", &p, VIDI_ERR_UNSUPPORTED, "unsupported frame size 96x64");
    p = vidi_decoder_default_params();
    p.out_width = 10; /* width without height */
    expect_fail(DIR "cfr.mp4", &p, VIDI_ERR_ARG, "output size");
}

static void test_backend_names(void) {
    vidi_decoder_backend b;
    CHECK(vidi_decoder_backend_parse("ffmpeg", &b) == VIDI_OK && b == VIDI_DECODER_FFMPEG);
    CHECK(vidi_decoder_backend_parse("vlc", &b) == VIDI_ERR_ARG && strstr(vidi_last_error(), "vlc"));
    vidi_status st = vidi_decoder_backend_parse("gst", &b);
    if (vidi_decoder_backend_available(VIDI_DECODER_GST))
        CHECK(st == VIDI_OK && b == VIDI_DECODER_GST);
    else
        CHECK(st == VIDI_ERR_UNSUPPORTED && strstr(vidi_last_error(), "not built with GStreamer"));
}

static void test_network(void) {
    vidi_decoder_params p = vidi_decoder_default_params();
    p.timeout_s = 1.5;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x.mp4", closed_port());
    double t0 = now_s();
    expect_fail(url, &p, VIDI_ERR_IO, "cannot open");
    CHECK_MSG(now_s() - t0 < 4.0, "closed port took %.1f s", now_s() - t0);

    int port = 0, s = silent_listener(&port);
    CHECK(s >= 0);
    if (s < 0) return;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x.mp4", port);
    t0 = now_s();
    expect_fail(url, &p, VIDI_ERR_IO, "timed out");
    double took = now_s() - t0;
    CHECK_MSG(took > 1.0 && took < 4.0, "silent server took %.1f s (timeout 1.5 s)", took);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    t0 = now_s();
    expect_fail(url, &p, VIDI_ERR_IO, "timed out");
    CHECK_MSG(now_s() - t0 < 4.0, "silent tcp took %.1f s", now_s() - t0);
    close(s);
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    test_files();
    test_backend_names();
    test_network();
    return vidi_test_summary("test_decode_errors");
}
