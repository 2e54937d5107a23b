#define _GNU_SOURCE
#include "core/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/sha256.h"

static const char HOWTO[] =
    "picseek reads the dataset and the pretrained models from a folder named 'shared' "
    "beside the checkout (../shared). Put them there, or point $PICSEEK_SHARED at the folder "
    "holding dataset/ and models/ (or $PICSEEK_DATA / $PICSEEK_MODELS at each), or pass "
    "--data / --models. The models are the uint8 TFLite files of the google-coral/test_data "
    "repository on GitHub (see docs/ASSETS.md)";

char *ps_shared_dir(ps_error *err)
{
    const char *env = getenv("PICSEEK_SHARED");
    if (env && *env) {
        if (ps_is_dir(env))
            return ps_xstrdup(env);
        ps_errorf(err, "$PICSEEK_SHARED=%s is not a folder", env);
        return NULL;
    }
    if (ps_is_dir("shared/models") || ps_is_dir("shared/dataset"))
        return ps_xstrdup("shared");
    if (ps_is_dir("../shared/models") || ps_is_dir("../shared/dataset"))
        return ps_xstrdup("../shared");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        /* Walk up from the executable's folder, at most 4 levels. */
        for (int up = 0; up < 4; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash || slash == exe)
                break;
            *slash = '\0';
            char *cand = ps_path_join(exe, "../shared");
            if (ps_is_dir(cand))
                return cand;
            free(cand);
        }
    }
    ps_errorf(err, "cannot find the shared asset folder. %s", HOWTO);
    return NULL;
}

static char *resolve(const char *override, const char *env_name, const char *sub, ps_error *err)
{
    if (override && *override) {
        if (ps_is_dir(override))
            return ps_xstrdup(override);
        ps_errorf(err, "%s: no such folder", override);
        return NULL;
    }
    const char *env = getenv(env_name);
    if (env && *env) {
        if (ps_is_dir(env))
            return ps_xstrdup(env);
        ps_errorf(err, "$%s=%s is not a folder", env_name, env);
        return NULL;
    }
    char *shared = ps_shared_dir(err);
    if (!shared)
        return NULL;
    char *dir = ps_path_join(shared, sub);
    free(shared);
    if (!ps_is_dir(dir)) {
        ps_errorf(err, "%s: no such folder. %s", dir, HOWTO);
        free(dir);
        return NULL;
    }
    return dir;
}

char *ps_dataset_dir(const char *override, ps_error *err)
{
    return resolve(override, "PICSEEK_DATA", "dataset", err);
}

char *ps_models_dir(const char *override, ps_error *err)
{
    return resolve(override, "PICSEEK_MODELS", "models", err);
}

static int mkdir_p(const char *path)
{
    char *p = ps_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    int rc = mkdir(p, 0755);
    free(p);
    return (rc == 0 || errno == EEXIST) ? 0 : -1;
}

char *ps_cache_dir(ps_error *err)
{
    ps_buf b = {0};
    const char *env = getenv("PICSEEK_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (env && *env)
        ps_buf_puts(&b, env);
    else if (xdg && *xdg)
        ps_buf_printf(&b, "%s/picseek", xdg);
    else if (home && *home)
        ps_buf_printf(&b, "%s/.cache/picseek", home);
    else
        ps_buf_puts(&b, ".picseek-cache");
    if (mkdir_p(b.data) != 0 || !ps_is_dir(b.data)) {
        ps_errorf(err, "%s: cannot create cache folder: %s", b.data, strerror(errno));
        ps_buf_free(&b);
        return NULL;
    }
    return ps_buf_steal(&b);
}

int ps_verify_asset(const char *dir, const char *name, const char *sha256_hex, ps_error *err)
{
    char *path = ps_path_join(dir, name);
    if (!ps_is_file(path)) {
        ps_errorf(err, "%s: missing. %s", path, HOWTO);
        free(path);
        return -1;
    }
    char hex[65];
    if (ps_sha256_file(path, hex, err) != 0) {
        free(path);
        return -1;
    }
    if (strcmp(hex, sha256_hex) != 0) {
        ps_errorf(err, "%s: checksum mismatch (SHA-256 %s, expected %s): the file is damaged "
                  "or a different version. %s", path, hex, sha256_hex, HOWTO);
        free(path);
        return -1;
    }
    free(path);
    return 0;
}
