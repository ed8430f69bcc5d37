package content

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Date is a calendar day written as YYYY-MM-DD, with the line it was
// written on so a warning about it can point there.
type Date struct {
	time.Time
	Line int
}

// DateLayout is how dates are written in content files.
const DateLayout = "2006-01-02"

// UnmarshalYAML reads YYYY-MM-DD.
func (d *Date) UnmarshalYAML(node *yaml.Node) error {
	t, err := time.Parse(DateLayout, node.Value)
	if node.Kind != yaml.ScalarNode || err != nil {
		return lineError(node, fmt.Sprintf("%q is not a date: write it as YYYY-MM-DD", node.Value))
	}
	d.Time, d.Line = t, node.Line
	return nil
}

// String is the date as written, or "" for none.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// Long is the date for people: "30 April 2026".
func (d Date) Long() string { return d.Format("2 January 2006") }

// State is where a service stands for customers.
type State string

// States a service can be in.
const (
	Available State = "available"
	// Closed: existing customers carry on; new customers cannot start.
	Closed State = "closed to new customers"
	// Retiring: AWS ends the service on the date.
	Retiring State = "retiring"
)

// Status is a service's availability, written as "available", "closed to
// new customers on 2026-04-30" or "retiring on 2026-10-07".
type Status struct {
	State State
	// Date is when it closed to new customers, or when it retires.
	Date Date
}

// UnmarshalYAML reads the three forms of a status.
func (s *Status) UnmarshalYAML(node *yaml.Node) error {
	v := strings.TrimSpace(node.Value)
	if node.Kind == yaml.ScalarNode && v == string(Available) {
		*s = Status{State: Available}
		return nil
	}
	for _, st := range []State{Closed, Retiring} {
		day, ok := strings.CutPrefix(v, string(st)+" on ")
		if !ok || node.Kind != yaml.ScalarNode {
			continue
		}
		t, err := time.Parse(DateLayout, day)
		if err != nil {
			return lineError(node, fmt.Sprintf("status %q: %q is not a date: write it as YYYY-MM-DD", v, day))
		}
		*s = Status{State: st, Date: Date{t, node.Line}}
		return nil
	}
	return lineError(node, fmt.Sprintf("status %q: want %q, %q or %q",
		v, Available, Closed+" on YYYY-MM-DD", Retiring+" on YYYY-MM-DD"))
}

// String is the status as written.
func (s Status) String() string {
	if s.State == Available || s.State == "" {
		return string(s.State)
	}
	return fmt.Sprintf("%s on %s", s.State, s.Date)
}

// caveat is what every answer recommending a service that is not simply
// available says about it.
func (s *Service) caveat() string {
	switch s.Status.State {
	case Closed:
		return fmt.Sprintf("%s is closed to new customers since %s. Accounts that already use it carry on as before; for a new account, AWS recommends %s.",
			s.Name, s.Status.Date.Long(), strings.TrimSuffix(s.Instead, "."))
	case Retiring:
		return fmt.Sprintf("%s is retiring: AWS ends it on %s. Plan the move to %s.",
			s.Name, s.Status.Date.Long(), strings.TrimSuffix(s.Instead, "."))
	}
	return ""
}

// checkSources reports a missing list of sources and any entry that is not
// an https URL.
func (l *loader) checkSources(p Pos, what string, sources []string) {
	if len(sources) == 0 {
		l.add(p.File, p.Line, "%s: missing field %q (at least one documentation URL the facts were checked against)", what, "sources")
	}
	for _, s := range sources {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(s, " \t") {
			l.add(p.File, p.Line, "%s: source %q is not an https URL", what, s)
		}
	}
}

// Stale lists the notes and service sheets last reviewed more than maxAge
// before now, each at the line of its reviewed date.
func (b *Base) Stale(now time.Time, maxAge time.Duration) Problems {
	var ps Problems
	check := func(p Pos, what string, d Date) {
		if age := now.Sub(d.Time); age > maxAge {
			ps = append(ps, Problem{Pos{p.File, d.Line}, fmt.Sprintf(
				"%s: reviewed %s, %d days ago: check it against its sources and update reviewed",
				what, d, int(age.Hours()/24))})
		}
	}
	for _, s := range b.Services {
		check(s.Pos, fmt.Sprintf("service %q", s.ID), s.Reviewed)
	}
	for _, n := range b.Notes {
		check(n.Pos, fmt.Sprintf("note %q", n.ID), n.Reviewed)
	}
	return ps
}
