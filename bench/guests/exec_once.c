/* Execs its arguments: a run of `exec_once empty` is QEMU's start-up, an
 * execve luahook follows, and the start-up of the QEMU that follows it. */
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        return 2;
    }
    execv(argv[1], argv + 1);
    return 1;
}
