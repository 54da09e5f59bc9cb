/* The one-line error luahook stops with (fail.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fail.h"

void lh_fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("luahook: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}
