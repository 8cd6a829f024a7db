package v2store

import "fmt"

// Error codes of etcd's v2 keys API (etcd v3.4 etcdserver/api/v2error).
const (
	EcodeKeyNotFound    = 100
	EcodeTestFailed     = 101
	EcodeNotFile        = 102
	EcodeNotDir         = 104
	EcodeNodeExist      = 105
	EcodeKeyIsPreserved = 106
	EcodeRootROnly      = 107
	EcodeDirNotEmpty    = 108
	EcodeUnauthorized   = 110

	EcodePrevValueRequired  = 201
	EcodeTTLNaN             = 202
	EcodeIndexNaN           = 203
	EcodeInvalidField       = 209
	EcodeInvalidForm        = 210
	EcodeRefreshValue       = 211
	EcodeRefreshTTLRequired = 212

	EcodeValueRequired        = 200
	EcodeValueOrTTLRequired   = 204
	EcodeTimeoutNaN           = 205
	EcodeNameRequired         = 206
	EcodeIndexOrValueRequired = 207
	EcodeIndexValueMutex      = 208

	EcodeRaftInternal = 300
	EcodeLeaderElect  = 301

	EcodeWatcherCleared    = 400
	EcodeEventIndexCleared = 401
)

// messages are etcd v2's texts for the codes, word for word (clients
// compare them).
var messages = map[int]string{
	EcodeKeyNotFound:    "Key not found",
	EcodeTestFailed:     "Compare failed",
	EcodeNotFile:        "Not a file",
	EcodeNotDir:         "Not a directory",
	EcodeNodeExist:      "Key already exists",
	EcodeKeyIsPreserved: "The prefix of given key is a keyword in etcd",
	EcodeRootROnly:      "Root is read only",
	EcodeDirNotEmpty:    "Directory not empty",
	EcodeUnauthorized:   "The request requires user authentication",

	EcodeValueRequired:        "Value is Required in POST form",
	EcodePrevValueRequired:    "PrevValue is Required in POST form",
	EcodeTTLNaN:               "The given TTL in POST form is not a number",
	EcodeIndexNaN:             "The given index in POST form is not a number",
	EcodeValueOrTTLRequired:   "Value or TTL is required in POST form",
	EcodeTimeoutNaN:           "The given timeout in POST form is not a number",
	EcodeNameRequired:         "Name is required in POST form",
	EcodeIndexOrValueRequired: "Index or value is required",
	EcodeIndexValueMutex:      "Index and value cannot both be specified",
	EcodeInvalidField:         "Invalid field",
	EcodeInvalidForm:          "Invalid POST form",
	EcodeRefreshValue:         "Value provided on refresh",
	EcodeRefreshTTLRequired:   "A TTL must be provided on refresh",

	EcodeRaftInternal: "Raft Internal Error",
	EcodeLeaderElect:  "During Leader Election",

	EcodeWatcherCleared:    "watcher is cleared due to etcd recovery",
	EcodeEventIndexCleared: "The event in requested index is outdated and cleared",
}

// Error is a v2 keys API error as etcd writes it:
// {"errorCode":100,"message":"Key not found","cause":"/a","index":4}.
// Index is the store revision when the error happened (etcd's current
// index; 0 for errors found while parsing the request). The HTTP status
// that goes with each Code is the HTTP layer's (package httpapi).
type Error struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
	Index   int64  `json:"index"`
}

// NewError returns the error of code with etcd's message, cause and
// index.
func NewError(code int, cause string, index int64) *Error {
	return &Error{Code: code, Message: messages[code], Cause: cause, Index: index}
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%s) [%d]", e.Message, e.Cause, e.Index)
}
