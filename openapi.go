package cairn

import _ "embed"

// OpenAPI is the OpenAPI 3.0 document (YAML) describing every client endpoint
// cairn serves: paths, request and response schemas, error bodies and
// statuses. httpapi serves it at GET /openapi.yaml and its tests validate
// every request and response they exchange against it.
//
//go:embed openapi.yaml
var OpenAPI []byte
