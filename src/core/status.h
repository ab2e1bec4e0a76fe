/* Status codes shared by every module. Functions that can fail on user input return one of these
 * (0 on success, negative on failure) after reporting the cause through msg_error(). */
#ifndef SRC_STATUS_H
#define SRC_STATUS_H

enum {
    ST_OK = 0,
    ST_EINVAL = -1,  /* bad argument or value */
    ST_EIO = -2,     /* a file could not be read or written */
    ST_EPARSE = -3,  /* malformed input (YAML, ONNX, CSV ...) */
    ST_EFORMAT = -4, /* well-formed input that is unsupported or inconsistent */
    ST_EINTR = -5    /* interrupted by a signal; state was saved */
};

#endif
