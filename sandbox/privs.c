/*
 * Identity and capabilities inside the box.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

/* Become the inside user while keeping the user namespace's capabilities:
 * init still has to mount, and files it creates on the new tmpfs must be
 * owned by a mapped id (an unmapped fsuid makes creation fail). */
int
sandbox_privs_switch_ids(uid_t uid, gid_t gid)
{
	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) != 0)
		return -errno;
	if (setresgid(gid, gid, gid) != 0)
		return -errno;
	if (setresuid(uid, uid, uid) != 0)
		return -errno;
	return 0;
}

/* Drop every capability: bounding set (so no exec can regain one), ambient,
 * then permitted/effective/inheritable.  Securebits are locked so a later
 * exec of a uid-0 file (impossible here, but cheap to forbid) grants
 * nothing either. */
int
sandbox_privs_drop(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int cap;

	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
			return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_SECUREBITS,
	        SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
	            SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
	            SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) != 0)
		return -errno;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	return 0;
}
