/* vidi — status codes and the thread-local last-error message. */
#ifndef VIDI_STATUS_H
#define VIDI_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_status {
    VIDI_OK = 0,
    VIDI_ERR_ARG,         /* bad argument or option */
    VIDI_ERR_IO,          /* missing / unreadable file */
    VIDI_ERR_FORMAT,      /* malformed file contents (header, JSON, image) */
    VIDI_ERR_SHAPE,       /* tensor missing or of the wrong shape / dtype */
    VIDI_ERR_NOMEM,       /* allocation failed */
    VIDI_ERR_UNSUPPORTED, /* valid input the library does not handle */
    VIDI_ERR_DECODE,      /* image / video decoding failed */
    VIDI_ERR_DEVICE,      /* the GPU (or its emulator) failed: kernel fault, driver error */
} vidi_status;

/* One-line message for the most recent failure on this thread
 * ("" when none). It names the file, tensor or field and the reason. */
const char *vidi_last_error(void);

/* Record a formatted message for vidi_last_error() and return `status`,
 * so callers can write `return vidi_set_error(VIDI_ERR_IO, "%s: ...", path)`. */
vidi_status vidi_set_error(vidi_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefix the current message with "prefix: " (keeps the status). */
vidi_status vidi_wrap_error(vidi_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void vidi_clear_error(void);

const char *vidi_status_name(vidi_status status);

#ifdef __cplusplus
}
#endif
#endif
