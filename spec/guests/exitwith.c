/*
 * Ends the way it is told, for specs of exit status passthrough:
 *   exitwith CODE       exits with status CODE
 *   exitwith kill SIG   kills itself with signal SIG
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "kill")) {
        kill(getpid(), atoi(argv[2]));
        return 100;             /* only if the signal did not kill */
    }
    return argc == 2 ? atoi(argv[1]) : 100;
}
