package simulate

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// verb is one TwiML element, read generically: the phone must cope with any
// verb a server may answer, not only those our ivr writes, and twilio-go's
// twiml package only writes.
type verb struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []verb     `xml:",any"`
}

// attr returns the attribute name (Twilio's spelling, camelCase) or "".
func (v verb) attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// seconds reads an attribute of whole seconds, def when absent or bad.
func (v verb) seconds(name string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(v.attr(name)))
	if err != nil || n < 0 {
		return def
	}
	return n
}

func (v verb) text() string { return strings.TrimSpace(v.Text) }

// parseResponse reads a TwiML document and returns the verbs of its
// <Response>. An empty body is an empty response, which Twilio treats as the
// end of the call.
func parseResponse(body []byte) ([]verb, error) {
	if strings.TrimSpace(string(body)) == "" {
		return nil, nil
	}
	var root verb
	if err := xml.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("not TwiML: %w", err)
	}
	if root.XMLName.Local != "Response" {
		return nil, fmt.Errorf("not TwiML: root element <%s>, want <Response>", root.XMLName.Local)
	}
	return root.Children, nil
}
