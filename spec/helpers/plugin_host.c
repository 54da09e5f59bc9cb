/*
 * Loads a QEMU plugin and calls its qemu_plugin_install as QEMU's loader
 * does, but announcing the plugin API versions given on the command line:
 * what a plugin does in a QEMU of another API than its own, which cannot
 * be built here (spec/build_spec.lua).
 *
 *   plugin_host PLUGIN.so MIN CUR [PLUGIN-ARG...]
 *
 * Lazy binding lets the plugin load without QEMU's functions; it must not
 * call one, so only an install that stops first can be checked this way.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <qemu-plugin.h>

typedef int (*install_fn)(qemu_plugin_id_t id, const qemu_info_t *info,
                          int argc, char **argv);

int main(int argc, char **argv)
{
    qemu_info_t info = { .target_name = "i386" };
    void *plugin;
    install_fn install;

    if (argc < 4) {
        fprintf(stderr, "usage: plugin_host PLUGIN.so MIN CUR [PLUGIN-ARG...]\n");
        return 2;
    }
    plugin = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
    if (!plugin) {
        fprintf(stderr, "plugin_host: %s\n", dlerror());
        return 2;
    }
    *(void **)&install = dlsym(plugin, "qemu_plugin_install");
    if (!install) {
        fprintf(stderr, "plugin_host: %s\n", dlerror());
        return 2;
    }
    info.version.min = atoi(argv[2]);
    info.version.cur = atoi(argv[3]);
    return install(1, &info, argc - 4, argv + 4);
}
