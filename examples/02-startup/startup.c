/*
 * Lesson 2: how a program starts. main() only prints a line: everything
 * else in the trace is the C library (and, built dynamically, the dynamic
 * loader) getting ready before main and cleaning up after it.
 */
#include <stdio.h>

int main(void)
{
    puts("hello from main");
    return 0;
}
