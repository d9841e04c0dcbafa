package main

// What the sandbox and level pages share: their settings as a query string,
// the share link of /sandbox.

import (
	"net/url"
	"strconv"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// settingsFromQuery reads settings from a query string, each knob by its
// API name, from base where the query does not name it. Only the form of
// each value is checked here; RunParams.Validate checks the rest.
func settingsFromQuery(q url.Values, base lessons.Settings) (lessons.Settings, error) {
	s := base
	num := func(name string, into *int) error {
		if !q.Has(name) {
			return nil
		}
		if q.Get(name) == "" {
			*into = 0
			return nil
		}
		n, err := strconv.Atoi(q.Get(name))
		if err != nil {
			return badRequest("settings."+name, "settings.%s must be a whole number", name)
		}
		*into = n
		return nil
	}
	flag := func(name string, into *bool) error {
		if !q.Has(name) {
			return nil
		}
		b, err := strconv.ParseBool(q.Get(name))
		if err != nil {
			return badRequest("settings."+name, "settings.%s must be true or false", name)
		}
		*into = b
		return nil
	}
	if q.Has(lessons.SettingAcks) {
		s.Acks = lessons.Acks(q.Get(lessons.SettingAcks))
	}
	if q.Has(lessons.SettingCommit) {
		s.Commit = lessons.Commit(q.Get(lessons.SettingCommit))
	}
	if q.Has(lessons.SettingIsolation) {
		s.Isolation = lessons.Isolation(q.Get(lessons.SettingIsolation))
	}
	for _, err := range []error{
		num(lessons.SettingRetries, &s.Retries),
		num(lessons.SettingMaxInFlight, &s.MaxInFlight),
		num(lessons.SettingAutoCommitMs, &s.AutoCommitMs),
		flag(lessons.SettingIdempotent, &s.Idempotent),
		flag(lessons.SettingTransactional, &s.Transactional),
		flag(lessons.SettingDedup, &s.Dedup),
		flag(lessons.SettingCommitOnRevoke, &s.CommitOnRevoke),
	} {
		if err != nil {
			return s, err
		}
	}
	if s.Commit != lessons.CommitAuto {
		s.AutoCommitMs = 0 // a form sends the interval's field whatever the commit
	}
	if s.Commit != lessons.CommitAfter {
		// Likewise the revocation commit's box, which only commit after
		// has (the API refuses it with the others, saying why).
		s.CommitOnRevoke = false
	}
	return s, nil
}

// checkedSettings validates settings s claimed as g, as a run would.
func checkedSettings(s lessons.Settings, g lessons.GuaranteeID, level string) (lessons.Settings, *lessons.FieldError) {
	p := lessons.RunParams{Preset: lessons.Custom, Claim: g, Fault: lessons.NoFault, Settings: &s, Level: level}
	if level != "" {
		p.Fault = ""
	}
	err := p.Validate()
	return s, err
}
