package sdp

import "testing"

func TestDirection(t *testing.T) {
	tests := []struct {
		d        Direction
		str      string
		reverse  Direction
		sends    bool
		receives bool
	}{
		{DirectionUnknown, "unknown", DirectionUnknown, false, false},
		{SendRecv, "sendrecv", SendRecv, true, true},
		{SendOnly, "sendonly", RecvOnly, true, false},
		{RecvOnly, "recvonly", SendOnly, false, true},
		{Inactive, "inactive", Inactive, false, false},
		{Direction(42), "unknown", Direction(42), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.d.String(); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
			if got := tt.d.Reverse(); got != tt.reverse {
				t.Errorf("Reverse = %v, want %v", got, tt.reverse)
			}
			if got := tt.d.Sends(); got != tt.sends {
				t.Errorf("Sends = %t, want %t", got, tt.sends)
			}
			if got := tt.d.Receives(); got != tt.receives {
				t.Errorf("Receives = %t, want %t", got, tt.receives)
			}
			if d, ok := parseDirection(tt.str); ok != (tt.d >= SendRecv && tt.d <= Inactive) || (ok && d != tt.d) {
				t.Errorf("parseDirection(%q) = %v, %t", tt.str, d, ok)
			}
		})
	}
}
