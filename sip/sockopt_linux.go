package sip

import (
	"net"
	"syscall"
)

// growReadBuffer asks for a larger receive buffer on the SIP UDP socket, so a
// burst of requests is queued rather than dropped by the kernel. Without
// CAP_NET_ADMIN the kernel caps it at net.core.rmem_max; with it,
// SO_RCVBUFFORCE goes past that cap.
func growReadBuffer(c *net.UDPConn, size int) {
	if rc, err := c.SyscallConn(); err == nil {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
		}); err == nil && serr == nil {
			return
		}
	}
	_ = c.SetReadBuffer(size)
}
