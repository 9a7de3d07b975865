//go:build linux

package runtime

// Runner isolation (docs/security.md): with --runner-user, glaux (root) starts every runner
// under an unprivileged user id of its own, so that code in a calculation can read neither
// glaux's files (database, credentials, token secret, configuration) nor those of another
// session, nor signal or inspect other processes.
//
// The ids come from the runner user's subordinate ranges (/etc/subuid, /etc/subgid): runner
// slot n runs as host uid subuid+n and gid subgid+n, one pair per live runner. Java and
// Hadoop need a user name for their user id, so each runner is started in a user namespace
// that maps the runner user's own uid and gid (named in /etc/passwd) onto its host pair:
// inside, it is glaux-runner; to the kernel's permission checks outside, a user no file,
// process or other session shares.
//
// Files: the data dir is 0711 (others may pass through, not list), its entries other than
// the runner package and the scratch tree are private to glaux. A runner's scratch dir is
// root:<its gid> 1770 (its working directory: it may create files there, but the sticky bit
// keeps it from replacing glaux's entries), with tmp/ and home/ its own. A calculation's
// output dir and its three files are created by glaux, root:<its gid>, so the runner can
// write their contents but never swap a file for a link to something only glaux may read:
// glaux reads them as root. When the runner is gone, every process left with its uid is
// killed and what glaux had opened to its gid goes back to root, before the slot is reused.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"glaux/internal/athena"
)

// RunnerUser is the OS user runners run as, and the host ids they are given.
type RunnerUser struct {
	Name     string
	UID, GID int // the user's own ids: what a runner is inside its user namespace
	uids     idRange
	gids     idRange

	mu    sync.Mutex
	inUse map[int]bool // slots of live runners (slot 0 is the start-up probe's)
	next  int
}

type idRange struct{ start, count int }

// Isolate makes cfg start runners as the OS user name (nothing when name is ""). It checks
// that glaux can (root, the user and its subordinate ids, user namespaces), makes dataDir
// passable but private (scratchDir and the runner package reachable, nothing else), and
// runs cfg.Python as a runner would, so a venv the user cannot execute (one under /root,
// say) is an error now rather than a failed session later.
func Isolate(cfg *Config, name, dataDir, scratchDir string) error {
	if name == "" {
		return nil
	}
	if os.Geteuid() != 0 {
		return errors.New("running runners as another user needs glaux to run as root; set --runner-user '' to run them as glaux's own user")
	}
	u, err := LookupRunnerUser(name)
	if err != nil {
		return err
	}
	if cfg.RunnerPath == "" {
		return errors.New("runtime: isolating runners needs the runner package's path")
	}
	var abs [3]string
	for i, p := range []string{dataDir, scratchDir, filepath.Dir(cfg.RunnerPath)} {
		if abs[i], err = filepath.Abs(p); err != nil {
			return err
		}
	}
	if err := prepareDataDir(abs[0], abs[1], abs[2]); err != nil {
		return err
	}
	python := cfg.Python
	if !strings.ContainsRune(python, filepath.Separator) {
		if python, err = exec.LookPath(python); err != nil {
			return err
		}
	}
	if err := u.probe(python, cfg.RunnerPath, filepath.Join(scratchDir, "sessions")); err != nil {
		return err
	}
	cfg.User = u
	return nil
}

// LookupRunnerUser finds name in the user database and its first subordinate id ranges.
func LookupRunnerUser(name string) (*RunnerUser, error) {
	pw, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("%w (create it with: useradd --system --no-create-home --add-subids-for-system %s)", err, name)
	}
	u := &RunnerUser{Name: name, inUse: map[int]bool{}}
	if u.UID, err = strconv.Atoi(pw.Uid); err != nil {
		return nil, err
	}
	if u.GID, err = strconv.Atoi(pw.Gid); err != nil {
		return nil, err
	}
	if u.UID == 0 || u.GID == 0 {
		return nil, fmt.Errorf("user %s has id 0: runners must not run as root", name)
	}
	hint := fmt.Sprintf("give %s subordinate ids: usermod --add-subuids 2000000-2065535 --add-subgids 2000000-2065535 %s (or create it with useradd --add-subids-for-system)", name, name)
	if u.uids, err = subIDs("/etc/subuid", name, pw.Uid); err != nil {
		return nil, fmt.Errorf("%w; %s", err, hint)
	}
	if u.gids, err = subIDs("/etc/subgid", name, pw.Uid); err != nil {
		return nil, fmt.Errorf("%w; %s", err, hint)
	}
	if n := min(u.uids.count, u.gids.count); n < 2 {
		return nil, fmt.Errorf("user %s has %d subordinate ids, needs at least 2; %s", name, n, hint)
	}
	u.next = 1 + rand.IntN(min(u.uids.count, u.gids.count)-1)
	return u, nil
}

// subIDs reads the first range of name (or its uid) in /etc/subuid or /etc/subgid.
func subIDs(path, name, uid string) (idRange, error) {
	f, err := os.Open(path)
	if err != nil {
		return idRange{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || (parts[0] != name && parts[0] != uid) {
			continue
		}
		start, err1 := strconv.Atoi(parts[1])
		count, err2 := strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || start <= 0 || count <= 0 {
			return idRange{}, fmt.Errorf("%s: bad entry %q", path, sc.Text())
		}
		return idRange{start, count}, nil
	}
	if err := sc.Err(); err != nil {
		return idRange{}, err
	}
	return idRange{}, fmt.Errorf("%s has no range for %s", path, name)
}

// prepareDataDir: dataDir and the scratch tree's directories 0711, the runner package
// readable, every other entry of dataDir and of the scratch dir private to glaux, and the
// scratch dirs of runners of an earlier run root's alone (their ids will be reused).
func prepareDataDir(dataDir, scratchDir, runnerDir string) error {
	for d := filepath.Dir(dataDir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("runners cannot reach the data dir %s: %s is mode %04o, not passable by other users; choose a --data-dir outside it (e.g. /var/lib/glaux)", dataDir, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range []string{dataDir, scratchDir, filepath.Join(scratchDir, "sessions"), filepath.Join(scratchDir, "pool")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return err
		}
		if err := rootDir(d, 0, 0o711); err != nil {
			return err
		}
	}
	keep := map[string]bool{scratchDir: true, runnerDir: true, filepath.Join(scratchDir, "sessions"): true, filepath.Join(scratchDir, "pool"): true}
	for _, dir := range []string{dataDir, scratchDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if keep[p] || e.Type()&fs.ModeSymlink != 0 {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return err
			}
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	for _, dir := range []string{filepath.Join(scratchDir, "sessions"), filepath.Join(scratchDir, "pool")} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if err := os.Lchown(p, 0, 0); err != nil {
				return err
			}
			if e.Type()&fs.ModeSymlink == 0 {
				if err := os.Chmod(p, 0o700); err != nil {
					return err
				}
			}
		}
	}
	// The runner package is public code: readable by all, writable by root.
	return filepath.WalkDir(runnerDir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type()&fs.ModeSymlink != 0:
			return nil
		case d.IsDir():
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
}

// rootDir makes sure path is a directory (not a link) owned by root, with group gid and mode.
func rootDir(path string, gid int, mode fs.FileMode) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || st.Uid != 0 {
		return fmt.Errorf("%s is not a directory owned by root", path)
	}
	if err := os.Lchown(path, 0, gid); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// probe runs python as a runner of slot 0 would run, in cwd, and checks it finds the runner
// package: the interpreter, its libraries, the package and the scratch tree are reachable.
func (u *RunnerUser) probe(python, runnerPath, cwd string) error {
	if err := killUID(u.uids.start); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('glaux_runner') else 3)")
	cmd.Dir = cwd
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONPATH=" + runnerPath, "HOME=/nonexistent"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	u.applyIDs(cmd.SysProcAttr, 0)
	out, err := cmd.CombinedOutput()
	killUID(u.uids.start)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("cannot start a process in a user namespace (%v): glaux needs them to give runners ids of their own", err)
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		return fmt.Errorf("user %s cannot read the session runner package under %s", u.Name, runnerPath)
	}
	where := python
	if real, e := filepath.EvalSymlinks(python); e == nil && real != python {
		where += " (" + real + ")"
	}
	detail := err.Error()
	if o := strings.TrimSpace(string(out)); o != "" {
		detail += ": " + o
	}
	return fmt.Errorf("user %s cannot run %s in %s: %s; is it inside a directory other users cannot enter, such as /root? (docs/security.md)",
		u.Name, where, cwd, detail)
}

func (u *RunnerUser) applyIDs(attr *syscall.SysProcAttr, slot int) {
	attr.Cloneflags |= syscall.CLONE_NEWUSER
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: u.UID, HostID: u.uids.start + slot, Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: u.GID, HostID: u.gids.start + slot, Size: 1}}
	// Written by glaux (root) for the child, so setgroups stays usable to drop every
	// supplementary group root had; the runner itself has no capability to use it.
	attr.GidMappingsEnableSetgroups = true
	attr.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}
}

// identity is one runner's host ids and what glaux has opened to its group.
type identity struct {
	u        *RunnerUser
	slot     int
	uid, gid int // host ids
	scratch  string
	log      *slog.Logger

	mu       sync.Mutex
	shared   []string // root-owned paths with group gid, handed back to root on release
	released bool
}

// acquire gives a new runner a slot and prepares its scratch dir; spec's Spark
// configuration is adjusted to keep the runner's writes inside it. Nil for a nil user.
func (u *RunnerUser) acquire(spec *athena.RunnerSpec, log *slog.Logger) (*identity, error) {
	if u == nil {
		return nil, nil
	}
	u.mu.Lock()
	n := min(u.uids.count, u.gids.count) - 1
	slot := 0
	for i := range n {
		s := 1 + (u.next-1+i)%n
		if !u.inUse[s] {
			slot = s
			break
		}
	}
	if slot == 0 {
		u.mu.Unlock()
		return nil, fmt.Errorf("runtime: all %d subordinate ids of %s are in use", n, u.Name)
	}
	u.inUse[slot] = true
	u.next = 1 + slot%n // round robin: an id is reused as late as possible
	u.mu.Unlock()
	id := &identity{u: u, slot: slot, uid: u.uids.start + slot, gid: u.gids.start + slot, scratch: spec.ScratchDir, log: log}
	if err := id.prepare(spec); err != nil {
		id.release()
		return nil, fmt.Errorf("runtime: isolating the runner: %w", err)
	}
	return id, nil
}

func (id *identity) prepare(spec *athena.RunnerSpec) error {
	// A process left with this uid (by a runner of an earlier glaux) would get the new
	// runner's files.
	if err := killUID(id.uid); err != nil {
		return err
	}
	s := spec.ScratchDir
	if err := rootDir(filepath.Dir(s), 0, 0o711); err != nil {
		return err
	}
	if err := rootDir(s, id.gid, os.ModeSticky|0o770); err != nil {
		return err
	}
	id.shared = append(id.shared, s)
	for _, d := range []string{"tmp", "home"} {
		p := filepath.Join(s, d)
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := rootDir(p, id.gid, 0o700); err != nil { // fresh: still root's
			return err
		}
		if err := os.Lchown(p, id.uid, id.gid); err != nil {
			return err
		}
	}
	calcs := filepath.Join(s, "calculations")
	if err := os.Mkdir(calcs, 0o710); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := rootDir(calcs, id.gid, 0o710); err != nil {
		return err
	}
	id.shared = append(id.shared, calcs)
	// The runner can write only inside its scratch dir: a warehouse elsewhere (glaux's
	// default is one per workgroup, shared by its sessions) moves into it.
	if wh, ok := spec.SparkConf["spark.sql.warehouse.dir"]; ok && !within(wh, s) {
		conf := make(map[string]string, len(spec.SparkConf))
		for k, v := range spec.SparkConf {
			conf[k] = v
		}
		conf["spark.sql.warehouse.dir"] = filepath.Join(s, "warehouse")
		spec.SparkConf = conf
	}
	return nil
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// apply makes cmd start as this runner: its ids in a user namespace of its own, a private
// umask, its own HOME and temp dir for Java as well.
func (id *identity) apply(cmd *exec.Cmd) {
	if id == nil {
		return
	}
	id.u.applyIDs(cmd.SysProcAttr, id.slot)
	// umask 077: what the runner creates outside its scratch dir (in /tmp, /dev/shm) is
	// private to it. exec keeps the pid, so signals and Pdeathsig still reach the runner.
	cmd.Args = append([]string{"/bin/sh", "-c", `umask 077 && exec "$0" "$@"`, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	tmp := filepath.Join(id.scratch, "tmp")
	set := map[string]string{
		"HOME": filepath.Join(id.scratch, "home"), "USER": id.u.Name, "LOGNAME": id.u.Name,
		// Java ignores TMPDIR; its per-user perf data dir in /tmp would be one for all runners.
		"JAVA_TOOL_OPTIONS": "-Djava.io.tmpdir=" + tmp + " -XX:-UsePerfData",
	}
	env := cmd.Env[:0:0]
	for _, kv := range cmd.Env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "JAVA_TOOL_OPTIONS" {
			set[k] += " " + v
			continue
		}
		if _, ok := set[k]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
}

// prepareCalc opens a calculation's output dir (made by glaux) to the runner: the dirs from
// the session's scratch dir down to it become root:<gid>, passable, and the output files are
// created root:<gid> 0660, so the runner writes them but cannot replace them.
func (id *identity) prepareCalc(dir string) error {
	if id == nil {
		return nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.released {
		return errors.New("runtime: the runner has exited")
	}
	calcs := filepath.Dir(dir)
	session := filepath.Dir(calcs)
	paths := []string{calcs, dir}
	if session != id.scratch { // a warm runner working for a session: sessions/<id>
		paths = append([]string{session}, paths...)
	}
	for _, p := range paths {
		if err := rootDir(p, id.gid, 0o710); err != nil {
			return fmt.Errorf("runtime: calculation dir: %w", err)
		}
		id.shared = append(id.shared, p)
	}
	for _, name := range athena.ResultFiles {
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o660)
		if err != nil {
			return fmt.Errorf("runtime: calculation output: %w", err)
		}
		err = errors.Join(f.Chown(0, id.gid), f.Chmod(0o660), f.Close())
		if err != nil {
			return fmt.Errorf("runtime: calculation output: %w", err)
		}
		id.shared = append(id.shared, p)
	}
	return nil
}

// release ends a runner's hold on its ids: its leftover processes are killed, what was
// opened to its group goes back to root, and its scratch dir becomes root's alone.
func (id *identity) release() {
	if id == nil {
		return
	}
	id.mu.Lock()
	id.released = true
	shared := id.shared
	id.shared = nil
	id.mu.Unlock()
	err := killUID(id.uid)
	for i := len(shared) - 1; i >= 0; i-- {
		// Only what is still this runner's: a session's dir may have gone to its next runner.
		if !ownedByGroup(shared[i], id.gid) {
			continue
		}
		if e := os.Lchown(shared[i], 0, 0); e != nil && !errors.Is(e, fs.ErrNotExist) {
			err = errors.Join(err, e)
		}
		if shared[i] == id.scratch {
			if e := os.Chmod(id.scratch, 0o700); e != nil && !errors.Is(e, fs.ErrNotExist) {
				err = errors.Join(err, e)
			}
		}
	}
	if err != nil {
		// Keep the slot: its ids may still reach something.
		id.log.Error("runner ids not released: kept from new runners", "uid", id.uid, "gid", id.gid, "err", err)
		return
	}
	id.u.mu.Lock()
	delete(id.u.inUse, id.slot)
	id.u.mu.Unlock()
}

func ownedByGroup(path string, gid int) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Gid) == gid
}

// killUID SIGKILLs every process whose real, effective, saved or filesystem uid is uid,
// until none is left.
func killUID(uid int) error {
	for round := 0; round < 50; round++ {
		pids := processesOf(uid)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Duration(round+1) * 10 * time.Millisecond)
	}
	return fmt.Errorf("processes of uid %d keep running after SIGKILL: %v", uid, processesOf(uid))
}

// processesOf lists the live (not zombie) processes with uid among their uids.
func processesOf(uid int) []int {
	entries, _ := os.ReadDir("/proc")
	want := strconv.Itoa(uid)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		zombie, match := false, false
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "State:"); ok {
				zombie = strings.HasPrefix(strings.TrimSpace(rest), "Z") || strings.HasPrefix(strings.TrimSpace(rest), "X")
			}
			if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
				for _, f := range strings.Fields(rest) {
					match = match || f == want
				}
				break
			}
		}
		if match && !zombie {
			pids = append(pids, pid)
		}
	}
	return pids
}
