/*
 * A qemu-user TCG plugin that counts the guest instructions a process
 * executes and prints "insns PID COUNT" on stderr (qemu's log) when it exits.
 * A forked child inherits the plugin and prints its own line.
 *
 *   cc -O2 -shared -fPIC -o insn.so bench/qemu_insn_count.c
 *   qemu-arm -L SYSROOT -plugin ./insn.so -d plugin ./scepd --once
 *
 * Debian's qemu-user is built with plugin support but ships neither plugins
 * nor qemu-plugin.h, so the few entry points of the plugin API (version 1,
 * qemu 4.2 to 8.0) are declared here. Counting is inline (one add per
 * translated block executed), which is exact for a single guest thread.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb*));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op,
                                              void* ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void*),
                                    void* userdata);
void qemu_plugin_outs(const char* text);

EXPORT int qemu_plugin_version = 1;

static uint64_t executed;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                           qemu_plugin_tb_n_insns(tb));
}

static void on_exit_print(qemu_plugin_id_t id, void* userdata) {
  (void)id;
  (void)userdata;
  char line[80];
  snprintf(line, sizeof line, "insns %ld %" PRIu64 "\n", (long)getpid(), executed);
  qemu_plugin_outs(line);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                               char** argv) {
  (void)info;
  (void)argc;
  (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_print, NULL);
  return 0;
}
