// The system calls of the /dev/crypto ABI tables, on their own so that the fuzz harnesses
// (test/fuzz/) link the tables with a simulated kernel in their place.
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "devcrypto_abi.h"

namespace kcrypto::devcrypto::detail {

Status Ioctl(int fd, unsigned long request, void* arg) {
  for (;;) {
    if (::ioctl(fd, request, arg) == 0) return Status::Ok();
    if (errno != EINTR) return Status::FromErrno(Syscall::kIoctl);
  }
}

Status WaitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, -1);
    if (n > 0) {
      if (p.revents & (POLLERR | POLLNVAL)) return Status::Fail(p.revents & POLLNVAL ? EBADF : EIO, Syscall::kPoll);
      if (p.revents & (POLLIN | POLLRDNORM)) return Status::Ok();
      // POLLHUP alone: the device went away with requests outstanding.
      return Status::Fail(EIO, Syscall::kPoll);
    }
    if (n < 0 && errno != EINTR) return Status::FromErrno(Syscall::kPoll);
  }
}

}  // namespace kcrypto::devcrypto::detail
