/* Thread-local last-error message: the library never prints, it records. */
#include "vidi/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VIDI_ERROR_LEN 512

static _Thread_local char error_message[VIDI_ERROR_LEN];

const char *vidi_last_error(void) { return error_message; }

void vidi_clear_error(void) { error_message[0] = '\0'; }

vidi_status vidi_set_error(vidi_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return status;
}

vidi_status vidi_wrap_error(vidi_status status, const char *fmt, ...) {
    char prefix[VIDI_ERROR_LEN];
    char previous[VIDI_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(previous, error_message, sizeof previous);
    /* Over-long messages are cut: the start names the file, which matters most. */
    if (snprintf(error_message, sizeof error_message, "%s: %s", prefix, previous) < 0) error_message[0] = '\0';
    return status;
}

const char *vidi_status_name(vidi_status status) {
    switch (status) {
    case VIDI_OK: return "ok";
    case VIDI_ERR_ARG: return "bad argument";
    case VIDI_ERR_IO: return "i/o error";
    case VIDI_ERR_FORMAT: return "bad format";
    case VIDI_ERR_SHAPE: return "bad shape";
    case VIDI_ERR_NOMEM: return "out of memory";
    case VIDI_ERR_UNSUPPORTED: return "unsupported";
    case VIDI_ERR_DECODE: return "decode error";
    case VIDI_ERR_DEVICE: return "device error";
    }
    return "unknown status";
}
