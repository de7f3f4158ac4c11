package sip

import (
	"context"
	"log/slog"
	"net"
)

// Tracing wraps the sockets Ringdesk hands to sipgo, so SIP tracing is a
// per-server setting (Config.Trace) rather than sipgo's global SIPDebug.
// Messages are logged whole, at debug level, with direction and addresses.

type tracedPacketConn struct {
	net.PacketConn
	log     *slog.Logger
	network string
}

func (c *tracedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil && n > 4 {
		traceMessage(c.log, "recv", c.network, c.LocalAddr(), addr, b[:n])
	}
	return n, addr, err
}

func (c *tracedPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, addr)
	if err == nil {
		traceMessage(c.log, "send", c.network, c.LocalAddr(), addr, b[:n])
	}
	return n, err
}

type tracedListener struct {
	net.Listener
	log     *slog.Logger
	network string
}

func (l *tracedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tracedConn{Conn: c, log: l.log, network: l.network}, nil
}

type tracedConn struct {
	net.Conn
	log     *slog.Logger
	network string
}

func (c *tracedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 4 {
		traceMessage(c.log, "recv", c.network, c.LocalAddr(), c.RemoteAddr(), b[:n])
	}
	return n, err
}

func (c *tracedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		traceMessage(c.log, "send", c.network, c.LocalAddr(), c.RemoteAddr(), b[:n])
	}
	return n, err
}

func traceMessage(log *slog.Logger, dir, network string, local, remote net.Addr, msg []byte) {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	log.Debug("sip "+dir, "transport", network, "local", local.String(), "remote", remote.String(),
		"message", string(msg))
}
