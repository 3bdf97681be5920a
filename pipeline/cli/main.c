/* vidi — command-line entry point (placeholder until the commands land). */
#include <stdio.h>

int main(void) {
    puts("vidi: no commands yet");
    return 0;
}
