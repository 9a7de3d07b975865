// Package wire holds the JSON shapes of the Athena operations glaux serves and their
// validators, generated from the AWS service model (see gen/), plus the few hand-written
// pieces the generator cannot express.
package wire

//go:generate go run ./gen -model ../../../shared/spec/athena-service-2.json -out ..
