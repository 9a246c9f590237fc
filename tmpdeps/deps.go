package tmpdeps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/gin-gonic/gin"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/twilio/twilio-go"
	_ "github.com/twilio/twilio-go/twiml"
	_ "go.etcd.io/bbolt"
	_ "gopkg.in/yaml.v3"
)
