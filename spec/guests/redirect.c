/* Points its own stderr at /dev/null, then makes a syscall and writes there. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    int null = open("/dev/null", O_WRONLY);

    if (null < 0 || dup2(null, 2) != 2) {
        perror("redirect");
        return 1;
    }
    getpid();
    write(2, "guest stderr\n", 13);
    printf("done\n");
    return 0;
}
