/*
 * main.c - the picseek entry point: dispatch `picseek <command> ...` to the
 * command's function, git-style.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
#define PS_CMD(name, summary) {#name, cmd_##name, summary},
#include "cli/commands.h"
#undef PS_CMD
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: picseek <command> [options] [arguments]\n"
            "\n"
            "picseek ranks photos by how well they match a sentence.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; COMMANDS[i].name; i++) {
        char shown[32];
        snprintf(shown, sizeof shown, "%s", COMMANDS[i].name);
        for (char *p = shown; *p; p++)
            *p = *p == '_' ? '-' : *p;
        fprintf(f, "  %-14s %s\n", shown, COMMANDS[i].summary);
    }
    fprintf(f,
            "  %-14s %s\n"
            "  %-14s %s\n"
            "\n"
            "Run 'picseek <command> --help' for a command's options.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n"
            "\n"
            "Environment:\n"
            "  PICSEEK_SHARED  folder holding dataset/ and models/ (default: ../shared)\n"
            "  PICSEEK_DATA    the dataset folder;  PICSEEK_MODELS  the models folder\n"
            "  PICSEEK_CACHE   cache for derived files (default: ~/.cache/picseek)\n",
            "help", "Show this list, or 'picseek help <command>' for one command",
            "version", "Print the version");
}

/* A command's C name spells '-' as '_' (cmd_embed_text is "embed-text"). */
static int same_name(const char *table, const char *typed)
{
    for (; *table && *typed; table++, typed++)
        if (*table != *typed && !(*table == '_' && *typed == '-'))
            return 0;
    return *table == *typed;
}

static const command *find(const char *name)
{
    for (size_t i = 0; COMMANDS[i].name; i++)
        if (same_name(COMMANDS[i].name, name))
            return &COMMANDS[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return PS_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc >= 3 && strcmp(name, "help") == 0) {
            const command *c = find(argv[2]);
            if (!c) {
                fprintf(stderr, "picseek: '%s' is not a picseek command. See 'picseek help'.\n", argv[2]);
                return PS_EXIT_USAGE;
            }
            char *args[] = {(char *)c->name, "--help", NULL};
            return c->run(2, args);
        }
        usage(stdout);
        return PS_EXIT_OK;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("picseek %s\n", PICSEEK_VERSION);
        return PS_EXIT_OK;
    }
    const command *c = find(name);
    if (!c) {
        fprintf(stderr, "picseek: '%s' is not a picseek command. See 'picseek help'.\n", name);
        return PS_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
