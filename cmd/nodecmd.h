/* nodecmd.h — `podium node ...` (nodecmd.c). */
#ifndef PODIUM_NODECMD_H
#define PODIUM_NODECMD_H

/* argv as main's, argv[1] == "node"; returns the exit status. */
int nodecmd_main(int argc, char **argv);

#endif
