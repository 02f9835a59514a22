/* usercmd.h — `podium user ...` (usercmd.c). */
#ifndef PODIUM_USERCMD_H
#define PODIUM_USERCMD_H

/* argv as main's, argv[1] == "user"; returns the exit status. */
int usercmd_main(int argc, char **argv);

#endif
