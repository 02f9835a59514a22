/* storecmd.c — `podium store migrate --from ADDRESS --to ADDRESS`: every row of
 * one store into another, either way between sqlite and PostgreSQL
 * (store_copy: ids kept, secrets still sealed, a target that holds any row
 * refused, counts compared before the commit, the gallery's index made again). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/storecmd.h"
#include "orchestrator/store/store.h"

static void
store_usage(FILE *f)
{
	fputs("usage: podium store migrate --from ADDRESS --to ADDRESS\n"
	      "\n"
	      "Copies every row of one store into another: users, tokens, sessions, spaces,\n"
	      "builds, settings, variables and secrets (still sealed: keep DATA/secrets.key),\n"
	      "likes, with their ids; the gallery's index of the spaces is made again on the\n"
	      "target. ADDRESS is sqlite:PATH (a data dir's store is DIR/podium.db) or\n"
	      "postgres://USER:PASSWORD@HOST:PORT/DATABASE. Both are brought to this podium's\n"
	      "schema first; the target must hold no row, and nothing is written unless every\n"
	      "table's count matches. Stop the daemon first; afterwards start it with\n"
	      "--store ADDRESS (or store: ADDRESS in DATA/config.yaml) on the same data dir.\n",
	    f);
}

struct tally {
	int tables;
	int64_t rows;
};

static void
copied(const char *table, int64_t rows, void *arg)
{
	struct tally *t = arg;

	printf("  %-16s %lld rows\n", table, (long long)rows);
	t->tables++;
	t->rows += rows;
}

static int
migrate(const char *from_addr, const char *to_addr)
{
	char from_what[512], to_what[512], err[512];
	struct tally t = { 0, 0 };
	store *from = NULL, *to = NULL;
	int r = 1;

	/* opening a sqlite file that is not there would make an empty one */
	if (strncmp(from_addr, "postgres", 8) != 0 &&
	    access(strncmp(from_addr, "sqlite:", 7) == 0 ? from_addr + 7 : from_addr, F_OK) != 0) {
		fprintf(stderr, "podium: the source store %s does not exist\n", from_addr);
		goto done;
	}
	if (store_open(from_addr, &from) != 0) {
		fprintf(stderr, "podium: cannot open the source store (--from)\n");
		goto done;
	}
	if (store_open(to_addr, &to) != 0) {
		fprintf(stderr, "podium: cannot open the target store (--to)\n");
		goto done;
	}
	store_describe(from, from_what, sizeof(from_what));
	store_describe(to, to_what, sizeof(to_what));
	printf("from %s\nto   %s\n", from_what, to_what);
	if (store_copy(from, to, copied, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "podium: store migrate: %s; the target was left as it was\n", err);
		goto done;
	}
	printf("copied %lld rows of %d tables\n", (long long)t.rows, t.tables);
	r = 0;
done:
	store_close(from);
	store_close(to);
	return r;
}

int
storecmd_main(int argc, char **argv)
{
	const char *from = NULL, *to = NULL;

	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		store_usage(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	if (strcmp(argv[2], "migrate") != 0) {
		fprintf(stderr, "podium: unknown store command \"%s\"\n", argv[2]);
		store_usage(stderr);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0) {
			store_usage(stdout);
			return 0;
		}
		if ((strcmp(a, "--from") != 0 && strcmp(a, "--to") != 0) || v == NULL) {
			fprintf(stderr, "podium: %s\n",
			    v == NULL ? "--from and --to need a value" : "unexpected argument");
			store_usage(stderr);
			return 2;
		}
		if (a[2] == 'f')
			from = v;
		else
			to = v;
		i++;
	}
	if (from == NULL || to == NULL) {
		fprintf(stderr, "podium: store migrate needs --from and --to\n");
		store_usage(stderr);
		return 2;
	}
	return migrate(from, to);
}
