package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// CPU accounting from Linux's /proc: what a process and the whole machine
// have spent. A benchmark samples it before and after a run and divides
// the differences by the work done, so that a server that does more per
// message shows it even where both saturate the machine.

// clockTick is the unit of /proc's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPUSample is CPU time spent so far: by each of some processes, and by
// the machine as a whole (every core, any process).
type CPUSample struct {
	Procs   []time.Duration
	Machine time.Duration
}

// SampleCPU reads the CPU time of the processes pids (0 is this process)
// and of the machine.
func SampleCPU(pids ...int) (CPUSample, error) {
	var s CPUSample
	for _, pid := range pids {
		d, err := ProcessCPU(pid)
		if err != nil {
			return s, err
		}
		s.Procs = append(s.Procs, d)
	}
	d, err := MachineCPU()
	s.Machine = d
	return s, err
}

// Sub returns the CPU time spent between earlier and s.
func (s CPUSample) Sub(earlier CPUSample) CPUSample {
	out := CPUSample{Machine: s.Machine - earlier.Machine}
	for i, d := range s.Procs {
		if i < len(earlier.Procs) {
			d -= earlier.Procs[i]
		}
		out.Procs = append(out.Procs, d)
	}
	return out
}

// Rest is the machine's CPU time not spent by the sampled processes (a
// database server, for one).
func (s CPUSample) Rest() time.Duration {
	r := s.Machine
	for _, d := range s.Procs {
		r -= d
	}
	return max(r, 0)
}

// ProcessCPU returns the user and system CPU time process pid (0: this
// one) has spent, its threads' included.
func ProcessCPU(pid int) (time.Duration, error) {
	name := "/proc/self/stat"
	if pid != 0 {
		name = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing one. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: no command name", name)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields", name, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// MachineCPU returns the CPU time all cores have spent busy (everything
// but idle and waiting for I/O).
func MachineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("/proc/stat: %q", line)
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal …: all but idle and
	// iowait (guest time is already inside user).
	for i, s := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}
