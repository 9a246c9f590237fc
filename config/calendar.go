package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar day without a time zone; compare it with DateOf(t.In(loc)).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns t's calendar day in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Compare orders dates: -1 if d is before e, 0 if equal, +1 if after.
func (d Date) Compare(e Date) int {
	if c := cmp.Compare(d.Year, e.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, e.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, e.Day)
}

func containsDate(sorted []Date, d Date) bool {
	_, ok := slices.BinarySearchFunc(sorted, d, Date.Compare)
	return ok
}

// The default calendar is the State Council's published arrangement for 2026
// (国务院办公厅关于2026年部分节假日安排的通知). Later years are not built in:
// an arrangement is only known once published, so operators list them in
// HOTLINE_HOLIDAYS / HOTLINE_WORKDAYS_EXTRA, and Config.HolidaysKnown tells a
// server when its calendar has run out.
var (
	china2026Holidays = slices.Concat(
		dateRange(2026, time.January, 1, 3),     // 元旦
		dateRange(2026, time.February, 15, 23),  // 春节
		dateRange(2026, time.April, 4, 6),       // 清明节
		dateRange(2026, time.May, 1, 5),         // 劳动节
		dateRange(2026, time.June, 19, 21),      // 端午节
		dateRange(2026, time.September, 25, 27), // 中秋节
		dateRange(2026, time.October, 1, 7),     // 国庆节
	)
	// Make-up working days (调休上班), all on weekends.
	china2026Workdays = []Date{
		{2026, time.January, 4},
		{2026, time.February, 14},
		{2026, time.February, 28},
		{2026, time.May, 9},
		{2026, time.September, 20},
		{2026, time.October, 10},
	}
)

func dateRange(year int, month time.Month, from, to int) []Date {
	var out []Date
	for d := from; d <= to; d++ {
		out = append(out, Date{year, month, d})
	}
	return out
}

// QuietHours is the local time window in which non-urgent SMS wait. Start and
// End are minutes after midnight; Start > End means the window spans midnight
// (the default 21:00-08:00). Off disables the window.
type QuietHours struct {
	Start, End int
	Off        bool
}

// Until reports whether t falls inside quiet hours as read in loc (t's own
// location if loc is nil) and, if so, the moment they end. Start is inside the
// window, End is not.
func (q QuietHours) Until(t time.Time, loc *time.Location) (time.Time, bool) {
	if q.Off || q.Start == q.End {
		return time.Time{}, false
	}
	if loc == nil {
		loc = t.Location()
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	y, mo, d := lt.Date()
	switch {
	case q.Start < q.End && m >= q.Start && m < q.End:
		// same-day window
	case q.Start > q.End && m >= q.Start:
		d++ // ends tomorrow; time.Date normalises the overflow
	case q.Start > q.End && m < q.End:
		// after midnight, ends today
	default:
		return time.Time{}, false
	}
	return time.Date(y, mo, d, q.End/60, q.End%60, 0, 0, loc), true
}

func (q QuietHours) String() string {
	if q.Off {
		return "off"
	}
	return clock(q.Start) + "-" + clock(q.End)
}

// BusinessHours is the staffed window of a working day, in minutes after
// midnight, Start < End.
type BusinessHours struct {
	Start, End int
}

// Contains reports whether t, read in loc (t's own location if nil), falls in
// the window. It does not know about working days: the case log's calendar,
// built from Holidays and ExtraWorkdays, does.
func (b BusinessHours) Contains(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = t.Location()
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	return m >= b.Start && m < b.End
}

func (b BusinessHours) String() string { return clock(b.Start) + "-" + clock(b.End) }

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseClockRange reads "HH:MM-HH:MM" into minutes after midnight.
func parseClockRange(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("missing '-'")
	}
	if start, err = parseClock(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if end, err = parseClock(strings.TrimSpace(b)); err != nil {
		return 0, 0, err
	}
	return start, end, nil
}

func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || hs[0] == '+' || hs[0] == '-' || ms[0] == '+' || ms[0] == '-' {
		return 0, fmt.Errorf("%q is not a time of day from 00:00 to 23:59", s)
	}
	return h*60 + m, nil
}
