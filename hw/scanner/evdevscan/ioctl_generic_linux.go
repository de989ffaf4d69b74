//go:build linux && !(ppc64 || ppc64le || mips || mipsle || mips64 || mips64le || sparc64)

package evdevscan

// evIOCGRAB is _IOW('E', 0x90, int) in the generic ioctl encoding
// (x86, ARM, RISC-V, LoongArch). golang.org/x/sys/unix does not define it.
const evIOCGRAB = 1<<30 | 4<<16 | 'E'<<8 | 0x90
