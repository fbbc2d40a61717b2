/* host_main.c - prints the checksums of checksums.c on the host. */
#include <stdint.h>
#include <stdio.h>

void report(const char *name, uint32_t hash);
void run_checksums(void);

void report(const char *name, uint32_t hash)
{
    printf("%s %08lx\n", name, (unsigned long)hash);
}

int main(void)
{
    run_checksums();
    return 0;
}
