/* storecmd.h — `podium store ...` (storecmd.c). */
#ifndef PODIUM_STORECMD_H
#define PODIUM_STORECMD_H

/* argv as main's, argv[1] == "store"; returns the exit status. */
int storecmd_main(int argc, char **argv);

#endif
