/* machine.h: the machine a run builds from the options and the host's resources. */
#ifndef HV_MACHINE_H
#define HV_MACHINE_H

struct hv_host;
struct hv_options;
struct vm;

/*
 * Builds the PC around vm (before its vCPUs run): the board, every virtio
 * device of the device table (machine.c) on the resources host keeps
 * (borrowed: a reboot uses them again), then the firmware or the ACPI tables
 * and the kernel.  HV_EXIT_*.
 */
int machine_setup(struct vm *vm, const struct hv_options *o, struct hv_host *host);

#endif
