// Exhaustive depth-first search for a base block B (0 in B, and B1 if B1 > 0; the rest increasing) of size K
// in an abelian group of order v whose K(K-1)/2 difference pairs {a - b, b - a} fall in distinct
// classes; single_orbit_df.py writes the input (v, the subtraction table, each element's class)
// and explains what a solution gives. Prints every B found (up to LIMIT) and the nodes visited.
#include <stdio.h>
#include <stdlib.h>

static int v, K, *sub, *cls, B[16], used[512];
static long long nodes, found, limit;

static void extend(int k, int start) {
  nodes++;
  if (k == K) {
    found++;
    printf("B:");
    for (int i = 0; i < K; i++) printf(" %d", B[i]);
    printf("\n");
    fflush(stdout);
    if (found >= limit) {
      fprintf(stderr, "nodes %lld found %lld (stopped at the limit)\n", nodes, found);
      exit(0);
    }
    return;
  }
  for (int x = start; x < v; x++) {
    int c[16], i, ok = 1;
    for (i = 0; i < k; i++) {
      c[i] = cls[sub[x * v + B[i]]];
      if (used[c[i]]) { ok = 0; break; }
      used[c[i]] = 1;
    }
    if (ok) { B[k] = x; extend(k + 1, x + 1); }
    for (int j = 0; j < i; j++) used[c[j]] = 0;
  }
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: single_orbit_df K B1 LIMIT < input\n"); return 2; }
  K = atoi(argv[1]);
  B[1] = atoi(argv[2]);
  limit = atoll(argv[3]);
  if (K < 3 || K > 16 || scanf("%d", &v) != 1) return 2;
  sub = malloc(sizeof(int) * v * v);
  cls = malloc(sizeof(int) * v);
  for (int i = 0; i < v * v; i++) if (scanf("%d", &sub[i]) != 1) return 2;
  for (int i = 0; i < v; i++) if (scanf("%d", &cls[i]) != 1 || cls[i] >= 512) return 2;
  if (B[1] > 0) {  // B[1] fixed (a scaling normalises it), the rest above it
    used[cls[sub[B[1] * v]]] = 1;
    extend(2, B[1] + 1);
  } else {
    extend(1, 1);
  }
  fprintf(stderr, "nodes %lld found %lld\n", nodes, found);
  return 0;
}
