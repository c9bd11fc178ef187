/* Configuration loading (common/vf-config.c): defaults, typed values,
 * sectioned groups, and one clear error for each kind of mistake. */
#include "config.h"

#include <string.h>

#include <unistd.h>

#include <glib/gstdio.h>

#include "vf-config.h"
#include "vf-test.h"

static char *
write_config(const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("vf-config-XXXXXX.conf", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, &error));
    return path;
}

static void
assert_load_fails(const char *text, VfConfigError code, const char *fragment)
{
    g_autofree char *path = write_config(text);
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = vf_config_load(path, &error);

    g_assert_null(cfg);
    g_assert_error(error, VF_CONFIG_ERROR, (gint)code);
    if (!strstr(error->message, fragment))
        g_error("error '%s' does not mention '%s'", error->message, fragment);
    g_assert_nonnull(strstr(error->message, path));
    g_unlink(path);
}

static void
test_defaults(void)
{
    g_autoptr(VfConfig) cfg = vf_config_new_defaults();

    g_assert_cmpstr(vf_config_get_string(cfg, "hookd", "libvirt-uri"), ==, "qemu:///system");
    g_assert_cmpstr(vf_config_get_string(cfg, "hookd", "vf-backend"), ==, "emulated");
    g_assert_cmpint(vf_config_get_int(cfg, "hookd", "max-message-bytes"), ==, 4194304);
    g_assert_true(g_str_has_suffix(vf_config_get_string(cfg, "hookd", "ctl-socket"),
                                   "/vfailover/ctl.sock"));
}

static void
test_values_and_sections(void)
{
    g_autofree char *path = write_config(
        "# comment\n"
        "[hookd]\nlibvirt-uri = qemu+tcp://192.0.2.1/system\nhook-timeout-ms = 2500\n"
        "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 8\npool = fabric-a\n"
        "[pf:vfpf1]\nnum-vfs = 4\nvf-model = e1000e\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = vf_config_load(path, &error);
    g_auto(GStrv) pfs = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(vf_config_get_string(cfg, "hookd", "libvirt-uri"), ==, "qemu+tcp://192.0.2.1/system");
    g_assert_cmpint(vf_config_get_int(cfg, "hookd", "hook-timeout-ms"), ==, 2500);
    pfs = vf_config_sections(cfg, "pf");
    g_assert_cmpuint(g_strv_length(pfs), ==, 2);
    g_assert_cmpstr(pfs[0], ==, "enp3s0f0");
    g_assert_cmpstr(pfs[1], ==, "vfpf1");
    g_assert_cmpstr(vf_config_get_string(cfg, "pf:enp3s0f0", "backend"), ==, "kernel");
    g_assert_cmpint(vf_config_get_int(cfg, "pf:enp3s0f0", "num-vfs"), ==, 8);
    g_assert_cmpstr(vf_config_get_string(cfg, "pf:vfpf1", "pool"), ==, "default");
    g_assert_cmpstr(vf_config_get_string(cfg, "pf:vfpf1", "vf-model"), ==, "e1000e");
    g_assert_cmpstr(vf_config_get_string(cfg, "pf:enp3s0f0", "vf-model"), ==, "vmxnet3");
    /* Command line wins over the file. */
    vf_config_set_string(cfg, "hookd", "libvirt-uri", "test:///default");
    g_assert_cmpstr(vf_config_get_string(cfg, "hookd", "libvirt-uri"), ==, "test:///default");
    g_unlink(path);
}

static void
test_errors(void)
{
    assert_load_fails("[hookd]\nsockt = /x\n", VF_CONFIG_ERROR_UNKNOWN, "unknown key 'sockt' in [hookd]");
    assert_load_fails("[hooks]\n", VF_CONFIG_ERROR_UNKNOWN, "unknown group [hooks]");
    assert_load_fails("[pf:]\nnum-vfs = 1\n", VF_CONFIG_ERROR_UNKNOWN, "unknown group [pf:]");
    assert_load_fails("[pf:eth0]\nnum-vfs = many\n", VF_CONFIG_ERROR_INVALID, "[pf:eth0] num-vfs must be an integer, not 'many'");
    assert_load_fails("[pf:eth0]\nnum-vfs = 99999\n", VF_CONFIG_ERROR_INVALID, "num-vfs = 99999 is outside 0..4096");
    assert_load_fails("[hookd]\nvf-backend = magic\n", VF_CONFIG_ERROR_INVALID, "must be one of kernel|emulated, not 'magic'");
    assert_load_fails("[pf:eth0]\nvf-model = rtl8139\n", VF_CONFIG_ERROR_INVALID, "must be one of vmxnet3|e1000e, not 'rtl8139'");
    assert_load_fails("this is not a key file\n", VF_CONFIG_ERROR_READ, "cannot read configuration");
}

static void
test_missing_named_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = vf_config_load("/nonexistent/vfailover.conf", &error);

    g_assert_null(cfg);
    g_assert_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_READ);
    g_assert_nonnull(strstr(error->message, "/nonexistent/vfailover.conf"));
}

static void
test_example_file_loads(void)
{
    /* The shipped example must stay valid. */
    g_autofree char *path = vf_test_srcpath("doc/vfailover.conf.example");
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = vf_config_load(path, &error);

    g_assert_no_error(error);
    g_assert_cmpint(vf_config_get_int(cfg, "pf:vfpf0", "num-vfs"), ==, 4);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/defaults", test_defaults);
    g_test_add_func("/config/values-and-sections", test_values_and_sections);
    g_test_add_func("/config/errors", test_errors);
    g_test_add_func("/config/missing-named-file", test_missing_named_file);
    g_test_add_func("/config/example-file-loads", test_example_file_loads);
    return g_test_run();
}
