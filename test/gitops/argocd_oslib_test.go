package gitops

import (
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Argo CD gives scripts a reduced os library: time and date only (util/lua/oslib_safe.go), never
// exit, execute, getenv or file access. This is an independent implementation of those two
// functions with the same behaviour for the formats scripts use.

// safeOsFuncs are the functions of Argo CD's safe os module.
func safeOsFuncs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{"time": osTime, "date": osDate}
}

// openArgoOs is what Argo CD's OpenSafeOs does when Argo CD opens its libraries: it registers
// the safe functions under the table library's name. That module is already loaded, so the
// call adds nothing and there is no global os: a script reaches the safe os only through
// require("os"). Mirroring this keeps a script that uses the global os failing here as it
// fails in Argo CD.
func openArgoOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.TabLibName, safeOsFuncs()))
	return 1
}

// loadSafeOs is the preloaded os module that require("os") returns.
func loadSafeOs(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), safeOsFuncs()))
	return 1
}

// osTime is os.time(): now as Unix seconds, or the time of a {year, month, day, hour, min,
// sec} table (hour defaults to 12, as in Lua) in local time.
func osTime(l *lua.LState) int {
	if l.GetTop() == 0 {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	t := l.CheckTable(1)
	field := func(name string, def int) int {
		if n, ok := t.RawGetString(name).(lua.LNumber); ok {
			return int(n)
		}
		return def
	}
	d := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	l.Push(lua.LNumber(d.Unix()))
	return 1
}

// osDate is os.date([format [, time]]): a leading "!" means UTC, "*t" returns a table, any
// other format is strftime-like. Without a format it is "%c".
func osDate(l *lua.LState) int {
	t := time.Now()
	format := "%c"
	if l.GetTop() >= 1 {
		format = l.CheckString(1)
		if strings.HasPrefix(format, "!") {
			t = t.UTC()
			format = strings.TrimLeft(format, "!")
		}
		if l.GetTop() >= 2 {
			t = time.Unix(l.CheckInt64(2), 0)
		}
	}
	if strings.HasPrefix(format, "*t") {
		tb := l.NewTable()
		for k, v := range map[string]int{"year": t.Year(), "month": int(t.Month()), "day": t.Day(),
			"hour": t.Hour(), "min": t.Minute(), "sec": t.Second(), "wday": int(t.Weekday()) + 1, "yday": 0} {
			tb.RawSetString(k, lua.LNumber(v))
		}
		tb.RawSetString("isdst", lua.LFalse)
		l.Push(tb)
		return 1
	}
	l.Push(lua.LString(strftime(t, format)))
	return 1
}

// strftimeLayouts maps the conversions Argo CD's os.date knows to Go layouts; its %c and %x
// are not C's, and are kept as Argo CD has them.
var strftimeLayouts = map[byte]string{
	'a': "Mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'c': "02 Jan 06 15:04 MST", 'd': "02",
	'F': "2006-01-02", 'H': "15", 'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'P': "pm", 'S': "05",
	'x': "15/04/05", 'X': "15:04:05", 'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST",
}

// strftime formats t; "%%" is a percent sign, %w the weekday number, and an unknown
// conversion is copied as it is.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i == len(format)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch conv := format[i]; {
		case conv == '%':
			b.WriteByte('%')
		case conv == 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case strftimeLayouts[conv] != "":
			b.WriteString(t.Format(strftimeLayouts[conv]))
		default:
			b.WriteByte('%')
			b.WriteByte(conv)
		}
	}
	return b.String()
}
