/*
 * Compiles a policy with libseccomp and writes the filter (seccomp_export_bpf)
 * to stdout, for differential tests. The policy comes on stdin, one item per line:
 *   default RET          default action, as a raw SECCOMP_RET_* value (hex)
 *   badarch RET          action for other architectures
 *   arch NAME            an architecture (libseccomp name); the native one is removed unless listed
 *   rule RET NAME N [INDEX OP VALUE VALUE2]*N   OP: ne lt le eq ge gt masked_eq
 * An optional argument sets SCMP_FLTATR_CTL_OPTIMIZE (2: libseccomp's binary tree).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum scmp_compare op_of(const char *s) {
  if (!strcmp(s, "ne")) return SCMP_CMP_NE;
  if (!strcmp(s, "lt")) return SCMP_CMP_LT;
  if (!strcmp(s, "le")) return SCMP_CMP_LE;
  if (!strcmp(s, "eq")) return SCMP_CMP_EQ;
  if (!strcmp(s, "ge")) return SCMP_CMP_GE;
  if (!strcmp(s, "gt")) return SCMP_CMP_GT;
  if (!strcmp(s, "masked_eq")) return SCMP_CMP_MASKED_EQ;
  fprintf(stderr, "bad op %s\n", s);
  exit(2);
}

int main(int argc, char **argv) {
  char word[64];
  unsigned long dflt = 0, badarch = 0;
  uint32_t arches[16];
  int narch = 0;
  if (scanf("%63s %lx", word, &dflt) != 2 || strcmp(word, "default")) return 2;
  if (scanf("%63s %lx", word, &badarch) != 2 || strcmp(word, "badarch")) return 2;
  scmp_filter_ctx ctx = seccomp_init((uint32_t)dflt);
  if (!ctx) return 2;
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, (uint32_t)badarch)) return 4;
  if (argc > 1 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)atoi(argv[1]))) return 4;
  int native_listed = 0;
  while (scanf("%63s", word) == 1) {
    if (!strcmp(word, "arch")) {
      char name[64];
      if (scanf("%63s", name) != 1 || narch == 16) return 2;
      uint32_t a = seccomp_arch_resolve_name(name);
      if (!a) { fprintf(stderr, "unknown arch %s\n", name); return 2; }
      if (a == seccomp_arch_native()) native_listed = 1;
      arches[narch++] = a;
    } else if (!strcmp(word, "rule")) {
      if (narch) {
        /* Add the listed arches, then drop the native one unless listed
         * (in that order: a filter's arches must share one byte order, and
         * the context may not be empty). */
        for (int i = 0; i < narch; i++) {
          if (arches[i] != seccomp_arch_native() && seccomp_arch_add(ctx, arches[i])) {
            if (i == 0 && !native_listed) { seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE); native_listed = 1; i--; continue; }
            fprintf(stderr, "arch_add %u failed\n", arches[i]);
            return 5;
          }
          if (i == 0 && !native_listed) { seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE); native_listed = 1; }
        }
        narch = 0;
      }
      unsigned long ret;
      char name[64];
      int n;
      if (scanf("%lx %63s %d", &ret, name, &n) != 3 || n < 0 || n > 6) return 2;
      struct scmp_arg_cmp cmp[6];
      for (int i = 0; i < n; i++) {
        char op[32];
        unsigned long long v1, v2;
        unsigned idx;
        if (scanf("%u %31s %llx %llx", &idx, op, &v1, &v2) != 4) return 2;
        cmp[i].arg = idx;
        cmp[i].op = op_of(op);
        cmp[i].datum_a = v1;
        cmp[i].datum_b = v2;
      }
      int nr = seccomp_syscall_resolve_name(name);
      if (nr == __NR_SCMP_ERROR) { fprintf(stderr, "unknown syscall %s\n", name); return 6; }
      int rc = seccomp_rule_add_array(ctx, (uint32_t)ret, nr, (unsigned)n, cmp);
      if (rc) { fprintf(stderr, "rule %s: %s\n", name, strerror(-rc)); return 7; }
    } else {
      fprintf(stderr, "bad line %s\n", word);
      return 2;
    }
  }
  if (seccomp_export_bpf(ctx, 1)) return 8;
  seccomp_release(ctx);
  return 0;
}
