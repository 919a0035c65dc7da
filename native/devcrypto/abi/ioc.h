// ioctl request encoders of the two families /dev/crypto lives on, as constexpr functions so
// that every request number in the ABI headers is computed from its struct, not copied.
//
// Trap: the encodings differ in the direction bits. BSD <sys/ioccom.h> puts
// IOC_IN (the kernel reads the argument: _IOW) at bit 31 and IOC_OUT (_IOR) at bit 30, with a
// 13-bit length. Linux's asm-generic <asm/ioctl.h> puts _IOC_WRITE (_IOW) at
// bit 30 and _IOC_READ (_IOR) at bit 31, with a 14-bit size. So the same _IOW('c', n, u32) is
// 0x8004636n on a BSD and 0x4004636n on Linux, and a BSD-encoded _IOW number presented to a
// Linux character device (the CUSE fixture emulating a BSD) decodes there as an _IOR. _IOWR is
// 0xC... in both, which is why most numbers look alike.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kcrypto::devcrypto::ioc {

// The type of ioctl(2)'s request argument on glibc, musl, FreeBSD and NetBSD.
using request_t = unsigned long;

// ---- BSD: identical on FreeBSD, NetBSD and OpenBSD and on every architecture ----
inline constexpr uint32_t kBsdParmMask = 0x1fff;  // IOCPARM_MASK: 13-bit length
inline constexpr uint32_t kBsdVoid = 0x20000000;  // IOC_VOID
inline constexpr uint32_t kBsdOut = 0x40000000;   // IOC_OUT: copied out to user space (_IOR)
inline constexpr uint32_t kBsdIn = 0x80000000;    // IOC_IN: copied in to the kernel (_IOW)
inline constexpr uint32_t kBsdInOut = kBsdIn | kBsdOut;

constexpr request_t bsd_ioc(uint32_t inout, char group, uint32_t num, size_t len) {
  return static_cast<request_t>(inout | ((static_cast<uint32_t>(len) & kBsdParmMask) << 16) |
                                (static_cast<uint32_t>(static_cast<unsigned char>(group)) << 8) | (num & 0xffu));
}

// A struct longer than the length field would be silently truncated by the mask: refuse it.
template <typename T>
constexpr request_t bsd_ior(char group, uint32_t num) {
  static_assert(sizeof(T) <= kBsdParmMask, "argument too large for the BSD ioctl length field");
  return bsd_ioc(kBsdOut, group, num, sizeof(T));
}
template <typename T>
constexpr request_t bsd_iow(char group, uint32_t num) {
  static_assert(sizeof(T) <= kBsdParmMask, "argument too large for the BSD ioctl length field");
  return bsd_ioc(kBsdIn, group, num, sizeof(T));
}
template <typename T>
constexpr request_t bsd_iowr(char group, uint32_t num) {
  static_assert(sizeof(T) <= kBsdParmMask, "argument too large for the BSD ioctl length field");
  return bsd_ioc(kBsdInOut, group, num, sizeof(T));
}

// ---- Linux: asm-generic layout unless the architecture overrides it ----
// alpha, mips, powerpc and sparc use a 13-bit size and 3 direction bits (NONE=1, READ=2,
// WRITE=4); everything else (x86, arm, arm64, riscv, s390, loongarch...) uses asm-generic.
#if defined(__alpha__) || defined(__mips__) || defined(__powerpc__) || defined(__sparc__)
inline constexpr uint32_t kLinuxSizeBits = 13;
inline constexpr uint32_t kLinuxNone = 1, kLinuxRead = 2, kLinuxWrite = 4;
#else
inline constexpr uint32_t kLinuxSizeBits = 14;
inline constexpr uint32_t kLinuxNone = 0, kLinuxRead = 2, kLinuxWrite = 1;
#endif
inline constexpr uint32_t kLinuxSizeMask = (1u << kLinuxSizeBits) - 1;
inline constexpr uint32_t kLinuxDirShift = 16 + kLinuxSizeBits;
inline constexpr bool kLinuxGenericEncoding = kLinuxSizeBits == 14;

constexpr request_t linux_ioc(uint32_t dir, char type, uint32_t nr, size_t size) {
  return static_cast<request_t>((dir << kLinuxDirShift) | ((static_cast<uint32_t>(size) & kLinuxSizeMask) << 16) |
                                (static_cast<uint32_t>(static_cast<unsigned char>(type)) << 8) | (nr & 0xffu));
}
template <typename T>
constexpr request_t linux_ior(char type, uint32_t nr) {
  static_assert(sizeof(T) <= kLinuxSizeMask, "argument too large for the Linux ioctl size field");
  return linux_ioc(kLinuxRead, type, nr, sizeof(T));
}
template <typename T>
constexpr request_t linux_iow(char type, uint32_t nr) {
  static_assert(sizeof(T) <= kLinuxSizeMask, "argument too large for the Linux ioctl size field");
  return linux_ioc(kLinuxWrite, type, nr, sizeof(T));
}
template <typename T>
constexpr request_t linux_iowr(char type, uint32_t nr) {
  static_assert(sizeof(T) <= kLinuxSizeMask, "argument too large for the Linux ioctl size field");
  return linux_ioc(kLinuxRead | kLinuxWrite, type, nr, sizeof(T));
}

}  // namespace kcrypto::devcrypto::ioc

// Each encoder against the host's own macros, where the host has them: the BSD one on a BSD,
// the Linux one on Linux (on every architecture, which checks the override table above).
#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/ioctl.h>)
#include <linux/ioctl.h>
namespace kcrypto::devcrypto::ioc::detail {
struct Probe48 {
  unsigned char bytes[48];
};
static_assert(linux_iowr<Probe48>('c', 102) == static_cast<request_t>(_IOWR('c', 102, Probe48)), "Linux _IOWR encoder");
static_assert(linux_iow<uint32_t>('c', 103) == static_cast<request_t>(_IOW('c', 103, uint32_t)), "Linux _IOW encoder");
static_assert(linux_ior<uint32_t>('c', 106) == static_cast<request_t>(_IOR('c', 106, uint32_t)), "Linux _IOR encoder");
}  // namespace kcrypto::devcrypto::ioc::detail
#endif
#elif (defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)) && defined(__has_include)
#if __has_include(<sys/ioccom.h>)
#include <sys/ioccom.h>
namespace kcrypto::devcrypto::ioc::detail {
struct Probe48 {
  unsigned char bytes[48];
};
static_assert(bsd_iowr<Probe48>('c', 101) == static_cast<request_t>(_IOWR('c', 101, Probe48)), "BSD _IOWR encoder");
static_assert(bsd_iow<uint32_t>('c', 102) == static_cast<request_t>(_IOW('c', 102, uint32_t)), "BSD _IOW encoder");
static_assert(bsd_ior<uint32_t>('c', 105) == static_cast<request_t>(_IOR('c', 105, uint32_t)), "BSD _IOR encoder");
}  // namespace kcrypto::devcrypto::ioc::detail
#endif
#endif
