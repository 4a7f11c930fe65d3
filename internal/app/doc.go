// Package app wires the service together for the binary and the host:
// every package's schema, the stores, the services, the engine and the
// mailer chosen by configuration. It holds no business rules.
package app
