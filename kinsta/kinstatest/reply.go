package kinstatest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// reply is a complete answer, built before anything is written so that faults can
// delay or drip it.
type reply struct {
	status      int
	contentType string
	header      map[string]string
	body        []byte
}

const contentTypeJSON = "application/json; charset=utf-8"

// marshal encodes v as the API does: "&", "<" and ">" are not escaped.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only our own wire structs get here
		panic("kinstatest: encoding: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func jsonReply(status int, v any) reply {
	return reply{status: status, contentType: contentTypeJSON, body: marshal(v)}
}

// Messages of the error bodies, from the spec examples and the fixtures.
const (
	msg400         = "Bad request format"
	msg401         = "No or invalid API key provided to the request"
	msg404         = "Could not find data or the user does not have permissions to retrieve it"
	msg404Sites    = "Could not find the sites or the user does not have permissions"
	msg429         = "Too many requests, please try again later."
	msg500         = "Error occurred while processing your request"
	dataNull       = "null"
	dataNoKey      = ""
	htmlBadGateway = "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)

// errorReply answers status with message; data is dataNull, dataNoKey or a raw
// JSON value.
func errorReply(status int, message, data string) reply {
	e := wireError{Message: message, Status: status}
	if data != dataNoKey {
		e.Data = json.RawMessage(data)
	}
	return jsonReply(status, e)
}

// nestedNotFound is the 404 variant whose real reason sits in data.message.
func nestedNotFound(message string) reply {
	data := marshal(wireError{Message: message, Status: http.StatusNotFound})
	return errorReply(http.StatusNotFound, "Not found", string(data))
}

// statusReply is the body the API (or the proxy in front of it) sends with status.
func statusReply(status int) reply {
	switch status {
	case http.StatusBadRequest:
		return errorReply(status, msg400, dataNoKey)
	case http.StatusUnauthorized:
		return errorReply(status, msg401, dataNull)
	case http.StatusNotFound:
		return errorReply(status, msg404, dataNull)
	case http.StatusTooManyRequests:
		return reply{status: status, contentType: contentTypeJSON,
			body: []byte(`{"status":429,"message":"` + msg429 + `"}`)}
	case http.StatusInternalServerError:
		return errorReply(status, msg500, dataNoKey)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		text := http.StatusText(status)
		return reply{status: status, contentType: "text/html",
			body: []byte(strings.NewReplacer("%d", strconv.Itoa(status), "%s", text).Replace(htmlBadGateway))}
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = "Error"
	}
	return errorReply(status, msg, dataNull)
}

// Encoding helpers.
