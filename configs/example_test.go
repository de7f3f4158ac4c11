package configs_test

import (
	"errors"
	"fmt"

	"github.com/ringdesk/ringdesk/configs"
)

// Parse reports every problem in a file, each at its line and column.
func ExampleParse() {
	yaml := `sip:
  listen: ["udp://127.0.0.1:5060"]
  relm: example.com
rtp:
  ports: 20000-10000
agents:
  - id: alice
    extension: "1001"
`
	_, err := configs.Parse("ringdesk.yaml", []byte(yaml), ".")
	var errs configs.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e)
		}
	}
	// Output:
	// ringdesk.yaml:3:3: unknown key "relm" in sip (known: listen, public_address, realm, tls, user_agent, digest_algorithms, registration, nonce_ttl, trace)
	// ringdesk.yaml:5:10: rtp.ports: low port 20000 is above high port 10000
	// ringdesk.yaml:7:5: agents[0]: a credential is required: sip_password, or sip_ha1 and/or sip_ha1_sha256
}

// Sample is the commented config that `ringdesk` can write out for newcomers.
func ExampleSample() {
	cfg, err := configs.Sample()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range cfg.Agents {
		fmt.Println(a.Extension, a.Name)
	}
	// Output:
	// 1001 Alice Example
	// 1002 Bob Example
}
