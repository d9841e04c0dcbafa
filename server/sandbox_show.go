package main

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/views"
)

// sandboxShow answers GET /sandbox: the settings panel, filled in from the
// query string (the share link), and the lines of each client for those
// settings, or the client's refusal of them.
func (a *app) sandboxShow(c echo.Context) error {
	p := a.page(c, "sandbox.title")
	q := c.QueryParams()
	claim := lessons.GuaranteeID(q.Get("claim"))
	if _, ok := lessons.LookupGuarantee(claim); !ok {
		claim = lessons.AtLeastOnce
	}
	fault := lessons.FaultID(q.Get("fault"))
	if _, ok := lessons.LookupFault(fault); !ok {
		fault = lessons.ProcessorCrash
	}
	s, err := settingsFromQuery(q, lessons.DefaultSettings)
	if err != nil {
		return err
	}
	v := views.Sandbox{Settings: s, Claim: claim, Fault: fault, I18N: sandboxI18N[p.Lang], Share: shareLink(claim, fault, s)}
	if s, fe := checkedSettings(s, claim, ""); fe != nil {
		v.Refused = fe.Msg
	} else {
		v.Settings, v.Lines = s, lessons.Lines(s)
	}
	return render(c, http.StatusOK, views.SandboxPage(p, v))
}

// shareLink is the /sandbox link of a configuration.
func shareLink(claim lessons.GuaranteeID, fault lessons.FaultID, s lessons.Settings) string {
	q := url.Values{"claim": {string(claim)}, "fault": {string(fault)}}
	for _, name := range lessons.SettingNames {
		if name == lessons.SettingAutoCommitMs && s.Commit != lessons.CommitAuto {
			continue
		}
		q.Set(name, s.Value(name))
	}
	return "/sandbox?" + q.Encode()
}
