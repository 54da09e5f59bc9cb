/* Prints what uname() reports. */
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;

    if (uname(&u) != 0) {
        perror("uname");
        return 1;
    }
    printf("sysname=%s release=%s machine=%s\n", u.sysname, u.release, u.machine);
    return 0;
}
