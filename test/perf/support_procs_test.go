package perf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on Linux/amd64).
const clockTicks = 100

// cpuSeconds is the CPU time (user+system) a process has used so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it are fixed.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks, nil
}

// memoryKiB reads VmRSS and VmHWM (peak RSS) in KiB from /proc/<pid>/status.
func memoryKiB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm, nil
}

// childPID finds a direct child of this process by command name (envtest starts
// kube-apiserver and etcd as children and does not export their pids).
func childPID(name string) int {
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		open, closeIdx := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closeIdx < 0 {
			continue
		}
		f := strings.Fields(s[closeIdx+2:])
		ppid, _ := strconv.Atoi(f[1])
		if ppid == self && s[open+1:closeIdx] == name {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			return pid
		}
	}
	return 0
}

// cpuMeter measures the CPU used by the processes that share the machine during one
// measurement: kube-apiserver, etcd, the manager and this process (load generator, watches and
// the Face emulator).
type cpuMeter struct {
	start   time.Time
	pids    map[string]int
	before  map[string]float64
	manager func() int
}

// newCPUMeter snapshots CPU counters now. manager returns the manager's current pid; a
// manager that was restarted in between is not measured (the crash test does not use this).
func newCPUMeter(manager func() int) *cpuMeter {
	m := &cpuMeter{start: time.Now(), manager: manager, before: map[string]float64{},
		pids: map[string]int{"kube-apiserver": childPID("kube-apiserver"), "etcd": childPID("etcd"), "benchmark process (load, watches, emulator)": os.Getpid()}}
	if manager != nil {
		m.pids["manager"] = manager()
	}
	for name, pid := range m.pids {
		m.before[name], _ = cpuSeconds(pid)
	}
	return m
}

// used is the CPU seconds the named process has used since the meter started (0 when it is
// not measured).
func (m *cpuMeter) used(name string) float64 {
	pid, ok := m.pids[name]
	if !ok || pid == 0 {
		return 0
	}
	after, err := cpuSeconds(pid)
	if err != nil {
		return 0
	}
	return after - m.before[name]
}

// total is the CPU seconds every measured process has used since the meter started.
func (m *cpuMeter) total() float64 {
	t := 0.0
	for name := range m.pids {
		t += m.used(name)
	}
	return t
}

// table renders CPU seconds and the share of the machine's cores each process used.
func (m *cpuMeter) table(cores int) string {
	wall := time.Since(m.start).Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "| process | CPU s | share of %d cores |\n|---|---|---|\n", cores)
	total := 0.0
	for _, name := range []string{"kube-apiserver", "etcd", "manager", "benchmark process (load, watches, emulator)"} {
		pid, ok := m.pids[name]
		if !ok || pid == 0 {
			continue
		}
		after, err := cpuSeconds(pid)
		if err != nil {
			continue
		}
		used := after - m.before[name]
		total += used
		fmt.Fprintf(&b, "| %s | %.1f | %.0f %% |\n", name, used, 100*used/wall/float64(cores))
	}
	fmt.Fprintf(&b, "| all | %.1f | %.0f %% (over %.1f s) |\n", total, 100*total/wall/float64(cores), wall)
	return b.String()
}
