// Package wire holds the JSON shapes of the Athena operations glaux serves and their
// validators, generated from the AWS service model (see gen/), plus the few hand-written
// pieces the generator cannot express.
package wire

//go:generate go run ./gen -model model/athena-service-2.json -rest-model model/athena-service-2.botocore-1.44.18.json -out ..
