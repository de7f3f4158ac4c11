//go:build !linux

package sip

import "net"

// growReadBuffer asks for a larger receive buffer on the SIP UDP socket.
func growReadBuffer(c *net.UDPConn, size int) { _ = c.SetReadBuffer(size) }
