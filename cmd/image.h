/* image.h — `podium image import|ls|rm` (cmd/image.c). */
#ifndef PODIUM_CMD_IMAGE_H
#define PODIUM_CMD_IMAGE_H

/* argv[1] is "image". The exit status: 0, 1 failed, 2 usage. */
int image_main(int argc, char **argv);

#endif
