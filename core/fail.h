/*
 * The one line bad input stops luahook with, "luahook: MESSAGE" on stderr,
 * for the plugin (before the guest runs) and the luahook command alike.
 * Plain C (no GLib): the command shares it.
 */
#ifndef LUAHOOK_CORE_FAIL_H
#define LUAHOOK_CORE_FAIL_H

/* Prints "luahook: MESSAGE" on stderr and exits with `code`. */
_Noreturn void lh_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
