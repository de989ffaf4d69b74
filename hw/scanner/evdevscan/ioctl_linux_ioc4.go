//go:build linux && (ppc64 || ppc64le || mips || mipsle || mips64 || mips64le || sparc64)

package evdevscan

// evIOCGRAB is _IOW('E', 0x90, int) where the write direction is bit 31
// (PowerPC, MIPS, SPARC).
const evIOCGRAB = 4<<29 | 4<<16 | 'E'<<8 | 0x90
