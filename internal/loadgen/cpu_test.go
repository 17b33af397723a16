package loadgen

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// Spinning for a while shows in this process's CPU time, in a child's
// when the child spins, and in the machine's.
func TestCPUSampleCountsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU accounting reads Linux's /proc")
	}
	sleeper := exec.Command("sleep", "5")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	before, err := SampleCPU(0, sleeper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(300 * time.Millisecond)
	for x := 0; time.Now().Before(end); x++ {
		_ = x * x
	}
	after, err := SampleCPU(0, sleeper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	d := after.Sub(before)
	if d.Procs[0] < 200*time.Millisecond || d.Procs[0] > 2*time.Second {
		t.Errorf("this process spent %v spinning for 300 ms", d.Procs[0])
	}
	if d.Procs[1] > 50*time.Millisecond {
		t.Errorf("a sleeping child spent %v", d.Procs[1])
	}
	if d.Machine < d.Procs[0]-2*clockTick {
		t.Errorf("the machine spent %v, less than this process's %v", d.Machine, d.Procs[0])
	}
	if d.Rest() != max(d.Machine-d.Procs[0]-d.Procs[1], 0) {
		t.Errorf("rest %v of %+v", d.Rest(), d)
	}
	if _, err := ProcessCPU(1 << 30); !os.IsNotExist(err) {
		t.Errorf("a process that does not exist: %v", err)
	}
}
