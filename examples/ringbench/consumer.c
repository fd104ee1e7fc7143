// The same consumer as bench/ringbuf.ts, written with libbpf: run `emit`
// RUNS times with BPF_PROG_TEST_RUN, consuming the ring buffer after each
// run; print events, lost, wall and CPU seconds of the consumer as JSON.
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static unsigned long long expected, got, bad;

static int on_event(void *ctx, void *data, size_t size)
{
	unsigned long long s;
	memcpy(&s, data, 8);
	if (size != 64 || s != expected)
		bad++;
	expected++;
	got++;
	return 0;
}

static double now(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: consumer OBJ RUNS BATCH\n");
		return 2;
	}
	int runs = atoi(argv[2]);
	unsigned int batch = atoi(argv[3]);
	libbpf_set_print(NULL);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) return 1;
	struct bpf_map *data = bpf_object__find_map_by_name(obj, ".data");
	size_t sz;
	void *init = bpf_map__initial_value(data, &sz);
	if (!init) return 1;
	memcpy(init, &batch, 4);
	if (bpf_object__load(obj)) return 1;
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "emit"));
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_event, NULL, NULL);
	if (!rb) return 1;
	double consume = 0, wall0 = now(CLOCK_MONOTONIC), cpu_consume = 0;
	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		if (bpf_prog_test_run_opts(prog, &opts)) return 1;
		double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		ring_buffer__consume(rb);
		consume += now(CLOCK_MONOTONIC) - t0;
		cpu_consume += now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	}
	double wall = now(CLOCK_MONOTONIC) - wall0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"events\":%llu,\"bad\":%llu,\"consume_s\":%.6f,\"consume_cpu_s\":%.6f,\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f}\n",
	       got, bad, consume, cpu_consume, wall, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return bad != 0;
}
