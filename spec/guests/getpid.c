/* Prints the process id the kernel (or a hook) reports. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("pid=%ld\n", (long)getpid());
    return 0;
}
