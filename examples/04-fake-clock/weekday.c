/*
 * Lesson 4: a program that believes the clock and uname. It will not run
 * before 2030 or on a Friday, and it says which machine it runs on.
 * Exit status: 0 working, 1 too early, 2 a Friday.
 */
#include <stdio.h>
#include <sys/utsname.h>
#include <time.h>

int main(void)
{
    time_t now = time(NULL);
    struct utsname u;
    struct tm tm;
    char day[32];

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%A %Y-%m-%d", &tm);
    uname(&u);
    printf("Today is %s (UTC); the machine is %s.\n", day, u.machine);
    if (tm.tm_year + 1900 < 2030) {
        printf("This program only runs from 2030 on.\n");
        return 1;
    }
    if (tm.tm_wday == 5) {
        printf("No work on Fridays.\n");
        return 2;
    }
    printf("Working.\n");
    return 0;
}
