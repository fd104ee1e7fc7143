/*
 * Seccomp test probe: makes the system calls named on the command line and
 * prints one line per call, "ret errno". Each argument is
 *   sys:NR[:A0[:A1...]]    syscall(NR, A0..A5) through the native ABI
 *   int80:NR[:A0[:A1:A2]]  the i386 ABI (int $0x80) from this 64-bit process
 * Numbers accept 0x prefixes. Output goes through write(2) so nothing is
 * left in a stdio buffer if a later call kills the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return ret;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char *spec = strdup(argv[i]);
    char *kind = strtok(spec, ":");
    unsigned long v[7] = {0};
    int n = 0;
    for (char *t = strtok(NULL, ":"); t && n < 7; t = strtok(NULL, ":")) v[n++] = strtoul(t, NULL, 0);
    long ret;
    int err = 0;
    if (strcmp(kind, "int80") == 0) {
      ret = int80((long)v[0], (long)v[1], (long)v[2], (long)v[3]);
      if (ret < 0 && ret > -4096) { err = (int)-ret; ret = -1; }
    } else {
      errno = 0;
      ret = syscall((long)v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
      err = ret == -1 ? errno : 0;
    }
    char line[64];
    int len = snprintf(line, sizeof line, "%ld %d\n", ret, err);
    if (write(1, line, (size_t)len) != len) return 3;
    free(spec);
  }
  return 0;
}
